//! country-service over real HTTP, with a real ms-auth-server issuing the tokens.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod cors;
mod countries;
mod helpers;
mod ops;
