//! One trace across processes: the real gateway, country-service and ms-auth-server binaries
//! export spans over OTLP/HTTP to a receiver in this test, which decodes the protobuf bodies
//! as a collector would. A request through the gateway whose token needs a key fetch must
//! form one trace, with every parent link right; nothing secret may be in a span or a log.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
};

use actix_web::{HttpResponse, web};
use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest,
    common::v1::{KeyValue, any_value::Value},
};
use prost::Message;

use crate::procs::{Proc, free_port, playground_config, wait_ok};

const SECRET: &str = "service-client-jwt-secret";
const WRONG_SECRET: &str = "not-the-secret";

/// A span as the receiver decoded it.
#[derive(Debug, Clone)]
struct Got {
    service: String,
    trace_id: String,
    span_id: String,
    parent: String,
    name: String,
    /// 2 = server, 3 = client (OTLP `SpanKind`).
    kind: i32,
    attrs: HashMap<String, String>,
    events: Vec<HashMap<String, String>>,
    /// Everything decoded, for the secret check.
    dump: String,
}

/// The trace test's processes: export to `otlp`, with a batch delay long enough that spans
/// leave only with the flush at shutdown, and a new key at each start of the auth server.
fn start(name: &'static str, config: &Path, otlp: &str, dir: &Path) -> Proc {
    Proc::start(
        name,
        config,
        &[
            ("MS_AUTH_SERVER__STORE__URL", "memory"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", otlp),
            ("OTEL_BSP_SCHEDULE_DELAY", "60000"),
        ],
        dir,
    )
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn attrs(kvs: &[KeyValue]) -> HashMap<String, String> {
    kvs.iter()
        .map(|kv| {
            let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(Value::StringValue(s)) => s.clone(),
                Some(Value::IntValue(i)) => i.to_string(),
                Some(Value::BoolValue(b)) => b.to_string(),
                Some(other) => format!("{other:?}"),
                None => String::new(),
            };
            (kv.key.clone(), v)
        })
        .collect()
}

type Spans = Arc<Mutex<Vec<Got>>>;

async fn receive(body: web::Bytes, spans: web::Data<Spans>) -> HttpResponse {
    let Ok(request) = ExportTraceServiceRequest::decode(body.as_ref()) else {
        return HttpResponse::BadRequest().finish();
    };
    let mut got = spans.lock().unwrap();
    for rs in request.resource_spans {
        let resource = attrs(&rs.resource.map(|r| r.attributes).unwrap_or_default());
        let service = resource.get("service.name").cloned().unwrap_or_default();
        for span in rs.scope_spans.into_iter().flat_map(|s| s.spans) {
            got.push(Got {
                service: service.clone(),
                trace_id: hex(&span.trace_id),
                span_id: hex(&span.span_id),
                parent: hex(&span.parent_span_id),
                name: span.name.clone(),
                kind: span.kind,
                attrs: attrs(&span.attributes),
                events: span.events.iter().map(|e| attrs(&e.attributes)).collect(),
                dump: format!("{span:?}"),
            });
        }
    }
    HttpResponse::Ok()
        .content_type("application/x-protobuf")
        .finish()
}

/// An OTLP/HTTP receiver on a free port: its endpoint, what it got, and its handle.
fn receiver() -> (String, Spans, actix_web::dev::ServerHandle) {
    let spans: Spans = Arc::default();
    let data = web::Data::new(Arc::clone(&spans));
    let receiver = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
            .route("/v1/traces", web::post().to(receive))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let otlp = format!("http://{}", receiver.addrs()[0]);
    let receiver = receiver.run();
    let handle = receiver.handle();
    actix_web::rt::spawn(receiver);
    (otlp, spans, handle)
}

#[actix_web::test]
async fn one_trace_spans_gateway_service_and_key_endpoint() {
    let (otlp, spans, receiver_handle) = receiver();

    let (auth, country, gw) = (free_port(), free_port(), free_port());
    let dir = std::env::temp_dir().join(format!("trace-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let ports = |extra: &[(&'static str, String)]| {
        let mut r = vec![
            ("9000", auth.to_string()),
            ("8082", country.to_string()),
            ("8085", gw.to_string()),
        ];
        r.extend(extra.iter().cloned());
        r
    };
    let auth_config = playground_config(&dir, "ms-auth-server.toml", &ports(&[]));
    let country_config = playground_config(
        &dir,
        "country-service.toml",
        // An unknown `kid` is refetched at once, within the request that carries it.
        &ports(&[(
            "[auth]\n",
            "[auth]\nmin_refetch_interval_secs = 1\n".to_owned(),
        )]),
    );
    // This test's caller is trusted to continue its own trace.
    let gateway_config = playground_config(
        &dir,
        "gateway.toml",
        &ports(&[(
            "[server]\n",
            "[server]\ntrust_incoming_trace_context = true\n".to_owned(),
        )]),
    );
    let http = reqwest::Client::new();

    let mut auth1 = start("ms-auth-server", &auth_config, &otlp, &dir);
    let mut country_svc = start("country-service", &country_config, &otlp, &dir);
    let mut gateway = start("gateway", &gateway_config, &otlp, &dir);
    wait_ok(&http, &gateway.management_url("/health")).await;
    wait_ok(&http, &country_svc.management_url("/health")).await;
    // A new auth server with a new key: the next token's `kid` is unknown to country-service,
    // which fetches the key set while serving the request.
    auth1.stop().await;
    let mut auth2 = start("ms-auth-server", &auth_config, &otlp, &dir);
    wait_ok(&http, &auth2.management_url("/health")).await;
    // Refetches are at most one a second: let the one country-service made at start age.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;

    let token_url = format!("http://127.0.0.1:{gw}/ms-auth-server/oauth2/token");
    let form = |secret: &'static str| {
        [
            ("grant_type", "client_credentials"),
            ("client_id", "service-client-jwt"),
            ("client_secret", secret),
        ]
    };
    let refused = http
        .post(&token_url)
        .form(&form(WRONG_SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let res = http
        .post(&token_url)
        .form(&form(SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let token = res.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // The caller's own trace: W3C Trace Context §3.2 `traceparent`, sampled.
    let trace_id = format!("{:032x}", uuid::Uuid::new_v4().as_u128());
    let caller_span = "00f067aa0ba902b7";
    let res = http
        .get(format!(
            "http://127.0.0.1:{gw}/country-service/countries/DE"
        ))
        .bearer_auth(&token)
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    assert!(
        !spans.lock().unwrap().iter().any(|s| s.trace_id == trace_id),
        "spans left before the flush at shutdown: the batch delay was not honoured"
    );

    // SIGTERM flushes what each process buffered.
    for p in [&mut gateway, &mut country_svc, &mut auth2] {
        p.stop().await;
    }
    let got = spans.lock().unwrap().clone();
    receiver_handle.stop(true).await;

    let in_trace: Vec<&Got> = got.iter().filter(|s| s.trace_id == trace_id).collect();
    let by_id = |id: &str| {
        in_trace
            .iter()
            .find(|s| s.span_id == id)
            .copied()
            .unwrap_or_else(|| panic!("no span {id} in the trace: {in_trace:#?}"))
    };
    let jwks = in_trace
        .iter()
        .find(|s| {
            s.service == "ms-auth-server"
                && s.attrs
                    .get("http.route")
                    .is_some_and(|r| r.ends_with("/oauth2/jwks"))
        })
        .unwrap_or_else(|| panic!("no jwks span of ms-auth-server in the trace: {in_trace:#?}"));
    assert_eq!(jwks.kind, 2);
    let fetch = by_id(&jwks.parent);
    assert_eq!(
        (fetch.service.as_str(), fetch.kind),
        ("country-service", 3),
        "{fetch:#?}"
    );
    let served = by_id(&fetch.parent);
    assert_eq!(
        (served.service.as_str(), served.kind),
        ("country-service", 2),
        "{served:#?}"
    );
    assert_eq!(
        served.attrs["http.route"],
        "/country-service/countries/{code}"
    );
    assert_eq!(served.attrs["http.response.status_code"], "200");
    let upstream = by_id(&served.parent);
    assert_eq!(
        (upstream.service.as_str(), upstream.kind),
        ("gateway", 3),
        "{upstream:#?}"
    );
    let entry = by_id(&upstream.parent);
    assert_eq!(
        (entry.service.as_str(), entry.kind),
        ("gateway", 2),
        "{entry:#?}"
    );
    assert_eq!(
        entry.parent, caller_span,
        "the gateway continues the caller's trace"
    );
    assert!(
        entry.attrs.contains_key("request_id"),
        "the request id is on the span: {entry:#?}"
    );

    // Token requests: client id and grant type when it succeeds, the reason when it fails.
    let token_spans: Vec<&Got> = got
        .iter()
        .filter(|s| s.service == "ms-auth-server" && s.name == "token request")
        .collect();
    assert!(
        token_spans
            .iter()
            .any(
                |s| s.attrs.get("client_id").map(String::as_str) == Some("service-client-jwt")
                    && s.attrs.get("grant_type").map(String::as_str) == Some("client_credentials")
            ),
        "{token_spans:#?}"
    );
    assert!(
        token_spans
            .iter()
            .any(
                |s| s.attrs.get("error").map(String::as_str) == Some("invalid_client")
                    && s.events
                        .iter()
                        .any(|e| e.get("reason").map(String::as_str) == Some("bad_secret"))
            ),
        "{token_spans:#?}"
    );

    // Nothing secret in any span or any log line (the logs were at trace level).
    let basic = "c2VydmljZS1jbGllbnQtand0OnNlcnZpY2UtY2xpZW50LWp3dC1zZWNyZXQ";
    let signature = token.rsplit('.').next().unwrap().to_owned();
    let forbidden = [SECRET, WRONG_SECRET, basic, &token, &signature];
    for span in &got {
        for f in forbidden {
            assert!(
                !span.dump.contains(f),
                "a span holds a secret or token: {span:#?}"
            );
        }
    }
    let mut lines = 0;
    for p in [&auth1, &auth2, &country_svc, &gateway] {
        let log = std::fs::read_to_string(&p.log).unwrap();
        lines += log.lines().count();
        for f in forbidden {
            assert!(!log.contains(f), "{} logged a secret or token", p.name);
        }
    }
    assert!(
        lines > 100,
        "trace-level logs were expected, got {lines} lines"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[actix_web::test]
async fn an_untrusted_callers_trace_context_is_not_continued() {
    let (otlp, spans, receiver_handle) = receiver();
    let (country, gw) = (free_port(), free_port());
    let dir = std::env::temp_dir().join(format!("trace-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let ports = [("8082", country.to_string()), ("8085", gw.to_string())];
    // The playground's gateway config as written: trust_incoming_trace_context is off.
    let gateway_config = playground_config(&dir, "gateway.toml", &ports);
    let country_config = playground_config(&dir, "country-service.toml", &ports);
    let http = reqwest::Client::new();
    let mut gateway = start("gateway", &gateway_config, &otlp, &dir);
    let mut country_svc = start("country-service", &country_config, &otlp, &dir);
    wait_ok(&http, &gateway.management_url("/health")).await;
    wait_ok(&http, &country_svc.management_url("/health/live")).await;

    // A caller forcing sampling (`01`) on a trace id of its choosing.
    let trace_id = format!("{:032x}", uuid::Uuid::new_v4().as_u128());
    let request_id = format!("f17-{}", uuid::Uuid::new_v4().simple());
    let res = http
        .get(format!(
            "http://127.0.0.1:{gw}/country-service/countries/DE"
        ))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .header("tracestate", "vendor=abc")
        .header("X-Request-Id", &request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "no token: refused by country-service");
    for p in [&mut gateway, &mut country_svc] {
        p.stop().await;
    }
    let got = spans.lock().unwrap().clone();
    receiver_handle.stop(true).await;

    assert!(
        !got.iter().any(|s| s.trace_id == trace_id),
        "a span joined the caller's trace: {got:#?}"
    );
    let entry = got
        .iter()
        .find(|s| {
            s.service == "gateway" && s.kind == 2 && s.attrs.get("request_id") == Some(&request_id)
        })
        .unwrap_or_else(|| panic!("no gateway server span for the request: {got:#?}"));
    assert_eq!(
        entry.parent, "",
        "the gateway starts a new root: {entry:#?}"
    );
    // The upstream continues the gateway's new trace, not the caller's.
    let served = got
        .iter()
        .find(|s| s.service == "country-service" && s.kind == 2 && s.trace_id == entry.trace_id)
        .unwrap_or_else(|| panic!("country-service did not join the gateway's trace: {got:#?}"));
    let upstream = got
        .iter()
        .find(|s| s.span_id == served.parent)
        .unwrap_or_else(|| panic!("no parent span {}: {got:#?}", served.parent));
    assert_eq!((upstream.service.as_str(), upstream.kind), ("gateway", 3));
    std::fs::remove_dir_all(dir).unwrap();
}
