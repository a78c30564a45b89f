//! `[[clients]]`: the clients the config registers, each its id, its secret and its
//! [`ClientMetadata`] (RFC 7591 §2) in one table.

use std::collections::HashSet;

use serde::Deserialize;

use super::{SettingsError, invalid};
use crate::{
    oauth::{
        client::{
            AuthMethod, Client, ClientCredential, ClientId, ClientMetadata, InlineKeys, JwksSource,
            RegistrationPolicy,
        },
        secret::{ClientSecret, SecretHash},
    },
    store::sealing::Sealer,
};

/// One `[[clients]]` table: the credentials, then the metadata's keys beside them. Unknown
/// keys are refused (the metadata alone ignores them, for rows a newer replica wrote).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    pub client_id: String,
    /// Plain-text secret (playground only: a warning is logged at start-up).
    #[serde(default)]
    pub client_secret: Option<ClientSecret>,
    /// `$hmac-sha256$v=1$<salt>$<hash>`, as printed by `ms-auth-server hash-secret`.
    #[serde(default)]
    pub client_secret_hash: Option<String>,
    #[serde(flatten)]
    pub metadata: ClientMetadata,
}

impl ClientSettings {
    /// A client with a plain-text secret (accepted with `playground = true` only).
    pub fn confidential(
        client_id: impl Into<String>,
        secret: ClientSecret,
        metadata: ClientMetadata,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: Some(secret),
            client_secret_hash: None,
            metadata,
        }
    }

    /// A client with the stored form of its secret (`ms-auth-server hash-secret`).
    pub fn hashed(
        client_id: impl Into<String>,
        secret_hash: impl Into<String>,
        metadata: ClientMetadata,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: None,
            client_secret_hash: Some(secret_hash.into()),
            metadata,
        }
    }

    /// A public client (RFC 6749 §2.1): it authenticates with `none` only.
    fn is_public(&self) -> bool {
        self.metadata
            .token_endpoint_auth_methods
            .contains(&AuthMethod::None)
    }

    /// A `private_key_jwt` client: its keys are in the metadata, it has no secret.
    fn uses_keys(&self) -> bool {
        self.metadata
            .token_endpoint_auth_methods
            .contains(&AuthMethod::PrivateKeyJwt)
    }

    /// A `client_secret_jwt` client: its secret is kept sealed, since an HMAC cannot be
    /// checked against a hash.
    fn signs_with_secret(&self) -> bool {
        self.metadata
            .token_endpoint_auth_methods
            .contains(&AuthMethod::ClientSecretJwt)
    }

    /// Checks this table, found at `prefix`, under `policy`.
    pub fn validate(
        &self,
        prefix: &str,
        policy: &RegistrationPolicy<'_>,
    ) -> Result<(), SettingsError> {
        let key = |field: &str| format!("{prefix}.{field}");
        if self.client_id.is_empty() {
            return Err(invalid(key("client_id"), "must not be empty"));
        }
        if self.is_public() || self.uses_keys() {
            if self.client_secret.is_some() || self.client_secret_hash.is_some() {
                return Err(invalid(
                    key("client_secret"),
                    "a public client (token_endpoint_auth_methods = [\"none\"]) or one authenticating with its keys (private_key_jwt) has no secret",
                ));
            }
            return self
                .metadata
                .validate(policy)
                .map_err(|e| invalid(key(e.field), e.message));
        }
        if self.signs_with_secret() && self.client_secret_hash.is_some() {
            return Err(invalid(
                key("client_secret_hash"),
                "client_secret_jwt is an HMAC keyed with the secret itself, which no hash can check: give client_secret (playground), or register the client dynamically (its secret is then stored sealed)",
            ));
        }
        match (&self.client_secret, &self.client_secret_hash) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    key("client_secret"),
                    "give client_secret or client_secret_hash, not both",
                ));
            }
            (None, None) => {
                return Err(invalid(
                    key("client_secret_hash"),
                    "a client secret is required",
                ));
            }
            (Some(s), None) if s.expose().is_empty() => {
                return Err(invalid(key("client_secret"), "must not be empty"));
            }
            (Some(_), None) if !policy.playground => {
                return Err(invalid(
                    key("client_secret"),
                    "plain-text secrets are for the playground only: give client_secret_hash (`ms-auth-server generate-secret`)",
                ));
            }
            (None, Some(h)) => {
                SecretHash::parse(h)
                    .map_err(|e| invalid(key("client_secret_hash"), e.to_string()))?;
            }
            (Some(_), None) => {}
        }
        self.metadata
            .validate(policy)
            .map_err(|e| invalid(key(e.field), e.message))
    }

    /// The client this table registers, its secret hashed (sealed under `sealer` for
    /// `client_secret_jwt`). A plain-text secret is logged as a warning (by id, never by
    /// value).
    pub fn to_client(&self, prefix: &str, sealer: &Sealer) -> Result<Client, SettingsError> {
        let id = ClientId::new(self.client_id.clone());
        if self.is_public() {
            return Ok(Client::new(
                id,
                ClientCredential::None,
                self.metadata.clone(),
            ));
        }
        if self.uses_keys() {
            let source = match (&self.metadata.jwks_uri, &self.metadata.jwks) {
                (Some(uri), _) => JwksSource::Uri(uri.clone()),
                (None, Some(jwks)) => JwksSource::Inline(InlineKeys::new(jwks.clone())),
                (None, None) => {
                    return Err(invalid(
                        format!("{prefix}.jwks_uri"),
                        "private_key_jwt needs jwks or jwks_uri",
                    ));
                }
            };
            return Ok(Client::new(
                id,
                ClientCredential::Jwks(source),
                self.metadata.clone(),
            ));
        }
        if self.signs_with_secret() {
            let secret = self.client_secret.as_ref().ok_or_else(|| {
                invalid(
                    format!("{prefix}.client_secret"),
                    "a client secret is required",
                )
            })?;
            tracing::warn!(
                client_id = %self.client_id,
                "client secret is given in plain text in the config (accepted with playground = true only)"
            );
            let credential = ClientCredential::seal_secret(sealer, &id, secret)
                .map_err(|e| invalid(format!("{prefix}.client_secret"), e.to_string()))?;
            return Ok(Client::new(id, credential, self.metadata.clone()));
        }
        let hash = match (&self.client_secret, &self.client_secret_hash) {
            (_, Some(h)) => SecretHash::parse(h)
                .map_err(|e| invalid(format!("{prefix}.client_secret_hash"), e.to_string()))?,
            (Some(plain), None) => {
                tracing::warn!(
                    client_id = %self.client_id,
                    "client secret is given in plain text in the config (accepted with playground = true only)"
                );
                SecretHash::generate(plain)
                    .map_err(|_| invalid(format!("{prefix}.client_secret"), "could not hash"))?
            }
            (None, None) => {
                return Err(invalid(
                    format!("{prefix}.client_secret_hash"),
                    "a client secret is required",
                ));
            }
        };
        Ok(Client::new(
            ClientId::new(self.client_id.clone()),
            ClientCredential::SecretHash(hash),
            self.metadata.clone(),
        ))
    }
}

