//! Brute-force protection of client authentication (RFC 6749 §2.3.1: "the authorization server
//! MUST protect any endpoint utilizing [password authentication] against brute force
//! attacks"; §10.10). Failed authentications are counted in fixed windows in the hot state, so
//! every replica sees them, per source address and per client id:
//!
//! - a **source** past `max_failures_per_source` failures in a window is refused (429 with
//!   `Retry-After`) until the window ends, whatever it presents;
//! - a **client id** past `delay_after_failures` failures is answered after a delay that
//!   doubles with each further failure up to `max_delay_ms`, and past
//!   `max_failures_per_client` (an attack from many sources) is refused until the window ends.
//!
//! The client's own requests from a clean source are therefore never refused unless its id is
//! under a distributed attack of more than `max_failures_per_client` failures a window, and
//! then for at most `window_secs` after the attack stops; otherwise they pay at most
//! `max_delay_ms`. The verdict depends only on counts and the time, so it is tested with
//! values; a correct secret from a refused source is refused too, so a guess never tells.
use crate::clock::UnixTime;

use std::{net::IpAddr, time::Duration};

use serde::Deserialize;

use crate::store::{StoreError, hot::Hot};

/// `[brute_force]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BruteForceSettings {
    /// Length of the counting window; a block lasts until the window ends.
    pub window_secs: u64,
    /// Failures one source address may make in a window.
    pub max_failures_per_source: u64,
    /// Failures on one client id before its answers are delayed.
    pub delay_after_failures: u64,
    /// The first delay; it doubles with each further failure.
    pub base_delay_ms: u64,
    /// The longest delay.
    pub max_delay_ms: u64,
    /// Failures on one client id (from any sources) before the id is refused for the rest of
    /// the window.
    pub max_failures_per_client: u64,
}

impl Default for BruteForceSettings {
    fn default() -> Self {
        Self {
            window_secs: 60,
            max_failures_per_source: 20,
            delay_after_failures: 5,
            base_delay_ms: 50,
            max_delay_ms: 1_000,
            max_failures_per_client: 1_000,
        }
    }
}

/// What to do with an authentication attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go on, after waiting this long.
    Proceed(Duration),
    /// Refuse without checking anything; retry after this many seconds.
    Refuse { retry_after_secs: u64 },
}

/// The verdict for an attempt given the failures counted in the current window, which ends
/// `secs_left` seconds from now.
pub fn verdict(
    settings: &BruteForceSettings,
    source_failures: u64,
    client_failures: u64,
    secs_left: u64,
) -> Verdict {
    let refuse = Verdict::Refuse {
        retry_after_secs: secs_left.max(1),
    };
    if source_failures >= settings.max_failures_per_source
        || client_failures >= settings.max_failures_per_client
    {
        return refuse;
    }
    let Some(over) = client_failures.checked_sub(settings.delay_after_failures) else {
        return Verdict::Proceed(Duration::ZERO);
    };
    let delay = settings
        .base_delay_ms
        .saturating_mul(1u64 << over.min(20))
        .min(settings.max_delay_ms);
    Verdict::Proceed(Duration::from_millis(delay))
}

/// Who is trying: the source address (when known) and the client id presented.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub source: Option<IpAddr>,
    pub client_id: Option<&'a str>,
}

/// The counters of one kind of credential (`client`, `admin`).
#[derive(Clone)]
pub struct Guard {
    pub settings: BruteForceSettings,
    pub hot: Hot,
    /// Keeps the counters of different credentials apart.
    pub realm: &'static str,
}

