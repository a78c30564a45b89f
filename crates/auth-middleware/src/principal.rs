//! The validated caller, as handlers see it.

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};
use serde_json::{Map, Value};

use crate::error::AuthError;

/// Who called: taken from a token that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// `sub`: the client id for client-credentials tokens, the user otherwise.
    pub subject: String,
    /// `client_id` (RFC 9068 §2.2), or `azp` when only that is present.
    pub client_id: Option<String>,
    /// Granted scopes, from a JSON array or an RFC 9068 space-delimited string.
    pub scopes: Vec<String>,
    /// Every claim of the token.
    pub claims: Map<String, Value>,
}

impl Principal {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    pub(crate) fn from_claims(claims: Map<String, Value>) -> Result<Self, AuthError> {
        let subject = match claims.get("sub") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(AuthError::invalid("the token has no sub claim")),
        };
        let client_id = ["client_id", "azp"]
            .iter()
            .find_map(|k| claims.get(*k)?.as_str().map(str::to_owned));
        let scopes = match claims.get("scope") {
            None => Vec::new(),
            Some(Value::String(s)) => s
                .split(' ')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    AuthError::invalid("the scope claim must be a string or an array of strings")
                })?,
            Some(_) => {
                return Err(AuthError::invalid(
                    "the scope claim must be a string or an array of strings",
                ));
            }
        };
        Ok(Self {
            subject,
            client_id,
            scopes,
            claims,
        })
    }
}

/// Handlers behind [`crate::require_scope`] take the principal as an argument. On a route
/// without the middleware it is a 401, never a silent anonymous caller.
impl FromRequest for Principal {
    type Error = AuthError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<std::sync::Arc<Principal>>()
                .map(|p| Principal::clone(p))
                .ok_or(AuthError::Missing),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn principal(v: Value) -> Result<Principal, AuthError> {
        Principal::from_claims(v.as_object().unwrap().clone())
    }

    #[test]
    fn scope_as_array_or_rfc9068_string() {
        let a = principal(json!({"sub": "c", "scope": ["a", "b"]})).unwrap();
        let s = principal(json!({"sub": "c", "scope": "a  b"})).unwrap();
        assert_eq!(a.scopes, s.scopes);
        assert!(a.has_scope("b") && !a.has_scope("c"));
        assert!(principal(json!({"sub": "c", "scope": 5})).is_err());
        assert!(principal(json!({"sub": "c", "scope": ["a", 1]})).is_err());
        assert!(principal(json!({"sub": "c"})).unwrap().scopes.is_empty());
    }

    #[test]
    fn subject_is_required_and_client_id_falls_back_to_azp() {
        assert!(principal(json!({"scope": "a"})).is_err());
        assert!(principal(json!({"sub": ""})).is_err());
        assert_eq!(
            principal(json!({"sub": "u", "azp": "web"}))
                .unwrap()
                .client_id
                .as_deref(),
            Some("web")
        );
        assert_eq!(
            principal(json!({"sub": "u", "azp": "web", "client_id": "cid"}))
                .unwrap()
                .client_id
                .as_deref(),
            Some("cid")
        );
    }
}
