//! [`SessionStore`] on SQL: one row per session, keyed by its token's hash, with a unique
//! `sid`. Every change is one conditional `UPDATE`; adding a client to the JSON list is a
//! compare-and-set on the list read, retried when another replica changed it first, so two
//! clients added at once are both kept. Ending a session, or pruning it once expired, writes
//! its back-channel logout notices (`logout_notices`, [`super::outbox`]) in the same
//! transaction.
use sqlx::{Row, any::AnyRow};

use super::{SqlStore, corrupt, unavailable};
use crate::{
    clock::UnixTime,
    identity::BrowserSession,
    store::{SessionStore, SessionsPruned, StoreError},
};

const COLUMNS: &str = "sid, user_id, auth_time, amr, acr, created_at, last_seen, \
     idle_expires_at, expires_at, clients, user_agent, address";

/// Not ended, and neither lifetime over at `$2`.
const LIVE: &str = "ended_at IS NULL AND idle_expires_at > $2 AND expires_at > $2";

/// How many times a compare-and-set is retried before the store gives up: only a burst of
/// changes to one session could exhaust it.
const CAS_ATTEMPTS: usize = 32;

fn list(column: &str, r: &AnyRow) -> Result<Vec<String>, StoreError> {
    let json: String = r.try_get(column).map_err(corrupt)?;
    serde_json::from_str(&json).map_err(|e| corrupt(format!("session {column}: {e}")))
}

fn from_row(r: &AnyRow) -> Result<BrowserSession, StoreError> {
    Ok(BrowserSession {
        sid: r.try_get("sid").map_err(corrupt)?,
        user_id: r.try_get("user_id").map_err(corrupt)?,
        auth_time: r.try_get("auth_time").map_err(corrupt)?,
        amr: list("amr", r)?,
        acr: r.try_get("acr").map_err(corrupt)?,
        created_at: r.try_get("created_at").map_err(corrupt)?,
        last_seen: r.try_get("last_seen").map_err(corrupt)?,
        idle_expires_at: r.try_get("idle_expires_at").map_err(corrupt)?,
        expires_at: r.try_get("expires_at").map_err(corrupt)?,
        clients: list("clients", r)?,
        user_agent: r.try_get("user_agent").map_err(corrupt)?,
        address: r.try_get("address").map_err(corrupt)?,
    })
}

fn json(list: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(list).map_err(corrupt)
}

