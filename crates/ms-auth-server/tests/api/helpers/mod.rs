//! What the tests share: starting apps (`app`), the playground's clients and settings
//! (`clients`), requests to the OAuth endpoints (`tokens`), and reading replies (here).
//! Every name is re-exported, so a test file needs only `use crate::helpers::*`.

pub mod app;
pub mod clients;
pub mod tokens;

pub use app::*;
pub use clients::*;
pub use tokens::*;

use serde_json::Value;

/// Status, headers and JSON body of a response.
pub async fn parts(res: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.json().await.expect("JSON body");
    (status, headers, body)
}

/// The value of header `name`, or "".
pub fn header(headers: &reqwest::header::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}
