//! customer-service: customers behind bearer-token auth; reading needs `customer.read`,
//! changing needs `customer.write`.

pub mod app;
pub mod cli;
pub mod customer;
pub mod http;
pub mod settings;
pub mod sql_store;
pub mod store;

pub use app::{App, BuildError};
pub use settings::Settings;
