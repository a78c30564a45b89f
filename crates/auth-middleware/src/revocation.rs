//! Whether a valid token has been revoked, asked of the issuer by RFC 7662 introspection, for
//! the routes that opt in ([`crate::require_active_scope`]). Answers are cached per `jti` for
//! `cache_secs` in a bounded map, so a revoked token stops working within that time and a
//! busy route costs the issuer one request per token per period. When the issuer cannot be
//! asked, the answer is "cannot tell" (503), never "active".

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use tracing::Instrument;

use crate::{error::AuthError, settings::IntrospectionSettings};

pub struct RevocationCheck {
    settings: IntrospectionSettings,
    http: reqwest::Client,
    answers: Mutex<HashMap<String, (bool, Instant)>>,
}

impl RevocationCheck {
    pub fn new(settings: IntrospectionSettings, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            settings,
            http,
            answers: Mutex::default(),
        })
    }

    fn cached(&self, jti: &str) -> Option<bool> {
        let ttl = Duration::from_secs(self.settings.cache_secs);
        let answers = self.answers.lock().ok()?;
        answers
            .get(jti)
            .filter(|(_, at)| at.elapsed() < ttl)
            .map(|(active, _)| *active)
    }

    fn remember(&self, jti: &str, active: bool) {
        let ttl = Duration::from_secs(self.settings.cache_secs);
        if let Ok(mut answers) = self.answers.lock() {
            if answers.len() >= self.settings.max_entries {
                answers.retain(|_, (_, at)| at.elapsed() < ttl);
                if answers.len() >= self.settings.max_entries {
                    answers.clear();
                }
            }
            answers.insert(jti.to_owned(), (active, Instant::now()));
        }
    }

    /// Ok when the issuer says `token` (whose `jti` is given) is active.
    pub async fn ensure_active(&self, jti: &str, token: &str) -> Result<(), AuthError> {
        let active = match self.cached(jti) {
            Some(active) => active,
            None => {
                let active = self.ask(token).await?;
                self.remember(jti, active);
                active
            }
        };
        if active {
            Ok(())
        } else {
            Err(AuthError::invalid("the token has been revoked"))
        }
    }

    async fn ask(&self, token: &str) -> Result<bool, AuthError> {
        let span = tracing::info_span!(
            "introspection",
            otel.name = "POST introspect",
            otel.kind = "client",
            http.response.status_code = tracing::field::Empty,
        );
        let mut trace_headers = Vec::new();
        telemetry::propagation::inject(&span, |name, value| trace_headers.push((name, value)));
        let mut request = self
            .http
            .post(&self.settings.url)
            .basic_auth(
                &self.settings.client_id,
                Some(&self.settings.client_secret.0),
            )
            .form(&[("token", token), ("token_type_hint", "access_token")]);
        for (name, value) in trace_headers {
            request = request.header(name, value);
        }
        let unavailable = |reason: String| {
            tracing::warn!(reason, "introspection failed");
            metrics::counter!("introspection_requests_total", "outcome" => "error").increment(1);
            AuthError::RevocationUnavailable
        };
        let res = request
            .send()
            .instrument(span.clone())
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        span.record("http.response.status_code", res.status().as_u16());
        if !res.status().is_success() {
            return Err(unavailable(format!("the issuer answered {}", res.status())));
        }
        #[derive(serde::Deserialize)]
        struct Answer {
            active: bool,
        }
        let answer: Answer = res
            .json()
            .await
            .map_err(|e| unavailable(format!("unreadable answer: {e}")))?;
        metrics::counter!("introspection_requests_total", "outcome" => "ok").increment(1);
        Ok(answer.active)
    }
}
