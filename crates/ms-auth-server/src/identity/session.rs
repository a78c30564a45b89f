//! A browser session at the authorization server: created at every sign-in (never carried over,
//! so a session cannot be fixed), ended by logout, by the user or an administrator, or by its
//! idle or absolute lifetime. The cookie holds a random token the store keeps hashed only; the
//! public `sid` (OIDC Core §2, Back-Channel Logout §2.4) names the session everywhere else.

use crate::clock::UnixTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSession {
    /// Public, random: the ID token's `sid`.
    pub sid: String,
    pub user_id: String,
    /// When the user last authenticated (the ID token's `auth_time`).
    pub auth_time: UnixTime,
    /// How (OIDC Core §2 `amr`, RFC 8176 values: `pwd`).
    pub amr: Vec<String>,
    pub acr: Option<String>,
    pub created_at: UnixTime,
    pub last_seen: UnixTime,
    /// Unused for the idle lifetime, it ends here; each use moves it on.
    pub idle_expires_at: UnixTime,
    /// However much it is used, it ends here.
    pub expires_at: UnixTime,
    /// The clients it has signed in to (codes or tokens issued), in order: logout notifies them.
    pub clients: Vec<String>,
    /// As seen at sign-in, for the user's list of sessions.
    pub user_agent: Option<String>,
    /// The client's address as seen through trusted proxies.
    pub address: Option<String>,
}

impl BrowserSession {
    /// Neither lifetime is over at `now`.
    pub fn is_live(&self, now: UnixTime) -> bool {
        now < self.idle_expires_at && now < self.expires_at
    }
}
