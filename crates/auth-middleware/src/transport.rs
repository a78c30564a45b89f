//! Where the issuer's keys may come from (F10; RFC 8414 §2 requires https issuers, and keys
//! fetched over plain http can be swapped by anyone on the path): https URLs, plain http only
//! for a loopback host or in the playground, and never a step down from https to http, by a
//! redirect or by the `jwks_uri` a metadata document names.

use std::net::IpAddr;

use reqwest::{Url, redirect};

/// Redirects followed by a key or metadata fetch.
const MAX_REDIRECTS: usize = 3;

/// Refuses `value` (the setting `key`) unless it is an https URL, or an http one for a loopback
/// host (127.0.0.0/8, ::1, `localhost`) or with `playground`.
pub fn check_url(key: &str, value: &str, playground: bool) -> Result<(), String> {
    let url = Url::parse(value).map_err(|e| format!("`{key}`: not a URL ({e})"))?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if playground || is_loopback(&url) => Ok(()),
        _ => Err(format!(
            "`{key}`: must be an https URL (http only for a loopback host, or with playground = true)"
        )),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// Whether going from `from` to `to` leaves TLS behind.
pub fn is_downgrade(from: &Url, to: &Url) -> bool {
    from.scheme() == "https" && to.scheme() != "https"
}

/// Why a redirect to `next`, after `previous` (the URLs already requested, first one first),
/// is not followed; `None` to follow it.
///
/// Redirects are followed rather than refused outright: an issuer may serve its keys through
/// another https host (a CDN, a moved path), and an https→https redirect keeps the chain of
/// TLS-authenticated hosts the fetch started with. Leaving https is what lets a network
/// attacker answer with keys of their own, so that alone is refused, anywhere in the chain.
pub fn redirect_refusal(previous: &[Url], next: &Url) -> Option<&'static str> {
    if previous.len() >= MAX_REDIRECTS {
        return Some("too many redirects");
    }
    if previous.iter().any(|from| is_downgrade(from, next)) {
        return Some("redirect from https to a plain http URL refused");
    }
    None
}

/// [`redirect_refusal`] as a reqwest policy.
pub fn redirect_policy() -> redirect::Policy {
    redirect::Policy::custom(
        |attempt| match redirect_refusal(attempt.previous(), attempt.url()) {
            Some(reason) => attempt.error(reason),
            None => attempt.follow(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn https_anywhere_and_http_only_on_loopback_or_in_the_playground() {
        for ok in [
            "https://issuer.example/keys",
            "http://localhost:9000/x",
            "http://LOCALHOST/x",
            "http://127.0.0.1:9000/x",
            "http://127.9.8.7/x",
            "http://[::1]:9000/x",
        ] {
            assert_eq!(check_url("auth.jwks_url", ok, false), Ok(()), "{ok}");
        }
        for refused in [
            "http://issuer.example/keys",
            "http://ms-auth-server:9000/x",
            "http://10.0.0.1/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://localhost.evil.example/x",
            "http://127.0.0.1.evil.example/x",
            "ftp://localhost/x",
            "file:///etc/keys",
        ] {
            assert_eq!(
                check_url("auth.jwks_url", refused, false),
                Err("`auth.jwks_url`: must be an https URL (http only for a loopback host, or with playground = true)".to_owned()),
                "{refused}"
            );
        }
        assert_eq!(
            check_url("auth.jwks_url", "http://ms-auth-server:9000/x", true),
            Ok(())
        );
        assert_eq!(
            check_url("auth.jwks_url", "ftp://ms-auth-server/x", true).map_err(|_| ()),
            Err(())
        );
        assert!(
            check_url("auth.issuer", "not a url", true)
                .unwrap_err()
                .starts_with("`auth.issuer`: not a URL")
        );
    }

    #[test]
    fn redirects_never_leave_https() {
        let https = url("https://issuer.example/jwks");
        let cdn = url("https://cdn.example/jwks");
        let plain = url("http://cdn.example/jwks");
        assert_eq!(redirect_refusal(std::slice::from_ref(&https), &cdn), None);
        assert_eq!(
            redirect_refusal(std::slice::from_ref(&https), &plain),
            Some("redirect from https to a plain http URL refused")
        );
        // Once on https, a later hop may not leave it either.
        assert!(redirect_refusal(&[https.clone(), cdn.clone()], &plain).is_some());
        // An upgrade, and plain http where plain http was configured, are followed.
        let local = url("http://127.0.0.1:9000/jwks");
        assert_eq!(redirect_refusal(std::slice::from_ref(&local), &https), None);
        assert_eq!(redirect_refusal(std::slice::from_ref(&local), &local), None);
        assert_eq!(
            redirect_refusal(&[local.clone(), local.clone(), local.clone()], &local),
            Some("too many redirects")
        );
        assert!(is_downgrade(&https, &plain));
        assert!(!is_downgrade(&plain, &https));
    }
}
