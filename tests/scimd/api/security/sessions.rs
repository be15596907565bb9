//! What an admin's rights hold up: a console session is checked against its admin on every
//! request (the admin exists, is a team admin, has the password the session was opened with),
//! and the OAuth families an admin authorized are revoked when the admin is removed or loses
//! the team-admin right (OWASP ASVS V3.3). A new password ends the sessions but not the Entra
//! connection the admin authorized.

use axum::body::Body;
use axum::http::{Request, header};

use super::console_sign_in;
use crate::api::oauth::{OAuthApp, PASSWORD, assert_oauth_error, text};
use crate::support::cookie_pair;
use crate::support::{Backend, TestResponse};

/// Alice's console session cookie, and the access and refresh tokens of her authorization.
async fn signed_in_and_authorized(oauth: &OAuthApp) -> (String, String, String) {
    let signed = console_sign_in(&oauth.app, "192.0.2.10", ("default", "alice", PASSWORD)).await;
    assert_eq!(signed.status, 303, "{}", text(&signed));
    let cookie = cookie_pair(signed.header("set-cookie").unwrap());
    let (access, refresh) = oauth.authorized().await;
    (cookie, access, refresh)
}

async fn console(oauth: &OAuthApp, cookie: &str) -> TestResponse {
    let req = Request::get("/admin")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    oauth.app.send(req).await
}

/// Whether the console shows its overview (a session) rather than the sign-in form.
fn signed(page: &TestResponse) -> bool {
    !text(page).contains("type=\"password\"")
}

async fn refresh(oauth: &OAuthApp, token: &str) -> TestResponse {
    oauth
        .token(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .await
}

async fn a_demoted_admin_is_signed_out_and_what_they_authorized_is_revoked(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let (cookie, access, refresh_token) = signed_in_and_authorized(&oauth).await;
    assert!(signed(&console(&oauth, &cookie).await));
    assert_eq!(oauth.probe(&access).await.status, 200);
    let dir = &oauth.app.state.directory;
    dir.set_team_admin("default", "alice", false).await.unwrap();
    let page = console(&oauth, &cookie).await;
    assert!(!signed(&page));
    assert!(text(&page).contains("your session has ended; sign in again"));
    let probe = oauth.probe(&access).await;
    assert_eq!(
        probe.assert_scim_error(401, None),
        "the bearer token was revoked: issue a new token, or authorize again"
    );
    assert_oauth_error(&refresh(&oauth, &refresh_token).await, 400, "invalid_grant");
    // given the right again, the old session and tokens stay ended
    dir.set_team_admin("default", "alice", true).await.unwrap();
    assert!(!signed(&console(&oauth, &cookie).await));
    assert_eq!(oauth.probe(&access).await.status, 401);
}

async fn a_removed_admin_is_signed_out_and_what_they_authorized_is_revoked(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let (cookie, access, refresh_token) = signed_in_and_authorized(&oauth).await;
    // a client-credentials token is nobody's authorization: it outlives the admin
    let machine = oauth
        .token(&[("grant_type", "client_credentials")])
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    oauth
        .app
        .state
        .directory
        .remove_admin("default", "alice")
        .await
        .unwrap();
    assert!(!signed(&console(&oauth, &cookie).await));
    assert_eq!(oauth.probe(&access).await.status, 401);
    assert_oauth_error(&refresh(&oauth, &refresh_token).await, 400, "invalid_grant");
    assert_eq!(oauth.probe(&machine).await.status, 200);
}

async fn a_new_password_ends_the_sessions_but_not_the_entra_connection(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let (cookie, access, refresh_token) = signed_in_and_authorized(&oauth).await;
    let dir = &oauth.app.state.directory;
    dir.set_admin_password("default", "alice", "a brand new passphrase")
        .await
        .unwrap();
    assert!(!signed(&console(&oauth, &cookie).await));
    assert_eq!(oauth.probe(&access).await.status, 200);
    assert_eq!(refresh(&oauth, &refresh_token).await.status, 200);
    let again = console_sign_in(
        &oauth.app,
        "192.0.2.10",
        ("default", "alice", "a brand new passphrase"),
    )
    .await;
    assert_eq!(again.status, 303);
}

crate::on_both_stores!(
    a_demoted_admin_is_signed_out_and_what_they_authorized_is_revoked,
    a_removed_admin_is_signed_out_and_what_they_authorized_is_revoked,
    a_new_password_ends_the_sessions_but_not_the_entra_connection,
);
