//! People: users ([`user`]), their passwords ([`password`]), signing in ([`sign_in`]) and their
//! browser sessions ([`session`]). No HTTP here: the sign-in pages in `http/` call into it.

pub mod logout;
pub mod password;
pub mod session;
pub mod sessions;
pub mod sign_in;
pub mod user;

pub use logout::{EndReason, SessionEnder};
pub use password::{Password, PasswordError, PasswordSettings, Passwords, Verified};
pub use session::BrowserSession;
pub use sessions::{Device, SessionError, Sessions};
pub use sign_in::{SignIn, SignInError};
pub use user::{StandardClaims, User, UserOrigin, UserStatus};
