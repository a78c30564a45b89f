//! The single-page app at `/spa/` (and `/spa/callback`, the same page): plain JavaScript that
//! signs in as the public client with PKCE in the browser and calls country-service with the
//! token. Its configuration goes into the page as JSON; the Content-Security-Policy lets it
//! run this origin's script only and `fetch` only the token endpoint and the resources.

use actix_web::{HttpResponse, http::header, web};
use serde_json::json;

use super::{AppState, origin_of, pages, see_other};

pub const SCRIPT: &str = include_str!("../../assets/spa.js");

pub async fn to_slash() -> HttpResponse {
    see_other("/spa/").finish()
}

pub async fn page(state: web::Data<AppState>) -> HttpResponse {
    let metadata = match state.provider.metadata().await {
        Ok(m) => m,
        Err(e) => {
            return pages::error(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "The provider is not reachable",
                &format!("{e}. Try again in a moment."),
            );
        }
    };
    let config = json!({
        "issuer": state.provider.issuer(),
        "authorization_endpoint": metadata.authorization_endpoint,
        "token_endpoint": metadata.token_endpoint,
        "client_id": state.settings.spa.client_id,
        "redirect_uri": state.spa_redirect_uri(),
        "scope": state.settings.spa.scope,
        "country_url": format!("{}/country-service/countries/DE", state.settings.resource_base_url),
    });
    // Inside <script type="application/json">: no `<` may close the element early.
    let config = config.to_string().replace('<', "\\u003c");
    let connect: Vec<String> = [
        metadata.token_endpoint.as_str(),
        &state.settings.resource_base_url,
    ]
    .iter()
    .filter_map(|u| origin_of(u))
    .collect();
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src {}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        connect.join(" ")
    );
    let mut builder = HttpResponse::Ok();
    builder.insert_header((header::CONTENT_SECURITY_POLICY, csp));
    pages::html(builder, &pages::Spa { config })
}

pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(SCRIPT)
}
