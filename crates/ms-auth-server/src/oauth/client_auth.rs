//! Client authentication at the endpoints that authenticate clients (token, introspection,
//! revocation): `client_secret_basic` and `client_secret_post` (RFC 6749 §2.3.1),
//! `client_secret_jwt` and `private_key_jwt` (RFC 7523 §2.2, OpenID Connect Core §9; checked
//! in [`super::client_assertion`]), exactly one per request, and `none` for public clients
//! (RFC 6749 §2.1, RFC 7591 §2): a `client_id` alone, accepted only from a client registered
//! so. Every client uses the methods it registered, and only those.

use std::sync::{Arc, LazyLock};

use aws_lc_rs::digest::{SHA256, digest};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};

use super::{
    client::{AuthMethod, Client, ClientCredential, JwksSource},
    client_assertion::{self as assertion, ASSERTION_TYPE, ClaimRules, Peeked, Rejection},
    client_keys::{ClientKeys, FetchError},
    error::OAuthError,
    params::{Params, decode_component},
    secret::{ClientSecret, SecretHash},
};
use crate::{
    clock::UnixTime,
    settings::ClientAuthSettings,
    store::{ClientStore, StoreError, hot::Hot, sealing::Sealer},
};

/// What a request presents as proof, before it is checked.
#[derive(Debug)]
pub enum Proof {
    /// `client_secret_basic` or `client_secret_post`.
    Secret(ClientSecret),
    /// `client_secret_jwt` or `private_key_jwt`: the assertion and what its header says.
    Assertion {
        jwt: ClientSecret,
        peeked: Result<Peeked, Rejection>,
    },
    /// `none`.
    Nothing,
}

/// Credentials a request presents, before they are checked.
#[derive(Debug)]
pub struct PresentedCredentials {
    pub method: AuthMethod,
    pub client_id: String,
    pub proof: Proof,
}

/// Whether this server authenticates clients by `method`: what metadata advertises and what
/// a registration may name. Exhaustive, so that a new method is decided here.
pub const fn implements(method: AuthMethod) -> bool {
    match method {
        AuthMethod::ClientSecretBasic
        | AuthMethod::ClientSecretPost
        | AuthMethod::ClientSecretJwt
        | AuthMethod::PrivateKeyJwt
        | AuthMethod::None => true,
    }
}

const MORE_THAN_ONE: &str = "more than one client authentication method: use one of HTTP Basic, client_secret in the body, or client_assertion";

/// Reads the client's credentials from the `Authorization` header value and the parameters.
///
/// A `client_id` alone is the `none` method; `Ok(None)` when the request carries not even that.
pub fn extract(
    authorization: Option<&[u8]>,
    params: &Params,
) -> Result<Option<PresentedCredentials>, OAuthError> {
    let basic = authorization.map(parse_basic).transpose()?;
    let post_secret = params.get("client_secret");
    let assertion = extract_assertion(params)?;
    match (basic, post_secret, assertion) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
            Err(OAuthError::invalid_request(MORE_THAN_ONE))
        }
        (None, None, Some(presented)) => Ok(Some(presented)),
        (Some((client_id, secret)), None, None) => {
            if params.get("client_id").is_some_and(|id| id != client_id) {
                return Err(OAuthError::invalid_request(
                    "client_id does not match the Authorization header",
                ));
            }
            Ok(Some(PresentedCredentials {
                method: AuthMethod::ClientSecretBasic,
                client_id,
                proof: Proof::Secret(secret),
            }))
        }
        (None, Some(secret), None) => {
            let client_id = params.require("client_id")?;
            Ok(Some(PresentedCredentials {
                method: AuthMethod::ClientSecretPost,
                client_id: client_id.to_owned(),
                proof: Proof::Secret(ClientSecret::new(secret)),
            }))
        }
        (None, None, None) => Ok(params.get("client_id").map(|id| PresentedCredentials {
            method: AuthMethod::None,
            client_id: id.to_owned(),
            proof: Proof::Nothing,
        })),
    }
}

