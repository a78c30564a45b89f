//! The request path in one normal form before routing (RFC 3986 §6.2.2): percent-encoded
//! unreserved characters (§2.3: ALPHA DIGIT `-` `.` `_` `~`) decoded, other escapes kept with
//! upper-case hex. The upstreams match the decoded path, so the gateway must route on what they
//! will see: `/ms-auth-server/%61dmin/keys` is `/ms-auth-server/admin/keys`. What cannot be
//! normalised without changing meaning is refused: an encoded `/` (it would be a segment
//! boundary to some upstreams and not to others), `\` (a separator to some software), NUL, a
//! malformed escape, and `.`/`..` segments (refused rather than resolved, so no path climbs out
//! of the prefix it was routed by).

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("an encoded '/' (%2F) is not allowed in paths")]
    EncodedSlash,
    #[error("'\\' is not allowed in paths")]
    Backslash,
    #[error("NUL is not allowed in paths")]
    Nul,
    #[error("malformed percent-encoding in the path")]
    BadEscape,
    #[error("dot segments are not allowed in paths")]
    DotSegment,
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// The normal form of the raw path `raw` (no query), or why it is refused.
pub fn normalise(raw: &str) -> Result<String, PathError> {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let (Some(hi), Some(lo)) = (
                    bytes.get(i + 1).copied().and_then(hex),
                    bytes.get(i + 2).copied().and_then(hex),
                ) else {
                    return Err(PathError::BadEscape);
                };
                let decoded = hi << 4 | lo;
                match decoded {
                    b'/' => return Err(PathError::EncodedSlash),
                    b'\\' => return Err(PathError::Backslash),
                    0 => return Err(PathError::Nul),
                    b if unreserved(b) => out.push(char::from(b)),
                    b => out.push_str(&format!("%{b:02X}")),
                }
                i += 3;
            }
            b'\\' => return Err(PathError::Backslash),
            0 => return Err(PathError::Nul),
            _ => {
                // Copy the run up to the next byte that needs a look: whole UTF-8 sequences.
                let end = bytes[i..]
                    .iter()
                    .position(|&b| matches!(b, b'%' | b'\\' | 0))
                    .map_or(bytes.len(), |n| i + n);
                out.push_str(raw.get(i..end).ok_or(PathError::BadEscape)?);
                i = end;
            }
        }
    }
    if out.split('/').any(|seg| seg == "." || seg == "..") {
        return Err(PathError::DotSegment);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_escapes_are_decoded_others_kept_upper_case() {
        let cases = [
            ("/ms-auth-server/%61dmin/keys", "/ms-auth-server/admin/keys"),
            ("/a/%41%7a%30%2D%2e%5F%7E", "/a/Az0-._~"),
            ("/a%20b/%c3%A9", "/a%20b/%C3%A9"),
            // One decoding only: `%2561` is the three characters `%61`, kept encoded.
            ("/a/%2561", "/a/%2561"),
            ("/a/%3f%23", "/a/%3F%23"),
            ("/plain/path/", "/plain/path/"),
            ("/é/x", "/é/x"),
            ("/", "/"),
            ("/a/..b/c.", "/a/..b/c."),
            ("/.well-known/x", "/.well-known/x"),
        ];
        for (raw, normal) in cases {
            assert_eq!(normalise(raw).as_deref(), Ok(normal), "{raw}");
        }
    }

    #[test]
    fn what_cannot_be_normalised_is_refused() {
        let cases = [
            ("/a%2Fb", PathError::EncodedSlash),
            ("/a%2fb", PathError::EncodedSlash),
            ("/a%5Cb", PathError::Backslash),
            ("/a%5cb", PathError::Backslash),
            ("/a\\b", PathError::Backslash),
            ("/a%00b", PathError::Nul),
            ("/a\0b", PathError::Nul),
            ("/a%zz", PathError::BadEscape),
            ("/a%4", PathError::BadEscape),
            ("/a%", PathError::BadEscape),
            ("/a/../b", PathError::DotSegment),
            ("/a/./b", PathError::DotSegment),
            ("/..", PathError::DotSegment),
            ("/a/%2e%2E/b", PathError::DotSegment),
            ("/a/.%2e", PathError::DotSegment),
            ("/a/%2E", PathError::DotSegment),
        ];
        for (raw, error) in cases {
            assert_eq!(normalise(raw), Err(error), "{raw}");
        }
    }
}
