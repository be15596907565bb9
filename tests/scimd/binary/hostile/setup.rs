//! What the hostile run starts from, made as an operator and a client would: `scimd serve`
//! behind a trusted proxy (127.0.0.1, where the run's clients connect from) with a metrics
//! token; with the CLI a team admin, a second tenant with its own token, an OAuth client and a
//! webhook in each tenant; over SCIM a user and a group in each; a console session opened
//! by a valid sign-in, and an operator account's session of the operator page. The ids and secrets of all of it are what the run aims at.

use std::net::SocketAddr;
use std::process::Stdio;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::binary::events::Setup;
use crate::support::process::Scimd;
use crate::support::wire::{Answer, Connection};
use crate::support::{METRICS_TOKEN, TOKEN};

pub const PASSWORD: &str = "correct horse battery staple";
/// The OAuth clients' redirect URI: a loopback address, where nothing listens.
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";
/// The webhooks' URL: a loopback address, where nothing listens.
const HOOK: &str = "http://127.0.0.1:1/events";

/// The ids and secrets the run aims at.
#[derive(Debug, Clone)]
pub struct Known {
    /// The first tenant's (`default`) user and group.
    pub user: String,
    pub group: String,
    /// The second tenant's (`other`) token, user, group, token id, client and webhook.
    pub other_token: String,
    pub other_user: String,
    pub other_group: String,
    pub other_token_id: String,
    pub other_client: (String, String),
    pub other_webhook: String,
    /// The other tenant's user and group as they were read before the run.
    pub other_seeds: Vec<(String, Value)>,
    /// The first tenant's OAuth client (id, secret) and webhook.
    pub client: (String, String),
    pub webhook: String,
    /// The console session of `alice` (the `Cookie` pair) and its CSRF token.
    pub session: String,
    pub session_csrf: String,
    /// An operator key of the application's API.
    pub operator_key: String,
    /// The path of a setup link of tenant `other` (`/setup/scimd_setup_…`).
    pub setup_link: String,
    /// The operator page's session of operator account `olivia` (the `Cookie` pair).
    pub operator_session: String,
}

/// `scimd serve` on a fresh database of `setup`, trusting 127.0.0.1 as a proxy.
pub async fn serve(setup: &Setup) -> Scimd {
    setup
        .serve(&[
            ("SCIMD_TRUSTED_PROXIES", "127.0.0.1"),
            ("SCIMD_METRICS_TOKEN", METRICS_TOKEN),
        ])
        .await
}

/// Everything [`Known`] names, made through the CLI and over HTTP.
pub async fn prepare(setup: &Setup, address: SocketAddr) -> Known {
    add_admin(setup).await;
    setup.ok(&["tenant", "create", "other"]).await;
    let issued = setup.run(&["token", "issue", "--tenant", "other"]).await;
    assert!(issued.status.success(), "{issued:?}");
    let other_token = String::from_utf8(issued.stdout).unwrap().trim().to_owned();
    let other_token_id = String::from_utf8_lossy(&issued.stderr)
        .split_whitespace()
        .nth(2)
        .unwrap()
        .to_owned();
    let (user, group) = seed(address, TOKEN, "default").await;
    let (other_user, other_group) = seed(address, &other_token, "other").await;
    let (session, session_csrf) = console_session(address).await;
    let mut other_seeds = Vec::new();
    for path in [
        format!("/scim/v2/Users/{other_user}"),
        format!("/scim/v2/Groups/{other_group}"),
    ] {
        let (status, body) = scim(address, ("GET", &path), &other_token, None).await;
        assert_eq!(status, 200, "{body}");
        other_seeds.push((path, body));
    }
    Known {
        other_seeds,
        user,
        group,
        other_user,
        other_group,
        other_token_id,
        other_client: client(setup, "other").await,
        other_webhook: webhook(setup, "other").await,
        other_token,
        client: client(setup, "default").await,
        webhook: webhook(setup, "default").await,
        session,
        session_csrf,
        operator_key: operator_key(setup).await,
        setup_link: setup_link(setup).await,
        operator_session: operator_session(setup, address).await,
    }
}

/// A link made by `scimd setup-link create` for tenant `other`: its path.
async fn setup_link(setup: &Setup) -> String {
    let made = setup
        .ok(&["setup-link", "create", "--tenant", "other", "--json"])
        .await;
    let made: Value = serde_json::from_str(&made).unwrap();
    let url = made["url"].as_str().unwrap();
    url[url.find("/setup/").unwrap()..].to_owned()
}

/// A key made by `scimd operator-key add`.
async fn operator_key(setup: &Setup) -> String {
    let added = setup
        .run(&["operator-key", "add", "--name", "hostile"])
        .await;
    assert!(added.status.success(), "{added:?}");
    String::from_utf8(added.stdout).unwrap().trim().to_owned()
}

/// Team admin `alice` of tenant `default`, her password on standard input.
async fn add_admin(setup: &Setup) {
    let args = [
        "admin",
        "add",
        "--tenant",
        "default",
        "--username",
        "alice",
        "--team-admin",
    ];
    with_password(setup, &args).await;
}

