//! What a client may register for (RFC 7591 §2): grant types, response types and token
//! endpoint authentication methods, by their registered names.
//!
//! Registrable is not implemented: which ones this server implements is said where they are
//! implemented ([`crate::oauth::grants::implements`], [`crate::oauth::client_auth::implements`]),
//! each an exhaustive `match` over `ALL`, so that metadata advertises exactly what works.

use serde::{Deserialize, Serialize};

/// An enum of registered names whose `ALL` lists every variant and whose `as_str` is the
/// serde name: one list, so neither can fall behind a new variant.
macro_rules! registered_names {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant,)*
        }

        impl $name {
            /// Every variant, in the order metadata lists them.
            pub const ALL: &[$name] = &[$($name::$variant,)*];

            /// The registered name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)*
                }
            }
        }
    };
}

registered_names! {
    /// Grant types a client may be registered for (RFC 6749 §4, names as in RFC 7591 §2).
    GrantType {
        AuthorizationCode = "authorization_code",
        ClientCredentials = "client_credentials",
        RefreshToken = "refresh_token",
        /// RFC 6749 §4.2: tokens straight from the authorization endpoint (discouraged: RFC
        /// 9700 §2.1.2). Registered, never presented at the token endpoint.
        Implicit = "implicit",
        /// RFC 6749 §4.3, the resource owner's password (RFC 9700 §2.4: MUST NOT be used).
        Password = "password",
    }
}

registered_names! {
    /// Response types of the authorization endpoint (RFC 6749 §3.1.1, RFC 7591 §2).
    ResponseType {
        /// RFC 6749 §4.1.
        Code = "code",
        /// RFC 6749 §4.2 (implicit).
        Token = "token",
        /// OIDC Core §3.2 (implicit), an ID token alone.
        IdToken = "id_token",
        /// OIDC Core §3.2 (implicit), an ID token and an access token.
        IdTokenToken = "id_token token",
    }
}

registered_names! {
    /// Token endpoint client authentication methods (RFC 7591 §2 names; the JWT ones are
    /// OpenID Connect Core §9's).
    AuthMethod {
        /// RFC 6749 §2.3.1, HTTP Basic.
        ClientSecretBasic = "client_secret_basic",
        /// RFC 6749 §2.3.1, `client_id` and `client_secret` in the form body.
        ClientSecretPost = "client_secret_post",
        /// A public client (RFC 7591 §2): no authentication at the token endpoint.
        None = "none",
        /// A JWT signed with HMAC keyed by the client secret.
        ClientSecretJwt = "client_secret_jwt",
        /// A JWT signed with a key of the client's JWK set (RFC 7523).
        PrivateKeyJwt = "private_key_jwt",
    }
}

impl ResponseType {
    /// The response type a request's `response_type` names: space-separated values in any
    /// order (OAuth 2.0 Multiple Response Type Encoding Practices §2: "the order of values
    /// does not matter"), so `token id_token` is `id_token token`.
    pub fn parse(value: &str) -> Option<Self> {
        let mut values: Vec<&str> = value.split(' ').filter(|v| !v.is_empty()).collect();
        values.sort_unstable();
        let has_dup = values.windows(2).any(|w| w[0] == w[1]);
        Self::ALL.iter().copied().find(|r| {
            let mut own: Vec<&str> = r.as_str().split(' ').collect();
            own.sort_unstable();
            !has_dup && own == values
        })
    }

    /// Whether the response carries tokens (an implicit response type).
    pub fn is_implicit(self) -> bool {
        match self {
            Self::Code => false,
            Self::Token | Self::IdToken | Self::IdTokenToken => true,
        }
    }

    /// Whether an access token is returned from the authorization endpoint.
    pub fn returns_access_token(self) -> bool {
        match self {
            Self::Code | Self::IdToken => false,
            Self::Token | Self::IdTokenToken => true,
        }
    }

    /// Whether an ID token is returned from the authorization endpoint.
    pub fn returns_id_token(self) -> bool {
        match self {
            Self::Code | Self::Token => false,
            Self::IdToken | Self::IdTokenToken => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_serde_names() {
        for g in GrantType::ALL {
            assert_eq!(serde_json::to_value(g).unwrap(), g.as_str());
        }
        for r in ResponseType::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        for m in AuthMethod::ALL {
            assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
        }
        assert_eq!(
            serde_json::from_str::<AuthMethod>("\"client_secret_basic\"").unwrap(),
            AuthMethod::ClientSecretBasic
        );
    }

    #[test]
    fn response_types_parse_in_any_order() {
        for r in ResponseType::ALL {
            assert_eq!(ResponseType::parse(r.as_str()), Some(*r));
        }
        assert_eq!(
            ResponseType::parse("token id_token"),
            Some(ResponseType::IdTokenToken)
        );
        assert_eq!(ResponseType::parse("token token"), None);
        assert_eq!(ResponseType::parse("code id_token"), None);
        assert_eq!(ResponseType::parse(""), None);
        assert_eq!(ResponseType::parse("Token"), None);
    }
}
