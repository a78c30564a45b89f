//! `POST /backchannel-logout`: OpenID Connect Back-Channel Logout 1.0 §2.5–2.8. The provider
//! POSTs `logout_token=<JWT>`; a valid one ends this app's sessions of that provider session
//! (`sid`), or of that user (`sub`) when it names no session.

use std::sync::atomic::Ordering;

use actix_web::{HttpResponse, http::header, web};
use serde_json::json;

use super::AppState;
use crate::logout_token;

pub async fn receive(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    match end_sessions(&state, &body).await {
        Ok(ended) => {
            state.backchannel_accepted.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("backchannel_logouts_total", "outcome" => "accepted").increment(1);
            tracing::info!(sessions_ended = ended, "back-channel logout received");
            // §2.8: "If the logout succeeded, the RP MUST respond with HTTP 200 OK" — with
            // `Cache-Control: no-store` (§2.8's example).
            HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
        Err(why) => {
            state.backchannel_refused.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("backchannel_logouts_total", "outcome" => "refused").increment(1);
            tracing::warn!(error = %why, "back-channel logout refused");
            // §2.8: "If the request is invalid ... the RP MUST respond with HTTP 400".
            HttpResponse::BadRequest()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(json!({"error": "invalid_request", "error_description": why}))
        }
    }
}

/// §2.5: one `logout_token` in a form body; §2.6: its validation; then the sessions ended.
async fn end_sessions(state: &AppState, body: &[u8]) -> Result<usize, String> {
    let mut tokens = url::form_urlencoded::parse(body)
        .filter(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned());
    let (Some(token), None) = (tokens.next(), tokens.next()) else {
        return Err("the request must carry exactly one logout_token".to_owned());
    };
    let verified = state
        .provider
        .verify(&token)
        .await
        .map_err(|e| e.to_string())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let target = logout_token::check(
        verified.typ.as_deref(),
        &verified.claims,
        state.provider.issuer(),
        &state.settings.web.client_id,
        now,
    )
    .map_err(|e| e.0)?;
    Ok(state
        .store
        .end_matching(target.sid.as_deref(), target.sub.as_deref()))
}