/// Operator account `olivia`, added by `scimd operator-account add`, signed in to the
/// operator page: her session cookie.
async fn operator_session(setup: &Setup, address: SocketAddr) -> String {
    with_password(setup, &["operator-account", "add", "olivia"]).await;
    let page = call(
        address,
        b"GET /operator HTTP/1.1\r\nHost: scimd.test\r\n\r\n",
    )
    .await;
    let (cookie, csrf) = csrf_pair(&page).expect("the sign-in form");
    let form = serde_urlencoded::to_string([
        ("username", "olivia"),
        ("password", PASSWORD),
        ("csrf", &csrf),
    ])
    .unwrap();
    let request = format!(
        "POST /operator/sign-in HTTP/1.1\r\nHost: scimd.test\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    let signed = call(address, request.as_bytes()).await;
    assert_eq!(signed.status, 303, "{}", signed.text());
    let session = signed
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    let request =
        format!("GET /operator HTTP/1.1\r\nHost: scimd.test\r\nCookie: {session}\r\n\r\n");
    let shown = call(address, request.as_bytes()).await;
    assert_eq!(shown.status, 200, "{}", shown.text());
    assert!(shown.text().contains("Sign out olivia"), "{}", shown.text());
    session
}

/// `scimd args`, the password on standard input; it must succeed.
async fn with_password(setup: &Setup, args: &[&str]) {
    let mut command = setup.command(args);
    command.stdin(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(PASSWORD.as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success(), "{out:?}");
}

async fn client(setup: &Setup, tenant: &str) -> (String, String) {
    let args = [
        "oauth-client",
        "add",
        "--tenant",
        tenant,
        "--redirect-uri",
        REDIRECT,
        "--json",
    ];
    let added: Value = serde_json::from_str(&setup.ok(&args).await).unwrap();
    (
        added["client_id"].as_str().unwrap().to_owned(),
        added["client_secret"].as_str().unwrap().to_owned(),
    )
}

async fn webhook(setup: &Setup, tenant: &str) -> String {
    let args = [
        "webhook", "add", "--tenant", tenant, "--url", HOOK, "--json",
    ];
    let added: Value = serde_json::from_str(&setup.ok(&args).await).unwrap();
    added["id"].as_str().unwrap().to_owned()
}

/// One request on a fresh connection, which must be answered.
pub async fn call(address: SocketAddr, request: &[u8]) -> Answer {
    let mut connection = Connection::open(address).await.unwrap();
    connection.exchange(request, false).await.unwrap()
}

/// A SCIM request with `token`: status and JSON body.
pub async fn scim(
    address: SocketAddr,
    (method, path): (&str, &str),
    token: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: scimd.test\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = call(address, request.as_bytes()).await;
    let json = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    (answer.status, json)
}

/// A user and a group with the user as member, in the tenant of `token`.
async fn seed(address: SocketAddr, token: &str, tenant: &str) -> (String, String) {
    let user = json!({"userName": format!("seed@{tenant}"), "displayName": "Seed"});
    let (status, user) = scim(address, ("POST", "/scim/v2/Users"), token, Some(&user)).await;
    assert_eq!(status, 201, "{user}");
    let user = user["id"].as_str().unwrap().to_owned();
    let group = json!({"displayName": format!("seeds of {tenant}"), "members": [{"value": user}]});
    let (status, group) = scim(address, ("POST", "/scim/v2/Groups"), token, Some(&group)).await;
    assert_eq!(status, 201, "{group}");
    (user, group["id"].as_str().unwrap().to_owned())
}

/// The CSRF pair of the page at `path`: its cookie (`name=value`) and its form's field.
pub fn csrf_pair(answer: &Answer) -> Option<(String, String)> {
    let cookie = answer
        .headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.split(';').next().unwrap_or_default().to_owned())
        .find(|c| c.contains("_csrf=") || c.contains("_login=") || c.contains("_setup="))?;
    let body = answer.text();
    let at = body.find("name=\"csrf\" value=\"")? + 19;
    let field = body[at..].split('"').next()?.to_owned();
    Some((cookie, field))
}

/// Alice's console session: the sign-in form's pair, the form posted, the session cookie, and
/// the CSRF token of the session's forms.
async fn console_session(address: SocketAddr) -> (String, String) {
    let page = call(address, b"GET /admin HTTP/1.1\r\nHost: scimd.test\r\n\r\n").await;
    let (cookie, csrf) = csrf_pair(&page).expect("the sign-in form");
    let form = serde_urlencoded::to_string([
        ("tenant", "default"),
        ("username", "alice"),
        ("password", PASSWORD),
        ("csrf", &csrf),
    ])
    .unwrap();
    let request = format!(
        "POST /admin/sign-in HTTP/1.1\r\nHost: scimd.test\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    let signed = call(address, request.as_bytes()).await;
    assert_eq!(signed.status, 303, "{}", signed.text());
    let session = signed
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    let request =
        format!("GET /admin/connection HTTP/1.1\r\nHost: scimd.test\r\nCookie: {session}\r\n\r\n");
    let connection = call(address, request.as_bytes()).await;
    assert_eq!(connection.status, 200, "{}", connection.text());
    let body = connection.text();
    let at = body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = body[at..].split('"').next().unwrap().to_owned();
    (session, csrf)
}
