//! Validation of a JWT access token (RFC 9068 §4, RFC 7519 §7.2, RFC 8725): a pure function
//! of the token, the key set, the settings and the time.

use jsonwebtoken::decode_header;
use serde_json::{Map, Value};

use crate::{
    error::AuthError,
    keys::{ALLOWED_ALGORITHMS, KeySet},
    principal::Principal,
    settings::VerifierSettings,
};

/// Checks `token` at `now` (Unix seconds) and returns who it stands for.
///
/// Refused: oversize tokens; `alg` outside the allow-list (so `none` and every HMAC); a `typ`
/// other than `at+jwt` when required; no `kid` or an unknown one; a header `alg` other than
/// the key's; a bad signature; `exp` passed or `nbf` ahead (beyond the leeway); `iss` not the
/// configured issuer; `aud` not among the configured audiences (when any are).
pub fn verify(
    settings: &VerifierSettings,
    keys: &KeySet,
    token: &str,
    now: u64,
) -> Result<Principal, AuthError> {
    if token.len() > settings.max_token_bytes {
        return Err(AuthError::invalid(format!(
            "the token is longer than {} bytes",
            settings.max_token_bytes
        )));
    }
    let header = decode_header(token).map_err(|_| AuthError::invalid("malformed token"))?;
    if !ALLOWED_ALGORITHMS.contains(&header.alg) {
        return Err(AuthError::invalid(format!(
            "algorithm {:?} is not accepted",
            header.alg
        )));
    }
    if settings.require_at_jwt_typ {
        let typ = header.typ.as_deref().unwrap_or_default();
        if !typ.eq_ignore_ascii_case("at+jwt") && !typ.eq_ignore_ascii_case("application/at+jwt") {
            return Err(AuthError::invalid(
                "the token is not an access token (typ must be at+jwt)",
            ));
        }
    }
    let kid = header
        .kid
        .as_deref()
        .ok_or_else(|| AuthError::invalid("the token has no kid"))?;
    let key = keys.get(kid).ok_or(AuthError::UnknownKid)?;
    if key.alg != header.alg {
        return Err(AuthError::invalid("the token's alg does not match its key"));
    }
    let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &key.validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                AuthError::invalid("bad signature")
            }
            _ => AuthError::invalid("malformed token"),
        })?
        .claims;
    check_claims(settings, &claims, now)?;
    Principal::from_claims(claims)
}

fn check_claims(
    settings: &VerifierSettings,
    claims: &Map<String, Value>,
    now: u64,
) -> Result<(), AuthError> {
    let leeway = settings.leeway_secs;
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or_else(|| AuthError::invalid("the token has no exp"))?;
    if now > exp.saturating_add(leeway) {
        return Err(AuthError::invalid("the token has expired"));
    }
    match claims.get("nbf") {
        None => {}
        Some(nbf) => {
            let nbf = nbf
                .as_u64()
                .ok_or_else(|| AuthError::invalid("nbf is not a number"))?;
            if now.saturating_add(leeway) < nbf {
                return Err(AuthError::invalid("the token is not valid yet"));
            }
        }
    }
    if claims.get("iss").and_then(Value::as_str) != Some(settings.issuer.as_str()) {
        return Err(AuthError::invalid("the token is from another issuer"));
    }
    if !settings.audience.is_empty() {
        let fits = |a: &str| settings.audience.iter().any(|want| want == a);
        let ok = match claims.get("aud") {
            Some(Value::String(a)) => fits(a),
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(fits),
            _ => false,
        };
        if !ok {
            return Err(AuthError::invalid(
                "the token is meant for another audience",
            ));
        }
    }
    Ok(())
}
