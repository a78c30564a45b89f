//! Signing keys for JWTs (RFC 7515 compact serialisation) and their public JWK form (RFC 7517).
//!
//! Each key is parsed once and kept ready: the compact JWS is assembled by hand and signed with
//! the parsed key, because `jsonwebtoken::encode` re-parses the private key on every call and
//! reaches only ~40 % of the machine's RSA signing rate. jsonwebtoken supplies the JWK types.

use std::fmt;

use aws_lc_rs::{
    rand::SystemRandom,
    rsa,
    signature::{
        self, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
    },
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType,
    PublicKeyUse, RSAKeyParameters, RSAKeyType, ThumbprintHash,
};
use serde::Serialize;

pub use super::algorithm::{SigningAlgorithm, Typ};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not a PEM file: {0}")]
    Pem(String),
    #[error(
        "unsupported key type in PEM block {0:?}: expected an RSA (2048 bits or more), P-256 EC or Ed25519 private key"
    )]
    UnsupportedKey(String),
    #[error("RSA keys must have at least 2048 bits, this one has {0}")]
    RsaTooSmall(usize),
    #[error("the key is an {found} key but the configured algorithm is {configured}")]
    AlgorithmMismatch {
        configured: SigningAlgorithm,
        found: SigningAlgorithm,
    },
    #[error("key generation failed")]
    Generate,
    #[error("signing failed")]
    Sign,
    #[error("claims could not be serialised: {0}")]
    Claims(#[from] serde_json::Error),
}

