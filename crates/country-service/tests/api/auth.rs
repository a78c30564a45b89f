//! `country.read` on every route, and the RFC 6750 answers without it.

use reqwest::Method;

use crate::helpers::*;

#[tokio::test]
async fn every_route_needs_country_read() {
    let s = stack().await;
    // F2: a token for customer-service names only that resource in `aud`: refused here, so a
    // token sent to one service cannot be replayed at another.
    let customer = s.token("customer.read customer.write").await;
    let both = s.token("country.read customer.read").await;
    for path in ["/countries", "/countries/DE"] {
        let r = s.send(Method::GET, path, Some(&customer), None).await;
        assert_eq!(r.status, 401, "{path}");
        assert!(
            r.challenge().contains("error=\"invalid_token\"")
                && r.challenge().contains("another audience"),
            "{}",
            r.challenge()
        );
        let r = s.send(Method::GET, path, Some(&both), None).await;
        assert_eq!(
            r.status, 200,
            "a token for both resources works here: {path}"
        );
        let r = s.send(Method::GET, path, None, None).await;
        assert_eq!(r.status, 401);
        assert_eq!(
            r.challenge(),
            "Bearer realm=\"country-service\", resource_metadata=\"http://localhost:8085/.well-known/oauth-protected-resource/country-service\""
        );
        let r = s.send(Method::GET, path, Some("not.a.token"), None).await;
        assert_eq!(r.status, 401);
        assert!(r.challenge().contains("error=\"invalid_token\""));
    }
}
