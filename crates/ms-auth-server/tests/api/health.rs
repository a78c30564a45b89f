//! `GET /health`, `/health/live`, `/health/ready`.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn health_reports_live_and_ready() {
    let app = TestApp::playground().await;
    let (status, headers, body) = app.get_json("/health").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "cache-control"), "no-store");
    assert_eq!(
        body,
        json!({ "status": "UP", "checks": { "live": "UP", "ready": "UP" } })
    );
    for probe in ["/health/live", "/health/ready"] {
        let (status, _, body) = app.get_json(probe).await;
        assert_eq!(
            (status.as_u16(), body["status"].as_str()),
            (200, Some("UP")),
            "{probe}"
        );
    }
}
