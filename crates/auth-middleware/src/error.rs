//! Bearer-token errors on the wire (RFC 6750 §3): status, `WWW-Authenticate` challenge, JSON body.

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use serde_json::json;

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No bearer token: RFC 6750 §3.1 says the challenge then carries no error code.
    #[error("a bearer token is required")]
    Missing,
    /// The token is malformed, expired, forged, or otherwise unacceptable.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The `kid` is not in the key set (the verifier may refetch once before giving up).
    #[error("the token's kid is not among the issuer's keys")]
    UnknownKid,
    /// The token is good but lacks the scope the route needs.
    #[error("the token lacks scope {0}")]
    InsufficientScope(String),
    /// No key set could be fetched yet: the service cannot judge any token.
    #[error("the issuer's keys are not available yet")]
    KeysUnavailable,
    /// A route that checks revocation could not ask the issuer (or was not configured to).
    #[error("the token's revocation status cannot be checked now")]
    RevocationUnavailable,
}

impl AuthError {
    /// A short, fixed label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::InvalidToken(_) | Self::UnknownKid => "invalid_token",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::KeysUnavailable => "keys_unavailable",
            Self::RevocationUnavailable => "revocation_unavailable",
        }
    }

    pub(crate) fn invalid(description: impl Into<String>) -> Self {
        Self::InvalidToken(description.into())
    }
}

/// Challenge details the error response needs besides the error: set by the middleware from
/// the verifier's settings and kept in the error response's extensions.
#[derive(Debug, Clone, Default)]
pub struct Challenge {
    pub realm: String,
    pub resource_metadata: Option<String>,
}

impl AuthError {
    /// The full response, with the RFC 6750 challenge for `challenge`.
    pub fn response(&self, challenge: &Challenge) -> HttpResponse {
        let status = self.status_code();
        let mut params = vec![format!("realm=\"{}\"", quoted(&challenge.realm))];
        let body = match self {
            Self::Missing => {
                json!({ "error": "unauthorized", "error_description": self.to_string() })
            }
            Self::InvalidToken(_) | Self::UnknownKid => {
                params.push("error=\"invalid_token\"".to_owned());
                params.push(format!(
                    "error_description=\"{}\"",
                    quoted(&self.to_string())
                ));
                json!({ "error": "invalid_token", "error_description": self.to_string() })
            }
            Self::InsufficientScope(scope) => {
                params.push("error=\"insufficient_scope\"".to_owned());
                params.push(format!("scope=\"{}\"", quoted(scope)));
                json!({ "error": "insufficient_scope", "error_description": self.to_string(), "scope": scope })
            }
            Self::KeysUnavailable | Self::RevocationUnavailable => {
                return HttpResponse::build(status)
                    .insert_header((header::RETRY_AFTER, "5"))
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .json(json!({ "error": "temporarily_unavailable", "error_description": self.to_string() }));
            }
        };
        if let Some(url) = &challenge.resource_metadata {
            params.push(format!("resource_metadata=\"{}\"", quoted(url)));
        }
        HttpResponse::build(status)
            .insert_header((
                header::WWW_AUTHENTICATE,
                format!("Bearer {}", params.join(", ")),
            ))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(body)
    }
}

/// RFC 6750 §3: quoted values are limited to %x20-21 / %x23-5B / %x5D-7E; anything else is
/// replaced, so a client-supplied string can never break the header.
fn quoted(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, ' ' | '!' | '#'..='[' | ']'..='~') {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// Used when a [`crate::Principal`] is extracted on a route without the middleware: no
/// challenge details are at hand there, so the realm is generic.
impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Missing | Self::InvalidToken(_) | Self::UnknownKid => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Self::KeysUnavailable | Self::RevocationUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.response(&Challenge {
            realm: "resource".to_owned(),
            resource_metadata: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge_of(e: &AuthError) -> String {
        let c = Challenge {
            realm: "customer-service".into(),
            resource_metadata: Some("http://x/.well-known/r".into()),
        };
        e.response(&c)
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn challenges_follow_rfc6750_section_3() {
        assert_eq!(
            challenge_of(&AuthError::Missing),
            r#"Bearer realm="customer-service", resource_metadata="http://x/.well-known/r""#
        );
        assert_eq!(
            challenge_of(&AuthError::InsufficientScope("customer.write".into())),
            r#"Bearer realm="customer-service", error="insufficient_scope", scope="customer.write", resource_metadata="http://x/.well-known/r""#
        );
        let invalid = challenge_of(&AuthError::invalid("bad \"quote\" \\ é"));
        assert!(
            invalid.contains(
                r#"error="invalid_token", error_description="invalid token: bad ?quote? ? ?""#
            ),
            "{invalid}"
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(AuthError::Missing.status_code(), 401);
        assert_eq!(AuthError::UnknownKid.status_code(), 401);
        assert_eq!(AuthError::InsufficientScope("a".into()).status_code(), 403);
        let unavailable = AuthError::KeysUnavailable.response(&Challenge::default());
        assert_eq!(unavailable.status(), 503);
        assert_eq!(unavailable.headers().get(header::RETRY_AFTER).unwrap(), "5");
    }
}
