//! The gateway: the playground's single public entry on :8085, a streaming reverse proxy that
//! routes by path prefix to ms-auth-server, customer-service and country-service.

pub mod app;
pub mod body;
pub mod cli;
pub mod edge;
pub mod headers;
pub mod path;
pub mod proxy;
pub mod routes;
pub mod settings;
pub mod tls;

pub use app::{App, BuildError};
pub use settings::Settings;
