//! Debian's Pebble (`/usr/bin/pebble`, the ACME test server; `.ci/run` installs it) for the
//! ACME tests, with its real validation: started on ports the test chooses (so that scimd can be
//! told the directory before Pebble runs), with a listener certificate of the test's CA, and
//! optionally a short certificate life (`certificateValidityPeriod`, seconds) so that a renewal
//! comes due within a test. Also what the tests read of scimd's certificates and pages.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use rustls::pki_types::CertificateDer;
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use super::ports::free_port;
use super::tls::TestCa;

/// Where Pebble listens and what it validates.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    /// The ACME directory's port.
    pub acme: u16,
    pub management: u16,
    /// Where Pebble connects to validate HTTP-01.
    pub http: u16,
    /// Where Pebble connects to validate TLS-ALPN-01.
    pub tls: u16,
}

impl Ports {
    /// Free ports for everything but `tls` (scimd's HTTPS port).
    pub fn with_tls(tls: u16) -> Self {
        Self {
            acme: free_port(),
            management: free_port(),
            http: free_port(),
            tls,
        }
    }

    /// The directory's URL.
    pub fn directory(&self) -> String {
        format!("https://localhost:{}/dir", self.acme)
    }
}

/// A running Pebble.
pub struct Pebble {
    child: Child,
    management: String,
}

impl Pebble {
    /// Pebble on `ports`, its listener certificate issued by `ca` (written into `dir`),
    /// issuing certificates valid for `validity` seconds (Pebble's default, five years, when
    /// `None`).
    pub async fn start(dir: &Path, ca: &TestCa, ports: Ports, validity: Option<u64>) -> Self {
        let (cert, key) = (dir.join("pebble-cert.pem"), dir.join("pebble-key.pem"));
        ca.issue(&["localhost", "127.0.0.1"], "pebble")
            .write(&cert, &key);
        let mut config = serde_json::json!({
            "listenAddress": format!("127.0.0.1:{}", ports.acme),
            "managementListenAddress": format!("127.0.0.1:{}", ports.management),
            "certificate": cert,
            "privateKey": key,
            "httpPort": ports.http,
            "tlsPort": ports.tls,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false
        });
        if let Some(seconds) = validity {
            config["certificateValidityPeriod"] = seconds.into();
        }
        let file = dir.join("pebble.json");
        std::fs::write(&file, serde_json::json!({ "pebble": config }).to_string()).unwrap();
        let child = Command::new("pebble")
            .arg("-config")
            .arg(&file)
            // no random pause before validating; no nonce refused at random (both test
            // conveniences); validation itself is real: PEBBLE_VA_ALWAYS_VALID is not set
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env_remove("PEBBLE_VA_ALWAYS_VALID")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("run /usr/bin/pebble (apt-get install pebble)");
        let address: SocketAddr = format!("127.0.0.1:{}", ports.acme).parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(address).await.is_err() {
            assert!(Instant::now() < deadline, "pebble did not listen");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self {
            child,
            management: format!("https://localhost:{}", ports.management),
        }
    }

    /// The root certificate Pebble issues under (made anew at each start).
    pub async fn root(&self, ca: &TestCa) -> String {
        let answer = ca
            .client()
            .get(format!("{}/roots/0", self.management))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        answer.text().await.unwrap()
    }

    /// Stops Pebble and waits until it is gone.
    pub async fn stop(mut self) {
        self.child.kill().await.unwrap();
    }
}

/// The validity of a certificate: not before, not after.
pub fn validity(der: &CertificateDer<'_>) -> (SystemTime, SystemTime) {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    let at = |t: x509_parser::time::ASN1Time| {
        SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(t.timestamp()).unwrap())
    };
    (
        at(cert.validity().not_before),
        at(cert.validity().not_after),
    )
}

/// `at` as the operator page shows it.
pub fn shown(at: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(at)
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}
