//! Redirect URIs (RFC 6749 §3.1.2), parsed once when registered and compared by exact string
//! (RFC 9700 §2.1: "authorization servers MUST utilize exact string matching"), except for
//! the port of a loopback IP redirect URI (RFC 8252 §7.3).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A registered redirect URI: absolute, without a fragment, kept as registered.
#[derive(Clone, PartialEq, Eq)]
pub struct RedirectUri {
    raw: String,
    /// `raw` without its port, when it is a loopback IP redirect URI (RFC 8252 §7.3).
    loopback: Option<String>,
    url: url::Url,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidRedirectUri {
    #[error("{0:?} is not an absolute URI")]
    NotAbsolute(String),
    /// RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
    #[error("{0:?} has a fragment: a redirect URI must not (RFC 6749 §3.1.2)")]
    Fragment(String),
}

impl RedirectUri {
    pub fn parse(raw: &str) -> Result<Self, InvalidRedirectUri> {
        let url =
            url::Url::parse(raw).map_err(|_| InvalidRedirectUri::NotAbsolute(raw.to_owned()))?;
        if url.fragment().is_some() || raw.contains('#') {
            return Err(InvalidRedirectUri::Fragment(raw.to_owned()));
        }
        Ok(Self {
            loopback: loopback_without_port(raw),
            raw: raw.to_owned(),
            url,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn url(&self) -> &url::Url {
        &self.url
    }

    /// Whether `presented` (a request's `redirect_uri`) is this URI: the same string, or —
    /// for a loopback IP redirect URI — the same string but for the port. RFC 8252 §7.3: "The
    /// authorization server MUST allow any port to be specified at the time of the request
    /// for loopback IP redirect URIs, to accommodate clients that obtain an available
    /// ephemeral port from the operating system at the time of the request." `localhost` is
    /// not a loopback IP (RFC 8252 §8.3): it is matched exactly.
    pub fn matches(&self, presented: &str) -> bool {
        if presented == self.raw {
            return true;
        }
        match (&self.loopback, loopback_without_port(presented)) {
            (Some(registered), Some(presented)) => *registered == presented,
            _ => false,
        }
    }
}

impl RedirectUri {
    /// Whether `origin` (a request's `Origin` header, RFC 6454 §7) is this URI's origin —
    /// for a loopback IP redirect URI, at any port, as [`Self::matches`] allows. A page served
    /// where the client receives its code may then read the token endpoint's answer (CORS).
    /// An opaque origin (a private-use scheme's, or `null`) is never anyone's.
    pub fn is_origin_of(&self, origin: &str) -> bool {
        let own = match self.url.origin() {
            o @ url::Origin::Tuple(..) => o.ascii_serialization(),
            url::Origin::Opaque(_) => return false,
        };
        origin == own
            || (self.loopback.is_some()
                && loopback_without_port(origin)
                    .is_some_and(|o| Some(o) == loopback_without_port(&own)))
    }
}

/// `raw` with its port removed, if it is `http://127.0.0.1[:port]…` or `http://[::1][:port]…`
/// with nothing between the host and the path but the port: the two forms of RFC 8252 §7.3.
fn loopback_without_port(raw: &str) -> Option<String> {
    let (host, rest) = ["http://127.0.0.1", "http://[::1]"]
        .iter()
        .find_map(|host| raw.strip_prefix(host).map(|rest| (*host, rest)))?;
    let rest = match rest.strip_prefix(':') {
        Some(port) => {
            let digits = port.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || digits > 5 {
                return None;
            }
            &port[digits..]
        }
        None => rest,
    };
    if !(rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')) {
        return None;
    }
    Some(format!("{host}{rest}"))
}

impl fmt::Debug for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedirectUri({:?})", self.raw)
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Serialize for RedirectUri {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for RedirectUri {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(raw: &str) -> RedirectUri {
        RedirectUri::parse(raw).unwrap()
    }

    #[test]
    fn the_origin_of_a_redirect_uri() {
        let spa = uri("http://127.0.0.1:8080/spa/callback");
        assert!(spa.is_origin_of("http://127.0.0.1:8080"));
        assert!(
            spa.is_origin_of("http://127.0.0.1:41234"),
            "loopback: any port"
        );
        for other in [
            "http://127.0.0.1:8080/",
            "http://localhost:8080",
            "https://127.0.0.1:8080",
            "null",
            "",
        ] {
            assert!(!spa.is_origin_of(other), "{other}");
        }
        let web = uri("https://app.example/cb");
        assert!(web.is_origin_of("https://app.example"));
        assert!(
            !web.is_origin_of("https://app.example:8443")
                && !web.is_origin_of("https://evil.example")
        );
        assert!(!uri("com.example.app:/cb").is_origin_of("null"));
    }

    #[test]
    fn exact_string_matching() {
        // RFC 9700 §2.1 / OAuth 2.1 §2.3.1: no prefix, case or normalisation tolerance.
        let r = uri("https://app.example/cb?x=1");
        assert!(r.matches("https://app.example/cb?x=1"));
        for other in [
            "https://app.example/cb",
            "https://app.example/cb?x=1&y=2",
            "https://app.example/cb/",
            "https://app.example/cb/../cb?x=1",
            "https://APP.example/cb?x=1",
            "HTTPS://app.example/cb?x=1",
            "https://app.example:443/cb?x=1",
            "https://app.example.evil/cb?x=1",
            "https://app.example/cb?x=1#f",
            "https://app.example/cb?x=%31",
        ] {
            assert!(!r.matches(other), "{other}");
        }
    }

    #[test]
    fn loopback_ip_redirect_uris_match_any_port() {
        // RFC 8252 §7.3, both forms, registered with or without a port.
        let v4 = uri("http://127.0.0.1:8080/login/oauth2/code/playground-web");
        assert!(v4.matches("http://127.0.0.1:8080/login/oauth2/code/playground-web"));
        assert!(v4.matches("http://127.0.0.1:51004/login/oauth2/code/playground-web"));
        assert!(v4.matches("http://127.0.0.1/login/oauth2/code/playground-web"));
        let bare = uri("http://127.0.0.1/cb");
        assert!(bare.matches("http://127.0.0.1:1/cb"));
        let v6 = uri("http://[::1]:3000/cb?a=b");
        assert!(v6.matches("http://[::1]:61000/cb?a=b"));
        assert!(v6.matches("http://[::1]/cb?a=b"));
    }

    #[test]
    fn only_the_port_of_a_loopback_ip_uri_may_differ() {
        let r = uri("http://127.0.0.1:8080/cb");
        for other in [
            "http://127.0.0.1:8080/cb2",
            "http://127.0.0.1:8080/cb?x",
            "http://127.0.0.1:8080",
            "http://127.0.0.2:8080/cb",
            "http://[::1]:8080/cb",
            "https://127.0.0.1:8080/cb",
            "http://127.0.0.1:8080@evil.example/cb",
            "http://127.0.0.1.evil.example/cb",
            "http://127.0.0.1:/cb",
            "http://127.0.0.1:123456/cb",
            "http://localhost:8080/cb",
        ] {
            assert!(!r.matches(other), "{other}");
        }
    }

    #[test]
    fn localhost_is_not_a_loopback_ip_and_matches_exactly() {
        // RFC 8252 §8.3: localhost is NOT RECOMMENDED and not covered by §7.3's port rule.
        let r = uri("http://localhost:8080/cb");
        assert!(r.matches("http://localhost:8080/cb"));
        assert!(!r.matches("http://localhost:9090/cb"));
        assert!(!r.matches("http://127.0.0.1:8080/cb"));
    }

    #[test]
    fn https_on_a_loopback_address_matches_exactly() {
        // §7.3's rule is for http loopback redirects; anything else is compared whole.
        let r = uri("https://127.0.0.1:8443/cb");
        assert!(!r.matches("https://127.0.0.1:9443/cb"));
    }

    #[test]
    fn fragments_and_relative_uris_are_refused() {
        // RFC 6749 §3.1.2: absolute, and "MUST NOT include a fragment component".
        assert!(matches!(
            RedirectUri::parse("https://app.example/cb#frag"),
            Err(InvalidRedirectUri::Fragment(_))
        ));
        assert!(matches!(
            RedirectUri::parse("https://app.example/cb#"),
            Err(InvalidRedirectUri::Fragment(_))
        ));
        for relative in ["/cb", "cb", "//app.example/cb", ""] {
            assert!(
                matches!(
                    RedirectUri::parse(relative),
                    Err(InvalidRedirectUri::NotAbsolute(_))
                ),
                "{relative}"
            );
        }
    }

    #[test]
    fn kept_as_registered() {
        // The url crate would normalise this to ".../cb/" with the default port dropped;
        // the registered string is what is compared and shown.
        let r = uri("https://app.example:443/a/../cb");
        assert_eq!(r.as_str(), "https://app.example:443/a/../cb");
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            "https://app.example:443/a/../cb"
        );
        let back: RedirectUri = serde_json::from_value(serde_json::json!(r.as_str())).unwrap();
        assert_eq!(back, r);
        assert!(serde_json::from_value::<RedirectUri>(serde_json::json!("x#y")).is_err());
    }
}
