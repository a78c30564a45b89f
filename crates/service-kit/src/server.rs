//! Binding a service's listener: `server.host:server.port` (port 0 picks a free one), with one
//! error that names the keys to fix.

use std::net::TcpListener;

#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr} (`server.host`, `server.port`): {source}")]
pub struct BindError {
    pub addr: String,
    #[source]
    pub source: std::io::Error,
}

/// The bound listener and the port it got.
pub fn bind(host: &str, port: u16) -> Result<(TcpListener, u16), BindError> {
    let addr = format!("{host}:{port}");
    let failed = |source| BindError {
        addr: addr.clone(),
        source,
    };
    let listener = TcpListener::bind(&addr).map_err(failed)?;
    let port = listener.local_addr().map_err(failed)?.port();
    Ok((listener, port))
}

/// The same error for a failure after binding (handing the listener to the HTTP server).
pub fn listen_error(host: &str, port: u16, source: std::io::Error) -> BindError {
    BindError {
        addr: format!("{host}:{port}"),
        source,
    }
}
