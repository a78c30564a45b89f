//! Signing in with a username and a password: one answer for an unknown user and a wrong
//! password (both cost one argon2id check, so neither the answer nor its time tells which),
//! a disabled account told only to whoever knows its password, and brute-force protection
//! per source address and per username ([`crate::oauth::brute_force`], realm `user`; NIST
//! SP 800-63B §5.2.2 asks for a limit on failed attempts per account). No HTTP here: the sign-in
//! page calls [`SignIn::sign_in`] and creates the session.

use std::{net::IpAddr, sync::Arc};

use super::{
    User,
    password::{PasswordError, Passwords},
};
use crate::{
    Settings,
    audit::{self, Actor, Event},
    clock::UnixTime,
    oauth::brute_force::{Attempt, Guard, Refused},
    store::{AuditLog, StoreError, Stores, UserStore},
};

/// The longest username, in bytes: longer ones name nobody.
pub const MAX_USERNAME_BYTES: usize = 256;

/// What a username may be: not empty, at most [`MAX_USERNAME_BYTES`], no control characters
/// and no surrounding spaces (what is typed is compared exactly, so invisible differences are
/// kept out).
pub fn check_username(username: &str) -> Result<(), String> {
    if username.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if username.len() > MAX_USERNAME_BYTES {
        return Err(format!("has at most {MAX_USERNAME_BYTES} bytes"));
    }
    if username.chars().any(char::is_control) || username.trim() != username {
        return Err("has no control characters and no surrounding spaces".to_owned());
    }
    Ok(())
}

/// What a role name may be: not empty, no surrounding spaces.
pub fn check_role(role: &str) -> Result<(), String> {
    if role.trim().is_empty() || role.trim() != role {
        return Err("a role is a non-empty name without surrounding spaces".to_owned());
    }
    Ok(())
}

/// Why a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// No such user, or the wrong password: the same answer for both.
    #[error("the username or the password is wrong")]
    Invalid,
    /// The password was right, but the account may not sign in.
    #[error("the account is disabled")]
    Disabled,
    /// The password pool is full (503 with `Retry-After`).
    #[error("too many sign-ins at once; retry after {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },
    /// Too many failures from this source or for this username (429 with `Retry-After`).
    #[error("too many failed sign-ins; retry after {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SignInError {
    /// The audit reason of a refusal of the credentials; `None` when the server could not
    /// decide.
    fn reason(&self) -> Option<&'static str> {
        match self {
            Self::Invalid => Some("invalid_credentials"),
            Self::Disabled => Some("disabled"),
            Self::Throttled { .. } => Some("throttled"),
            Self::Busy { .. } | Self::Store(_) => None,
        }
    }
}

impl From<PasswordError> for SignInError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Busy { retry_after_secs } => Self::Busy { retry_after_secs },
            // A stored hash that cannot be read is stored data that cannot be read.
            PasswordError::Unreadable(e) => Self::Store(StoreError::Corrupt(e)),
            // Policy is for setting a password, never for checking one.
            PasswordError::Failed(e) | PasswordError::Policy(e) => {
                Self::Store(StoreError::Unavailable(e))
            }
        }
    }
}

/// Password sign-in.
pub struct SignIn {
    pub users: Arc<dyn UserStore>,
    pub passwords: Arc<Passwords>,
    /// Realm `user`: its counters are apart from the clients' and the admin token's.
    pub guard: Guard,
    pub audit: Arc<dyn AuditLog>,
}

impl SignIn {
    /// Sign-in on `stores`, hashing as `[passwords]` says and throttling as `[brute_force]`
    /// says.
    pub fn new(settings: &Settings, stores: &Stores) -> Self {
        Self {
            users: Arc::clone(&stores.users),
            passwords: Arc::new(Passwords::new(&settings.passwords)),
            guard: Guard {
                settings: settings.brute_force.clone(),
                hot: Arc::clone(&stores.hot),
                realm: "user",
            },
            audit: Arc::clone(&stores.audit),
        }
    }

