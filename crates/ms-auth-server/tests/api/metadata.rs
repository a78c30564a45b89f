//! `GET /.well-known/oauth-authorization-server` (RFC 8414 §3).

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn metadata_lists_what_is_implemented() {
    let app = TestApp::playground().await;
    let (status, headers, body) = app
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "application/json");
    let all_methods = json!([
        "client_secret_basic",
        "client_secret_post",
        "none",
        "client_secret_jwt",
        "private_key_jwt"
    ]);
    let confidential = json!([
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt"
    ]);
    let algs = json!([
        "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
        "ES384", "EdDSA"
    ]);
    assert_eq!(
        body,
        json!({
            "issuer": "http://localhost:8085/ms-auth-server",
            "authorization_endpoint": "http://localhost:8085/ms-auth-server/oauth2/authorize",
            "token_endpoint": "http://localhost:8085/ms-auth-server/oauth2/token",
            "jwks_uri": "http://localhost:8085/ms-auth-server/oauth2/jwks",
            // The playground's registration is open.
            "registration_endpoint": "http://localhost:8085/ms-auth-server/connect/register",
            "userinfo_endpoint": "http://localhost:8085/ms-auth-server/userinfo",
            "scopes_supported": ["country.read", "customer.read", "customer.write", "email", "offline_access", "openid", "profile"],
            // The playground registers playground-legacy, to show the legacy flows.
            "response_types_supported": ["code", "token", "id_token", "id_token token"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token", "implicit", "password"],
            "token_endpoint_auth_methods_supported": all_methods,
            "token_endpoint_auth_signing_alg_values_supported": algs,
            "code_challenge_methods_supported": ["S256"],
            "introspection_endpoint": "http://localhost:8085/ms-auth-server/oauth2/introspect",
            "introspection_endpoint_auth_methods_supported": confidential,
            "introspection_endpoint_auth_signing_alg_values_supported": algs,
            "revocation_endpoint": "http://localhost:8085/ms-auth-server/oauth2/revoke",
            "revocation_endpoint_auth_methods_supported": confidential,
            "revocation_endpoint_auth_signing_alg_values_supported": algs,
            "authorization_response_iss_parameter_supported": true,
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "sid", "at_hash", "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at", "email", "email_verified"],
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "end_session_endpoint": "http://localhost:8085/ms-auth-server/connect/logout",
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true,
        })
    );
    // OpenID Connect Discovery §4 serves the same document.
    let (status, _, oidc) = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(status, 200);
    assert_eq!(oidc, body);
}

#[tokio::test]
async fn issuer_and_context_path_are_configurable() {
    let mut settings = playground_settings();
    settings.issuer = "https://auth.example.com/tenant-a".into();
    settings.server.context_path = "/auth".into();
    let app = TestApp::spawn(settings).await;
    let res = app
        .http
        .get(format!(
            "{}/auth/.well-known/oauth-authorization-server",
            app.base
        ))
        .send()
        .await
        .unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, 200);
    assert_eq!(body["issuer"], "https://auth.example.com/tenant-a");
    assert_eq!(
        body["token_endpoint"],
        "https://auth.example.com/tenant-a/oauth2/token"
    );
    // The old prefix is gone; the token endpoint answers under the new one.
    let old = app.http.get(app.url("/oauth2/jwks")).send().await.unwrap();
    assert_eq!(old.status(), 404);
    let res = app
        .http
        .post(format!(
            "{}/auth/oauth2/token?grant_type=client_credentials",
            app.base
        ))
        .header("Authorization", basic(PLAYGROUND_ID_SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
