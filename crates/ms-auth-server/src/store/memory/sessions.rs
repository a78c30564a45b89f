//! [`SessionStore`] and [`LogoutOutbox`] in memory: one lock over the sessions by token hash,
//! their sids and the logout notices, so every operation (ending a session with its notices
//! among them) is atomic.
use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
};

use super::{poisoned, timed};
use crate::{
    clock::UnixTime,
    identity::BrowserSession,
    store::{LogoutNotice, LogoutOutbox, SessionStore, SessionsPruned, StoreError},
};

#[derive(Debug)]
struct Row {
    session: BrowserSession,
    ended_at: Option<UnixTime>,
}

impl Row {
    fn is_live(&self, now: UnixTime) -> bool {
        self.ended_at.is_none() && self.session.is_live(now)
    }
}

#[derive(Debug, Default)]
struct Sessions {
    by_token: HashMap<String, Row>,
    /// Each sid's token hash.
    tokens: HashMap<String, String>,
    /// By (sid, client id): each notice and when it is due.
    notices: BTreeMap<(String, String), (LogoutNotice, UnixTime)>,
}

impl Sessions {
    fn by_sid(&mut self, sid: &str) -> Option<&mut Row> {
        let token = self.tokens.get(sid)?;
        self.by_token.get_mut(token)
    }

    /// A notice for each client `session` signed in to, due at `now` (once per pair).
    fn notify(&mut self, session: &BrowserSession, now: UnixTime) {
        for client_id in &session.clients {
            let notice = LogoutNotice {
                sid: session.sid.clone(),
                client_id: client_id.clone(),
                subject: session.user_id.clone(),
                created_at: now,
                attempts: 0,
            };
            self.notices
                .entry((session.sid.clone(), client_id.clone()))
                .or_insert((notice, now));
        }
    }
}

/// Browser sessions in memory.
#[derive(Debug, Default)]
pub struct MemorySessionStore {
    state: Mutex<Sessions>,
}

