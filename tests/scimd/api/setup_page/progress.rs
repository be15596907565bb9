//! The setup page's progress over HTTP: the first team admin made from the page, the first
//! cycle's refusals grouped by cause with the fix and the schema registered from them, a link
//! that reaches its own tenant only, and a credential revoked after the connection.

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::json;

use super::{CONTOSO, audit, class_of, get, open, post, probe, scim_post, secret, with_link};
use crate::api::oauth::text;
use crate::support::{Backend, entra_user};
use scimd::service::PolicyChange;

async fn the_first_team_admin_is_created_from_the_page_and_only_the_first(backend: Backend) {
    let (app, path) = with_link(backend).await;
    let (page, v) = open(&app, &path).await;
    assert!(text(&page).contains("id=\"team-admin-form\""));
    assert!(
        text(&page).contains("http://scimd.test/oauth/authorize"),
        "{}",
        text(&page)
    );
    let admin = format!("{path}/admin");
    let pw = "correct horse battery staple";
    let mismatch = post(
        &app,
        &admin,
        &v.cookie,
        &[
            ("csrf", &v.csrf),
            ("username", "ines"),
            ("password", pw),
            ("confirm", "other"),
        ],
    )
    .await;
    assert_eq!(mismatch.status, 422);
    assert!(text(&mismatch).contains("The two passwords are not the same."));
    let short = post(
        &app,
        &admin,
        &v.cookie,
        &[
            ("csrf", &v.csrf),
            ("username", "ines"),
            ("password", "short"),
            ("confirm", "short"),
        ],
    )
    .await;
    assert_eq!(short.status, 422, "{}", text(&short));
    assert!(app.state.directory.admins("acme").await.unwrap().is_empty());

    let made = post(
        &app,
        &admin,
        &v.cookie,
        &[
            ("csrf", &v.csrf),
            ("username", "ines"),
            ("password", pw),
            ("confirm", pw),
        ],
    )
    .await;
    assert_eq!(made.status, 200, "{}", text(&made));
    assert!(text(&made).contains("Team admin ines is created"));
    assert!(text(&made).contains("Team admins: <strong>ines</strong>"));
    assert!(!text(&made).contains("id=\"team-admin-form\""));
    let admins = app.state.directory.admins("acme").await.unwrap();
    assert_eq!(admins.len(), 1);
    assert!(admins[0].team_admin && admins[0].username == "ines");

    let second = post(
        &app,
        &admin,
        &v.cookie,
        &[
            ("csrf", &v.csrf),
            ("username", "mallory"),
            ("password", pw),
            ("confirm", pw),
        ],
    )
    .await;
    assert_eq!(second.status, 422);
    assert!(
        text(&second).contains("this tenant has a team admin already"),
        "{}",
        text(&second)
    );
    assert_eq!(app.state.directory.admins("acme").await.unwrap().len(), 1);
    let trail = audit(&app).await;
    assert!(
        trail.iter().any(|(a, who, d)| a == "admin.add"
            && who.starts_with("setup_link acme/")
            && d.as_deref() == Some("team_admin")),
        "{trail:?}"
    );
}

async fn the_first_cycles_refusals_are_grouped_by_cause_with_the_fix(backend: Backend) {
    let (app, path) = with_link(backend).await;
    let dir = &app.state.directory;
    let rules = PolicyChange {
        require_role: Some(true),
        ..Default::default()
    };
    dir.set_policy("acme", &rules).await.unwrap();
    let (_, v) = open(&app, &path).await;
    let made = post(
        &app,
        &format!("{path}/token"),
        &v.cookie,
        &[("csrf", &v.csrf)],
    )
    .await;
    let token = secret(&made);
    assert_eq!(probe(&app, &token).await.status, 200);

    let user = |name: &str, role: bool| {
        let mut u = entra_user(name);
        u["externalId"] = json!(name);
        if role {
            u["roles"] = json!([{"value": "member", "primary": true}]);
        }
        u
    };
    for name in ["a@acme.test", "b@acme.test", "c@acme.test"] {
        let r = scim_post(&app, &token, "/scim/v2/Users", user(name, false)).await;
        r.assert_scim_error(400, Some("invalidValue"));
    }
    let mut with_badge = user("d@acme.test", true);
    with_badge["schemas"]
        .as_array_mut()
        .unwrap()
        .push(json!(CONTOSO));
    with_badge[CONTOSO] = json!({"badge": "42", "floor": "3"});
    assert_eq!(
        scim_post(&app, &token, "/scim/v2/Users", with_badge)
            .await
            .status,
        201
    );
    let dup = scim_post(&app, &token, "/scim/v2/Users", user("d@acme.test", true)).await;
    dup.assert_scim_error(409, Some("uniqueness"));

    let running = get(&app, &format!("{path}/progress"), &v).await;
    assert_eq!(class_of(&running, "step-first-user"), "step done");
    assert_eq!(class_of(&running, "step-first-cycle"), "step waiting");
    assert!(
        text(&running).contains("So far: 1 created, 0 updated, 0 disabled, 0 deleted, 4 refused"),
        "{}",
        text(&running)
    );

    dir.clock().advance(std::time::Duration::from_secs(3600));
    let ended = get(&app, &format!("{path}/progress"), &v).await;
    let shown = text(&ended);
    assert_eq!(class_of(&ended, "step-first-cycle"), "step done");
    assert!(
        shown.contains(
            "The first cycle ended: 1 created, 0 updated, 0 disabled, 0 deleted, 4 refused."
        ),
        "{shown}"
    );
    let no_role = shown
        .find("3 users have no role (Default Access)")
        .expect(&shown);
    let repeats = shown
        .find("the matching attribute userName repeats: 1 user shares")
        .expect(&shown);
    assert!(no_role < repeats, "most frequent first");
    assert!(shown.contains("Select a role"), "{shown}");
    assert!(
        shown.contains(&format!(
            "<code>badge, floor</code> under <code>{CONTOSO}</code>"
        )),
        "{shown}"
    );
    assert!(
        !ended.body.as_str().unwrap().contains("data-waiting"),
        "nothing waits: no more refreshes"
    );

    let urn_field = [("csrf", v.csrf.as_str()), ("urn", CONTOSO)];
    let registered = post(&app, &format!("{path}/schema"), &v.cookie, &urn_field).await;
    assert_eq!(registered.status, 200, "{}", text(&registered));
    assert!(text(&registered).contains(&format!("{CONTOSO} is registered with badge, floor")));
    let schemas = dir.schemas_of("acme").await.unwrap();
    assert_eq!(schemas.len(), 1);
    let names: Vec<&str> = schemas[0]
        .schema
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["badge", "floor"]);
    let unknown_urn = post(
        &app,
        &format!("{path}/schema"),
        &v.cookie,
        &[("csrf", &v.csrf), ("urn", "urn:x:y:2.0:User")],
    )
    .await;
    assert_eq!(unknown_urn.status, 422);
    assert_eq!(dir.schemas_of("acme").await.unwrap().len(), 1);
}

