//! User passwords: argon2id (RFC 9106) in PHC strings, with the OWASP Password Storage Cheat
//! Sheet's parameters by default (19 MiB, 2 iterations, 1 lane), the password policy
//! (NIST SP 800-63B §5.1.1.2: at least 8 characters, any characters; a length cap bounds the
//! work), and a bounded pool the hashing runs in.
//!
//! One argon2id hash is tens of milliseconds of CPU and memory-bound: run on the async workers
//! it would stall every request behind it (the token endpoint among them), and an unbounded
//! number of them would exhaust memory. So each hash runs on `spawn_blocking`, at most
//! `max_concurrent` at once, with at most `max_queued` waiting for at most
//! `queue_timeout_ms`; beyond that the answer is [`PasswordError::Busy`] (503 with
//! `Retry-After` at the HTTP layer) instead of a queue that grows with the attack.

use std::{
    fmt,
    sync::{Arc, OnceLock},
    time::Duration,
};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash,
};
use serde::Deserialize;
use tokio::sync::Semaphore;

/// The shortest password accepted when one is set (NIST SP 800-63B §5.1.1.2), in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest, in bytes: argon2 reads the whole password, so the work stays bounded.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The most `max_concurrent` and `max_queued` may be: a guard against a typo, not a limit
/// anyone should reach.
const MAX_POOL: usize = 1 << 20;

/// A password in clear text, as typed or written in a config file. Its `Debug` never shows
/// the value.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// `[passwords]`: the argon2id parameters new hashes get, and the hashing pool's bounds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordSettings {
    /// Memory per hash, in KiB (argon2 `m`).
    pub memory_kib: u32,
    /// Passes over the memory (argon2 `t`).
    pub iterations: u32,
    /// Lanes (argon2 `p`).
    pub parallelism: u32,
    /// Hashes computed at once (each holds `memory_kib`); by default half the CPUs (at
    /// least one), so that a storm of sign-ins leaves the other half to the token endpoint:
    /// on two cores, client_credentials kept 0.46 of its rate with both hashing and 0.73
    /// with one, while sign-ins went from 67/s to 57/s (scripts/bench-flows.sh).
    pub max_concurrent: usize,
    /// Hashes that may wait for a slot; more are refused at once.
    pub max_queued: usize,
    /// How long a hash may wait for a slot before it is refused.
    pub queue_timeout_ms: u64,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        Self {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
            parallelism: Params::DEFAULT_P_COST,
            max_concurrent: std::thread::available_parallelism()
                .map_or(1, |n| (n.get() / 2).max(1)),
            max_queued: 64,
            queue_timeout_ms: 2_000,
        }
    }
}

impl PasswordSettings {
    /// The argon2 parameters, or why argon2 refuses them.
    pub fn params(&self) -> Result<Params, String> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| e.to_string())
    }

    /// Checks this section, found at `prefix`.
    pub fn validate(&self, prefix: &str) -> Result<(), crate::settings::SettingsError> {
        let invalid = |key: &str, message: String| crate::settings::SettingsError::Invalid {
            key: format!("{prefix}.{key}"),
            message,
        };
        self.params().map_err(|e| {
            invalid(
                "memory_kib",
                format!("argon2 refuses memory_kib, iterations and parallelism: {e}"),
            )
        })?;
        if self.max_concurrent == 0 || self.max_concurrent > MAX_POOL {
            return Err(invalid(
                "max_concurrent",
                format!("must be between 1 and {MAX_POOL}"),
            ));
        }
        if self.max_queued > MAX_POOL {
            return Err(invalid("max_queued", format!("must be at most {MAX_POOL}")));
        }
        if self.queue_timeout_ms == 0 {
            return Err(invalid("queue_timeout_ms", "must be positive".to_owned()));
        }
        Ok(())
    }
}

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The password may not be set: what is wrong with it (never the password).
    #[error("{0}")]
    Policy(String),
    /// The hashing pool is full: retry after this many seconds.
    #[error("too many passwords are being checked; retry after {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },
    /// A stored hash is not an argon2 PHC string this server can check.
    #[error("the stored password hash is unreadable: {0}")]
    Unreadable(String),
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Whether a password matched a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub ok: bool,
    /// The stored hash was made with other parameters than the configured ones (or another
    /// argon2 variant): hash the password anew while it is at hand.
    pub needs_rehash: bool,
}

