//! Which user claims each scope releases (OIDC Core §5.4): `profile` the name claims and
//! `updated_at`, `email` the address and whether it is verified.

use serde_json::{Map, Value};

use crate::identity::User;

/// The claims of `user` that `scope` (space-separated) releases, `sub` aside.
pub fn released(user: &User, scope: &str) -> Map<String, Value> {
    let has = |s: &str| scope.split(' ').any(|g| g == s);
    let mut out = Map::new();
    let Ok(Value::Object(all)) = serde_json::to_value(&user.claims) else {
        return out;
    };
    let take = |out: &mut Map<String, Value>, name: &str| {
        if let Some(v) = all.get(name) {
            out.insert(name.to_owned(), v.clone());
        }
    };
    if has("profile") {
        for name in [
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
        ] {
            take(&mut out, name);
        }
        // The username stands in when no preferred_username is set.
        match all.get("preferred_username") {
            Some(v) => {
                out.insert("preferred_username".to_owned(), v.clone());
            }
            None => {
                out.insert(
                    "preferred_username".to_owned(),
                    Value::String(user.username.clone()),
                );
            }
        }
        out.insert("updated_at".to_owned(), Value::from(user.updated_at.secs()));
    }
    if has("email") {
        take(&mut out, "email");
        take(&mut out, "email_verified");
    }
    if has("phone") {
        take(&mut out, "phone_number");
        take(&mut out, "phone_number_verified");
    }
    out
}

/// The claims `scopes_supported` can release, for discovery's `claims_supported`.
pub const SUPPORTED: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "sid",
    "at_hash",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at",
    "email",
    "email_verified",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        clock::UnixTime,
        identity::{StandardClaims, UserOrigin, UserStatus},
    };

    fn alice() -> User {
        User {
            id: "u1".into(),
            username: "alice".into(),
            password_hash: None,
            roles: vec![],
            status: UserStatus::Active,
            origin: UserOrigin::Config,
            claims: StandardClaims {
                name: Some("Alice Example".into()),
                given_name: Some("Alice".into()),
                email: Some("alice@example.com".into()),
                email_verified: Some(true),
                ..StandardClaims::default()
            },
            created_at: UnixTime::from_secs(1),
            updated_at: UnixTime::from_secs(2),
        }
    }

    #[test]
    fn each_scope_releases_its_claims_only() {
        let u = alice();
        assert!(released(&u, "openid").is_empty());
        let p = released(&u, "openid profile");
        assert_eq!(p["name"], "Alice Example");
        assert_eq!(p["preferred_username"], "alice");
        assert_eq!(p["updated_at"], 2);
        assert!(!p.contains_key("email"));
        let e = released(&u, "openid email");
        assert_eq!(e["email"], "alice@example.com");
        assert_eq!(e["email_verified"], true);
        assert!(!e.contains_key("name"));
    }
}
