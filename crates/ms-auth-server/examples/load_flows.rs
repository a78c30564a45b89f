//! The load client of `scripts/bench-flows.sh`: drives the people flows of a running
//! ms-auth-server (the playground's clients and users) over HTTP and prints one
//! machine-readable line per measurement. It never starts a server.
//!
//! ```text
//! load_flows BASE_URL PHASE [SECS] [CONCURRENCY] [THREADS]
//!   BASE_URL     the server with its context path: http://127.0.0.1:9000/ms-auth-server
//!   PHASE        cc | signin | signin+cc | exchange | exchange-plain | refresh | refresh-plain
//!   SECS         measured seconds (default 10); CONCURRENCY requests in flight (default 16);
//!   THREADS      the client's runtime threads (default 1: the cores are the server's)
//! ```
//!
//! - `cc`: `client_credentials` for `service-client-jwt` (one signature each).
//! - `signin`: each iteration a fresh browser (no cookies): `GET /oauth2/authorize` for the
//!   first-party `playground-spa` with PKCE (S256) → the sign-in page → `POST /login` as alice
//!   (argon2id) → counted when the 303 to the client carries a `code`. A 503 of the password
//!   pool (its queue is full: the designed answer to a storm) is counted apart as `busy`.
//! - `signin+cc`: both of the above flat out at once, CONCURRENCY each; two lines.
//! - `exchange[-plain]`: codes minted by one signed-in session (`GET /oauth2/authorize` with
//!   the session cookie: a 303 with a code, no argon2id), then each exchanged once (RFC 6749
//!   §4.1.3, PKCE verifier), scope `openid` (access + ID token) or `country.read` (access
//!   token only). Codes live 60 s, so they are minted in batches of about a second's worth
//!   just before each timed batch; only the exchanges are timed.
//! - `refresh[-plain]`: refresh tokens got the same way (mint + exchange, untimed), then each
//!   refreshed once (RFC 6749 §6), scope `openid offline_access` or `country.read`.
//!
//! Each line: `phase=… rps=… p50_ms=… n=… busy=… unavailable=… errors=… prep_failed=…
//! sigs_per_req=… secs=…`, where `n` counts successes, `rps` is `n` per measured second,
//! `unavailable` counts the other 503s (the store did not answer in time), `prep_failed` the
//! codes or refresh tokens that could not be made (skipped), and `sigs_per_req` the JWTs in the
//! successful responses (`access_token`, `id_token`). Any other error ends the run with
//! status 1 after the lines are printed.