/// Checks a password that is about to be set: at least [`MIN_PASSWORD_CHARS`] characters, at
/// most [`MAX_PASSWORD_BYTES`] bytes. Anything else is allowed (SP 800-63B: no composition
/// rules).
pub fn check_policy(password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::Policy(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::Policy(format!(
            "a password has at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Checks that `stored` is an argon2 PHC string whose parameters argon2 accepts (a
/// `password_hash` in the config).
pub fn check_stored(stored: &str) -> Result<(), PasswordError> {
    let hash = PasswordHash::new(stored).map_err(unreadable)?;
    Algorithm::try_from(hash.algorithm.as_str()).map_err(unreadable)?;
    Params::try_from(&hash).map_err(unreadable)?;
    if hash.salt.is_none() || hash.hash.is_none() {
        return Err(no_salt_or_hash());
    }
    Ok(())
}

fn no_salt_or_hash() -> PasswordError {
    PasswordError::Unreadable("it has no salt or no hash".to_owned())
}

fn unreadable(e: impl fmt::Display) -> PasswordError {
    PasswordError::Unreadable(e.to_string())
}

/// Hashes and checks passwords in the bounded pool. One per server (and one per CLI run).
pub struct Passwords {
    params: Params,
    /// Slots for the hashes computed at once.
    running: Arc<Semaphore>,
    /// Slots for those computed or waiting: `max_concurrent + max_queued`.
    admitted: Arc<Semaphore>,
    running_capacity: usize,
    max_queued: usize,
    queue_timeout: Duration,
    /// A hash of a password nobody knows, made with `params` at the first check for an
    /// unknown user: checking against it costs what checking a real hash costs.
    dummy: Arc<OnceLock<String>>,
}

impl fmt::Debug for Passwords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Passwords")
            .field("params", &self.params)
            .field("running", &self.running.available_permits())
            .finish_non_exhaustive()
    }
}

impl Passwords {
    /// The pool `settings` describe. They are validated ([`PasswordSettings::validate`], part of
    /// [`crate::Settings::validate`]); parameters argon2 refuses fall back to its defaults.
    pub fn new(settings: &PasswordSettings) -> Self {
        let params = settings.params().unwrap_or_else(|e| {
            tracing::error!(error = %e, "invalid [passwords] parameters; using argon2's defaults");
            Params::DEFAULT
        });
        let running = settings.max_concurrent.clamp(1, MAX_POOL);
        Self {
            params,
            running: Arc::new(Semaphore::new(running)),
            admitted: Arc::new(Semaphore::new(
                running
                    .saturating_add(settings.max_queued)
                    .min(Semaphore::MAX_PERMITS),
            )),
            running_capacity: running,
            max_queued: settings.max_queued.min(MAX_POOL),
            queue_timeout: Duration::from_millis(settings.queue_timeout_ms.max(1)),
            dummy: Arc::new(OnceLock::new()),
        }
    }

    /// How many hashes are being computed or waiting for a slot.
    pub fn in_pool(&self) -> usize {
        let capacity = self.running_capacity.saturating_add(self.max_queued);
        capacity.saturating_sub(self.admitted.available_permits())
    }

    #[cfg(test)]
    pub(crate) fn dummy_made(&self) -> bool {
        self.dummy.get().is_some()
    }

    /// The argon2id hash (PHC string) of `password`, after [`check_policy`].
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        check_policy(password)?;
        self.hash_unchecked(password).await
    }

    /// The hash of a password already known to be right (a rehash at sign-in), whatever the
    /// policy says now.
    pub(crate) async fn hash_unchecked(&self, password: &str) -> Result<String, PasswordError> {
        let params = self.params.clone();
        let password = Password::new(password);
        self.run(move || hash_with(&params, password.expose()))
            .await?
    }

    /// Checks `password` against `stored`, in constant time (argon2's comparison). `None` (an
    /// unknown user, or one without a password) is checked against a dummy hash of the
    /// configured cost and never matches, so it costs what a wrong password costs. A password
    /// past [`MAX_PASSWORD_BYTES`] never matches either (none can have been set) and costs
    /// nothing, whoever it is for.
    pub async fn verify(
        &self,
        stored: Option<&str>,
        password: &str,
    ) -> Result<Verified, PasswordError> {
        let params = self.params.clone();
        if password.len() > MAX_PASSWORD_BYTES {
            let needs_rehash = match stored {
                Some(s) => needs_rehash(&PasswordHash::new(s).map_err(unreadable)?, &params),
                None => false,
            };
            return Ok(Verified {
                ok: false,
                needs_rehash,
            });
        }
        let password = Password::new(password);
        let stored = stored.map(str::to_owned);
        let dummy = Arc::clone(&self.dummy);
        self.run(move || match stored {
            Some(stored) => verify_with(&params, &stored, password.expose()),
            None => {
                if let Some(dummy) = dummy.get() {
                    verify_with(&params, dummy, password.expose())?;
                } else {
                    // Making the dummy is the same work as checking against it.
                    let made = hash_with(&params, &random_password()?)?;
                    let _ = dummy.set(made);
                }
                Ok(Verified {
                    ok: false,
                    needs_rehash: false,
                })
            }
        })
        .await?
    }

    /// Runs `work` in the pool: admitted if fewer than `max_concurrent + max_queued` are in it,
    /// then waiting at most `queue_timeout` for a slot. Both permits move into the blocking
    /// task, so a caller that goes away (a closed connection) leaves its slot taken until the
    /// hash it started is done: the bound is on the CPU's work, not on the callers.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let busy = PasswordError::Busy {
            retry_after_secs: self.queue_timeout.as_secs().max(1),
        };
        let Ok(admitted) = Arc::clone(&self.admitted).try_acquire_owned() else {
            metrics::counter!("password_hashes_refused_total", "why" => "queue_full").increment(1);
            return Err(busy);
        };
        let running = match tokio::time::timeout(
            self.queue_timeout,
            Arc::clone(&self.running).acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => permit,
            Ok(Err(_closed)) => return Err(PasswordError::Failed("the pool is closed".to_owned())),
            Err(_elapsed) => {
                metrics::counter!("password_hashes_refused_total", "why" => "queue_timeout")
                    .increment(1);
                return Err(busy);
            }
        };
        tokio::task::spawn_blocking(move || {
            let done = work();
            drop((running, admitted));
            done
        })
        .await
        .map_err(|e| PasswordError::Failed(e.to_string()))
    }
}

