//! A real browser through Entra's "Authorize" pop-up: headless Chromium, driven over WebDriver
//! (chromedriver), opens scimd's authorization URL, a team admin types their credentials and
//! clicks, and the browser lands on the redirect URI with a code that the token endpoint
//! exchanges. The admin and the client are made with the `scimd` CLI, as an operator would.
//! Chromium and chromedriver are Debian's packages, which `.ci/run` installs; without them the
//! test fails and says so.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::support::process::Scimd;

const TOKEN: &str = "browser-test-token-0123456789";
const PASSWORD: &str = "correct horse battery staple";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_admin_authorizes_in_a_real_browser_and_lands_on_the_redirect_uri_with_a_code() {
    let dir = std::env::temp_dir().join(format!("scimd-browser-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let env = [("SCIMD_BOOTSTRAP_TOKEN", TOKEN)];
    let (scimd, _) = Scimd::start(&dir, &env).await;
    let receiver = receiver().await;
    let redirect = format!("http://{receiver}/callback");

    let added = cli(
        &dir,
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
    assert!(
        added.contains("added admin alice to tenant default (team admin"),
        "{added}"
    );
    let client: Value = serde_json::from_str(
        &cli(
            &dir,
            &[
                "oauth-client",
                "add",
                "--tenant",
                "default",
                "--redirect-uri",
                &redirect,
                "--json",
            ],
            "",
        )
        .await,
    )
    .unwrap();
    let client_id = client["client_id"].as_str().unwrap();
    let secret = client["client_secret"].as_str().unwrap();

    let (_driver, browser) = chromium(412, 860).await;

    let url = format!(
        "http://{}/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}&state=s123",
        scimd.address,
        crate::support::encode(&redirect)
    );
    browser.goto(&url).await.unwrap();
    let heading = browser
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(heading, "Sign in to authorize");
    let shot = browser.screenshot().await.unwrap();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("oauth-sign-in.png");
    std::fs::write(&path, &shot).unwrap();
    assert!(
        shot.starts_with(b"\x89PNG"),
        "a PNG screenshot at {}",
        path.display()
    );

    browser
        .find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys("alice")
        .await
        .unwrap();
    browser
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    browser
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    let landed = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            let at = browser.current_url().await.unwrap();
            if at.as_str().starts_with(&redirect) {
                return at;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the browser reached the redirect URI");
    let params: Vec<(String, String)> = landed.query_pairs().into_owned().collect();
    let code = params
        .iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.clone())
        .expect("a code");
    assert!(
        params.contains(&("state".into(), "s123".into())),
        "{params:?}"
    );
    let page = browser
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(page, "authorized");
    browser.close().await.unwrap();

    let body = serde_urlencoded::to_string([
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", &redirect),
        ("client_id", client_id),
        ("client_secret", secret),
    ])
    .unwrap();
    let tokens = scimd.form("/oauth/token", &body).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let tokens: Value = serde_json::from_str(&tokens.body).unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let users = scimd.request("GET", "/scim/v2/Users", access, "").await;
    assert_eq!(users.status, 200, "{}", users.body);
    scimd.kill().await;
    std::fs::remove_dir_all(&dir).ok();
}

/// A headless Chromium of `width` × `height` pixels, driven through its own chromedriver.
pub async fn chromium(width: u32, height: u32) -> (Driver, fantoccini::Client) {
    let driver = chromedriver().await;
    let size = format!("--window-size={width},{height}");
    let mut chrome = json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", size]});
    if std::path::Path::new("/usr/bin/chromium").exists() {
        chrome["binary"] = json!("/usr/bin/chromium");
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), chrome);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let browser = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://{}", driver.address))
        .await
        .expect("a WebDriver session with headless Chromium");
    (driver, browser)
}

/// Runs `scimd <args>` on the test's SQLite file with `stdin`; its standard output.
pub async fn cli(dir: &std::path::Path, args: &[&str], stdin: &str) -> String {
    crate::support::process::cli(dir, None, args, stdin).await
}

/// The redirect URI's server: answers every request with the page "authorized".
async fn receiver() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app =
        axum::Router::new().fallback(|| async { axum::response::Html("<body>authorized</body>") });
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

/// A chromedriver on a free port, killed with the test.
pub struct Driver {
    pub address: SocketAddr,
    _child: tokio::process::Child,
}

pub async fn chromedriver() -> Driver {
    let program =
        std::env::var("SCIMD_TEST_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(&program)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {program} ({e}): install Debian's chromium and chromium-driver (.ci/run does), or set SCIMD_TEST_CHROMEDRIVER")
        });
    let address: SocketAddr = ([127, 0, 0, 1], port).into();
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(address).await.is_ok() {
            return Driver {
                address,
                _child: child,
            };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{program} did not listen on {address} within 10 s");
}