use std::{
    collections::VecDeque,
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::{StatusCode, header};
use serde_json::Value;
use tokio::task::JoinSet;

const SPA: &str = "playground-spa";
const SPA_REDIRECT: &str = "http://127.0.0.1:8080/spa/callback";
const ALICE: (&str, &str) = ("alice", "alice-password");
/// `service-client-jwt:service-client-jwt-secret`, the docs' client_credentials client.
const SERVICE_BASIC: &str = "Basic c2VydmljZS1jbGllbnQtand0OnNlcnZpY2UtY2xpZW50LWp3dC1zZWNyZXQ=";
const SESSION_COOKIE: &str = "ms_auth_session";
const BINDING_COOKIE: &str = "ms_auth_interaction";
/// What the 503 page of a full password pool says (src/http/login.rs).
const POOL_FULL: &str = "Too many people are signing in right now";

type Error = Box<dyn std::error::Error + Send + Sync>;

/// What one request came to.
enum Outcome {
    /// Done; the JWTs the response carried.
    Ok {
        sigs: u64,
    },
    /// 503 from the password pool: too many sign-ins queued.
    Busy,
    /// Any other 503: the store did not answer in time.
    Unavailable,
    Failed(String),
}

impl From<Result<Outcome, Error>> for Outcome {
    fn from(r: Result<Outcome, Error>) -> Self {
        r.unwrap_or_else(|e| Self::Failed(e.to_string()))
    }
}

/// The outcomes of one measurement.
#[derive(Default)]
struct Tally {
    ok_ms: Vec<f64>,
    sigs: u64,
    busy: u64,
    unavailable: u64,
    errors: u64,
    prep_failed: u64,
    first_error: Option<String>,
    first_prep_error: Option<String>,
}

impl Tally {
    fn add(&mut self, outcome: Outcome, took: Duration) {
        match outcome {
            Outcome::Ok { sigs } => {
                self.ok_ms.push(took.as_secs_f64() * 1000.0);
                self.sigs += sigs;
            }
            Outcome::Busy => self.busy += 1,
            Outcome::Unavailable => self.unavailable += 1,
            Outcome::Failed(e) => {
                self.errors += 1;
                self.first_error.get_or_insert(e);
            }
        }
    }

    fn merge(&mut self, other: Tally) {
        self.ok_ms.extend(other.ok_ms);
        self.sigs += other.sigs;
        self.busy += other.busy;
        self.unavailable += other.unavailable;
        self.prep_failed += other.prep_failed;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// The phase's line; its first error, if any, on stderr.
    fn report(mut self, phase: &str, secs: f64) -> bool {
        self.ok_ms.sort_by(f64::total_cmp);
        let n = self.ok_ms.len();
        let p50 = self.ok_ms.get(n / 2).copied().unwrap_or(f64::NAN);
        let per_req = if n == 0 {
            0.0
        } else {
            self.sigs as f64 / n as f64
        };
        println!(
            "phase={phase} rps={:.1} p50_ms={p50:.2} n={n} busy={} unavailable={} errors={} prep_failed={} sigs_per_req={per_req:.2} secs={secs:.2}",
            n as f64 / secs,
            self.busy,
            self.unavailable,
            self.errors,
            self.prep_failed,
        );
        if let Some(e) = &self.first_error {
            eprintln!("{phase}: {} error(s), the first: {e}", self.errors);
        }
        if let Some(e) = &self.first_prep_error {
            eprintln!(
                "{phase}: {} item(s) not prepared, the first: {e}",
                self.prep_failed
            );
        }
        self.errors == 0
    }
}

/// A PKCE verifier and its S256 challenge (RFC 7636 §4.1, §4.2).
fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD
        .encode(uuid::Uuid::new_v4().as_bytes())
        .repeat(2);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    (verifier, URL_SAFE_NO_PAD.encode(digest.as_ref()))
}

/// The value of cookie `name` a response sets.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .find_map(|v| {
            let (n, value) = v.to_str().ok()?.split(';').next()?.split_once('=')?;
            (n.trim() == name).then(|| value.trim().to_owned())
        })
}

