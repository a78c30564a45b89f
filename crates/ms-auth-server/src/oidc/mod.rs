//! OpenID Connect on top of the OAuth core: the ID token ([`id_token`]), the claims a scope
//! releases ([`claims`]), and userinfo ([`userinfo`]); discovery
//! is the one metadata document (`oauth/metadata.rs`).

pub mod claims;
pub mod id_token;
pub mod userinfo;
