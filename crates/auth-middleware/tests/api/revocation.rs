//! Routes that refuse revoked tokens: introspection at a real ms-auth-server (RFC 7662),
//! deduplicated per `jti`, with client credentials encoded as RFC 6749 §2.3.1 says.

use std::time::Duration;

use crate::helpers::*;

/// `n` concurrent GETs of `path` with `token`, and their statuses.
async fn burst(rs: &Resource, path: &str, token: &str, n: usize) -> Vec<u16> {
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (http, url, token) = (
            rs.http.clone(),
            format!("{}{path}", rs.base),
            token.to_owned(),
        );
        requests.spawn(async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    requests.join_all().await
}

#[tokio::test]
async fn concurrent_requests_with_one_fresh_token_cause_one_introspection() {
    let auth = AuthServer::start(0).await;
    let proxy = CountingProxy::start(auth.introspection_url(), Duration::from_millis(300));
    let mut settings = settings_for(&auth.jwks_url());
    settings.introspection = Some(introspection(&proxy.url, CLIENT, SECRET));
    let rs = Resource::start(settings).await.ready().await;
    let token = auth.token("customer.read").await;
    assert_eq!(burst(&rs, "/a", &token, 20).await, vec![200; 20]);
    assert_eq!(proxy.calls(), 1, "one introspection for the whole burst");
    // Afterwards the answer is cached; another fresh token is asked about once more.
    assert_eq!(rs.bearer("/a", &token).await.0, 200);
    let other = auth.token("customer.read").await;
    assert_eq!(burst(&rs, "/a", &other, 5).await, vec![200; 5]);
    assert_eq!(proxy.calls(), 2);
}

#[tokio::test]
async fn introspection_credentials_are_form_urlencoded_before_basic_encoding() {
    // RFC 6749 §2.3.1: the issuer form-urldecodes both halves of the Basic credentials, so a
    // raw `+` would arrive as a space and `%2F` as `/`.
    const ID: &str = "rs-introspector";
    const ODD_SECRET: &str = "p+q%2F:r s";
    let auth = AuthServer::start_with(0, |s| {
        let mut client = s.clients[0].clone();
        client.client_id = ID.to_owned();
        client.client_secret = Some(ms_auth_server::oauth::secret::ClientSecret::new(ODD_SECRET));
        client.client_secret_hash = None;
        client.metadata.resource_server = Some(RESOURCE.to_owned());
        s.clients.push(client);
    })
    .await;
    let mut settings = settings_for(&auth.jwks_url());
    settings.introspection = Some(introspection(&auth.introspection_url(), ID, ODD_SECRET));
    let rs = Resource::start(settings).await.ready().await;
    let (status, _, body) = rs.bearer("/a", &auth.token("customer.read").await).await;
    assert_eq!(status, 200, "{body}");
}