/// `client_assertion_type` and `client_assertion` (RFC 7521 §4.2), both or neither.
fn extract_assertion(params: &Params) -> Result<Option<PresentedCredentials>, OAuthError> {
    let (kind, jwt) = (
        params.get("client_assertion_type"),
        params.get("client_assertion"),
    );
    let jwt = match (kind, jwt) {
        (None, None) => return Ok(None),
        (Some(ASSERTION_TYPE), Some(jwt)) => jwt,
        (Some(ASSERTION_TYPE), None) => {
            return Err(OAuthError::invalid_request(
                "client_assertion is required with client_assertion_type",
            ));
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_request(
                "client_assertion_type is required with client_assertion",
            ));
        }
        (Some(_), _) => {
            return Err(OAuthError::invalid_request(format!(
                "unsupported client_assertion_type: the one supported is {ASSERTION_TYPE}"
            )));
        }
    };
    let peeked = assertion::peek(jwt);
    let method = peeked
        .as_ref()
        .map_or(AuthMethod::PrivateKeyJwt, |p| p.method);
    // RFC 7521 §4.2: client_id is optional; when present it must name the same client as
    // the assertion (checked with the claims: iss = sub = this id).
    let client_id = params
        .get("client_id")
        .map(str::to_owned)
        .or_else(|| peeked.as_ref().ok().and_then(|p| p.client_id.clone()))
        .unwrap_or_default();
    Ok(Some(PresentedCredentials {
        method,
        client_id,
        proof: Proof::Assertion {
            jwt: ClientSecret::new(jwt),
            peeked,
        },
    }))
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

