//! Refresh tokens (RFC 6749 §6) in families: a token rotates only while it is current, and a
//! reused one revokes its whole family (RFC 9700 §4.14.2). A client that lost the response to
//! a rotation may present the old token once more within a grace window and is given the same
//! successor; past it, or a second time, that is reuse. Every family ends at an absolute
//! expiry however often it rotates. The access tokens issued from a family are recorded until
//! they expire, so what revokes the family can deny them too (RFC 7009 §2.1).
use super::StoreError;
use crate::clock::UnixTime;

/// A refresh token's grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshGrant {
    pub family_id: String,
    pub client_id: String,
    pub subject: String,
    pub scope: String,
    /// The signed-in user the family was issued to.
    pub user_id: Option<String>,
    /// The session it was issued in: logout ends the session's families.
    pub session_id: Option<String>,
    /// How the user authenticated (OIDC Core §2 `acr` and `amr`), for the ID tokens a refresh
    /// issues.
    pub acr: Option<String>,
    pub amr: Vec<String>,
    /// When the user authenticated (the ID tokens a refresh issues keep it: OIDC Core §12.2).
    pub auth_time: UnixTime,
    pub issued_at: UnixTime,
    /// When this token expires unless rotated (the idle lifetime).
    pub expires_at: UnixTime,
    /// When the whole family ends, whatever its rotations (the absolute lifetime).
    pub family_expires_at: UnixTime,
}

/// The token a rotation issues in place of the presented one.
#[derive(Debug, Clone, Copy)]
pub struct Successor<'a> {
    pub hash: &'a str,
    /// Its value sealed by the caller: kept, never opened here, to be handed back on a retry
    /// within the grace window.
    pub sealed: &'a str,
    /// Capped at the family's absolute expiry.
    pub expires_at: UnixTime,
    /// The access token issued with it, recorded with the family in the same write.
    pub access: Option<&'a IssuedAccess>,
}

/// An access token issued from a family: its `jti` and `exp`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IssuedAccess {
    pub jti: String,
    pub expires_at: UnixTime,
}

/// The outcome of presenting a refresh token for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// It was current: it is spent now, and the successor (stored) carries this grant.
    Rotated(RefreshGrant),
    /// It had just been rotated and is presented again within the grace window, while its
    /// successor is still unused: the successor's grant and sealed value, once.
    Retried {
        grant: RefreshGrant,
        successor_sealed: String,
    },
    /// It had been rotated already: someone holds a copy, so the whole family is revoked;
    /// `access` are the access tokens issued from it that are still live.
    Reused {
        family_id: String,
        access: Vec<IssuedAccess>,
    },
    /// Unknown, expired or revoked.
    Invalid,
}

/// Denies each of `access` until it expires: what a revoked family leaves live (its access
/// tokens are self-contained JWTs, refused only by the denylist).
pub async fn deny_access(
    hot: &dyn super::HotState,
    access: &[IssuedAccess],
    now: UnixTime,
) -> Result<(), StoreError> {
    for a in access {
        hot.deny(&a.jti, a.expires_at, now).await?;
    }
    Ok(())
}

/// What revoking a family did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyRevoked {
    /// How many of its refresh tokens it revoked: every one not revoked before, rotated ones
    /// included.
    pub revoked: u64,
    /// The access tokens issued from it that are still live, for the denylist.
    pub access: Vec<IssuedAccess>,
}

#[async_trait::async_trait]
pub trait RefreshTokenStore: Send + Sync {
    /// Stores the first token of a family.
    async fn put_refresh(&self, token_hash: &str, grant: &RefreshGrant) -> Result<(), StoreError>;

    /// Spends `old_hash` and stores `successor` in its family, if `old_hash` is current; of
    /// concurrent callers exactly one gets `Rotated`. Presented again before `grace_until`,
    /// while the successor is unused, it is `Retried` once.
    async fn rotate_refresh(
        &self,
        old_hash: &str,
        successor: Successor<'_>,
        grace_until: UnixTime,
        now: UnixTime,
    ) -> Result<Rotation, StoreError>;

    /// The grant of a live (current, unexpired, unrevoked) refresh token.
    async fn refresh(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<RefreshGrant>, StoreError>;

    /// The access tokens issued from `family_id` that are still live at `now`, whether or not
    /// the family is revoked.
    async fn family_access(
        &self,
        family_id: &str,
        now: UnixTime,
    ) -> Result<Vec<IssuedAccess>, StoreError>;

    /// Revokes every token of a family.
    async fn revoke_family(
        &self,
        family_id: &str,
        now: UnixTime,
    ) -> Result<FamilyRevoked, StoreError>;

    /// Revokes every family issued to `user_id` for `client_id` (for every client when
    /// `None`): what revoking a consent, or disabling the user, must take down. Families are
    /// found by their refresh tokens and by the code that started them (one exchange may issue
    /// no refresh token, yet its access tokens are recorded). `access` names the live access
    /// tokens of them all, revoked before or not, for the denylist: a retry after the denylist
    /// failed finds them again.
    async fn revoke_user_families(
        &self,
        user_id: &str,
        client_id: Option<&str>,
        now: UnixTime,
    ) -> Result<FamilyRevoked, StoreError>;

    /// Revokes every family issued to `client_id`, for any user (a deleted registration: RFC
    /// 7592 §2.3). `access` as for [`Self::revoke_user_families`].
    async fn revoke_client_families(
        &self,
        client_id: &str,
        now: UnixTime,
    ) -> Result<FamilyRevoked, StoreError>;

    /// Revokes every family issued in the session `session_id` (logout: OIDC Back-Channel
    /// Logout §2.7 lets the families issued there end with it). Offline families are stored
    /// with no session and survive it. `access` as for [`Self::revoke_user_families`].
    async fn revoke_session_families(
        &self,
        session_id: &str,
        now: UnixTime,
    ) -> Result<FamilyRevoked, StoreError>;

    /// Starts a family at a code's exchange: its first refresh token when the client may
    /// refresh (`first`, of `family_id`), and the access token issued with it, in as few
    /// writes as the store can make them.
    async fn start_family(
        &self,
        family_id: &str,
        first: Option<(&str, &RefreshGrant)>,
        access: &IssuedAccess,
    ) -> Result<(), StoreError> {
        if let Some((token_hash, grant)) = first {
            self.put_refresh(token_hash, grant).await?;
        }
        self.record_access(family_id, access).await
    }

    /// Records an access token issued from `family_id` (by a code's exchange or a refresh),
    /// kept until its `exp`.
    async fn record_access(&self, family_id: &str, access: &IssuedAccess)
    -> Result<(), StoreError>;

    /// Removes what can change no outcome any more: access records past their `exp`, and
    /// every token of a family with nothing live left (no live refresh token, no live access
    /// token: until then a reuse must still be detected); drops sealed successors once their
    /// grace window has passed. How many rows went.
    async fn prune_expired(&self, now: UnixTime) -> Result<u64, StoreError>;
}
