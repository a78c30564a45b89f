//! OpenID Connect on top of the OAuth core: the ID token ([`id_token`]), the claims a scope
//! releases ([`claims`]), userinfo ([`userinfo`]), RP-initiated logout ([`logout`]) and
//! back-channel logout ([`logout_token`], [`backchannel`]); discovery
//! is the one metadata document (`oauth/metadata.rs`).

pub mod backchannel;
pub mod claims;
pub mod id_token;
pub mod logout;
pub mod logout_token;
pub mod userinfo;
