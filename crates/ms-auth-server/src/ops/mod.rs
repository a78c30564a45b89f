//! Domain operations: one function per thing an operator, an administrator, a user or the
//! server itself can do, each checking what it must and writing one audit entry from the
//! closed [`crate::audit::Event`] vocabulary, naming its [`Actor`]. The admin endpoints, the CLI
//! and the background tasks call these; none of them reaches a store to change it directly.
//! Values in, values out: no HTTP here.

pub mod clients;
pub mod keys;
pub mod users;

use std::sync::Arc;

pub use crate::audit::Actor;
use crate::{
    identity::{PasswordSettings, Passwords},
    keys::{KeyError, KeyRing, lifecycle::Lifecycle},
    store::{StoreError, Stores},
};

/// What the operations act on.
#[derive(Clone)]
pub struct Ops {
    pub(crate) stores: Stores,
    pub(crate) lifecycle: Lifecycle,
    /// The signing key comes from `keys.private_key_file`: it neither rotates nor is revoked
    /// through the store.
    pub(crate) keys_from_file: bool,
    /// This replica's signing snapshot, reloaded after a change made here (the CLI has none).
    pub(crate) ring: Option<KeyRing>,
    /// Hashes the passwords of the accounts the operations create and seed.
    pub(crate) passwords: Arc<Passwords>,
}

impl Ops {
    pub fn new(stores: Stores, lifecycle: Lifecycle, keys_from_file: bool) -> Self {
        Self {
            stores,
            lifecycle,
            keys_from_file,
            ring: None,
            passwords: Arc::new(Passwords::new(&PasswordSettings::default())),
        }
    }

    /// The same, hashing passwords with `passwords` (built from `[passwords]`) instead of
    /// argon2id's default parameters.
    pub fn with_passwords(mut self, passwords: Arc<Passwords>) -> Self {
        self.passwords = passwords;
        self
    }

    /// The same, reloading `ring` after a key change made here.
    pub fn with_ring(mut self, ring: KeyRing) -> Self {
        self.ring = Some(ring);
        self
    }
}

/// What an operation asks of its actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Right {
    /// Rotate, revoke and list signing keys.
    ManageKeys,
    /// Create, change and disable client registrations.
    ManageClients,
    /// Create, change and disable user accounts.
    ManageUsers,
}

impl Actor {
    /// Whether this actor holds `right`. The server, the operator at the command line and the
    /// holder of the break-glass admin token hold every right; a client holds none of these
    /// (it acts on its own tokens only, through the protocol endpoints). Users and
    /// administrators with roles join with the control panel.
    pub fn holds(&self, right: Right) -> bool {
        match (self, right) {
            (Actor::System | Actor::Cli | Actor::AdminToken, _) => true,
            (
                Actor::Client(_) | Actor::User(_) | Actor::Registrant { .. },
                Right::ManageKeys | Right::ManageClients | Right::ManageUsers,
            ) => false,
        }
    }
}

/// Refuses unless `actor` holds `right`.
pub(crate) fn require(actor: &Actor, right: Right) -> Result<(), OpsError> {
    if actor.holds(right) {
        Ok(())
    } else {
        tracing::info!(actor = %actor.stored(), ?right, "operation refused");
        Err(OpsError::Forbidden)
    }
}

/// Why an operation did not happen. Closed: each surface (admin API, CLI) maps every variant.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing key: {0}")]
    Key(#[from] KeyError),
    #[error("the signing key comes from keys.private_key_file, not the store")]
    KeysFromFile,
    #[error("no signing key has kid {0:?}")]
    UnknownKey(String),
    #[error("the store holds no active signing key")]
    NoActiveKey,
    #[error("the actor may not do this")]
    Forbidden,
}

impl From<crate::keys::lifecycle::LifecycleError> for OpsError {
    fn from(e: crate::keys::lifecycle::LifecycleError) -> Self {
        use crate::keys::lifecycle::LifecycleError as L;
        match e {
            L::Store(e) => Self::Store(e),
            L::Key(e) => Self::Key(e),
            L::NoActiveKey => Self::NoActiveKey,
        }
    }
}
