//! The authorization endpoint: the sign-in page Entra's "Authorize" pop-up shows, a team
//! admin's code, and every refusal — with a page and no code, or with no redirect at all (as
//! for a redirect URI registered before scimd refused it).

use super::{ENTRA, OAuthApp, PASSWORD, field, get, query_param, text};
use crate::support::{Backend, encode, execute_sql};

async fn the_sign_in_page_is_a_no_store_unframed_form_with_a_csrf_cookie(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let (page, csrf) = oauth.open(&oauth.authorize_url("")).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("form-action 'self' https://portal.azure.com"),
        "{csp}"
    );
    let cookie = page.header("set-cookie").unwrap();
    assert_eq!(
        cookie,
        format!("scimd_csrf={csrf}; Path=/oauth; HttpOnly; SameSite=Strict")
    );
    assert_eq!(csrf.len(), 64);
    let html = page.body.as_str().unwrap();
    assert!(
        html.contains("<strong>default</strong>"),
        "names the tenant"
    );
    assert!(html.contains("team admin"));
    assert!(html.contains("name=\"viewport\""), "usable at phone width");
    assert!(!html.contains("<script"), "works without JavaScript");
    assert_eq!(
        field(&page, "client_id").as_deref(),
        Some(oauth.client_id.as_str())
    );
    assert_eq!(field(&page, "state").as_deref(), Some("xyz"));
}

async fn a_team_admin_is_sent_back_to_entra_with_a_code_and_the_state(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let answer = oauth.sign_in("", "ALICE", PASSWORD).await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let location = answer.header("location").unwrap();
    assert!(
        location.starts_with(&format!("{ENTRA}?code=scimd_code_")),
        "{location}"
    );
    assert_eq!(query_param(location, "state").as_deref(), Some("xyz"));
}

async fn a_member_without_team_admin_rights_gets_the_page_again_and_no_code(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let answer = oauth.sign_in("", "bob", PASSWORD).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.header("location"), None);
    let html = text(&answer);
    assert!(
        html.contains("'bob' is not a team admin of this application; make sure the account has team admin rights"),
        "{html}"
    );
    assert!(!html.contains("scimd_code_"));
    assert_eq!(
        field(&answer, "username").as_deref(),
        Some("bob"),
        "the name is kept"
    );
}

async fn a_wrong_password_or_unknown_name_gets_the_same_message_and_no_code(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    for (user, password) in [("alice", "wrong password!!"), ("nobody", PASSWORD)] {
        let answer = oauth.sign_in("", user, password).await;
        assert_eq!(answer.status, 401);
        assert_eq!(answer.header("location"), None);
        let html = answer.body.as_str().unwrap();
        assert!(
            html.contains("the user name or the password is wrong"),
            "{html}"
        );
    }
}

async fn five_failed_sign_ins_from_one_address_hold_its_next_attempt_at_the_account(
    backend: Backend,
) {
    let oauth = OAuthApp::new(backend).await;
    for _ in 0..5 {
        oauth.sign_in("", "alice", "wrong password!!").await;
    }
    let answer = oauth.sign_in("", "alice", PASSWORD).await;
    assert_eq!(answer.status, 429, "even the right password waits");
    assert_eq!(answer.header("location"), None);
    let wait: u64 = answer.header("retry-after").unwrap().parse().unwrap();
    assert!((14 * 60..=15 * 60).contains(&wait), "{wait}");
    assert!(
        answer
            .body
            .as_str()
            .unwrap()
            .contains("too many sign-in attempts from your address; try again in 15 minutes")
    );
}

async fn a_post_without_the_csrf_cookie_gets_the_page_again(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let (_, csrf) = oauth.open(&oauth.authorize_url("")).await;
    let body = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", &oauth.client_id),
        ("redirect_uri", ENTRA),
        ("username", "alice"),
        ("password", PASSWORD),
        ("csrf", &csrf),
    ])
    .unwrap();
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/oauth/authorize")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body))
        .unwrap();
    let answer = oauth.app.send(req).await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.header("location"), None);
    assert!(
        answer
            .body
            .as_str()
            .unwrap()
            .contains("the sign-in form expired")
    );
}

