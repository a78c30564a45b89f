//! The checks OpenID Connect Core §3.1.3.7 asks of a relying party once the ID token's
//! signature verified (the provider's keys, `provider::Provider::verify`): `iss`, `aud` (and
//! `azp`), `exp`, `iat`, `nonce`. Pure: the claims, what is expected, and the time.

use serde_json::{Map, Value};

/// Clock skew tolerated between the provider and this app, in seconds.
pub const LEEWAY_SECS: u64 = 60;

/// Why a token's claims were refused; the text says which claim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

pub fn refused(why: impl Into<String>) -> Refused {
    Refused(why.into())
}

/// What an ID token must match.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The `nonce` sent in the authorization request; `None` after a refresh, where OIDC Core
    /// §12.2 has the new token carry none or the original one.
    pub nonce: Option<&'a str>,
}

/// The claims the app keeps of a verified ID token.
#[derive(Debug, Clone)]
pub struct IdToken {
    pub sub: String,
    /// The provider's session (OpenID Connect Front-/Back-Channel Logout `sid`).
    pub sid: Option<String>,
    /// `name`, else `preferred_username`, else `sub`.
    pub name: String,
    pub claims: Map<String, Value>,
}

/// OIDC Core §3.1.3.7 steps 2–4, 9, 10 and 11 on `claims` at `now` (Unix seconds).
pub fn check(
    claims: Map<String, Value>,
    expected: &Expected,
    now: u64,
) -> Result<IdToken, Refused> {
    check_common(&claims, expected.issuer, expected.client_id, now)?;
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or_else(|| refused("the ID token has no exp"))?;
    // Step 9: "The current time MUST be before the time represented by the exp Claim".
    if now >= exp.saturating_add(LEEWAY_SECS) {
        return Err(refused("the ID token has expired"));
    }
    let nonce = claims.get("nonce").and_then(Value::as_str);
    match expected.nonce {
        // Step 11: "The value of the nonce Claim MUST be checked to verify that it is the
        // same value as the one that was sent in the Authentication Request."
        Some(sent) if nonce != Some(sent) => {
            return Err(refused("the ID token's nonce is not the one sent"));
        }
        _ => {}
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| refused("the ID token has no sub"))?
        .to_owned();
    let sid = claims.get("sid").and_then(Value::as_str).map(str::to_owned);
    let name = ["name", "preferred_username"]
        .iter()
        .find_map(|c| claims.get(*c).and_then(Value::as_str))
        .unwrap_or(&sub)
        .to_owned();
    Ok(IdToken {
        sub,
        sid,
        name,
        claims,
    })
}

/// `iss` exactly the issuer, `aud` naming the client (and `azp`, when present, the client),
/// `iat` present and not in the future: what ID tokens and logout tokens share.
pub fn check_common(
    claims: &Map<String, Value>,
    issuer: &str,
    client_id: &str,
    now: u64,
) -> Result<(), Refused> {
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(refused("the token is from another issuer"));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&client_id) {
        return Err(refused("the token is not meant for this client (aud)"));
    }
    match claims.get("azp") {
        None => {}
        Some(azp) if azp.as_str() == Some(client_id) => {}
        Some(_) => return Err(refused("the token's azp is another client")),
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_u64)
        .ok_or_else(|| refused("the token has no iat"))?;
    if iat > now.saturating_add(LEEWAY_SECS) {
        return Err(refused("the token was issued in the future (iat)"));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;

    /// `base`'s claims with `change`'s replaced (a `null` removes one): the token a case tries.
    pub(crate) fn changed(base: Value, change: &Value) -> Map<String, Value> {
        let mut c = base.as_object().unwrap().clone();
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                c.remove(k);
            } else {
                c.insert(k.clone(), v.clone());
            }
        }
        c
    }

    fn claims(extra: Value) -> Map<String, Value> {
        let base = json!({
            "iss": "https://op.example", "aud": "web", "sub": "alice-id", "name": "Alice Example",
            "sid": "s-1", "iat": NOW - 5, "exp": NOW + 300, "nonce": "n-1",
        });
        changed(base, &extra)
    }

    fn run(extra: Value, nonce: Option<&str>) -> Result<IdToken, Refused> {
        let expected = Expected {
            issuer: "https://op.example",
            client_id: "web",
            nonce,
        };
        check(claims(extra), &expected, NOW)
    }

    #[test]
    fn a_good_token_gives_sub_sid_and_name() {
        let t = run(json!({}), Some("n-1")).unwrap();
        assert_eq!(
            (t.sub.as_str(), t.sid.as_deref(), t.name.as_str()),
            ("alice-id", Some("s-1"), "Alice Example")
        );
        let t = run(
            json!({"name": null, "aud": ["web", "other"], "azp": "web"}),
            Some("n-1"),
        )
        .unwrap();
        assert_eq!(t.name, "alice-id");
    }

    #[test]
    fn each_claim_is_checked() {
        for (extra, nonce, why) in [
            (
                json!({"iss": "https://evil.example"}),
                Some("n-1"),
                "another issuer",
            ),
            (json!({"iss": null}), Some("n-1"), "another issuer"),
            (json!({"aud": "other"}), Some("n-1"), "aud"),
            (json!({"aud": ["other"]}), Some("n-1"), "aud"),
            (json!({"azp": "other"}), Some("n-1"), "azp"),
            (json!({"exp": NOW - LEEWAY_SECS}), Some("n-1"), "expired"),
            (json!({"exp": null}), Some("n-1"), "no exp"),
            (json!({"iat": null}), Some("n-1"), "no iat"),
            (json!({"iat": NOW + LEEWAY_SECS + 1}), Some("n-1"), "future"),
            (json!({}), Some("n-2"), "nonce"),
            (json!({"nonce": null}), Some("n-1"), "nonce"),
            (json!({"sub": ""}), Some("n-1"), "no sub"),
        ] {
            let e = run(extra.clone(), nonce).unwrap_err();
            assert!(e.0.contains(why), "{extra}: {e}");
        }
        // After a refresh no nonce is expected.
        assert!(run(json!({"nonce": null}), None).is_ok());
    }
}
