//! The actix-web side: `require_scope` on a route, bearer token from the `Authorization` header
//! only (RFC 6750 §2.1).

use actix_web::{
    Error, HttpMessage, HttpResponse,
    body::{EitherBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse, Transform},
    http::header::{self, HeaderMap},
    middleware::{Next, from_fn},
    web,
};

use crate::{error::AuthError, verifier::Verifier};

/// Guards one route: the request needs a valid bearer token carrying `scope`. The validated
/// [`crate::Principal`] is then available to the handler as an argument.
///
/// ```ignore
/// .route("/customers", web::get().to(list).wrap(require_scope("customer.read")))
/// ```
pub fn require_scope<S, B>(
    scope: &'static str,
) -> impl Transform<
    S,
    ServiceRequest,
    Response = ServiceResponse<EitherBody<B>>,
    Error = Error,
    InitError = (),
> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    guard(scope, false)
}

/// As [`require_scope`], and the token must not have been revoked: the issuer is asked by
/// introspection (`[auth.introspection]`), its answer reused for `cache_secs`. For routes
/// where a revoked token must stop working promptly, such as writes.
pub fn require_active_scope<S, B>(
    scope: &'static str,
) -> impl Transform<
    S,
    ServiceRequest,
    Response = ServiceResponse<EitherBody<B>>,
    Error = Error,
    InitError = (),
> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    guard(scope, true)
}

fn guard<S, B>(
    scope: &'static str,
    check_revocation: bool,
) -> impl Transform<
    S,
    ServiceRequest,
    Response = ServiceResponse<EitherBody<B>>,
    Error = Error,
    InitError = (),
> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    from_fn(move |req: ServiceRequest, next: Next<B>| async move {
        let Some(verifier) = req.app_data::<web::Data<Verifier>>().cloned() else {
            tracing::error!("require_scope used without web::Data<Verifier> in app data");
            return Ok(req
                .into_response(HttpResponse::InternalServerError().finish())
                .map_into_right_body());
        };
        match authorize(&verifier, req.headers(), scope, check_revocation).await {
            Ok(principal) => {
                req.extensions_mut().insert(principal);
                next.call(req)
                    .await
                    .map(ServiceResponse::map_into_left_body)
            }
            Err(e) => {
                tracing::info!(reason = %e, scope, "request refused");
                metrics::counter!("bearer_auth_failures_total", "reason" => e.kind()).increment(1);
                Ok(req
                    .into_response(e.response(verifier.challenge()))
                    .map_into_right_body())
            }
        }
    })
}

async fn authorize(
    verifier: &Verifier,
    headers: &HeaderMap,
    scope: &str,
    check_revocation: bool,
) -> Result<std::sync::Arc<crate::Principal>, AuthError> {
    let token = bearer_token(headers)?;
    let principal = verifier.authenticate(token).await?;
    if !principal.has_scope(scope) {
        return Err(AuthError::InsufficientScope(scope.to_owned()));
    }
    if check_revocation {
        verifier.ensure_not_revoked(token, &principal).await?;
    }
    Ok(principal)
}

/// The token of `Authorization: Bearer <b64token>`. Another scheme counts as no token.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Err(AuthError::Missing);
    };
    if values.next().is_some() {
        return Err(AuthError::invalid("more than one Authorization header"));
    }
    let value = value
        .to_str()
        .map_err(|_| AuthError::invalid("malformed Authorization header"))?
        .trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    let token = rest.trim();
    if token.is_empty() {
        return Err(AuthError::invalid("empty bearer token"));
    }
    // RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    let body = token.trim_end_matches('=');
    if body.is_empty()
        || !body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
    {
        return Err(AuthError::invalid("malformed bearer token"));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
        }
        h
    }

    #[test]
    fn extracts_bearer_tokens() {
        assert_eq!(
            bearer_token(&headers(&[b"Bearer abc.def.ghi"])),
            Ok("abc.def.ghi")
        );
        assert_eq!(bearer_token(&headers(&[b"bearer  abc=="])), Ok("abc=="));
    }

    #[test]
    fn missing_or_other_scheme_is_missing() {
        assert_eq!(bearer_token(&headers(&[])), Err(AuthError::Missing));
        assert_eq!(
            bearer_token(&headers(&[b"Basic YTpi"])),
            Err(AuthError::Missing)
        );
    }

    #[test]
    fn malformed_values_are_invalid_token() {
        for bad in [
            &b"Bearer"[..],
            b"Bearer ",
            b"Bearer a b",
            b"Bearer a\"b",
            b"Bearer ===",
            b"Bearer \xff",
        ] {
            assert!(
                matches!(
                    bearer_token(&headers(&[bad])),
                    Err(AuthError::InvalidToken(_))
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            bearer_token(&headers(&[b"Bearer a", b"Bearer b"])),
            Err(AuthError::InvalidToken(_))
        ));
    }
}
