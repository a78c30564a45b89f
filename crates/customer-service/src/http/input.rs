//! What a request carries, checked: the customer JSON body, the page query, and the JSON error
//! answers when they are wrong.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use serde_json::{Value, json};
use service_kit::http::json_error;

use crate::{
    customer::{CustomerInput, FieldError},
    store::StoreError,
};

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

/// What can be wrong with a request body.
pub(super) enum BodyError {
    TooLarge,
    Unreadable,
    NotJson,
    Malformed(String),
    Field(FieldError),
}

impl BodyError {
    pub(super) fn response(&self) -> HttpResponse {
        match self {
            Self::TooLarge => json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large",
            ),
            Self::Unreadable => json_error(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                "the request body could not be read",
            ),
            // RFC 9110 §15.5.16: a body in a format the resource does not take is 415.
            Self::NotJson => json_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send application/json",
            ),
            Self::Malformed(e) => json_error(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                &format!("malformed JSON: {e}"),
            ),
            Self::Field(e) => invalid(e),
        }
    }
}

/// The JSON body as validated input.
pub(super) fn customer(
    req: &HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<CustomerInput, BodyError> {
    let body = body.map_err(|e| match e.as_response_error().status_code() {
        StatusCode::PAYLOAD_TOO_LARGE => BodyError::TooLarge,
        _ => BodyError::Unreadable,
    })?;
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(BodyError::NotJson);
    }
    let value: Value =
        serde_json::from_slice(&body).map_err(|e| BodyError::Malformed(e.to_string()))?;
    CustomerInput::from_json(&value).map_err(BodyError::Field)
}

/// `limit` (1..=100, default 20) and `offset` (default 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Page {
    pub limit: usize,
    pub offset: usize,
}

/// The largest `offset`: far past any real list, and within what SQL can bind.
pub const MAX_OFFSET: usize = 1_000_000_000;

#[derive(serde::Deserialize)]
struct RawPage {
    limit: Option<String>,
    offset: Option<String>,
}

pub(super) fn page(query: &str) -> Result<Page, FieldError> {
    let raw = web::Query::<RawPage>::from_query(query)
        .map_err(|_| FieldError {
            field: "$query".into(),
            message: "malformed query string".into(),
        })?
        .into_inner();
    Ok(Page {
        limit: number(raw.limit.as_deref(), "limit", DEFAULT_LIMIT, 1..=MAX_LIMIT)?,
        // SQL binds the offset as a signed 64-bit integer: anything larger would wrap to a
        // negative OFFSET, which PostgreSQL refuses.
        offset: number(raw.offset.as_deref(), "offset", 0, 0..=MAX_OFFSET)?,
    })
}

fn number(
    raw: Option<&str>,
    field: &str,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, FieldError> {
    let Some(raw) = raw else { return Ok(default) };
    let bad = || FieldError {
        field: field.to_owned(),
        message: format!(
            "must be a whole number from {} to {}",
            range.start(),
            range.end()
        ),
    };
    let n: usize = raw.parse().map_err(|_| bad())?;
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(bad())
    }
}

/// `400 {"error": "invalid_field", "field": …, "error_description": …}`.
pub(super) fn invalid(e: &FieldError) -> HttpResponse {
    HttpResponse::BadRequest().json(
        json!({ "error": "invalid_field", "field": e.field, "error_description": e.to_string() }),
    )
}

pub(super) fn not_found() -> HttpResponse {
    json_error(StatusCode::NOT_FOUND, "not_found", "no such customer")
}

/// The store failed: logged with its cause, answered as a retryable 503 without it.
pub(super) fn unavailable(e: &StoreError) -> HttpResponse {
    tracing::error!(error = %e, "customer store failed");
    let mut res = json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "the customer store is unavailable",
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_default_and_bounds() {
        assert_eq!(
            page("").unwrap(),
            Page {
                limit: 20,
                offset: 0
            }
        );
        assert_eq!(
            page("limit=100&offset=7&other=x").unwrap(),
            Page {
                limit: 100,
                offset: 7
            }
        );
        for (q, field) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=+5", "limit"),
            ("limit=", "limit"),
            ("offset=-1", "offset"),
            ("offset=99999999999999999999999", "offset"),
            ("limit=1&limit=2", "$query"),
        ] {
            assert_eq!(page(q).unwrap_err().field, field, "{q}");
        }
    }
}
