//! Certificates obtained and renewed over ACME (RFC 8555) for `SCIMD_ACME_DOMAINS`, the
//! challenge answered by TLS-ALPN-01 (RFC 8737) on the HTTPS listener itself — a validation
//! server that connects with ALPN `acme-tls/1` is shown a self-signed certificate that carries
//! the key authorization's digest, everyone else the certificate issued — or by HTTP-01 on the
//! redirect listener ([`challenge`] says which). The protocol (account,
//! orders, JWS) is `instant-acme`'s; its requests go through reqwest, trusting
//! `SCIMD_ACME_CA_FILE` as well. The account and the certificate are files under
//! `SCIMD_ACME_DIR`, so a restart serves the stored certificate at once and asks for nothing.
//! A certificate is renewed once less than a third of its life is left; a failure is logged,
//! counted (`scimd_acme_failures_total`) and retried with a growing pause while the old
//! certificate is served on. What it has done is in [`status`], for the operator page.

pub mod challenge;
mod http;
pub mod status;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, OrderStatus, RetryPolicy,
};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use challenge::{Choice, Pending};
use http::Http;
use status::{Served, Status};

/// The ALPN protocol of TLS-ALPN-01 validation (RFC 8737 §6.2).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// Let's Encrypt's production directory, the default of `SCIMD_ACME_DIRECTORY`.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// The first pause after a failed attempt; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_secs(10);
const MAX_PAUSE: Duration = Duration::from_secs(3600);

/// What the ACME client needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub domains: Vec<String>,
    pub contact: Option<String>,
    pub directory: String,
    pub ca_file: Option<PathBuf>,
    pub dir: PathBuf,
    /// Which challenge to answer (`SCIMD_ACME_CHALLENGE`).
    pub challenge: Choice,
    /// Whether the redirect listener, which answers HTTP-01, is on.
    pub http_listener: bool,
}

/// The certificate the HTTPS listener serves when ACME provides it (none before the first
/// issuance), the challenges' answers of the order under way, and what the client has done,
/// for the operator page.
#[derive(Debug)]
pub struct AcmeCert {
    issued: RwLock<Option<Issued>>,
    challenges: Pending,
    status: Status,
}

impl AcmeCert {
    /// What the ACME client has done, as of now.
    pub fn status(&self) -> status::Snapshot {
        self.status.snapshot()
    }

    /// The key authorization to answer `GET /.well-known/acme-challenge/{token}` with, while
    /// that HTTP-01 challenge is pending.
    pub fn http01(&self, token: &str) -> Option<String> {
        self.challenges.http(token)
    }
}

/// An issued certificate and when it stops being valid.
#[derive(Debug, Clone)]
struct Issued {
    key: Arc<CertifiedKey>,
    not_before: SystemTime,
    not_after: SystemTime,
}

impl Issued {
    /// When to renew: once two thirds of its validity have passed (30 days before the end of
    /// a 90-day certificate).
    fn renew_at(&self) -> SystemTime {
        let life = self
            .not_after
            .duration_since(self.not_before)
            .unwrap_or_default();
        self.not_before + life * 2 / 3
    }
}

impl ResolvesServerCert for AcmeCert {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let validating = hello
            .alpn()
            .is_some_and(|mut offered| offered.any(|p| p == ACME_TLS_ALPN));
        if validating {
            let name = hello.server_name()?.to_ascii_lowercase();
            return self.challenges.tls(&name);
        }
        let issued = self.issued.read().unwrap_or_else(|e| e.into_inner());
        issued.as_ref().map(|i| Arc::clone(&i.key))
    }
}

/// The ACME client: obtains, stores and renews the certificate [`AcmeCert`] serves.
pub struct Acme {
    settings: Settings,
    http: reqwest::Client,
    provider: Arc<CryptoProvider>,
    cert: Arc<AcmeCert>,
}

