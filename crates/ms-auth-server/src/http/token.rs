//! `POST /oauth2/token` (RFC 6749 §3.2).

use actix_web::{HttpResponse, ResponseError, web};
use tracing::{Instrument, field::Empty};

use super::{form::ClientForm, no_store};
use crate::{clock::Clock, oauth::server::AuthorizationServer};

pub async fn token(
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
            no_store(HttpResponse::Ok()).json(issued.response)
        }
        Err(e) => {
            let code = e.to_oauth().error.as_str();
            span.record("error", code);
            metrics::counter!("token_errors_total", "error" => code).increment(1);
            e.error_response()
        }
    }
}
