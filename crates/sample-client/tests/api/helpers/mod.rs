//! What the tests share: the real stack (`stack`), a provider of the test's own
//! (`test_provider`), and driving the app's pages with the shared cookie-jar browser.

pub mod stack;
pub mod test_provider;

pub use ms_auth_server::testing::{
    browser::{Browser, Hop},
    chromium::Chromium,
    free_port,
};
pub use stack::*;
pub use test_provider::*;

/// The sample app started on a free port with the playground's config, `issuer` and
/// `resource_base_url` replaced.
pub async fn spawn_app(issuer: &str, resource_base_url: Option<&str>) -> SampleApp {
    let path =
        ms_auth_server::testing::workspace_root().join("deploy/playground/sample-client.toml");
    let mut settings = sample_client::Settings::load(Some(&path)).unwrap();
    settings.server.port = 0;
    settings.management.port = Some(0);
    settings.public_url = None;
    settings.issuer = issuer.to_owned();
    if let Some(base) = resource_base_url {
        settings.resource_base_url = base.to_owned();
    }
    let app = sample_client::App::build(settings).await.unwrap();
    let spawned = SampleApp {
        url: app.public_url().to_owned(),
        management: format!("http://127.0.0.1:{}", app.management_port()),
        state: app.state(),
    };
    tokio::spawn(app.run());
    spawned
}

/// A running sample app.
pub struct SampleApp {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub management: String,
    pub state: actix_web::web::Data<sample_client::http::AppState>,
}

impl SampleApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Opens the home page in `browser` and submits the form whose action is `action` (the
    /// CSRF token read off the page): the response, not followed.
    pub async fn press(&self, browser: &Browser, action: &str) -> reqwest::Response {
        let page = browser.open(&self.url("/")).await;
        let page = page.last().unwrap();
        let form = page
            .forms()
            .into_iter()
            .find(|f| f.action.path() == action)
            .unwrap_or_else(|| panic!("no form to {action} on {}", page.body));
        browser.submit(&form, &[]).await
    }
}

/// The hops of `browser` following `res` across origins too (as a browser does), until a page
/// that is no redirect.
pub async fn follow_all(browser: &Browser, res: reqwest::Response) -> Vec<Hop> {
    let mut hops = browser.follow(res).await;
    while let Some(next) = hops
        .last()
        .filter(|h| h.is_redirect())
        .and_then(Hop::location)
    {
        assert!(
            hops.len() < 20,
            "a redirect loop: {:?}",
            hops.iter().map(|h| h.url.as_str()).collect::<Vec<_>>()
        );
        let more = browser.open(next.as_str()).await;
        hops.extend(more);
    }
    hops
}
