//! Requests to the token, introspection (RFC 7662) and revocation (RFC 7009) endpoints, and
//! reading what they answer.

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use serde_json::Value;

use super::{TestApp, header, parts};

/// The `Authorization` value of HTTP Basic for `id_secret` (sent as given: RFC 6749 §2.3.1's
/// form-encoding of id and secret is the caller's).
pub fn basic(id_secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(id_secret))
}

impl TestApp {
    /// `POST /oauth2/token` with a raw form body.
    pub async fn token_form(&self, body: &str) -> reqwest::Response {
        self.form_post(self.http.post(self.url("/oauth2/token")), body)
            .await
    }

    /// `POST /oauth2/token` with HTTP Basic (`id:secret` as given, not url-encoded) and a form body.
    pub async fn token_basic(&self, id_secret: &str, body: &str) -> reqwest::Response {
        self.post_basic("/oauth2/token", id_secret, body).await
    }

    /// `POST path` with a raw form body and no client authentication header.
    pub async fn form_post_to(&self, path: &str, body: &str) -> reqwest::Response {
        self.form_post(self.http.post(self.url(path)), body).await
    }

    /// `POST path` with HTTP Basic `id_secret` and a raw form body.
    pub async fn post_basic(&self, path: &str, id_secret: &str, body: &str) -> reqwest::Response {
        self.form_post(self.basic_post(path, id_secret), body).await
    }

    /// [`Self::post_basic`] as if from `source`: the gateway's `X-Forwarded-For`.
    pub async fn post_basic_from(
        &self,
        source: &str,
        path: &str,
        id_secret: &str,
        body: &str,
    ) -> reqwest::Response {
        let req = self
            .basic_post(path, id_secret)
            .header("X-Forwarded-For", source);
        self.form_post(req, body).await
    }

    fn basic_post(&self, path: &str, id_secret: &str) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .header("Authorization", basic(id_secret))
    }

    async fn form_post(&self, req: reqwest::RequestBuilder, body: &str) -> reqwest::Response {
        req.header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    /// A client_credentials access token for `id_secret` with its registered scopes.
    pub async fn access_token(&self, id_secret: &str) -> String {
        self.access_token_with(id_secret, "grant_type=client_credentials")
            .await
    }

    /// A client_credentials access token for `id_secret` with `scope` (form-encoded).
    pub async fn access_token_for(&self, id_secret: &str, scope: &str) -> String {
        self.access_token_with(
            id_secret,
            &format!("grant_type=client_credentials&scope={scope}"),
        )
        .await
    }

    /// The access token of a token request with `body` that must succeed.
    pub async fn access_token_with(&self, id_secret: &str, body: &str) -> String {
        let (status, _, answer) = parts(self.token_basic(id_secret, body).await).await;
        assert_eq!(status, 200, "{answer}");
        answer["access_token"].as_str().unwrap().to_owned()
    }

    /// The introspection answer about `token` to `id_secret` (200 and `no-store`, RFC 7662 §2.2).
    pub async fn introspect(&self, id_secret: &str, token: &str) -> Value {
        let res = self
            .post_basic("/oauth2/introspect", id_secret, &format!("token={token}"))
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(header(res.headers(), "cache-control"), "no-store");
        res.json().await.unwrap()
    }

    /// `POST /oauth2/revoke` with `body`: its status, the body checked empty on 200 (RFC 7009 §2.2).
    pub async fn revoke(&self, id_secret: &str, body: &str) -> u16 {
        let res = self.post_basic("/oauth2/revoke", id_secret, body).await;
        let status = res.status().as_u16();
        if status == 200 {
            assert!(res.text().await.unwrap().is_empty());
        }
        status
    }
}

/// Asserts an RFC 6749 §5.2 error response and returns its description.
pub async fn assert_oauth_error(res: reqwest::Response, status: u16, code: &str) -> String {
    let (got_status, headers, body) = parts(res).await;
    assert_eq!(
        (got_status, body["error"].as_str()),
        (status, Some(code)),
        "body: {body}"
    );
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["cache-control"], "no-store");
    body["error_description"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The `kid` in a JWS's header.
pub fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// A JWT's claims as sent, not verified.
pub fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}