/// Checks the list found at `prefix`: at least one client, ids unique, each table valid.
pub(super) fn validate(
    prefix: &str,
    clients: &[ClientSettings],
    policy: &RegistrationPolicy<'_>,
) -> Result<(), SettingsError> {
    if clients.is_empty() {
        return Err(invalid(
            prefix,
            "no clients are registered: declare at least one [[clients]] table in the config file",
        ));
    }
    let mut seen = HashSet::new();
    for (i, c) in clients.iter().enumerate() {
        let at = format!("{prefix}[{i}]");
        if !c.client_id.is_empty() && !seen.insert(c.client_id.as_str()) {
            return Err(invalid(
                format!("{at}.client_id"),
                format!("{:?} is registered twice", c.client_id),
            ));
        }
        c.validate(&at, policy)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::{
        Settings,
        oauth::{
            client::{AuthMethod, ClientOrigin, ClientStatus, GrantType},
            scope::ScopeSet,
        },
        settings::SettingsError,
    };

    fn playground() -> Settings {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../deploy/playground/ms-auth-server.toml");
        Settings::load(Some(&path)).expect("the playground config loads")
    }

    /// Loads the playground's config with `table` as one more `[[clients]]`.
    fn load_with(table: &str) -> Result<Settings, SettingsError> {
        let playground = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../deploy/playground/ms-auth-server.toml"),
        )
        .unwrap();
        let path = std::env::temp_dir().join(format!(
            "ms-auth-server-clients-{}.toml",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&path, format!("{playground}\n[[clients]]\n{table}")).unwrap();
        let loaded = Settings::load(Some(&path));
        std::fs::remove_file(&path).unwrap();
        loaded
    }

    fn scopes(s: &str) -> ScopeSet {
        ScopeSet::parse_param(s).unwrap()
    }

    #[test]
    fn the_playground_clients_read_as_they_always_have() {
        let clients = playground().clients(&Sealer::random().unwrap()).unwrap();
        let jwt = &clients[0];
        assert_eq!(jwt.id.as_str(), "service-client-jwt");
        assert!(
            jwt.credential
                .secret_hash()
                .unwrap()
                .verify(b"service-client-jwt-secret")
        );
        assert_eq!(jwt.metadata.grant_types, [GrantType::ClientCredentials]);
        assert_eq!(
            jwt.metadata.token_endpoint_auth_methods,
            [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost]
        );
        let all = scopes("customer.read customer.write country.read");
        assert_eq!(jwt.scopes(), &all);
        assert_eq!(jwt.default_scopes(), Some(&all));
        assert_eq!(jwt.access_token_ttl().as_secs(), 14_400);
        assert!(jwt.audience().is_empty() && jwt.resource_server().is_none());
        assert_eq!(
            (jwt.origin, jwt.status),
            (ClientOrigin::Config, ClientStatus::Active)
        );
        let rs = &clients[1];
        assert_eq!(rs.id.as_str(), "customer-service");
        assert_eq!(
            rs.resource_server(),
            Some("http://localhost:8085/customer-service")
        );
        assert!(rs.metadata.grant_types.is_empty() && rs.scopes().is_empty());
        assert_eq!(rs.access_token_ttl().as_secs(), 900, "the default");
    }

    #[test]
    fn a_table_holds_the_credentials_and_the_metadata() {
        let s = load_with(
            r#"client_id = "web"
client_secret = "web-secret"
grant_types = ["authorization_code", "refresh_token"]
response_types = ["code"]
token_endpoint_auth_methods = ["client_secret_basic"]
redirect_uris = ["http://127.0.0.1:8080/login/oauth2/code/web"]
post_logout_redirect_uris = ["http://127.0.0.1:8080/"]
scopes = "country.read"
client_name = "Web"
first_party = true
"#,
        )
        .unwrap();
        let web = s.clients.last().unwrap();
        let m = &web.metadata;
        assert_eq!(m.scope, scopes("country.read"));
        assert_eq!(
            m.redirect_uris[0].as_str(),
            "http://127.0.0.1:8080/login/oauth2/code/web"
        );
        assert!(m.redirect_uris[0].matches("http://127.0.0.1:50123/login/oauth2/code/web"));
        assert_eq!(
            m.post_logout_redirect_uris[0].as_str(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(m.client_name.as_deref(), Some("Web"));
        assert!(m.first_party);
    }

    #[test]
    fn unknown_and_malformed_keys_are_refused_by_name() {
        let base = "client_id = \"x\"\nclient_secret = \"x-secret\"\ngrant_types = [\"client_credentials\"]\ntoken_endpoint_auth_methods = [\"client_secret_basic\"]\nscopes = [\"country.read\"]\n";
        assert!(load_with(base).is_ok());
        let e = load_with(&format!("{base}scope_typo = [\"x\"]\n")).unwrap_err();
        assert!(e.to_string().contains("scope_typo"), "{e}");
        let e = load_with(&format!(
            "{base}redirect_uris = [\"https://a.example/#f\"]\n"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("fragment"), "{e}");
        let e = load_with(&format!(
            "{base}redirect_uris = [\"javascript:alert(1)\"]\n"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("clients[6].redirect_uris"), "{e}");
    }

    fn refused_key(settings: &Settings) -> String {
        match settings.validate() {
            Err(SettingsError::Invalid { key, .. }) => key,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// The keys the checks name, as they did before `ClientMetadata::validate` held them.
    #[test]
    fn each_client_error_names_its_key() {
        let good = ClientSettings::confidential(
            "extra",
            ClientSecret::new("extra-secret"),
            ClientMetadata::new()
                .grant(GrantType::ClientCredentials)
                .method(AuthMethod::ClientSecretPost)
                .scope(scopes("country.read")),
        );
        let mut s = playground();
        s.clients.push(good.clone());
        assert!(s.validate().is_ok());
        type Edit = fn(&mut ClientSettings);
        let edits: Vec<(Edit, &str)> = vec![
            (|c| c.client_id.clear(), "clients[6].client_id"),
            (
                |c| c.client_id = "country-service".into(),
                "clients[6].client_id",
            ),
            (
                |c| c.client_secret_hash = Some("$x".into()),
                "clients[6].client_secret",
            ),
            (|c| c.client_secret = None, "clients[6].client_secret_hash"),
            (
                |c| c.client_secret = Some(ClientSecret::new("")),
                "clients[6].client_secret",
            ),
            (
                |c| *c = ClientSettings::hashed(&c.client_id, "$2b$12$x", c.metadata.clone()),
                "clients[6].client_secret_hash",
            ),
            (|c| c.metadata.grant_types.clear(), "clients[6].grant_types"),
            (
                |c| c.metadata.token_endpoint_auth_methods.clear(),
                "clients[6].token_endpoint_auth_methods",
            ),
            (
                |c| c.metadata.scope = ScopeSet::default(),
                "clients[6].scopes",
            ),
            (|c| c.metadata.scope = scopes("admin"), "clients[6].scopes"),
            (
                |c| c.metadata.access_token_ttl_secs = 86_401,
                "clients[6].access_token_ttl_secs",
            ),
            (
                |c| c.metadata.default_scopes = Some(scopes("customer.read")),
                "clients[6].default_scopes",
            ),
            (
                |c| c.metadata.resource_server = Some("ftp://x".into()),
                "clients[6].resource_server",
            ),
            (
                |c| c.metadata.audience.push(String::new()),
                "clients[6].audience",
            ),
        ];
        for (edit, key) in edits {
            let mut s = playground();
            let mut c = good.clone();
            edit(&mut c);
            s.clients.push(c);
            assert_eq!(refused_key(&s), key);
        }
        let mut s = playground();
        s.clients.clear();
        assert_eq!(refused_key(&s), "clients");
    }
}
