//! `POST /oauth2/token` (RFC 6749 §3.2). A browser app on one of the client's redirect URIs'
//! origins may read the answer (CORS: `Access-Control-Allow-Origin`); the form POST is a
//! CORS-simple request, so there is no preflight to answer.

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    http::header::{self, HeaderValue},
    web,
};
use tracing::{Instrument, field::Empty};

use super::{form::ClientForm, no_store};
use crate::{clock::Clock, oauth::server::AuthorizationServer};

pub async fn token(
    req: HttpRequest,
    form: ClientForm,
    server: web::Data<AuthorizationServer>,
    clock: web::Data<Clock>,
) -> HttpResponse {
    // Client id and grant type once the client authenticated; the error code otherwise. Never
    // the request's credentials or the token.
    let span = tracing::info_span!(
        "token request",
        client_id = Empty,
        grant_type = Empty,
        error = Empty
    );
    match server
        .token(form.request(), clock.now())
        .instrument(span.clone())
        .await
    {
        Ok(issued) => {
            span.record("client_id", issued.client_id.as_str());
            span.record("grant_type", issued.grant_type);
            tracing::debug!(client_id = %issued.client_id, grant_type = issued.grant_type, "token issued");
            // No client id as a label: label values come from closed sets only (per-client
            // figures belong in the store, not in a series per client).
            metrics::counter!("tokens_issued_total", "grant_type" => issued.grant_type)
                .increment(1);
            let mut res = no_store(HttpResponse::Ok());
            if let Some(origin) = req.headers().get(header::ORIGIN) {
                res.insert_header((header::VARY, "Origin"));
                if allowed_origin(&server, &issued.client_id, origin).await {
                    res.insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()));
                }
            }
            res.json(issued.response)
        }
        Err(e) => {
            let code = e.to_oauth().error.as_str();
            span.record("error", code);
            metrics::counter!("token_errors_total", "error" => code).increment(1);
            e.error_response()
        }
    }
}

/// Whether `origin` is the origin of one of `client_id`'s registered redirect URIs (the client
/// just authenticated, so it is in the store; a store failure allows nothing).
async fn allowed_origin(
    server: &AuthorizationServer,
    client_id: &str,
    origin: &HeaderValue,
) -> bool {
    let (Ok(origin), Ok(Some(client))) = (origin.to_str(), server.clients.client(client_id).await)
    else {
        return false;
    };
    client
        .metadata
        .redirect_uris
        .iter()
        .any(|r| r.is_origin_of(origin))
}