async fn an_unknown_client_or_unregistered_redirect_uri_gets_an_error_page_and_no_redirect(
    backend: Backend,
) {
    let oauth = OAuthApp::new(backend).await;
    let unknown = format!(
        "/oauth/authorize?response_type=code&client_id=nope&redirect_uri={}",
        encode(ENTRA)
    );
    let elsewhere = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={}",
        oauth.client_id,
        encode("https://evil.example/cb")
    );
    for (url, says) in [
        (unknown, "no OAuth client has the client_id 'nope'"),
        (elsewhere, "is not registered for this client"),
    ] {
        let page = oauth.app.send(get(&url)).await;
        assert_eq!(page.status, 400);
        assert_eq!(page.header("location"), None);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(text(&page).contains(says), "{}", page.body);
    }
}

async fn a_redirect_uri_with_user_info_registered_before_it_was_refused_gets_no_code(
    backend: Backend,
) {
    let oauth = OAuthApp::new(backend).await;
    // stored behind scimd's back, as an older scimd let it be registered
    let hidden = "http://localhost:1@evil.example/cb";
    let statement = match backend {
        Backend::Postgres => format!("update oauth_clients set redirect_uris = array['{hidden}']"),
        Backend::Sqlite => format!("update oauth_clients set redirect_uris = '[\"{hidden}\"]'"),
    };
    execute_sql(&oauth.app.db, &[statement]).await;
    let url = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&state=xyz",
        oauth.client_id,
        encode(hidden)
    );

    let page = oauth.app.send(get(&url)).await;

    assert_eq!(page.status, 400);
    assert_eq!(page.header("location"), None);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = text(&page);
    assert!(
        html.contains(
            "redirect URI 'http://localhost:***@evil.example/cb': user-info (a name or password \
             before '@') is not allowed: it hides the host, which here is 'evil.example'; it was \
             registered before scimd refused such URIs"
        ),
        "{html}"
    );
    assert!(!html.contains("name=\"csrf\""), "no sign-in form");
}

async fn a_bad_request_from_a_known_client_goes_back_to_its_redirect_uri_as_an_error(
    backend: Backend,
) {
    let oauth = OAuthApp::new(backend).await;
    let url = format!(
        "/oauth/authorize?response_type=token&client_id={}&redirect_uri={}",
        oauth.client_id,
        encode(ENTRA)
    );
    let answer = oauth.app.send(get(&url)).await;
    assert_eq!(answer.status, 303);
    let location = answer.header("location").unwrap();
    assert!(location.starts_with(ENTRA));
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("unsupported_response_type")
    );
}

async fn the_server_metadata_names_the_endpoints_grants_and_methods(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let answer = oauth
        .app
        .send(get("/.well-known/oauth-authorization-server"))
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body,
        serde_json::json!({
            "issuer": "http://scimd.test",
            "authorization_endpoint": "http://scimd.test/oauth/authorize",
            "token_endpoint": "http://scimd.test/oauth/token",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        })
    );
}

crate::on_both_stores!(
    the_sign_in_page_is_a_no_store_unframed_form_with_a_csrf_cookie,
    a_team_admin_is_sent_back_to_entra_with_a_code_and_the_state,
    a_member_without_team_admin_rights_gets_the_page_again_and_no_code,
    a_wrong_password_or_unknown_name_gets_the_same_message_and_no_code,
    five_failed_sign_ins_from_one_address_hold_its_next_attempt_at_the_account,
    a_post_without_the_csrf_cookie_gets_the_page_again,
    an_unknown_client_or_unregistered_redirect_uri_gets_an_error_page_and_no_redirect,
    a_redirect_uri_with_user_info_registered_before_it_was_refused_gets_no_code,
    a_bad_request_from_a_known_client_goes_back_to_its_redirect_uri_as_an_error,
    the_server_metadata_names_the_endpoints_grants_and_methods,
);
