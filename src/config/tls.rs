//! The HTTPS settings of `scimd serve`: the certificate and key files that make the main
//! listener HTTPS, and the plain listener that only redirects to it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// How the main listener speaks TLS. With neither file it is plain HTTP (behind a proxy that
/// terminates TLS).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "HTTPS")]
pub struct Tls {
    /// A PEM file with the server's certificate, then any intermediate certificates: the main
    /// listener serves HTTPS (TLS 1.2 and 1.3) with it. Re-read when it changes.
    #[arg(
        long,
        env = "SCIMD_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// A PEM file with the private key of SCIMD_TLS_CERT (PKCS#8, PKCS#1 or SEC1). Re-read
    /// when it changes.
    #[arg(
        long,
        env = "SCIMD_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// A plain HTTP address (e.g. 0.0.0.0:80) that answers every request with a 308 redirect
    /// to the same path over HTTPS; needs HTTPS on the main listener.
    #[arg(
        long,
        env = "SCIMD_HTTP_REDIRECT_LISTEN",
        value_name = "ADDRESS",
        requires = "tls_cert"
    )]
    pub http_redirect_listen: Option<SocketAddr>,
}

impl Tls {
    /// Whether the main listener serves HTTPS.
    pub fn enabled(&self) -> bool {
        self.tls_cert.is_some()
    }
}
