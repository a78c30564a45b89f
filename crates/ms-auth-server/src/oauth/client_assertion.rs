//! Client authentication by signed assertion (RFC 7523 §2.2 and §3, OpenID Connect Core §9):
//! `client_secret_jwt` — an HMAC keyed with the client's secret — and `private_key_jwt` — a
//! signature by a key the client registered (`jwks` or `jwks_uri`).
//!
//! An assertion is checked in three steps, each a plain function here: its header picks the
//! method and the algorithm ([`peek`]), its signature is verified against the client's own
//! key material only ([`verify`]: never `alg: none`, never a key in the header, never HMAC
//! keyed with a public key), and its claims are checked against the rules ([`check_claims`]).
//! The `jti` is then spent in the hot state by the caller (`client_auth`), so that a replay
//! fails at every replica.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{
    Algorithm, DecodingKey, Validation,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse},
};
use serde::Deserialize;

use super::client::AuthMethod;

/// `client_assertion_type` of a JWT assertion (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The longest assertion read: a JWT with a few claims and a 4096-bit RSA signature is under
/// 1.5 KB.
pub const MAX_ASSERTION_BYTES: usize = 8 * 1024;

/// The keys tried, at most, for an assertion without `kid`.
const MAX_CANDIDATE_KEYS: usize = 8;

/// `client_secret_jwt`'s algorithms: HMAC keyed with the client secret.
pub const SECRET_ALGORITHMS: [Algorithm; 3] =
    [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];

/// `private_key_jwt`'s algorithms: signatures by the client's registered keys.
pub const KEY_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The JWS name of `alg`.
pub fn algorithm_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
        // jsonwebtoken's enum is non-exhaustive: an algorithm added there is accepted nowhere
        // here until it is named above.
        _ => "unsupported",
    }
}

/// The algorithms `method` accepts (none for the methods that present no assertion).
pub fn algorithms_of(method: AuthMethod) -> &'static [Algorithm] {
    match method {
        AuthMethod::ClientSecretJwt => &SECRET_ALGORITHMS,
        AuthMethod::PrivateKeyJwt => &KEY_ALGORITHMS,
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::None => &[],
    }
}

/// Why an assertion was refused. Every one is the same `invalid_client` outside; the reason
/// is a closed set, for the failure counter's label and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("not a JWS in compact form")]
    Malformed,
    #[error("an algorithm this server does not accept for the method")]
    UnsupportedAlgorithm,
    #[error("not the client's registered token_endpoint_auth_signing_alg")]
    AlgorithmNotRegistered,
    #[error("no registered key could verify it")]
    NoKey,
    #[error("a kid the client's key set does not hold")]
    UnknownKid,
    #[error("the client's jwks_uri could not be fetched")]
    KeysUnavailable,
    #[error("bad signature")]
    BadSignature,
    #[error("iss and sub must both be the client id")]
    WrongIssuer,
    #[error("aud names neither the issuer nor the endpoint")]
    WrongAudience,
    #[error("exp is missing")]
    NoExpiry,
    #[error("expired")]
    Expired,
    #[error("exp is further ahead than the longest lifetime allowed")]
    TooLong,
    #[error("not valid yet (nbf or iat in the future)")]
    NotYetValid,
    #[error("jti is missing")]
    NoJti,
    #[error("jti already used")]
    Replayed,
}

impl Rejection {
    /// The failure counter's label.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Malformed => "assertion_malformed",
            Self::UnsupportedAlgorithm => "assertion_alg_unsupported",
            Self::AlgorithmNotRegistered => "assertion_alg_not_registered",
            Self::NoKey => "assertion_no_key",
            Self::UnknownKid => "assertion_unknown_kid",
            Self::KeysUnavailable => "assertion_jwks_unavailable",
            Self::BadSignature => "assertion_bad_signature",
            Self::WrongIssuer => "assertion_wrong_issuer",
            Self::WrongAudience => "assertion_wrong_audience",
            Self::NoExpiry => "assertion_no_exp",
            Self::Expired => "assertion_expired",
            Self::TooLong => "assertion_lifetime_too_long",
            Self::NotYetValid => "assertion_not_yet_valid",
            Self::NoJti => "assertion_no_jti",
            Self::Replayed => "assertion_replayed",
        }
    }
}

