//! What the tests share: starting apps (`app`), the playground's clients and settings
//! (`clients`), requests to the OAuth endpoints (`tokens`), a browser with a cookie jar
//! (`browser`, over the form reader in `html`), a real headless Chromium (`chromium`) — those
//! three from `ms_auth_server::testing`, which other crates' tests share — and
//! reading replies (here). Every name is re-exported, so a test file needs only
//! `use crate::helpers::*`.

pub mod app;
pub mod clients;
pub mod flows;
pub mod python;
pub mod tokens;

// Shared with the other crates' tests (sample-client's drive the same pages).
pub use ms_auth_server::testing::{browser, chromium, html};

pub use app::*;
pub use browser::*;
pub use chromium::*;
pub use clients::*;
pub use flows::*;
pub use html::*;
pub use python::*;
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
