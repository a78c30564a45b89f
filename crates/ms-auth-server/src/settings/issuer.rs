//! `issuer`: the server's identifier, the public URL every token and endpoint names.

use super::{SettingsError, invalid};
use crate::oauth::uri::is_loopback;

/// RFC 8414 §2: "The authorization server's issuer identifier, which is a URL that uses the
/// https scheme and has no query or fragment components". Plain http only for a loopback host
/// or in the playground.
pub(super) fn validate(issuer: &str, playground: bool) -> Result<(), SettingsError> {
    let url = url::Url::parse(issuer)
        .map_err(|e| invalid("issuer", format!("{issuer:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid("issuer", "must be an https URL with a host"));
    }
    if url.scheme() == "http" && !playground && !is_loopback(&url) {
        return Err(invalid(
            "issuer",
            "must be an https URL (RFC 8414 §2); http only for a loopback host, or with playground = true",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "issuer",
            "must not have a query or fragment (RFC 8414 §2)",
        ));
    }
    if issuer.ends_with('/') {
        return Err(invalid(
            "issuer",
            "must not end with '/': it is compared character for character",
        ));
    }
    Ok(())
}
