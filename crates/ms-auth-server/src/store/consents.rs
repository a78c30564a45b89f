//! What each user has allowed each client (OIDC Core §3.1.2.4): remembered per user, client and
//! scope set, so the consent page is shown again only when a client asks for more.
use super::StoreError;
use crate::clock::UnixTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub user_id: String,
    pub client_id: String,
    /// The scopes allowed, space-separated (RFC 6749 §3.3), in the order first granted.
    pub scope: String,
    pub granted_at: UnixTime,
}

impl Consent {
    /// Whether every scope of `requested` (space-separated) is allowed.
    pub fn covers(&self, requested: &str) -> bool {
        requested
            .split(' ')
            .filter(|s| !s.is_empty())
            .all(|s| self.scope.split(' ').any(|g| g == s))
    }
}

/// `granted` with the scopes of `more` it lacks appended, in their order, each once
/// (space-separated, RFC 6749 §3.3): what a grant leaves stored.
pub(crate) fn scope_union(granted: &str, more: &str) -> String {
    let mut all: Vec<&str> = Vec::new();
    for s in granted.split(' ').chain(more.split(' ')) {
        if !s.is_empty() && !all.contains(&s) {
            all.push(s);
        }
    }
    all.join(" ")
}

#[async_trait::async_trait]
pub trait ConsentStore: Send + Sync {
    /// Adds the scopes of `scope` to what `user_id` allowed `client_id` (a union: consent to
    /// more never forgets what was allowed before); `granted_at` becomes `now`.
    async fn grant_consent(
        &self,
        user_id: &str,
        client_id: &str,
        scope: &str,
        now: UnixTime,
    ) -> Result<(), StoreError>;

    async fn consent(&self, user_id: &str, client_id: &str) -> Result<Option<Consent>, StoreError>;

    /// Every consent of the user, by client id.
    async fn consents_of(&self, user_id: &str) -> Result<Vec<Consent>, StoreError>;

    /// Forgets it; false when there was none.
    async fn revoke_consent(&self, user_id: &str, client_id: &str) -> Result<bool, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_union_keeps_the_first_order_and_each_scope_once() {
        assert_eq!(scope_union("", "openid  profile openid"), "openid profile");
        assert_eq!(
            scope_union("openid profile", "email openid country.read"),
            "openid profile email country.read"
        );
        assert_eq!(scope_union("openid", ""), "openid");
    }
}
