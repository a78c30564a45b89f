//! Client authentication at the token endpoint (RFC 6749 §2.3.1): `client_secret_basic` and
//! `client_secret_post`, exactly one per request, and `none` for public clients (RFC 6749
//! §2.1, RFC 7591 §2): a `client_id` alone, accepted only from a client registered so.

use std::sync::{Arc, LazyLock};

use base64::{Engine, engine::general_purpose::STANDARD};

use super::{
    client::{AuthMethod, Client},
    error::OAuthError,
    params::{Params, decode_component},
    secret::{ClientSecret, SecretHash},
};
use crate::store::{ClientStore, StoreError};

/// Credentials a request presents, before they are checked.
#[derive(Debug)]
pub struct PresentedCredentials {
    pub method: AuthMethod,
    pub client_id: String,
    pub secret: ClientSecret,
}

/// Whether this server authenticates clients by `method`: what metadata advertises and what
/// a registration may name. Exhaustive, so that a new method is decided here.
pub const fn implements(method: AuthMethod) -> bool {
    match method {
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::None => true,
        AuthMethod::ClientSecretJwt | AuthMethod::PrivateKeyJwt => false,
    }
}

/// Reads the client's credentials from the `Authorization` header value and the parameters.
///
/// A `client_id` alone is the `none` method; `Ok(None)` when the request carries not even that.
pub fn extract(
    authorization: Option<&[u8]>,
    params: &Params,
) -> Result<Option<PresentedCredentials>, OAuthError> {
    let basic = authorization.map(parse_basic).transpose()?;
    let post_secret = params.get("client_secret");
    match (basic, post_secret) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "more than one client authentication method: use either HTTP Basic or client_secret in the body",
        )),
        (Some((client_id, secret)), None) => {
            if params.get("client_id").is_some_and(|id| id != client_id) {
                return Err(OAuthError::invalid_request(
                    "client_id does not match the Authorization header",
                ));
            }
            Ok(Some(PresentedCredentials {
                method: AuthMethod::ClientSecretBasic,
                client_id,
                secret,
            }))
        }
        (None, Some(secret)) => {
            let client_id = params.require("client_id")?;
            Ok(Some(PresentedCredentials {
                method: AuthMethod::ClientSecretPost,
                client_id: client_id.to_owned(),
                secret: ClientSecret::new(secret),
            }))
        }
        (None, None) => Ok(params.get("client_id").map(|id| PresentedCredentials {
            method: AuthMethod::None,
            client_id: id.to_owned(),
            secret: ClientSecret::new(""),
        })),
    }
}

/// Parses `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1, RFC 7617).
fn parse_basic(header: &[u8]) -> Result<(String, ClientSecret), OAuthError> {
    let malformed = || OAuthError::invalid_request("malformed HTTP Basic Authorization header");
    let header = std::str::from_utf8(header).map_err(|_| malformed())?.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_request(
            "unsupported Authorization scheme at the token endpoint: use Basic",
        ));
    }
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| malformed())?;
    let colon = decoded
        .iter()
        .position(|&b| b == b':')
        .ok_or_else(malformed)?;
    let id = decode_component(&decoded[..colon]).map_err(|_| malformed())?;
    let secret = decode_component(&decoded[colon + 1..]).map_err(|_| malformed())?;
    if id.is_empty() {
        return Err(malformed());
    }
    Ok((id, ClientSecret::new(secret)))
}

/// A hash no secret matches, checked for unknown clients so that they take as long as known ones.
static DUMMY_HASH: LazyLock<Option<SecretHash>> =
    LazyLock::new(|| SecretHash::generate(&ClientSecret::new("unknown-client")).ok());

#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    #[error(transparent)]
    Rejected(OAuthError),
    #[error("client store failed: {0}")]
    Store(#[from] StoreError),
}

