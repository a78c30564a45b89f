//! [`UserStore`] in memory: one lock over every account, so a username is checked and taken
//! in one step.
use std::{collections::HashMap, sync::RwLock};

use super::{poisoned, timed};
use crate::{
    clock::UnixTime,
    identity::{User, UserStatus},
    store::{PutUserError, StoreError, UserStore},
};

#[derive(Debug, Default)]
pub struct MemoryUserStore {
    /// By id.
    users: RwLock<HashMap<String, User>>,
}

#[async_trait::async_trait]
impl UserStore for MemoryUserStore {
    async fn put_user(&self, user: &User) -> Result<(), PutUserError> {
        let taken = timed("users", "put", || {
            let mut users = self.users.write().map_err(poisoned)?;
            let taken = users
                .values()
                .any(|u| u.username == user.username && u.id != user.id);
            if !taken {
                users.insert(user.id.clone(), user.clone());
            }
            Ok(taken)
        })
        .await?;
        if taken {
            return Err(PutUserError::UsernameTaken(user.username.clone()));
        }
        Ok(())
    }

    async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        timed("users", "get", || {
            Ok(self.users.read().map_err(poisoned)?.get(id).cloned())
        })
        .await
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        timed("users", "by_username", || {
            Ok(self
                .users
                .read()
                .map_err(poisoned)?
                .values()
                .find(|u| u.username == username)
                .cloned())
        })
        .await
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        timed("users", "all", || {
            let mut all: Vec<User> = self
                .users
                .read()
                .map_err(poisoned)?
                .values()
                .cloned()
                .collect();
            all.sort_by(|a, b| a.username.cmp(&b.username));
            Ok(all)
        })
        .await
    }

    async fn set_password(
        &self,
        id: &str,
        password_hash: &str,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        timed("users", "set_password", || {
            Ok(match self.users.write().map_err(poisoned)?.get_mut(id) {
                Some(u) => {
                    u.password_hash = Some(password_hash.to_owned());
                    u.updated_at = now;
                    true
                }
                None => false,
            })
        })
        .await
    }

    async fn set_status(
        &self,
        id: &str,
        status: UserStatus,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        timed("users", "set_status", || {
            Ok(match self.users.write().map_err(poisoned)?.get_mut(id) {
                Some(u) => {
                    u.status = status;
                    u.updated_at = now;
                    true
                }
                None => false,
            })
        })
        .await
    }
}