impl Acme {
    /// The client of `settings`: its directory created, the stored certificate (if any) loaded
    /// so that it is served at once. An error names the setting or the file at fault.
    pub fn new(settings: Settings, provider: Arc<CryptoProvider>) -> Result<Self, String> {
        let mut http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(Duration::from_secs(30));
        if let Some(ca) = &settings.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| format!("SCIMD_ACME_CA_FILE {}: cannot be read: {e}", ca.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("SCIMD_ACME_CA_FILE {}: is not PEM: {e}", ca.display()))?;
            if certs.is_empty() {
                return Err(format!(
                    "SCIMD_ACME_CA_FILE {}: holds no certificate",
                    ca.display()
                ));
            }
            for cert in certs {
                http = http.add_root_certificate(cert);
            }
        }
        let http = http
            .build()
            .map_err(|e| format!("the ACME client cannot be set up: {e}"))?;
        create_private_dir(&settings.dir).map_err(|e| {
            format!(
                "SCIMD_ACME_DIR {}: cannot be created: {e}",
                settings.dir.display()
            )
        })?;
        let acme = Self {
            cert: Arc::new(AcmeCert {
                issued: RwLock::new(None),
                challenges: Pending::default(),
                status: Status::new(settings.domains.clone(), settings.directory.clone()),
            }),
            settings,
            http,
            provider,
        };
        if let Some(stored) = acme.stored()? {
            tracing::info!(domains = ?acme.settings.domains, "serving the stored ACME certificate");
            acme.serve(stored);
        }
        Ok(acme)
    }

    /// What the HTTPS listener serves.
    pub fn resolver(&self) -> Arc<AcmeCert> {
        Arc::clone(&self.cert)
    }

    /// Obtains a certificate when there is none or it is due for renewal, forever.
    pub async fn run(self) {
        let mut pause = FIRST_PAUSE;
        loop {
            let due = self.due();
            let now = SystemTime::now();
            if due > now {
                let wait = due.duration_since(now).unwrap_or_default().min(MAX_PAUSE);
                tokio::time::sleep(wait).await;
                continue;
            }
            match self.obtain().await {
                Ok(issued) => {
                    tracing::info!(
                        domains = ?self.settings.domains,
                        renew_in_days = issued.renew_at().duration_since(SystemTime::now()).unwrap_or_default().as_secs() / 86_400,
                        "ACME certificate obtained"
                    );
                    metrics::counter!("scimd_acme_certificates_total").increment(1);
                    self.cert.status.obtained(SystemTime::now());
                    self.serve(issued);
                    pause = FIRST_PAUSE;
                }
                Err(e) => {
                    metrics::counter!("scimd_acme_failures_total").increment(1);
                    let serving = self
                        .cert
                        .issued
                        .read()
                        .map(|i| i.is_some())
                        .unwrap_or(false);
                    tracing::error!(
                        error = %e,
                        retry_in_seconds = pause.as_secs(),
                        serving_previous = serving,
                        "ACME: no certificate obtained"
                    );
                    let now = SystemTime::now();
                    self.cert.status.failed(now, e, now + pause);
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_PAUSE);
                }
            }
        }
    }

    /// When the served certificate is due for renewal: now when there is none.
    fn due(&self) -> SystemTime {
        let issued = self.cert.issued.read().unwrap_or_else(|e| e.into_inner());
        issued
            .as_ref()
            .map_or(SystemTime::UNIX_EPOCH, Issued::renew_at)
    }

    fn serve(&self, issued: Issued) {
        if let Ok(secs) = issued.not_after.duration_since(SystemTime::UNIX_EPOCH) {
            metrics::gauge!("scimd_tls_certificate_expiry_timestamp_seconds")
                .set(secs.as_secs_f64());
        }
        self.cert.status.serving(Served {
            not_before: issued.not_before,
            not_after: issued.not_after,
            renew_at: issued.renew_at(),
        });
        *self.cert.issued.write().unwrap_or_else(|e| e.into_inner()) = Some(issued);
    }

    fn cert_path(&self) -> PathBuf {
        self.settings.dir.join("certificate.pem")
    }

    fn key_path(&self) -> PathBuf {
        self.settings.dir.join("certificate-key.pem")
    }

    /// The stored certificate, if there is one for exactly the configured domains.
    fn stored(&self) -> Result<Option<Issued>, String> {
        let (cert, key) = (self.cert_path(), self.key_path());
        let (Ok(chain), Ok(key_pem)) = (std::fs::read(&cert), std::fs::read(&key)) else {
            return Ok(None);
        };
        let issued = self
            .certified(&chain, &key_pem)
            .map_err(|e| format!("{}: {e}", cert.display()))?;
        let names = names_of(&issued.key)?;
        let mut wanted = self.settings.domains.clone();
        wanted.sort();
        if names != wanted {
            tracing::info!(stored = ?names, wanted = ?wanted, "the stored ACME certificate is for other names: a new one is ordered");
            return Ok(None);
        }
        Ok(Some(issued))
    }

    /// A chain and key as PEM, checked to belong together, with the validity of the first
    /// certificate.
    fn certified(&self, chain_pem: &[u8], key_pem: &[u8]) -> Result<Issued, String> {
        let chain = CertificateDer::pem_slice_iter(chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("not a PEM chain: {e}"))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("no key: {e}"))?;
        let certified = CertifiedKey::from_der(chain, key, &self.provider)
            .map_err(|e| format!("not a usable pair: {e}"))?;
        let (not_before, not_after) =
            validity(certified.end_entity_cert().map_err(|e| e.to_string())?)?;
        Ok(Issued {
            key: Arc::new(certified),
            not_before,
            not_after,
        })
    }

    /// The account: the stored one, or one created (and stored) on the directory.
    async fn account(&self) -> Result<Account, String> {
        let path = self.settings.dir.join("account.json");
        let builder = || Account::builder_with_http(Box::new(Http(self.http.clone())));
        if let Ok(text) = std::fs::read_to_string(&path) {
            let credentials: AccountCredentials = serde_json::from_str(&text)
                .map_err(|e| format!("{}: not an ACME account: {e}", path.display()))?;
            return builder()
                .from_credentials(credentials)
                .await
                .map_err(|e| format!("the ACME directory {}: {e}", self.settings.directory));
        }
        let contact = self.settings.contact.as_ref().map(|c| {
            if c.contains(':') {
                c.clone()
            } else {
                format!("mailto:{c}")
            }
        });
        let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
        let (account, credentials) = builder()
            .create(
                &NewAccount {
                    contact: &contacts,
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                },
                self.settings.directory.clone(),
                None,
            )
            .await
            .map_err(|e| {
                format!(
                    "the ACME directory {}: account not created: {e}",
                    self.settings.directory
                )
            })?;
        let text = serde_json::to_string(&credentials).map_err(|e| e.to_string())?;
        write_private(&path, text.as_bytes())
            .map_err(|e| format!("{}: cannot be written: {e}", path.display()))?;
        tracing::info!(directory = %self.settings.directory, "ACME account created");
        Ok(account)
    }

    /// One order, from its creation to the certificate stored.
    async fn obtain(&self) -> Result<Issued, String> {
        let account = self.account().await?;
        let identifiers: Vec<Identifier> = self
            .settings
            .domains
            .iter()
            .map(|d| Identifier::Dns(d.clone()))
            .collect();
        let mut order = account
            .new_order(&NewOrder::new(&identifiers))
            .await
            .map_err(|e| format!("order not placed: {e}"))?;
        let result = self.validate_and_finalize(&mut order).await;
        self.cert.challenges.clear();
        let (chain, key) = result?;
        let issued = self.certified(chain.as_bytes(), key.as_bytes())?;
        write_private(&self.key_path(), key.as_bytes())
            .and_then(|()| write_private(&self.cert_path(), chain.as_bytes()))
            .map_err(|e| format!("{}: cannot be written: {e}", self.settings.dir.display()))?;
        Ok(issued)
    }

    /// Answers each authorization's challenge (TLS-ALPN-01 or HTTP-01, as [`challenge::pick`]
    /// chooses), then finalizes: the chain and the key, as PEM.
    async fn validate_and_finalize(
        &self,
        order: &mut instant_acme::Order,
    ) -> Result<(String, String), String> {
        let mut authorizations = order.authorizations();
        while let Some(authorization) = authorizations.next().await {
            let mut authorization = authorization.map_err(|e| e.to_string())?;
            match authorization.status {
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Valid => continue,
                other => return Err(format!("an authorization is {other:?}")),
            }
            let offered: Vec<ChallengeType> = authorization
                .challenges
                .iter()
                .map(|c| c.r#type.clone())
                .collect();
            let kind = challenge::pick(
                self.settings.challenge,
                self.settings.http_listener,
                &offered,
            )?;
            let mut challenge = authorization
                .challenge(kind.clone())
                .ok_or("the ACME server's challenge went missing")?;
            let name = challenge.identifier().to_string().to_ascii_lowercase();
            let key_authorization = challenge.key_authorization();
            if kind == ChallengeType::Http01 {
                let token = challenge.token.clone();
                // the token is no secret: the CA fetches it over plain HTTP
                tracing::info!(%name, challenge = "http-01", %token, "ACME challenge answered");
                let answer = key_authorization.as_str().to_owned();
                self.cert.challenges.answer_http(token, answer);
            } else {
                let digest = key_authorization.digest();
                let answer = challenge::tls_alpn_cert(&name, digest.as_ref(), &self.provider)?;
                tracing::info!(%name, challenge = "tls-alpn-01", "ACME challenge answered");
                self.cert.challenges.answer_tls(name, answer);
            }
            challenge.set_ready().await.map_err(|e| e.to_string())?;
        }
        let retries = RetryPolicy::new().timeout(Duration::from_secs(120));
        let status = order
            .poll_ready(&retries)
            .await
            .map_err(|e| format!("the order did not become ready: {e}"))?;
        if status != OrderStatus::Ready {
            return Err(format!("the order is {status:?}: validation failed"));
        }
        let key = order
            .finalize()
            .await
            .map_err(|e| format!("the order not finalized: {e}"))?;
        let chain = order
            .poll_certificate(&retries)
            .await
            .map_err(|e| format!("no certificate: {e}"))?;
        Ok((chain, key))
    }
}

/// The DNS names of a certificate, sorted.
fn names_of(key: &CertifiedKey) -> Result<Vec<String>, String> {
    let der = key.end_entity_cert().map_err(|e| e.to_string())?;
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let mut names: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => {
                        Some(d.to_ascii_lowercase())
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    Ok(names)
}

/// The validity of a certificate.
fn validity(der: &CertificateDer<'_>) -> Result<(SystemTime, SystemTime), String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let at = |t: x509_parser::time::ASN1Time| {
        let secs = t.timestamp();
        SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0))
    };
    Ok((
        at(cert.validity().not_before),
        at(cert.validity().not_after),
    ))
}

/// Creates `dir` (readable by its owner only: it holds keys).
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    Ok(())
}

/// Writes `path` whole (a temporary file renamed over it), readable by its owner only.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let part = path.with_extension("part");
    std::fs::write(&part, contents)?;
    #[cfg(unix)]
    std::fs::set_permissions(&part, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    std::fs::rename(&part, path)
}
