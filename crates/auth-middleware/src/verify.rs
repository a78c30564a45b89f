//! Validation of a JWT access token (RFC 9068 §4, RFC 7519 §7.2, RFC 8725): a pure function
//! of the token, the key set, the settings and the time.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::Algorithm;
use serde::Deserialize;
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
/// configured issuer; `aud` not naming one of the configured audiences. RFC 9068 §4: the
/// resource server "MUST validate that the aud claim contains a resource indicator value
/// corresponding to an identifier the resource server expects for itself" — with no audience
/// configured every token is refused, never every token accepted.
pub fn verify(
    settings: &VerifierSettings,
    keys: &KeySet,
    token: &str,
    now: u64,
) -> Result<Principal, AuthError> {
    verify_with(settings, keys, token, now, true)
}

/// As [`verify`] without the audience check: for the issuer itself, which introspects and
/// revokes tokens meant for every one of its resources and checks the audience per caller.
pub fn verify_any_audience(
    settings: &VerifierSettings,
    keys: &KeySet,
    token: &str,
    now: u64,
) -> Result<Principal, AuthError> {
    verify_with(settings, keys, token, now, false)
}

fn verify_with(
    settings: &VerifierSettings,
    keys: &KeySet,
    token: &str,
    now: u64,
    check_audience: bool,
) -> Result<Principal, AuthError> {
    let jws = Jws::parse(token, settings.max_token_bytes)?;
    if settings.require_at_jwt_typ {
        let typ = jws.typ().unwrap_or_default();
        if !typ.eq_ignore_ascii_case("at+jwt") && !typ.eq_ignore_ascii_case("application/at+jwt") {
            return Err(AuthError::invalid(
                "the token is not an access token (typ must be at+jwt)",
            ));
        }
    }
    let claims = jws.verify(keys)?;
    check_claims(settings, &claims, now, check_audience)?;
    Principal::from_claims(claims)
}

/// A compact JWS (RFC 7515 §7.1) whose header was read, not yet verified: any signed JWT of
/// the issuer's (an access token here; an ID or logout token for a relying party).
pub struct Jws<'a> {
    token: &'a str,
    header: JwsHeader,
    alg: Algorithm,
}

