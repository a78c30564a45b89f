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
}

impl Actor {
    /// The stored form: `system`, `cli`, `admin_token`, `client:<id>`.
    pub fn stored(&self) -> String {
        match self {
            Self::System => "system".to_owned(),
            Self::Cli => "cli".to_owned(),
            Self::AdminToken => "admin_token".to_owned(),
            Self::Client(id) => format!("client:{id}"),
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
    /// RFC 7009: an access token's `jti` is denied until its `exp`.
    AccessTokenRevoked { client_id: String, jti: String },
    /// RFC 7009 §2.1: a refresh token's whole family was revoked.
    RefreshFamilyRevoked {
        client_id: String,
        family_id: String,
        revoked: u64,
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
            Self::AccessTokenRevoked { .. } => "access_token_revoked",
            Self::RefreshFamilyRevoked { .. } => "refresh_family_revoked",
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
