//! Cookies over TLS are `Secure` and `__Host-` prefixed (so that neither a sibling domain nor
//! plain HTTP can plant one), whether TLS ends at scimd or at a trusted proxy that says so in
//! `X-Forwarded-Proto`; a client cannot claim TLS for itself.

use axum::body::Body;
use axum::http::{Request, header};

use super::{PASSWORD, PROXY, from_peer, proxied_app};
use crate::api::oauth::{ENTRA, field, text};
use crate::support::cookie_pair;
use crate::support::{Backend, TestApp, TestResponse, encode};

async fn page(app: &TestApp, peer: &str, proto: &str, cookie: Option<&str>) -> TestResponse {
    let mut req = Request::get("/admin").header("x-forwarded-proto", proto);
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    app.send(from_peer(req.body(Body::empty()).unwrap(), peer))
        .await
}

async fn behind_a_trusted_proxy_over_tls_console_cookies_are_secure_and_host_prefixed(
    backend: Backend,
) {
    let app = proxied_app(backend).await;
    let login = page(&app, PROXY, "https", None).await;
    let set = login.header("set-cookie").unwrap();
    let csrf = field(&login, "csrf").unwrap();
    assert_eq!(
        set,
        format!("__Host-scimd_login={csrf}; Path=/; HttpOnly; SameSite=Strict; Secure")
    );
    let form = serde_urlencoded::to_string([
        ("tenant", "default"),
        ("username", "alice"),
        ("password", PASSWORD),
        ("csrf", &csrf),
    ])
    .unwrap();
    let post = |cookie: String| {
        Request::post("/admin/sign-in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("x-forwarded-proto", "https")
            .header(header::COOKIE, cookie)
            .body(Body::from(form.clone()))
            .unwrap()
    };
    // the plain-named cookie is not the login cookie of a TLS request
    let plain = app
        .send(from_peer(post(format!("scimd_login={csrf}")), PROXY))
        .await;
    assert_eq!(plain.status, 403);
    let signed = app.send(from_peer(post(cookie_pair(set)), PROXY)).await;
    assert_eq!(signed.status, 303, "{}", text(&signed));
    let session = signed.header("set-cookie").unwrap();
    assert!(
        session.starts_with("__Host-scimd_session=scimd_s_")
            && session.ends_with("; Path=/; HttpOnly; SameSite=Lax; Secure"),
        "{session}"
    );
    let overview = page(&app, PROXY, "https", Some(&cookie_pair(session))).await;
    assert!(!text(&overview).contains("type=\"password\""), "signed in");
    let value = cookie_pair(session).replace("__Host-", "");
    let unprefixed = page(&app, PROXY, "https", Some(&value)).await;
    assert!(
        text(&unprefixed).contains("type=\"password\""),
        "not a session"
    );
}

async fn a_client_that_claims_tls_itself_gets_plain_cookies(backend: Backend) {
    let app = proxied_app(backend).await;
    let login = page(&app, "198.51.100.9:5555", "https", None).await;
    let set = login.header("set-cookie").unwrap();
    assert!(
        set.starts_with("scimd_login=")
            && set.ends_with("; Path=/admin; HttpOnly; SameSite=Strict"),
        "{set}"
    );
}

async fn the_authorize_page_csrf_cookie_is_host_prefixed_behind_tls(backend: Backend) {
    let app = proxied_app(backend).await;
    let dir = &app.state.directory;
    let client = dir
        .add_client("default", &[ENTRA.to_owned()])
        .await
        .unwrap();
    let url = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={}",
        client.client.client_id,
        encode(ENTRA)
    );
    let open = |peer: &str| {
        from_peer(
            Request::get(&url)
                .header("x-forwarded-proto", "https")
                .body(Body::empty())
                .unwrap(),
            peer,
        )
    };
    let behind_tls = app.send(open(PROXY)).await;
    let csrf = field(&behind_tls, "csrf").unwrap();
    assert_eq!(
        behind_tls.header("set-cookie"),
        Some(
            format!("__Host-scimd_csrf={csrf}; Path=/; HttpOnly; SameSite=Strict; Secure").as_str()
        )
    );
    let direct = app.send(open("198.51.100.9:5555")).await;
    let set = direct.header("set-cookie").unwrap();
    assert!(
        set.starts_with("scimd_csrf=") && set.ends_with("; Path=/oauth; HttpOnly; SameSite=Strict"),
        "{set}"
    );
}

crate::on_both_stores!(
    behind_a_trusted_proxy_over_tls_console_cookies_are_secure_and_host_prefixed,
    a_client_that_claims_tls_itself_gets_plain_cookies,
    the_authorize_page_csrf_cookie_is_host_prefixed_behind_tls,
);
