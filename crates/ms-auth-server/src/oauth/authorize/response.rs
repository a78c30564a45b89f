//! How the authorization endpoint answers the client (RFC 6749 §4.1.2, §4.1.2.1): in the
//! redirect URI's query, in its fragment, or posted as a form (OAuth 2.0 Form Post Response
//! Mode), always with `state` when the request had one and `iss` (RFC 9207 §2: "Authorization
//! servers supporting this specification MUST provide their issuer identifier ... in the
//! authorization response").

use serde::{Deserialize, Serialize};

use crate::oauth::error::OAuthError;

/// `response_mode` (OAuth 2.0 Multiple Response Type Encoding Practices §2.1, Form Post §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

impl ResponseMode {
    pub const ALL: [ResponseMode; 3] = [Self::Query, Self::Fragment, Self::FormPost];

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == value)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Fragment => "fragment",
            Self::FormPost => "form_post",
        }
    }
}

/// What the user agent is given to reach the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// `303 See Other` to this URL.
    Redirect(String),
    /// A page posting `fields` to `action` (the redirect URI).
    FormPost {
        action: String,
        fields: Vec<(String, String)>,
    },
}

/// The parameters delivered in `mode` to `redirect_uri`. In a query, the URI's own query is
/// kept (RFC 6749 §3.1.2: "MUST retain the query component when adding additional query
/// parameters").
pub fn deliver(mode: ResponseMode, redirect_uri: &str, params: &[(&str, &str)]) -> Delivery {
    let encoded = || {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            form.append_pair(k, v);
        }
        form.finish()
    };
    match mode {
        ResponseMode::Query => {
            let sep = if redirect_uri.contains('?') { '&' } else { '?' };
            let sep = if redirect_uri.ends_with(['?', '&']) {
                String::new()
            } else {
                sep.to_string()
            };
            Delivery::Redirect(format!("{redirect_uri}{sep}{}", encoded()))
        }
        ResponseMode::Fragment => Delivery::Redirect(format!("{redirect_uri}#{}", encoded())),
        ResponseMode::FormPost => Delivery::FormPost {
            action: redirect_uri.to_owned(),
            fields: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        },
    }
}

/// The success response: `code`, `state`, `iss`.
pub fn code(
    mode: ResponseMode,
    redirect_uri: &str,
    code: &str,
    state: Option<&str>,
    iss: &str,
) -> Delivery {
    success(mode, redirect_uri, vec![("code", code)], state, iss)
}

/// An implicit flow's success response (RFC 6749 §4.2.2, OIDC Core §3.2.2.5): the tokens,
/// `state`, `iss`.
pub fn tokens(
    mode: ResponseMode,
    redirect_uri: &str,
    tokens: &[(&'static str, String)],
    state: Option<&str>,
    iss: &str,
) -> Delivery {
    let params = tokens.iter().map(|(k, v)| (*k, v.as_str())).collect();
    success(mode, redirect_uri, params, state, iss)
}

fn success<'a>(
    mode: ResponseMode,
    redirect_uri: &str,
    mut params: Vec<(&'a str, &'a str)>,
    state: Option<&'a str>,
    iss: &'a str,
) -> Delivery {
    if let Some(s) = state {
        params.push(("state", s));
    }
    params.push(("iss", iss));
    deliver(mode, redirect_uri, &params)
}

/// An error response (RFC 6749 §4.1.2.1): `error`, `error_description`, `state`, `iss`.
pub fn error(
    mode: ResponseMode,
    redirect_uri: &str,
    error: &OAuthError,
    state: Option<&str>,
    iss: &str,
) -> Delivery {
    let mut params = vec![("error", error.error.as_str())];
    if let Some(d) = &error.error_description {
        params.push(("error_description", d));
    }
    if let Some(s) = state {
        params.push(("state", s));
    }
    params.push(("iss", iss));
    deliver(mode, redirect_uri, &params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    const ISS: &str = "http://localhost:8085/ms-auth-server";

    #[test]
    fn query_keeps_the_uris_own_query_and_encodes() {
        let d = code(
            ResponseMode::Query,
            "https://app.example/cb?x=1",
            "abc",
            Some("s t&u"),
            ISS,
        );
        assert_eq!(
            d,
            Delivery::Redirect(
                "https://app.example/cb?x=1&code=abc&state=s+t%26u&iss=http%3A%2F%2Flocalhost%3A8085%2Fms-auth-server"
                    .to_owned()
            )
        );
        let d = code(ResponseMode::Query, "https://a.example/cb", "c", None, ISS);
        assert!(
            matches!(d, Delivery::Redirect(u) if u.starts_with("https://a.example/cb?code=c&iss="))
        );
    }

    #[test]
    fn fragment_and_form_post() {
        let e = OAuthError::new(ErrorCode::AccessDenied, "the user said no");
        let d = error(
            ResponseMode::Fragment,
            "https://a.example/cb",
            &e,
            Some("st"),
            ISS,
        );
        assert_eq!(
            d,
            Delivery::Redirect(format!(
                "https://a.example/cb#error=access_denied&error_description=the+user+said+no&state=st&iss={}",
                url::form_urlencoded::byte_serialize(ISS.as_bytes()).collect::<String>()
            ))
        );
        let d = code(
            ResponseMode::FormPost,
            "https://a.example/cb",
            "c",
            Some("s"),
            ISS,
        );
        assert_eq!(
            d,
            Delivery::FormPost {
                action: "https://a.example/cb".to_owned(),
                fields: vec![
                    ("code".into(), "c".into()),
                    ("state".into(), "s".into()),
                    ("iss".into(), ISS.into())
                ]
            }
        );
    }

    #[test]
    fn modes_parse_exactly() {
        for m in ResponseMode::ALL {
            assert_eq!(ResponseMode::parse(m.as_str()), Some(m));
            assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
        }
        assert_eq!(ResponseMode::parse("Query"), None);
    }
}
