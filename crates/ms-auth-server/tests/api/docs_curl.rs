//! The two curl requests of the playground docs, run with curl exactly as written there; only
//! `localhost:8085` (the gateway) is replaced by this test's server address.

use serde_json::Value;

use crate::helpers::*;

/// ../shared/docs/seeds: "Client authentication - Client secret post".
const SECRET_POST: &str = r#"curl --location --request POST 'http://localhost:8085/ms-auth-server/oauth2/token' \
--header 'Content-Type: application/x-www-form-urlencoded' \
--data-urlencode 'grant_type=client_credentials' \
--data-urlencode 'client_id=service-client-jwt' \
--data-urlencode 'client_secret=service-client-jwt-secret' \
--data-urlencode 'scope=country.read customer.read customer.write'"#;

/// ../shared/docs/seeds: "Client authentication - Client secret basic".
const SECRET_BASIC: &str = r#"curl --location --request POST 'http://localhost:8085/ms-auth-server/oauth2/token?grant_type=client_credentials&scope=customer.read%20customer.write%20country.read' \
--header 'Authorization: Basic c2VydmljZS1jbGllbnQtand0OnNlcnZpY2UtY2xpZW50LWp3dC1zZWNyZXQ='"#;

async fn run_curl(app: &TestApp, command: &str) -> Value {
    let command = command.replace("http://localhost:8085", &app.base);
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .arg("-c")
            .arg(&command)
            .output()
            .expect("bash and curl are installed")
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The docs' sample response: same fields, same scope string, a 4-hour Bearer token.
fn assert_like_docs_sample(body: &Value) {
    let mut fields: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["access_token", "expires_in", "scope", "token_type"]
    );
    assert_eq!(body["scope"], "customer.read customer.write country.read");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 14400);
    assert!(body["access_token"].as_str().unwrap().starts_with("eyJ"));
}

#[tokio::test]
async fn docs_client_secret_post_request_works_unchanged() {
    let app = TestApp::playground().await;
    assert_like_docs_sample(&run_curl(&app, SECRET_POST).await);
}

#[tokio::test]
async fn docs_client_secret_basic_request_works_unchanged() {
    let app = TestApp::playground().await;
    assert_like_docs_sample(&run_curl(&app, SECRET_BASIC).await);
}