#[async_trait::async_trait]
impl SessionStore for MemorySessionStore {
    async fn create_session(
        &self,
        token_hash: &str,
        session: &BrowserSession,
    ) -> Result<(), StoreError> {
        timed("sessions", "create", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            // As the SQL store's unique keys refuse it: a token or sid is never reused.
            if s.by_token.contains_key(token_hash) || s.tokens.contains_key(&session.sid) {
                return Err(StoreError::Unavailable(
                    "a session with this token or sid exists".to_owned(),
                ));
            }
            s.tokens.insert(session.sid.clone(), token_hash.to_owned());
            s.by_token.insert(
                token_hash.to_owned(),
                Row {
                    session: session.clone(),
                    ended_at: None,
                },
            );
            Ok(())
        })
        .await
    }

    async fn session(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<BrowserSession>, StoreError> {
        timed("sessions", "get", || {
            let s = self.state.lock().map_err(poisoned)?;
            Ok(s.by_token
                .get(token_hash)
                .filter(|r| r.is_live(now))
                .map(|r| r.session.clone()))
        })
        .await
    }

    async fn touch_session(
        &self,
        sid: &str,
        now: UnixTime,
        idle_expires_at: UnixTime,
    ) -> Result<(), StoreError> {
        timed("sessions", "touch", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            if let Some(row) = s.by_sid(sid).filter(|r| r.is_live(now)) {
                let session = &mut row.session;
                session.last_seen = session.last_seen.max(now);
                session.idle_expires_at = session
                    .idle_expires_at
                    .max(idle_expires_at)
                    .min(session.expires_at);
            }
            Ok(())
        })
        .await
    }

    async fn add_session_client(&self, sid: &str, client_id: &str) -> Result<(), StoreError> {
        timed("sessions", "add_client", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            if let Some(row) = s.by_sid(sid).filter(|r| r.ended_at.is_none())
                && !row.session.clients.iter().any(|c| c == client_id)
            {
                row.session.clients.push(client_id.to_owned());
            }
            Ok(())
        })
        .await
    }

    async fn end_session(
        &self,
        sid: &str,
        now: UnixTime,
    ) -> Result<Option<BrowserSession>, StoreError> {
        timed("sessions", "end", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            let ended = s.by_sid(sid).filter(|r| r.is_live(now)).map(|row| {
                row.ended_at = Some(now);
                row.session.clone()
            });
            if let Some(session) = &ended {
                s.notify(session, now);
            }
            Ok(ended)
        })
        .await
    }

    async fn sessions_of(
        &self,
        user_id: &str,
        now: UnixTime,
    ) -> Result<Vec<BrowserSession>, StoreError> {
        timed("sessions", "of_user", || {
            let s = self.state.lock().map_err(poisoned)?;
            let mut live: Vec<_> = s
                .by_token
                .values()
                .filter(|r| r.session.user_id == user_id && r.is_live(now))
                .map(|r| r.session.clone())
                .collect();
            live.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.sid.cmp(&b.sid)));
            Ok(live)
        })
        .await
    }

    async fn prune_expired(&self, now: UnixTime) -> Result<SessionsPruned, StoreError> {
        timed("sessions", "prune", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            let before = s.by_token.len();
            // Expiry ends a session too: its clients are told, as at logout.
            let expired: Vec<BrowserSession> = s
                .by_token
                .values()
                .filter(|r| r.ended_at.is_none() && !r.session.is_live(now))
                .map(|r| r.session.clone())
                .collect();
            for session in &expired {
                s.notify(session, now);
            }
            s.by_token.retain(|_, r| {
                r.ended_at.is_none_or(|at| at > now)
                    && r.session.idle_expires_at > now
                    && r.session.expires_at > now
            });
            let Sessions {
                by_token, tokens, ..
            } = &mut *s;
            tokens.retain(|_, token| by_token.contains_key(token));
            Ok(SessionsPruned {
                removed: (before - by_token.len()) as u64,
                expired: expired.into_iter().map(|e| e.sid).collect(),
            })
        })
        .await
    }
}

#[async_trait::async_trait]
impl LogoutOutbox for MemorySessionStore {
    async fn claim_notices(
        &self,
        now: UnixTime,
        lease_until: UnixTime,
        limit: u32,
    ) -> Result<Vec<LogoutNotice>, StoreError> {
        timed("outbox", "claim", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            let mut due: Vec<_> = s
                .notices
                .iter()
                .filter(|(_, (_, at))| *at <= now)
                .map(|(key, (n, at))| (*at, n.created_at, key.clone()))
                .collect();
            due.sort();
            let mut claimed = Vec::new();
            for (_, _, key) in due.into_iter().take(limit as usize) {
                if let Some((notice, at)) = s.notices.get_mut(&key) {
                    notice.attempts += 1;
                    *at = lease_until;
                    claimed.push(notice.clone());
                }
            }
            Ok(claimed)
        })
        .await
    }

    async fn settle_notice(&self, sid: &str, client_id: &str) -> Result<(), StoreError> {
        timed("outbox", "settle", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            s.notices.remove(&(sid.to_owned(), client_id.to_owned()));
            Ok(())
        })
        .await
    }

    async fn retry_notice(
        &self,
        sid: &str,
        client_id: &str,
        attempts: u32,
        due_at: UnixTime,
    ) -> Result<(), StoreError> {
        timed("outbox", "retry", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            if let Some((notice, at)) = s.notices.get_mut(&(sid.to_owned(), client_id.to_owned()))
                && notice.attempts == attempts
            {
                *at = due_at;
            }
            Ok(())
        })
        .await
    }

    async fn pending_notices(&self) -> Result<u64, StoreError> {
        timed("outbox", "pending", || {
            let s = self.state.lock().map_err(poisoned)?;
            Ok(s.notices.len() as u64)
        })
        .await
    }
}
