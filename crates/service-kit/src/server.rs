//! Binding a service's listener: `server.host:server.port` (port 0 picks a free one), with one
//! error that names the keys to fix.

use std::net::TcpListener;

#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr} (`{host_key}`, `{port_key}`): {source}")]
pub struct BindError {
    pub addr: String,
    pub host_key: &'static str,
    pub port_key: &'static str,
    #[source]
    pub source: std::io::Error,
}

impl BindError {
    /// The same error naming other config keys (another listener's).
    pub fn keys(self, host_key: &'static str, port_key: &'static str) -> Self {
        Self {
            host_key,
            port_key,
            ..self
        }
    }
}

/// The bound listener and the port it got.
pub fn bind(host: &str, port: u16) -> Result<(TcpListener, u16), BindError> {
    let addr = format!("{host}:{port}");
    let failed = |source| BindError {
        addr: addr.clone(),
        host_key: "server.host",
        port_key: "server.port",
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
        host_key: "server.host",
        port_key: "server.port",
        source,
    }
}
