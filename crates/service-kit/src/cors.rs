//! CORS (the Fetch standard's HTTP extensions, §3.2) for the resource services: browser apps
//! on the configured origins may `GET` with an `Authorization` header. Nothing is allowed by
//! default: with no origin configured the layer adds no header at all. Credentials (cookies)
//! are never allowed; the bearer token travels in the header the app sets.

use actix_web::{
    Error, HttpResponse,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        Method,
        header::{self, HeaderValue},
    },
    middleware::Next,
    web,
};
use serde::Deserialize;

/// `[cors]`: the origins (`scheme://host[:port]`, as browsers send them in `Origin`) whose
/// pages may call the service.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorsSettings {
    pub allowed_origins: Vec<String>,
}

/// How long a browser may reuse a preflight's answer.
const MAX_AGE_SECS: &str = "600";

impl CorsSettings {
    /// Each entry must be a serialised origin: no path, no trailing `/`, never `*` or `null`.
    pub fn validate(&self) -> Result<(), &'static str> {
        for origin in &self.allowed_origins {
            let serialised = url::Url::parse(origin).ok().and_then(|u| match u.origin() {
                o @ url::Origin::Tuple(..) => Some(o.ascii_serialization()),
                url::Origin::Opaque(_) => None,
            });
            if serialised.as_deref() != Some(origin.as_str()) {
                return Err("each must be an origin like http://127.0.0.1:8080 (no path, no '/')");
            }
        }
        Ok(())
    }

    fn allows(&self, origin: &HeaderValue) -> bool {
        self.allowed_origins
            .iter()
            .any(|o| o.as_bytes() == origin.as_bytes())
    }
}

/// Whether a preflight asks for what is offered: `GET`, with no request header but
/// `Authorization` (the CORS-safelisted ones need no permission).
fn preflight_fits(req: &ServiceRequest) -> bool {
    let method = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .map(HeaderValue::as_bytes);
    let headers_ok = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|list| {
            list.split(',')
                .map(str::trim)
                .all(|h| h.is_empty() || h.eq_ignore_ascii_case("authorization"))
        });
    method == Some(b"GET") && headers_ok
}

/// `App::wrap(from_fn(cors::middleware))` with `web::Data<CorsSettings>` in the app data. A
/// preflight (`OPTIONS` with `Access-Control-Request-Method`) from an allowed origin asking
/// for `GET` with `Authorization` is answered here, 204; any other preflight goes on to the
/// routes, whose answer carries no permission. Other requests from an allowed origin get
/// `Access-Control-Allow-Origin` (and may read `WWW-Authenticate`).
pub async fn middleware<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let settings = req
        .app_data::<web::Data<CorsSettings>>()
        .filter(|s| !s.allowed_origins.is_empty())
        .cloned();
    let Some(settings) = settings else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let allowed = req
        .headers()
        .get(header::ORIGIN)
        .filter(|o| settings.allows(o))
        .cloned();
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight && allowed.is_some() && !preflight_fits(&req) {
        // Asked for more than is offered: the routes answer, with no permission attached.
        return Ok(next.call(req).await?.map_into_left_body());
    }
    if preflight && let Some(origin) = &allowed {
        let res = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "Authorization"))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, MAX_AGE_SECS))
            .insert_header((
                header::VARY,
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            ))
            .finish();
        return Ok(req.into_response(res).map_into_right_body());
    }
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    // The answer depends on `Origin` whenever origins are configured: caches must key on it.
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = allowed {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("WWW-Authenticate"),
        );
    }
    Ok(res.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use actix_web::{App, test as actix_test, web};

    use super::*;

    fn settings(origins: &[&str]) -> CorsSettings {
        CorsSettings {
            allowed_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
        }
    }

    #[test]
    fn origins_are_checked() {
        assert!(
            settings(&["http://127.0.0.1:8080", "https://app.example"])
                .validate()
                .is_ok()
        );
        for bad in [
            "*",
            "null",
            "http://127.0.0.1:8080/",
            "https://app.example/spa",
            "app.example",
        ] {
            assert!(settings(&[bad]).validate().is_err(), "{bad}");
        }
    }

    async fn call(
        origins: &[&str],
        req: actix_test::TestRequest,
    ) -> ServiceResponse<impl MessageBody> {
        let app = actix_test::init_service(
            App::new()
                .wrap(actix_web::middleware::from_fn(middleware))
                .app_data(web::Data::new(settings(origins)))
                .route("/countries", web::get().to(HttpResponse::Ok)),
        )
        .await;
        actix_test::call_service(&app, req.to_request()).await
    }

    fn header<'a>(res: &'a ServiceResponse<impl MessageBody>, name: &str) -> &'a str {
        res.headers()
            .get(name)
            .map_or("", |v| v.to_str().unwrap_or_default())
    }

    fn preflight(origin: &str, method: &str, headers: &str) -> actix_test::TestRequest {
        actix_test::TestRequest::default()
            .method(Method::OPTIONS)
            .uri("/countries")
            .insert_header(("Origin", origin))
            .insert_header(("Access-Control-Request-Method", method))
            .insert_header(("Access-Control-Request-Headers", headers))
    }

    #[actix_web::test]
    async fn preflights_for_get_with_authorization_from_allowed_origins() {
        let ok = ["http://127.0.0.1:8080"];
        let res = call(
            &ok,
            preflight("http://127.0.0.1:8080", "GET", "authorization"),
        )
        .await;
        assert_eq!(res.status(), 204);
        assert_eq!(
            header(&res, "access-control-allow-origin"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(header(&res, "access-control-allow-methods"), "GET");
        assert_eq!(
            header(&res, "access-control-allow-headers"),
            "Authorization"
        );
        assert!(header(&res, "access-control-allow-credentials").is_empty());
        for req in [
            preflight("http://evil.example", "GET", "authorization"),
            preflight("http://127.0.0.1:8080", "DELETE", "authorization"),
            preflight("http://127.0.0.1:8080", "GET", "authorization, x-custom"),
        ] {
            let res = call(&ok, req).await;
            assert_ne!(res.status(), 204);
            assert!(header(&res, "access-control-allow-origin").is_empty());
        }
    }

    #[actix_web::test]
    async fn answers_carry_the_origin_only_when_allowed_and_nothing_by_default() {
        let get = |origin: &str| {
            actix_test::TestRequest::get()
                .uri("/countries")
                .insert_header(("Origin", origin.to_owned()))
        };
        let ok = ["http://127.0.0.1:8080"];
        let res = call(&ok, get("http://127.0.0.1:8080")).await;
        assert_eq!(
            header(&res, "access-control-allow-origin"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            header(&res, "access-control-expose-headers"),
            "WWW-Authenticate"
        );
        assert_eq!(header(&res, "vary"), "Origin");
        let res = call(&ok, get("http://evil.example")).await;
        assert!(header(&res, "access-control-allow-origin").is_empty());
        assert_eq!(header(&res, "vary"), "Origin");
        let res = call(&[], get("http://127.0.0.1:8080")).await;
        assert!(
            header(&res, "access-control-allow-origin").is_empty()
                && header(&res, "vary").is_empty()
        );
        let res = call(
            &[],
            preflight("http://127.0.0.1:8080", "GET", "authorization"),
        )
        .await;
        assert_ne!(res.status(), 204);
    }
}