/// What the unverified header and claims say: which method, which algorithm, which client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peeked {
    pub method: AuthMethod,
    /// `None` for an algorithm this server does not know (`none` among them).
    pub alg: Option<Algorithm>,
    pub kid: Option<String>,
    /// The client it claims to be (`sub`, RFC 7523 §3: the client id).
    pub client_id: Option<String>,
}

#[derive(Deserialize)]
struct PeekHeader {
    alg: String,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct PeekClaims {
    sub: Option<String>,
}

/// Reads the header and `sub` of `assertion` without trusting them: they only choose which
/// check to run, and every check then stands on the client's registered material.
pub fn peek(assertion: &str) -> Result<Peeked, Rejection> {
    if assertion.len() > MAX_ASSERTION_BYTES {
        return Err(Rejection::Malformed);
    }
    let mut parts = assertion.split('.');
    let (Some(header), Some(claims), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::Malformed);
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| Rejection::Malformed)
    };
    let header: PeekHeader =
        serde_json::from_slice(&decode(header)?).map_err(|_| Rejection::Malformed)?;
    let claims: PeekClaims =
        serde_json::from_slice(&decode(claims)?).map_err(|_| Rejection::Malformed)?;
    let alg = header.alg.parse::<Algorithm>().ok();
    // HMAC is client_secret_jwt; anything else (`none` too) claims to be a key signature.
    let method = if header.alg.starts_with("HS") {
        AuthMethod::ClientSecretJwt
    } else {
        AuthMethod::PrivateKeyJwt
    };
    Ok(Peeked {
        method,
        alg,
        kid: header.kid,
        client_id: claims.sub,
    })
}

/// The algorithm an assertion may use: one of `method`'s, and the client's registered one
/// when it registered one (RFC 7591 §2 `token_endpoint_auth_signing_alg`).
pub fn allowed_algorithm(
    peeked: &Peeked,
    registered: Option<&str>,
) -> Result<Algorithm, Rejection> {
    let alg = peeked
        .alg
        .filter(|a| algorithms_of(peeked.method).contains(a))
        .ok_or(Rejection::UnsupportedAlgorithm)?;
    match registered {
        Some(r) if r != algorithm_name(alg) => Err(Rejection::AlgorithmNotRegistered),
        _ => Ok(alg),
    }
}

/// A JSON number (`NumericDate`, RFC 7519 §2: possibly fractional), as whole seconds.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(transparent)]
pub struct NumericDate(f64);

impl NumericDate {
    fn secs(self) -> i64 {
        // Saturating: a huge or negative date is just out of range.
        self.0 as i64
    }
}

/// `aud`: one string or several (RFC 7519 §4.1.3).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains_any(&self, accepted: &[String]) -> bool {
        match self {
            Self::One(a) => accepted.contains(a),
            Self::Many(all) => all.iter().any(|a| accepted.contains(a)),
        }
    }
}

/// The claims RFC 7523 §3 speaks of; others are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct AssertionClaims {
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Option<Audience>,
    pub exp: Option<NumericDate>,
    pub nbf: Option<NumericDate>,
    pub iat: Option<NumericDate>,
    pub jti: Option<String>,
}

/// What the claims are checked against.
#[derive(Debug, Clone, Copy)]
pub struct ClaimRules<'a> {
    pub client_id: &'a str,
    /// The issuer, the token endpoint's URL and the URL of the endpoint called.
    pub audiences: &'a [String],
    pub now: u64,
    /// How far ahead `exp` may be.
    pub max_lifetime_secs: u64,
    /// Clock skew allowed either way.
    pub leeway_secs: u64,
}

/// A checked assertion's single-use identity: its `jti`, spendable until `exp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spendable {
    pub jti: String,
    pub until: u64,
}

/// The longest `jti` kept (it is hashed into the replay set's key anyway).
const MAX_JTI_LEN: usize = 256;

