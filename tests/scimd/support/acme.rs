//! scimd with ACME from a Pebble ([`super::pebble`]) for the ACME tests: started on the port
//! Pebble validates TLS-ALPN-01 at, its log as JSON lines in a file, `/metrics` on its main
//! address, an operator account to read the operator page with; and what the tests read of it
//! (the certificate served, the ACME counters, the page's certificate section, the log).

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use rustls::pki_types::CertificateDer;
use serde_json::Value;

use super::pebble::{Pebble, Ports};
use super::ports::free_port;
use super::process::{Scimd, cli};
use super::tls::{TestCa, handshake};
use super::{Backend, TestDb};

const PASSWORD: &str = "correct horse battery staple";
const METRICS_TOKEN: &str = "metrics-token-for-the-acme-renewal-tests";

/// One test's scimd with ACME from a Pebble on `ports`, and what it needs.
pub struct Run {
    pub db: TestDb,
    pub dir: PathBuf,
    pub ca: TestCa,
    pub ports: Ports,
    pub log: PathBuf,
}

impl Run {
    pub async fn new(backend: Backend) -> Self {
        let dir =
            std::env::temp_dir().join(format!("scimd-renew-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = TestCa::new("pebble listener CA");
        std::fs::write(dir.join("pebble-ca.pem"), ca.pem()).unwrap();
        Self {
            db: TestDb::new(backend).await,
            log: dir.join("scimd.log"),
            ports: Ports::with_tls(free_port()),
            dir,
            ca,
        }
    }

    /// Pebble, its certificates living `validity` seconds.
    pub async fn pebble(&self, validity: u64) -> Pebble {
        Pebble::start(&self.dir, &self.ca, self.ports, Some(validity)).await
    }

    /// scimd, its log as JSON lines in `self.log`, with an operator account `olivia`, with
    /// the settings of `extra` too.
    pub async fn scimd(&self, extra: &[(&str, &str)]) -> Scimd {
        let listen = format!("127.0.0.1:{}", self.ports.tls);
        let ca_file = self.dir.join("pebble-ca.pem");
        let store = self.dir.join("acme");
        let directory = self.ports.directory();
        let env = [
            ("SCIMD_DATABASE_URL", self.db.url.as_str()),
            ("SCIMD_LISTEN", listen.as_str()),
            ("SCIMD_LOG", "info"),
            ("SCIMD_LOG_FORMAT", "json"),
            ("SCIMD_METRICS_TOKEN", METRICS_TOKEN),
            ("SCIMD_ACME_DOMAINS", "localhost"),
            ("SCIMD_ACME_DIRECTORY", directory.as_str()),
            ("SCIMD_ACME_CA_FILE", ca_file.to_str().unwrap()),
            ("SCIMD_ACME_DIR", store.to_str().unwrap()),
        ];
        let env: Vec<(&str, &str)> = env.iter().chain(extra).copied().collect();
        let (scimd, _) = Scimd::start_logging_to(&self.dir, &env, &self.log).await;
        let args = ["operator-account", "add", "olivia"];
        cli(&self.dir, Some(&self.db.url), &args, PASSWORD).await;
        scimd
    }

    /// The certificate served now, verified against `root`.
    pub async fn served(&self, root: &str) -> std::io::Result<CertificateDer<'static>> {
        let address = format!("127.0.0.1:{}", self.ports.tls).parse().unwrap();
        Ok(handshake(address, root, rustls::DEFAULT_VERSIONS)
            .await?
            .served)
    }

    /// The first certificate served other than `other`, within `limit`.
    pub async fn next_served(
        &self,
        root: &str,
        other: Option<&CertificateDer<'static>>,
        limit: Duration,
    ) -> CertificateDer<'static> {
        let started = Instant::now();
        loop {
            match self.served(root).await {
                Ok(served) if Some(&served) != other => return served,
                _ if started.elapsed() < limit => {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                result => panic!("no new certificate within {limit:?}: {result:?}"),
            }
        }
    }

    /// A client of scimd's HTTPS that trusts `root` and follows no redirect.
    pub fn client(&self, root: &str) -> reqwest::Client {
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(root.as_bytes()).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub fn base(&self) -> String {
        format!("https://localhost:{}", self.ports.tls)
    }

    /// The ACME counters of /metrics: certificates obtained and failures (0 when not yet
    /// counted).
    pub async fn counters(&self, root: &str) -> (u64, u64) {
        let answer = self
            .client(root)
            .get(format!("{}/metrics", self.base()))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        let text = answer.text().await.unwrap();
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
                .unwrap_or(0)
        };
        (
            value("scimd_acme_certificates_total"),
            value("scimd_acme_failures_total"),
        )
    }

    /// The operator page as olivia sees it, signed in over HTTPS: its HTML.
    pub async fn operator_page(&self, root: &str) -> String {
        let session = self.sign_in(root).await;
        self.page(root, &session).await
    }

    /// Olivia signed in to the operator page over HTTPS: her session's cookie pair.
    pub async fn sign_in(&self, root: &str) -> String {
        let client = self.client(root);
        let form = client
            .get(format!("{}/operator/sign-in", self.base()))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), 200);
        let login = cookie(&form, "__Host-scimd_operator_login");
        let html = form.text().await.unwrap();
        let csrf = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_owned();
        let signed = client
            .post(format!("{}/operator/sign-in", self.base()))
            .header("cookie", login)
            .form(&[
                ("username", "olivia"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(signed.status(), 303);
        cookie(&signed, "__Host-scimd_operator")
    }

    /// The operator page with `session`: its HTML.
    pub async fn page(&self, root: &str, session: &str) -> String {
        let page = self
            .client(root)
            .get(format!("{}/operator", self.base()))
            .header("cookie", session)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        page.text().await.unwrap()
    }

    /// The log's lines whose message is `message`.
    pub fn logged(&self, message: &str) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["message"] == message)
            .collect()
    }
}

/// The `name=value` pair of the `Set-Cookie` named `name`.
fn cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no cookie {name}: {:?}", response.headers()))
        .to_owned()
}

/// When a certificate valid from `not_before` to `not_after` is due for renewal.
pub fn renew_at((not_before, not_after): (SystemTime, SystemTime)) -> SystemTime {
    not_before + not_after.duration_since(not_before).unwrap() * 2 / 3
}

/// The certificate section of the operator page.
fn section(page: &str) -> &str {
    let start = page.find("<section class=\"certificate\"").expect(page);
    let end = start + page[start..].find("</section>").unwrap();
    &page[start..end]
}

/// The operator page's certificate section, once checked to be in `state` (`data-state`) and to
/// show each of `fragments`.
pub fn section_showing<'p>(page: &'p str, state: &str, fragments: &[String]) -> &'p str {
    let shown = section(page);
    let state = format!("data-state=\"{state}\"");
    assert!(shown.contains(&state), "{state} not in {shown}");
    for fragment in fragments {
        assert!(
            shown.contains(fragment.as_str()),
            "{fragment:?} not in {shown}"
        );
    }
    shown
}
