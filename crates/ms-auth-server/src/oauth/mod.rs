//! The OAuth 2.0 protocol core: plain Rust types in and out, no HTTP.

pub mod access_token;
pub mod authorize;
pub mod brute_force;
pub mod client;
pub mod client_assertion;
pub mod client_auth;
pub mod client_keys;
pub mod endpoints;
pub mod error;
pub mod grants;
pub mod introspection;
pub mod issuer;
pub mod metadata;
pub mod params;
pub mod pkce;
pub mod random;
pub mod registration;
pub mod resources;
pub mod revocation;
pub mod scope;
pub mod secret;
pub mod server;
pub mod token_response;
pub mod uri;