fn argon2id(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_with(params: &Params, password: &str) -> Result<String, PasswordError> {
    argon2id(params)
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Failed(e.to_string()))
}

/// `stored`'s own algorithm, version and parameters are used, whatever `params` are.
fn verify_with(params: &Params, stored: &str, password: &str) -> Result<Verified, PasswordError> {
    let hash = PasswordHash::new(stored).map_err(unreadable)?;
    if hash.salt.is_none() || hash.hash.is_none() {
        // argon2 would call it a mismatch: it is no hash at all.
        return Err(no_salt_or_hash());
    }
    let ok = match argon2id(params).verify_password(password.as_bytes(), &hash) {
        Ok(()) => true,
        Err(password_hash::Error::PasswordInvalid) => false,
        Err(e) => return Err(unreadable(e)),
    };
    Ok(Verified {
        ok,
        needs_rehash: needs_rehash(&hash, params),
    })
}

fn needs_rehash(hash: &PasswordHash, params: &Params) -> bool {
    let same_kind =
        hash.algorithm == argon2::ARGON2ID_IDENT && hash.version == Some(u32::from(Version::V0x13));
    let same_params = Params::try_from(hash).is_ok_and(|p| {
        p.m_cost() == params.m_cost()
            && p.t_cost() == params.t_cost()
            && p.p_cost() == params.p_cost()
            && p.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)
                == params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)
    });
    !(same_kind && same_params)
}

