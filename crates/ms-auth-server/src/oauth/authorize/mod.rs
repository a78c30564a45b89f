//! The authorization endpoint (RFC 6749 §4.1, RFC 7636, OIDC Core §3.1.2): the request
//! ([`request`]), what happens next ([`decision`]), the pending sign-in ([`interaction`]), the
//! response to the client ([`response`]), the implicit flows' tokens ([`implicit`]) and the flow
//! tying them to the stores ([`flow`]).

mod account;
pub mod decision;
pub mod flow;
mod implicit;
pub mod interaction;

pub mod request;
pub mod response;

pub use flow::{Authorizer, Outcome};
pub use interaction::{Interaction, Interactions};
pub use request::AuthorizationRequest;
pub use response::{Delivery, ResponseMode};
