//! The ID token (OIDC Core §2, §3.1.3.6): who signed in, when and how, for which client,
//! signed with the active key (`typ` `JWT`). `at_hash` binds it to the access token issued
//! beside it; `nonce` to the authorization request.

use aws_lc_rs::digest::{SHA256, SHA512, digest};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::{
    clock::UnixTime,
    keys::{KeyError, SigningAlgorithm, Typ},
    oauth::issuer::Issuer,
};

/// What an ID token says beyond the issuer's own claims.
#[derive(Debug, Clone)]
pub struct IdTokenFacts<'a> {
    pub subject: &'a str,
    pub client_id: &'a str,
    pub nonce: Option<&'a str>,
    pub auth_time: UnixTime,
    pub acr: Option<&'a str>,
    pub amr: &'a [String],
    pub sid: Option<&'a str>,
    /// The access token issued with it, for `at_hash`.
    pub access_token: Option<&'a str>,
    /// User claims released by scope (OIDC Core §5.4: only when no access token is issued;
    /// otherwise the client asks userinfo).
    pub claims: Map<String, Value>,
    pub ttl_secs: u64,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    /// OIDC Core §2: the party to which the ID token was issued.
    azp: &'a str,
    exp: u64,
    iat: u64,
    auth_time: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acr: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    amr: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    at_hash: Option<String>,
    #[serde(flatten)]
    user: &'a Map<String, Value>,
}

/// OIDC Core §3.1.3.6: "the base64url encoding of the left-most half of the hash of the
/// octets of the ASCII representation of the access_token value, where the hash algorithm
/// used is the hash algorithm used in the alg Header Parameter of the ID Token's JOSE
/// Header" — SHA-256 for RS256 and ES256, SHA-512 for EdDSA with Ed25519.
pub fn half_hash(alg: SigningAlgorithm, value: &str) -> String {
    let hash = match alg {
        SigningAlgorithm::RS256 | SigningAlgorithm::ES256 => digest(&SHA256, value.as_bytes()),
        SigningAlgorithm::EdDSA => digest(&SHA512, value.as_bytes()),
    };
    let bytes = hash.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}

impl Issuer {
    /// Signs an ID token with the active key; `at_hash` is computed for that same key's
    /// algorithm, so a rotation between the two cannot mismatch them.
    pub fn id_token(&self, facts: &IdTokenFacts<'_>, now: UnixTime) -> Result<String, KeyError> {
        let keys = self.keys.current();
        let key = keys.active();
        let claims = Claims {
            iss: &self.iss,
            sub: facts.subject,
            aud: facts.client_id,
            azp: facts.client_id,
            exp: now.plus_secs(facts.ttl_secs as i64).numeric_date(),
            iat: now.numeric_date(),
            auth_time: facts.auth_time.numeric_date(),
            nonce: facts.nonce,
            acr: facts.acr,
            amr: facts.amr,
            sid: facts.sid,
            at_hash: facts.access_token.map(|t| half_hash(key.algorithm(), t)),
            user: &facts.claims,
        };
        key.sign(Typ::IdToken, &claims)
    }

    /// The `sub` of an ID token this server issued (`id_token_hint`, OIDC Core §3.1.2.1).
    pub fn id_token_hint_subject(&self, token: &str) -> Option<String> {
        self.id_token_hint(token).map(|h| h.subject)
    }

    /// What an ID token this server issued says of its session (`id_token_hint`, OIDC Core
    /// §3.1.2.1, RP-Initiated Logout §2): the signature and issuer must hold, and an expired
    /// one still identifies its user and client (checked as at time 0 with no upper bound on
    /// `exp`: RP-Initiated Logout §4 "the OP SHOULD accept ID Tokens … when … expired").
    pub fn id_token_hint(&self, token: &str) -> Option<IdTokenHint> {
        let settings = auth_middleware::VerifierSettings {
            issuer: self.iss.clone(),
            require_at_jwt_typ: false,
            // Expired hints are accepted: they only say who is expected.
            leeway_secs: 10 * 365 * 24 * 3600,
            token_cache_size: 0,
            ..auth_middleware::VerifierSettings::default()
        };
        let keys = self.keys.current();
        let p = auth_middleware::verify_any_audience(&settings, keys.verify_keys(), token, 0)
            .ok()
            // An access token (it has `nbf`, refused at time 0) or any other JWT is no hint.
            .filter(|p| p.claims.contains_key("auth_time"))?;
        let text = |name: &str| {
            p.claims
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        // This server's ID tokens have one audience, the client, and `azp` the same.
        let client_id = text("azp").or_else(|| text("aud"));
        Some(IdTokenHint {
            client_id,
            sid: text("sid"),
            subject: p.subject,
        })
    }
}

/// Who an `id_token_hint` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenHint {
    pub subject: String,
    /// The client it was issued to.
    pub client_id: Option<String>,
    /// The session it was issued in.
    pub sid: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OIDC Core §A.3 / the `at_hash` of its example: the access token
    /// "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" under RS256 hashes to
    /// "77QmUPtjPfzWtF2AnpK9RQ".
    #[test]
    fn at_hash_matches_the_specs_example() {
        assert_eq!(
            half_hash(
                SigningAlgorithm::RS256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(half_hash(SigningAlgorithm::EdDSA, "x").len(), 43);
    }
}
