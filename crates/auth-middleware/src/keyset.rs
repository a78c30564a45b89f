//! A parsed snapshot of the issuer's public keys (RFC 7517 JWK set): each key's algorithm and
//! public key, parsed once so that verifying a signature costs only the signature check.

use std::collections::HashMap;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
    RSA_PSS_2048_8192_SHA256, RsaPublicKeyComponents,
};
use base64::{
    Engine,
    alphabet::URL_SAFE,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use jsonwebtoken::{
    Algorithm,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse},
};

/// Algorithms accepted at all. HMAC is never accepted: the keys are public.
pub const ALLOWED_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// base64url as JWKs write it: with or without padding.
const JWK_BASE64: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One verification key: its algorithm (from the JWK, or implied by its type) and the public key,
/// parsed once so that verifying a signature costs only the signature check.
pub struct VerifyKey {
    pub alg: Algorithm,
    pub key: ParsedPublicKey,
}

/// A snapshot of the issuer's signing keys by `kid`.
#[derive(Default)]
pub struct KeySet {
    keys: HashMap<String, VerifyKey>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.keys.keys()).finish()
    }
}

impl KeySet {
    /// Keeps the keys fit for verifying signatures; skips (with a debug log) keys for another
    /// use, without `kid`, symmetric, or of an algorithm not in [`ALLOWED_ALGORITHMS`].
    pub fn from_jwks(set: &JwkSet) -> Self {
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            match Self::usable(jwk) {
                Some((kid, key)) => {
                    keys.insert(kid, key);
                }
                None => {
                    tracing::debug!(kid = ?jwk.common.key_id, "skipping a JWK not usable for signature verification")
                }
            }
        }
        Self { keys }
    }

    fn usable(jwk: &Jwk) -> Option<(String, VerifyKey)> {
        if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
            return None;
        }
        let kid = jwk.common.key_id.clone()?;
        let implied = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
                Algorithm::ES256
            }
            AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
                Algorithm::EdDSA
            }
            _ => return None,
        };
        let alg = match jwk.common.key_algorithm {
            Some(ka) => Algorithm::try_from(ka).ok()?,
            None => implied,
        };
        // The JWK's `alg` must fit its key type: PS256 is the one other algorithm an RSA key may name.
        let fits = alg == implied || (implied == Algorithm::RS256 && alg == Algorithm::PS256);
        if !fits || !ALLOWED_ALGORITHMS.contains(&alg) {
            return None;
        }
        let key = Self::parse_public_key(jwk, alg)?;
        Some((kid, VerifyKey { alg, key }))
    }

    fn parse_public_key(jwk: &Jwk, alg: Algorithm) -> Option<ParsedPublicKey> {
        match &jwk.algorithm {
            AlgorithmParameters::RSA(p) => {
                let (n, e) = (JWK_BASE64.decode(&p.n).ok()?, JWK_BASE64.decode(&p.e).ok()?);
                // The 2048–8192 bit range is enforced at verification.
                let params = if alg == Algorithm::PS256 {
                    &RSA_PSS_2048_8192_SHA256
                } else {
                    &RSA_PKCS1_2048_8192_SHA256
                };
                RsaPublicKeyComponents { n: &n, e: &e }
                    .to_parsed_public_key(params)
                    .ok()
            }
            AlgorithmParameters::EllipticCurve(p) => {
                let (x, y) = (JWK_BASE64.decode(&p.x).ok()?, JWK_BASE64.decode(&p.y).ok()?);
                if x.len() != 32 || y.len() != 32 {
                    return None;
                }
                let point = [&[4u8][..], &x, &y].concat();
                ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).ok()
            }
            AlgorithmParameters::OctetKeyPair(p) => {
                ParsedPublicKey::new(&ED25519, JWK_BASE64.decode(&p.x).ok()?).ok()
            }
            // Symmetric keys never verify anything here; the enum is non-exhaustive.
            _ => None,
        }
    }

    pub fn get(&self, kid: &str) -> Option<&VerifyKey> {
        self.keys.get(kid)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether both sets hold the same kids with the same algorithms and key material, so that
    /// a refetch that changed nothing keeps the snapshot (and the tokens verified under it).
    pub fn same_keys(&self, other: &KeySet) -> bool {
        self.keys.len() == other.keys.len()
            && self.keys.iter().all(|(kid, mine)| {
                other.keys.get(kid).is_some_and(|theirs| {
                    mine.alg == theirs.alg && mine.key.as_ref() == theirs.key.as_ref()
                })
            })
    }
}
