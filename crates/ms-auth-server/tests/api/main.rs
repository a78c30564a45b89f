//! ms-auth-server over real HTTP: every app is started in-process on port 0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod browser;
mod brute_force;
mod chromium;
mod cli;
mod client_cache;
mod docs_curl;
mod health;
mod helpers;
mod hot;
mod introspect_revoke;
mod jwks;
mod key_revocation;
mod metadata;
mod outage;
mod pages;
mod rotation;
mod servers;
mod store;
mod token_client_auth;
mod token_client_credentials;
mod token_input;
