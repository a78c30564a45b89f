//! The keys this server publishes (RFC 7517 JWK set) and the one it signs with, as one snapshot
//! ([`PublishedKeys`]) that the key lifecycle swaps whole ([`KeyRing`]) while requests sign.

use jsonwebtoken::jwk::Jwk;

use super::signing::{KeyError, SigningKey};

/// The keys this server publishes, and the one it signs with: a snapshot, replaced whole
/// when the key set changes (see [`KeyRing`]).
#[derive(Debug)]
pub struct PublishedKeys {
    active: SigningKey,
    jwks_json: String,
    /// The published keys parsed for verification, as every resource server parses them:
    /// how this server checks its own tokens (introspection, revocation).
    verify: auth_middleware::keys::KeySet,
    /// `kid`s published, for telling snapshots apart.
    kids: Vec<String>,
}

impl PublishedKeys {
    pub fn new(active: SigningKey) -> Result<Self, KeyError> {
        Self::with_published(active, Vec::new())
    }

    /// The active key, and `others` (next and retired keys' public JWKs) published beside it.
    pub fn with_published(active: SigningKey, others: Vec<Jwk>) -> Result<Self, KeyError> {
        let mut keys = vec![active.jwk().clone()];
        keys.extend(others);
        let set = jsonwebtoken::jwk::JwkSet { keys };
        let kids = set
            .keys
            .iter()
            .filter_map(|k| k.common.key_id.clone())
            .collect();
        let jwks_json = serde_json::to_string(&set)?;
        let verify = auth_middleware::keys::KeySet::from_jwks(&set);
        Ok(Self {
            active,
            jwks_json,
            verify,
            kids,
        })
    }

    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    /// The RFC 7517 JWK set document, serialised once.
    pub fn jwks_json(&self) -> &str {
        &self.jwks_json
    }

    pub fn verify_keys(&self) -> &auth_middleware::keys::KeySet {
        &self.verify
    }

    /// The published `kid`s, the active one first.
    pub fn kids(&self) -> &[String] {
        &self.kids
    }
}

/// The current [`PublishedKeys`], swapped whole by the key lifecycle while requests sign with it.
/// Clones share the snapshot: the lifecycle task replaces it for every holder.
#[derive(Debug, Clone)]
pub struct KeyRing {
    current: std::sync::Arc<std::sync::RwLock<std::sync::Arc<PublishedKeys>>>,
}

impl KeyRing {
    pub fn new(keys: PublishedKeys) -> Self {
        Self {
            current: std::sync::Arc::new(std::sync::RwLock::new(std::sync::Arc::new(keys))),
        }
    }

    pub fn current(&self) -> std::sync::Arc<PublishedKeys> {
        match self.current.read() {
            Ok(k) => std::sync::Arc::clone(&k),
            Err(poisoned) => std::sync::Arc::clone(&poisoned.into_inner()),
        }
    }

    pub fn replace(&self, keys: PublishedKeys) {
        let keys = std::sync::Arc::new(keys);
        match self.current.write() {
            Ok(mut k) => *k = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    use super::*;
    use crate::keys::SigningAlgorithm;

    #[test]
    fn jwks_lists_public_parameters_only() {
        let set =
            PublishedKeys::new(SigningKey::generate(SigningAlgorithm::RS256).unwrap()).unwrap();
        let v: serde_json::Value = serde_json::from_str(set.jwks_json()).unwrap();
        let k = &v["keys"][0];
        assert_eq!(k["kty"], "RSA");
        assert_eq!(k["use"], "sig");
        assert_eq!(k["alg"], "RS256");
        assert_eq!(k["e"], "AQAB");
        assert_eq!(k["kid"], set.active().kid());
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(k["n"].as_str().unwrap())
                .unwrap()
                .len(),
            256
        );
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(k.get(private).is_none(), "{private} leaked");
        }
    }
}
