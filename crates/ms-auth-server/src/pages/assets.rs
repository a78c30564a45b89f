//! The pages' static files, compiled into the binary so it needs no folder beside it: the one
//! stylesheet and the form_post page's script. Each has a strong entity tag (RFC 9110 §8.8.3)
//! made from its content once, so a cache revalidates with `If-None-Match` and gets a 304.

use std::sync::OnceLock;

use aws_lc_rs::digest;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// An embedded file.
#[derive(Debug)]
pub struct Asset {
    pub body: &'static str,
    pub content_type: &'static str,
    etag: OnceLock<String>,
}

/// `style.css`: every page links it.
pub static STYLE: Asset = Asset::new(
    include_str!("../../assets/style.css"),
    "text/css; charset=utf-8",
);

/// `form-post.js`: submits the form_post page's form on load.
pub static FORM_POST_JS: Asset = Asset::new(
    include_str!("../../assets/form-post.js"),
    "text/javascript; charset=utf-8",
);

impl Asset {
    const fn new(body: &'static str, content_type: &'static str) -> Self {
        Self {
            body,
            content_type,
            etag: OnceLock::new(),
        }
    }

    /// The strong entity tag, quoted: 128 bits of the content's SHA-256, so any change to
    /// the file changes it.
    pub fn etag(&self) -> &str {
        self.etag.get_or_init(|| {
            let hash = digest::digest(&digest::SHA256, self.body.as_bytes());
            format!("\"{}\"", URL_SAFE_NO_PAD.encode(&hash.as_ref()[..16]))
        })
    }

    /// Whether an `If-None-Match` field value names this representation (RFC 9110 §13.1.2:
    /// `*`, or a list of entity tags compared weakly, so `W/"x"` matches `"x"`).
    pub fn matches_if_none_match(&self, field: &str) -> bool {
        let ours = self.etag();
        field
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == ours)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_are_embedded_small_and_tagged_apart() {
        assert!(STYLE.body.contains("prefers-color-scheme: dark"));
        assert!(STYLE.body.len() < 6 * 1024, "the stylesheet stays small");
        assert!(FORM_POST_JS.body.contains("submit()"));
        let tag = STYLE.etag();
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 24);
        assert_eq!(STYLE.etag(), tag, "computed once, the same every time");
        assert_ne!(STYLE.etag(), FORM_POST_JS.etag());
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_star() {
        let tag = STYLE.etag().to_owned();
        assert!(STYLE.matches_if_none_match(&tag));
        assert!(STYLE.matches_if_none_match(&format!("W/{tag}")));
        assert!(STYLE.matches_if_none_match(&format!("\"old\", {tag}")));
        assert!(STYLE.matches_if_none_match("*"));
        assert!(!STYLE.matches_if_none_match("\"old\""));
        assert!(!STYLE.matches_if_none_match(FORM_POST_JS.etag()));
        assert!(!STYLE.matches_if_none_match(""));
    }
}
