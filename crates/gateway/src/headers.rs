//! Header rules of a proxy: hop-by-hop fields (RFC 9110 §7.6.1) are not forwarded, and the
//! client's address, host and scheme are recorded (`X-Forwarded-*`, `X-Real-IP`, RFC 7239
//! `Forwarded`). What a client wrote in those fields is replaced, not appended to, unless the
//! TCP peer is a configured trusted proxy (RFC 7239 §8.1: the values are only as trustworthy
//! as the hop that added them).

use actix_web::http::header::{self, HeaderMap, HeaderName};

pub use service_kit::proxies::{TrustedProxies, parse_net};

/// Always hop-by-hop, whatever `Connection` says (RFC 9110 §7.6.1, and the legacy ones).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The fields this hop must not forward: the fixed list, plus those `Connection` names.
/// Built once per message and only looked into: no allocation when there is no `Connection`.
pub struct HopByHop {
    named: Vec<HeaderName>,
}

impl HopByHop {
    pub fn of(headers: &HeaderMap) -> Self {
        let mut named = Vec::new();
        for value in headers.get_all(header::CONNECTION) {
            let Ok(value) = value.to_str() else { continue };
            for token in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if let Ok(name) = HeaderName::from_bytes(token.to_ascii_lowercase().as_bytes()) {
                    named.push(name);
                }
            }
        }
        Self { named }
    }

    pub fn contains(&self, name: &HeaderName) -> bool {
        HOP_BY_HOP.contains(&name.as_str()) || self.named.contains(name)
    }
}

/// `X-Forwarded-For` with `peer` appended to what earlier proxies wrote.
pub fn x_forwarded_for(existing: Option<&str>, peer: &str) -> String {
    match existing.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => format!("{e}, {peer}"),
        None => peer.to_owned(),
    }
}

/// An RFC 7239 `Forwarded` element for this hop, appended to any existing ones.
pub fn forwarded(existing: Option<&str>, peer: &str, host: Option<&str>, proto: &str) -> String {
    // §6: IPv6 addresses are bracketed and the value quoted.
    let for_value = if peer.contains(':') {
        format!("\"[{peer}]\"")
    } else {
        peer.to_owned()
    };
    let mut element = format!("for={for_value}");
    if let Some(host) = host.filter(|h| {
        h.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b';' && b != b',')
    }) {
        element.push_str(&format!(";host=\"{host}\""));
    }
    element.push_str(&format!(";proto={proto}"));
    match existing.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => format!("{e}, {element}"),
        None => element,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    #[test]
    fn connection_names_more_hop_by_hop_fields() {
        let mut h = HeaderMap::new();
        h.append(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, X-Secret-Hop"),
        );
        h.append(
            header::CONNECTION,
            HeaderValue::from_static("close,  ,bad header"),
        );
        let hop = HopByHop::of(&h);
        assert!(hop.contains(&HeaderName::from_static("x-secret-hop")));
        assert!(hop.contains(&HeaderName::from_static("close")));
        assert!(hop.contains(&HeaderName::from_static("transfer-encoding")));
        assert!(!hop.contains(&HeaderName::from_static("x-end-to-end")));
        assert!(HopByHop::of(&HeaderMap::new()).contains(&header::UPGRADE));
    }

    #[test]
    fn forwarded_headers_append() {
        assert_eq!(x_forwarded_for(None, "127.0.0.1"), "127.0.0.1");
        assert_eq!(
            x_forwarded_for(Some("10.0.0.1"), "127.0.0.1"),
            "10.0.0.1, 127.0.0.1"
        );
        assert_eq!(
            forwarded(None, "127.0.0.1", Some("localhost:8085"), "http"),
            "for=127.0.0.1;host=\"localhost:8085\";proto=http"
        );
        assert_eq!(
            forwarded(Some("for=1.2.3.4"), "::1", None, "http"),
            "for=1.2.3.4, for=\"[::1]\";proto=http"
        );
        assert_eq!(
            forwarded(None, "1.1.1.1", Some("a\"b"), "http"),
            "for=1.1.1.1;proto=http"
        );
    }
}
