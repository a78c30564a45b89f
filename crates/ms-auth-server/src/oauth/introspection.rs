//! Token introspection (RFC 7662): whether a token this server issued is active now, and its
//! claims if it is. Anything else — expired, revoked, malformed, signed by another issuer,
//! unknown — is `{"active": false}` and nothing more (§2.2).

use serde_json::{Map, Value, json};

use super::{
    client::Client,
    server::{AuthorizationServer, TokenEndpointError},
};

/// The claims copied from an active token into the response (RFC 7662 §2.2).
const CLAIMS: &[&str] = &["client_id", "sub", "exp", "iat", "nbf", "aud", "iss", "jti"];

impl AuthorizationServer {
    /// `token` if it is an access token of this server's, valid at `now` — checked by the same
    /// rules every resource server applies, against the keys this server publishes.
    pub fn own_token(&self, token: &str, now: u64) -> Option<auth_middleware::Principal> {
        auth_middleware::verify(
            &self.own_tokens,
            self.keys.current().verify_keys(),
            token,
            now,
        )
        .ok()
    }

    /// The introspection response for `token` as `caller` asks for it at `now`. Fails only
    /// when the denylist cannot be asked (then nobody can say the token is active).
    pub async fn introspect(
        &self,
        caller: &Client,
        token: &str,
        now: u64,
    ) -> Result<Value, TokenEndpointError> {
        let inactive = json!({ "active": false });
        let Some(principal) = self.own_token(token, now) else {
            return Ok(inactive);
        };
        let Some(jti) = principal.claims.get("jti").and_then(Value::as_str) else {
            return Ok(inactive);
        };
        if self.hot.is_denied(jti, now as i64).await? {
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
}
