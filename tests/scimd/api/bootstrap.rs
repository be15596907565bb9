//! `SCIMD_BOOTSTRAP_TOKEN`: applied at every start without undoing an operator's revocation,
//! and replaced, not added to, when it changes.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::support::{Backend, TOKEN, TestApp, TestDb, settings};

const NEXT: &str = "next-bootstrap-token-0123456789";

/// The status of `GET /Users` with `token`.
async fn status(app: &TestApp, token: &str) -> StatusCode {
    let req = Request::get("/scim/v2/Users")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    app.send(req).await.status
}

/// `db` restarted with `token` as its bootstrap token.
async fn restart(db: TestDb, token: &str) -> TestApp {
    let mut config = settings(&db.url);
    config.bootstrap_token = Some(token.parse().unwrap());
    TestApp::configured(db, config).await
}

async fn a_revoked_bootstrap_token_stays_revoked_after_a_restart(backend: Backend) {
    let app = TestApp::new(backend).await;
    assert_eq!(status(&app, TOKEN).await, StatusCode::OK);
    let dir = &app.state.directory;
    let [bootstrap] = dir.tokens("default").await.unwrap().try_into().unwrap();
    dir.revoke_token(bootstrap.id).await.unwrap();
    let TestApp { db, .. } = app;

    let restarted = restart(db, TOKEN).await;
    assert_eq!(status(&restarted, TOKEN).await, StatusCode::UNAUTHORIZED);
    let [after] = restarted
        .state
        .directory
        .tokens("default")
        .await
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(after.id, bootstrap.id);
    assert!(after.revoked.is_some(), "{after:?}");
}

async fn a_new_bootstrap_token_revokes_the_previous_one(backend: Backend) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    let issued = dir.issue_token("default", Some("entra")).await.unwrap();
    let TestApp { db, .. } = app;

    let restarted = restart(db, NEXT).await;
    assert_eq!(status(&restarted, TOKEN).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(&restarted, NEXT).await, StatusCode::OK);
    assert_eq!(
        status(&restarted, &issued.token).await,
        StatusCode::OK,
        "tokens issued by operators are not the bootstrap token's to revoke"
    );
    let tokens = restarted.state.directory.tokens("default").await.unwrap();
    let states: Vec<(Option<&str>, bool)> = tokens
        .iter()
        .map(|t| (t.label.as_deref(), t.revoked.is_some()))
        .collect();
    assert_eq!(
        states,
        [
            (Some("bootstrap"), true),
            (Some("entra"), false),
            (Some("bootstrap"), false)
        ]
    );
}

async fn the_bootstrap_label_is_reserved(backend: Backend) {
    let app = TestApp::new(backend).await;
    let err = app
        .state
        .directory
        .issue_token("default", Some("Bootstrap"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the label 'bootstrap' is reserved for SCIMD_BOOTSTRAP_TOKEN"
    );
}

crate::on_both_stores!(
    a_revoked_bootstrap_token_stays_revoked_after_a_restart,
    a_new_bootstrap_token_revokes_the_previous_one,
    the_bootstrap_label_is_reserved,
);
