//! TLS termination at the gateway (`[server.tls]`): a PEM certificate chain and private key,
//! served by rustls with the aws-lc-rs provider, and replaced without a restart when the files
//! change (their modification times are polled) or on SIGHUP. A replacement that does not
//! load — a half-written file, a key that does not match the certificate — is logged and the
//! certificate in service stays; the next poll tries again. RFC 6749 §3.2 and §2.3.1 require
//! TLS wherever client secrets and tokens travel.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, RwLock},
    time::{Duration, SystemTime},
};

use rustls::{
    ServerConfig,
    crypto::{CryptoProvider, aws_lc_rs},
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    server::{ClientHello, ResolvesServerCert},
    sign::CertifiedKey,
};

use crate::settings::TlsSettings;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("`server.tls.cert_file` ({path}): {message}")]
    Cert { path: String, message: String },
    #[error("`server.tls.key_file` ({path}): {message}")]
    Key { path: String, message: String },
    #[error("`server.tls`: {0}")]
    Config(String),
}

/// What identifies one version of the files: their modification times and sizes.
type Stamp = Option<[(SystemTime, u64); 2]>;

/// The certificate in service, and where its replacement comes from.
pub struct CertStore {
    cert_file: PathBuf,
    key_file: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
    loaded: Mutex<Stamp>,
}

impl fmt::Debug for CertStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertStore")
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .finish_non_exhaustive()
    }
}

fn stamp(files: [&Path; 2]) -> Stamp {
    let one = |p: &Path| {
        let m = std::fs::metadata(p).ok()?;
        Some((m.modified().ok()?, m.len()))
    };
    Some([one(files[0])?, one(files[1])?])
}

fn load(
    cert_file: &Path,
    key_file: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let cert_error = |message: String| TlsError::Cert {
        path: cert_file.display().to_string(),
        message,
    };
    let key_error = |message: String| TlsError::Key {
        path: key_file.display().to_string(),
        message,
    };
    let chain = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| cert_error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_error(e.to_string()))?;
    if chain.is_empty() {
        return Err(cert_error("no CERTIFICATE in the file".to_owned()));
    }
    // The key's own parse errors say what is wrong, never what the key is.
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| key_error(e.to_string()))?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| key_error(e.to_string()))
}

impl CertStore {
    /// Loads the files once: a certificate that does not load stops the start-up.
    pub fn load(settings: &TlsSettings) -> Result<Arc<Self>, TlsError> {
        let provider = Arc::new(aws_lc_rs::default_provider());
        let stamp = stamp([&settings.cert_file, &settings.key_file]);
        let key = load(&settings.cert_file, &settings.key_file, &provider)?;
        Ok(Arc::new(Self {
            cert_file: settings.cert_file.clone(),
            key_file: settings.key_file.clone(),
            provider,
            current: RwLock::new(Arc::new(key)),
            loaded: Mutex::new(stamp),
        }))
    }

    /// Loads the files again if they changed since the last load (or always, if `force`).
    pub fn reload(&self, force: bool) {
        let now = stamp([&self.cert_file, &self.key_file]);
        let Ok(mut loaded) = self.loaded.lock() else {
            return;
        };
        if !force && *loaded == now {
            return;
        }
        match load(&self.cert_file, &self.key_file, &self.provider) {
            Ok(key) => {
                if let Ok(mut current) = self.current.write() {
                    *current = Arc::new(key);
                }
                *loaded = now;
                tracing::info!(cert_file = %self.cert_file.display(), "TLS certificate loaded");
            }
            Err(e) => {
                tracing::warn!(error = %e, "TLS certificate not replaced; the current one stays")
            }
        }
    }

    /// The rustls configuration serving whatever certificate is current. ALPN is set by
    /// actix-web (`http/1.1`).
    pub fn server_config(self: &Arc<Self>) -> Result<ServerConfig, TlsError> {
        let config = ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        Ok(config)
    }

    /// Polls the files every `every`, and reloads on SIGHUP, for as long as the process runs.
    pub fn watch(self: &Arc<Self>, every: Duration) {
        let store = Arc::clone(self);
        let polled = std::thread::Builder::new()
            .name("tls-reload".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(every);
                    store.reload(false);
                }
            });
        if let Err(e) = polled {
            tracing::warn!(error = %e, "TLS certificate polling not started");
        }
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            match signal(SignalKind::hangup()) {
                Ok(mut hangups) => {
                    let store = Arc::clone(self);
                    tokio::spawn(async move {
                        while hangups.recv().await.is_some() {
                            store.reload(true);
                        }
                    });
                }
                Err(e) => tracing::warn!(error = %e, "SIGHUP reloading not available"),
            }
        }
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|key| Arc::clone(&key))
    }
}
