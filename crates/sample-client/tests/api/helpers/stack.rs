//! The real thing in-process: ms-auth-server with the playground config (its issuer on its own
//! free port, playground-web's URIs pointed at the sample app), country-service taking its
//! keys, and the sample app calling country-service directly (it serves at the same paths as
//! through the gateway).

use ms_auth_server::{oauth::client::RedirectUri, testing};

use super::{Browser, Hop, SampleApp, follow_all, free_port, spawn_app};

pub const ALICE: (&str, &str) = ("alice", "alice-password");

pub struct Stack {
    pub issuer: String,
    pub app: SampleApp,
}

impl Stack {
    pub async fn start() -> Self {
        let auth_port = free_port();
        let issuer = format!("http://127.0.0.1:{auth_port}/ms-auth-server");
        let countries_port = free_port();
        let countries = format!("http://127.0.0.1:{countries_port}");
        // The app first: its port goes into playground-web's registration.
        let app = spawn_app(&issuer, Some(&countries)).await;
        let mut settings = testing::playground_settings();
        settings.server.port = auth_port;
        settings.issuer = issuer.clone();
        for client in &mut settings.clients {
            let m = &mut client.metadata;
            match client.client_id.as_str() {
                "playground-web" => {
                    m.redirect_uris = vec![uri(&app.url("/login/oauth2/code/playground-web"))];
                    m.post_logout_redirect_uris = vec![uri(&app.url("/"))];
                    m.backchannel_logout_uri = Some(app.url("/backchannel-logout"));
                }
                "playground-spa" => m.redirect_uris = vec![uri(&app.url("/spa/callback"))],
                _ => {}
            }
        }
        let auth = testing::spawn(settings).await;
        testing::wait_for_status(&format!("{}/health/ready", auth.management), 200).await;
        // country-service last, so its first key fetch finds the auth server up.
        let management = spawn_countries(&issuer, countries_port, &app.url).await;
        testing::wait_for_status(&format!("{management}/health/ready"), 200).await;
        let _ = auth;
        Self { issuer, app }
    }

    /// Alice signs in to the sample app in `browser` (sign-in page, then consent when asked):
    /// the hops, ending on the app's signed-in page.
    pub async fn sign_in(&self, browser: &Browser) -> Vec<Hop> {
        let res = self.app.press(browser, "/login").await;
        let mut hops = follow_all(browser, res).await;
        let page = hops.last().unwrap().clone();
        if page.body.contains("name=\"password\"") {
            let form = page.form();
            let res = browser
                .submit(&form, &[("username", ALICE.0), ("password", ALICE.1)])
                .await;
            hops.extend(follow_all(browser, res).await);
        }
        let page = hops.last().unwrap().clone();
        if page.body.contains("name=\"decision\"") || page.body.contains("id=\"approve\"") {
            let form = page.form();
            let res = browser.submit(&form, &[("decision", "approve")]).await;
            hops.extend(follow_all(browser, res).await);
        }
        hops
    }
}

fn uri(raw: &str) -> RedirectUri {
    RedirectUri::parse(raw).unwrap()
}

/// country-service on `port` trusting `issuer`, its keys from the auth server's JWKS, and
/// letting the sample app's single-page app (on `app_origin`) call it: its management listener.
async fn spawn_countries(issuer: &str, port: u16, app_origin: &str) -> String {
    let path = testing::workspace_root().join("deploy/playground/country-service.toml");
    let mut settings = country_service::Settings::load(Some(&path)).unwrap();
    settings.server.port = port;
    settings.management.port = Some(0);
    settings.auth.issuer = issuer.to_owned();
    settings.auth.jwks_url = Some(format!("{issuer}/oauth2/jwks"));
    settings.cors.allowed_origins = vec![app_origin.to_owned()];
    let app = country_service::App::build(settings).await.unwrap();
    let management = format!("http://127.0.0.1:{}", app.management_port());
    tokio::spawn(app.run());
    management
}
