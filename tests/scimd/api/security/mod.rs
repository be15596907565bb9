//! What an attacker can and cannot make scimd do (issue 21's findings, one file each): the
//! sign-in throttle, `/metrics`, the activity log's notes, console sessions and OAuth families,
//! cookies behind a trusted proxy, OAuth's fixed issuer and S256, NUL characters in every
//! kind of field, and the answers to requests refused before their handler runs. Requests
//! carry the peer a listener would give them, and trusted proxies report clients in
//! `X-Forwarded-For`.

mod activity;
mod cookies;
mod metrics;
mod nul;
mod oauth;
mod rejections;
mod sessions;
mod sign_ins;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};

use crate::api::oauth::field;
use crate::support::cookie_pair;
use crate::support::{Backend, TestApp, TestDb, TestResponse, settings};

pub const PASSWORD: &str = "correct horse battery staple";
/// The proxy every request of [`proxied_app`] comes from.
pub const PROXY: &str = "10.9.8.7:4711";

/// A test app behind a trusted proxy (10.0.0.0/8), with team admin `alice` and member `bob`
/// in tenant `default`.
pub async fn proxied_app(backend: Backend) -> TestApp {
    let db = TestDb::new(backend).await;
    let mut config = settings(&db.url);
    config.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    let app = TestApp::configured(db, config).await;
    let dir = &app.state.directory;
    dir.add_admin("default", "alice", PASSWORD, true)
        .await
        .unwrap();
    dir.add_admin("default", "bob", PASSWORD, false)
        .await
        .unwrap();
    app
}

/// `req` as it reaches scimd from `peer` (the listener puts the peer on every request).
pub fn from_peer(mut req: Request<Body>, peer: &str) -> Request<Body> {
    let peer: SocketAddr = peer.parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    req
}

/// The sign-in form of the console, posted by `client` through the trusted proxy (with the
/// login cookie of a page it opened), or straight from `client` when `client` is a socket
/// address.
pub async fn console_sign_in(
    app: &TestApp,
    client: &str,
    (tenant, user, password): (&str, &str, &str),
) -> TestResponse {
    let (csrf, cookie) = login_form(app).await;
    sign_in_with(app, client, &csrf, &cookie, (tenant, user, password)).await
}

/// The console's sign-in page: its CSRF field and the cookie that goes with it.
pub async fn login_form(app: &TestApp) -> (String, String) {
    let page = app
        .send(from_peer(
            Request::get("/admin").body(Body::empty()).unwrap(),
            PROXY,
        ))
        .await;
    let csrf = field(&page, "csrf").unwrap();
    let cookie = cookie_pair(page.header("set-cookie").unwrap());
    (csrf, cookie)
}

/// Posts the sign-in form with a CSRF token and cookie already had.
pub async fn sign_in_with(
    app: &TestApp,
    client: &str,
    csrf: &str,
    cookie: &str,
    (tenant, user, password): (&str, &str, &str),
) -> TestResponse {
    let body = serde_urlencoded::to_string([
        ("tenant", tenant),
        ("username", user),
        ("password", password),
        ("csrf", csrf),
    ])
    .unwrap();
    let req = Request::post("/admin/sign-in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .header("x-forwarded-for", client)
        .body(Body::from(body))
        .unwrap();
    app.send(from_peer(req, PROXY)).await
}
