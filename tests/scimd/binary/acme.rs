//! ACME against Debian's Pebble (the ACME test server, with its real validation): scimd with
//! `SCIMD_ACME_DOMAINS=localhost` answers Pebble's TLS-ALPN-01 challenge on its own HTTPS
//! listener and serves a certificate issued by Pebble's CA within a minute of starting; the
//! account and the certificate are stored, and a restart serves the stored certificate at once
//! without a directory to ask. Pebble is `/usr/bin/pebble` (`.ci/run` installs it), started by
//! `support::pebble`; renewals and a directory down are `binary::acme_renewal`'s.

use std::time::{Duration, Instant};

use crate::support::pebble::{Pebble, Ports};
use crate::support::ports::free_port;
use crate::support::process::Scimd;
use crate::support::tls::{TestCa, handshake};
use crate::support::{Backend, TestDb};

crate::on_both_stores!(
    a_certificate_from_pebble_is_served_within_a_minute_and_again_after_a_restart,
);

async fn a_certificate_from_pebble_is_served_within_a_minute_and_again_after_a_restart(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let dir = std::env::temp_dir().join(format!("scimd-acme-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = TestCa::new("pebble listener CA");
    std::fs::write(dir.join("pebble-ca.pem"), ca.pem()).unwrap();
    let port = free_port();
    let ports = Ports::with_tls(port);
    let pebble = Pebble::start(&dir, &ca, ports, None).await;
    let listen = format!("127.0.0.1:{port}");
    let ca_file = dir.join("pebble-ca.pem");
    let store = dir.join("acme");
    let directory = ports.directory();
    let env = [
        ("SCIMD_DATABASE_URL", db.url.as_str()),
        ("SCIMD_LISTEN", listen.as_str()),
        ("SCIMD_ACME_DOMAINS", "localhost"),
        ("SCIMD_ACME_CONTACT", "ops@example.com"),
        ("SCIMD_ACME_DIRECTORY", directory.as_str()),
        ("SCIMD_ACME_CA_FILE", ca_file.to_str().unwrap()),
        ("SCIMD_ACME_DIR", store.to_str().unwrap()),
    ];
    let started = Instant::now();
    let (scimd, printed) = Scimd::start(&dir, &env).await;
    assert!(
        printed
            .iter()
            .any(|l| l.contains(&format!("Tenant URL:    https://{listen}/scim/v2"))),
        "{printed:?}"
    );
    let root = pebble.root(&ca).await;
    let served = loop {
        match handshake(scimd.address, &root, rustls::DEFAULT_VERSIONS).await {
            Ok(handshake) => break handshake.served,
            Err(_) if started.elapsed() < Duration::from_secs(60) => {
                tokio::time::sleep(Duration::from_millis(250)).await
            }
            Err(e) => panic!("no certificate of Pebble's CA within a minute: {e}"),
        }
    };
    println!("certificate from Pebble after {:?}", started.elapsed());
    // and it is the certificate of every answer: SCIM's health over it
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(root.as_bytes()).unwrap())
        .build()
        .unwrap();
    let health = client
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    for file in ["account.json", "certificate.pem", "certificate-key.pem"] {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(store.join(file)).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
    }
    scimd.kill().await;

    // restarted with Pebble gone: the stored certificate at once, nothing asked
    pebble.stop().await;
    let (again, _) = Scimd::start(&dir, &env).await;
    let handshake = handshake(again.address, &root, rustls::DEFAULT_VERSIONS)
        .await
        .expect("the stored certificate, served at once");
    assert_eq!(handshake.served, served);
    again.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
}