/// RFC 7523 §3's rules, as this server applies them:
/// - `iss` and `sub` MUST be the client id (§3 items 1–2, OpenID Connect Core §9);
/// - `aud` MUST identify the authorization server: the issuer, or the token endpoint's URL
///   (which §3 item 3 and Core §9 name), or the URL of the endpoint called;
/// - `exp` MUST be present and not past (§3 item 4), and here also no further ahead than
///   `max_lifetime_secs`, so a stolen assertion is short-lived and the replay set bounded;
/// - `nbf` and `iat` may not be in the future (§3 items 5–6), with `leeway_secs` of skew;
/// - `jti` is required (Core §9: "REQUIRED"), so the assertion can be used once (§3 item 7).
pub fn check_claims(
    claims: &AssertionClaims,
    rules: &ClaimRules<'_>,
) -> Result<Spendable, Rejection> {
    let id = Some(rules.client_id);
    if claims.iss.as_deref() != id || claims.sub.as_deref() != id {
        return Err(Rejection::WrongIssuer);
    }
    if !claims
        .aud
        .as_ref()
        .is_some_and(|aud| aud.contains_any(rules.audiences))
    {
        return Err(Rejection::WrongAudience);
    }
    let now = i64::try_from(rules.now).unwrap_or(i64::MAX);
    let leeway = i64::try_from(rules.leeway_secs).unwrap_or(i64::MAX);
    let max_lifetime = i64::try_from(rules.max_lifetime_secs).unwrap_or(i64::MAX);
    let exp = claims.exp.ok_or(Rejection::NoExpiry)?.secs();
    if exp.saturating_add(leeway) <= now {
        return Err(Rejection::Expired);
    }
    if exp > now.saturating_add(max_lifetime).saturating_add(leeway) {
        return Err(Rejection::TooLong);
    }
    let future = |d: Option<NumericDate>| d.is_some_and(|d| d.secs() > now.saturating_add(leeway));
    if future(claims.nbf) || future(claims.iat) {
        return Err(Rejection::NotYetValid);
    }
    let jti = claims
        .jti
        .as_deref()
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN)
        .ok_or(Rejection::NoJti)?;
    Ok(Spendable {
        jti: jti.to_owned(),
        until: u64::try_from(exp.saturating_add(leeway)).unwrap_or(0),
    })
}

/// Verifies the signature of `assertion` under `key` for `alg` and returns its claims; the
/// claims' rules are [`check_claims`]'s, not jsonwebtoken's.
fn verify_with(
    assertion: &str,
    alg: Algorithm,
    key: &DecodingKey,
) -> Result<AssertionClaims, Rejection> {
    let mut validation = Validation::new(alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<AssertionClaims>(assertion, key, &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => Rejection::BadSignature,
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => Rejection::UnsupportedAlgorithm,
            _ => Rejection::Malformed,
        })
}

/// `client_secret_jwt`: the HMAC keyed with the octets of the client secret (Core §9).
pub fn verify_hmac(
    assertion: &str,
    alg: Algorithm,
    secret: &[u8],
) -> Result<AssertionClaims, Rejection> {
    if !SECRET_ALGORITHMS.contains(&alg) {
        return Err(Rejection::UnsupportedAlgorithm);
    }
    verify_with(assertion, alg, &DecodingKey::from_secret(secret))
}

/// Whether `jwk` may verify an assertion signed with `alg`: a public key of `alg`'s type and
/// curve, for signatures, of that algorithm when it names one. Never a symmetric (`oct`) key:
/// a client's registered keys are public, and HMAC keyed with public material proves nothing.
pub fn key_fits(jwk: &Jwk, alg: Algorithm) -> bool {
    let kind_fits = match (&jwk.algorithm, alg) {
        (
            AlgorithmParameters::RSA(_),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512,
        ) => true,
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES256) => p.curve == EllipticCurve::P256,
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES384) => p.curve == EllipticCurve::P384,
        (AlgorithmParameters::OctetKeyPair(p), Algorithm::EdDSA) => {
            p.curve == EllipticCurve::Ed25519
        }
        _ => false,
    };
    let use_fits = matches!(
        jwk.common.public_key_use,
        None | Some(PublicKeyUse::Signature)
    );
    let alg_fits = jwk
        .common
        .key_algorithm
        .is_none_or(|k| serde_json::to_value(k).is_ok_and(|v| v == algorithm_name(alg)));
    kind_fits && use_fits && alg_fits
}