/// The value of the page's hidden input `name` (the sign-in template's markup).
fn hidden(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let rest = &page[page.find(&marker)? + marker.len()..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// Parameter `name` of a 303's `Location`.
fn location_param(res: &reqwest::Response, name: &str) -> Option<String> {
    let location = res.headers().get(header::LOCATION)?.to_str().ok()?;
    let url = url::Url::parse(location).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn jwts(json: &Value) -> u64 {
    ["access_token", "id_token"]
        .iter()
        .filter(|k| {
            json[**k]
                .as_str()
                .is_some_and(|t| t.split('.').count() == 3)
        })
        .count() as u64
}

/// The server under load: one connection pool, redirects never followed, cookies by hand
/// (each sign-in starts with none, as a fresh browser).
#[derive(Clone)]
struct Target {
    http: reqwest::Client,
    base: Arc<str>,
    origin: Arc<str>,
}

impl Target {
    fn new(base: &str) -> Result<Self, Error> {
        let origin = url::Url::parse(base)?.origin().ascii_serialization();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').into(),
            origin: origin.into(),
        })
    }

    fn authorize_url(&self, scope: &str, challenge: &str) -> Result<url::Url, Error> {
        let mut url = url::Url::parse(&format!("{}/oauth2/authorize", self.base))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", SPA)
            .append_pair("redirect_uri", SPA_REDIRECT)
            .append_pair("scope", scope)
            .append_pair("state", "bench")
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(url)
    }

    async fn token(&self, form: &[(&str, &str)], basic: Option<&str>) -> Result<Outcome, Error> {
        Ok(self.token_json(form, basic).await?.0)
    }

    /// A token request: the outcome and, on 200, the response.
    async fn token_json(
        &self,
        form: &[(&str, &str)],
        basic: Option<&str>,
    ) -> Result<(Outcome, Value), Error> {
        let mut req = self
            .http
            .post(format!("{}/oauth2/token", self.base))
            .form(form);
        if let Some(b) = basic {
            req = req.header(header::AUTHORIZATION, b);
        }
        let res = req.send().await?;
        let status = res.status();
        let json: Value = res.json().await.unwrap_or(Value::Null);
        Ok(match status {
            StatusCode::OK => (Outcome::Ok { sigs: jwts(&json) }, json),
            StatusCode::SERVICE_UNAVAILABLE => (Outcome::Unavailable, Value::Null),
            s => (
                Outcome::Failed(format!("token endpoint: {s} {json}")),
                Value::Null,
            ),
        })
    }

    async fn client_credentials(&self) -> Outcome {
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", "country.read"),
        ];
        self.token(&form, Some(SERVICE_BASIC)).await.into()
    }

    /// A fresh browser signs alice in for playground-spa; on success, its session cookie.
    async fn sign_in(&self) -> Result<(Outcome, Option<String>), Error> {
        let (_, challenge) = pkce();
        let page = self
            .http
            .get(self.authorize_url("openid", &challenge)?)
            .send()
            .await?;
        if page.status() == StatusCode::SERVICE_UNAVAILABLE {
            return Ok((Outcome::Unavailable, None));
        }
        if page.status() != StatusCode::OK {
            return Err(
                format!("authorize answered {}, not the sign-in page", page.status()).into(),
            );
        }
        let binding = set_cookie(&page, BINDING_COOKIE).ok_or("no binding cookie")?;
        let body = page.text().await?;
        let interaction = hidden(&body, "interaction").ok_or("no interaction on the page")?;
        let csrf = hidden(&body, "csrf_token").ok_or("no csrf_token on the page")?;
        let res = self
            .http
            .post(format!("{}/login", self.base))
            .header(header::COOKIE, format!("{BINDING_COOKIE}={binding}"))
            .header(header::ORIGIN, &*self.origin)
            .header("Sec-Fetch-Site", "same-origin")
            .form(&[
                ("interaction", interaction.as_str()),
                ("csrf_token", csrf.as_str()),
                ("username", ALICE.0),
                ("password", ALICE.1),
            ])
            .send()
            .await?;
        match res.status() {
            StatusCode::SEE_OTHER if location_param(&res, "code").is_some() => {
                Ok((Outcome::Ok { sigs: 0 }, set_cookie(&res, SESSION_COOKIE)))
            }
            // The password pool's page says so; any other 503 is the store's.
            StatusCode::SERVICE_UNAVAILABLE => Ok(if res.text().await?.contains(POOL_FULL) {
                (Outcome::Busy, None)
            } else {
                (Outcome::Unavailable, None)
            }),
            s => Err(format!("POST /login answered {s}").into()),
        }
    }

    /// A code for `scope` from the signed-in `session` (no sign-in page: first party); its
    /// PKCE verifier.
    async fn mint_code(&self, session: &str, scope: &str) -> Result<(String, String), Error> {
        let (verifier, challenge) = pkce();
        let res = self
            .http
            .get(self.authorize_url(scope, &challenge)?)
            .header(header::COOKIE, format!("{SESSION_COOKIE}={session}"))
            .send()
            .await?;
        let code = location_param(&res, "code")
            .ok_or_else(|| format!("authorize with the session answered {}", res.status()))?;
        Ok((code, verifier))
    }

    async fn exchange(&self, code: &str, verifier: &str) -> Result<(Outcome, Value), Error> {
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", SPA),
            ("code", code),
            ("redirect_uri", SPA_REDIRECT),
            ("code_verifier", verifier),
        ];
        self.token_json(&form, None).await
    }

    /// A refresh token of a new family for `scope` (mint + exchange).
    async fn refresh_token(&self, session: &str, scope: &str) -> Result<String, Error> {
        let (code, verifier) = self.mint_code(session, scope).await?;
        match self.exchange(&code, &verifier).await? {
            (Outcome::Ok { .. }, json) => Ok(json["refresh_token"]
                .as_str()
                .ok_or("no refresh_token in the exchange")?
                .to_owned()),
            _ => Err("the exchange for a refresh token failed".into()),
        }
    }

    async fn refresh(&self, refresh_token: &str) -> Outcome {
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", SPA),
            ("refresh_token", refresh_token),
        ];
        self.token(&form, None).await.into()
    }
}