enum Pair {
    Rsa(rsa::KeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A private key ready to sign, with its `kid`, its precomputed JWS header and its public JWK.
pub struct SigningKey {
    kid: String,
    alg: SigningAlgorithm,
    pair: Pair,
    rng: SystemRandom,
    /// The base64url JWS header for each [`Typ`], computed once.
    headers: [String; 3],
    jwk: Jwk,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh key with a random UUID `kid`.
    pub fn generate(alg: SigningAlgorithm) -> Result<Self, KeyError> {
        let pair = match alg {
            SigningAlgorithm::RS256 => Pair::Rsa(
                rsa::KeyPair::generate(rsa::KeySize::Rsa2048).map_err(|_| KeyError::Generate)?,
            ),
            SigningAlgorithm::ES256 => Pair::Ec(
                EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(|_| KeyError::Generate)?,
            ),
            SigningAlgorithm::EdDSA => {
                Pair::Ed(Ed25519KeyPair::generate().map_err(|_| KeyError::Generate)?)
            }
        };
        Self::new(pair, Some(uuid::Uuid::new_v4().to_string()))
    }

    /// Loads a private key from PEM (PKCS#8 `PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY` or SEC 1
    /// `EC PRIVATE KEY`). Without a configured `kid`, the `kid` is a UUID derived from the key's
    /// RFC 7638 thumbprint, so it stays the same across restarts and replicas sharing the file.
    pub fn from_pem(
        pem_text: &[u8],
        expected: SigningAlgorithm,
        kid: Option<String>,
    ) -> Result<Self, KeyError> {
        let block = pem::parse(pem_text).map_err(|e| KeyError::Pem(e.to_string()))?;
        let der = block.contents();
        let unsupported = || KeyError::UnsupportedKey(block.tag().to_owned());
        let pair = match block.tag() {
            "PRIVATE KEY" => rsa::KeyPair::from_pkcs8(der)
                .map(Pair::Rsa)
                .or_else(|_| {
                    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map(Pair::Ec)
                })
                .or_else(|_| Ed25519KeyPair::from_pkcs8(der).map(Pair::Ed))
                .map_err(|_| unsupported())?,
            "RSA PRIVATE KEY" => rsa::KeyPair::from_der(der)
                .map(Pair::Rsa)
                .map_err(|_| unsupported())?,
            "EC PRIVATE KEY" => {
                EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map(Pair::Ec)
                    .map_err(|_| unsupported())?
            }
            _ => return Err(unsupported()),
        };
        let found = match &pair {
            Pair::Rsa(k) if k.public_modulus_len() < 256 => {
                return Err(KeyError::RsaTooSmall(k.public_modulus_len() * 8));
            }
            Pair::Rsa(_) => SigningAlgorithm::RS256,
            Pair::Ec(_) => SigningAlgorithm::ES256,
            Pair::Ed(_) => SigningAlgorithm::EdDSA,
        };
        if found != expected {
            return Err(KeyError::AlgorithmMismatch {
                configured: expected,
                found,
            });
        }
        Self::new(pair, kid)
    }

    fn new(pair: Pair, kid: Option<String>) -> Result<Self, KeyError> {
        let (alg, params) = match &pair {
            Pair::Rsa(k) => {
                let public = k.public_key();
                (
                    SigningAlgorithm::RS256,
                    AlgorithmParameters::RSA(RSAKeyParameters {
                        key_type: RSAKeyType::RSA,
                        n: URL_SAFE_NO_PAD
                            .encode(public.modulus().big_endian_without_leading_zero()),
                        e: URL_SAFE_NO_PAD
                            .encode(public.exponent().big_endian_without_leading_zero()),
                    }),
                )
            }
            Pair::Ec(k) => {
                // Uncompressed SEC 1 point: 0x04 || X (32 bytes) || Y (32 bytes).
                let point = k.public_key().as_ref();
                if point.len() != 65 {
                    return Err(KeyError::UnsupportedKey("EC".into()));
                }
                (
                    SigningAlgorithm::ES256,
                    AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                        key_type: EllipticCurveKeyType::EC,
                        curve: EllipticCurve::P256,
                        x: URL_SAFE_NO_PAD.encode(&point[1..33]),
                        y: URL_SAFE_NO_PAD.encode(&point[33..65]),
                    }),
                )
            }
            Pair::Ed(k) => (
                SigningAlgorithm::EdDSA,
                AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                    key_type: OctetKeyPairType::OctetKeyPair,
                    curve: EllipticCurve::Ed25519,
                    x: URL_SAFE_NO_PAD.encode(k.public_key().as_ref()),
                }),
            ),
        };
        let mut jwk = Jwk {
            common: CommonParameters::default(),
            algorithm: params,
        };
        let kid = match kid {
            Some(kid) => kid,
            None => thumbprint_uuid(&jwk)?,
        };
        jwk.common = CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(match alg {
                SigningAlgorithm::RS256 => KeyAlgorithm::RS256,
                SigningAlgorithm::ES256 => KeyAlgorithm::ES256,
                SigningAlgorithm::EdDSA => KeyAlgorithm::EdDSA,
            }),
            key_id: Some(kid.clone()),
            ..CommonParameters::default()
        };
        let header = |typ: Typ| {
            let header =
                serde_json::json!({ "kid": kid, "alg": alg.as_str(), "typ": typ.as_str() });
            serde_json::to_vec(&header).map(|h| URL_SAFE_NO_PAD.encode(h))
        };
        let headers = [
            header(Typ::ALL[0])?,
            header(Typ::ALL[1])?,
            header(Typ::ALL[2])?,
        ];
        Ok(Self {
            kid,
            alg,
            pair,
            rng: SystemRandom::new(),
            headers,
            jwk,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn algorithm(&self) -> SigningAlgorithm {
        self.alg
    }

    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The private key as a PKCS#8 PEM document, for `ms-auth-server generate-key`.
    pub fn to_pkcs8_pem(&self) -> Result<String, KeyError> {
        use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
        let der = match &self.pair {
            Pair::Rsa(k) => AsDer::<Pkcs8V1Der<'static>>::as_der(k)
                .map_err(|_| KeyError::Generate)?
                .as_ref()
                .to_vec(),
            Pair::Ec(k) => k
                .to_pkcs8v1()
                .map_err(|_| KeyError::Generate)?
                .as_ref()
                .to_vec(),
            Pair::Ed(k) => k
                .to_pkcs8v1()
                .map_err(|_| KeyError::Generate)?
                .as_ref()
                .to_vec(),
        };
        Ok(pem::encode(&pem::Pem::new("PRIVATE KEY", der)))
    }

    /// Signs `claims` as a JWT of kind `typ` in compact serialisation.
    pub fn sign(&self, typ: Typ, claims: &impl Serialize) -> Result<String, KeyError> {
        let header = &self.headers[typ.index()];
        let claims = serde_json::to_vec(claims)?;
        let mut jwt = String::with_capacity(header.len() + claims.len() * 4 / 3 + 350);
        jwt.push_str(header);
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims, &mut jwt);
        let signature = self.sign_raw(jwt.as_bytes())?;
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut jwt);
        Ok(jwt)
    }

    /// The bare signature over `message`: what issuing a token costs at the least.
    pub fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.pair {
            Pair::Rsa(k) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &self.rng, message, &mut sig)
                    .map_err(|_| KeyError::Sign)?;
                Ok(sig)
            }
            Pair::Ec(k) => Ok(k
                .sign(&self.rng, message)
                .map_err(|_| KeyError::Sign)?
                .as_ref()
                .to_vec()),
            Pair::Ed(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }
}

