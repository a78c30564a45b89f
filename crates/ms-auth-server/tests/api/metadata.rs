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
    assert_eq!(
        body,
        json!({
            "issuer": "http://localhost:8085/ms-auth-server",
            "token_endpoint": "http://localhost:8085/ms-auth-server/oauth2/token",
            "jwks_uri": "http://localhost:8085/ms-auth-server/oauth2/jwks",
            "scopes_supported": ["country.read", "customer.read", "customer.write"],
            "response_types_supported": [],
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "introspection_endpoint": "http://localhost:8085/ms-auth-server/oauth2/introspect",
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint": "http://localhost:8085/ms-auth-server/oauth2/revoke",
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        })
    );
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