/// Checks presented credentials against the registered client. Every failure — no
/// credentials, unknown client, wrong secret, a method the client may not use — is the same
/// `invalid_client`, so that nothing tells them apart from outside.
pub async fn authenticate(
    store: &dyn ClientStore,
    presented: Option<PresentedCredentials>,
) -> Result<Arc<Client>, AuthenticateError> {
    let rejected = |reason: &'static str| {
        metrics::counter!("client_auth_failures_total", "reason" => reason).increment(1);
        AuthenticateError::Rejected(OAuthError::invalid_client())
    };
    let Some(presented) = presented else {
        return Err(rejected("no_credentials"));
    };
    if presented.method == AuthMethod::None {
        // Nothing to check but that the client is registered as public: a confidential
        // client's id alone proves nothing.
        return match store.client(&presented.client_id).await? {
            Some(c) if c.enabled() && c.is_public() => Ok(c),
            _ => {
                tracing::info!(reason = "not_public", "client authentication failed");
                Err(rejected("not_public"))
            }
        };
    }
    let secret = presented.secret.expose().as_bytes();
    // A disabled client is as unknown as one never registered, and costs the same time.
    let found = store
        .client(&presented.client_id)
        .await?
        .filter(|c| c.enabled());
    let Some(client) = found else {
        if let Some(dummy) = DUMMY_HASH.as_ref() {
            let _ = dummy.verify(secret);
        }
        tracing::info!(reason = "unknown_client", "client authentication failed");
        return Err(rejected("unknown_client"));
    };
    // A client without a secret hash (public, or one authenticating otherwise) never
    // authenticates with a secret; checking the dummy costs it the same time.
    let secret_ok = match client.credential.secret_hash() {
        Some(hash) => hash.verify(secret),
        None => {
            if let Some(dummy) = DUMMY_HASH.as_ref() {
                let _ = dummy.verify(secret);
            }
            false
        }
    };
    if !secret_ok {
        tracing::info!(client_id = %client.id, reason = "bad_secret", "client authentication failed");
        return Err(rejected("bad_secret"));
    }
    if !client.may_use_method(presented.method) {
        tracing::info!(client_id = %client.id, reason = "method_not_allowed", method = presented.method.as_str(), "client authentication failed");
        return Err(rejected("method_not_allowed"));
    }
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    fn basic(raw: &str) -> String {
        format!("Basic {}", STANDARD.encode(raw))
    }

    fn extract_with(
        header: Option<&str>,
        body: &str,
    ) -> Result<Option<PresentedCredentials>, OAuthError> {
        let params = Params::from_query_and_body("", body.as_bytes()).unwrap();
        extract(header.map(str::as_bytes), &params)
    }

    #[test]
    fn docs_basic_header_decodes_to_the_playground_client() {
        // From the playground docs: base64(service-client-jwt:service-client-jwt-secret).
        let c = extract_with(
            Some("Basic c2VydmljZS1jbGllbnQtand0OnNlcnZpY2UtY2xpZW50LWp3dC1zZWNyZXQ="),
            "",
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.method, AuthMethod::ClientSecretBasic);
        assert_eq!(c.client_id, "service-client-jwt");
        assert_eq!(c.secret.expose(), "service-client-jwt-secret");
    }

    #[test]
    fn basic_credentials_are_form_urldecoded() {
        // RFC 6749 §2.3.1: id and secret are application/x-www-form-urlencoded before base64.
        let c = extract_with(Some(&basic("my%3Aclient:p%40ss+word%25")), "")
            .unwrap()
            .unwrap();
        assert_eq!(c.client_id, "my:client");
        assert_eq!(c.secret.expose(), "p@ss word%");
    }

    #[test]
    fn scheme_is_case_insensitive() {
        let header = basic("a:b").replace("Basic", "bAsIc");
        assert_eq!(
            extract_with(Some(&header), "").unwrap().unwrap().client_id,
            "a"
        );
    }

    #[test]
    fn malformed_basic_headers_are_invalid_request() {
        for h in [
            "Basic",
            "Basic !!!",
            &basic("no-colon"),
            &basic(":secret"),
            "Bearer abc",
            &basic("a:%FF"),
        ] {
            let e = extract_with(Some(h), "").unwrap_err();
            assert_eq!(e.error, ErrorCode::InvalidRequest, "{h}");
        }
    }

    #[test]
    fn post_credentials() {
        let c = extract_with(None, "client_id=a&client_secret=b")
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.method, c.client_id.as_str(), c.secret.expose()),
            (AuthMethod::ClientSecretPost, "a", "b")
        );
        assert!(
            extract_with(None, "client_secret=b").is_err(),
            "secret without id"
        );
    }

    #[test]
    fn two_methods_at_once_are_invalid_request() {
        let e = extract_with(Some(&basic("a:b")), "client_id=a&client_secret=b").unwrap_err();
        assert_eq!(e.error, ErrorCode::InvalidRequest);
        assert!(e.error_description.unwrap().contains("more than one"));
    }

    #[test]
    fn client_id_param_must_match_basic() {
        assert!(
            extract_with(Some(&basic("a:b")), "client_id=a")
                .unwrap()
                .is_some()
        );
        assert!(extract_with(Some(&basic("a:b")), "client_id=c").is_err());
    }

    /// Every method `extract` recognises is implemented, and nothing else is.
    #[test]
    fn implemented_methods_are_the_ones_extracted() {
        let basic = extract_with(Some(&basic("a:b")), "")
            .unwrap()
            .unwrap()
            .method;
        let post = extract_with(None, "client_id=a&client_secret=b")
            .unwrap()
            .unwrap()
            .method;
        let implemented: Vec<_> = AuthMethod::ALL
            .iter()
            .copied()
            .filter(|m| implements(*m))
            .collect();
        let none = extract_with(None, "client_id=a").unwrap().unwrap().method;
        assert_eq!(implemented, [basic, post, none]);
    }

    #[tokio::test]
    async fn a_client_without_a_secret_hash_never_authenticates_with_a_secret() {
        use crate::oauth::client::{ClientCredential, ClientId, ClientMetadata};
        let metadata = ClientMetadata::new()
            .grant(crate::oauth::client::GrantType::ClientCredentials)
            .methods(AuthMethod::ALL.iter().copied());
        let store = crate::store::MemoryClientStore::new([
            Client::new(
                ClientId::new("public"),
                ClientCredential::None,
                metadata.clone(),
            ),
            Client::new(
                ClientId::new("sealed"),
                ClientCredential::SealedSecret("v1.sealed".to_owned()),
                metadata,
            ),
        ]);
        for body in [
            "client_id=public&client_secret=x",
            "client_id=sealed&client_secret=v1.sealed",
            "client_id=sealed&client_secret=sealed:v1.sealed",
        ] {
            let presented = extract_with(None, body).unwrap();
            match authenticate(&store, presented).await {
                Err(AuthenticateError::Rejected(e)) => {
                    assert_eq!(e.error, ErrorCode::InvalidClient, "{body}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn no_credentials_is_none() {
        assert!(extract_with(None, "scope=a").unwrap().is_none());
    }
}