impl Guard {
    fn keys(&self, attempt: &Attempt<'_>) -> (String, String) {
        let source = attempt
            .source
            .map(|ip| ip.to_canonical().to_string())
            .unwrap_or_else(|| "unknown".to_owned());
        // A client id is client-chosen: hashed, so a key never grows with what was sent.
        let client = attempt
            .client_id
            .map(|id| {
                use std::fmt::Write;
                let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, id.as_bytes());
                digest.as_ref()[..16]
                    .iter()
                    .fold(String::with_capacity(32), |mut hex, b| {
                        let _ = write!(hex, "{b:02x}");
                        hex
                    })
            })
            .unwrap_or_default();
        (
            format!("authfail:{}:ip:{source}", self.realm),
            format!("authfail:{}:id:{client}", self.realm),
        )
    }

    /// The verdict for `attempt` at `now`.
    pub async fn check(&self, attempt: &Attempt<'_>, now: UnixTime) -> Result<Verdict, StoreError> {
        let (source, client) = self.keys(attempt);
        let counts = self
            .hot
            .counts(&[&source, &client], self.settings.window_secs, now)
            .await?;
        let client_failures = if attempt.client_id.is_some() {
            counts.get(1).copied().unwrap_or(0)
        } else {
            0
        };
        let secs_left = now.until(crate::store::hot::window_end(
            self.settings.window_secs,
            now,
        ));
        Ok(verdict(
            &self.settings,
            counts.first().copied().unwrap_or(0),
            client_failures,
            secs_left.as_secs(),
        ))
    }

    /// Counts a failed authentication of `attempt` at `now`.
    pub async fn failed(&self, attempt: &Attempt<'_>, now: UnixTime) -> Result<(), StoreError> {
        let (source, client) = self.keys(attempt);
        let window = self.settings.window_secs;
        self.hot.count(&source, window, now).await?;
        if attempt.client_id.is_some() {
            self.hot.count(&client, window, now).await?;
        }
        metrics::counter!("auth_failures_counted_total", "realm" => self.realm).increment(1);
        Ok(())
    }

    /// Checks `attempt`, waits out any delay, runs `authenticate`, and counts a failure when
    /// it says the credentials were wrong. `Err(None)` is a refusal (429) with its retry time.
    pub async fn guard<T, E>(
        &self,
        attempt: Attempt<'_>,
        now: UnixTime,
        authenticate: impl Future<Output = Result<T, E>>,
        is_bad_credentials: impl Fn(&E) -> bool,
    ) -> Result<Result<T, E>, Refused> {
        // While the hot state is out, authentication goes on unthrottled rather than not at
        // all: outside the playground secrets carry at least 128 bits, so guessing stays
        // hopeless, and issuance must not depend on Redis.
        let verdict = self.check(&attempt, now).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "brute-force counters unavailable; not throttling");
            Verdict::Proceed(Duration::ZERO)
        });
        match verdict {
            Verdict::Refuse { retry_after_secs } => {
                metrics::counter!("auth_attempts_refused_total", "realm" => self.realm)
                    .increment(1);
                return Err(Refused::Blocked { retry_after_secs });
            }
            Verdict::Proceed(delay) if !delay.is_zero() => tokio::time::sleep(delay).await,
            Verdict::Proceed(_) => {}
        }
        let outcome = authenticate.await;
        if let Err(e) = &outcome
            && is_bad_credentials(e)
            && let Err(e) = self.failed(&attempt, now).await
        {
            tracing::warn!(error = %e, "a failed authentication could not be counted");
        }
        Ok(outcome)
    }
}

/// Why an attempt was not even checked.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("too many failed authentications; retry after {retry_after_secs} s")]
    Blocked { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s() -> BruteForceSettings {
        BruteForceSettings::default()
    }

    #[test]
    fn a_clean_attempt_proceeds_at_once() {
        assert_eq!(verdict(&s(), 0, 0, 30), Verdict::Proceed(Duration::ZERO));
        assert_eq!(verdict(&s(), 19, 4, 30), Verdict::Proceed(Duration::ZERO));
    }

    #[test]
    fn a_source_past_its_failures_is_refused_until_the_window_ends() {
        assert_eq!(
            verdict(&s(), 20, 0, 17),
            Verdict::Refuse {
                retry_after_secs: 17
            }
        );
        assert_eq!(
            verdict(&s(), 20, 0, 0),
            Verdict::Refuse {
                retry_after_secs: 1
            }
        );
    }

    #[test]
    fn a_client_id_under_attack_is_delayed_progressively_then_refused() {
        let d = |f| match verdict(&s(), 0, f, 30) {
            Verdict::Proceed(d) => d.as_millis(),
            other => panic!("{other:?}"),
        };
        assert_eq!((d(5), d(6), d(7), d(8)), (50, 100, 200, 400));
        assert_eq!(d(9), 800);
        assert_eq!(d(10), 1_000, "capped");
        assert_eq!(d(999), 1_000, "capped, no overflow");
        assert_eq!(
            verdict(&s(), 0, 1_000, 30),
            Verdict::Refuse {
                retry_after_secs: 30
            }
        );
    }
}
