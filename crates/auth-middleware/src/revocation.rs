//! Whether a valid token has been revoked, asked of the issuer by RFC 7662 introspection, for
//! the routes that opt in ([`crate::require_active_scope`]). Answers are cached per `jti` for
//! `cache_secs` in a bounded map ([`Slru`]: a full map drops its least recently used entries on
//! probation, never everything), so a revoked token stops working within that time and a busy
//! route costs the issuer one request per token per period. Concurrent requests for one `jti`
//! share one introspection. When the issuer cannot be asked, the answer is "cannot tell"
//! (503), never "active".

use std::{
    collections::HashMap,
    fmt::Write,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::OnceCell;
use tracing::Instrument;

use crate::{error::AuthError, settings::IntrospectionSettings, slru::Slru};

/// One introspection in flight, awaited by every request for its `jti`.
type InFlight = Arc<OnceCell<Result<bool, AuthError>>>;

pub struct RevocationCheck {
    settings: IntrospectionSettings,
    http: reqwest::Client,
    answers: Mutex<Slru<(bool, Instant)>>,
    in_flight: Mutex<HashMap<String, InFlight>>,
}

impl RevocationCheck {
    pub fn new(settings: IntrospectionSettings, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let answers = Mutex::new(Slru::new(settings.max_entries));
        Ok(Self {
            settings,
            http,
            answers,
            in_flight: Mutex::default(),
        })
    }

    fn cached(&self, jti: &str) -> Option<bool> {
        let ttl = Duration::from_secs(self.settings.cache_secs);
        let mut answers = self.answers.lock().ok()?;
        let (active, at) = answers.get(jti)?;
        if at.elapsed() < ttl {
            Some(active)
        } else {
            answers.remove(jti);
            None
        }
    }

    fn remember(&self, jti: &str, active: bool) {
        if let Ok(mut answers) = self.answers.lock() {
            answers.insert(jti, (active, Instant::now()));
        }
    }

    /// Ok when the issuer says `token` (whose `jti` is given) is active.
    pub async fn ensure_active(&self, jti: &str, token: &str) -> Result<(), AuthError> {
        let active = match self.cached(jti) {
            Some(active) => active,
            None => self.ask_once(jti, token).await?,
        };
        if active {
            Ok(())
        } else {
            Err(AuthError::invalid("the token has been revoked"))
        }
    }

    /// Single flight per `jti`: the first request asks the issuer, the others await its
    /// answer (failures included, which are not cached). Should the asking request be
    /// cancelled, a waiting one takes over.
    async fn ask_once(&self, jti: &str, token: &str) -> Result<bool, AuthError> {
        let flight = {
            let Ok(mut in_flight) = self.in_flight.lock() else {
                return self.ask(token).await;
            };
            // Checked again under this lock: a flight is removed only after its answer is
            // cached, so a request finding neither does not ask twice.
            if let Some(active) = self.cached(jti) {
                return Ok(active);
            }
            Arc::clone(in_flight.entry(jti.to_owned()).or_default())
        };
        let answer = flight
            .get_or_init(|| async {
                let answer = self.ask(token).await;
                if let Ok(active) = answer {
                    self.remember(jti, active);
                }
                answer
            })
            .await
            .clone();
        if let Ok(mut in_flight) = self.in_flight.lock()
            && in_flight.get(jti).is_some_and(|f| Arc::ptr_eq(f, &flight))
        {
            in_flight.remove(jti);
        }
        answer
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
            // RFC 6749 §2.3.1: id and secret are form-urlencoded, then Basic-encoded.
            .basic_auth(
                form_urlencode(&self.settings.client_id),
                Some(form_urlencode(&self.settings.client_secret.0)),
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

/// One value serialised as `application/x-www-form-urlencoded` (RFC 6749 Appendix B): ASCII
/// letters, digits and `*-._` kept, space as `+`, every other UTF-8 byte as `%XX`.
fn form_urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Secret;

    #[test]
    fn credentials_are_form_urlencoded_as_rfc6749_appendix_b_shows() {
        // RFC 6749 Appendix B: " %&+£€" is encoded as "+%25%26%2B%C2%A3%E2%82%AC".
        assert_eq!(form_urlencode(" %&+£€"), "+%25%26%2B%C2%A3%E2%82%AC");
        assert_eq!(form_urlencode("p+q%2F:r s"), "p%2Bq%252F%3Ar+s");
        assert_eq!(form_urlencode("service-client_1.x*"), "service-client_1.x*");
    }

    #[test]
    fn filling_past_capacity_keeps_reused_and_recent_answers() {
        let settings = IntrospectionSettings {
            url: "http://127.0.0.1:9/introspect".to_owned(),
            client_id: "rs".to_owned(),
            client_secret: Secret("s".to_owned()),
            cache_secs: 60,
            max_entries: 100,
        };
        let check = RevocationCheck::new(settings, Duration::from_secs(1)).unwrap();
        check.remember("everyday", true);
        assert_eq!(check.cached("everyday"), Some(true));
        for i in 0..5_000 {
            check.remember(&format!("minted{i}"), true);
        }
        assert_eq!(check.answers.lock().unwrap().len(), 100);
        assert_eq!(check.cached("everyday"), Some(true), "not flushed");
        assert_eq!(check.cached("minted4999"), Some(true), "recent kept");
        assert_eq!(check.cached("minted0"), None, "oldest evicted");
    }
}
