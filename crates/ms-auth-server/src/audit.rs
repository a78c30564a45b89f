//! The audit vocabulary: who acted ([`Actor`]) and what happened ([`Event`]), both closed, so
//! every entry the log holds was written from one of these variants and can be filtered by
//! kind and by actor. The stored strings are the serde names; changing one is a migration.

use crate::{clock::UnixTime, store::AuditEvent};

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The server itself: start-up, the key lifecycle, expiry.
    System,
    /// An operator at the command line, against the configured store.
    Cli,
    /// A caller holding the break-glass admin token (`[admin] token_hash`).
    AdminToken,
    /// An authenticated client, acting on its own tokens.
    Client(String),
    /// A signed-in user, acting on their own account (by user id).
    User(String),
    /// Whoever called the registration endpoint (RFC 7591 §3): their address, and the client
    /// whose initial access token they presented, if registration asks for one.
    Registrant {
        source: Option<std::net::IpAddr>,
        via: Option<String>,
    },
}

impl Actor {
    /// The stored form: `system`, `cli`, `admin_token`, `client:<id>`, `user:<id>`,
    /// `registrant:<address>` (and `,client:<id>` with an initial access token).
    pub fn stored(&self) -> String {
        match self {
            Self::System => "system".to_owned(),
            Self::Cli => "cli".to_owned(),
            Self::AdminToken => "admin_token".to_owned(),
            Self::Client(id) => format!("client:{id}"),
            Self::User(id) => format!("user:{id}"),
            Self::Registrant { source, via } => {
                let source = source.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
                match via {
                    Some(client) => format!("registrant:{source},client:{client}"),
                    None => format!("registrant:{source}"),
                }
            }
        }
    }
}

