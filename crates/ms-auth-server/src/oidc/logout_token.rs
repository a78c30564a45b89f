//! The logout token (OpenID Connect Back-Channel Logout 1.0 §2.4): a JWT with `typ`
//! `logout+jwt` (§2.4: "explicitly typed"), signed with the active key, saying which session
//! of which user ended. §2.4: "A Logout Token MUST NOT contain a nonce Claim", so that it
//! can never pass as an ID token.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::{
    clock::UnixTime,
    keys::{KeyError, Typ},
    oauth::issuer::Issuer,
};

/// §2.4: the `events` member that makes a JWT a logout token.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How long a logout token is valid: §2.4 RECOMMENDS "no more than two minutes" in the future.
pub const LOGOUT_TOKEN_TTL_SECS: i64 = 120;

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    jti: &'a str,
    events: Map<String, Value>,
    sid: &'a str,
}

/// Which session ended, for whom.
#[derive(Debug, Clone, Copy)]
pub struct LogoutFacts<'a> {
    pub subject: &'a str,
    pub client_id: &'a str,
    pub sid: &'a str,
    /// Unique per token (§2.4 `jti`): the relying party may refuse a replay by it.
    pub jti: &'a str,
}

impl Issuer {
    /// Signs a logout token for `facts`, issued at `now`.
    pub fn logout_token(&self, facts: &LogoutFacts<'_>, now: UnixTime) -> Result<String, KeyError> {
        let mut events = Map::new();
        events.insert(BACKCHANNEL_LOGOUT_EVENT.to_owned(), json!({}));
        let claims = Claims {
            iss: &self.iss,
            sub: facts.subject,
            aud: facts.client_id,
            iat: now.numeric_date(),
            exp: now.plus_secs(LOGOUT_TOKEN_TTL_SECS).numeric_date(),
            jti: facts.jti,
            events,
            sid: facts.sid,
        };
        self.keys.current().active().sign(Typ::LogoutToken, &claims)
    }
}
