//! Request parameters of the token endpoint, read strictly (RFC 6749 §3.1, §3.2).
//!
//! `application/x-www-form-urlencoded` from the body and, as the playground docs' Basic example
//! does, from the query string of the POST. "Parameters sent without a value MUST be treated as
//! if they were omitted" and "request and response parameters MUST NOT be included more than
//! once" (RFC 6749 §3.1): an empty value is dropped, a repeated name is `invalid_request`, also
//! when one copy is in the query and the other in the body.

use std::{borrow::Cow, collections::HashMap};

use percent_encoding::percent_decode;

use super::error::OAuthError;

/// Parameters that must never travel in a URL, where proxies and logs keep them.
const NOT_IN_QUERY: &[&str] = &[
    "client_secret",
    "client_assertion",
    "password",
    "refresh_token",
    "code_verifier",
    // RFC 7009 / RFC 7662: the token to revoke or inspect.
    "token",
];

/// More parameters than any endpoint here takes (the token endpoint's largest grant needs
/// about ten): past it the request is refused before anything else is done with it.
pub const MAX_PARAMS: usize = 32;

/// The parameters by name: a repeated name is found in constant time, so reading a request is
/// linear in its size. Its `Debug` shows the names only: values carry secrets (`client_secret`,
/// the password grant's `password`).
#[derive(Default)]
pub struct Params {
    pairs: HashMap<String, String>,
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.pairs.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("Params").field("names", &names).finish()
    }
}

impl Params {
    /// Reads the query string and the form body into one parameter set.
    pub fn from_query_and_body(query: &str, body: &[u8]) -> Result<Self, OAuthError> {
        let mut params = Self::default();
        params.add_form(query.as_bytes(), true)?;
        params.add_form(body, false)?;
        Ok(params)
    }

    fn add_form(&mut self, form: &[u8], is_query: bool) -> Result<(), OAuthError> {
        for pair in form.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            if self.pairs.len() >= MAX_PARAMS {
                return Err(OAuthError::invalid_request(format!(
                    "more than {MAX_PARAMS} parameters"
                )));
            }
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            let name = decode_component(name)?;
            let value = decode_component(value)?;
            if name.is_empty() || value.is_empty() {
                continue;
            }
            if is_query && NOT_IN_QUERY.contains(&name.as_str()) {
                return Err(OAuthError::invalid_request(format!(
                    "{name} must not be sent in the URL query; send it in the form body"
                )));
            }
            match self.pairs.entry(name) {
                std::collections::hash_map::Entry::Occupied(seen) => {
                    return Err(OAuthError::invalid_request(format!(
                        "parameter {} is repeated",
                        seen.key()
                    )));
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(value);
                }
            }
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.get(name).map(String::as_str)
    }

    /// The value of a parameter that must be present.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("missing {name}")))
    }
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space, `%XX` a byte, and
/// the bytes must be UTF-8 (RFC 6749 Appendix B).
pub fn decode_component(raw: &[u8]) -> Result<String, OAuthError> {
    let plus_as_space: Cow<'_, [u8]> = if raw.contains(&b'+') {
        Cow::Owned(
            raw.iter()
                .map(|&b| if b == b'+' { b' ' } else { b })
                .collect(),
        )
    } else {
        Cow::Borrowed(raw)
    };
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|_| OAuthError::invalid_request("parameters must be UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    #[test]
    fn debug_shows_names_never_values() {
        let p = Params::from_query_and_body("", b"password=s3cret&client_secret=x2").unwrap();
        let shown = format!("{p:?}");
        assert!(shown.contains("password") && !shown.contains("s3cret") && !shown.contains("x2"));
    }

    fn err(query: &str, body: &str) -> String {
        let e = Params::from_query_and_body(query, body.as_bytes()).unwrap_err();
        assert_eq!(e.error, ErrorCode::InvalidRequest);
        e.error_description.unwrap()
    }

    #[test]
    fn reads_query_and_body_together() {
        let p = Params::from_query_and_body(
            "grant_type=client_credentials&scope=customer.read%20customer.write",
            b"client_id=a%2Bb&x=1+2",
        )
        .unwrap();
        assert_eq!(p.get("grant_type"), Some("client_credentials"));
        assert_eq!(p.get("scope"), Some("customer.read customer.write"));
        assert_eq!(p.get("client_id"), Some("a+b"));
        assert_eq!(p.get("x"), Some("1 2"));
    }

    #[test]
    fn empty_values_count_as_omitted() {
        let p = Params::from_query_and_body("scope=", b"scope=a&grant_type&&=x").unwrap();
        assert_eq!(p.get("scope"), Some("a"));
        assert_eq!(p.get("grant_type"), None);
        assert_eq!(
            p.require("grant_type")
                .unwrap_err()
                .error_description
                .unwrap(),
            "missing grant_type"
        );
    }

    #[test]
    fn repeated_parameters_are_refused_within_and_across_sources() {
        assert!(err("", "scope=a&scope=b").contains("scope is repeated"));
        assert!(err("scope=a", "scope=a").contains("scope is repeated"));
    }

    /// F12: a body of thousands of distinct names is refused at the cap, after reading only
    /// that many, instead of being compared pairwise.
    #[test]
    fn the_number_of_parameters_is_capped() {
        let at_cap: Vec<String> = (0..MAX_PARAMS).map(|i| format!("p{i}=v")).collect();
        assert!(Params::from_query_and_body("", at_cap.join("&").as_bytes()).is_ok());
        let many: Vec<String> = (0..2300).map(|i| format!("p{i}=v")).collect();
        assert_eq!(
            err("", &many.join("&")),
            format!("more than {MAX_PARAMS} parameters")
        );
        assert_eq!(
            err(&at_cap.join("&"), "extra=1"),
            format!("more than {MAX_PARAMS} parameters"),
            "query and body count together"
        );
    }

    #[test]
    fn secrets_are_refused_in_the_query() {
        assert!(err("client_secret=x", "").contains("client_secret must not be sent in the URL"));
    }

    #[test]
    fn non_utf8_is_refused() {
        assert_eq!(err("", "scope=%FF"), "parameters must be UTF-8");
        let raw = Params::from_query_and_body("", b"scope=\xff").unwrap_err();
        assert_eq!(raw.error, ErrorCode::InvalidRequest);
    }
}
