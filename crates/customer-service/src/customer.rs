//! A customer, and the validation of what clients send for one.

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Customer {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
}

/// Validated input for a new or replaced customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerInput {
    pub name: String,
    pub email: String,
    pub country: String,
}

/// A field that is missing, unexpected or invalid; the response names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

const FIELDS: [&str; 3] = ["name", "email", "country"];
const MAX_NAME_CHARS: usize = 200;
const MAX_EMAIL_BYTES: usize = 254;

impl CustomerInput {
    /// Checks a parsed JSON document: an object with exactly `name`, `email` and `country`.
    pub fn from_json(value: &Value) -> Result<Self, FieldError> {
        let Some(object) = value.as_object() else {
            return Err(field_error("$", "expected a JSON object"));
        };
        if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            let shown: String = unknown.chars().take(64).collect();
            return Err(field_error(&shown, "unknown field"));
        }
        Ok(Self {
            name: validate_name(string(object, "name")?)?,
            email: validate_email(string(object, "email")?)?,
            country: validate_country(string(object, "country")?)?,
        })
    }
}

fn string<'a>(object: &'a Map<String, Value>, field: &str) -> Result<&'a str, FieldError> {
    match object.get(field) {
        None | Some(Value::Null) => Err(field_error(field, "is required")),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(field_error(field, "must be a string")),
    }
}

fn validate_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(field_error("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(field_error(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(field_error("name", "must not contain control characters"));
    }
    Ok(name.to_owned())
}

/// A deliberately plain check: one `@`, a sane local part, a dotted domain of DNS labels.
fn validate_email(email: &str) -> Result<String, FieldError> {
    let invalid = || field_error("email", "must be an email address such as name@example.com");
    if email.len() > MAX_EMAIL_BYTES {
        return Err(field_error(
            "email",
            format!("must be at most {MAX_EMAIL_BYTES} bytes"),
        ));
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if !local_ok || !domain_ok {
        return Err(invalid());
    }
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// `celes` also lists Kosovo as `XK`: a user-assigned code (ISO 3166-1 leaves `AA`, `QM`–`QZ`,
/// `XA`–`XZ` and `ZZ` to its users), not an ISO 3166-1 entry. country-service leaves it out too.
const USER_ASSIGNED: [&str; 1] = ["XK"];

fn validate_country(code: &str) -> Result<String, FieldError> {
    let upper = code.to_ascii_uppercase();
    if upper.len() == 2
        && upper.bytes().all(|b| b.is_ascii_uppercase())
        && !USER_ASSIGNED.contains(&upper.as_str())
        && celes::Country::from_alpha2(&upper).is_ok()
    {
        Ok(upper)
    } else {
        Err(field_error(
            "country",
            "must be an ISO 3166-1 alpha-2 code such as DE",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(v: Value) -> String {
        CustomerInput::from_json(&v).unwrap_err().field
    }

    #[test]
    fn valid_input_is_normalised() {
        let c = CustomerInput::from_json(
            &json!({"name": "  Ada Lovelace ", "email": "ada@Example.COM", "country": "gb"}),
        )
        .unwrap();
        assert_eq!(
            c,
            CustomerInput {
                name: "Ada Lovelace".into(),
                email: "ada@example.com".into(),
                country: "GB".into()
            }
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        let ok = json!({"name": "A", "email": "a@b.de", "country": "DE"});
        let with = |k: &str, v: Value| {
            let mut o = ok.clone();
            o[k] = v;
            o
        };
        assert_eq!(field_of(with("name", json!(""))), "name");
        assert_eq!(field_of(with("name", json!("x".repeat(201)))), "name");
        assert_eq!(field_of(with("name", json!(5))), "name");
        for bad in [
            "", "a", "a@b", "@b.de", "a@@b.de", "a b@c.de", "a@-b.de", "a@b..de", ".a@b.de",
        ] {
            assert_eq!(field_of(with("email", json!(bad))), "email", "{bad}");
        }
        assert_eq!(
            field_of(with("email", json!(format!("{}@b.de", "a".repeat(300))))),
            "email"
        );
        for bad in ["", "D", "DEU", "XX", "XK", "1A", "ÄÖ", " DE"] {
            assert_eq!(field_of(with("country", json!(bad))), "country", "{bad}");
        }
        assert_eq!(field_of(with("extra", json!(1))), "extra");
        assert_eq!(field_of(json!({"name": "A", "email": "a@b.de"})), "country");
        assert_eq!(field_of(json!([1])), "$");
    }
}
