//! The registration request (RFC 7591 §2, §3.1) and the update request (RFC 7592 §2.2): a
//! JSON object read field by field, so that each refusal names its field, into the
//! [`ClientMetadata`] a registration may set. Fields RFC 7591 does not define (first-party,
//! resource server, audiences, lifetimes, PKCE opt-outs, owner) are not read: RFC 7591 §2
//! says "the authorization server MUST ignore any client metadata sent by the client that it
//! does not understand", and no registration may set what only an operator may.

use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::{RegistrationError, refused};
use crate::{
    oauth::{
        client::{
            AuthMethod, Client, ClientCredential, ClientMetadata, GrantType, RedirectUri,
            ResponseType,
        },
        client_auth,
        error::{ErrorCode, OAuthError},
        scope::ScopeSet,
    },
    store::sealing::Sealer,
};

/// What a registration asks for, before it is checked.
#[derive(Debug, Clone)]
pub struct RegistrationRequest {
    /// Exactly one method: `token_endpoint_auth_method`.
    pub method: AuthMethod,
    pub metadata: ClientMetadata,
}

/// The fields of the Client Information Response a client must not send back in an update
/// (RFC 7592 §2.2: "MUST NOT include the "registration_access_token",
/// "registration_client_uri", "client_secret_expires_at", or "client_id_issued_at" fields").
const SERVER_ONLY: [&str; 4] = [
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
];

impl RegistrationRequest {
    /// The registration request in `body` (RFC 7591 §3.1); `default_scope` when it names
    /// none (RFC 7591 §2: the server "MAY register a client with a default set of scopes").
    pub fn parse(body: &[u8], default_scope: &ScopeSet) -> Result<Self, RegistrationError> {
        Self::from_object(&object(body)?, default_scope)
    }

    /// The update request in `body` for `current` (RFC 7592 §2.2): the whole registration
    /// again, with the client's own `client_id`, none of the fields only the server sets, and
    /// no secret but the current one — "the client MUST NOT be allowed to overwrite its
    /// existing client secret with its own chosen value". Omitted fields are cleared, as
    /// "omitted fields MUST be treated as null or empty values by the server".
    pub fn parse_update(
        body: &[u8],
        current: &Client,
        default_scope: &ScopeSet,
        sealer: &Sealer,
    ) -> Result<Self, RegistrationError> {
        let fields = object(body)?;
        if let Some(name) = SERVER_ONLY.iter().find(|f| fields.contains_key(**f)) {
            return Err(OAuthError::invalid_request(format!(
                "{name} is the server's: leave it out of an update (RFC 7592 §2.2)"
            ))
            .into());
        }
        match fields.get("client_id") {
            Some(Value::String(id)) if id == current.id.as_str() => {}
            Some(_) => {
                return Err(OAuthError::invalid_request(
                    "client_id must be this registration's (RFC 7592 §2.2)",
                )
                .into());
            }
            None => {
                return Err(OAuthError::invalid_request(
                    "client_id is required in an update (RFC 7592 §2.2)",
                )
                .into());
            }
        }
        match fields.get("client_secret") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if is_current_secret(current, s, sealer) => {}
            Some(_) => {
                return Err(OAuthError::invalid_request(
                    "client_secret must be the current one: a client never chooses its secret (RFC 7592 §2.2)",
                )
                .into());
            }
        }
        Self::from_object(&fields, default_scope)
    }

    fn from_object(
        fields: &Map<String, Value>,
        default_scope: &ScopeSet,
    ) -> Result<Self, RegistrationError> {
        let f = Fields(fields);
        refuse_software_statement(&f)?;
        let method = match f.string("token_endpoint_auth_method")? {
            // RFC 7591 §2: "If unspecified or omitted, the default is "client_secret_basic"".
            None => AuthMethod::ClientSecretBasic,
            Some(name) => named(AuthMethod::ALL, AuthMethod::as_str, &name).ok_or_else(|| {
                let supported: Vec<_> = AuthMethod::ALL
                    .iter()
                    .filter(|m| client_auth::implements(**m))
                    .map(|m| m.as_str())
                    .collect();
                refused(
                    "token_endpoint_auth_method",
                    format!(
                        "unknown method {name:?} (supported: {})",
                        supported.join(", ")
                    ),
                )
            })?,
        };
        let grant_types = match f.strings("grant_types")? {
            // RFC 7591 §2: "If omitted, the default behavior is that the client will use only
            // the "authorization_code" Grant Type."
            None => vec![GrantType::AuthorizationCode],
            Some(names) => each(&names, "grant_types", |n| {
                named(GrantType::ALL, GrantType::as_str, n)
            })?,
        };
        let response_types = match f.strings("response_types")? {
            // RFC 7591 §2 defaults to "code", which RFC 7591 §2.1 ties to authorization_code:
            // a client that registers other grants only is given none rather than an
            // inconsistent default.
            None if grant_types.contains(&GrantType::AuthorizationCode) => {
                vec![ResponseType::Code]
            }
            None => Vec::new(),
            Some(names) => each(&names, "response_types", ResponseType::parse)?,
        };
        let scope = match f.string_or_empty("scope")? {
            None => default_scope.clone(),
            Some(s) => ScopeSet::parse_param(&s).map_err(|e| {
                refused(
                    "scope",
                    e.error_description.unwrap_or_else(|| "malformed".into()),
                )
            })?,
        };
        let metadata = ClientMetadata {
            redirect_uris: uris(&f, "redirect_uris")?,
            grant_types,
            response_types,
            token_endpoint_auth_methods: vec![method],
            token_endpoint_auth_signing_alg: f.string("token_endpoint_auth_signing_alg")?,
            jwks: f.object("jwks")?,
            jwks_uri: f.string("jwks_uri")?,
            client_name: f.string("client_name")?,
            scope: scope.clone(),
            post_logout_redirect_uris: uris(&f, "post_logout_redirect_uris")?,
            backchannel_logout_uri: f.string("backchannel_logout_uri")?,
            contacts: f.strings("contacts")?.unwrap_or_default(),
            client_uri: f.string("client_uri")?,
            logo_uri: f.string("logo_uri")?,
            tos_uri: f.string("tos_uri")?,
            policy_uri: f.string("policy_uri")?,
            software_id: f.string("software_id")?,
            software_version: f.string("software_version")?,
            // RFC 6749 §3.3: a request naming no scope is granted what the client registered.
            default_scopes: Some(scope.clone()),
            // Never first-party, never a resource server, the default lifetime, PKCE.
            ..ClientMetadata::default()
        };
        Ok(Self { method, metadata })
    }
}