/// 256 random bits nobody will ever type, for the dummy hash.
fn random_password() -> Result<String, PasswordError> {
    use aws_lc_rs::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PasswordError::Failed("no randomness available".to_owned()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small parameters: these tests are about the logic, not the cost.
    fn small() -> PasswordSettings {
        PasswordSettings {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
            max_concurrent: 2,
            max_queued: 4,
            queue_timeout_ms: 5_000,
        }
    }

    #[test]
    fn defaults_are_owasps() {
        let s = PasswordSettings::default();
        assert_eq!((s.memory_kib, s.iterations, s.parallelism), (19_456, 2, 1));
        assert!(s.max_concurrent >= 1);
        assert_eq!(s.max_queued, 64);
        assert!(s.validate("passwords").is_ok());
    }

    #[test]
    fn bad_parameters_are_refused_by_key() {
        let key = |s: PasswordSettings| match s.validate("passwords") {
            Err(crate::settings::SettingsError::Invalid { key, .. }) => key,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            key(PasswordSettings {
                memory_kib: 4,
                ..small()
            }),
            "passwords.memory_kib"
        );
        assert_eq!(
            key(PasswordSettings {
                iterations: 0,
                ..small()
            }),
            "passwords.memory_kib"
        );
        assert_eq!(
            key(PasswordSettings {
                max_concurrent: 0,
                ..small()
            }),
            "passwords.max_concurrent"
        );
    }

    #[test]
    fn the_policy_counts_characters_and_caps_bytes() {
        assert!(check_policy("1234567").is_err());
        assert!(check_policy("12345678").is_ok());
        // Eight characters, sixteen bytes: characters count.
        assert!(check_policy("éééééééé").is_ok());
        assert!(check_policy("ééééééé").is_err());
        assert!(check_policy(&"x".repeat(MAX_PASSWORD_BYTES)).is_ok());
        assert!(matches!(
            check_policy(&"x".repeat(MAX_PASSWORD_BYTES + 1)),
            Err(PasswordError::Policy(_))
        ));
    }

    #[test]
    fn a_password_never_shows_in_debug() {
        let p = Password::new("hunter2-hunter2");
        assert_eq!(format!("{p:?}"), "Password(<redacted>)");
    }

    #[tokio::test]
    async fn a_hash_is_argon2id_with_the_configured_parameters_and_verifies() {
        let passwords = Passwords::new(&small());
        let hash = passwords.hash("correct horse").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
        assert!(check_stored(&hash).is_ok());
        assert_eq!(
            passwords
                .verify(Some(&hash), "correct horse")
                .await
                .unwrap(),
            Verified {
                ok: true,
                needs_rehash: false
            }
        );
        assert!(
            !passwords
                .verify(Some(&hash), "correct horsE")
                .await
                .unwrap()
                .ok
        );
        assert!(matches!(
            passwords.hash("short").await,
            Err(PasswordError::Policy(_))
        ));
    }

    /// RFC 9106 §5.3 gives raw tags, not PHC strings: this one is what the reference
    /// implementation prints (`echo -n password | argon2 somesalt -id -t 3 -k 4096 -p 1 -e`).
    #[tokio::test]
    async fn a_phc_string_from_elsewhere_verifies_with_its_own_parameters() {
        let passwords = Passwords::new(&small());
        let stored =
            "$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHQ$qLml5cbqFAO6YxVHhrSBHP0UWdxrIxkNcM8aMX3blzU";
        let mine = argon2id(&Params::new(4096, 3, 1, None).unwrap())
            .hash_password_with_salt(b"password", b"somesalt")
            .unwrap()
            .to_string();
        assert_eq!(mine, stored);
        let v = passwords.verify(Some(stored), "password").await.unwrap();
        assert_eq!(
            v,
            Verified {
                ok: true,
                needs_rehash: true
            },
            "other parameters than the configured ones"
        );
        assert!(!passwords.verify(Some(stored), "passwore").await.unwrap().ok);
    }

    #[tokio::test]
    async fn an_unknown_user_never_matches_and_a_long_password_costs_nothing() {
        let passwords = Passwords::new(&small());
        for _ in 0..2 {
            assert_eq!(
                passwords.verify(None, "anything at all").await.unwrap(),
                Verified {
                    ok: false,
                    needs_rehash: false
                }
            );
        }
        assert!(passwords.dummy.get().is_some(), "made once, then kept");
        let hash = passwords.hash("correct horse").await.unwrap();
        let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert!(!passwords.verify(Some(&hash), &long).await.unwrap().ok);
    }

    #[tokio::test]
    async fn an_unreadable_stored_hash_is_an_error_not_a_mismatch() {
        let passwords = Passwords::new(&small());
        for bad in [
            "",
            "plain",
            "$2b$12$abcdefghijklmnopqrstuv",
            "$argon2id$v=19$m=1024",
        ] {
            assert!(
                matches!(
                    passwords.verify(Some(bad), "password").await,
                    Err(PasswordError::Unreadable(_))
                ),
                "{bad:?}"
            );
            assert!(check_stored(bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_pool_answers_busy_at_once() {
        let passwords = Arc::new(Passwords::new(&PasswordSettings {
            // A hash long enough to still be running when the second one asks.
            memory_kib: 64 * 1024,
            iterations: 4,
            max_concurrent: 1,
            max_queued: 0,
            ..small()
        }));
        let first = {
            let p = Arc::clone(&passwords);
            tokio::spawn(async move { p.hash("the first password").await })
        };
        // Until the first holds its slot.
        while passwords.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let started = std::time::Instant::now();
        assert!(matches!(
            passwords.hash("the second password").await,
            Err(PasswordError::Busy {
                retry_after_secs: 5
            })
        ));
        assert!(started.elapsed() < Duration::from_millis(50), "not queued");
        assert!(first.await.unwrap().is_ok());
        assert!(
            passwords.hash("the third password").await.is_ok(),
            "free again"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hash_that_waits_too_long_answers_busy() {
        let passwords = Arc::new(Passwords::new(&PasswordSettings {
            memory_kib: 64 * 1024,
            iterations: 8,
            max_concurrent: 1,
            max_queued: 1,
            queue_timeout_ms: 1,
            ..small()
        }));
        let first = {
            let p = Arc::clone(&passwords);
            tokio::spawn(async move { p.hash("the first password").await })
        };
        while passwords.running.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(
            passwords.verify(None, "the second password").await,
            Err(PasswordError::Busy {
                retry_after_secs: 1
            })
        ));
        assert!(first.await.unwrap().is_ok());
    }
}
