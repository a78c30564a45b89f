//! ms-auth-server: an OAuth 2.0 authorization server issuing signed JWT access tokens.
//!
//! `oauth` is the protocol core (no HTTP), `http` the actix-web layer, `store` the storage
//! traits and backends, `app` wires them together.

pub mod app;
pub mod cli;
pub mod http;
pub mod key_lifecycle;
pub mod oauth;
pub mod settings;
pub mod store;

pub use app::{App, AppState, BuildError};
pub use settings::Settings;