/// The body as a JSON object; anything else is `invalid_client_metadata`.
fn object(body: &[u8]) -> Result<Map<String, Value>, RegistrationError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(metadata("the request body must be a JSON object")),
        Err(e) => Err(metadata(format!("the request body is not JSON: {e}"))),
    }
}

fn metadata(description: impl Into<String>) -> RegistrationError {
    OAuthError::new(ErrorCode::InvalidClientMetadata, description).into()
}

/// Whether `presented` is `current`'s secret, checked by its credential: against the hash, or
/// the sealed secret opened and compared in constant time.
fn is_current_secret(current: &Client, presented: &str, sealer: &Sealer) -> bool {
    match &current.credential {
        ClientCredential::SecretHash(hash) => hash.verify(presented.as_bytes()),
        ClientCredential::SealedSecret(_) => current
            .credential
            .open_secret(sealer, &current.id)
            .and_then(Result::ok)
            .is_some_and(|s| bool::from(s.expose().as_bytes().ct_eq(presented.as_bytes()))),
        ClientCredential::None | ClientCredential::Jwks(_) => false,
    }
}

/// No software-statement issuer can be configured yet: a statement is refused rather than
/// ignored, so that a client relying on what it asserts knows. RFC 7591 §3.2.2:
/// `invalid_software_statement` when it is not even a signed JWT (three base64url parts, a
/// JSON header naming an `alg`), `unapproved_software_statement` otherwise.
fn refuse_software_statement(f: &Fields<'_>) -> Result<(), RegistrationError> {
    let Some(value) = f.get("software_statement") else {
        return Ok(());
    };
    let is_jws = value.as_str().is_some_and(|jwt| {
        let parts: Vec<&str> = jwt.split('.').collect();
        parts.len() == 3
            && parts.iter().all(|p| !p.is_empty())
            && base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, parts[0])
                .ok()
                .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
                .is_some_and(|h| h.get("alg").is_some_and(Value::is_string))
    });
    let (code, description) = if is_jws {
        (
            ErrorCode::UnapprovedSoftwareStatement,
            "software_statement: no software statement issuer is trusted here",
        )
    } else {
        (
            ErrorCode::InvalidSoftwareStatement,
            "software_statement: not a signed JWT (RFC 7591 §2.3)",
        )
    };
    Err(OAuthError::new(code, description).into())
}

/// The registered name in `all` that is `name`.
fn named<T: Copy>(all: &[T], as_str: fn(T) -> &'static str, name: &str) -> Option<T> {
    all.iter().copied().find(|v| as_str(*v) == name)
}

/// Each of `names` read by `read` (duplicates dropped, order kept), or a refusal naming
/// `field` and the value.
fn each<T: PartialEq>(
    names: &[String],
    field: &str,
    read: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, RegistrationError> {
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let v = read(n).ok_or_else(|| refused(field, format!("unknown value {n:?}")))?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// A list of redirect URIs: each absolute and without a fragment (RFC 6749 §3.1.2).
fn uris(f: &Fields<'_>, field: &str) -> Result<Vec<RedirectUri>, RegistrationError> {
    f.strings(field)?
        .unwrap_or_default()
        .iter()
        .map(|u| RedirectUri::parse(u).map_err(|e| refused(field, e)))
        .collect()
}

/// The request's fields; `null` is as absent (RFC 7592 §2.2 treats them alike).
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A non-empty string.
    fn string(&self, name: &str) -> Result<Option<String>, RegistrationError> {
        match self.string_or_empty(name)? {
            Some(s) if s.is_empty() => Err(refused(name, "must not be empty")),
            other => Ok(other),
        }
    }

    fn string_or_empty(&self, name: &str) -> Result<Option<String>, RegistrationError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(refused(name, "must be a string")),
        }
    }

    fn strings(&self, name: &str) -> Result<Option<Vec<String>>, RegistrationError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        value
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
            })
            .map(Some)
            .ok_or_else(|| refused(name, "must be an array of strings"))
    }

    fn object(&self, name: &str) -> Result<Option<Value>, RegistrationError> {
        match self.get(name) {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
            Some(_) => Err(refused(name, "must be a JSON object")),
        }
    }
}
