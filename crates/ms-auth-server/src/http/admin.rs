//! The operator's endpoints, behind a bearer token whose hash is in `[admin] token_hash`
//! (compared in constant time): `GET /admin/keys` lists the signing keys, `POST
//! /admin/keys/rotate` starts a rotation (the same as `ms-auth-server keys rotate`), `POST
//! /admin/keys/{kid}/revoke` withdraws a key at once (`ms-auth-server keys revoke KID`). Each
//! is an adapter over one [`Ops`] operation.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use serde_json::json;

use super::error::ApiError;
use crate::{
    clock::{Clock, UnixTime},
    oauth::{
        brute_force::{Attempt, Guard, Refused},
        secret::SecretHash,
    },
    ops::{Actor, Ops, OpsError},
    store::StoredKey,
};

/// What the admin endpoints need.
pub struct Admin {
    /// Without one, the admin endpoints do not exist (404).
    pub token: Option<SecretHash>,
    pub ops: Ops,
    /// Failed admin-token checks, counted per source address (RFC 6749 §10.10).
    pub guard: Guard,
}

impl Admin {
    /// The caller, when the request carries the admin token: a 401, or a 429 once its source
    /// failed too often (the token is then not even checked).
    async fn authorize(&self, req: &HttpRequest, now: UnixTime) -> Result<Actor, ApiError> {
        let attempt = Attempt {
            source: super::form::source(req),
            client_id: None,
        };
        let checked = self
            .guard
            .guard(attempt, now, async { self.check_token(req) }, |refusal| {
                matches!(refusal, ApiError::Unauthorized)
            })
            .await;
        match checked {
            Ok(outcome) => outcome.map(|()| Actor::AdminToken),
            Err(Refused::Blocked { retry_after_secs }) => {
                Err(ApiError::Throttled { retry_after_secs })
            }
            Err(Refused::Store(e)) => Err(unavailable(e)),
        }
    }

    fn check_token(&self, req: &HttpRequest) -> Result<(), ApiError> {
        let Some(expected) = &self.token else {
            return Err(ApiError::Off);
        };
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match presented {
            Some(token) if expected.verify(token.as_bytes()) => Ok(()),
            _ => {
                tracing::info!(reason = "admin_token", "admin request refused");
                Err(ApiError::Unauthorized)
            }
        }
    }
}

fn describe(k: &StoredKey) -> serde_json::Value {
    json!({
        "kid": k.kid,
        "alg": k.algorithm.as_str(),
        "state": k.state.as_str(),
        "created_at": k.created_at,
        "activates_at": k.activates_at,
        "publish_until": k.publish_until,
    })
}

fn unavailable(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "admin request failed");
    ApiError::Unavailable
}

/// The admin API's answer for an operation's refusal; `from_file` says what to do instead.
fn refused(e: OpsError, from_file: &'static str) -> ApiError {
    match e {
        OpsError::KeysFromFile => ApiError::Conflict("keys_from_file", from_file),
        OpsError::UnknownKey(_) => ApiError::NotFound("no signing key has this kid"),
        OpsError::Forbidden => ApiError::Forbidden,
        e @ (OpsError::Store(_) | OpsError::Key(_) | OpsError::NoActiveKey) => unavailable(e),
    }
}

fn no_store(mut builder: actix_web::HttpResponseBuilder, body: serde_json::Value) -> HttpResponse {
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

pub async fn keys(
    req: HttpRequest,
    admin: web::Data<Admin>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let actor = admin.authorize(&req, clock.now()).await?;
    let keys = admin
        .ops
        .list_keys(&actor)
        .await
        .map_err(|e| refused(e, "the signing key comes from keys.private_key_file"))?;
    Ok(no_store(
        HttpResponse::Ok(),
        json!({ "keys": keys.iter().map(describe).collect::<Vec<_>>() }),
    ))
}

pub async fn rotate(
    req: HttpRequest,
    admin: web::Data<Admin>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let now = clock.now();
    let actor = admin.authorize(&req, now).await?;
    let next = admin.ops.rotate_key(&actor, now).await.map_err(|e| {
        refused(
            e,
            "the signing key comes from keys.private_key_file and does not rotate",
        )
    })?;
    Ok(no_store(HttpResponse::Accepted(), describe(&next)))
}

pub async fn revoke(
    req: HttpRequest,
    kid: web::Path<String>,
    admin: web::Data<Admin>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let now = clock.now();
    let actor = admin.authorize(&req, now).await?;
    let done = admin.ops.revoke_key(&actor, &kid, now).await.map_err(|e| {
        refused(
            e,
            "the signing key comes from keys.private_key_file: replace the file and restart",
        )
    })?;
    Ok(no_store(
        HttpResponse::Ok(),
        json!({
            "revoked": describe(&done.key),
            "activated": done.activated.as_ref().map(describe),
            "already_revoked": done.already,
        }),
    ))
}
