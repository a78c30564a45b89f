//! What a resource server configures to validate access tokens.

use std::time::Duration;

use serde::Deserialize;

use crate::transport::check_url;

/// Settings of a [`crate::Verifier`]. Deserialisable, so a service can embed it in its config
/// (an `[auth]` table).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerifierSettings {
    /// Issuer identifier the tokens must carry in `iss`, character for character.
    pub issuer: String,
    /// JWKS URL. When unset it is read from the issuer's RFC 8414 metadata.
    pub jwks_url: Option<String>,
    /// Metadata URL for discovery; `{issuer}/.well-known/oauth-authorization-server` when unset.
    pub discovery_url: Option<String>,
    /// Accepted `aud` values: a token must name one of them (RFC 9068 §4). Empty means the
    /// resource's own identifier (`resource`); with neither, every token is refused.
    pub audience: Vec<String>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
    /// Tokens longer than this are refused before any parsing.
    pub max_token_bytes: usize,
    /// RFC 9068 §4: require the `typ` header `at+jwt`, so that an ID token or another JWT signed
    /// by the same key is not taken for an access token.
    pub require_at_jwt_typ: bool,
    /// Background refresh of the key set, in seconds.
    pub refresh_interval_secs: u64,
    /// At most one refetch for unknown `kid`s per this many seconds (at least 1); a kid a
    /// refetch did not bring is also refused without another fetch for this long.
    pub min_refetch_interval_secs: u64,
    /// Timeout of one key or metadata fetch, in seconds.
    pub fetch_timeout_secs: u64,
    /// Verified tokens remembered (until their `exp`) so a reused token skips the signature
    /// check; 0 disables.
    pub token_cache_size: usize,
    /// `realm` of `WWW-Authenticate` challenges, usually the service's name.
    pub realm: String,
    /// The resource's public URL (RFC 9728 `resource`); its metadata URL goes in challenges.
    pub resource: Option<String>,
    /// How routes guarded by [`crate::require_active_scope`] ask whether a token was revoked
    /// (`[auth.introspection]`).
    pub introspection: Option<IntrospectionSettings>,
}

/// RFC 7662 introspection of tokens on routes that must not accept a revoked one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntrospectionSettings {
    /// The issuer's introspection endpoint.
    pub url: String,
    /// This resource server's client credentials at the issuer (`client_secret_basic`).
    pub client_id: String,
    pub client_secret: Secret,
    /// How long an answer is reused: a revoked token stops working within this time.
    #[serde(default = "default_cache_secs")]
    pub cache_secs: u64,
    /// Answers remembered at most.
    #[serde(default = "default_max_entries")]
    pub max_entries: usize,
}

fn default_cache_secs() -> u64 {
    5
}

fn default_max_entries() -> usize {
    10_000
}

/// A credential from the config whose `Debug` shows nothing.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Default for VerifierSettings {
    fn default() -> Self {
        Self {
            issuer: "http://localhost:8085/ms-auth-server".to_owned(),
            jwks_url: None,
            discovery_url: None,
            audience: Vec::new(),
            leeway_secs: 30,
            max_token_bytes: 8 * 1024,
            require_at_jwt_typ: true,
            refresh_interval_secs: 300,
            min_refetch_interval_secs: 5,
            fetch_timeout_secs: 5,
            token_cache_size: 10_000,
            realm: "resource".to_owned(),
            resource: None,
            introspection: None,
        }
    }
}

/// The fewest bits of entropy a shared secret may carry outside the playground.
pub const MIN_SECRET_BITS: f64 = 128.0;

/// An estimate of a secret's entropy: its length times the lower of two per-character
/// figures, the bits of the character classes it uses (lower, upper, digits, others) and the
/// Shannon entropy of its own characters — so repeated words and short strings score low.
/// Generated secrets (base64url of 32 random bytes: 43 characters) score about 200 bits.
pub fn secret_strength_bits(secret: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in secret.chars() {
        *counts.entry(c).or_insert(0u32) += 1;
    }
    let n: u32 = counts.values().sum();
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    let shannon: f64 = counts
        .values()
        .map(|&k| {
            let p = f64::from(k) / n;
            -p * p.log2()
        })
        .sum();
    let has = |f: fn(&char) -> bool| secret.chars().any(|c| f(&c));
    let pool = [
        (has(char::is_ascii_lowercase), 26.0),
        (has(char::is_ascii_uppercase), 26.0),
        (has(char::is_ascii_digit), 10.0),
        (has(|c| !c.is_ascii_alphanumeric()), 33.0),
    ]
    .iter()
    .filter(|(present, _)| *present)
    .map(|(_, size)| size)
    .sum::<f64>();
    n * shannon.min(pool.log2())
}

