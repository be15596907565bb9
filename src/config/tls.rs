//! The HTTPS settings of `scimd serve`: the certificate and key files that make the main
//! listener HTTPS, or the ACME client that obtains its certificate, and the plain listener
//! that only redirects to it.

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
        requires = "tls_key",
        conflicts_with = "acme_domains"
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
    /// to the same path over HTTPS (and ACME's HTTP-01 challenges); needs HTTPS on the main
    /// listener.
    #[arg(long, env = "SCIMD_HTTP_REDIRECT_LISTEN", value_name = "ADDRESS")]
    pub http_redirect_listen: Option<SocketAddr>,
    /// Obtain and renew the certificate over ACME for these names (comma-separated), answering
    /// the TLS-ALPN-01 challenge on the main listener, which must be reachable on port 443 (or
    /// HTTP-01 on SCIMD_HTTP_REDIRECT_LISTEN: see SCIMD_ACME_CHALLENGE).
    #[arg(
        long,
        env = "SCIMD_ACME_DOMAINS",
        value_name = "NAMES",
        value_delimiter = ','
    )]
    pub acme_domains: Vec<String>,
    /// The e-mail address (or mailto: URL) the ACME account names, for the CA's notices.
    #[arg(long, env = "SCIMD_ACME_CONTACT", value_name = "EMAIL")]
    pub acme_contact: Option<String>,
    /// The ACME directory URL.
    #[arg(
        long,
        env = "SCIMD_ACME_DIRECTORY",
        value_name = "URL",
        default_value = crate::tls::acme::LETS_ENCRYPT
    )]
    pub acme_directory: String,
    /// A PEM file of CA certificates to trust for the ACME directory (a private ACME server).
    #[arg(long, env = "SCIMD_ACME_CA_FILE", value_name = "FILE")]
    pub acme_ca_file: Option<PathBuf>,
    /// Where the ACME account and certificate are kept; unset: `acme` in SCIMD_DATA_DIR (the
    /// working directory when that is unset).
    #[arg(long, env = "SCIMD_ACME_DIR", value_name = "DIR")]
    pub acme_dir: Option<PathBuf>,
    /// The ACME challenge to answer: auto (TLS-ALPN-01 on the main listener when the CA offers
    /// it, else HTTP-01 on SCIMD_HTTP_REDIRECT_LISTEN), tls-alpn-01, or http-01 (needs
    /// SCIMD_HTTP_REDIRECT_LISTEN, reachable on port 80).
    #[arg(
        long,
        env = "SCIMD_ACME_CHALLENGE",
        value_name = "TYPE",
        value_enum,
        default_value_t = crate::tls::acme::challenge::Choice::Auto
    )]
    pub acme_challenge: crate::tls::acme::challenge::Choice,
}

impl Tls {
    /// Whether the main listener serves HTTPS.
    pub fn enabled(&self) -> bool {
        self.tls_cert.is_some() || !self.acme_domains.is_empty()
    }

    /// The ACME client's settings, when ACME is on: `data_dir` is SCIMD_DATA_DIR.
    pub fn acme(&self, data_dir: Option<&std::path::Path>) -> Option<crate::tls::acme::Settings> {
        let domains: Vec<String> = self
            .acme_domains
            .iter()
            .map(|d| d.trim().to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        if domains.is_empty() {
            return None;
        }
        Some(crate::tls::acme::Settings {
            domains,
            contact: self.acme_contact.clone(),
            directory: self.acme_directory.clone(),
            ca_file: self.acme_ca_file.clone(),
            dir: self.acme_dir.clone().unwrap_or_else(|| {
                data_dir.map_or_else(|| PathBuf::from("acme"), |d| d.join("acme"))
            }),
            challenge: self.acme_challenge,
            http_listener: self.http_redirect_listen.is_some(),
        })
    }
}
