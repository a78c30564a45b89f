//! A client's stored form, whatever the store: the `clients` row's credential column, its
//! metadata column (the [`ClientMetadata`] JSON, with the origin, the status and the dates
//! dynamic registration issued beside it) and its registration access token's hash, in a
//! column of its own so that a store can swap it atomically (RFC 7592 §2.2's rotation).
//!
//! Rows written since migration 0001 read unchanged: the credential column has always held a
//! `$hmac-sha256$…` hash, which stays its form for a hashed secret, and every metadata field
//! added since has a default (a row without a registration reads as a client the config or an
//! administrator registered). Rows keep the names older replicas read (`scope`,
//! `default_scope`, `enabled`), so a replica not yet upgraded reads what a new one wrote.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{
    Client, ClientCredential, ClientId, ClientMetadata, ClientOrigin, ClientStatus, InlineKeys,
    JwksSource, Registration,
};
use crate::{
    clock::UnixTime,
    oauth::secret::{SecretHash, SecretHashError},
};

/// The credential column of a public client.
const NONE: &str = "none";
/// The credential column of a sealed secret: this prefix, then the sealed text.
const SEALED: &str = "sealed:";
/// The credential column of a client authenticating with its keys, which are in the
/// metadata's `jwks` or `jwks_uri` (RFC 7591 §2).
const JWKS: &str = "jwks";

