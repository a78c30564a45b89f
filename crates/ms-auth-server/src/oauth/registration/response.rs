//! The Client Information Response (RFC 7591 §3.2.1, RFC 7592 §3): the client's identifier,
//! what was issued with it, how to manage it, and "all registered metadata about this client,
//! including any fields provisioned by the authorization server itself", in RFC 7591 §2's
//! names — `scope` a space-separated string, one `token_endpoint_auth_method`. What only an
//! operator sets (first-party, resource server, lifetimes, PKCE options) is not metadata of
//! the RFC's and is not shown.

use serde::Serialize;

use crate::oauth::{
    client::{Client, RedirectUri},
    secret::ClientSecret,
};

/// No `Debug`: it carries the registration access token and, once, the client secret.
#[derive(Serialize)]
pub struct ClientInformation {
    pub client_id: String,
    /// Only in the answer that issued it: the server keeps it hashed or sealed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub client_id_issued_at: i64,
    /// "REQUIRED if "client_secret" is issued": present whenever the client has a secret, 0
    /// when it never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    pub registration_access_token: String,
    pub registration_client_uri: String,
    pub redirect_uris: Vec<RedirectUri>,
    pub token_endpoint_auth_method: &'static str,
    pub grant_types: Vec<&'static str>,
    pub response_types: Vec<&'static str>,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
}

impl ClientInformation {
    /// The answer for `client`, managed at `registration_client_uri` with `access_token`;
    /// `secret` when one was just issued.
    pub fn new(
        client: &Client,
        access_token: String,
        registration_client_uri: String,
        secret: Option<&ClientSecret>,
    ) -> Self {
        let m = &client.metadata;
        let registration = client.registration.as_ref();
        Self {
            client_id: client.id.to_string(),
            client_secret: secret.map(|s| s.expose().to_owned()),
            client_id_issued_at: registration.map_or(0, |r| r.issued_at.secs()),
            client_secret_expires_at: super::has_secret(&client.credential).then(|| {
                registration
                    .and_then(|r| r.secret_expires_at)
                    .map_or(0, |at| at.secs())
            }),
            registration_access_token: access_token,
            registration_client_uri,
            redirect_uris: m.redirect_uris.clone(),
            token_endpoint_auth_method: m
                .token_endpoint_auth_methods
                .first()
                .map_or("none", |a| a.as_str()),
            grant_types: m.grant_types.iter().map(|g| g.as_str()).collect(),
            response_types: m.response_types.iter().map(|r| r.as_str()).collect(),
            scope: m.scope.to_param(),
            client_name: m.client_name.clone(),
            client_uri: m.client_uri.clone(),
            logo_uri: m.logo_uri.clone(),
            tos_uri: m.tos_uri.clone(),
            policy_uri: m.policy_uri.clone(),
            contacts: m.contacts.clone(),
            jwks_uri: m.jwks_uri.clone(),
            jwks: m.jwks.clone(),
            token_endpoint_auth_signing_alg: m.token_endpoint_auth_signing_alg.clone(),
            software_id: m.software_id.clone(),
            software_version: m.software_version.clone(),
            post_logout_redirect_uris: m.post_logout_redirect_uris.clone(),
            backchannel_logout_uri: m.backchannel_logout_uri.clone(),
        }
    }
}