/// `op` flat out on `concurrency` tasks for `secs`: the tally and the wall time (until the
/// last request begun in time has answered).
async fn flat_out<F, Fut>(concurrency: usize, secs: f64, op: F) -> Result<(Tally, f64), Error>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let mut tasks = JoinSet::new();
    for _ in 0..concurrency {
        let op = op.clone();
        tasks.spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let outcome = op().await;
                tally.add(outcome, t0.elapsed());
            }
            tally
        });
    }
    let mut total = Tally::default();
    while let Some(t) = tasks.join_next().await {
        total.merge(t?);
    }
    Ok((total, start.elapsed().as_secs_f64()))
}

/// Each of `items` through `op` once, `concurrency` at a time; the results in any order.
async fn each<I, F, Fut>(
    concurrency: usize,
    items: Vec<I>,
    op: F,
) -> Result<Vec<Fut::Output>, Error>
where
    I: Send + 'static,
    F: Fn(I) -> Fut + Clone + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let queue = Arc::new(Mutex::new(VecDeque::from(items)));
    let mut tasks = JoinSet::new();
    for _ in 0..concurrency {
        let (queue, op) = (Arc::clone(&queue), op.clone());
        tasks.spawn(async move {
            let mut out = Vec::new();
            while let Some(item) = pop(&queue) {
                out.push(op(item).await);
            }
            out
        });
    }
    let mut all = Vec::new();
    while let Some(out) = tasks.join_next().await {
        all.extend(out?);
    }
    Ok(all)
}

/// The next item of `queue`; none once it is empty (or a task panicked holding it).
fn pop<I>(queue: &Mutex<VecDeque<I>>) -> Option<I> {
    queue.lock().ok()?.pop_front()
}

/// Batches of `prepare`d items (untimed), each then through `measure` once (timed), until
/// `secs` of measuring. A batch is about a second's worth at the rate seen so far, so the
/// codes (60 s) are fresh and the tail of each batch, with fewer requests in flight, is short.
async fn batched<I, P, PF, M, MF>(
    concurrency: usize,
    secs: f64,
    prepare: P,
    measure: M,
) -> Result<(Tally, f64), Error>
where
    I: Send + 'static,
    P: Fn(()) -> PF + Clone + Send + 'static,
    PF: Future<Output = Result<I, Error>> + Send + 'static,
    M: Fn(I) -> MF + Clone + Send + 'static,
    MF: Future<Output = Outcome> + Send + 'static,
{
    let (mut tally, mut timed, mut batch) = (Tally::default(), 0.0, concurrency * 4);
    while timed < secs {
        let mut items = Vec::with_capacity(batch);
        for made in each(concurrency, vec![(); batch], prepare.clone()).await? {
            match made {
                Ok(item) => items.push(item),
                Err(e) => {
                    tally.prep_failed += 1;
                    tally.first_prep_error.get_or_insert(e.to_string());
                }
            }
        }
        if items.is_empty() {
            return Err(format!(
                "no item of a batch of {batch} could be prepared: {}",
                tally.first_prep_error.unwrap_or_default()
            )
            .into());
        }
        let measure = measure.clone();
        let t0 = Instant::now();
        let done = each(concurrency, items, move |item| {
            let fut = measure(item);
            async move {
                let t = Instant::now();
                let outcome = fut.await;
                (outcome, t.elapsed())
            }
        })
        .await?;
        timed += t0.elapsed().as_secs_f64();
        for (outcome, took) in done {
            tally.add(outcome, took);
        }
        let rate = tally.ok_ms.len() as f64 / timed;
        batch = ((rate * (secs - timed).min(1.0)) as usize).clamp(concurrency * 2, 20_000);
    }
    Ok((tally, timed))
}

