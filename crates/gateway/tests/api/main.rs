//! The gateway against real upstream HTTP servers on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod limits;
mod procs;
mod proxying;
mod rotation;
mod shutdown;
mod slow_clients;
mod tls;
mod tracing;
mod upstreams;
