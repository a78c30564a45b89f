//! Who the client is when requests come through proxies: `trusted_proxies` (addresses and
//! CIDR ranges) whose forwarding fields are believed (RFC 7239 §8.1: the values are only as
//! trustworthy as the hop that added them), and the client address taken from them.

use std::net::IpAddr;

/// `server.trusted_proxies`: addresses and CIDR ranges whose forwarding fields are kept.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<(IpAddr, u8)>,
}

/// `a.b.c.d`, `a.b.c.d/n`, an IPv6 address, or `ipv6/n`.
pub fn parse_net(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match s.split_once('/') {
        Some((addr, len)) => (addr, Some(len)),
        None => (s, None),
    };
    let addr: IpAddr = addr.trim().parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => l.trim().parse::<u8>().ok().filter(|&l| l <= max)?,
    };
    Some((addr.to_canonical(), len))
}

impl TrustedProxies {
    /// The ranges that parse (the settings were validated with [`parse_net`]).
    pub fn new(entries: &[String]) -> Self {
        Self {
            nets: entries.iter().filter_map(|e| parse_net(e)).collect(),
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|&(net, len)| match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        })
    }

    /// The client's address: the TCP peer, unless it is a trusted proxy; then the nearest
    /// address in `X-Forwarded-For` (read right to left) that is not one. A malformed entry
    /// stops the walk at the last trusted hop, so a client cannot choose its address.
    pub fn client_ip(&self, peer: Option<IpAddr>, x_forwarded_for: Option<&str>) -> Option<IpAddr> {
        let mut addr = peer?;
        if !self.contains(addr) {
            return Some(addr);
        }
        for entry in x_forwarded_for.unwrap_or_default().rsplit(',') {
            let Ok(hop) = entry.trim().parse::<IpAddr>() else {
                return Some(addr);
            };
            addr = hop;
            if !self.contains(addr) {
                return Some(addr);
            }
        }
        Some(addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_match_addresses_and_ranges() {
        let t = TrustedProxies::new(&[
            "10.0.0.0/8".into(),
            "192.0.2.7".into(),
            "2001:db8::/32".into(),
            "0.0.0.0/0".into(),
        ]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(t.contains(ip("10.200.3.4")) && t.contains(ip("192.0.2.7")));
        assert!(t.contains(ip("2001:db8:1::5")) && !t.contains(ip("2001:db9::1")));
        let narrow = TrustedProxies::new(&["10.0.0.0/8".into(), "192.0.2.7".into()]);
        assert!(!narrow.contains(ip("11.0.0.1")) && !narrow.contains(ip("192.0.2.8")));
        assert!(narrow.contains(ip("::ffff:10.1.2.3")), "v4-mapped v6 peer");
        assert!(!TrustedProxies::default().contains(ip("127.0.0.1")));
        let everything6 = TrustedProxies::new(&["::/0".into()]);
        assert!(everything6.contains(ip("::1")) && !everything6.contains(ip("127.0.0.1")));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "nope",
            "10.0.0.0/",
            "1.2.3.4/x",
            "",
        ] {
            assert!(parse_net(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_client_ip_comes_from_trusted_hops_only() {
        let t = TrustedProxies::new(&["127.0.0.1".into(), "10.0.0.0/8".into()]);
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        // An untrusted peer is the client, whatever it wrote.
        assert_eq!(
            t.client_ip(ip("203.0.113.9"), Some("1.2.3.4")),
            ip("203.0.113.9")
        );
        // Through the gateway: the address the gateway recorded.
        assert_eq!(
            t.client_ip(ip("127.0.0.1"), Some("198.51.100.7")),
            ip("198.51.100.7")
        );
        // A client-written first entry is skipped: only trusted hops count.
        assert_eq!(
            t.client_ip(ip("127.0.0.1"), Some("6.6.6.6, 198.51.100.7, 10.1.1.1")),
            ip("198.51.100.7")
        );
        assert_eq!(t.client_ip(ip("127.0.0.1"), Some("junk")), ip("127.0.0.1"));
        assert_eq!(t.client_ip(ip("127.0.0.1"), None), ip("127.0.0.1"));
        assert_eq!(t.client_ip(None, None), None);
    }
}