/// The columns a client is stored in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRow {
    /// `$hmac-sha256$v=1$…`, `none`, `sealed:…` or `jwks`: never a secret in the clear.
    pub credential: String,
    /// The metadata, origin, status and registration dates, as JSON.
    pub metadata: String,
    /// The registration access token's hash, for a dynamically registered client.
    pub registration_token_hash: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RowError {
    #[error(transparent)]
    Metadata(#[from] serde_json::Error),
    #[error(transparent)]
    SecretHash(#[from] SecretHashError),
    #[error("a key-set credential, but neither jwks nor jwks_uri in the metadata")]
    MissingJwks,
}

#[derive(Serialize)]
struct Write<'a> {
    #[serde(flatten)]
    metadata: &'a ClientMetadata,
    origin: ClientOrigin,
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    registration: Option<Dates>,
}

#[derive(Deserialize)]
struct Read {
    #[serde(flatten)]
    metadata: ClientMetadata,
    #[serde(default)]
    origin: ClientOrigin,
    #[serde(default = "active")]
    enabled: bool,
    #[serde(default)]
    registration: Option<Dates>,
}

/// What RFC 7591 §3.2.1 dates, in its names.
#[derive(Serialize, Deserialize)]
struct Dates {
    client_id_issued_at: UnixTime,
    #[serde(default)]
    client_secret_expires_at: Option<UnixTime>,
}

fn active() -> bool {
    true
}

impl Client {
    /// The row this client is stored as.
    pub fn to_row(&self) -> Result<ClientRow, RowError> {
        let mut metadata = Cow::Borrowed(&self.metadata);
        let credential = match &self.credential {
            ClientCredential::None => NONE.to_owned(),
            ClientCredential::SecretHash(hash) => hash.to_phc(),
            ClientCredential::SealedSecret(sealed) => format!("{SEALED}{sealed}"),
            ClientCredential::Jwks(source) => {
                // The keys are stored where RFC 7591 registers them, once.
                let m = metadata.to_mut();
                (m.jwks, m.jwks_uri) = match source {
                    JwksSource::Inline(jwks) => (Some(jwks.set().clone()), None),
                    JwksSource::Uri(uri) => (None, Some(uri.clone())),
                };
                JWKS.to_owned()
            }
        };
        let metadata = serde_json::to_string(&Write {
            metadata: &metadata,
            origin: self.origin,
            enabled: self.status == ClientStatus::Active,
            registration: self.registration.as_ref().map(|r| Dates {
                client_id_issued_at: r.issued_at,
                client_secret_expires_at: r.secret_expires_at,
            }),
        })?;
        Ok(ClientRow {
            credential,
            metadata,
            registration_token_hash: self
                .registration
                .as_ref()
                .map(|r| r.access_token_hash.clone()),
        })
    }

    /// The client stored as `row` under `id`.
    pub fn from_row(id: impl Into<String>, row: &ClientRow) -> Result<Self, RowError> {
        let read: Read = serde_json::from_str(&row.metadata)?;
        let credential = match row.credential.as_str() {
            NONE => ClientCredential::None,
            JWKS => ClientCredential::Jwks(match (&read.metadata.jwks_uri, &read.metadata.jwks) {
                (Some(uri), _) => JwksSource::Uri(uri.clone()),
                (None, Some(jwks)) => JwksSource::Inline(InlineKeys::new(jwks.clone())),
                (None, None) => return Err(RowError::MissingJwks),
            }),
            sealed if sealed.starts_with(SEALED) => {
                ClientCredential::SealedSecret(sealed[SEALED.len()..].to_owned())
            }
            hash => ClientCredential::SecretHash(SecretHash::parse(hash)?),
        };
        Ok(Self {
            id: ClientId::new(id),
            credential,
            metadata: read.metadata,
            origin: read.origin,
            status: if read.enabled {
                ClientStatus::Active
            } else {
                ClientStatus::Disabled
            },
            // Both halves or neither: a registration whose token is lost cannot be managed.
            registration: match (read.registration, &row.registration_token_hash) {
                (Some(dates), Some(hash)) => Some(Registration {
                    issued_at: dates.client_id_issued_at,
                    secret_expires_at: dates.client_secret_expires_at,
                    access_token_hash: hash.clone(),
                }),
                _ => None,
            },
        })
    }
}

impl ClientRow {
    /// The row of a client stored before registration access tokens (no hash column value).
    pub fn new(credential: impl Into<String>, metadata: impl Into<String>) -> Self {
        Self {
            credential: credential.into(),
            metadata: metadata.into(),
            registration_token_hash: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::{
        client::{AuthMethod, GrantType, RedirectUri, ResponseType},
        scope::ScopeSet,
    };

    /// HMAC-SHA256 of "secret" under salt "saltsalt" (secret.rs's known vector).
    const HASH: &str = "$hmac-sha256$v=1$c2FsdHNhbHQ$6qAgNDB0yN5SJra59JsHPTs/CUf8ixHpZYUbky1VKGg";

    /// The playground's client as the store wrote it before `ClientMetadata` (migrations
    /// 0001–0005, `store/sql.rs`'s private struct).
    const ROW_BEFORE: &str = r#"{"grant_types":["client_credentials"],"token_endpoint_auth_methods":["client_secret_basic","client_secret_post"],"scope":["customer.read","customer.write","country.read"],"default_scope":["customer.read","customer.write","country.read"],"audience":[],"access_token_ttl_secs":14400,"resource_server":null,"origin":"config","enabled":true}"#;

    /// A row of the first schema, before default scopes, resource servers, origins and the
    /// enabled flag.
    const ROW_0001: &str = r#"{"grant_types":["client_credentials"],"token_endpoint_auth_methods":["client_secret_basic"],"scope":["country.read"],"audience":["api://x"],"access_token_ttl_secs":600}"#;

    fn scopes(s: &str) -> ScopeSet {
        ScopeSet::parse_param(s).unwrap()
    }

    #[test]
    fn a_row_written_before_client_metadata_reads_as_it_was_meant() {
        let c = Client::from_row("service-client-jwt", &ClientRow::new(HASH, ROW_BEFORE)).unwrap();
        assert_eq!(c.id.as_str(), "service-client-jwt");
        assert!(c.credential.secret_hash().unwrap().verify(b"secret"));
        assert_eq!(c.metadata.grant_types, [GrantType::ClientCredentials]);
        assert_eq!(
            c.metadata.token_endpoint_auth_methods,
            [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost]
        );
        let all = "customer.read customer.write country.read";
        assert_eq!(c.scopes(), &scopes(all));
        assert_eq!(c.default_scopes(), Some(&scopes(all)));
        assert_eq!(c.access_token_ttl().as_secs(), 14400);
        assert_eq!(
            (c.origin, c.status),
            (ClientOrigin::Config, ClientStatus::Active)
        );
        assert!(c.metadata.redirect_uris.is_empty() && !c.metadata.first_party);
        // Written again, it is the same row with the new fields' defaults beside.
        let row = c.to_row().unwrap();
        assert_eq!(row.credential, HASH);
        let old: serde_json::Value = serde_json::from_str(ROW_BEFORE).unwrap();
        let new: serde_json::Value = serde_json::from_str(&row.metadata).unwrap();
        for (k, v) in old.as_object().unwrap() {
            assert_eq!(&new[k], v, "{k}");
        }
    }

    #[test]
    fn a_row_of_the_first_schema_reads_with_defaults() {
        let c = Client::from_row("a", &ClientRow::new(HASH, ROW_0001)).unwrap();
        assert_eq!(c.scopes(), &scopes("country.read"));
        assert_eq!(c.default_scopes(), None);
        assert_eq!(c.audience(), ["api://x"]);
        assert_eq!(c.resource_server(), None);
        assert_eq!(
            (c.origin, c.status),
            (ClientOrigin::Config, ClientStatus::Active)
        );
    }

    /// The struct older replicas read rows with (`store/sql.rs` before `ClientMetadata`).
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct OlderReplica {
        grant_types: Vec<GrantType>,
        token_endpoint_auth_methods: Vec<AuthMethod>,
        scope: ScopeSet,
        #[serde(default)]
        default_scope: Option<ScopeSet>,
        audience: Vec<String>,
        access_token_ttl_secs: u64,
        #[serde(default)]
        resource_server: Option<String>,
        #[serde(default)]
        origin: ClientOrigin,
        enabled: bool,
    }

    #[test]
    fn a_replica_not_yet_upgraded_reads_what_a_new_one_writes() {
        let mut c = Client::from_row("a", &ClientRow::new(HASH, ROW_BEFORE)).unwrap();
        c.status = ClientStatus::Disabled;
        let old: OlderReplica = serde_json::from_str(&c.to_row().unwrap().metadata).unwrap();
        assert_eq!(old.default_scope.as_ref(), c.default_scopes());
        assert!(!old.enabled);
    }

    #[test]
    fn a_row_with_a_field_from_a_newer_replica_still_reads() {
        let newer = ROW_0001.replace('}', r#","pkce_required":true}"#);
        assert!(Client::from_row("a", &ClientRow::new(HASH, &newer)).is_ok());
    }

    #[test]
    fn every_credential_and_field_round_trips() {
        let metadata = ClientMetadata::new()
            .grant(GrantType::AuthorizationCode)
            .grant(GrantType::RefreshToken)
            .response_type(ResponseType::Code)
            .method(AuthMethod::ClientSecretBasic)
            .redirect_uri(RedirectUri::parse("http://127.0.0.1:8080/cb").unwrap())
            .post_logout_redirect_uri(RedirectUri::parse("http://127.0.0.1:8080/").unwrap())
            .scope(scopes("openid country.read"))
            .default_scopes(scopes("openid"))
            .audience("api://x")
            .access_token_ttl_secs(60)
            .resource_server("https://rs.example")
            .first_party()
            .client_name("Web")
            .owner("alice");
        let jwks = serde_json::json!({"keys": []});
        for credential in [
            ClientCredential::None,
            ClientCredential::SecretHash(SecretHash::parse(HASH).unwrap()),
            ClientCredential::SealedSecret("v1.abc".to_owned()),
            ClientCredential::Jwks(JwksSource::Uri("https://app.example/jwks".to_owned())),
            ClientCredential::Jwks(JwksSource::Inline(InlineKeys::new(jwks.clone()))),
        ] {
            let mut c = Client::new(ClientId::new("web"), credential, metadata.clone());
            c.origin = ClientOrigin::Registration;
            c.status = ClientStatus::Disabled;
            let row = c.to_row().unwrap();
            let back = Client::from_row("web", &row).unwrap();
            assert_eq!(back.to_row().unwrap(), row);
            assert_eq!((back.origin, back.status), (c.origin, c.status));
            match (&c.credential, &back.credential) {
                (ClientCredential::None, ClientCredential::None) => {}
                (ClientCredential::SecretHash(_), ClientCredential::SecretHash(h)) => {
                    assert!(h.verify(b"secret"));
                }
                (ClientCredential::SealedSecret(a), ClientCredential::SealedSecret(b)) => {
                    assert_eq!(a, b);
                }
                (ClientCredential::Jwks(a), ClientCredential::Jwks(b)) => assert_eq!(a, b),
                (a, b) => panic!("{a:?} read back as {b:?}"),
            }
            let mut expected = metadata.clone();
            (expected.jwks, expected.jwks_uri) = match &c.credential {
                ClientCredential::Jwks(JwksSource::Inline(j)) => (Some(j.set().clone()), None),
                ClientCredential::Jwks(JwksSource::Uri(u)) => (None, Some(u.clone())),
                _ => (None, None),
            };
            assert_eq!(back.metadata, expected);
        }
    }

    #[test]
    fn a_registration_round_trips_and_needs_both_halves() {
        let mut c = Client::from_row("r", &ClientRow::new(HASH, ROW_0001)).unwrap();
        assert_eq!(c.registration, None, "rows before registration have none");
        c.origin = ClientOrigin::Registration;
        c.registration = Some(Registration {
            issued_at: UnixTime::from_secs(1_700_000_000),
            secret_expires_at: Some(UnixTime::from_secs(1_700_003_600)),
            access_token_hash: "token-hash".to_owned(),
        });
        let row = c.to_row().unwrap();
        assert_eq!(row.registration_token_hash.as_deref(), Some("token-hash"));
        assert!(
            !row.metadata.contains("token-hash"),
            "the hash has its own column: {}",
            row.metadata
        );
        let back = Client::from_row("r", &row).unwrap();
        assert_eq!(back.registration, c.registration);
        assert!(!back.secret_expired(UnixTime::from_secs(1_700_003_599)));
        assert!(back.secret_expired(UnixTime::from_secs(1_700_003_600)));
        // Without its token's hash, a registration cannot be managed: read as none.
        let lost = ClientRow {
            registration_token_hash: None,
            ..row.clone()
        };
        assert_eq!(Client::from_row("r", &lost).unwrap().registration, None);
        // An older replica reads the row, ignoring what it does not know.
        let old: OlderReplica = serde_json::from_str(&row.metadata).unwrap();
        assert_eq!(old.origin, ClientOrigin::Registration);
    }

    #[test]
    fn unreadable_credentials_are_refused_without_echoing_them() {
        let e = Client::from_row("a", &ClientRow::new("hunter2", ROW_0001)).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(matches!(
            Client::from_row("a", &ClientRow::new("jwks", ROW_0001)),
            Err(RowError::MissingJwks)
        ));
        assert!(Client::from_row("a", &ClientRow::new(HASH, "{")).is_err());
    }
}
