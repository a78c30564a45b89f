//! Bearer-token protection for actix-web resource servers: validates JWT access tokens
//! (RFC 9068) from `Authorization: Bearer` (RFC 6750) against the issuer's JWKS, and enforces
//! scopes per route.
//!
//! ```ignore
//! settings.validate(playground)?; // https only, except loopback or the playground
//! let verifier = web::Data::new(Verifier::new(settings)?);
//! verifier.start();
//! App::new().app_data(verifier.clone()).route(
//!     "/customers",
//!     web::get().to(list_customers).wrap(require_scope("customer.read")),
//! );
//! async fn list_customers(caller: Principal) -> HttpResponse { … }
//! ```
//!
//! The crate knows nothing of the server that issues the tokens: the token format is the
//! contract.

mod error;
pub mod keys;
mod keyset;
mod middleware;
mod principal;
mod resource_metadata;
mod resource_server;
mod revocation;
mod settings;
mod slru;
mod token_cache;
mod transport;
mod unknown_kids;
mod verifier;
mod verify;

pub use error::{AuthError, Challenge};
pub use middleware::{bearer_token, require_active_scope, require_scope};
pub use principal::Principal;
pub use resource_metadata::ProtectedResourceMetadata;
pub use resource_server::ResourceServer;
pub use settings::{
    IntrospectionSettings, MIN_SECRET_BITS, Secret, VerifierSettings, secret_strength_bits,
};
pub use verifier::Verifier;
pub use verify::{Jws, verify, verify_any_audience};
