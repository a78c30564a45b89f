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
