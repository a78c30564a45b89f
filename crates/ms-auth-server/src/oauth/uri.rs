//! When a URL the server is configured or registered with may be plain http: on a loopback
//! host, where nothing leaves the machine, or in the playground (RFC 8414 §2, RFC 9728 §1.2,
//! RFC 8252 §8.3).

/// Whether `url`'s host is loopback (`localhost`, 127.0.0.0/8, ::1).
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether `ip` is an address of the public internet: not loopback, private (RFC 1918, RFC
/// 4193), shared (RFC 6598), link-local (cloud metadata services live there), unspecified,
/// broadcast, multicast, documentation, benchmarking or reserved — nor an IPv6 form embedding
/// such an IPv4 address (mapped, compatible, 6to4, NAT64). Checked before this server sends
/// anything to an address a client chose.
pub fn is_public(ip: std::net::IpAddr) -> bool {
    use std::net::{IpAddr, Ipv4Addr};
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                IpAddr::V4(Ipv4Addr::new(
                    (hi >> 8) as u8,
                    hi as u8,
                    (lo >> 8) as u8,
                    lo as u8,
                ))
            };
            // 6to4 (2002::/16) and NAT64 (64:ff9b::/96) carry an IPv4 address; so did the
            // deprecated IPv4-compatible form (::/96).
            if s[0] == 0x2002 {
                return is_public(embedded(s[1], s[2]));
            }
            if s[..6] == [0; 6] || (s[0] == 0x0064 && s[1] == 0xff9b) {
                return false;
            }
            // Only global unicast (2000::/3), less its special-purpose blocks (RFC 6890).
            (s[0] & 0xe000) == 0x2000
                && !(s[0] == 0x2001 && s[1] < 0x0200)
                && !(s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

/// Whether `url` names a host this server must not send to for a stranger: `localhost` (and
/// its subdomains), or an address literal that is not public. A name that resolves to a
/// private address is caught when it is resolved ([`is_public`] on every address).
pub fn names_a_private_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => !is_public(ip.into()),
        Some(url::Host::Ipv6(ip)) => !is_public(ip.into()),
        None => true,
    }
}

/// https, or http on a loopback host or in the playground.
pub fn is_https_or_local(url: &url::Url, playground: bool) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => playground || is_loopback(url),
        _ => false,
    }
}

/// An RFC 9728 resource identifier: an absolute https URL without a fragment (http only on
/// loopback or in the playground).
pub fn validate_resource(resource: &str, playground: bool) -> Result<(), String> {
    let url = url::Url::parse(resource).map_err(|e| format!("{resource:?} is not a URL: {e}"))?;
    if url.fragment().is_some() || url.host().is_none() {
        return Err(
            "must be an absolute URL with a host and no fragment (RFC 9728 §1.2)".to_owned(),
        );
    }
    if is_https_or_local(&url, playground) {
        Ok(())
    } else {
        Err("must be an https URL (http only on loopback, or with playground = true)".to_owned())
    }
}

#[cfg(test)]
mod public_tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "fec0::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::7f00:1",
            "2001:db8::1",
            "64:ff9b::a00:1",
            "2002:7f00:1::1",
            "2002:a00:1::",
            "100::1",
            "2001::1",
            "ff02::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "2002:808:808::1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn private_hosts_by_name_and_literal() {
        for private in [
            "https://localhost/j",
            "https://LOCALHOST./j",
            "https://a.localhost/j",
            "https://127.0.0.1/j",
            "https://[::1]/j",
            "https://10.0.0.1/j",
            "https://169.254.169.254/j",
        ] {
            assert!(
                names_a_private_host(&url::Url::parse(private).unwrap()),
                "{private}"
            );
        }
        assert!(!names_a_private_host(
            &url::Url::parse("https://app.example/j").unwrap()
        ));
    }
}
