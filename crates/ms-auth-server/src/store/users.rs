//! User accounts, looked up by id (`sub`) or by username (sign-in).
use super::StoreError;
use crate::{
    clock::UnixTime,
    identity::{User, UserStatus},
};

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum PutUserError {
    /// Another account (another id) has this username.
    #[error("the username {0:?} is taken")]
    UsernameTaken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[async_trait::async_trait]
pub trait UserStore: Send + Sync {
    /// Creates the account, or replaces the one with the same `id` (every field). A username
    /// held by another id is refused: usernames are unique, compared exactly.
    async fn put_user(&self, user: &User) -> Result<(), PutUserError>;

    async fn user(&self, id: &str) -> Result<Option<User>, StoreError>;

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;

    /// Every account, by username.
    async fn users(&self) -> Result<Vec<User>, StoreError>;

    /// Replaces the password hash (a new password, or a rehash at sign-in with new
    /// parameters); false when there is no such user.
    async fn set_password(
        &self,
        id: &str,
        password_hash: &str,
        now: UnixTime,
    ) -> Result<bool, StoreError>;

    /// False when there is no such user.
    async fn set_status(
        &self,
        id: &str,
        status: UserStatus,
        now: UnixTime,
    ) -> Result<bool, StoreError>;
}
