//! User accounts: seeding the config's at start-up, and creating, listing, setting the
//! password of and disabling the others (the CLI now, the admin API and the control panel
//! later). The config is authoritative for its own accounts and never touches the others.

use std::sync::Arc;

use super::{Actor, Ops, Right, require};
use crate::{
    audit::{self, Event},
    clock::UnixTime,
    identity::{
        EndReason, Password, PasswordError, Passwords, StandardClaims, User, UserOrigin,
        UserStatus,
        sign_in::{check_role, check_username},
    },
    settings::ConfigUser,
    store::{PutUserError, StoreError},
};

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password: Password,
    pub roles: Vec<String>,
    pub claims: StandardClaims,
}

/// Why a user operation did not happen. Closed: each surface maps every variant.
#[derive(Debug, thiserror::Error)]
pub enum UserOpsError {
    #[error("the actor may not do this")]
    Forbidden,
    #[error("the username {0:?} is taken")]
    UsernameTaken(String),
    #[error("no user has the username {0:?}")]
    UnknownUser(String),
    /// The config is authoritative for its accounts: a change made elsewhere would be undone
    /// at the next start.
    #[error("{0:?} is managed by the config file: change it there (or remove it to disable it)")]
    ManagedByConfig(String),
    #[error("`{field}` {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The password policy refused it, or the pool is busy.
    #[error("password: {0}")]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PutUserError> for UserOpsError {
    fn from(e: PutUserError) -> Self {
        match e {
            PutUserError::UsernameTaken(u) => Self::UsernameTaken(u),
            PutUserError::Store(e) => Self::Store(e),
        }
    }
}

/// Why the config's users could not be seeded.
#[derive(Debug, thiserror::Error)]
pub enum SeedUsersError {
    #[error(
        "`users`: {username:?} is an account created by {origin:?}, not by the config: the config cannot manage it (give the config's user another username)"
    )]
    NotTheConfigs {
        username: String,
        origin: UserOrigin,
    },
    #[error("`users`: {username:?}: password: {error}")]
    Password {
        username: String,
        error: PasswordError,
    },
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

