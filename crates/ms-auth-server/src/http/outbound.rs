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

use std::{net::SocketAddr, sync::Arc, time::Duration};

use futures_util::StreamExt;

use crate::{
    oauth::{
        client_keys::{FetchError, JwksFetcher},
        uri::is_public,
    },
    oidc::backchannel::{Answer, Poster, Reach},
};

pub struct LogoutPoster {
    http: reqwest::Client,
    /// For [`Reach::PublicOnly`]: https to public addresses only, no proxy (outside the
    /// playground).
    public: reqwest::Client,
    playground: bool,
}

impl LogoutPoster {
    /// Each attempt (connect, send, answer) bounded by `timeout`. Fails only when the TLS
    /// stack cannot start: better at start-up than a client without these bounds.
    pub fn new(timeout: Duration, playground: bool) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            http,
            public: strangers_client(timeout, playground)?,
            playground,
        })
    }
}

/// A client for URLs a stranger chose: no redirect, no proxy, https and public addresses only
/// (outside the playground).
fn strangers_client(
    timeout: Duration,
    playground: bool,
) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .https_only(!playground)
        .dns_resolver(Arc::new(PublicAddresses { playground }))
        .build()
}

/// Refuses, before anything is sent, a URL of a stranger's naming a non-public address.
fn refuse_private_literal(url: &url::Url, playground: bool) -> Result<(), &'static str> {
    if playground {
        return Ok(());
    }
    match url.scheme() {
        "https" => {}
        _ => return Err("not https"),
    }
    let private = match url.host() {
        Some(url::Host::Ipv4(ip)) => !is_public(ip.into()),
        Some(url::Host::Ipv6(ip)) => !is_public(ip.into()),
        Some(url::Host::Domain(_)) => false,
        None => true,
    };
    if private {
        return Err("not a public address");
    }
    Ok(())
}

#[async_trait::async_trait]
impl Poster for LogoutPoster {
    async fn post_logout_token(&self, uri: &str, token: &str, reach: Reach) -> Answer {
        let http = match reach {
            Reach::Anywhere => &self.http,
            Reach::PublicOnly => {
                let checked = url::Url::parse(uri)
                    .map_err(|_| "not a URL")
                    .and_then(|u| refuse_private_literal(&u, self.playground));
                if let Err(why) = checked {
                    return Answer::Unreachable(format!("refused: {why}"));
                }
                &self.public
            }
        };
        match http.post(uri).form(&[("logout_token", token)]).send().await {
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
        Ok(Self {
            http: strangers_client(timeout, playground)?,
            max_bytes,
            playground,
        })
    }
}

#[async_trait::async_trait]
impl JwksFetcher for JwksClient {
    async fn fetch(&self, uri: &str) -> Result<serde_json::Value, FetchError> {
        let url = url::Url::parse(uri).map_err(|_| FetchError::Refused("not a URL"))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(FetchError::Refused("not https"));
        }
        // The resolver sees names only: an address literal is checked here.
        refuse_private_literal(&url, self.playground).map_err(FetchError::Refused)?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
