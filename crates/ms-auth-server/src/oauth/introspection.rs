//! Token introspection (RFC 7662): whether a token this server issued is active now, and its
//! claims if it is. Anything else — expired, revoked, malformed, signed by another issuer,
//! unknown — is `{"active": false}` and nothing more (§2.2).
use crate::clock::UnixTime;

use serde_json::{Map, Value, json};

use super::{client::Client, error::EndpointError, issuer::Issuer};
use crate::store::HotState;

/// Whether `caller` may learn about `token`: a resource server about the tokens whose `aud`
/// names it, any client about its own.
pub fn may_introspect(caller: &Client, token: &auth_middleware::Principal) -> bool {
    if token.client_id.as_deref() == Some(caller.id.as_str()) {
        return true;
    }
    let Some(resource) = caller.resource_server() else {
        return false;
    };
    match token.claims.get("aud") {
        Some(Value::String(aud)) => aud == resource,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(resource)),
        _ => false,
    }
}

/// The claims copied from an active token into the response (RFC 7662 §2.2).
const CLAIMS: &[&str] = &["client_id", "sub", "exp", "iat", "nbf", "aud", "iss", "jti"];

/// The introspection response for `token` as `caller` asks for it at `now`: the token checked
/// by `issuer`, its `jti` against the `denylist`. Fails only when the denylist cannot be asked
/// (then nobody can say the token is active).
pub async fn introspect(
    issuer: &Issuer,
    denylist: &dyn HotState,
    caller: &Client,
    token: &str,
    now: UnixTime,
) -> Result<Value, EndpointError> {
    let inactive = json!({ "active": false });
    let Some(principal) = issuer.verify_own(token, now) else {
        return Ok(inactive);
    };
    let Some(jti) = principal.claims.get("jti").and_then(Value::as_str) else {
        return Ok(inactive);
    };
    // RFC 7662 §4: "the authorization server MUST determine whether or not the token can be
    // used at the protected resource making the introspection call"; one that may not gets
    // `active: false` like any other token it may not see (§2.2).
    if !may_introspect(caller, &principal) {
        tracing::debug!(caller = %caller.id, "introspection of a token meant for another resource");
        return Ok(inactive);
    }
    if denylist.is_denied(jti, now).await? {
        return Ok(inactive);
    }
    tracing::debug!(caller = %caller.id, "introspected an active token");
    let mut out = Map::new();
    out.insert("active".to_owned(), Value::Bool(true));
    out.insert(
        "scope".to_owned(),
        Value::String(principal.scopes.join(" ")),
    );
    for claim in CLAIMS {
        if let Some(v) = principal.claims.get(*claim) {
            out.insert((*claim).to_owned(), v.clone());
        }
    }
    out.insert("token_type".to_owned(), Value::String("Bearer".to_owned()));
    Ok(Value::Object(out))
}