fn check_roles(roles: &[String]) -> Result<(), UserOpsError> {
    roles
        .iter()
        .try_for_each(|r| check_role(r))
        .map_err(|message| UserOpsError::Invalid {
            field: "roles",
            message,
        })
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Ops {
    /// The password hasher the operations use.
    pub fn passwords(&self) -> &Arc<Passwords> {
        &self.passwords
    }

    /// Writes the config's users to the store: each keeps the id it was first given (found by
    /// its username), so its `sub` survives restarts; a plain-text password is hashed only
    /// when the stored hash does not already verify it (and has the configured parameters), and
    /// an unchanged account is not written at all. An account the config managed before but
    /// lists no longer is disabled and audited. Accounts created any other way are never
    /// touched, and the config may not take one of their usernames over. Validated settings
    /// are assumed ([`crate::Settings::validate`]).
    pub async fn seed_config_users(
        &self,
        users: &[ConfigUser],
        now: UnixTime,
    ) -> Result<(), SeedUsersError> {
        for config in users {
            if config.password.is_some() {
                tracing::warn!(
                    username = %config.username,
                    "user password is given in plain text in the config (accepted with playground = true only)"
                );
            }
            // Replicas starting together on a new store may both create the account: the
            // loser adopts the winner's id.
            let mut tries = 2;
            loop {
                tries -= 1;
                match self.seed_config_user(config, now).await {
                    Err(SeedOne::Taken) if tries > 0 => continue,
                    Err(SeedOne::Taken) => {
                        return Err(SeedUsersError::NotTheConfigs {
                            username: config.username.clone(),
                            origin: UserOrigin::Administration,
                        });
                    }
                    Err(SeedOne::Failed(e)) => return Err(e),
                    Ok(()) => break,
                }
            }
        }
        for stored in self.stores.users.users().await? {
            let listed = users.iter().any(|u| u.username == stored.username);
            if stored.origin != UserOrigin::Config || !stored.enabled() || listed {
                continue;
            }
            self.stores
                .users
                .set_status(&stored.id, UserStatus::Disabled, now)
                .await?;
            tracing::warn!(username = %stored.username, "user removed from the config: disabled");
            self.end_user_access(&stored.id, &Actor::System, now)
                .await?;
            let event = Event::UserDisabled {
                user_id: stored.id.clone(),
                reason: "removed from the config".to_owned(),
            };
            self.stores
                .audit
                .append(&event.entry(&Actor::System, now))
                .await?;
        }
        Ok(())
    }

    async fn seed_config_user(&self, config: &ConfigUser, now: UnixTime) -> Result<(), SeedOne> {
        let existing = self
            .stores
            .users
            .user_by_username(&config.username)
            .await
            .map_err(SeedUsersError::from)?;
        if let Some(e) = &existing
            && e.origin != UserOrigin::Config
        {
            return Err(SeedOne::Failed(SeedUsersError::NotTheConfigs {
                username: config.username.clone(),
                origin: e.origin,
            }));
        }
        let stored_hash = existing.as_ref().and_then(|e| e.password_hash.clone());
        let password_hash = match (&config.password_hash, &config.password) {
            (Some(hash), _) => Some(hash.clone()),
            (None, Some(plain)) => Some(self.config_hash(config, stored_hash, plain).await?),
            (None, None) => stored_hash,
        };
        let user = User {
            id: existing.as_ref().map_or_else(new_id, |e| e.id.clone()),
            username: config.username.clone(),
            password_hash,
            roles: config.roles.clone(),
            status: UserStatus::Active,
            origin: UserOrigin::Config,
            claims: config.claims.clone(),
            created_at: existing.as_ref().map_or(now, |e| e.created_at),
            updated_at: existing.as_ref().map_or(now, |e| e.updated_at),
        };
        if let Some(e) = &existing
            && *e == user
        {
            return Ok(());
        }
        let user = User {
            updated_at: now,
            ..user
        };
        match self.stores.users.put_user(&user).await {
            Ok(()) => {}
            Err(PutUserError::UsernameTaken(_)) => return Err(SeedOne::Taken),
            Err(PutUserError::Store(e)) => return Err(SeedOne::Failed(e.into())),
        }
        let event = match &existing {
            None => Some(Event::UserCreated {
                user_id: user.id.clone(),
                username: user.username.clone(),
            }),
            Some(e) if e.password_hash != user.password_hash => Some(Event::PasswordChanged {
                user_id: user.id.clone(),
            }),
            Some(_) => None,
        };
        if let Some(event) = event {
            audit::record(self.stores.audit.as_ref(), &Actor::System, event, now).await;
        }
        Ok(())
    }

    /// The stored hash when it verifies `plain` with the configured parameters, else a new one.
    async fn config_hash(
        &self,
        config: &ConfigUser,
        stored: Option<String>,
        plain: &Password,
    ) -> Result<String, SeedOne> {
        let failed = |error| {
            SeedOne::Failed(SeedUsersError::Password {
                username: config.username.clone(),
                error,
            })
        };
        if let Some(stored) = stored {
            // An unreadable stored hash is replaced, not an error: the config has the password.
            if let Ok(v) = self.passwords.verify(Some(&stored), plain.expose()).await
                && v.ok
                && !v.needs_rehash
            {
                return Ok(stored);
            }
        }
        self.passwords.hash(plain.expose()).await.map_err(failed)
    }

    /// Creates an account (origin: administration) with the password given, checked against
    /// the password policy; audited with `actor`.
    pub async fn create_user(
        &self,
        actor: &Actor,
        new: NewUser,
        now: UnixTime,
    ) -> Result<User, UserOpsError> {
        require(actor, Right::ManageUsers).map_err(|_| UserOpsError::Forbidden)?;
        check_username(&new.username).map_err(|message| UserOpsError::Invalid {
            field: "username",
            message,
        })?;
        check_roles(&new.roles)?;
        // Before the expensive part.
        if self
            .stores
            .users
            .user_by_username(&new.username)
            .await?
            .is_some()
        {
            return Err(UserOpsError::UsernameTaken(new.username));
        }
        let hash = self.passwords.hash(new.password.expose()).await?;
        let user = User {
            id: new_id(),
            username: new.username,
            password_hash: Some(hash),
            roles: new.roles,
            status: UserStatus::Active,
            origin: UserOrigin::Administration,
            claims: new.claims,
            created_at: now,
            updated_at: now,
        };
        self.stores.users.put_user(&user).await?;
        tracing::info!(user_id = %user.id, username = %user.username, actor = %actor.stored(), "user created");
        let event = Event::UserCreated {
            user_id: user.id.clone(),
            username: user.username.clone(),
        };
        audit::record(self.stores.audit.as_ref(), actor, event, now).await;
        Ok(user)
    }

    /// Every account, by username.
    pub async fn list_users(&self, actor: &Actor) -> Result<Vec<User>, UserOpsError> {
        require(actor, Right::ManageUsers).map_err(|_| UserOpsError::Forbidden)?;
        Ok(self.stores.users.users().await?)
    }

    /// Sets the password of `username` (not one the config manages), checked against the
    /// password policy; audited with `actor`.
    pub async fn set_password(
        &self,
        actor: &Actor,
        username: &str,
        password: &Password,
        now: UnixTime,
    ) -> Result<(), UserOpsError> {
        let user = self.managed_user(actor, username).await?;
        let hash = self.passwords.hash(password.expose()).await?;
        if !self.stores.users.set_password(&user.id, &hash, now).await? {
            return Err(UserOpsError::UnknownUser(username.to_owned()));
        }
        tracing::info!(user_id = %user.id, actor = %actor.stored(), "password changed");
        let event = Event::PasswordChanged { user_id: user.id };
        audit::record(self.stores.audit.as_ref(), actor, event, now).await;
        Ok(())
    }

    /// Disables `username` (not one the config manages): it can no longer sign in. True when
    /// it was disabled now; disabling a disabled account changes nothing (false). Audited with
    /// `actor`.
    pub async fn disable_user(
        &self,
        actor: &Actor,
        username: &str,
        now: UnixTime,
    ) -> Result<bool, UserOpsError> {
        let user = self.managed_user(actor, username).await?;
        if !user.enabled() {
            return Ok(false);
        }
        if !self
            .stores
            .users
            .set_status(&user.id, UserStatus::Disabled, now)
            .await?
        {
            return Err(UserOpsError::UnknownUser(username.to_owned()));
        }
        tracing::warn!(user_id = %user.id, actor = %actor.stored(), "user disabled");
        self.end_user_access(&user.id, actor, now).await?;
        let event = Event::UserDisabled {
            user_id: user.id.clone(),
            reason: "disabled by an administrator".to_owned(),
        };
        audit::record(self.stores.audit.as_ref(), actor, event, now).await;
        Ok(true)
    }

    /// Ends every session of the user and revokes every token family issued to them (with
    /// the live access tokens, denied until their `exp`): what a disabled account leaves
    /// behind must stop working at once, not when it expires.
    pub(crate) async fn end_user_access(
        &self,
        user_id: &str,
        actor: &Actor,
        now: UnixTime,
    ) -> Result<(), crate::store::StoreError> {
        crate::identity::SessionEnder::new(&self.stores)
            .end_all_of(user_id, actor, EndReason::UserDisabled, now)
            .await?;
        let revoked = self
            .stores
            .refresh
            .revoke_user_families(user_id, None, now)
            .await?;
        crate::store::refresh::deny_access(self.stores.hot.as_ref(), &revoked.access, now).await?;
        Ok(())
    }

    /// `username`'s account, if `actor` may manage users and the config does not manage it.
    async fn managed_user(&self, actor: &Actor, username: &str) -> Result<User, UserOpsError> {
        require(actor, Right::ManageUsers).map_err(|_| UserOpsError::Forbidden)?;
        let user = self
            .stores
            .users
            .user_by_username(username)
            .await?
            .ok_or_else(|| UserOpsError::UnknownUser(username.to_owned()))?;
        if user.origin == UserOrigin::Config {
            return Err(UserOpsError::ManagedByConfig(username.to_owned()));
        }
        Ok(user)
    }
}

/// One config user's seeding: done, lost a race for its username (try again), or failed.
enum SeedOne {
    Taken,
    Failed(SeedUsersError),
}

impl From<SeedUsersError> for SeedOne {
    fn from(e: SeedUsersError) -> Self {
        Self::Failed(e)
    }
}
