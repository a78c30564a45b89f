//! Access-token scope (RFC 6749 §3.3): syntax, and what a client-credentials grant may receive.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use super::error::OAuthError;

/// One scope token: `1*NQCHAR` where `NQCHAR = %x21 / %x23-5B / %x5D-7E` (RFC 6749 §3.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Scope(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("scope tokens are 1*NQCHAR (RFC 6749 §3.3): printable ASCII except space, '\"' and '\\'")]
pub struct InvalidScopeToken;

impl Scope {
    pub fn parse(token: &str) -> Result<Self, InvalidScopeToken> {
        let ok = !token.is_empty()
            && token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if ok {
            Ok(Self(token.to_owned()))
        } else {
            Err(InvalidScopeToken)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Scope::parse(&s).map_err(|e| serde::de::Error::custom(format!("{s:?}: {e}")))
    }
}

/// An ordered set of scopes, without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    /// Parses the space-delimited `scope` parameter. Repeated tokens collapse into one.
    pub fn parse_param(value: &str) -> Result<Self, OAuthError> {
        let mut set = Vec::new();
        for token in value.split(' ').filter(|t| !t.is_empty()) {
            let scope = Scope::parse(token)
                .map_err(|e| OAuthError::invalid_scope(format!("malformed scope: {e}")))?;
            if !set.contains(&scope) {
                set.push(scope);
            }
        }
        if set.is_empty() {
            return Err(OAuthError::invalid_scope("scope is empty"));
        }
        Ok(Self(set))
    }

    pub fn from_scopes(scopes: impl IntoIterator<Item = Scope>) -> Self {
        let mut set: Vec<Scope> = Vec::new();
        for s in scopes {
            if !set.contains(&s) {
                set.push(s);
            }
        }
        Self(set)
    }

    pub fn contains(&self, scope: &Scope) -> bool {
        self.0.contains(scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The RFC 6749 §3.3 wire form: tokens joined by single spaces.
    pub fn to_param(&self) -> String {
        let mut out = String::new();
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(s.as_str());
        }
        out
    }

    /// What a client is granted for a request: exactly what it asked for, provided each scope
    /// is registered, or its `default` when it asked for nothing. RFC 6749 §3.3: "If the
    /// client omits the scope parameter […], the authorization server MUST either process the
    /// request using a pre-defined default value or fail the request indicating an invalid
    /// scope" — a client without defaults must ask. The result keeps the registration's order,
    /// so the same grant always reads the same.
    pub fn allowed(
        registered: &ScopeSet,
        default: Option<&ScopeSet>,
        requested: Option<&ScopeSet>,
    ) -> Result<ScopeSet, OAuthError> {
        let Some(requested) = requested.or(default) else {
            return Err(OAuthError::invalid_scope(
                "scope is required: this client has no default scopes",
            ));
        };
        if let Some(unknown) = requested.iter().find(|s| !registered.contains(s)) {
            return Err(OAuthError::invalid_scope(format!(
                "scope {unknown} is not allowed for this client"
            )));
        }
        Ok(Self(
            registered
                .iter()
                .filter(|s| requested.contains(s))
                .cloned()
                .collect(),
        ))
    }
}

impl<'de> Deserialize<'de> for ScopeSet {
    /// Accepts a list of tokens or one space-delimited string, as config files write either.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            List(Vec<Scope>),
            Text(String),
        }
        match Form::deserialize(d)? {
            Form::List(list) => Ok(Self::from_scopes(list)),
            Form::Text(text) => text
                .split(' ')
                .filter(|t| !t.is_empty())
                .map(|t| {
                    Scope::parse(t).map_err(|e| serde::de::Error::custom(format!("{t:?}: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Self::from_scopes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    fn set(s: &str) -> ScopeSet {
        ScopeSet::parse_param(s).unwrap()
    }

    #[test]
    fn nqchar_syntax() {
        assert!(Scope::parse("customer.read").is_ok());
        assert!(Scope::parse("a!#[]~").is_ok());
        for bad in ["", "a b", "a\"b", "a\\b", "é", "a\u{7f}", "tab\t"] {
            assert_eq!(Scope::parse(bad), Err(InvalidScopeToken), "{bad:?}");
        }
    }

    #[test]
    fn parse_param_dedupes_and_tolerates_extra_spaces() {
        assert_eq!(set("a  b a").to_param(), "a b");
        assert_eq!(
            ScopeSet::parse_param("   ").unwrap_err().error,
            ErrorCode::InvalidScope
        );
        assert_eq!(
            ScopeSet::parse_param("a \"b").unwrap_err().error,
            ErrorCode::InvalidScope
        );
    }

    #[test]
    fn grant_defaults_to_the_default_scopes_and_keeps_registration_order() {
        let registered = set("customer.read customer.write country.read");
        assert_eq!(
            ScopeSet::allowed(&registered, Some(&registered), None).unwrap(),
            registered
        );
        assert_eq!(
            ScopeSet::allowed(&registered, Some(&set("country.read")), None)
                .unwrap()
                .to_param(),
            "country.read"
        );
        let asked = set("country.read customer.read customer.write");
        assert_eq!(
            ScopeSet::allowed(&registered, None, Some(&asked))
                .unwrap()
                .to_param(),
            "customer.read customer.write country.read"
        );
        assert_eq!(
            ScopeSet::allowed(&registered, None, Some(&set("country.read")))
                .unwrap()
                .to_param(),
            "country.read"
        );
    }

    /// F2: no request without `scope` gets everything a client may have; without defaults it
    /// must ask (RFC 6749 §3.3).
    #[test]
    fn without_defaults_a_scope_must_be_asked_for() {
        let err = ScopeSet::allowed(&set("country.read"), None, None).unwrap_err();
        assert_eq!(err.error, ErrorCode::InvalidScope);
    }

    #[test]
    fn grant_refuses_unregistered_scope() {
        let registered = set("country.read");
        let err =
            ScopeSet::allowed(&registered, None, Some(&set("country.read admin"))).unwrap_err();
        assert_eq!(err.error, ErrorCode::InvalidScope);
        assert!(err.error_description.unwrap().contains("admin"));
    }

    #[test]
    fn deserialises_list_or_text() {
        let a: ScopeSet = serde_json::from_str(r#"["a","b","a"]"#).unwrap();
        let b: ScopeSet = serde_json::from_str(r#""a b""#).unwrap();
        assert_eq!(a, b);
        assert!(serde_json::from_str::<ScopeSet>(r#"["a b"]"#).is_err());
    }
}
