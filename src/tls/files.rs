//! The certificate and key of `SCIMD_TLS_CERT` and `SCIMD_TLS_KEY`: read and checked at start
//! (a missing, unreadable or mismatched pair is an error naming the file), then looked at on
//! every handshake and read again when either file changed, so a renewed certificate is served
//! to the next connection without a restart. A pair that does not load (a renewal written
//! halfway, a key that does not match yet) is logged once and the previous pair served on.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// What a file looked like when it was last read: a replaced file (renamed over, or written
/// in place) differs in one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Self {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode: inode(&meta),
        })
    }
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn inode(_: &std::fs::Metadata) -> u64 {
    0
}

/// The pair being served, and the files' stamps when they were last looked at.
#[derive(Debug)]
struct Loaded {
    stamps: (Option<Stamp>, Option<Stamp>),
    current: Arc<CertifiedKey>,
}

/// The certificate of a pair of PEM files, re-read when they change.
#[derive(Debug)]
pub struct FileCert {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    loaded: Mutex<Loaded>,
}

impl FileCert {
    /// Reads and checks the pair: an error names the file and what is wrong with it.
    pub fn load(cert: &Path, key: &Path, provider: Arc<CryptoProvider>) -> Result<Self, String> {
        let stamps = (Stamp::of(cert), Stamp::of(key));
        let current = Arc::new(read(cert, key, &provider)?);
        Ok(Self {
            cert: cert.to_owned(),
            key: key.to_owned(),
            provider,
            loaded: Mutex::new(Loaded { stamps, current }),
        })
    }

    /// The pair to serve: the files read again first if either changed since last looked at.
    fn current(&self) -> Arc<CertifiedKey> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        let stamps = (Stamp::of(&self.cert), Stamp::of(&self.key));
        if stamps != loaded.stamps {
            loaded.stamps = stamps;
            match read(&self.cert, &self.key, &self.provider) {
                Ok(pair) => {
                    loaded.current = Arc::new(pair);
                    tracing::info!(cert = %self.cert.display(), "TLS certificate read again: it changed");
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    "the TLS files changed but do not load; serving the previous certificate"
                ),
            }
        }
        Arc::clone(&loaded.current)
    }
}

impl ResolvesServerCert for FileCert {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// The certificate chain of `cert` and the key of `key`, checked to belong together.
fn read(cert: &Path, key: &Path, provider: &CryptoProvider) -> Result<CertifiedKey, String> {
    let named = |var: &str, path: &Path, what: String| format!("{var} {}: {what}", path.display());
    let cert_pem = std::fs::read(cert)
        .map_err(|e| named("SCIMD_TLS_CERT", cert, format!("cannot be read: {e}")))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| named("SCIMD_TLS_CERT", cert, format!("is not PEM: {e}")))?;
    if chain.is_empty() {
        return Err(named(
            "SCIMD_TLS_CERT",
            cert,
            "holds no certificate (PEM: -----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    let key_pem = std::fs::read(key)
        .map_err(|e| named("SCIMD_TLS_KEY", key, format!("cannot be read: {e}")))?;
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        named(
            "SCIMD_TLS_KEY",
            key,
            format!("holds no private key in PEM (PKCS#8, PKCS#1 or SEC1): {e}"),
        )
    })?;
    CertifiedKey::from_der(chain, private, provider).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => named(
            "SCIMD_TLS_KEY",
            key,
            format!(
                "is not the key of the certificate in SCIMD_TLS_CERT {}",
                cert.display()
            ),
        ),
        other => named(
            "SCIMD_TLS_KEY",
            key,
            format!(
                "cannot be used with SCIMD_TLS_CERT {}: {other}",
                cert.display()
            ),
        ),
    })
}
