//! A logout token's claims, checked as OpenID Connect Back-Channel Logout 1.0 §2.6 says
//! (the signature was verified against the provider's keys first): `iss`, `aud`, `iat`, `exp`
//! if present, `jti`, `events`, `sid` and/or `sub`, and no `nonce`. Pure, like `id_token`.

use serde_json::{Map, Value};

use crate::id_token::{LEEWAY_SECS, Refused, check_common, refused};

/// §2.4: the member of `events` that makes a JWT a logout token.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Whose sessions a logout token ends: those of the provider session `sid`, or when it names
/// none, every session of `sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutTarget {
    pub sid: Option<String>,
    pub sub: Option<String>,
}

/// §2.6 steps 3–7 on the header's `typ` and `claims` at `now` (Unix seconds).
pub fn check(
    typ: Option<&str>,
    claims: &Map<String, Value>,
    issuer: &str,
    client_id: &str,
    now: u64,
) -> Result<LogoutTarget, Refused> {
    // §2.4 recommends explicit typing (RFC 8725 §3.11), so a token of another kind cannot
    // pass for a logout token; one without `typ` is still accepted, as §2.6 does not ask it.
    if let Some(typ) = typ
        && !typ.eq_ignore_ascii_case("logout+jwt")
        && !typ.eq_ignore_ascii_case("application/logout+jwt")
    {
        return Err(refused("the token's typ is not logout+jwt"));
    }
    check_common(claims, issuer, client_id, now)?;
    if let Some(exp) = claims.get("exp") {
        let exp = exp
            .as_u64()
            .ok_or_else(|| refused("the logout token's exp is not a number"))?;
        if now >= exp.saturating_add(LEEWAY_SECS) {
            return Err(refused("the logout token has expired"));
        }
    }
    let jti = claims.get("jti").and_then(Value::as_str);
    if jti.is_none_or(str::is_empty) {
        return Err(refused("the logout token has no jti"));
    }
    // §2.6 step 5: "Verify that the Logout Token contains an events Claim whose value is JSON
    // object containing the member name http://schemas.openid.net/event/backchannel-logout."
    // §2.4: its value "MUST be a JSON object".
    let event = claims
        .get("events")
        .and_then(Value::as_object)
        .and_then(|events| events.get(BACKCHANNEL_LOGOUT_EVENT));
    if !event.is_some_and(Value::is_object) {
        return Err(refused("the logout token has no back-channel logout event"));
    }
    // Step 7: "Verify that the Logout Token does not contain a nonce Claim." (an ID token
    // must never pass for a logout token).
    if claims.contains_key("nonce") {
        return Err(refused("a logout token must not contain a nonce"));
    }
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let target = LogoutTarget {
        sid: text("sid"),
        sub: text("sub"),
    };
    // Step 6: "Verify that the Logout Token contains a sub Claim, a sid Claim, or both."
    if target.sid.is_none() && target.sub.is_none() {
        return Err(refused("the logout token names neither sid nor sub"));
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;

    fn claims(extra: Value) -> Map<String, Value> {
        let base = json!({
            "iss": "https://op.example", "aud": "web", "iat": NOW, "exp": NOW + 120,
            "jti": "j-1", "sid": "s-1", "sub": "alice-id",
            "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
        });
        crate::id_token::tests::changed(base, &extra)
    }

    fn run(typ: Option<&str>, extra: Value) -> Result<LogoutTarget, Refused> {
        check(typ, &claims(extra), "https://op.example", "web", NOW)
    }

    #[test]
    fn a_good_token_names_its_session() {
        let t = run(Some("logout+jwt"), json!({})).unwrap();
        assert_eq!(
            t,
            LogoutTarget {
                sid: Some("s-1".into()),
                sub: Some("alice-id".into())
            }
        );
        let t = run(None, json!({"sid": null, "exp": null})).unwrap();
        assert_eq!(
            t,
            LogoutTarget {
                sid: None,
                sub: Some("alice-id".into())
            }
        );
        assert!(run(None, json!({"sub": null})).is_ok());
    }

    #[test]
    fn section_2_6_refusals() {
        for (typ, extra, why) in [
            (Some("JWT"), json!({}), "typ"),
            (None, json!({"nonce": "n"}), "nonce"),
            (None, json!({"events": null}), "event"),
            (
                None,
                json!({"events": {BACKCHANNEL_LOGOUT_EVENT: "yes"}}),
                "event",
            ),
            (None, json!({"events": {"http://other/event": {}}}), "event"),
            (None, json!({"events": [BACKCHANNEL_LOGOUT_EVENT]}), "event"),
            (None, json!({"aud": "other"}), "aud"),
            (None, json!({"iss": "https://evil.example"}), "issuer"),
            (None, json!({"iat": null}), "iat"),
            (None, json!({"exp": NOW - LEEWAY_SECS}), "expired"),
            (None, json!({"jti": null}), "jti"),
            (None, json!({"sid": null, "sub": null}), "neither"),
        ] {
            let e = run(typ, extra.clone()).unwrap_err();
            assert!(e.0.contains(why), "{extra}: {e}");
        }
    }
}
