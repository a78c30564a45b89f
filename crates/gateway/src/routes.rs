//! The route table (longest prefix first) and each route's upstream pool: round-robin, with
//! upstreams that refused a connection skipped for a while.

use std::sync::{
    Arc,
    atomic::{AtomicU64, AtomicUsize, Ordering},
};

use tokio::sync::Semaphore;

use crate::settings::RouteSettings;

/// One upstream address, and until when (ms on the gateway's clock) it is considered down.
#[derive(Debug)]
pub struct Upstream {
    /// `http://host:port`, no trailing slash.
    pub base: String,
    down_until_ms: AtomicU64,
}

#[derive(Debug)]
pub struct UpstreamPool {
    upstreams: Vec<Upstream>,
    next: AtomicUsize,
}

impl UpstreamPool {
    pub fn new(bases: &[String]) -> Self {
        let upstreams = bases
            .iter()
            .map(|b| Upstream {
                base: b.trim_end_matches('/').to_owned(),
                down_until_ms: AtomicU64::new(0),
            })
            .collect();
        Self {
            upstreams,
            next: AtomicUsize::new(0),
        }
    }

    pub fn get(&self, i: usize) -> &Upstream {
        &self.upstreams[i % self.upstreams.len()]
    }

    /// Up to two upstreams to try, in order: the next in round-robin that is not down, then
    /// another one (for a retry). When every upstream is down they are tried anyway: a
    /// refused connection is a faster answer than none.
    pub fn pick(&self, now_ms: u64) -> Vec<usize> {
        let n = self.upstreams.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let order = (0..n).map(|k| (start + k) % n);
        let up: Vec<usize> = order
            .clone()
            .filter(|&i| self.upstreams[i].down_until_ms.load(Ordering::Relaxed) <= now_ms)
            .collect();
        let mut chosen: Vec<usize> = if up.is_empty() { order.collect() } else { up };
        chosen.truncate(2);
        chosen
    }

    pub fn mark_down(&self, i: usize, until_ms: u64) {
        self.get(i).down_until_ms.store(until_ms, Ordering::Relaxed);
    }
}

#[derive(Debug)]
pub struct Route {
    pub prefix: String,
    pub upstream_prefix: Option<String>,
    pub pool: UpstreamPool,
    /// One permit per request in flight to this route's upstreams.
    pub slots: Arc<Semaphore>,
}

impl Route {
    /// The upstream path for `path`, if this route takes it. A prefix ending in `/` also takes
    /// the path without that slash; otherwise the prefix must end at a segment boundary.
    fn map(&self, path: &str) -> Option<String> {
        let bare = self.prefix.trim_end_matches('/');
        let rest = if path == bare {
            ""
        } else if let Some(rest) = path.strip_prefix(bare) {
            if !rest.starts_with('/') {
                return None;
            }
            rest
        } else {
            return None;
        };
        Some(match &self.upstream_prefix {
            None => path.to_owned(),
            Some(up) => format!("{}{rest}", up.trim_end_matches('/')),
        })
    }
}

#[derive(Debug)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// The routes of `settings`, each with `slots` requests in flight at most.
    pub fn new(settings: &[RouteSettings], slots: usize) -> Self {
        let mut routes: Vec<Route> = settings
            .iter()
            .map(|r| Route {
                prefix: r.prefix.clone(),
                upstream_prefix: r.upstream_prefix.clone(),
                pool: UpstreamPool::new(&r.upstreams),
                slots: Arc::new(Semaphore::new(slots)),
            })
            .collect();
        routes.sort_by_key(|r| std::cmp::Reverse(r.prefix.trim_end_matches('/').len()));
        Self { routes }
    }

    /// The route for `path` (longest prefix wins) and the path to ask the upstream for.
    pub fn find(&self, path: &str) -> Option<(&Route, String)> {
        self.routes.iter().find_map(|r| r.map(path).map(|p| (r, p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        RouteTable::new(&crate::settings::Settings::default().routes, 1)
    }

    #[test]
    fn prefixes_pass_paths_unchanged() {
        let t = table();
        let (r, p) = t.find("/ms-auth-server/oauth2/token").unwrap();
        assert_eq!(
            (r.pool.get(0).base.as_str(), p.as_str()),
            ("http://127.0.0.1:9000", "/ms-auth-server/oauth2/token")
        );
        assert_eq!(t.find("/customer-service").unwrap().1, "/customer-service");
        assert!(t.find("/customer-services/x").is_none());
        assert!(t.find("/").is_none());
        assert!(t.find("/other").is_none());
    }

    #[test]
    fn rfc8414_path_insertion_is_rewritten() {
        let t = table();
        let (_, p) = t
            .find("/.well-known/oauth-authorization-server/ms-auth-server")
            .unwrap();
        assert_eq!(p, "/ms-auth-server/.well-known/oauth-authorization-server");
        assert!(
            t.find("/.well-known/oauth-authorization-server/ms-auth-serverX")
                .is_none()
        );
        assert!(t.find("/.well-known/oauth-authorization-server").is_none());
    }

    #[test]
    fn rfc9728_path_insertion_is_rewritten() {
        let t = table();
        for (service, port) in [("customer-service", 8081), ("country-service", 8082)] {
            let (r, p) = t
                .find(&format!("/.well-known/oauth-protected-resource/{service}"))
                .unwrap();
            assert_eq!(
                p,
                format!("/{service}/.well-known/oauth-protected-resource")
            );
            assert_eq!(r.pool.get(0).base, format!("http://127.0.0.1:{port}"));
        }
        assert!(t.find("/.well-known/oauth-protected-resource").is_none());
        assert!(
            t.find("/.well-known/oauth-protected-resource/country-serviceX")
                .is_none()
        );
    }

    #[test]
    fn round_robin_skips_upstreams_marked_down() {
        let pool = UpstreamPool::new(&[
            "http://a:1".into(),
            "http://b:2".into(),
            "http://c:3".into(),
        ]);
        assert_eq!(pool.pick(0), [0, 1]);
        assert_eq!(pool.pick(0), [1, 2]);
        assert_eq!(pool.pick(0), [2, 0]);
        pool.mark_down(1, 100);
        assert_eq!(pool.pick(50), [0, 2]);
        assert_eq!(pool.pick(50), [2, 0]);
        assert_eq!(
            pool.pick(100),
            [2, 0],
            "down until 100 means up again at 100"
        );
        for i in 0..3 {
            pool.mark_down(i, 1_000);
        }
        assert_eq!(pool.pick(500).len(), 2, "all down: still tried");
    }
}
