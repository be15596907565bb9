//! HTTPS on scimd's own listener (`SCIMD_TLS_CERT`, `SCIMD_TLS_KEY`), over real TLS with a
//! certificate of the test's own CA: SCIM, OAuth and the console answer with `https://` URLs,
//! `Secure` cookies and HSTS; TLS 1.2 and 1.3 are spoken with ALPN `http/1.1`, TLS 1.1 is
//! refused; a certificate replaced on disk is served to the next connection, one that does
//! not load is not; a wrong file is named at start; the plain listener only redirects.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::support::process::Scimd;
use crate::support::tls::{Issued, TestCa, tls_1_1_hello};
use crate::support::{Backend, TestDb, entra_user};

crate::on_both_stores!(
    scim_oauth_and_the_console_answer_over_https_with_the_certificate_of_the_files,
    tls_1_2_and_1_3_are_spoken_with_http_1_1_and_tls_1_1_is_refused,
    a_certificate_replaced_on_disk_is_served_to_the_next_connection_and_a_broken_one_is_not,
);

const PASSWORD: &str = "correct horse battery staple";

/// scimd serving HTTPS with a certificate of `ca` for localhost and 127.0.0.1.
struct Https {
    scimd: Scimd,
    printed: Vec<String>,
    ca: TestCa,
    issued: Issued,
    db: TestDb,
    dir: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Https {
    async fn start(backend: Backend, env: &[(&str, &str)]) -> Self {
        let db = TestDb::new(backend).await;
        let dir = scratch("scimd-https");
        let ca = TestCa::new("scimd test CA");
        let issued = ca.issue(&["localhost", "127.0.0.1"], "first");
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        issued.write(&cert, &key);
        let mut all = vec![
            ("SCIMD_DATABASE_URL", db.url.as_str()),
            ("SCIMD_TLS_CERT", cert.to_str().unwrap()),
            ("SCIMD_TLS_KEY", key.to_str().unwrap()),
        ];
        all.extend_from_slice(env);
        let (scimd, printed) = Scimd::start(&dir, &all).await;
        Self {
            scimd,
            printed,
            ca,
            issued,
            db,
            dir,
            cert,
            key,
        }
    }

    fn base(&self) -> String {
        format!("https://{}", self.scimd.address)
    }

    /// The value of a line `label value` of the first start's message.
    fn printed(&self, label: &str) -> String {
        self.printed
            .iter()
            .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("scimd printed no {label} {:?}", self.printed))
    }

    /// `scimd args` on the same database, `stdin` typed in.
    async fn cli(&self, args: &[&str], stdin: &str) -> String {
        crate::support::process::cli(&self.dir, Some(&self.db.url), args, stdin).await
    }
}

pub(super) fn scratch(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The `Set-Cookie` of `response` whose name is `name`.
fn cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no cookie {name}: {:?}", response.headers()))
}

