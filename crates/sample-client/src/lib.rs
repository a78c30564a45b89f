//! sample-client: the playground's sample application, a relying party of ms-auth-server. A
//! server-side web app (the confidential client `playground-web`: authorization code flow with
//! PKCE, ID token validation, refresh, RP-initiated logout and a back-channel logout receiver)
//! and a single-page app (the public client `playground-spa`) served at `/spa/`.

pub mod app;
pub mod cli;
pub mod http;
pub mod id_token;
pub mod logout_token;
pub mod provider;
pub mod random;
pub mod sessions;
pub mod settings;

pub use app::{App, BuildError};
pub use settings::Settings;
