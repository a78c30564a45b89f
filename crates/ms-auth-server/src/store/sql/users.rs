//! [`UserStore`] on SQL: one row per account; the unique index on `username` settles two
//! accounts racing for one name.
use sqlx::{Row, any::AnyRow};

use super::{SqlStore, corrupt, unavailable};
use crate::{
    clock::UnixTime,
    identity::{StandardClaims, User, UserOrigin, UserStatus},
    store::{PutUserError, StoreError, UserStore},
};

const COLUMNS: &str =
    "id, username, password_hash, roles, status, origin, claims, created_at, updated_at";

fn status_from(s: &str) -> Option<UserStatus> {
    [UserStatus::Active, UserStatus::Disabled]
        .into_iter()
        .find(|v| v.as_str() == s)
}

fn origin_from(s: &str) -> Option<UserOrigin> {
    [UserOrigin::Config, UserOrigin::Administration]
        .into_iter()
        .find(|v| v.as_str() == s)
}

fn from_row(r: &AnyRow) -> Result<User, StoreError> {
    let id: String = r.try_get("id").map_err(corrupt)?;
    let bad = |what: &str, e: &dyn std::fmt::Display| corrupt(format!("user {id}: {what}: {e}"));
    let roles: String = r.try_get("roles").map_err(corrupt)?;
    let claims: String = r.try_get("claims").map_err(corrupt)?;
    let status: String = r.try_get("status").map_err(corrupt)?;
    let origin: String = r.try_get("origin").map_err(corrupt)?;
    Ok(User {
        username: r.try_get("username").map_err(corrupt)?,
        password_hash: r.try_get("password_hash").map_err(corrupt)?,
        roles: serde_json::from_str(&roles).map_err(|e| bad("roles", &e))?,
        status: status_from(&status).ok_or_else(|| bad("status", &status))?,
        origin: origin_from(&origin).ok_or_else(|| bad("origin", &origin))?,
        claims: serde_json::from_str::<StandardClaims>(&claims).map_err(|e| bad("claims", &e))?,
        created_at: r.try_get("created_at").map_err(corrupt)?,
        updated_at: r.try_get("updated_at").map_err(corrupt)?,
        id,
    })
}

/// The user rows; [`UserStore`] below bounds and times each call.
impl SqlStore {
    async fn put_user_row(&self, u: &User) -> Result<Result<(), String>, StoreError> {
        let roles = serde_json::to_string(&u.roles).map_err(corrupt)?;
        let claims = serde_json::to_string(&u.claims).map_err(corrupt)?;
        let done = sqlx::query(&format!(
            "INSERT INTO users ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET username = excluded.username, \
             password_hash = excluded.password_hash, roles = excluded.roles, \
             status = excluded.status, origin = excluded.origin, claims = excluded.claims, \
             created_at = excluded.created_at, updated_at = excluded.updated_at"
        ))
        .bind(&u.id)
        .bind(&u.username)
        .bind(u.password_hash.as_deref())
        .bind(roles)
        .bind(u.status.as_str())
        .bind(u.origin.as_str())
        .bind(claims)
        .bind(u.created_at)
        .bind(u.updated_at)
        .execute(&self.pool)
        .await;
        match done {
            Ok(_) => Ok(Ok(())),
            // The only other unique key is the username.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(Err(u.username.clone())),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn user_where(&self, column: &str, value: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE {column} = $1"))
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(from_row).transpose()
    }

    async fn user_rows(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM users"))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        let mut users = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        // By the bytes of the name, as every backend agrees (a database collation may not).
        users.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(users)
    }

    async fn set_user_column(
        &self,
        id: &str,
        column: &str,
        value: &str,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(&format!(
            "UPDATE users SET {column} = $1, updated_at = $2 WHERE id = $3"
        ))
        .bind(value)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait::async_trait]
impl UserStore for SqlStore {
    async fn put_user(&self, user: &User) -> Result<(), PutUserError> {
        self.run("users", "put", self.put_user_row(user))
            .await?
            .map_err(PutUserError::UsernameTaken)
    }

    async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.run("users", "get", self.user_where("id", id)).await
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.run(
            "users",
            "by_username",
            self.user_where("username", username),
        )
        .await
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.run("users", "all", self.user_rows()).await
    }

    async fn set_password(
        &self,
        id: &str,
        password_hash: &str,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        self.run(
            "users",
            "set_password",
            self.set_user_column(id, "password_hash", password_hash, now),
        )
        .await
    }

    async fn set_status(
        &self,
        id: &str,
        status: UserStatus,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        self.run(
            "users",
            "set_status",
            self.set_user_column(id, "status", status.as_str(), now),
        )
        .await
    }
}