impl<'a> Jws<'a> {
    /// Reads the header. Refused: more than `max_bytes`; not three base64url parts; `alg`
    /// outside the allow-list (so `none` and every HMAC); any `crit`.
    pub fn parse(token: &'a str, max_bytes: usize) -> Result<Self, AuthError> {
        if token.len() > max_bytes {
            return Err(AuthError::invalid(format!(
                "the token is longer than {max_bytes} bytes"
            )));
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let header_json = URL_SAFE_NO_PAD
            .decode(header_b64)
            .map_err(|_| malformed())?;
        let header: JwsHeader = serde_json::from_slice(&header_json).map_err(|_| malformed())?;
        let alg = match header.alg.as_str() {
            "RS256" => Algorithm::RS256,
            "PS256" => Algorithm::PS256,
            "ES256" => Algorithm::ES256,
            "EdDSA" => Algorithm::EdDSA,
            other => {
                let shown: String = other.chars().take(16).collect();
                return Err(AuthError::invalid(format!(
                    "algorithm {shown:?} is not accepted"
                )));
            }
        };
        debug_assert!(ALLOWED_ALGORITHMS.contains(&alg));
        // RFC 7515 §4.1.11: no extension is understood here, so any `crit` must be refused.
        if header.crit.is_some() {
            return Err(AuthError::invalid(
                "critical header extensions are not supported",
            ));
        }
        Ok(Self { token, header, alg })
    }

    /// The header's `typ`, if any.
    pub fn typ(&self) -> Option<&str> {
        self.header.typ.as_deref()
    }

    /// Checks the signature with the key `kid` names in `keys` and returns the claims.
    /// Refused: no `kid`; an unknown one ([`AuthError::UnknownKid`]: the caller may refetch
    /// the key set once); a header `alg` other than the key's; a bad signature; claims that
    /// are not a JSON object.
    pub fn verify(self, keys: &KeySet) -> Result<Map<String, Value>, AuthError> {
        let kid = self
            .header
            .kid
            .as_deref()
            .ok_or_else(|| AuthError::invalid("the token has no kid"))?;
        let key = keys.get(kid).ok_or(AuthError::UnknownKid)?;
        if key.alg != self.alg {
            return Err(AuthError::invalid("the token's alg does not match its key"));
        }
        let mut parts = self.token.split('.');
        let (Some(header_b64), Some(claims_b64), Some(signature_b64)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| malformed())?;
        let signing_input = &self.token[..header_b64.len() + 1 + claims_b64.len()];
        key.key
            .verify_sig(signing_input.as_bytes(), &signature)
            .map_err(|_| AuthError::invalid("bad signature"))?;
        let claims_json = URL_SAFE_NO_PAD
            .decode(claims_b64)
            .map_err(|_| malformed())?;
        serde_json::from_slice(&claims_json).map_err(|_| malformed())
    }
}

fn malformed() -> AuthError {
    AuthError::invalid("malformed token")
}

/// The JOSE header fields that matter here (RFC 7515 §4.1). A repeated field is an error.
#[derive(Deserialize)]
struct JwsHeader {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    crit: Option<serde::de::IgnoredAny>,
}

fn check_claims(
    settings: &VerifierSettings,
    claims: &Map<String, Value>,
    now: u64,
    check_audience: bool,
) -> Result<(), AuthError> {
    let leeway = settings.leeway_secs;
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or_else(|| AuthError::invalid("the token has no exp"))?;
    // RFC 7519 §4.1.4: "the current date/time MUST be before the expiration date/time" — a
    // token is refused from its `exp` on (plus the leeway), not only after it.
    if now >= exp.saturating_add(leeway) {
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
    if check_audience {
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::jwk::{
        AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, OctetKeyPairParameters,
        OctetKeyPairType,
    };
    use ms_auth_server::keys::{SigningAlgorithm, SigningKey};
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;

    fn settings() -> VerifierSettings {
        VerifierSettings {
            issuer: "https://as.example".into(),
            audience: vec!["https://rs.example".into()],
            leeway_secs: 30,
            ..VerifierSettings::default()
        }
    }

    fn claims(extra: Value) -> Value {
        let mut c = json!({
            "iss": "https://as.example", "sub": "c", "aud": "https://rs.example",
            "exp": NOW + 60, "scope": "a b",
        });
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    }

    fn jws(header: Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
        );
        let sig = URL_SAFE_NO_PAD.encode(sign(input.as_bytes()));
        format!("{input}.{sig}")
    }

    /// F2: the audience is always checked (RFC 9068 §4); with none configured every token is
    /// refused, not every token accepted.
    #[test]
    fn the_audience_must_name_this_resource() {
        let (key, keys) = rsa();
        let sign = |claims: &Value| {
            key.sign(ms_auth_server::keys::Typ::AccessToken, claims)
                .unwrap()
        };
        assert!(verify(&settings(), &keys, &sign(&claims(json!({}))), NOW).is_ok());
        let many = claims(json!({ "aud": ["https://other.example", "https://rs.example"] }));
        assert!(verify(&settings(), &keys, &sign(&many), NOW).is_ok());
        for aud in [json!("https://other.example"), json!([]), json!(7)] {
            let err = verify(
                &settings(),
                &keys,
                &sign(&claims(json!({ "aud": aud }))),
                NOW,
            );
            assert_eq!(
                err.unwrap_err(),
                AuthError::invalid("the token is meant for another audience")
            );
        }
        let mut none = claims(json!({}));
        none.as_object_mut().unwrap().remove("aud");
        assert!(verify(&settings(), &keys, &sign(&none), NOW).is_err());
        let unset = VerifierSettings {
            audience: Vec::new(),
            ..settings()
        };
        assert!(verify(&unset, &keys, &sign(&claims(json!({}))), NOW).is_err());
        assert!(
            verify_any_audience(&unset, &keys, &sign(&claims(json!({}))), NOW).is_ok(),
            "the issuer's own check takes every audience"
        );
    }

    fn rsa() -> (SigningKey, KeySet) {
        let key = SigningKey::generate(SigningAlgorithm::RS256).unwrap();
        let set = KeySet::from_jwks(&JwkSet {
            keys: vec![key.jwk().clone()],
        });
        (key, set)
    }

    #[test]
    fn exp_and_nbf_boundaries_use_the_given_time_and_leeway() {
        let (key, keys) = rsa();
        let at = |c: Value| {
            verify(
                &settings(),
                &keys,
                &key.sign(ms_auth_server::keys::Typ::AccessToken, &claims(c))
                    .unwrap(),
                NOW,
            )
        };
        assert!(at(json!({ "exp": NOW - 29 })).is_ok(), "within the leeway");
        assert!(
            at(json!({ "exp": NOW - 30 })).is_err(),
            "RFC 7519 §4.1.4: refused on, not only after, exp plus the leeway"
        );
        assert!(at(json!({ "exp": NOW - 31 })).is_err());
        assert!(at(json!({ "nbf": NOW + 30 })).is_ok());
        assert!(at(json!({ "nbf": NOW + 31 })).is_err());
        assert!(at(json!({ "exp": "soon" })).is_err());
    }

    #[test]
    fn crit_and_repeated_header_fields_are_refused() {
        let (key, keys) = rsa();
        let sign = |input: &[u8]| key.sign_raw(input).unwrap();
        let crit = jws(
            json!({ "alg": "RS256", "kid": key.kid(), "typ": "at+jwt", "crit": ["exp"] }),
            &claims(json!({})),
            sign,
        );
        assert!(
            matches!(verify(&settings(), &keys, &crit, NOW), Err(AuthError::InvalidToken(d)) if d.contains("critical"))
        );
        let header = format!(
            r#"{{"alg":"RS256","alg":"none","kid":"{}","typ":"at+jwt"}}"#,
            key.kid()
        );
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(json!({}))).unwrap())
        );
        let token = format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(key.sign_raw(input.as_bytes()).unwrap())
        );
        assert!(verify(&settings(), &keys, &token, NOW).is_err());
    }

    #[test]
    fn es256_keys_verify() {
        let key = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
        let keys = KeySet::from_jwks(&JwkSet {
            keys: vec![key.jwk().clone()],
        });
        let token = key
            .sign(ms_auth_server::keys::Typ::AccessToken, &claims(json!({})))
            .unwrap();
        assert_eq!(
            verify(&settings(), &keys, &token, NOW).unwrap().scopes,
            ["a", "b"]
        );
    }

    #[test]
    fn eddsa_keys_verify_where_the_jwk_says_so() {
        let pair = Ed25519KeyPair::generate().unwrap();
        let jwk = Jwk {
            common: CommonParameters {
                key_id: Some("ed".into()),
                ..CommonParameters::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            }),
        };
        let keys = KeySet::from_jwks(&JwkSet { keys: vec![jwk] });
        let token = jws(
            json!({ "alg": "EdDSA", "kid": "ed", "typ": "at+jwt" }),
            &claims(json!({})),
            |i| pair.sign(i).as_ref().to_vec(),
        );
        assert!(verify(&settings(), &keys, &token, NOW).is_ok());
        // The same key cannot be used with another algorithm name.
        let token = jws(
            json!({ "alg": "ES256", "kid": "ed", "typ": "at+jwt" }),
            &claims(json!({})),
            |i| pair.sign(i).as_ref().to_vec(),
        );
        assert!(verify(&settings(), &keys, &token, NOW).is_err());
    }

    #[test]
    fn symmetric_and_encryption_jwks_are_not_usable() {
        let oct: Jwk =
            serde_json::from_value(json!({ "kty": "oct", "kid": "h", "k": "c2VjcmV0" })).unwrap();
        assert!(KeySet::from_jwks(&JwkSet { keys: vec![oct] }).is_empty());
        let enc: Jwk = {
            let key = SigningKey::generate(SigningAlgorithm::RS256).unwrap();
            let mut v = serde_json::to_value(key.jwk()).unwrap();
            v["use"] = json!("enc");
            serde_json::from_value(v).unwrap()
        };
        assert!(KeySet::from_jwks(&JwkSet { keys: vec![enc] }).is_empty());
    }
}