/// What happened. Details never hold a secret, a token or a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A first active signing key was generated and stored.
    SigningKeyCreated { kid: String, alg: &'static str },
    /// A rotation began: a next key is published and signs from `activates_at`.
    SigningKeyRotationStarted {
        kid: String,
        alg: &'static str,
        activates_at: UnixTime,
    },
    /// A key was withdrawn at once; `activated` signs in its place when it was the active one.
    SigningKeyRevoked {
        kid: String,
        alg: &'static str,
        activated: Option<(String, &'static str)>,
    },
    /// A client managed by the config is no longer listed there.
    ClientDisabled { client_id: String, reason: String },
    /// A client registered itself (RFC 7591): how it authenticates, what it may use.
    ClientRegistered {
        client_id: String,
        method: &'static str,
        grant_types: String,
        scope: String,
    },
    /// A registered client replaced its registration (RFC 7592 §2.2); its registration
    /// access token rotated, and its secret when a new one was issued.
    ClientUpdated { client_id: String, new_secret: bool },
    /// A registered client deleted its registration (RFC 7592 §2.3), and its token families.
    ClientDeleted {
        client_id: String,
        families_revoked: u64,
    },
    /// RFC 7009: an access token's `jti` is denied until its `exp`.
    AccessTokenRevoked { client_id: String, jti: String },
    /// RFC 7009 §2.1: a refresh token's whole family was revoked.
    RefreshFamilyRevoked {
        client_id: String,
        family_id: String,
        revoked: u64,
    },
    /// A user signed in (`sid` names the new session; none for the password grant, whose
    /// actor is the client). Never the password.
    SignInSucceeded {
        user_id: String,
        sid: Option<String>,
    },
    /// A sign-in was refused: the username as typed (never the password) and why.
    SignInFailed {
        username: String,
        reason: &'static str,
    },
    /// A user allowed a client these scopes.
    ConsentGiven {
        user_id: String,
        client_id: String,
        scope: String,
    },
    /// A user (or an administrator) withdrew a client's consent, and its tokens.
    ConsentRevoked {
        user_id: String,
        client_id: String,
        families_revoked: u64,
    },
    /// RFC 6749 §4.1.2: a code was presented twice; what it issued is revoked.
    CodeReplayed {
        client_id: String,
        family_id: String,
    },
    /// RFC 9700 §4.14.2: a rotated refresh token came back; its family is revoked.
    RefreshReuseDetected {
        client_id: String,
        family_id: String,
    },
    /// An account was created.
    UserCreated { user_id: String, username: String },
    /// An account's password was set (never the password or its hash).
    PasswordChanged { user_id: String },
    /// An account was disabled.
    UserDisabled { user_id: String, reason: String },
    /// A browser session ended (logout, the user, an administrator): its session-bound
    /// token families revoked, its clients to be told by back-channel logout.
    SessionEnded {
        user_id: String,
        sid: String,
        reason: &'static str,
        families_revoked: u64,
    },
    /// A client's back-channel logout could not be delivered before the deadline.
    LogoutNoticeAbandoned {
        client_id: String,
        user_id: String,
        sid: String,
        attempts: u32,
    },
}

impl Event {
    /// The stored kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SigningKeyCreated { .. } => "signing_key_created",
            Self::SigningKeyRotationStarted { .. } => "signing_key_rotation_started",
            Self::SigningKeyRevoked { .. } => "signing_key_revoked",
            Self::ClientDisabled { .. } => "client_disabled",
            Self::ClientRegistered { .. } => "client_registered",
            Self::ClientUpdated { .. } => "client_updated",
            Self::ClientDeleted { .. } => "client_deleted",
            Self::AccessTokenRevoked { .. } => "access_token_revoked",
            Self::RefreshFamilyRevoked { .. } => "refresh_family_revoked",
            Self::SignInSucceeded { .. } => "sign_in_succeeded",
            Self::SignInFailed { .. } => "sign_in_failed",
            Self::ConsentGiven { .. } => "consent_given",
            Self::ConsentRevoked { .. } => "consent_revoked",
            Self::CodeReplayed { .. } => "code_replayed",
            Self::RefreshReuseDetected { .. } => "refresh_reuse_detected",
            Self::UserCreated { .. } => "user_created",
            Self::PasswordChanged { .. } => "password_changed",
            Self::UserDisabled { .. } => "user_disabled",
            Self::SessionEnded { .. } => "session_ended",
            Self::LogoutNoticeAbandoned { .. } => "logout_notice_abandoned",
        }
    }

    /// The stored entry for this event, done by `actor` at `at`.
    pub fn entry(&self, actor: &Actor, at: UnixTime) -> AuditEvent {
        let (client_id, subject, detail) = match self {
            Self::SigningKeyCreated { kid, alg } => (None, None, format!("kid {kid} ({alg})")),
            Self::SigningKeyRotationStarted {
                kid,
                alg,
                activates_at,
            } => (
                None,
                None,
                format!("kid {kid} ({alg}) signs from {activates_at}"),
            ),
            Self::SigningKeyRevoked {
                kid,
                alg,
                activated,
            } => (
                None,
                None,
                match activated {
                    Some((a, a_alg)) => {
                        format!("kid {kid} ({alg}); kid {a} ({a_alg}) active in its place")
                    }
                    None => format!("kid {kid} ({alg})"),
                },
            ),
            Self::ClientDisabled { client_id, reason } => {
                (Some(client_id.clone()), None, reason.clone())
            }
            Self::ClientRegistered {
                client_id,
                method,
                grant_types,
                scope,
            } => (
                Some(client_id.clone()),
                None,
                format!("{method}; grant types {grant_types}; scope {scope}"),
            ),
            Self::ClientUpdated {
                client_id,
                new_secret,
            } => (
                Some(client_id.clone()),
                None,
                if *new_secret {
                    "registration access token rotated; a new secret issued".to_owned()
                } else {
                    "registration access token rotated".to_owned()
                },
            ),
            Self::ClientDeleted {
                client_id,
                families_revoked,
            } => (
                Some(client_id.clone()),
                None,
                format!("{families_revoked} token famil(ies) revoked"),
            ),
            Self::AccessTokenRevoked { client_id, jti } => {
                (Some(client_id.clone()), None, format!("jti {jti}"))
            }
            Self::RefreshFamilyRevoked {
                client_id,
                family_id,
                revoked,
            } => (
                Some(client_id.clone()),
                None,
                format!("family {family_id}, {revoked} token(s) revoked"),
            ),
            Self::SignInSucceeded { user_id, sid } => (
                None,
                Some(user_id.clone()),
                match sid {
                    Some(sid) => format!("session {sid}"),
                    None => "password grant, no session".to_owned(),
                },
            ),
            Self::SignInFailed { username, reason } => (
                None,
                None,
                // Typed by anyone: quoted and cut short.
                format!("username {:?}: {reason}", truncated(username, 64)),
            ),
            Self::ConsentGiven {
                user_id,
                client_id,
                scope,
            } => (
                Some(client_id.clone()),
                Some(user_id.clone()),
                format!("scope {scope}"),
            ),
            Self::ConsentRevoked {
                user_id,
                client_id,
                families_revoked,
            } => (
                Some(client_id.clone()),
                Some(user_id.clone()),
                format!("{families_revoked} token famil(ies) revoked"),
            ),
            Self::CodeReplayed {
                client_id,
                family_id,
            } => (
                Some(client_id.clone()),
                None,
                format!("family {family_id} revoked"),
            ),
            Self::RefreshReuseDetected {
                client_id,
                family_id,
            } => (
                Some(client_id.clone()),
                None,
                format!("family {family_id} revoked"),
            ),
            Self::UserCreated { user_id, username } => {
                (None, Some(user_id.clone()), format!("username {username}"))
            }
            Self::PasswordChanged { user_id } => (None, Some(user_id.clone()), String::new()),
            Self::UserDisabled { user_id, reason } => (None, Some(user_id.clone()), reason.clone()),
            Self::SessionEnded {
                user_id,
                sid,
                reason,
                families_revoked,
            } => (
                None,
                Some(user_id.clone()),
                format!("session {sid}: {reason}; {families_revoked} token famil(ies) revoked"),
            ),
            Self::LogoutNoticeAbandoned {
                client_id,
                user_id,
                sid,
                attempts,
            } => (
                Some(client_id.clone()),
                Some(user_id.clone()),
                format!("session {sid}: not delivered after {attempts} attempt(s)"),
            ),
        };
        AuditEvent {
            at,
            event: self.kind().to_owned(),
            actor: actor.stored(),
            client_id,
            subject,
            detail,
        }
    }
}