async fn a_link_reaches_its_own_tenant_only_and_parallel_tokens_leave_one_valid(backend: Backend) {
    let (app, path) = with_link(backend).await;
    let dir = &app.state.directory;
    // tenant default is connected (the bootstrap token) and has users: acme's page shows none of it
    assert_eq!(
        app.post("/scim/v2/Users", entra_user("x@default.test"))
            .await
            .status,
        201
    );
    let (page, v) = open(&app, &path).await;
    assert_eq!(class_of(&page, "step-test-connection"), "step waiting");
    assert!(!text(&page).contains("default"), "{}", text(&page));

    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (router, cookie, csrf) = (app.router.clone(), v.cookie.clone(), v.csrf.clone());
        let to = format!("{path}/token");
        tasks.push(tokio::spawn(async move {
            let body = serde_urlencoded::to_string([("csrf", csrf)]).unwrap();
            let req = Request::post(to)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, cookie)
                .body(Body::from(body))
                .unwrap();
            crate::support::send(&router, req).await
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert!(
        answers.iter().all(|a| a.status == 200),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    let tokens = dir.tokens("acme").await.unwrap();
    assert_eq!(tokens.len(), 8);
    let mut valid = 0;
    for a in &answers {
        if probe(&app, &secret(a)).await.status == 200 {
            valid += 1;
        }
    }
    assert!(valid >= 1, "the last token made is valid");
    assert_eq!(tokens.iter().filter(|t| t.revoked.is_none()).count(), valid);
    assert!(
        dir.tokens("default")
            .await
            .unwrap()
            .iter()
            .all(|t| t.label.as_deref() != Some("setup page"))
    );
}

async fn a_credential_that_stops_working_after_the_connection_is_said_in_the_admins_words(
    backend: Backend,
) {
    let (app, path) = with_link(backend).await;
    let (_, v) = open(&app, &path).await;
    let made = post(
        &app,
        &format!("{path}/token"),
        &v.cookie,
        &[("csrf", &v.csrf)],
    )
    .await;
    let token = secret(&made);
    assert_eq!(probe(&app, &token).await.status, 200);
    let fine = get(&app, &format!("{path}/progress"), &v).await;
    assert!(!fine.body.as_str().unwrap().contains("id=\"credentials\""));

    let dir = &app.state.directory;
    let issued = dir.tokens("acme").await.unwrap();
    dir.revoke_token(issued[0].id).await.unwrap();
    assert_eq!(probe(&app, &token).await.status, 401);
    let warned = get(&app, &format!("{path}/progress"), &v).await;
    assert_eq!(warned.status, 200);
    assert_eq!(
        class_of(&warned, "step-test-connection"),
        "step done",
        "it did connect once"
    );
    assert!(
        text(&warned)
            .contains("No credential of this tenant works any more: the Secret Token was revoked."),
        "{}",
        text(&warned)
    );

    // a new token from the page ends the warning
    let again = post(
        &app,
        &format!("{path}/token"),
        &v.cookie,
        &[("csrf", &v.csrf)],
    )
    .await;
    assert_eq!(probe(&app, &secret(&again)).await.status, 200);
    let mended = get(&app, &format!("{path}/progress"), &v).await;
    assert!(!mended.body.as_str().unwrap().contains("id=\"credentials\""));
}

crate::on_both_stores!(
    the_first_team_admin_is_created_from_the_page_and_only_the_first,
    the_first_cycles_refusals_are_grouped_by_cause_with_the_fix,
    a_link_reaches_its_own_tenant_only_and_parallel_tokens_leave_one_valid,
    a_credential_that_stops_working_after_the_connection_is_said_in_the_admins_words,
);
