//! The successful token response (RFC 6749 §5.1).

use serde::{Deserialize, Serialize};

/// Fields in the docs' order; a refresh token and an ID token (OpenID Connect Core §3.1.3.3)
/// only when issued.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenResponse {
    pub access_token: String,
    pub scope: String,
    pub token_type: String,
    pub expires_in: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}