async fn scim_oauth_and_the_console_answer_over_https_with_the_certificate_of_the_files(
    backend: Backend,
) {
    let https = Https::start(backend, &[]).await;
    let base = https.base();
    let client = https.ca.client();
    assert_eq!(https.printed("Tenant URL:"), format!("{base}/scim/v2"));
    assert!(
        https
            .printed("Setup link:")
            .starts_with(&format!("{base}/setup/")),
        "{:?}",
        https.printed
    );
    let token = https.printed("Secret Token:");

    // SCIM: https:// in Location and meta.location, from the listener alone (no PUBLIC_URL)
    let users = client
        .get(format!("{base}/scim/v2/Users"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), 200);
    assert_eq!(
        users.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let created = client
        .post(format!("{base}/scim/v2/Users"))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .body(entra_user("ada@example.com").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{base}/scim/v2/Users/")),
        "{location}"
    );
    let user: Value = serde_json::from_str(&created.text().await.unwrap()).unwrap();
    assert_eq!(user["meta"]["location"], location.as_str());

    // OAuth: an https issuer, and client credentials exchanged for a token SCIM accepts
    let metadata = client
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    let metadata: Value = serde_json::from_str(&metadata.text().await.unwrap()).unwrap();
    assert!(
        metadata["token_endpoint"]
            .as_str()
            .unwrap()
            .starts_with("https://"),
        "{metadata}"
    );
    let registered: Value = serde_json::from_str(
        &https
            .cli(
                &[
                    "oauth-client",
                    "add",
                    "--tenant",
                    "default",
                    "--redirect-uri",
                    "https://portal.example.com/callback",
                    "--json",
                ],
                "",
            )
            .await,
    )
    .unwrap();
    let granted = client
        .post(format!("{base}/oauth/token"))
        .basic_auth(
            registered["client_id"].as_str().unwrap(),
            registered["client_secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(granted.status(), 200);
    let granted: Value = serde_json::from_str(&granted.text().await.unwrap()).unwrap();
    let by_oauth = client
        .get(format!("{base}/scim/v2/Users"))
        .bearer_auth(granted["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(by_oauth.status(), 200);

    // the console: __Host- cookies marked Secure, a session that works
    https
        .cli(
            &[
                "admin",
                "add",
                "--tenant",
                "default",
                "--username",
                "alice",
                "--team-admin",
            ],
            PASSWORD,
        )
        .await;
    let page = client.get(format!("{base}/admin")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let login = cookie(&page, "__Host-scimd_login");
    assert!(
        login.contains("; Secure") && login.contains("Path=/;"),
        "{login}"
    );
    let html = page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no csrf field: {html}"));
    let signed_in = client
        .post(format!("{base}/admin/sign-in"))
        .header("cookie", format!("__Host-scimd_login={csrf}"))
        .form(&[
            ("tenant", "default"),
            ("username", "alice"),
            ("password", PASSWORD),
            ("csrf", csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let session = cookie(&signed_in, "__Host-scimd_session");
    assert!(session.contains("; Secure"), "{session}");
    let overview = client
        .get(format!("{base}/admin"))
        .header("cookie", session.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(overview.status(), 200);
    assert!(
        overview.text().await.unwrap().contains("Sign out"),
        "signed in"
    );
    https.scimd.kill().await;
    let _ = std::fs::remove_dir_all(&https.dir);
}

async fn tls_1_2_and_1_3_are_spoken_with_http_1_1_and_tls_1_1_is_refused(backend: Backend) {
    let https = Https::start(backend, &[]).await;
    let address = https.scimd.address;
    for (version, spoken) in [
        (&rustls::version::TLS12, rustls::ProtocolVersion::TLSv1_2),
        (&rustls::version::TLS13, rustls::ProtocolVersion::TLSv1_3),
    ] {
        let handshake = https.ca.handshake(address, &[version]).await.unwrap();
        assert_eq!(handshake.version, Some(spoken));
        assert_eq!(handshake.alpn.as_deref(), Some(&b"http/1.1"[..]));
        assert_eq!(handshake.served, https.issued.der);
    }
    let s_client = |version: &str| {
        let out = std::process::Command::new("openssl")
            .args(["s_client", "-connect", &address.to_string(), version])
            .args(["-cipher", "DEFAULT@SECLEVEL=0", "-servername", "localhost"])
            .stdin(Stdio::null())
            .output()
            .expect("run openssl");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    // a TLS 1.1 hello that offers all a TLS 1.2 server needs: refused for its version, with a
    // fatal protocol_version alert (RFC 5246 §7.2.2, RFC 8446 §6.2), not a dropped connection
    let alert = tls_1_1_hello(address).await.unwrap();
    assert_eq!(alert[0], 0x15, "an alert record: {alert:?}");
    assert_eq!(&alert[5..], &[2, 70], "fatal, protocol_version: {alert:?}");
    // OpenSSL's TLS 1.1 client: refused by the server's alert too (handshake_failure: a TLS
    // 1.1 hello has no signature_algorithms, which rustls looks at before the version)
    let (refused, said) = s_client("-tls1_1");
    assert!(!refused, "{said}");
    assert!(said.contains("SSL alert number 40"), "{said}");
    let (accepted, said) = s_client("-tls1_2");
    assert!(accepted && said.contains("TLSv1.2"), "{said}");
    https.scimd.kill().await;
    let _ = std::fs::remove_dir_all(&https.dir);
}

async fn a_certificate_replaced_on_disk_is_served_to_the_next_connection_and_a_broken_one_is_not(
    backend: Backend,
) {
    let https = Https::start(backend, &[]).await;
    let served = || async {
        https
            .ca
            .handshake(https.scimd.address, rustls::DEFAULT_VERSIONS)
            .await
            .unwrap()
            .served
    };
    assert_eq!(served().await, https.issued.der);
    let renewed = https.ca.issue(&["localhost", "127.0.0.1"], "renewed");
    renewed.write(&https.cert, &https.key);
    assert_eq!(served().await, renewed.der, "the renewed pair, no restart");

    // a certificate that is not PEM, then a pair that does not match: the last good pair
    std::fs::write(&https.cert, "not a certificate").unwrap();
    assert_eq!(served().await, renewed.der);
    let other = https.ca.issue(&["localhost", "127.0.0.1"], "other");
    std::fs::write(&https.cert, &other.chain_pem).unwrap();
    assert_eq!(
        served().await,
        renewed.der,
        "the key is still the renewed one's"
    );
    std::fs::write(&https.key, &other.key_pem).unwrap();
    assert_eq!(
        served().await,
        other.der,
        "both files written: the new pair"
    );
    https.scimd.kill().await;
    let _ = std::fs::remove_dir_all(&https.dir);
}

/// `scimd serve` with `env` in `dir`, expected to stop at once: its standard error.
pub(super) async fn refused_start(dir: &Path, env: &[(&str, &str)]) -> String {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimd"));
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("SCIMD_")) {
        command.env_remove(name);
    }
    let run = command
        .arg("serve")
        .current_dir(dir)
        .env("SCIMD_LISTEN", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("scimd stopped")
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    String::from_utf8(out.stderr).unwrap()
}

#[tokio::test]
async fn a_missing_unreadable_or_mismatched_pair_stops_the_start_naming_the_file() {
    let dir = scratch("scimd-https-refused");
    let ca = TestCa::new("scimd test CA");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    ca.issue(&["localhost"], "one").write(&cert, &key);
    let other = ca.issue(&["localhost"], "two");
    let other_key = dir.join("other-key.pem");
    std::fs::write(&other_key, &other.key_pem).unwrap();
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not PEM at all\n").unwrap();
    let missing = dir.join("missing.pem");
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let cases = [
        (
            path(&missing),
            path(&key),
            format!("SCIMD_TLS_CERT {}: cannot be read", path(&missing)),
        ),
        (
            path(&garbage),
            path(&key),
            format!("SCIMD_TLS_CERT {}: holds no certificate", path(&garbage)),
        ),
        (
            path(&cert),
            path(&garbage),
            format!("SCIMD_TLS_KEY {}: holds no private key", path(&garbage)),
        ),
        (
            path(&cert),
            path(&other_key),
            format!(
                "SCIMD_TLS_KEY {}: is not the key of the certificate in SCIMD_TLS_CERT {}",
                path(&other_key),
                path(&cert)
            ),
        ),
    ];
    for (cert, key, said) in cases {
        let stderr =
            refused_start(&dir, &[("SCIMD_TLS_CERT", &cert), ("SCIMD_TLS_KEY", &key)]).await;
        assert!(stderr.contains(&said), "{said}: {stderr}");
    }
    let alone = refused_start(&dir, &[("SCIMD_TLS_CERT", &path(&cert))]).await;
    assert!(
        alone.contains("--tls-key"),
        "a certificate needs its key: {alone}"
    );
    assert!(
        !dir.join("scimd.db").exists(),
        "nothing was created before the files were checked"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_plain_listener_answers_every_request_with_a_redirect_to_https() {
    let https = Https::start(
        Backend::Sqlite,
        &[("SCIMD_HTTP_REDIRECT_LISTEN", "127.0.0.1:0")],
    )
    .await;
    let plain = https
        .printed
        .iter()
        .find_map(|l| {
            l.strip_prefix("redirecting http://")?
                .strip_suffix(" to https")
        })
        .unwrap_or_else(|| panic!("no redirect listener: {:?}", https.printed))
        .to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let port = https.scimd.address.port();
    for (host, path) in [
        (
            plain.clone(),
            "/scim/v2/Users?filter=userName%20eq%20%22a%22",
        ),
        (
            format!("localhost:{}", plain.rsplit(':').next().unwrap()),
            "/admin",
        ),
    ] {
        let answer = client
            .post(format!("http://{plain}{path}"))
            .header("host", &host)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 308, "{host}{path}");
        let hostname = host.rsplit_once(':').unwrap().0;
        assert_eq!(
            answer.headers()["location"],
            format!("https://{hostname}:{port}{path}").as_str()
        );
        assert!(answer.headers().get("strict-transport-security").is_none());
    }
    // where it leads: the same request over HTTPS is served
    let redirected = https
        .ca
        .client()
        .get(format!("{}/healthz", https.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(redirected.status(), 200);
    https.scimd.kill().await;
    let _ = std::fs::remove_dir_all(&https.dir);
}
