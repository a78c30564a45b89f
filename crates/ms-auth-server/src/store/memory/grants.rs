//! Codes, refresh-token families and the access tokens issued from them, in memory, behind one
//! lock: every operation is atomic, and a code's replay revokes its family in the same step.
use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
};

use crate::{
    clock::UnixTime,
    store::{CodeGrant, FamilyRevoked, IssuedAccess, RefreshGrant, Rotation, refresh::Successor},
};

#[derive(Debug, Clone)]
pub(super) struct RefreshRow {
    pub grant: RefreshGrant,
    /// Set once the token has been rotated.
    pub rotated: Option<RotatedTo>,
    pub revoked: bool,
}

/// What a rotation left on the spent token, for a retry within the grace window.
#[derive(Debug, Clone)]
pub(super) struct RotatedTo {
    pub successor_hash: String,
    /// The successor as the caller sealed it, handed back on the one retry; dropped by pruning
    /// once the grace window has passed.
    pub successor_sealed: Option<String>,
    pub grace_until: UnixTime,
    pub retried: bool,
}

impl RefreshRow {
    pub fn new(grant: RefreshGrant) -> Self {
        Self {
            grant,
            rotated: None,
            revoked: false,
        }
    }

    /// Current, unrevoked, and neither it nor its family expired.
    pub fn is_live(&self, now: UnixTime) -> bool {
        self.rotated.is_none()
            && !self.revoked
            && self.grant.expires_at > now
            && self.grant.family_expires_at > now
    }
}

#[derive(Debug, Default)]
pub(super) struct GrantState {
    /// Each code with whether it has been consumed.
    pub codes: HashMap<String, (CodeGrant, bool)>,
    pub refresh: HashMap<String, RefreshRow>,
    /// The access tokens issued from each family.
    pub access: HashMap<String, Vec<IssuedAccess>>,
}

impl GrantState {
    pub fn revoke_family(&mut self, family_id: &str, now: UnixTime) -> FamilyRevoked {
        let mut revoked = 0;
        for row in self.refresh.values_mut() {
            if row.grant.family_id == family_id && !row.revoked {
                row.revoked = true;
                revoked += 1;
            }
        }
        FamilyRevoked {
            revoked,
            access: self.live_access(family_id, now),
        }
    }

    /// Revokes every family a refresh token or a code of which `matches`, and names the live
    /// access tokens of them all.
    pub fn revoke_families_where(
        &mut self,
        matches: impl Fn(Option<&str>, &str, Option<&str>) -> bool,
        now: UnixTime,
    ) -> FamilyRevoked {
        self.revoke_families_started(
            |user, client, session, _| matches(user, client, session),
            now,
        )
    }

    /// As [`Self::revoke_families_where`], `matches` also given the scope a code grants
    /// (`None` for a refresh token: its session says whether it is bound).
    pub fn revoke_families_started(
        &mut self,
        matches: impl Fn(Option<&str>, &str, Option<&str>, Option<&str>) -> bool,
        now: UnixTime,
    ) -> FamilyRevoked {
        let tokens = self.refresh.values().map(|r| {
            let g = &r.grant;
            (
                &g.family_id,
                g.user_id.as_deref(),
                &g.client_id,
                g.session_id.as_deref(),
                None,
            )
        });
        let codes = self.codes.values().map(|(g, _)| {
            (
                &g.family_id,
                g.user_id.as_deref(),
                &g.client_id,
                g.session_id.as_deref(),
                Some(g.scope.as_str()),
            )
        });
        let families: HashSet<String> = tokens
            .chain(codes)
            .filter(|(_, user, client, session, scope)| matches(*user, client, *session, *scope))
            .map(|(family, ..)| family.clone())
            .collect();
        let mut all = FamilyRevoked {
            revoked: 0,
            access: Vec::new(),
        };
        for family in &families {
            let one = self.revoke_family(family, now);
            all.revoked += one.revoked;
            all.access.extend(one.access);
        }
        all.access.sort();
        all
    }

    /// Records `access` as issued from `family_id`, once.
    pub fn record_access(&mut self, family_id: &str, access: &IssuedAccess) {
        let issued = self.access.entry(family_id.to_owned()).or_default();
        if !issued.iter().any(|a| a.jti == access.jti) {
            issued.push(access.clone());
        }
    }

