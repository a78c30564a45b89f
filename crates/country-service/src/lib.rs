//! country-service: the ISO 3166-1 country list, every route guarded by `country.read`.

pub mod app;
pub mod cli;
pub mod countries;
pub mod http;
pub mod settings;

pub use app::{App, BuildError};
pub use settings::Settings;