/// A UUID made of the first 16 bytes of the RFC 7638 SHA-256 thumbprint (version bits set to 4).
fn thumbprint_uuid(jwk: &Jwk) -> Result<String, KeyError> {
    let thumb = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|_| KeyError::UnsupportedKey("JWK".into()))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(thumb)
        .map_err(|_| KeyError::UnsupportedKey("JWK".into()))?;
    let mut first = [0u8; 16];
    first.copy_from_slice(&bytes[..16]);
    Ok(uuid::Builder::from_random_bytes(first)
        .into_uuid()
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Claims {
        sub: String,
        exp: u64,
    }

    fn verify_with_jwk(key: &SigningKey, token: &str) -> Claims {
        let header = jsonwebtoken::decode_header(token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let dk = DecodingKey::from_jwk(key.jwk()).unwrap();
        let mut v = Validation::new(header.alg);
        v.validate_aud = false;
        jsonwebtoken::decode::<Claims>(token, &dk, &v)
            .unwrap()
            .claims
    }

    #[test]
    fn rs256_and_es256_tokens_verify_with_their_published_jwk() {
        let claims = Claims {
            sub: "c".into(),
            exp: 4_000_000_000,
        };
        for alg in [SigningAlgorithm::RS256, SigningAlgorithm::ES256] {
            let key = SigningKey::generate(alg).unwrap();
            let token = key.sign(Typ::AccessToken, &claims).unwrap();
            assert_eq!(verify_with_jwk(&key, &token), claims);
            assert!(uuid::Uuid::parse_str(key.kid()).is_ok());
        }
    }

    #[test]
    fn pem_round_trip_keeps_a_stable_thumbprint_kid() {
        for alg in [SigningAlgorithm::RS256, SigningAlgorithm::ES256] {
            let pem = SigningKey::generate(alg).unwrap().to_pkcs8_pem().unwrap();
            let a = SigningKey::from_pem(pem.as_bytes(), alg, None).unwrap();
            let b = SigningKey::from_pem(pem.as_bytes(), alg, None).unwrap();
            assert_eq!(a.kid(), b.kid());
            assert_eq!(a.jwk(), b.jwk());
            assert_eq!(uuid::Uuid::parse_str(a.kid()).unwrap().get_version_num(), 4);
            let named = SigningKey::from_pem(pem.as_bytes(), alg, Some("k1".into())).unwrap();
            assert_eq!(named.kid(), "k1");
        }
    }

    #[test]
    fn pem_errors_are_explicit() {
        let ec = SigningKey::generate(SigningAlgorithm::ES256)
            .unwrap()
            .to_pkcs8_pem()
            .unwrap();
        assert!(matches!(
            SigningKey::from_pem(ec.as_bytes(), SigningAlgorithm::RS256, None),
            Err(KeyError::AlgorithmMismatch { .. })
        ));
        assert!(matches!(
            SigningKey::from_pem(b"hello", SigningAlgorithm::RS256, None),
            Err(KeyError::Pem(_))
        ));
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            SigningKey::from_pem(cert.as_bytes(), SigningAlgorithm::RS256, None),
            Err(KeyError::UnsupportedKey(tag)) if tag == "CERTIFICATE"
        ));
    }
}