fn truncated(s: &str, max: usize) -> &str {
    s.char_indices().nth(max).map_or(s, |(i, _)| &s[..i])
}

/// Writes `event` to `log`, best effort: an operation that took effect is not undone because
/// its audit entry could not be written; the failure is logged instead.
pub async fn record(log: &dyn crate::store::AuditLog, actor: &Actor, event: Event, at: UnixTime) {
    if let Err(e) = log.append(&event.entry(actor, at)).await {
        tracing::error!(error = %e, event = event.kind(), "audit entry not written");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_forms_are_stable() {
        assert_eq!(Actor::Client("a".into()).stored(), "client:a");
        let source = Some(std::net::IpAddr::from([203, 0, 113, 5]));
        let open = Actor::Registrant { source, via: None };
        assert_eq!(open.stored(), "registrant:203.0.113.5");
        let via = Actor::Registrant {
            source: None,
            via: Some("admin-app".into()),
        };
        assert_eq!(via.stored(), "registrant:unknown,client:admin-app");
        let e = Event::AccessTokenRevoked {
            client_id: "c".into(),
            jti: "j".into(),
        }
        .entry(&Actor::Client("c".into()), UnixTime::from_secs(7));
        assert_eq!(
            (e.event.as_str(), e.actor.as_str(), e.detail.as_str()),
            ("access_token_revoked", "client:c", "jti j")
        );
        assert_eq!(e.at.secs(), 7);
    }
}
