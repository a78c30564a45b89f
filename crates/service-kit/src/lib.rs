//! Plumbing every service of the workspace shares, and nothing of the domain: typed config
//! loading, the service `main` (with telemetry set-up), health responses, JSON errors for plain HTTP failures and
//! the resource services' CORS layer.

pub mod body;
pub mod config;
pub mod cors;
pub mod http;
pub mod management;
pub mod metrics;
pub mod proxies;
pub mod request_id;
pub mod run;
pub mod server;
pub mod sql;
