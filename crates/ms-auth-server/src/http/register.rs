//! `POST /connect/register` (RFC 7591 §3) and `GET`/`PUT`/`DELETE /connect/register/{client_id}`
//! (RFC 7592 §2): a JSON body of bounded size, the `Authorization: Bearer` token, the caller's
//! address — handed to one operation each. `Cache-Control: no-store` on every answer: they
//! carry the registration access token and, once, the client secret (RFC 7591 §3.2.1).

use actix_web::{HttpRequest, HttpResponse, ResponseError, http::StatusCode, web};

use super::{
    error::{BearerError, oauth_error_response, status},
    form::{body_limit, read_json_body, source},
    no_store,
};
use crate::{
    clock::Clock,
    oauth::{
        error::OAuthError,
        registration::{ClientInformation, Registrar, RegistrationError},
        server::AuthorizationServer,
    },
    ops::{Ops, clients::RegistrationCall},
};

/// What the registration endpoints need.
pub struct Registration {
    pub registrar: Registrar,
    pub ops: Ops,
}

impl ResponseError for RegistrationError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Off => StatusCode::NOT_FOUND,
            Self::Rejected(e) => status(e.error),
            Self::Bearer(e) => e.status_code(),
            Self::Failed(e) => e.status_code(),
            Self::Seal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Internal causes are logged, never sent.
    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Off => service_kit::http::json_error(
                StatusCode::NOT_FOUND,
                "not_found",
                "dynamic client registration is off here",
            ),
            Self::Rejected(e) => oauth_error_response(e),
            // RFC 7592 §2.1, RFC 7591 §3: RFC 6750's challenge, with this server's realm.
            Self::Bearer(e) => BearerError(e.clone()).error_response(),
            Self::Failed(e) => e.error_response(),
            Self::Seal(e) => {
                tracing::error!(error = %e, "registration failed");
                oauth_error_response(&OAuthError::server_error())
            }
        }
    }
}

fn answer(status: StatusCode, information: &ClientInformation) -> HttpResponse {
    no_store(HttpResponse::build(status)).json(information)
}

/// What a registration or an update hands the operation: the caller's address, its bearer
/// token, the JSON body.
fn call<'a>(req: &'a HttpRequest, body: &'a [u8]) -> RegistrationCall<'a> {
    RegistrationCall {
        source: source(req),
        bearer: auth_middleware::bearer_token(req.headers()),
        body,
    }
}

/// The request's body as JSON. Off, the endpoint does not exist, whatever was sent.
async fn json_body(
    req: &HttpRequest,
    payload: web::Payload,
    registration: &Registration,
) -> Result<Vec<u8>, actix_web::Error> {
    registration.registrar.ensure_on()?;
    Ok(read_json_body(req, payload, body_limit(req)).await?)
}

pub async fn register(
    req: HttpRequest,
    payload: web::Payload,
    registration: web::Data<Registration>,
    server: web::Data<AuthorizationServer>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, actix_web::Error> {
    let body = json_body(&req, payload, &registration).await?;
    let call = call(&req, &body);
    let information = registration
        .ops
        .register_client(&registration.registrar, &server.issuer, call, clock.now())
        .await?;
    Ok(answer(StatusCode::CREATED, &information))
}

pub async fn read(
    req: HttpRequest,
    client_id: web::Path<String>,
    registration: web::Data<Registration>,
) -> Result<HttpResponse, RegistrationError> {
    let bearer = auth_middleware::bearer_token(req.headers());
    let information = registration
        .ops
        .read_registration(&registration.registrar, &client_id, bearer)
        .await?;
    Ok(answer(StatusCode::OK, &information))
}

pub async fn update(
    req: HttpRequest,
    payload: web::Payload,
    client_id: web::Path<String>,
    registration: web::Data<Registration>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, actix_web::Error> {
    let body = json_body(&req, payload, &registration).await?;
    let call = call(&req, &body);
    let information = registration
        .ops
        .update_registration(&registration.registrar, &client_id, call, clock.now())
        .await?;
    Ok(answer(StatusCode::OK, &information))
}

pub async fn delete(
    req: HttpRequest,
    client_id: web::Path<String>,
    registration: web::Data<Registration>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, RegistrationError> {
    let bearer = auth_middleware::bearer_token(req.headers());
    registration
        .ops
        .delete_registration(&registration.registrar, &client_id, bearer, clock.now())
        .await?;
    // RFC 7592 §2.3: "204 No Content".
    Ok(no_store(HttpResponse::NoContent()).finish())
}
