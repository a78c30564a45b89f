//! `[[users]]`: the accounts the config manages, each its username, its password (plain text
//! in the playground, else its argon2id hash), its roles and its OpenID Connect standard
//! claims (OIDC Core §5.1) in one table. `[passwords]` is [`PasswordSettings`].

use std::collections::HashSet;

use serde::Deserialize;

use super::{SettingsError, invalid};
use crate::identity::{
    StandardClaims,
    password::{self, Password},
    sign_in::{check_role, check_username},
};

/// One `[[users]]` table: the credentials and roles, then the standard claims' keys beside
/// them. Unknown keys are refused.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigUser {
    pub username: String,
    /// Plain-text password (playground only: a warning is logged at start-up).
    #[serde(default)]
    pub password: Option<Password>,
    /// The argon2id PHC string, as printed by `ms-auth-server hash-password`.
    #[serde(default)]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(flatten)]
    pub claims: StandardClaims,
}

impl ConfigUser {
    /// A user with a plain-text password (accepted with `playground = true` only).
    pub fn with_password(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: Some(Password::new(password)),
            password_hash: None,
            roles: Vec::new(),
            claims: StandardClaims::default(),
        }
    }

    /// Checks this table, found at `prefix`.
    pub fn validate(&self, prefix: &str, playground: bool) -> Result<(), SettingsError> {
        let key = |field: &str| format!("{prefix}.{field}");
        check_username(&self.username).map_err(|e| invalid(key("username"), e))?;
        match (&self.password, &self.password_hash) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    key("password"),
                    "give password or password_hash, not both",
                ));
            }
            (None, None) => {
                return Err(invalid(key("password_hash"), "a password is required"));
            }
            (Some(_), None) if !playground => {
                return Err(invalid(
                    key("password"),
                    "plain-text passwords are for the playground only: give password_hash (`ms-auth-server hash-password`)",
                ));
            }
            (Some(p), None) => {
                password::check_policy(p.expose())
                    .map_err(|e| invalid(key("password"), e.to_string()))?;
            }
            (None, Some(h)) => {
                password::check_stored(h)
                    .map_err(|e| invalid(key("password_hash"), e.to_string()))?;
            }
        }
        self.roles
            .iter()
            .try_for_each(|r| check_role(r))
            .map_err(|e| invalid(key("roles"), e))
    }
}