impl VerifierSettings {
    /// Refuses settings a service must not start with; the error names the key (under the
    /// services' `[auth]` table). Call it at start-up, before [`crate::Verifier::new`], with the
    /// service's `playground` flag: only then may the issuer, the JWKS, discovery and
    /// introspection URLs be plain http on a host other than loopback.
    pub fn validate(&self, playground: bool) -> Result<(), String> {
        if self.min_refetch_interval_secs < 1 {
            // F15: 0 would let every token with a made-up `kid` cost the issuer a JWKS fetch.
            return Err("`auth.min_refetch_interval_secs`: must be at least 1".to_owned());
        }
        // The discovery URL defaults to one under the issuer, so the issuer is checked too.
        check_url("auth.issuer", &self.issuer, playground)?;
        if let Some(url) = &self.jwks_url {
            check_url("auth.jwks_url", url, playground)?;
        }
        if let Some(url) = &self.discovery_url {
            check_url("auth.discovery_url", url, playground)?;
        }
        if let Some(introspection) = &self.introspection {
            // It carries this server's client secret (RFC 6749 §2.3.1 requires TLS).
            check_url("auth.introspection.url", &introspection.url, playground)?;
            if !playground && secret_strength_bits(&introspection.client_secret.0) < MIN_SECRET_BITS
            {
                return Err(format!(
                    "`auth.introspection.client_secret`: too weak (under {MIN_SECRET_BITS} bits): use one from `ms-auth-server generate-secret`"
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn refresh_interval(&self) -> Duration {
        Duration::from_secs(self.refresh_interval_secs.max(1))
    }

    /// At least a second whatever the config says: 0 would let every unknown `kid` refetch.
    pub(crate) fn min_refetch_interval(&self) -> Duration {
        Duration::from_secs(self.min_refetch_interval_secs.max(1))
    }

    /// RFC 9728 §3.1: where clients look for this resource's metadata — the well-known path
    /// inserted between the resource identifier's host and its path
    /// (`https://api.example/customers` → `https://api.example/.well-known/oauth-protected-resource/customers`).
    /// The gateway routes that form to the service, which also serves the appended one.
    pub fn resource_metadata_url(&self) -> Option<String> {
        self.resource.as_deref().map(metadata_url)
    }
}

fn metadata_url(resource: &str) -> String {
    const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
    let resource = resource.trim_end_matches('/');
    // scheme://authority, then the path (no query or fragment in a resource identifier).
    let after_scheme = resource.find("://").map_or(0, |i| i + 3);
    match resource[after_scheme..].find('/') {
        Some(i) => {
            let (origin, path) = resource.split_at(after_scheme + i);
            format!("{origin}{WELL_KNOWN}{path}")
        }
        None => format!("{resource}{WELL_KNOWN}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(VerifierSettings::default().validate(false), Ok(()));
    }

    #[test]
    fn plain_http_off_loopback_is_refused_unless_playground() {
        let https = VerifierSettings {
            issuer: "https://auth.example/ms-auth-server".to_owned(),
            ..VerifierSettings::default()
        };
        assert_eq!(https.validate(false), Ok(()));
        let refusal = |key: &str| {
            Err(format!(
                "`{key}`: must be an https URL (http only for a loopback host, or with playground = true)"
            ))
        };
        let cases = [
            (
                "auth.issuer",
                VerifierSettings {
                    issuer: "http://auth.example/ms-auth-server".to_owned(),
                    ..https.clone()
                },
            ),
            (
                "auth.jwks_url",
                VerifierSettings {
                    jwks_url: Some(
                        "http://ms-auth-server:9000/ms-auth-server/oauth2/jwks".to_owned(),
                    ),
                    ..https.clone()
                },
            ),
            (
                "auth.discovery_url",
                VerifierSettings {
                    discovery_url: Some(
                        "http://auth.example/.well-known/oauth-authorization-server".to_owned(),
                    ),
                    ..https.clone()
                },
            ),
            (
                "auth.introspection.url",
                VerifierSettings {
                    introspection: Some(IntrospectionSettings {
                        url: "http://auth.example/oauth2/introspect".to_owned(),
                        client_id: "rs".to_owned(),
                        client_secret: Secret("s".to_owned()),
                        cache_secs: 5,
                        max_entries: 10,
                    }),
                    ..https.clone()
                },
            ),
        ];
        for (key, settings) in cases {
            assert_eq!(settings.validate(false), refusal(key), "{key}");
            assert_eq!(settings.validate(true), Ok(()), "{key} in the playground");
        }
        let loopback = VerifierSettings {
            issuer: "http://127.0.0.1:9000/ms-auth-server".to_owned(),
            jwks_url: Some("http://[::1]:9000/ms-auth-server/oauth2/jwks".to_owned()),
            ..VerifierSettings::default()
        };
        assert_eq!(loopback.validate(false), Ok(()));
    }

    #[test]
    fn a_zero_refetch_interval_is_refused_and_clamped() {
        let settings = VerifierSettings {
            min_refetch_interval_secs: 0,
            ..VerifierSettings::default()
        };
        assert_eq!(
            settings.validate(true),
            Err("`auth.min_refetch_interval_secs`: must be at least 1".to_owned())
        );
        assert_eq!(settings.min_refetch_interval(), Duration::from_secs(1));
    }

    /// RFC 9728 §3.1's own example: `https://resource.example.com/resource1` →
    /// `https://resource.example.com/.well-known/oauth-protected-resource/resource1`.
    #[test]
    fn the_metadata_url_inserts_the_well_known_path() {
        assert_eq!(
            metadata_url("https://resource.example.com/resource1"),
            "https://resource.example.com/.well-known/oauth-protected-resource/resource1"
        );
        assert_eq!(
            metadata_url("http://localhost:8085/customer-service/"),
            "http://localhost:8085/.well-known/oauth-protected-resource/customer-service"
        );
        assert_eq!(
            metadata_url("https://api.example.com"),
            "https://api.example.com/.well-known/oauth-protected-resource"
        );
    }
}
