//! Slow clients cannot hold a worker: every request body must arrive within a deadline, and a
//! large one at a minimum data rate. `App::wrap(from_fn(body::deadline))` replaces the
//! request's payload with one that fails with [`SLOW_BODY`] (an I/O `TimedOut`) once the
//! client is too slow; handlers that read bodies answer it with 408, extractors with 400.
//! actix's `client_request_timeout` covers only the request head.

use std::{
    pin::Pin,
    time::{Duration, Instant},
};

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{Payload, ServiceRequest, ServiceResponse},
    error::PayloadError,
    middleware::Next,
    web::{self, Bytes},
};
use futures_util::{Stream, StreamExt};

/// The error text of a body that came too slowly.
pub const SLOW_BODY: &str = "the request body arrived too slowly";

/// `web::Data<BodyLimits>` in app data sets them; these defaults otherwise.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// The time any body gets.
    pub timeout: Duration,
    /// Beyond `timeout`, a body must keep arriving at this many bytes a second on average.
    pub min_bytes_per_sec: u64,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            min_bytes_per_sec: 8 * 1024,
        }
    }
}

impl BodyLimits {
    /// When a body that began at `started` and has `received` bytes so far must be complete
    /// by (the next chunk must come before).
    fn deadline(&self, started: Instant, received: u64) -> Instant {
        let earned =
            Duration::from_secs_f64(received as f64 / self.min_bytes_per_sec.max(1) as f64);
        started + self.timeout + earned
    }
}

/// Whether `e` is the error [`deadline`] puts in a payload that came too slowly.
pub fn is_slow_body(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// The middleware.
pub async fn deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let limits = req
        .app_data::<web::Data<BodyLimits>>()
        .map(|l| *l.get_ref())
        .unwrap_or_default();
    let payload = req.take_payload();
    req.set_payload(Payload::Stream {
        payload: Box::pin(guarded(payload, limits)),
    });
    next.call(req).await
}

fn guarded(
    payload: Payload,
    limits: BodyLimits,
) -> impl Stream<Item = Result<Bytes, PayloadError>> + 'static {
    struct State {
        payload: Pin<Box<Payload>>,
        started: Instant,
        received: u64,
        done: bool,
    }
    let state = State {
        payload: Box::pin(payload),
        started: Instant::now(),
        received: 0,
        done: false,
    };
    futures_util::stream::unfold(state, move |mut s| async move {
        if s.done {
            return None;
        }
        let deadline = limits.deadline(s.started, s.received);
        let next = tokio::time::timeout_at(deadline.into(), s.payload.next()).await;
        match next {
            Err(_) => {
                s.done = true;
                metrics::counter!("slow_request_bodies_total").increment(1);
                let err = std::io::Error::new(std::io::ErrorKind::TimedOut, SLOW_BODY);
                Some((Err(PayloadError::Io(err)), s))
            }
            Ok(None) => None,
            Ok(Some(chunk)) => {
                if let Ok(bytes) = &chunk {
                    s.received += bytes.len() as u64;
                }
                Some((chunk, s))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_grows_with_what_arrived() {
        let limits = BodyLimits {
            timeout: Duration::from_secs(2),
            min_bytes_per_sec: 1_000,
        };
        let t0 = Instant::now();
        assert_eq!(limits.deadline(t0, 0), t0 + Duration::from_secs(2));
        assert_eq!(limits.deadline(t0, 3_000), t0 + Duration::from_secs(5));
    }
}
