//! The server's own outgoing HTTP: back-channel logout tokens POSTed to clients (OpenID
//! Connect Back-Channel Logout 1.0 §2.5) — a form with `logout_token`, each attempt bounded,
//! no redirect followed (the token goes only to the registered URI), nothing read back but
//! the status.

use std::time::Duration;

use crate::oidc::backchannel::{Answer, Poster};

pub struct LogoutPoster {
    http: reqwest::Client,
}

impl LogoutPoster {
    /// Each attempt (connect, send, answer) bounded by `timeout`. Fails only when the TLS
    /// stack cannot start: better at start-up than a client without these bounds.
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { http })
    }
}

#[async_trait::async_trait]
impl Poster for LogoutPoster {
    async fn post_logout_token(&self, uri: &str, token: &str) -> Answer {
        match self
            .http
            .post(uri)
            .form(&[("logout_token", token)])
            .send()
            .await
        {
            Ok(res) => Answer::Status(res.status().as_u16()),
            // Without the URL: a query could carry something the client put there.
            Err(e) => Answer::Unreachable(e.without_url().to_string()),
        }
    }
}
