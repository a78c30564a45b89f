//! auth-middleware against a real ms-auth-server over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod contract;
mod forged;
mod helpers;
mod keys;
mod revocation;