#[async_trait::async_trait]
impl SessionStore for SqlStore {
    async fn create_session(&self, token_hash: &str, s: &BrowserSession) -> Result<(), StoreError> {
        self.run("sessions", "create", async {
            sqlx::query(&format!(
                "INSERT INTO browser_sessions (token_hash, {COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            ))
            .bind(token_hash)
            .bind(&s.sid)
            .bind(&s.user_id)
            .bind(s.auth_time)
            .bind(json(&s.amr)?)
            .bind(s.acr.clone())
            .bind(s.created_at)
            .bind(s.last_seen)
            .bind(s.idle_expires_at)
            .bind(s.expires_at)
            .bind(json(&s.clients)?)
            .bind(s.user_agent.clone())
            .bind(s.address.clone())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn session(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<BrowserSession>, StoreError> {
        self.run("sessions", "get", async {
            let row = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM browser_sessions WHERE token_hash = $1 AND {LIVE}"
            ))
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
            row.map(|r| from_row(&r)).transpose()
        })
        .await
    }

    /// One statement: the idle expiry only moves forward and never past the absolute one, so
    /// touches arriving out of order from two replicas cannot shorten it.
    async fn touch_session(
        &self,
        sid: &str,
        now: UnixTime,
        idle_expires_at: UnixTime,
    ) -> Result<(), StoreError> {
        self.run("sessions", "touch", async {
            sqlx::query(&format!(
                "UPDATE browser_sessions SET \
                 last_seen = CASE WHEN $2 > last_seen THEN $2 ELSE last_seen END, \
                 idle_expires_at = CASE WHEN $3 > expires_at THEN expires_at \
                 WHEN $3 > idle_expires_at THEN $3 ELSE idle_expires_at END \
                 WHERE sid = $1 AND {LIVE}"
            ))
            .bind(sid)
            .bind(now)
            .bind(idle_expires_at)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn add_session_client(&self, sid: &str, client_id: &str) -> Result<(), StoreError> {
        self.run("sessions", "add_client", async {
            for _ in 0..CAS_ATTEMPTS {
                let row = sqlx::query(
                    "SELECT clients FROM browser_sessions WHERE sid = $1 AND ended_at IS NULL",
                )
                .bind(sid)
                .fetch_optional(&self.pool)
                .await
                .map_err(unavailable)?;
                let Some(row) = row else { return Ok(()) };
                let read: String = row.try_get("clients").map_err(corrupt)?;
                let mut clients: Vec<String> = serde_json::from_str(&read)
                    .map_err(|e| corrupt(format!("session clients: {e}")))?;
                if clients.iter().any(|c| c == client_id) {
                    return Ok(());
                }
                clients.push(client_id.to_owned());
                // Written only over the list just read: a concurrent change makes this touch
                // no row, and the list is read again.
                let done = sqlx::query(
                    "UPDATE browser_sessions SET clients = $3 \
                     WHERE sid = $1 AND clients = $2 AND ended_at IS NULL",
                )
                .bind(sid)
                .bind(&read)
                .bind(json(&clients)?)
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
                if done.rows_affected() > 0 {
                    return Ok(());
                }
            }
            Err(StoreError::Unavailable(format!(
                "session clients changed {CAS_ATTEMPTS} times while adding one"
            )))
        })
        .await
    }

    async fn end_session(
        &self,
        sid: &str,
        now: UnixTime,
    ) -> Result<Option<BrowserSession>, StoreError> {
        self.run("sessions", "end", async {
            let mut tx = self.begin().await?;
            let row = sqlx::query(&format!(
                "UPDATE browser_sessions SET ended_at = $2 WHERE sid = $1 AND {LIVE} \
                 RETURNING {COLUMNS}"
            ))
            .bind(sid)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?;
            let ended = row.map(|r| from_row(&r)).transpose()?;
            if let Some(session) = &ended {
                notify(&mut tx, session, now).await?;
            }
            tx.commit().await.map_err(unavailable)?;
            Ok(ended)
        })
        .await
    }

    async fn sessions_of(
        &self,
        user_id: &str,
        now: UnixTime,
    ) -> Result<Vec<BrowserSession>, StoreError> {
        self.run("sessions", "of_user", async {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM browser_sessions WHERE user_id = $1 AND {LIVE} \
                 ORDER BY created_at DESC, sid"
            ))
            .bind(user_id)
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
            rows.iter().map(from_row).collect()
        })
        .await
    }

    async fn prune_expired(&self, now: UnixTime) -> Result<SessionsPruned, StoreError> {
        self.run("sessions", "prune", async {
            let mut tx = self.begin().await?;
            // Expiry ends a session too: its clients are told, as at logout. Deleted first and
            // told for what the delete returned: of two replicas pruning at once, only the one
            // whose delete took the row writes its notices. An ended session's notices were
            // written when it ended.
            let expired = sqlx::query(&format!(
                "DELETE FROM browser_sessions \
                 WHERE ended_at IS NULL AND (idle_expires_at <= $1 OR expires_at <= $1) \
                 RETURNING {COLUMNS}"
            ))
            .bind(now)
            .fetch_all(&mut *tx)
            .await
            .map_err(unavailable)?;
            let mut sids = Vec::with_capacity(expired.len());
            for row in &expired {
                let session = from_row(row)?;
                notify(&mut tx, &session, now).await?;
                sids.push(session.sid);
            }
            let done = sqlx::query(
                "DELETE FROM browser_sessions \
                 WHERE ended_at <= $1 OR idle_expires_at <= $1 OR expires_at <= $1",
            )
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
            tx.commit().await.map_err(unavailable)?;
            Ok(SessionsPruned {
                removed: sids.len() as u64 + done.rows_affected(),
                expired: sids,
            })
        })
        .await
    }
}

/// A logout notice for each client `session` signed in to, due at `now` (once per pair: a
/// session ends once).
async fn notify(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    session: &BrowserSession,
    now: UnixTime,
) -> Result<(), StoreError> {
    for client_id in &session.clients {
        sqlx::query(
            "INSERT INTO logout_notices (sid, client_id, subject, created_at, due_at, attempts) \
             VALUES ($1, $2, $3, $4, $4, 0) ON CONFLICT (sid, client_id) DO NOTHING",
        )
        .bind(&session.sid)
        .bind(client_id)
        .bind(&session.user_id)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(unavailable)?;
    }
    Ok(())
}