    /// The user `username` names, if `password` is theirs and they may sign in. Every refusal
    /// of the credentials is audited (`sign_in_failed`, the username as typed, never the
    /// password); the caller audits the success once the session exists. A password made with
    /// other parameters than the configured ones is hashed anew (best effort).
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        source: Option<IpAddr>,
        now: UnixTime,
    ) -> Result<User, SignInError> {
        let attempt = Attempt {
            source,
            client_id: Some(username),
        };
        let outcome = match self
            .guard
            .guard(
                attempt,
                now,
                self.check(username, password, now),
                |e: &SignInError| matches!(e, SignInError::Invalid),
            )
            .await
        {
            Ok(outcome) => outcome,
            Err(Refused::Blocked { retry_after_secs }) => {
                Err(SignInError::Throttled { retry_after_secs })
            }
            Err(Refused::Store(e)) => Err(SignInError::Store(e)),
        };
        if let Err(e) = &outcome {
            match e.reason() {
                Some(reason) => {
                    tracing::info!(reason, "sign-in refused");
                    let event = Event::SignInFailed {
                        username: username.to_owned(),
                        reason,
                    };
                    audit::record(self.audit.as_ref(), &Actor::System, event, now).await;
                }
                None => tracing::warn!(error = %e, "sign-in could not be decided"),
            }
        }
        outcome
    }

    async fn check(
        &self,
        username: &str,
        password: &str,
        now: UnixTime,
    ) -> Result<User, SignInError> {
        // A username no account can have is looked up nowhere, but checked all the same.
        let user = match check_username(username) {
            Ok(()) => self.users.user_by_username(username).await?,
            Err(_) => None,
        };
        let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
        let verified = self.passwords.verify(stored, password).await?;
        let Some(mut user) = user.filter(|_| verified.ok) else {
            return Err(SignInError::Invalid);
        };
        if !user.enabled() {
            return Err(SignInError::Disabled);
        }
        if verified.needs_rehash {
            match self.rehash(&user, password, now).await {
                Ok(hash) => user.password_hash = Some(hash),
                Err(e) => {
                    tracing::warn!(user_id = %user.id, error = %e, "password not rehashed")
                }
            }
        }
        Ok(user)
    }

    async fn rehash(&self, user: &User, password: &str, now: UnixTime) -> Result<String, String> {
        let hash = self
            .passwords
            .hash_unchecked(password)
            .await
            .map_err(|e| e.to_string())?;
        match self.users.set_password(&user.id, &hash, now).await {
            Ok(true) => {
                tracing::info!(user_id = %user.id, "password rehashed with the configured parameters");
                Ok(hash)
            }
            Ok(false) => Err("the account is gone".to_owned()),
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        identity::{
            StandardClaims, UserOrigin, UserStatus,
            password::{PasswordSettings, Verified},
        },
        oauth::brute_force::BruteForceSettings,
    };

    fn small(memory_kib: u32) -> PasswordSettings {
        PasswordSettings {
            memory_kib,
            iterations: 1,
            parallelism: 1,
            max_concurrent: 2,
            max_queued: 8,
            queue_timeout_ms: 5_000,
        }
    }

    fn t(secs: i64) -> UnixTime {
        UnixTime::from_secs(secs)
    }

    fn sign_in(stores: &Stores, passwords: PasswordSettings) -> SignIn {
        let settings = Settings {
            passwords,
            brute_force: BruteForceSettings {
                max_failures_per_source: 3,
                delay_after_failures: 100,
                ..BruteForceSettings::default()
            },
            ..Settings::default()
        };
        SignIn::new(&settings, stores)
    }

    async fn put(stores: &Stores, passwords: &Passwords, username: &str, password: &str) -> User {
        let user = User {
            id: format!("id-{username}"),
            username: username.to_owned(),
            password_hash: Some(passwords.hash(password).await.unwrap()),
            roles: vec!["user".to_owned()],
            status: UserStatus::Active,
            origin: UserOrigin::Administration,
            claims: StandardClaims::default(),
            created_at: t(1),
            updated_at: t(1),
        };
        stores.users.put_user(&user).await.unwrap();
        user
    }

    async fn audited(stores: &Stores) -> Vec<String> {
        let mut all = stores.audit.recent(100).await.unwrap();
        all.reverse();
        all.iter()
            .map(|e| format!("{} {} {}", e.event, e.actor, e.detail))
            .collect()
    }

    #[tokio::test]
    async fn the_right_password_signs_in_and_nothing_is_audited_here() {
        let stores = Stores::memory();
        let s = sign_in(&stores, small(1024));
        let alice = put(&stores, &s.passwords, "alice", "alice-password").await;
        let user = s
            .sign_in("alice", "alice-password", None, t(10))
            .await
            .unwrap();
        assert_eq!(user, alice);
        assert!(
            audited(&stores).await.is_empty(),
            "the caller audits success"
        );
    }

    #[tokio::test]
    async fn an_unknown_user_and_a_wrong_password_get_one_answer() {
        let stores = Stores::memory();
        let s = sign_in(&stores, small(1024));
        put(&stores, &s.passwords, "alice", "alice-password").await;
        let wrong = s.sign_in("alice", "bob-password", None, t(10)).await;
        let unknown = s.sign_in("mallory", "alice-password", None, t(10)).await;
        let unnameable = s
            .sign_in(&"m".repeat(300), "alice-password", None, t(10))
            .await;
        for e in [wrong, unknown, unnameable] {
            let e = e.unwrap_err();
            assert!(matches!(e, SignInError::Invalid), "{e:?}");
            assert_eq!(e.to_string(), "the username or the password is wrong");
        }
        assert!(
            s.passwords.dummy_made(),
            "the unknown user was checked against the dummy"
        );
        let log = audited(&stores).await;
        assert_eq!(log.len(), 3, "{log:?}");
        assert_eq!(
            log[0],
            "sign_in_failed system username \"alice\": invalid_credentials"
        );
        assert_eq!(
            log[1],
            "sign_in_failed system username \"mallory\": invalid_credentials"
        );
        assert!(!log.iter().any(|l| l.contains("password\"")), "{log:?}");
    }

    #[tokio::test]
    async fn a_disabled_account_is_told_only_after_the_right_password() {
        let stores = Stores::memory();
        let s = sign_in(&stores, small(1024));
        let alice = put(&stores, &s.passwords, "alice", "alice-password").await;
        stores
            .users
            .set_status(&alice.id, UserStatus::Disabled, t(5))
            .await
            .unwrap();
        assert!(matches!(
            s.sign_in("alice", "wrong-password", None, t(10)).await,
            Err(SignInError::Invalid)
        ));
        assert!(matches!(
            s.sign_in("alice", "alice-password", None, t(10)).await,
            Err(SignInError::Disabled)
        ));
        let log = audited(&stores).await;
        assert_eq!(
            log.last().unwrap(),
            "sign_in_failed system username \"alice\": disabled"
        );
    }

    #[tokio::test]
    async fn a_source_past_its_failures_is_throttled_even_with_the_right_password() {
        let stores = Stores::memory();
        let s = sign_in(&stores, small(1024));
        put(&stores, &s.passwords, "alice", "alice-password").await;
        let from: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..3 {
            assert!(matches!(
                s.sign_in("alice", "guess-guess", Some(from), t(60)).await,
                Err(SignInError::Invalid)
            ));
        }
        let e = s
            .sign_in("alice", "alice-password", Some(from), t(60))
            .await
            .unwrap_err();
        assert!(
            matches!(e, SignInError::Throttled { retry_after_secs } if retry_after_secs == 60),
            "{e:?}"
        );
        // Another source is not held back by this one's failures…
        let other: IpAddr = "198.51.100.1".parse().unwrap();
        assert!(
            s.sign_in("alice", "alice-password", Some(other), t(60))
                .await
                .is_ok()
        );
        // …and the next window starts clean.
        assert!(
            s.sign_in("alice", "alice-password", Some(from), t(120))
                .await
                .is_ok()
        );
        let log = audited(&stores).await;
        assert_eq!(
            log[3],
            "sign_in_failed system username \"alice\": throttled"
        );
    }

    #[tokio::test]
    async fn a_password_hashed_with_other_parameters_is_rehashed_at_sign_in() {
        let stores = Stores::memory();
        let old = Passwords::new(&small(1024));
        let alice = put(&stores, &old, "alice", "alice-password").await;
        let s = sign_in(&stores, small(2048));
        let user = s
            .sign_in("alice", "alice-password", None, t(10))
            .await
            .unwrap();
        let stored = stores.users.user(&alice.id).await.unwrap().unwrap();
        let new_hash = stored.password_hash.clone().unwrap();
        assert_ne!(Some(&new_hash), alice.password_hash.as_ref());
        assert!(
            new_hash.starts_with("$argon2id$v=19$m=2048,t=1,p=1$"),
            "{new_hash}"
        );
        assert_eq!(user.password_hash.as_ref(), Some(&new_hash));
        assert_eq!(stored.updated_at, t(10));
        assert_eq!(
            s.passwords
                .verify(Some(&new_hash), "alice-password")
                .await
                .unwrap(),
            Verified {
                ok: true,
                needs_rehash: false
            }
        );
        // Signed in again: nothing more to do.
        s.sign_in("alice", "alice-password", None, t(20))
            .await
            .unwrap();
        let again = stores.users.user(&alice.id).await.unwrap().unwrap();
        assert_eq!(again.password_hash, Some(new_hash));
        assert_eq!(again.updated_at, t(10));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_saturated_pool_answers_busy_and_is_not_counted_as_a_failure() {
        let stores = Stores::memory();
        let s = Arc::new(sign_in(
            &stores,
            PasswordSettings {
                max_concurrent: 1,
                max_queued: 0,
                ..small(64 * 1024)
            },
        ));
        let hash = s.passwords.hash("alice-password").await.unwrap();
        let busy = {
            let p = Arc::clone(&s.passwords);
            tokio::spawn(async move { p.verify(Some(&hash), "alice-password").await })
        };
        while s.passwords.in_pool() == 0 {
            tokio::task::yield_now().await;
        }
        let e = s
            .sign_in("alice", "alice-password", None, t(10))
            .await
            .unwrap_err();
        assert!(matches!(e, SignInError::Busy { .. }), "{e:?}");
        assert!(busy.await.unwrap().unwrap().ok);
        assert!(
            audited(&stores).await.is_empty(),
            "not a refusal of the credentials"
        );
    }

    #[test]
    fn usernames() {
        assert!(check_username("alice").is_ok());
        assert!(check_username("alice@example.com").is_ok());
        assert!(check_username("Zoë").is_ok());
        for bad in ["", " alice", "alice ", "al\u{0}ice", "al\nice"] {
            assert!(check_username(bad).is_err(), "{bad:?}");
        }
        assert!(check_username(&"a".repeat(MAX_USERNAME_BYTES)).is_ok());
        assert!(check_username(&"a".repeat(MAX_USERNAME_BYTES + 1)).is_err());
    }
}