/// The keys of a JWK set (RFC 7517 §5) this server can read; a key it cannot (another `kty`,
/// a malformed member) is skipped, not fatal: the set may hold keys for other purposes.
pub fn parse_key_set(set: &serde_json::Value) -> Vec<Jwk> {
    set.get("keys")
        .and_then(serde_json::Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
                .filter(|k| {
                    matches!(
                        k.algorithm,
                        AlgorithmParameters::RSA(_)
                            | AlgorithmParameters::EllipticCurve(_)
                            | AlgorithmParameters::OctetKeyPair(_)
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The keys of `keys` an assertion with `kid` and `alg` may be verified with: the one whose
/// `kid` it names (RFC 7515 §4.1.4), or, naming none, every fitting key (at most a few).
pub fn candidates<'k>(keys: &'k [Jwk], kid: Option<&str>, alg: Algorithm) -> Vec<&'k Jwk> {
    keys.iter()
        .filter(|k| key_fits(k, alg))
        .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
        .take(MAX_CANDIDATE_KEYS)
        .collect()
}

/// `private_key_jwt`: the signature by one of `candidates`.
pub fn verify_signature(
    assertion: &str,
    alg: Algorithm,
    candidates: &[&Jwk],
) -> Result<AssertionClaims, Rejection> {
    if !KEY_ALGORITHMS.contains(&alg) {
        return Err(Rejection::UnsupportedAlgorithm);
    }
    let mut outcome = Err(Rejection::NoKey);
    for jwk in candidates {
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        outcome = verify_with(assertion, alg, &key);
        if outcome.is_ok() {
            break;
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(header: &str, claims: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn the_header_picks_the_method_and_none_is_no_algorithm() {
        let p = peek(&encode(r#"{"alg":"HS256"}"#, r#"{"sub":"c"}"#)).unwrap();
        assert_eq!(
            (p.method, p.alg, p.client_id.as_deref()),
            (
                AuthMethod::ClientSecretJwt,
                Some(Algorithm::HS256),
                Some("c")
            )
        );
        let p = peek(&encode(r#"{"alg":"ES256","kid":"k"}"#, "{}")).unwrap();
        assert_eq!(
            (p.method, p.kid.as_deref()),
            (AuthMethod::PrivateKeyJwt, Some("k"))
        );
        let none = peek(&encode(r#"{"alg":"none"}"#, r#"{"sub":"c"}"#)).unwrap();
        assert_eq!(none.alg, None);
        assert_eq!(
            allowed_algorithm(&none, None),
            Err(Rejection::UnsupportedAlgorithm)
        );
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.e30.x",
            &"a".repeat(MAX_ASSERTION_BYTES + 1),
        ] {
            assert_eq!(peek(bad), Err(Rejection::Malformed), "{bad:.20}");
        }
    }

    #[test]
    fn the_algorithm_must_be_the_methods_and_the_registered_one() {
        let peeked = |alg: &str| peek(&encode(&format!(r#"{{"alg":"{alg}"}}"#), "{}")).unwrap();
        assert_eq!(
            allowed_algorithm(&peeked("RS256"), None),
            Ok(Algorithm::RS256)
        );
        assert_eq!(
            allowed_algorithm(&peeked("RS256"), Some("ES256")),
            Err(Rejection::AlgorithmNotRegistered)
        );
        assert_eq!(
            allowed_algorithm(&peeked("HS512"), Some("HS512")),
            Ok(Algorithm::HS512)
        );
        // HS-something unknown is still client_secret_jwt, and refused.
        assert_eq!(
            allowed_algorithm(&peeked("HS1"), None),
            Err(Rejection::UnsupportedAlgorithm)
        );
    }

    fn claims(json: &str) -> AssertionClaims {
        serde_json::from_str(json).unwrap()
    }

    fn rules(audiences: &[String]) -> ClaimRules<'_> {
        ClaimRules {
            client_id: "c",
            audiences,
            now: 1_000_000,
            max_lifetime_secs: 300,
            leeway_secs: 10,
        }
    }

    #[test]
    fn claims_are_checked_against_the_rules() {
        let aud = ["https://as".to_owned(), "https://as/token".to_owned()];
        let good =
            r#"{"iss":"c","sub":"c","aud":"https://as","exp":1000060,"iat":1000000,"jti":"j"}"#;
        assert_eq!(
            check_claims(&claims(good), &rules(&aud)),
            Ok(Spendable {
                jti: "j".to_owned(),
                until: 1_000_070
            })
        );
        let cases = [
            (
                good.replace(r#""iss":"c""#, r#""iss":"d""#),
                Rejection::WrongIssuer,
            ),
            (
                good.replace(r#""sub":"c""#, r#""sub":"d""#),
                Rejection::WrongIssuer,
            ),
            (
                good.replace(r#""aud":"https://as""#, r#""aud":"https://other""#),
                Rejection::WrongAudience,
            ),
            (
                good.replace(r#""aud":"https://as","#, ""),
                Rejection::WrongAudience,
            ),
            (good.replace(r#""exp":1000060,"#, ""), Rejection::NoExpiry),
            (good.replace("1000060", "999990"), Rejection::Expired),
            (good.replace("1000060", "1000311"), Rejection::TooLong),
            (
                good.replace(r#""iat":1000000"#, r#""iat":1000011"#),
                Rejection::NotYetValid,
            ),
            (
                good.replace(r#""iat":1000000"#, r#""nbf":1000030"#),
                Rejection::NotYetValid,
            ),
            (good.replace(r#","jti":"j""#, ""), Rejection::NoJti),
            (
                good.replace(r#""jti":"j""#, r#""jti":"""#),
                Rejection::NoJti,
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(
                check_claims(&claims(&json), &rules(&aud)),
                Err(expected),
                "{json}"
            );
        }
        // Within the leeway either way, a list audience, fractional dates.
        let lenient = r#"{"iss":"c","sub":"c","aud":["x","https://as/token"],"exp":999991.5,"iat":1000009,"jti":"j"}"#;
        assert!(check_claims(&claims(lenient), &rules(&aud)).is_ok());
        let longest = good.replace("1000060", "1000310");
        assert!(check_claims(&claims(&longest), &rules(&aud)).is_ok());
    }

    #[test]
    fn no_symmetric_or_mismatched_key_fits() {
        let set = serde_json::json!({"keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "oct"},
            {"kty": "EC", "crv": "P-256", "kid": "ec", "x": "Condtr2oTe9_ScncoIgQzlM1JQ0aKGq4-EodKpnbefo", "y": "Pyq5W233epqiTZKz3eFvRMDCDnbTZPpb1oxEMsYcGrA"},
            {"kty": "EC", "crv": "P-256", "kid": "enc", "use": "enc", "x": "Condtr2oTe9_ScncoIgQzlM1JQ0aKGq4-EodKpnbefo", "y": "Pyq5W233epqiTZKz3eFvRMDCDnbTZPpb1oxEMsYcGrA"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "alg": "EdDSA", "x": "TMs4-rAq-oGxcmrnOOjWkVEuuSVoWcgy51SYFOFVsl4"},
            {"kty": "unknown", "kid": "?"}
        ]});
        let keys = parse_key_set(&set);
        let kids: Vec<_> = keys
            .iter()
            .filter_map(|k| k.common.key_id.as_deref())
            .collect();
        assert_eq!(
            kids,
            ["ec", "enc", "ed"],
            "oct and unknown kinds are not read"
        );
        let fit = |kid: Option<&str>, alg| {
            candidates(&keys, kid, alg)
                .iter()
                .filter_map(|k| k.common.key_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(fit(None, Algorithm::ES256), ["ec"]);
        assert_eq!(fit(Some("ed"), Algorithm::EdDSA), ["ed"]);
        assert!(
            fit(Some("ec"), Algorithm::ES384).is_empty(),
            "P-256 is not ES384's"
        );
        assert!(fit(Some("ec"), Algorithm::RS256).is_empty());
        assert!(fit(Some("missing"), Algorithm::ES256).is_empty());
        assert_eq!(
            verify_signature(
                "a.b.c",
                Algorithm::HS256,
                &candidates(&keys, None, Algorithm::ES256)
            )
            .err(),
            Some(Rejection::UnsupportedAlgorithm),
            "HMAC never runs over registered public keys"
        );
    }
}
