//! The HTTP layer: the only place that knows actix-web. Handlers extract, call one core
//! function, and map the result.

mod account;
pub mod admin;
mod authorize;
pub mod browser;
mod consent;
mod error;
mod form;
mod introspect;
mod jwks;
mod login;
mod logout;
mod metadata;
pub mod outbound;
mod pages;
mod register;
mod revoke;
mod token;
pub mod userinfo;

use actix_web::{FromRequest, Handler, Resource, Responder, http::Method, web};
use service_kit::http::{method_not_allowed, not_found};

use crate::oauth::endpoints;

pub use error::{ApiError, BearerError, oauth_error_response};
pub use form::{BodyError, ClientForm, RequestLimits};
pub use jwks::JwksMaxAge;
pub use pages::{
    assets_form_post, assets_style, page_response, page_response_with_form_action, render_page,
};
pub use register::Registration;

/// `Cache-Control: no-store` and `Pragma: no-cache` on a response that carries token data
/// (RFC 6749 §5.1).
pub(crate) fn no_store(
    mut builder: actix_web::HttpResponseBuilder,
) -> actix_web::HttpResponseBuilder {
    builder
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .insert_header((actix_web::http::header::PRAGMA, "no-cache"));
    builder
}

/// One resource at `path` answering `method` with `handler`, and a JSON 405 naming the
/// allowed method (`Allow`, RFC 9110 §15.5.6) for every other.
fn endpoint<F, Args>(path: &str, method: Method, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let allow: &'static str = if method == Method::GET {
        "GET"
    } else if method == Method::DELETE {
        "DELETE"
    } else {
        "POST"
    };
    web::resource(path)
        .route(web::method(method).to(handler))
        .default_service(web::to(move || async move { method_not_allowed(allow) }))
}

/// One resource answering GET and POST with `handler` (RFC 6749 §3.1, OIDC Core §5.3), and a
/// 405 for every other method.
fn get_and_post<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args> + Clone,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::post().to(handler))
        .default_service(web::to(|| async { method_not_allowed("GET, POST") }))
}

/// Registers every route under `context_path`.
pub fn configure(context_path: &str) -> impl FnOnce(&mut web::ServiceConfig) + Clone + '_ {
    move |cfg| {
        cfg.service(
            web::scope(context_path)
                .service(endpoint(endpoints::TOKEN, Method::POST, token::token))
                .service(endpoint(
                    endpoints::INTROSPECT,
                    Method::POST,
                    introspect::introspect,
                ))
                .service(endpoint(endpoints::REVOKE, Method::POST, revoke::revoke))
                .service(endpoint(endpoints::JWKS, Method::GET, jwks::jwks))
                .service(get_and_post(endpoints::AUTHORIZE, authorize::authorize))
                .service(get_and_post(endpoints::USERINFO, userinfo::userinfo))
                .service(
                    web::resource(endpoints::LOGIN)
                        .route(web::get().to(login::page))
                        .route(web::post().to(login::submit))
                        .default_service(web::to(|| async { method_not_allowed("GET, POST") })),
                )
                .service(endpoint(endpoints::CONSENT, Method::POST, consent::submit))
                .service(get_and_post(endpoints::LOGOUT, logout::logout))
                .service(endpoint(
                    endpoints::REGISTER,
                    Method::POST,
                    register::register,
                ))
                .service(
                    web::resource(endpoints::REGISTRATION)
                        .route(web::get().to(register::read))
                        .route(web::put().to(register::update))
                        .route(web::delete().to(register::delete))
                        .default_service(web::to(|| async {
                            method_not_allowed("GET, PUT, DELETE")
                        })),
                )
                .service(endpoint(
                    endpoints::ACCOUNT_CONSENTS,
                    Method::GET,
                    account::consents,
                ))
                .service(endpoint(
                    endpoints::ACCOUNT_CONSENT,
                    Method::DELETE,
                    account::revoke,
                ))
                .service(
                    web::resource(endpoints::ACCOUNT_SESSIONS)
                        .route(web::get().to(account::sessions))
                        .route(web::delete().to(account::end_sessions))
                        .default_service(web::to(|| async { method_not_allowed("GET, DELETE") })),
                )
                .service(endpoint(
                    endpoints::ACCOUNT_SESSION,
                    Method::DELETE,
                    account::end_session,
                ))
                .service(endpoint(
                    endpoints::OPENID_CONFIGURATION,
                    Method::GET,
                    metadata::authorization_server,
                ))
                .service(endpoint(
                    endpoints::AUTHORIZATION_SERVER_METADATA,
                    Method::GET,
                    metadata::authorization_server,
                ))
                .service(endpoint(endpoints::ADMIN_KEYS, Method::GET, admin::keys))
                .service(endpoint(
                    endpoints::ADMIN_KEYS_ROTATE,
                    Method::POST,
                    admin::rotate,
                ))
                .service(endpoint(
                    endpoints::ADMIN_KEY_REVOKE,
                    Method::POST,
                    admin::revoke,
                ))
                .service(endpoint(
                    endpoints::ASSETS_STYLE,
                    Method::GET,
                    pages::assets_style,
                ))
                .service(endpoint(
                    endpoints::ASSETS_FORM_POST,
                    Method::GET,
                    pages::assets_form_post,
                )),
        )
        .default_service(web::to(not_found));
    }
}
