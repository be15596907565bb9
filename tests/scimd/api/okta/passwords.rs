//! A user's `password`, sent by Okta when the application's "Sync Password" is on: refused by
//! default in the Okta admin's words, accepted and dropped when the tenant's rule is `ignore`;
//! never stored, shown, logged or sent in an event.

use scimd::domain::Passwords;
use scimd::domain::events::Kinds;
use scimd::service::PolicyChange;
use serde_json::json;

use super::{Okta, PASSWORD, PASSWORD_REFUSED};
use crate::support::receiver::Receiver;
use crate::support::{Backend, TestApp};

async fn set_passwords(app: &TestApp, rule: Passwords) {
    let change = PolicyChange {
        passwords: Some(rule),
        ..Default::default()
    };
    let policy = app
        .state
        .directory
        .set_policy("default", &change)
        .await
        .unwrap();
    assert_eq!(policy.passwords, rule);
}

async fn a_password_is_refused_by_default_in_the_okta_admins_words_and_nothing_is_stored(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let okta = Okta { app: &app };
    let tenant = app.state.directory.tenant("default").await.unwrap();
    assert_eq!(tenant.policy.passwords, Passwords::Reject);
    let refused = app
        .post(
            "/scim/v2/Users",
            Okta::user_body("synced@okta.local", "Synced", Some(PASSWORD)),
        )
        .await;
    let detail = refused.assert_scim_error(400, Some("invalidValue"));
    assert_eq!(detail, PASSWORD_REFUSED);
    assert_eq!(
        okta.find_user("synced@okta.local").await.body["totalResults"],
        0
    );

    // a user made without one cannot be given one by PUT or PATCH either
    let id = okta.provision("synced@okta.local", "Synced").await;
    let path = format!("/scim/v2/Users/{id}");
    let mut put = Okta::user_body("synced@okta.local", "Changed", Some(PASSWORD));
    put["id"] = json!(id);
    let detail = app
        .put(&path, put)
        .await
        .assert_scim_error(400, Some("invalidValue"));
    assert_eq!(detail, PASSWORD_REFUSED);
    for ops in [
        json!([{"op": "replace", "path": "password", "value": PASSWORD}]),
        json!([{"op": "replace", "value": {"password": PASSWORD, "displayName": "Changed"}}]),
    ] {
        let detail = okta
            .patch(&path, ops)
            .await
            .assert_scim_error(400, Some("invalidValue"));
        assert_eq!(detail, PASSWORD_REFUSED);
    }
    let stored = app.get(&path).await.body;
    assert_eq!(stored["displayName"], "Synced User");
    assert_eq!(stored["meta"]["version"], "W/\"1\"");
    // the activity log names the attribute, never the value
    let filter = scimd::domain::activity::ActivityFilter {
        limit: 100,
        ..Default::default()
    };
    let log = app
        .state
        .directory
        .activity("default", &filter)
        .await
        .unwrap();
    let refusals: Vec<_> = log.iter().filter(|a| a.status == 400).collect();
    assert_eq!(refusals.len(), 4, "{log:?}");
    assert!(!format!("{log:?}").contains(PASSWORD));
}

async fn with_passwords_ignored_a_password_is_accepted_and_never_stored_shown_logged_or_sent(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let okta = Okta { app: &app };
    set_passwords(&app, Passwords::Ignore).await;
    let receiver = Receiver::start().await;
    app.state
        .directory
        .add_webhook("default", &receiver.url(), Kinds::ALL, true)
        .await
        .unwrap();
    let created = app
        .post(
            "/scim/v2/Users",
            Okta::user_body("synced@okta.local", "Synced", Some(PASSWORD)),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Users/{id}");
    let mut put = Okta::user_body("synced@okta.local", "Changed", Some(PASSWORD));
    put["id"] = json!(id);
    assert_eq!(app.put(&path, put).await.status.as_u16(), 200);
    let patched = okta
        .patch(
            &path,
            json!([{"op": "replace", "path": "password", "value": PASSWORD}]),
        )
        .await;
    assert_eq!(patched.status.as_u16(), 200, "{}", patched.body);
    let read = app.get(&path).await;
    assert_eq!(read.body["displayName"], "Changed User");
    for shown in [&created.body, &read.body, &patched.body] {
        assert!(shown.get("password").is_none(), "{shown}");
        assert!(!shown.to_string().contains(PASSWORD));
    }
    let log = app
        .state
        .directory
        .activity(
            "default",
            &scimd::domain::activity::ActivityFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        log.len() >= 2 && log.iter().all(|a| a.status < 400),
        "{log:?}"
    );
    assert!(!format!("{log:?}").contains(PASSWORD));
    let events = app
        .state
        .directory
        .events_after("default", 0, 100)
        .await
        .unwrap();
    assert!(!events.is_empty());
    assert!(!format!("{events:?}").contains(PASSWORD));
    // the rule can be set back: the default refuses again
    set_passwords(&app, Passwords::Reject).await;
    let refused = app
        .post(
            "/scim/v2/Users",
            Okta::user_body("other@okta.local", "Other", Some(PASSWORD)),
        )
        .await;
    refused.assert_scim_error(400, Some("invalidValue"));
}

crate::on_both_stores!(
    a_password_is_refused_by_default_in_the_okta_admins_words_and_nothing_is_stored,
    with_passwords_ignored_a_password_is_accepted_and_never_stored_shown_logged_or_sent,
);
