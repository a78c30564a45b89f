//! W3C Trace Context (`traceparent`, `tracestate`) in and out of HTTP requests, for any HTTP
//! library: callers pass a header getter or setter, so this crate needs none of them.

use std::marker::PhantomData;

use opentelemetry::{
    Context,
    propagation::{Extractor, Injector, TextMapPropagator},
};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The header names the propagator reads and writes.
pub const FIELDS: [&str; 2] = ["traceparent", "tracestate"];

/// Carries `'a` so that `&self` cannot outlive the headers the getter borrows.
struct Get<'a, F>(F, PhantomData<&'a str>);

impl<'a, F: Fn(&str) -> Option<&'a str>> Extractor for Get<'a, F> {
    fn get(&self, key: &str) -> Option<&str> {
        (self.0)(key)
    }

    fn keys(&self) -> Vec<&str> {
        FIELDS.to_vec()
    }
}

struct Set<F>(F);

impl<F: FnMut(&'static str, String)> Injector for Set<F> {
    fn set(&mut self, key: &str, value: String) {
        // An empty `tracestate` says nothing: not sent.
        if value.is_empty() {
            return;
        }
        if let Some(name) = FIELDS.iter().find(|f| **f == key) {
            (self.0)(name, value);
        }
    }
}

/// Makes the trace context in a request's headers (if any, and valid) the parent of `span`,
/// so a server span continues its caller's trace. Does nothing when no trace is exported.
pub fn continue_trace<'a>(span: &tracing::Span, header: impl Fn(&str) -> Option<&'a str>) {
    if span.is_disabled() {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&Get(header, PhantomData));
    // Fails only when the span was already started with another parent.
    let _ = span.set_parent(parent);
}

/// Writes `span`'s trace context as headers (through `set(name, value)`), so the callee
/// continues this trace. Writes nothing when no trace is exported, so headers already on a
/// forwarded request stay as they were.
pub fn inject(span: &tracing::Span, set: impl FnMut(&'static str, String)) {
    let cx = span.context();
    inject_context(&cx, set);
}

fn inject_context(cx: &Context, set: impl FnMut(&'static str, String)) {
    TraceContextPropagator::new().inject_context(cx, &mut Set(set));
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };

    #[test]
    fn round_trips_a_w3c_traceparent() {
        // W3C Trace Context §3.2.2's example value.
        let header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let cx = TraceContextPropagator::new().extract(&Get(
            |k: &str| (k == "traceparent").then_some(header),
            PhantomData,
        ));
        let sc = cx.span().span_context().clone();
        assert_eq!(
            sc.trace_id(),
            TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap()
        );
        assert!(sc.is_remote() && sc.is_sampled());
        let mut out = Vec::new();
        inject_context(&cx, |k, v| out.push((k, v)));
        assert_eq!(out, vec![("traceparent", header.to_owned())]);
    }

    #[test]
    fn nothing_is_written_without_a_valid_context() {
        let mut out = Vec::new();
        inject(&tracing::Span::none(), |k, v| out.push((k, v)));
        let invalid = Context::new().with_remote_span_context(SpanContext::new(
            TraceId::INVALID,
            SpanId::INVALID,
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        ));
        inject_context(&invalid, |k, v| out.push((k, v)));
        assert!(out.is_empty(), "{out:?}");
    }
}
