//! The server's own outgoing HTTP:
//!
//! - back-channel logout tokens POSTed to clients (OpenID Connect Back-Channel Logout 1.0
//!   §2.5) — a form with `logout_token`, each attempt bounded, no redirect followed (the token
//!   goes only to the registered URI), nothing read back but the status;
//! - clients' `jwks_uri` key sets fetched for `private_key_jwt` ([`JwksClient`]) — a URL a
//!   client chose, so fetched as one would fetch for a stranger: https only, never to a
//!   loopback, private, link-local or otherwise non-public address (checked on every address
//!   a name resolves to, at connection time, so a name cannot be re-pointed after a check),
//!   no redirect followed, no proxy, bounded in time and size. The playground, whose clients
//!   live on loopback, may fetch over http from anywhere.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use futures_util::StreamExt;

use crate::{
    oauth::client_keys::{FetchError, JwksFetcher},
    oidc::backchannel::{Answer, Poster},
};

pub struct LogoutPoster {
    http: reqwest::Client,
}

impl LogoutPoster {
    /// Each attempt (connect, send, answer) bounded by `timeout`. Fails only when the TLS
    /// stack cannot start: better at start-up than a client without these bounds.
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { http })
    }
}

#[async_trait::async_trait]
impl Poster for LogoutPoster {
    async fn post_logout_token(&self, uri: &str, token: &str) -> Answer {
        match self
            .http
            .post(uri)
            .form(&[("logout_token", token)])
            .send()
            .await
        {
            Ok(res) => Answer::Status(res.status().as_u16()),
            // Without the URL: a query could carry something the client put there.
            Err(e) => Answer::Unreachable(e.without_url().to_string()),
        }
    }
}

/// Fetches clients' key sets (see the module's rules).
pub struct JwksClient {
    http: reqwest::Client,
    max_bytes: usize,
    /// The playground: http, and loopback or private addresses, allowed.
    playground: bool,
}

impl JwksClient {
    /// Fails only when the TLS stack cannot start.
    pub fn new(
        timeout: Duration,
        max_bytes: usize,
        playground: bool,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .https_only(!playground)
            .dns_resolver(Arc::new(PublicAddresses { playground }))
            .build()?;
        Ok(Self {
            http,
            max_bytes,
            playground,
        })
    }
}

#[async_trait::async_trait]
impl JwksFetcher for JwksClient {
    async fn fetch(&self, uri: &str) -> Result<serde_json::Value, FetchError> {
        let url = url::Url::parse(uri).map_err(|_| FetchError::Refused("not a URL"))?;
        match url.scheme() {
            "https" => {}
            "http" if self.playground => {}
            _ => return Err(FetchError::Refused("not https")),
        }
        // The resolver sees names only: an address literal is checked here.
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(FetchError::Refused("no host")),
        };
        if literal.is_some_and(|ip| !self.playground && !is_public(ip)) {
            return Err(FetchError::Refused("not a public address"));
        }
        let res = self
            .http
            .get(url)
            .header(
                reqwest::header::ACCEPT,
                "application/jwk-set+json, application/json",
            )
            .send()
            .await
            .map_err(|e| FetchError::Unreachable(e.without_url().to_string()))?;
        let status = res.status();
        if status.is_redirection() {
            return Err(FetchError::Refused("a redirect"));
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        if res
            .content_length()
            .is_some_and(|n| n > self.max_bytes as u64)
        {
            return Err(FetchError::TooLarge(self.max_bytes));
        }
        let mut body = Vec::new();
        let mut chunks = res.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| FetchError::Unreachable(e.without_url().to_string()))?;
            if body.len() + chunk.len() > self.max_bytes {
                return Err(FetchError::TooLarge(self.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|_| FetchError::NotAKeySet)
    }
}

/// Resolves names to their public addresses only (all of them, outside the playground).
struct PublicAddresses {
    playground: bool,
}

impl reqwest::dns::Resolve for PublicAddresses {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let playground = self.playground;
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = all
                .into_iter()
                .filter(|a| playground || is_public(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err("the name resolves to no public address".into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether `ip` is an address of the public internet: not loopback, private (RFC 1918, RFC
/// 4193), shared (RFC 6598), link-local (cloud metadata services live there), unspecified,
/// broadcast, multicast, documentation or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
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
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || (a == 198 && (18..20).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
                || first == 0x0064 && v6.segments()[1] == 0xff9b)
        }
    }
}

#[cfg(test)]
mod tests {
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
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn a_loopback_uri_is_never_fetched_outside_the_playground() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let client = JwksClient::new(Duration::from_secs(2), 65536, false).unwrap();
        for uri in [
            format!("https://127.0.0.1:{port}/jwks"),
            format!("https://localhost:{port}/jwks"),
            format!("https://[::ffff:127.0.0.1]:{port}/jwks"),
            format!("http://example.com:{port}/jwks"),
        ] {
            let e = client.fetch(&uri).await.unwrap_err();
            assert!(
                matches!(e, FetchError::Refused(_) | FetchError::Unreachable(_)),
                "{uri}: {e:?}"
            );
        }
        assert!(
            listener.accept().is_err(),
            "nothing connected to the loopback listener"
        );
    }
}
