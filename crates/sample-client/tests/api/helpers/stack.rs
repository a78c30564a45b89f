//! The real thing in-process, with the playground's configs on free ports: ms-auth-server (its
//! issuer on its own port, playground-web's and playground-spa's URIs pointed at the sample
//! app), country-service and customer-service taking its keys, the gateway in front of them,
//! and the sample app calling the resource services through the gateway. The browser reaches
//! the auth server directly (the issuer is its own origin here).

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
        let (countries_port, gateway_port) = (free_port(), free_port());
        let gateway = format!("http://127.0.0.1:{gateway_port}");
        // The app first: its port goes into playground-web's registration.
        let app = spawn_app(&issuer, Some(&gateway)).await;
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
        // The resource services after it, so their first key fetch finds it up.
        let countries = spawn_countries(&issuer, countries_port, &app.url).await;
        let customers = spawn_customers(&issuer, &app.url).await;
        for management in [&countries.1, &customers.1] {
            testing::wait_for_status(&format!("{management}/health/ready"), 200).await;
        }
        let upstreams = [
            ("/ms-auth-server/", auth.origin.clone()),
            ("/country-service/", countries.0),
            ("/customer-service/", customers.0),
        ];
        spawn_gateway(gateway_port, &upstreams).await;
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
/// letting the sample app's single-page app (on `app_origin`) call it: its origin and its
/// management listener.
async fn spawn_countries(issuer: &str, port: u16, app_origin: &str) -> (String, String) {
    let path = testing::workspace_root().join("deploy/playground/country-service.toml");
    let mut settings = country_service::Settings::load(Some(&path)).unwrap();
    settings.server.port = port;
    settings.management.port = Some(0);
    settings.auth.issuer = issuer.to_owned();
    settings.auth.jwks_url = Some(format!("{issuer}/oauth2/jwks"));
    settings.cors.allowed_origins = vec![app_origin.to_owned()];
    let app = country_service::App::build(settings).await.unwrap();
    let listeners = listeners(app.port(), app.management_port());
    tokio::spawn(app.run());
    listeners
}

/// customer-service likewise, on a free port with the in-memory store, introspecting at the
/// auth server as the playground has it.
async fn spawn_customers(issuer: &str, app_origin: &str) -> (String, String) {
    let path = testing::workspace_root().join("deploy/playground/customer-service.toml");
    let mut settings = customer_service::Settings::load(Some(&path)).unwrap();
    settings.server.port = 0;
    settings.management.port = Some(0);
    settings.store.url = "memory".to_owned();
    settings.auth.issuer = issuer.to_owned();
    settings.auth.jwks_url = Some(format!("{issuer}/oauth2/jwks"));
    if let Some(introspection) = settings.auth.introspection.as_mut() {
        introspection.url = format!("{issuer}/oauth2/introspect");
    }
    settings.cors.allowed_origins = vec![app_origin.to_owned()];
    let app = customer_service::App::build(settings).await.unwrap();
    let listeners = listeners(app.port(), app.management_port());
    tokio::spawn(app.run());
    listeners
}

fn listeners(port: u16, management: u16) -> (String, String) {
    (
        format!("http://127.0.0.1:{port}"),
        format!("http://127.0.0.1:{management}"),
    )
}

/// The gateway on `port` with the playground's routes, each prefix's upstream replaced.
async fn spawn_gateway(port: u16, upstreams: &[(&str, String)]) {
    let path = testing::workspace_root().join("deploy/playground/gateway.toml");
    let mut settings = gateway::Settings::load(Some(&path)).unwrap();
    settings.server.port = port;
    settings.management.port = Some(0);
    for route in &mut settings.routes {
        let service = route
            .prefix
            .trim_start_matches("/.well-known/oauth-authorization-server");
        let service = service.trim_start_matches("/.well-known/oauth-protected-resource");
        let service = format!("/{}/", service.trim_matches('/'));
        if let Some((_, upstream)) = upstreams.iter().find(|(p, _)| *p == service) {
            route.upstreams = vec![upstream.clone()];
        }
    }
    let app = gateway::App::build(settings).await.unwrap();
    let management = format!("http://127.0.0.1:{}/health/ready", app.management_port());
    // `run` serves the management listener on the current actix system: give it one.
    std::thread::spawn(move || actix_web::rt::System::new().block_on(app.run()));
    testing::wait_for_status(&management, 200).await;
}
