//! `/api/v1/tenants/{name}/alerts`: a tenant's notification addresses read and replaced, its
//! opted-in team admins shown, and what is not an address — NUL bytes, a huge list, the same
//! address twice, no address at all — refused as a problem naming the field, changing nothing.

use axum::http::Method;
use serde_json::json;

use super::{Api, assert_problem};
use crate::support::Backend;

crate::on_both_stores!(
    notification_addresses_are_replaced_and_shown_with_the_opted_in_team_admins,
    addresses_that_are_not_addresses_are_refused_and_change_nothing,
);

const PATH: &str = "/api/v1/tenants/contoso/alerts";

async fn notification_addresses_are_replaced_and_shown_with_the_opted_in_team_admins(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let empty = api.get(PATH).await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert_eq!(empty.body, json!({"emails": [], "team_admins": []}));

    let dir = &api.app.state.directory;
    dir.add_admin("contoso", "alice", "a long enough password 1", true)
        .await
        .unwrap();
    dir.set_admin_notify("contoso", "alice", Some("alice@contoso.test"))
        .await
        .unwrap();
    let body = json!({"emails": [" ops@contoso.test ", "oncall@contoso.test"]});
    let set = api.call(Method::PUT, PATH, Some(body)).await;
    assert_eq!(set.status, 200, "{}", set.body);
    let expected = json!({
        "emails": ["ops@contoso.test", "oncall@contoso.test"],
        "team_admins": [{"username": "alice", "email": "alice@contoso.test"}]
    });
    assert_eq!(set.body, expected);
    assert_eq!(api.get(PATH).await.body, expected);
    assert_eq!(
        dir.notify_addresses("contoso").await.unwrap(),
        ["ops@contoso.test", "oncall@contoso.test"]
    );

    let cleared = api
        .call(Method::PUT, PATH, Some(json!({"emails": []})))
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    assert_eq!(cleared.body["emails"], json!([]));
    let missing = api.get("/api/v1/tenants/nobody/alerts").await;
    assert_problem(&missing, 404, "not-found", None);
}

async fn addresses_that_are_not_addresses_are_refused_and_change_nothing(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let kept = json!({"emails": ["ops@contoso.test"]});
    assert_eq!(api.call(Method::PUT, PATH, Some(kept)).await.status, 200);

    let huge: Vec<String> = (0..5000).map(|i| format!("o{i}@contoso.test")).collect();
    let cases = [
        (json!({"emails": ["ops\u{0}@contoso.test"]}), None),
        (
            json!({"emails": ["not an address"]}),
            Some("is not an e-mail address"),
        ),
        (
            json!({"emails": ["ops@contoso.test", "OPS@contoso.test"]}),
            Some("given twice"),
        ),
        (json!({"emails": huge}), Some("at most 20")),
        (json!({"emails": [""]}), Some("empty")),
    ];
    for (body, says) in cases {
        let refused = api.call(Method::PUT, PATH, Some(body.clone())).await;
        let detail = assert_problem(&refused, 422, "validation", Some("emails"));
        if let Some(says) = says {
            assert!(detail.contains(says), "{body}: {detail}");
        }
        assert_eq!(
            api.app
                .state
                .directory
                .notify_addresses("contoso")
                .await
                .unwrap(),
            ["ops@contoso.test"],
            "{body}"
        );
    }
    let untyped = api
        .call(
            Method::PUT,
            PATH,
            Some(json!({"emails": "ops@contoso.test"})),
        )
        .await;
    assert_eq!(untyped.status, 422, "{}", untyped.body);
    let unknown = api
        .call(Method::PUT, PATH, Some(json!({"email": ["a@b.test"]})))
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
}
