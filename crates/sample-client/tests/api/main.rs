//! sample-client over real HTTP: against a real in-process ms-auth-server (and country-service)
//! for the flows, and against a provider of the test's own (its keys, its token endpoint) for
//! the tokens a real provider would never send.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backchannel;
mod chromium;
mod code_flow;
mod helpers;
mod id_token;
mod ops;