/// Checks the list found at `prefix`: usernames unique, each table valid. It may be empty.
pub(super) fn validate(
    prefix: &str,
    users: &[ConfigUser],
    playground: bool,
) -> Result<(), SettingsError> {
    let mut seen = HashSet::new();
    for (i, u) in users.iter().enumerate() {
        let at = format!("{prefix}[{i}]");
        if !seen.insert(u.username.as_str()) {
            return Err(invalid(
                format!("{at}.username"),
                format!("{:?} is declared twice", u.username),
            ));
        }
        u.validate(&at, playground)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::Settings;

    fn playground_path() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/playground/ms-auth-server.toml")
    }

    fn playground() -> Settings {
        Settings::load(Some(&playground_path())).expect("the playground config loads")
    }

    /// Loads the playground's config with `extra` appended.
    fn load_with(extra: &str) -> Result<Settings, SettingsError> {
        let playground = std::fs::read_to_string(playground_path()).unwrap();
        let path = std::env::temp_dir().join(format!(
            "ms-auth-server-users-{}.toml",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&path, format!("{playground}\n{extra}")).unwrap();
        let loaded = Settings::load(Some(&path));
        std::fs::remove_file(&path).unwrap();
        loaded
    }

    fn refused_key(settings: &Settings) -> String {
        match settings.validate() {
            Err(SettingsError::Invalid { key, .. }) => key,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_playground_users_are_designs() {
        let s = playground();
        let [alice, admin] = s.users.as_slice() else {
            panic!("{:?}", s.users);
        };
        assert_eq!(alice.username, "alice");
        assert_eq!(alice.password.as_ref().unwrap().expose(), "alice-password");
        assert_eq!(alice.roles, ["user"]);
        assert_eq!(
            alice.claims,
            StandardClaims {
                name: Some("Alice Example".into()),
                given_name: Some("Alice".into()),
                family_name: Some("Example".into()),
                email: Some("alice@example.com".into()),
                email_verified: Some(true),
                ..StandardClaims::default()
            }
        );
        assert_eq!(admin.username, "admin");
        assert_eq!(admin.password.as_ref().unwrap().expose(), "admin-password");
        assert_eq!(admin.roles, ["admin"]);
        assert_eq!(admin.claims, StandardClaims::default());
        assert!(!format!("{alice:?}").contains("alice-password"));
    }

    #[test]
    fn a_table_holds_the_claims_and_refuses_unknown_keys_by_name() {
        let s = load_with(
            r#"[[users]]
username = "bob"
password_hash = "$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHQ$qLml5cbqFAO6YxVHhrSBHP0UWdxrIxkNcM8aMX3blzU"
roles = ["user", "auditor"]
name = "Bob Ümlaut"
locale = "de-CH"
phone_number_verified = false
"#,
        )
        .unwrap();
        let bob = s.users.last().unwrap();
        assert_eq!(bob.roles, ["user", "auditor"]);
        assert_eq!(bob.claims.name.as_deref(), Some("Bob Ümlaut"));
        assert_eq!(bob.claims.locale.as_deref(), Some("de-CH"));
        assert_eq!(bob.claims.phone_number_verified, Some(false));
        let e = load_with("[[users]]\nusername = \"bob\"\npassword = \"bob-password\"\nemial = \"b@example.com\"\n")
            .unwrap_err();
        assert!(e.to_string().contains("emial"), "{e}");
    }

    #[test]
    fn there_may_be_no_users() {
        let mut s = playground();
        s.users.clear();
        assert!(s.validate().is_ok());
    }

    #[test]
    fn each_user_error_names_its_key() {
        type Edit = fn(&mut ConfigUser);
        let edits: Vec<(Edit, &str)> = vec![
            (|u| u.username.clear(), "users[2].username"),
            (|u| u.username = " carol".into(), "users[2].username"),
            (|u| u.username = "alice".into(), "users[2].username"),
            (|u| u.password = None, "users[2].password_hash"),
            (
                |u| u.password_hash = Some("$argon2id$x".into()),
                "users[2].password",
            ),
            (
                |u| u.password = Some(Password::new("short")),
                "users[2].password",
            ),
            (
                |u| {
                    u.password = None;
                    u.password_hash = Some("$2b$12$abcdefghijklmnopqrstuv".into());
                },
                "users[2].password_hash",
            ),
            (|u| u.roles = vec![String::new()], "users[2].roles"),
        ];
        let good = ConfigUser::with_password("carol", "carol-password");
        let mut s = playground();
        s.users.push(good.clone());
        assert!(s.validate().is_ok());
        for (edit, key) in edits {
            let mut s = playground();
            let mut u = good.clone();
            edit(&mut u);
            s.users.push(u);
            assert_eq!(refused_key(&s), key);
        }
    }

    /// F6: a plain-text password in the config is the playground's shortcut only.
    #[test]
    fn plain_passwords_need_playground_true() {
        let mut s = playground();
        s.playground = false;
        s.store.encryption_key = Some(crate::store::settings::EncryptionKey(
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_owned(),
        ));
        for c in &mut s.clients {
            // The public client has none.
            let Some(secret) = c.client_secret.take() else {
                continue;
            };
            c.client_secret_hash = Some(
                crate::oauth::secret::SecretHash::generate(&secret)
                    .unwrap()
                    .to_phc(),
            );
        }
        assert_eq!(refused_key(&s), "users[0].password");
        for u in &mut s.users {
            u.password = None;
            u.password_hash = Some(
                "$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHQ$qLml5cbqFAO6YxVHhrSBHP0UWdxrIxkNcM8aMX3blzU"
                    .to_owned(),
            );
        }
        assert!(s.validate().is_ok(), "hashed passwords");
    }

    #[test]
    fn password_parameters_are_read_from_their_section() {
        let s =
            load_with("[passwords]\nmemory_kib = 65536\niterations = 3\nmax_queued = 8\n").unwrap();
        assert_eq!(
            (s.passwords.memory_kib, s.passwords.iterations),
            (65_536, 3)
        );
        assert_eq!((s.passwords.parallelism, s.passwords.max_queued), (1, 8));
        let e = load_with("[passwords]\nmemory_kib = 7\n").unwrap_err();
        assert!(e.to_string().contains("passwords.memory_kib"), "{e}");
        let e = load_with("[passwords]\nmemroy_kib = 65536\n").unwrap_err();
        assert!(e.to_string().contains("memroy_kib"), "{e}");
    }
}