/// A signed-in session to mint codes with; a few tries, as a busy store may answer 503.
async fn signed_in_session(target: &Target) -> Result<String, Error> {
    for _ in 0..5 {
        if let (Outcome::Ok { .. }, Some(session)) = target.sign_in().await? {
            return Ok(session);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err("the sign-in for minting codes failed five times".into())
}

async fn run(target: Target, phase: &str, secs: f64, concurrency: usize) -> Result<bool, Error> {
    let cc = {
        let t = target.clone();
        move || {
            let t = t.clone();
            async move { t.client_credentials().await }
        }
    };
    let signin = {
        let t = target.clone();
        move || {
            let t = t.clone();
            async move { t.sign_in().await.map(|(o, _)| o).into() }
        }
    };
    let exchange_scope = |plain: bool| if plain { "country.read" } else { "openid" };
    let refresh_scope = |plain: bool| {
        if plain {
            "country.read"
        } else {
            "openid offline_access"
        }
    };
    Ok(match phase {
        "cc" => {
            let (tally, wall) = flat_out(concurrency, secs, cc).await?;
            tally.report("cc", wall)
        }
        "signin" => {
            let (tally, wall) = flat_out(concurrency, secs, signin).await?;
            tally.report("signin", wall)
        }
        "signin+cc" => {
            let (s, c) = tokio::join!(
                flat_out(concurrency, secs, signin),
                flat_out(concurrency, secs, cc)
            );
            let ((s, s_wall), (c, c_wall)) = (s?, c?);
            let c_ok = c.report("cc_during_signins", c_wall);
            s.report("signins_during_cc", s_wall) && c_ok
        }
        "exchange" | "exchange-plain" => {
            let scope = exchange_scope(phase.ends_with("-plain"));
            let session: Arc<str> = signed_in_session(&target).await?.into();
            let t = target.clone();
            let prepare = move |()| {
                let (t, session) = (t.clone(), Arc::clone(&session));
                async move { t.mint_code(&session, scope).await }
            };
            let t = target.clone();
            let measure = move |(code, verifier): (String, String)| {
                let t = t.clone();
                async move { t.exchange(&code, &verifier).await.map(|(o, _)| o).into() }
            };
            let (tally, timed) = batched(concurrency, secs, prepare, measure).await?;
            tally.report(phase, timed)
        }
        "refresh" | "refresh-plain" => {
            let scope = refresh_scope(phase.ends_with("-plain"));
            let session: Arc<str> = signed_in_session(&target).await?.into();
            let t = target.clone();
            let prepare = move |()| {
                let (t, session) = (t.clone(), Arc::clone(&session));
                async move { t.refresh_token(&session, scope).await }
            };
            let t = target.clone();
            let measure = move |token: String| {
                let t = t.clone();
                async move { t.refresh(&token).await }
            };
            let (tally, timed) = batched(concurrency, secs, prepare, measure).await?;
            tally.report(phase, timed)
        }
        other => return Err(format!("unknown phase {other}").into()),
    })
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, phase, rest @ ..] = args.as_slice() else {
        return Err("usage: load_flows BASE_URL PHASE [SECS] [CONCURRENCY] [THREADS]".into());
    };
    let arg = |i: usize, default: &str| rest.get(i).map_or(default.to_owned(), |s| s.clone());
    let secs: f64 = arg(0, "10").trim_end_matches('s').parse()?;
    let concurrency: usize = arg(1, "16").parse()?;
    let threads: usize = arg(2, "1").parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()?;
    let target = Target::new(base)?;
    if !runtime.block_on(run(target, phase, secs, concurrency))? {
        std::process::exit(1);
    }
    Ok(())
}