fn waste_a_hash_check(secret: &[u8]) {
    if let Some(dummy) = DUMMY_HASH.as_ref() {
        let _ = dummy.verify(secret);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    #[error(transparent)]
    Rejected(OAuthError),
    #[error("client store failed: {0}")]
    Store(#[from] StoreError),
}

/// Everything client authentication reads: the clients, the replay set, the key that opens
/// sealed secrets, the clients' fetched key sets, and the assertion rules.
pub struct ClientAuthenticator {
    pub clients: Arc<dyn ClientStore>,
    pub hot: Hot,
    pub sealer: Arc<Sealer>,
    pub keys: Arc<ClientKeys>,
    /// The issuer identifier and the token endpoint's URL: an assertion's `aud` names one of
    /// them, or the URL of the endpoint it is presented at.
    pub issuer: String,
    pub token_endpoint: String,
    pub settings: ClientAuthSettings,
}

/// A refusal: counted by reason, logged by client id, answered as the one `invalid_client`.
fn rejected(client_id: Option<&str>, reason: &'static str) -> AuthenticateError {
    metrics::counter!("client_auth_failures_total", "reason" => reason).increment(1);
    match client_id {
        Some(id) => tracing::info!(client_id = %id, reason, "client authentication failed"),
        None => tracing::info!(reason, "client authentication failed"),
    }
    AuthenticateError::Rejected(OAuthError::invalid_client())
}

impl ClientAuthenticator {
    /// Checks presented credentials against the registered client, at the endpoint whose
    /// absolute URL is `endpoint_url`. Every failure — no credentials, unknown client, wrong
    /// secret, a bad assertion, a method the client may not use — is the same
    /// `invalid_client`, so that nothing tells them apart from outside.
    pub async fn authenticate(
        &self,
        presented: Option<PresentedCredentials>,
        endpoint_url: &str,
        now: UnixTime,
    ) -> Result<Arc<Client>, AuthenticateError> {
        let Some(presented) = presented else {
            return Err(rejected(None, "no_credentials"));
        };
        match presented.proof {
            Proof::Nothing => self.authenticate_public(&presented.client_id).await,
            Proof::Secret(secret) => {
                self.authenticate_secret(&presented.client_id, presented.method, &secret)
                    .await
            }
            Proof::Assertion { jwt, peeked } => {
                let client = self
                    .clients
                    .client(&presented.client_id)
                    .await?
                    .filter(|c| c.enabled())
                    .ok_or_else(|| rejected(None, "unknown_client"))?;
                let id = client.id.as_str();
                if !client.may_use_method(presented.method) {
                    return Err(rejected(Some(id), "method_not_allowed"));
                }
                let peeked = peeked.map_err(|r| rejected(Some(id), r.reason()))?;
                self.check_assertion(&client, jwt.expose(), &peeked, endpoint_url, now)
                    .await
                    .map_err(|e| match e {
                        Checked::Rejected(r) => rejected(Some(id), r.reason()),
                        Checked::Store(e) => AuthenticateError::Store(e),
                    })?;
                Ok(client)
            }
        }
    }

    async fn authenticate_public(&self, client_id: &str) -> Result<Arc<Client>, AuthenticateError> {
        // Nothing to check but that the client is registered as public: a confidential
        // client's id alone proves nothing.
        match self.clients.client(client_id).await? {
            Some(c) if c.enabled() && c.is_public() => Ok(c),
            _ => Err(rejected(None, "not_public")),
        }
    }

    async fn authenticate_secret(
        &self,
        client_id: &str,
        method: AuthMethod,
        secret: &ClientSecret,
    ) -> Result<Arc<Client>, AuthenticateError> {
        let secret = secret.expose().as_bytes();
        // A disabled client is as unknown as one never registered, and costs the same time.
        let found = self
            .clients
            .client(client_id)
            .await?
            .filter(|c| c.enabled());
        let Some(client) = found else {
            waste_a_hash_check(secret);
            return Err(rejected(None, "unknown_client"));
        };
        // A client without a secret hash (public, or one authenticating otherwise) never
        // authenticates with a secret; checking the dummy costs it the same time.
        let secret_ok = match client.credential.secret_hash() {
            Some(hash) => hash.verify(secret),
            None => {
                waste_a_hash_check(secret);
                false
            }
        };
        if !secret_ok {
            return Err(rejected(Some(client.id.as_str()), "bad_secret"));
        }
        if !client.may_use_method(method) {
            return Err(rejected(Some(client.id.as_str()), "method_not_allowed"));
        }
        Ok(client)
    }

    /// Signature, claims, then the `jti` spent in the hot state: a replay at any replica fails.
    async fn check_assertion(
        &self,
        client: &Client,
        jwt: &str,
        peeked: &Peeked,
        endpoint_url: &str,
        now: UnixTime,
    ) -> Result<(), Checked> {
        let alg = assertion::allowed_algorithm(
            peeked,
            client.metadata.token_endpoint_auth_signing_alg.as_deref(),
        )?;
        let claims = match (&client.credential, peeked.method) {
            (ClientCredential::SealedSecret(_), AuthMethod::ClientSecretJwt) => {
                let secret = client
                    .credential
                    .open_secret(&self.sealer, &client.id)
                    .and_then(Result::ok)
                    .ok_or(Rejection::NoKey)?;
                assertion::verify_hmac(jwt, alg, secret.expose().as_bytes())?
            }
            (ClientCredential::Jwks(source), AuthMethod::PrivateKeyJwt) => {
                self.verify_by_keys(source, jwt, alg, peeked.kid.as_deref())
                    .await?
            }
            // A method whose key material this client does not have.
            _ => return Err(Rejection::NoKey.into()),
        };
        let audiences = [
            self.issuer.clone(),
            self.token_endpoint.clone(),
            endpoint_url.to_owned(),
        ];
        let spendable = assertion::check_claims(
            &claims,
            &ClaimRules {
                client_id: client.id.as_str(),
                audiences: &audiences,
                now: now.numeric_date(),
                max_lifetime_secs: self.settings.assertion_max_lifetime_secs,
                leeway_secs: self.settings.assertion_leeway_secs,
            },
        )?;
        // The jti is client-chosen: hashed with the client id into a key of fixed size. A
        // replay set that cannot be asked is a refusal (503), never a pass.
        let key = format!(
            "assertion:{}",
            URL_SAFE_NO_PAD.encode(
                &digest(
                    &SHA256,
                    format!("{}\0{}", client.id, spendable.jti).as_bytes()
                )
                .as_ref()[..18]
            )
        );
        let until = UnixTime::from_secs(i64::try_from(spendable.until).unwrap_or(i64::MAX));
        if self
            .hot
            .first_use(&key, until, now)
            .await
            .map_err(Checked::Store)?
        {
            Ok(())
        } else {
            Err(Rejection::Replayed.into())
        }
    }

    /// `private_key_jwt`'s signature, by a registered key: the inline set, or the one at the
    /// `jwks_uri` — fetched again, at a bounded rate, when the assertion names a `kid` the
    /// cached set lacks.
    async fn verify_by_keys(
        &self,
        source: &JwksSource,
        jwt: &str,
        alg: jsonwebtoken::Algorithm,
        kid: Option<&str>,
    ) -> Result<assertion::AssertionClaims, Rejection> {
        // A refetch within its interval answers the set it has: no set at all is a failure.
        let unavailable = |_: FetchError| Rejection::KeysUnavailable;
        let keys = match source {
            JwksSource::Inline(inline) => inline.keys(),
            JwksSource::Uri(uri) => self.keys.keys(uri).await.map_err(unavailable)?,
        };
        let found = assertion::candidates(&keys, kid, alg);
        if !found.is_empty() {
            return assertion::verify_signature(jwt, alg, &found);
        }
        match (source, kid) {
            (JwksSource::Uri(uri), Some(_)) => {
                let keys = self.keys.refetch(uri).await.map_err(unavailable)?;
                let found = assertion::candidates(&keys, kid, alg);
                if found.is_empty() {
                    return Err(Rejection::UnknownKid);
                }
                assertion::verify_signature(jwt, alg, &found)
            }
            (_, Some(_)) => Err(Rejection::UnknownKid),
            (_, None) => Err(Rejection::NoKey),
        }
    }
}

/// An assertion check's outcome short of success.
enum Checked {
    Rejected(Rejection),
    Store(StoreError),
}

impl From<Rejection> for Checked {
    fn from(r: Rejection) -> Self {
        Self::Rejected(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    fn secret(c: &PresentedCredentials) -> &str {
        match &c.proof {
            Proof::Secret(s) => s.expose(),
            other => panic!("{other:?}"),
        }
    }

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
        assert_eq!(secret(&c), "service-client-jwt-secret");
    }

    #[test]
    fn basic_credentials_are_form_urldecoded() {
        // RFC 6749 §2.3.1: id and secret are application/x-www-form-urlencoded before base64.
        let c = extract_with(Some(&basic("my%3Aclient:p%40ss+word%25")), "")
            .unwrap()
            .unwrap();
        assert_eq!(c.client_id, "my:client");
        assert_eq!(secret(&c), "p@ss word%");
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
            (c.method, c.client_id.as_str(), secret(&c)),
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
        let hs = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";
        let es = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";
        let assertion =
            |jwt: &str| format!("client_assertion_type={ASSERTION_TYPE}&client_assertion={jwt}");
        let mut extracted: Vec<_> = [
            (Some(basic("a:b")), "client_id=a".to_owned()),
            (None, "client_id=a&client_secret=b".to_owned()),
            (None, assertion(hs)),
            (None, assertion(es)),
            (None, "client_id=a".to_owned()),
        ]
        .iter()
        .map(|(h, body)| {
            let c = extract_with(h.as_deref(), body).unwrap().unwrap();
            assert_eq!(c.client_id, "a", "{body}");
            c.method
        })
        .collect();
        extracted.sort_by_key(|m| m.as_str());
        let mut implemented: Vec<_> = AuthMethod::ALL
            .iter()
            .copied()
            .filter(|m| implements(*m))
            .collect();
        implemented.sort_by_key(|m| m.as_str());
        assert_eq!(implemented, extracted);
    }

    #[test]
    fn an_assertion_goes_alone_and_with_its_type() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";
        let with_type = format!("client_assertion_type={ASSERTION_TYPE}&client_assertion={jwt}");
        for (header, body) in [
            (Some(basic("a:b")), with_type.clone()),
            (None, format!("{with_type}&client_secret=x")),
            (None, format!("client_assertion={jwt}")),
            (None, format!("client_assertion_type={ASSERTION_TYPE}")),
            (
                None,
                format!("client_assertion_type=urn:other&client_assertion={jwt}"),
            ),
        ] {
            let e = extract_with(header.as_deref(), &body).unwrap_err();
            assert_eq!(e.error, ErrorCode::InvalidRequest, "{body}");
        }
        // A client_id beside it is kept, to be checked against iss and sub.
        let c = extract_with(None, &format!("{with_type}&client_id=b"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.client_id.as_str(), c.method),
            ("b", AuthMethod::ClientSecretJwt)
        );
    }

    #[tokio::test]
    async fn a_client_without_a_secret_hash_never_authenticates_with_a_secret() {
        use crate::oauth::client::{ClientCredential, ClientId, ClientMetadata};
        let metadata = ClientMetadata::new()
            .grant(crate::oauth::client::GrantType::ClientCredentials)
            .methods(AuthMethod::ALL.iter().copied());
        let store = Arc::new(crate::store::MemoryClientStore::new([
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
        ]));
        for body in [
            "client_id=public&client_secret=x",
            "client_id=sealed&client_secret=v1.sealed",
            "client_id=sealed&client_secret=sealed:v1.sealed",
        ] {
            let presented = extract_with(None, body).unwrap();
            match authenticator(store.clone())
                .authenticate(presented, "https://as/token", UnixTime::EPOCH)
                .await
            {
                Err(AuthenticateError::Rejected(e)) => {
                    assert_eq!(e.error, ErrorCode::InvalidClient, "{body}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    fn authenticator(clients: Arc<dyn ClientStore>) -> ClientAuthenticator {
        struct NoFetch;
        #[async_trait::async_trait]
        impl super::super::client_keys::JwksFetcher for NoFetch {
            async fn fetch(&self, _: &str) -> Result<serde_json::Value, FetchError> {
                Err(FetchError::Refused("tests fetch nothing"))
            }
        }
        let settings = ClientAuthSettings::default();
        ClientAuthenticator {
            clients,
            hot: Arc::new(crate::store::MemoryHot::default()),
            sealer: Arc::new(Sealer::random().unwrap()),
            keys: Arc::new(ClientKeys::new(Arc::new(NoFetch), settings.key_set_times())),
            issuer: "https://as".to_owned(),
            token_endpoint: "https://as/token".to_owned(),
            settings,
        }
    }

    #[test]
    fn no_credentials_is_none() {
        assert!(extract_with(None, "scope=a").unwrap().is_none());
    }
}
