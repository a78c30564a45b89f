//! Reading request bodies so that a slow client costs only its own connection (review F5).
//!
//! A small body (at most `server.buffer_body_bytes`, by its `Content-Length` or by what arrived
//! before its end) is read completely at the gateway, within `server.body_timeout_ms`, before
//! any upstream connection is taken. A larger one is streamed upstream, and must keep up an
//! average of `server.min_body_bytes_per_sec` after the first `server.body_timeout_ms`: by
//! then it holds an upstream connection, so trickling is cut with 408 (RFC 9110 §15.5.9).

use std::{
    cell::Cell,
    rc::Rc,
    time::{Duration, Instant},
};

use actix_web::{
    error::PayloadError,
    web::{self, Bytes, BytesMut},
};
use futures_util::{Stream, StreamExt, stream};

use crate::settings::ServerSettings;

/// What a body may cost.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_bytes: u64,
    pub buffer_bytes: u64,
    pub timeout: Duration,
    pub min_bytes_per_sec: u64,
}

impl BodyLimits {
    pub fn new(s: &ServerSettings) -> Self {
        Self {
            max_bytes: s.max_body_bytes,
            buffer_bytes: s.buffer_body_bytes,
            timeout: Duration::from_millis(s.body_timeout_ms),
            min_bytes_per_sec: s.min_body_bytes_per_sec.max(1),
        }
    }

    /// Until when a streamed body that started at `started` and brought `received` bytes may
    /// take to bring more: the first window, plus a second per `min_bytes_per_sec` received.
    fn streamed_deadline(&self, started: Instant, received: u64) -> Instant {
        let earned = Duration::from_secs_f64(received as f64 / self.min_bytes_per_sec as f64);
        started + self.timeout + earned
    }
}

/// Why a body was not passed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Past `max_body_bytes`: 413.
    TooLarge,
    /// Past the deadline or under the minimum rate: 408.
    TooSlow,
    /// The client broke the body off or sent a malformed one: 400.
    Unreadable,
}

/// The stream of a streamed body; it fails once the body breaks a limit, and says which in the
/// shared cell (the upstream request only sees "the body failed").
pub type Streamed = std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>;

pub enum Body {
    Buffered(Bytes),
    Streamed(Streamed),
}

/// Reads `payload`: buffered completely when `declared` (its `Content-Length`, if any) allows
/// it or when it ends within the buffer, streamed otherwise. Errors of a streamed body are
/// written to `failed`.
pub async fn read(
    mut payload: web::Payload,
    declared: Option<u64>,
    limits: BodyLimits,
    failed: Rc<Cell<Option<BodyError>>>,
) -> Result<Body, BodyError> {
    let started = Instant::now();
    let buffered_deadline = started + limits.timeout;
    let buffer_until = match declared {
        Some(n) if n <= limits.buffer_bytes => n,
        Some(_) => 0,
        None => limits.buffer_bytes,
    };
    let mut buf = BytesMut::new();
    while (buf.len() as u64) < buffer_until || declared.is_none() {
        match tokio::time::timeout_at(buffered_deadline.into(), payload.next()).await {
            Err(_) => return Err(BodyError::TooSlow),
            Ok(None) => return Ok(Body::Buffered(buf.freeze())),
            Ok(Some(Err(_))) => return Err(BodyError::Unreadable),
            Ok(Some(Ok(chunk))) => {
                buf.extend_from_slice(&chunk);
                if buf.len() as u64 > limits.max_bytes {
                    return Err(BodyError::TooLarge);
                }
                if declared.is_none() && buf.len() as u64 > limits.buffer_bytes {
                    break;
                }
            }
        }
    }
    if declared.is_some_and(|n| n <= limits.buffer_bytes) {
        // actix ends a body at its Content-Length: nothing more can come.
        return Ok(Body::Buffered(buf.freeze()));
    }
    Ok(Body::Streamed(streamed(
        buf.freeze(),
        payload,
        started,
        limits,
        failed,
    )))
}

/// `first` (what was read while trying to buffer), then the rest of `payload`, under the
/// size limit and the minimum rate.
fn streamed(
    first: Bytes,
    payload: web::Payload,
    started: Instant,
    limits: BodyLimits,
    failed: Rc<Cell<Option<BodyError>>>,
) -> Streamed {
    struct State {
        payload: web::Payload,
        received: u64,
        failed: Rc<Cell<Option<BodyError>>>,
        done: bool,
    }
    let received = first.len() as u64;
    let head = stream::iter((!first.is_empty()).then_some(Ok(first)));
    let state = State {
        payload,
        received,
        failed,
        done: false,
    };
    let rest = stream::unfold(state, move |mut st| async move {
        if st.done {
            return None;
        }
        let deadline = limits.streamed_deadline(started, st.received);
        let fail = |st: &mut State, e: BodyError, p: PayloadError| {
            st.failed.set(Some(e));
            st.done = true;
            Err(p)
        };
        let item = match tokio::time::timeout_at(deadline.into(), st.payload.next()).await {
            Err(_) => fail(
                &mut st,
                BodyError::TooSlow,
                PayloadError::Io(std::io::ErrorKind::TimedOut.into()),
            ),
            Ok(None) => return None,
            Ok(Some(Err(e))) => fail(&mut st, BodyError::Unreadable, e),
            Ok(Some(Ok(chunk))) => {
                st.received += chunk.len() as u64;
                if st.received > limits.max_bytes {
                    fail(&mut st, BodyError::TooLarge, PayloadError::Overflow)
                } else {
                    Ok(chunk)
                }
            }
        };
        Some((item, st))
    });
    Box::pin(head.chain(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streamed_body_earns_time_by_what_it_brought() {
        let limits = BodyLimits {
            max_bytes: 1 << 20,
            buffer_bytes: 1024,
            timeout: Duration::from_secs(10),
            min_bytes_per_sec: 1000,
        };
        let t0 = Instant::now();
        assert_eq!(
            limits.streamed_deadline(t0, 0),
            t0 + Duration::from_secs(10)
        );
        assert_eq!(
            limits.streamed_deadline(t0, 5_500),
            t0 + Duration::from_millis(15_500)
        );
    }
}
