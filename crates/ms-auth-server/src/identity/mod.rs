//! People: users ([`user`]), their passwords and their browser sessions ([`session`]). No
//! HTTP here: the sign-in pages in `http/` call into it.

pub mod session;
pub mod sessions;
pub mod user;

pub use session::BrowserSession;
pub use sessions::{Device, SessionError, Sessions};
pub use user::{StandardClaims, User, UserOrigin, UserStatus};
