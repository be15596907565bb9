//! `scimd admin invite`: the link it prints once (on `SCIMD_PUBLIC_URL`) opens the invitation
//! page of a server on the same database; inviting again replaces the link; an admin not added
//! yet is added without a password; a validity out of bounds is refused and changes nothing.

use std::process::{Command, Output};

use axum::body::Body;
use axum::http::Request;
use serde_json::Value;

use crate::support::{Backend, TestApp, TestDb};

crate::on_both_stores!(the_invite_command_prints_a_link_that_opens_the_invitation_page_once,);

/// `scimd args` on the database at `url`, reached at https://scim.example.com.
fn scimd(url: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scimd"));
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("SCIMD_")) {
        command.env_remove(name);
    }
    command
        .args(args)
        .env("SCIMD_DATABASE_URL", url)
        .env("SCIMD_PUBLIC_URL", "https://scim.example.com")
        .env("USER", "ops-alice")
        .output()
        .expect("run scimd")
}

#[track_caller]
fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

async fn status_of(app: &TestApp, url: &str) -> u16 {
    let path = url.strip_prefix("https://scim.example.com").expect(url);
    let req = Request::get(path).body(Body::empty()).unwrap();
    app.send(req).await.status.as_u16()
}

async fn the_invite_command_prints_a_link_that_opens_the_invitation_page_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::on(db.replica()).await;
    succeeded(&scimd(&db.url, &["tenant", "create", "contoso"]));
    let invite = [
        "admin",
        "invite",
        "--tenant",
        "contoso",
        "--username",
        "grace",
        "--team-admin",
        "--expires",
        "3d",
        "--json",
    ];
    let first: Value = serde_json::from_str(&succeeded(&scimd(&db.url, &invite))).unwrap();
    let url = first["invitation_url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with("https://scim.example.com/admin/invitation/scimd_inv_"),
        "{first}"
    );
    assert_eq!(first["username"], "grace");
    let admins = app.state.directory.admins("contoso").await.unwrap();
    assert_eq!(admins.len(), 1);
    assert!(admins[0].team_admin);
    assert_eq!(status_of(&app, &url).await, 200);

    let plain = succeeded(&scimd(&db.url, &invite[..6]));
    let second = plain.lines().last().unwrap().trim().to_owned();
    assert!(
        second.starts_with("https://scim.example.com/admin/invitation/"),
        "{plain}"
    );
    assert_ne!(second, url);
    assert_eq!(status_of(&app, &url).await, 404);
    assert_eq!(status_of(&app, &second).await, 200);

    let mut too_long = invite;
    too_long[8] = "31d";
    let refused = scimd(&db.url, &too_long);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("expires_in"),
        "{refused:?}"
    );
    assert_eq!(status_of(&app, &second).await, 200);
    let entries = app
        .state
        .directory
        .audit(&scimd::domain::audit::AuditFilter {
            tenant: Some("contoso".into()),
            before: None,
            limit: 10,
        })
        .await
        .unwrap();
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.actor.name.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("admin.invite", "ops-alice"),
            ("admin.invite", "ops-alice"),
            ("admin.add", "ops-alice"),
            ("tenant.create", "ops-alice"),
        ]
    );
}
