//! The app's own state in memory, bounded: signed-in sessions (by a random id held in an
//! HttpOnly cookie), and flows in progress (a sign-in's `state`, `nonce` and PKCE verifier; a
//! sign-out's `state`), each bound to the browser that started it by a cookie of its own.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use serde_json::{Map, Value};

/// How long a sign-in or sign-out may take before its flow is forgotten.
pub const FLOW_TTL: Duration = Duration::from_secs(600);

/// Something to show once on the next page: a result of a button.
#[derive(Debug, Clone)]
pub struct Notice {
    pub title: String,
    pub text: String,
    pub ok: bool,
}

/// A signed-in user of this app.
#[derive(Debug, Clone)]
pub struct Session {
    pub sub: String,
    /// The provider's session id from the ID token, which back-channel logout names.
    pub sid: Option<String>,
    pub name: String,
    pub claims: Map<String, Value>,
    /// The userinfo endpoint's claims at sign-in (empty when there were none).
    pub userinfo: Map<String, Value>,
    pub id_token: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// When the access token expires (Unix seconds).
    pub expires_at: Option<u64>,
    pub scope: Option<String>,
    pub notice: Option<Notice>,
}

/// A flow in progress, waiting for the browser to come back.
#[derive(Debug, Clone)]
pub enum Flow {
    SignIn {
        state: String,
        nonce: String,
        verifier: String,
    },
    SignOut {
        state: String,
    },
}

struct Entry<T> {
    value: T,
    created: Instant,
}

/// A map of at most `max` entries; the oldest goes when a new one would exceed it.
struct Bounded<T> {
    max: usize,
    map: HashMap<String, Entry<T>>,
}

impl<T> Bounded<T> {
    fn insert(&mut self, key: String, value: T) {
        if self.map.len() >= self.max
            && let Some(oldest) = self
                .map
                .iter()
                .min_by_key(|(_, e)| e.created)
                .map(|(k, _)| k.clone())
        {
            self.map.remove(&oldest);
        }
        self.map.insert(
            key,
            Entry {
                value,
                created: Instant::now(),
            },
        );
    }
}

pub struct Store {
    sessions: Mutex<Bounded<Session>>,
    flows: Mutex<Bounded<Flow>>,
}

impl Store {
    /// At most `max_sessions` sessions, and as many flows in progress.
    pub fn new(max_sessions: usize) -> Self {
        Self {
            sessions: Mutex::new(Bounded {
                max: max_sessions,
                map: HashMap::new(),
            }),
            flows: Mutex::new(Bounded {
                max: max_sessions,
                map: HashMap::new(),
            }),
        }
    }

    /// Starts a session: its id, for the cookie.
    pub fn start(&self, session: Session) -> String {
        let id = crate::random::token();
        if let Ok(mut s) = self.sessions.lock() {
            s.insert(id.clone(), session);
        }
        id
    }

    pub fn get(&self, id: &str) -> Option<Session> {
        let s = self.sessions.lock().ok()?;
        s.map.get(id).map(|e| e.value.clone())
    }

    /// Changes the session `id` with `change`, if it is still there.
    pub fn update(&self, id: &str, change: impl FnOnce(&mut Session)) -> bool {
        let Ok(mut s) = self.sessions.lock() else {
            return false;
        };
        match s.map.get_mut(id) {
            Some(e) => {
                change(&mut e.value);
                true
            }
            None => false,
        }
    }

    /// Ends the session `id`, returning it.
    pub fn end(&self, id: &str) -> Option<Session> {
        self.sessions.lock().ok()?.map.remove(id).map(|e| e.value)
    }

    /// Ends the sessions of provider session `sid`, or when `sid` is `None` every session of
    /// `sub`; when both are given, a session must match both. How many ended.
    pub fn end_matching(&self, sid: Option<&str>, sub: Option<&str>) -> usize {
        let Ok(mut s) = self.sessions.lock() else {
            return 0;
        };
        let before = s.map.len();
        s.map.retain(|_, e| {
            let v = &e.value;
            let sid_hit = sid.is_some_and(|sid| v.sid.as_deref() == Some(sid));
            let sub_hit = sub.is_some_and(|sub| v.sub == sub);
            let ends = match (sid, sub) {
                (Some(_), Some(_)) => sid_hit && sub_hit,
                (Some(_), None) => sid_hit,
                (None, Some(_)) => sub_hit,
                (None, None) => false,
            };
            !ends
        });
        before - s.map.len()
    }

    /// How many sessions `sub` has (what the tests look at after a logout).
    pub fn count_for(&self, sub: &str) -> usize {
        self.sessions
            .lock()
            .map(|s| s.map.values().filter(|e| e.value.sub == sub).count())
            .unwrap_or(0)
    }

    /// Parks `flow`: the id for its cookie.
    pub fn park(&self, flow: Flow) -> String {
        let id = crate::random::token();
        if let Ok(mut f) = self.flows.lock() {
            f.map.retain(|_, e| e.created.elapsed() < FLOW_TTL);
            f.insert(id.clone(), flow);
        }
        id
    }

    /// Takes the flow `id` back (once), if it has not expired.
    pub fn take(&self, id: &str) -> Option<Flow> {
        let entry = self.flows.lock().ok()?.map.remove(id)?;
        (entry.created.elapsed() < FLOW_TTL).then_some(entry.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(sub: &str, sid: Option<&str>) -> Session {
        Session {
            sub: sub.into(),
            sid: sid.map(Into::into),
            name: sub.into(),
            claims: Map::new(),
            userinfo: Map::new(),
            id_token: String::new(),
            access_token: String::new(),
            refresh_token: None,
            expires_at: None,
            scope: None,
            notice: None,
        }
    }

    #[test]
    fn bounded_and_ended_by_sid_or_sub() {
        let store = Store::new(3);
        let a1 = store.start(session("alice", Some("s1")));
        store.start(session("alice", Some("s2")));
        store.start(session("bob", Some("s3")));
        assert!(store.get(&a1).is_some());
        store.start(session("carol", None));
        assert!(store.get(&a1).is_none(), "the oldest went");
        assert_eq!(store.end_matching(Some("s3"), Some("alice")), 0);
        assert_eq!(store.end_matching(Some("s3"), None), 1);
        store.start(session("alice", Some("s4")));
        assert_eq!(store.count_for("alice"), 2);
        assert_eq!(store.end_matching(None, Some("alice")), 2);
        assert_eq!(store.count_for("alice"), 0);
    }

    #[test]
    fn a_flow_is_taken_once() {
        let store = Store::new(2);
        let id = store.park(Flow::SignOut { state: "x".into() });
        assert!(matches!(store.take(&id), Some(Flow::SignOut { .. })));
        assert!(store.take(&id).is_none());
    }
}
