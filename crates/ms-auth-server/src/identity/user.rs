//! A user account: what signs in (username, argon2id password hash), what it may do (roles,
//! status) and what it says about itself (the OpenID Connect standard claims, OIDC Core §5.1).

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;

/// Whether a user may sign in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    #[default]
    Active,
    /// Refused at sign-in; its sessions end.
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }
}

/// Where an account comes from. The config is authoritative for its own users (one removed
/// from it is disabled at the next start) and never touches the others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserOrigin {
    #[default]
    Config,
    /// The CLI, the admin API or the control panel.
    Administration,
}

impl UserOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Administration => "administration",
        }
    }
}

/// The OpenID Connect standard claims a user may have (OIDC Core §5.1), `sub` and
/// `updated_at` aside (they come from the account). Every field is optional and defaulted, so a
/// claim added later never makes a stored row unreadable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StandardClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// Shown instead of the username when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoneinfo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number_verified: Option<bool>,
}

/// A user account as the core sees it. The password is held as its PHC-format argon2id hash
/// only; `None` is an account that cannot sign in with a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable and opaque: the ID token's `sub` (never the username, which may change).
    pub id: String,
    /// Unique, what the user types at sign-in.
    pub username: String,
    pub password_hash: Option<String>,
    pub roles: Vec<String>,
    pub status: UserStatus,
    pub origin: UserOrigin,
    pub claims: StandardClaims,
    pub created_at: UnixTime,
    /// OIDC Core §5.1 `updated_at`: when the claims last changed.
    pub updated_at: UnixTime,
}

impl User {
    pub fn enabled(&self) -> bool {
        self.status == UserStatus::Active
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}