    pub fn live_access(&self, family_id: &str, now: UnixTime) -> Vec<IssuedAccess> {
        let mut live: Vec<_> = self
            .access
            .get(family_id)
            .into_iter()
            .flatten()
            .filter(|a| a.expires_at > now)
            .cloned()
            .collect();
        live.sort();
        live
    }

    /// The families with something live: a refresh token or an access token.
    fn live_families(&self, now: UnixTime) -> HashSet<String> {
        let tokens = self
            .refresh
            .values()
            .filter(|r| r.is_live(now))
            .map(|r| r.grant.family_id.clone());
        let access = self
            .access
            .iter()
            .filter(|(_, issued)| issued.iter().any(|a| a.expires_at > now))
            .map(|(family, _)| family.clone());
        tokens.chain(access).collect()
    }

    /// [`crate::store::RefreshTokenStore::rotate_refresh`], under the lock.
    pub fn rotate(
        &mut self,
        old_hash: &str,
        successor: Successor<'_>,
        grace_until: UnixTime,
        now: UnixTime,
    ) -> Rotation {
        let Some(row) = self.refresh.get(old_hash) else {
            return Rotation::Invalid;
        };
        if let Some(to) = &row.rotated {
            let retry = !row.revoked && !to.retried && now < to.grace_until;
            let next = self
                .refresh
                .get(&to.successor_hash)
                .filter(|s| s.is_live(now));
            if let (true, Some(next), Some(sealed)) = (retry, next, &to.successor_sealed) {
                let outcome = Rotation::Retried {
                    grant: next.grant.clone(),
                    successor_sealed: sealed.clone(),
                };
                if let Some(RefreshRow {
                    rotated: Some(to), ..
                }) = self.refresh.get_mut(old_hash)
                {
                    to.retried = true;
                }
                return outcome;
            }
            let family_id = row.grant.family_id.clone();
            let access = self.revoke_family(&family_id, now).access;
            return Rotation::Reused { family_id, access };
        }
        if !row.is_live(now) {
            return Rotation::Invalid;
        }
        let grant = RefreshGrant {
            issued_at: now,
            expires_at: successor.expires_at.min(row.grant.family_expires_at),
            ..row.grant.clone()
        };
        self.refresh.insert(
            old_hash.to_owned(),
            RefreshRow {
                rotated: Some(RotatedTo {
                    successor_hash: successor.hash.to_owned(),
                    successor_sealed: Some(successor.sealed.to_owned()),
                    grace_until,
                    retried: false,
                }),
                ..row.clone()
            },
        );
        self.refresh
            .insert(successor.hash.to_owned(), RefreshRow::new(grant.clone()));
        if let Some(access) = successor.access {
            self.record_access(&grant.family_id, access);
        }
        Rotation::Rotated(grant)
    }

    /// Removes codes that can change no outcome any more; how many.
    pub fn prune_codes(&mut self, now: UnixTime) -> u64 {
        let live = self.live_families(now);
        let before = self.codes.len();
        self.codes.retain(|_, (grant, consumed)| {
            grant.expires_at > now || (*consumed && live.contains(&grant.family_id))
        });
        (before - self.codes.len()) as u64
    }

    /// Removes expired access records and the tokens of families with nothing live; drops
    /// sealed successors past their grace window. How many rows went.
    pub fn prune_refresh(&mut self, now: UnixTime) -> u64 {
        let mut gone = 0;
        for issued in self.access.values_mut() {
            let before = issued.len();
            issued.retain(|a| a.expires_at > now);
            gone += before - issued.len();
        }
        self.access.retain(|_, issued| !issued.is_empty());
        let live = self.live_families(now);
        let before = self.refresh.len();
        self.refresh
            .retain(|_, row| live.contains(&row.grant.family_id));
        gone += before - self.refresh.len();
        for row in self.refresh.values_mut() {
            if let Some(to) = &mut row.rotated
                && to.grace_until <= now
            {
                to.successor_sealed = None;
            }
        }
        gone as u64
    }
}

/// Codes and refresh-token families in memory.
#[derive(Debug, Default)]
pub struct MemoryGrants {
    pub(super) state: Mutex<GrantState>,
}
