//! A tenant's share of the server through `/api/v1/tenants/{name}`: its rate and its ceiling of
//! requests in flight set, shown, cleared with `null`, and refused out of range or mistyped
//! (changing nothing), on both stores.

use scimd::domain::Limits;
use serde_json::json;

use super::Api;
use crate::support::Backend;

crate::on_both_stores!(a_tenant_s_rate_and_ceiling_are_set_shown_cleared_and_checked);

async fn a_tenant_s_rate_and_ceiling_are_set_shown_cleared_and_checked(backend: Backend) {
    let api = Api::new(backend).await;
    let shown = api.get("/api/v1/tenants/default").await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.body["rate_limit_per_second"], json!(null));
    assert_eq!(shown.body["max_in_flight"], json!(null));

    let body = json!({"rate_limit_per_second": 200, "max_in_flight": 64});
    let set = api.patch("/api/v1/tenants/default", body).await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.body["rate_limit_per_second"], 200);
    assert_eq!(set.body["max_in_flight"], 64);
    let dir = &api.app.state.directory;
    let stored = dir.tenant("default").await.unwrap().policy.limits;
    let expected = Limits {
        rate_per_second: Some(200),
        max_in_flight: Some(64),
    };
    assert_eq!(stored, expected);

    // a field left out is left as it is; null clears it
    let cleared = api
        .patch(
            "/api/v1/tenants/default",
            json!({"rate_limit_per_second": null}),
        )
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    assert_eq!(cleared.body["rate_limit_per_second"], json!(null));
    assert_eq!(cleared.body["max_in_flight"], 64);

    let before = dir.tenant("default").await.unwrap().policy;
    for (body, field) in [
        (json!({"rate_limit_per_second": 0}), "rate_limit_per_second"),
        (
            json!({"rate_limit_per_second": 100_001}),
            "rate_limit_per_second",
        ),
        (
            json!({"rate_limit_per_second": -1}),
            "rate_limit_per_second",
        ),
        (
            json!({"rate_limit_per_second": "200/s"}),
            "rate_limit_per_second",
        ),
        (
            json!({"rate_limit_per_second": 1e30}),
            "rate_limit_per_second",
        ),
        (json!({"max_in_flight": 0}), "max_in_flight"),
        (json!({"max_in_flight": 10_001}), "max_in_flight"),
        (json!({"max_in_flight": "\u{0}"}), "max_in_flight"),
    ] {
        let refused = api.patch("/api/v1/tenants/default", body.clone()).await;
        let status = refused.status.as_u16();
        assert!(
            status == 400 || status == 422,
            "{body}: {status} {}",
            refused.body
        );
        assert_eq!(
            refused.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(refused.body["field"], field, "{body}: {}", refused.body);
        let now = dir.tenant("default").await.unwrap().policy;
        assert_eq!(now, before, "{body}: a refused change changes nothing");
    }
    // another tenant is untouched
    let created = api
        .post(
            "/api/v1/tenants",
            json!({"name": "fabrikam", "rate_limit_per_second": 5}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["rate_limit_per_second"], 5);
    assert_eq!(created.body["max_in_flight"], json!(null));
    let ours = dir.tenant("default").await.unwrap().policy.limits;
    assert_eq!(ours.max_in_flight, Some(64));
}
