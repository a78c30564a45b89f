//! ms-auth-server: an OAuth 2.0 authorization server issuing signed JWT access tokens.
//!
//! `oauth` is the protocol core (no HTTP), `http` the actix-web layer, `pages` the browser
//! pages' HTML (no HTTP either), `store` the storage traits and backends, `app` wires them
//! together.

pub mod app;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod http;
pub mod identity;
pub mod keys;
pub mod oauth;
pub mod oidc;
pub mod ops;
pub mod pages;
pub mod settings;
pub mod store;
pub mod tasks;
#[cfg(feature = "testing")]
pub mod testing;

pub use app::{App, AppState, BuildError};
pub use settings::Settings;
