//! The operator's endpoints, behind a bearer token whose hash is in `[admin] token_hash`
//! (compared in constant time): `GET /admin/keys` lists the signing keys, `POST
//! /admin/keys/rotate` starts a rotation (the same as `ms-auth-server keys rotate`), `POST
//! /admin/keys/{kid}/revoke` withdraws a key at once (`ms-auth-server keys revoke KID`).

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use serde_json::json;
use service_kit::http::json_error;

use crate::{
    key_lifecycle::{self, Lifecycle, LifecycleError},
    oauth::{secret::SecretHash, server::AuthorizationServer},
    store::{StoredKey, Stores},
};

/// What the admin endpoints need.
pub struct Admin {
    /// Without one, the admin endpoints do not exist (404).
    pub token: Option<SecretHash>,
    pub lifecycle: Lifecycle,
    /// Keys from `keys.private_key_file` do not rotate.
    pub keys_from_file: bool,
    /// Failed admin-token checks, counted per source address (RFC 6749 §10.10).
    pub guard: crate::oauth::brute_force::Guard,
    pub trusted_proxies: service_kit::proxies::TrustedProxies,
}

/// The refusal, when the request does not carry the admin token: 401, or 429 once its source
/// failed too often (the token is then not even checked).
async fn refused(req: &HttpRequest, admin: &Admin) -> Option<HttpResponse> {
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let attempt = crate::oauth::brute_force::Attempt {
        source: admin
            .trusted_proxies
            .client_ip(req.peer_addr().map(|a| a.ip()), forwarded),
        client_id: None,
    };
    let now = super::token::unix_now() as i64;
    let checked = admin
        .guard
        .guard(attempt, now, async { check_token(req, admin) }, |refusal| {
            refusal.status() == StatusCode::UNAUTHORIZED
        })
        .await;
    match checked {
        Ok(Ok(())) => None,
        Ok(Err(refusal)) => Some(*refusal),
        Err(crate::oauth::brute_force::Refused::Blocked { retry_after_secs }) => {
            let mut res = json_error(
                StatusCode::TOO_MANY_REQUESTS,
                "slow_down",
                &format!(
                    "too many failed admin authentications; retry after {retry_after_secs} seconds"
                ),
            );
            if let Ok(v) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Some(res)
        }
        Err(crate::oauth::brute_force::Refused::Store(e)) => Some(unavailable(e)),
    }
}

/// Whether the request carries the admin token; the refusal otherwise.
fn check_token(req: &HttpRequest, admin: &Admin) -> Result<(), Box<HttpResponse>> {
    let Some(expected) = &admin.token else {
        return Err(Box::new(json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "the admin endpoints are off: set [admin] token_hash",
        )));
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
            let mut res = json_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "an admin bearer token is required",
            );
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"ms-auth-server-admin\""),
            );
            Err(Box::new(res))
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

fn unavailable(e: impl std::fmt::Display) -> HttpResponse {
    tracing::error!(error = %e, "admin request failed");
    let mut res = json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "the store is unavailable, retry later",
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    res
}

pub async fn keys(
    req: HttpRequest,
    admin: web::Data<Admin>,
    stores: web::Data<Stores>,
) -> HttpResponse {
    if let Some(refusal) = refused(&req, &admin).await {
        return refusal;
    }
    match stores.keys.keys().await {
        Ok(keys) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "keys": keys.iter().map(describe).collect::<Vec<_>>() })),
        Err(e) => unavailable(e),
    }
}

pub async fn rotate(
    req: HttpRequest,
    admin: web::Data<Admin>,
    stores: web::Data<Stores>,
) -> HttpResponse {
    if let Some(refusal) = refused(&req, &admin).await {
        return refusal;
    }
    if admin.keys_from_file {
        return json_error(
            StatusCode::CONFLICT,
            "keys_from_file",
            "the signing key comes from keys.private_key_file and does not rotate",
        );
    }
    match key_lifecycle::rotate(&stores, &admin.lifecycle).await {
        Ok(next) => HttpResponse::Accepted()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(describe(&next)),
        Err(e) => unavailable(e),
    }
}

pub async fn revoke(
    req: HttpRequest,
    kid: web::Path<String>,
    admin: web::Data<Admin>,
    stores: web::Data<Stores>,
    server: web::Data<AuthorizationServer>,
) -> HttpResponse {
    if let Some(refusal) = refused(&req, &admin).await {
        return refusal;
    }
    if admin.keys_from_file {
        return json_error(
            StatusCode::CONFLICT,
            "keys_from_file",
            "the signing key comes from keys.private_key_file: replace the file and restart",
        );
    }
    match key_lifecycle::revoke(&stores, &admin.lifecycle, &kid).await {
        Ok(done) => {
            // This replica's JWKS drops the key now; the others reload on the notice.
            if let Err(e) = key_lifecycle::reload(&server, &stores).await {
                tracing::error!(error = %e, "key set not reloaded after a revocation; the next tick retries");
            }
            HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(json!({
                    "revoked": describe(&done.key),
                    "activated": done.activated.as_ref().map(describe),
                    "already_revoked": done.already,
                }))
        }
        Err(LifecycleError::UnknownKey(_)) => json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no signing key has this kid",
        ),
        Err(e) => unavailable(e),
    }
}
