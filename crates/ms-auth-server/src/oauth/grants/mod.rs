//! Grant types of the token endpoint (RFC 6749 §4): `grant_type` is read first, each grant
//! parses its own parameters, and one exhaustive `match` dispatches.

pub mod authorization_code;
pub mod client_credentials;
pub mod password;
pub mod refresh_token;
pub(crate) mod user_tokens;

use super::{
    client::GrantType,
    error::{ErrorCode, OAuthError},
    issuer::Issuer,
    params::Params,
};
use crate::{
    clock::UnixTime,
    settings::TokenSettings,
    store::{AuditLog, CodeStore, HotState, RefreshTokenStore, sealing::Sealer},
};

/// What a grant may use: the signer, the grant stores and the token policy — no more, so no
/// grant reaches the whole server.
pub struct GrantContext<'a> {
    pub issuer: &'a Issuer,
    pub now: UnixTime,
    pub codes: &'a dyn CodeStore,
    pub refresh: &'a dyn RefreshTokenStore,
    /// The denylist, for the access tokens of a revoked family.
    pub hot: &'a dyn HotState,
    pub audit: &'a dyn AuditLog,
    /// Seals a rotation's response for the retry within the grace window.
    pub sealer: &'a Sealer,
    pub tokens: &'a TokenSettings,
}

/// A token request, parsed for its grant type.
#[derive(Debug)]
pub enum TokenRequest {
    AuthorizationCode(authorization_code::Request),
    ClientCredentials(client_credentials::Request),
    RefreshToken(refresh_token::Request),
    Password(password::Request),
}

/// Whether the token endpoint implements `grant`: what metadata advertises. Exhaustive, so
/// that a new grant type is decided here; registrable is not implemented.
pub const fn implements(grant: GrantType) -> bool {
    match grant {
        GrantType::ClientCredentials
        | GrantType::AuthorizationCode
        | GrantType::RefreshToken
        | GrantType::Password => true,
        // Tokens from the authorization endpoint: never a token request.
        GrantType::Implicit => false,
    }
}

/// The grant types the token endpoint implements, in [`GrantType::ALL`]'s order.
pub fn implemented() -> impl Iterator<Item = GrantType> {
    GrantType::ALL.iter().copied().filter(|g| implements(*g))
}

impl TokenRequest {
    /// Reads `grant_type` and that grant's parameters. `supported` names the grant types some
    /// client may use (what metadata advertises): another is `unsupported_grant_type` before
    /// its parameters are read, so a grant that is off (password, unless a client is
    /// registered for it) answers as if it did not exist.
    pub fn parse(params: &Params, supported: &[&str]) -> Result<Self, OAuthError> {
        let grant_type = params.require("grant_type")?;
        if !supported.contains(&grant_type) {
            return Err(unsupported(grant_type));
        }
        match grant_type {
            "client_credentials" => Ok(Self::ClientCredentials(
                client_credentials::Request::parse(params)?,
            )),
            "authorization_code" => Ok(Self::AuthorizationCode(
                authorization_code::Request::parse(params)?,
            )),
            "refresh_token" => Ok(Self::RefreshToken(refresh_token::Request::parse(params)?)),
            "password" => Ok(Self::Password(password::Request::parse(params)?)),
            other => Err(unsupported(other)),
        }
    }

    pub fn grant_type(&self) -> GrantType {
        match self {
            Self::AuthorizationCode(_) => GrantType::AuthorizationCode,
            Self::ClientCredentials(_) => GrantType::ClientCredentials,
            Self::RefreshToken(_) => GrantType::RefreshToken,
            Self::Password(_) => GrantType::Password,
        }
    }
}

fn unsupported(grant_type: &str) -> OAuthError {
    OAuthError::new(
        ErrorCode::UnsupportedGrantType,
        format!("grant_type {} is not supported", truncate(grant_type, 64)),
    )
}

/// Client-supplied text echoed in an error description is kept short.
fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<TokenRequest, OAuthError> {
        let all: Vec<_> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
        TokenRequest::parse(
            &Params::from_query_and_body("", body.as_bytes()).unwrap(),
            &all,
        )
    }

    /// A grant no client may use is unsupported, whatever its parameters.
    #[test]
    fn a_grant_that_is_off_is_unsupported() {
        let params = Params::from_query_and_body("", b"grant_type=password").unwrap();
        let e = TokenRequest::parse(&params, &["client_credentials"]).unwrap_err();
        assert_eq!(e.error, ErrorCode::UnsupportedGrantType);
    }

    #[test]
    fn unknown_and_missing_grant_types() {
        let e = parse("grant_type=urn:foo").unwrap_err();
        assert_eq!(e.error, ErrorCode::UnsupportedGrantType);
        assert_eq!(parse("").unwrap_err().error, ErrorCode::InvalidRequest);
        let long = format!("grant_type={}", "x".repeat(5000));
        assert!(parse(&long).unwrap_err().error_description.unwrap().len() < 120);
    }

    /// What metadata advertises is what `parse` dispatches, and nothing working is missing.
    #[test]
    fn implemented_grants_are_the_parsed_ones() {
        for &g in GrantType::ALL {
            let parsed = parse(&format!("grant_type={}", g.as_str()));
            let dispatched = match &parsed {
                Ok(request) => request.grant_type() == g,
                Err(e) => e.error != ErrorCode::UnsupportedGrantType,
            };
            assert_eq!(implements(g), dispatched, "{g:?}: {parsed:?}");
        }
    }

    #[test]
    fn client_credentials_is_dispatched() {
        assert_eq!(
            parse("grant_type=client_credentials").unwrap().grant_type(),
            GrantType::ClientCredentials
        );
    }
}
