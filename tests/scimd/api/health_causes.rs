//! Health's other ways in, through real SCIM traffic on both stores: a cycle whose creates
//! repeat the matching attribute is degraded with that cause and its fix; a cycle of a thousand
//! operations with 30 % refused is at risk of Entra's quarantine, and left only once the refused
//! share is under half of that.

use serde_json::json;

use super::health::{connected_tenant, creates, scim};
use crate::support::{Backend, TestApp, entra_user};
use scimd::domain::health::State;

crate::on_both_stores!(
    creates_that_repeat_the_matching_attribute_degrade_the_tenant_with_that_cause,
    a_thousand_operations_with_thirty_percent_refused_put_the_tenant_at_risk,
);

async fn creates_that_repeat_the_matching_attribute_degrade_the_tenant_with_that_cause(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    let token = connected_tenant(&app, "acme").await;
    creates(&app, &token, 10, 0).await;
    for i in 0..40 {
        // the same userName again, under another externalId: Entra's matching attribute repeats
        let mut user = entra_user("twin@acme.test");
        user["externalId"] = json!(format!("twin-{i}"));
        user["roles"] = json!([{"value": "member"}]);
        let r = scim(&app, "POST", "/scim/v2/Users", &token, Some(user)).await;
        assert_eq!(r.status, if i == 0 { 201 } else { 409 }, "{}", r.body);
    }
    let acme = dir.tenant("acme").await.unwrap();
    let health = dir.check_health(&acme).await.unwrap();
    assert_eq!(health.state, State::Degraded, "{health:?}");
    let top = &health.reasons[0];
    assert_eq!(
        (top.kind.as_str(), top.count),
        ("matching_repeats", 39),
        "{top:?}"
    );
    assert!(top.what.contains("userName"), "{top:?}");
    assert!(top.fix.contains("userName"), "{top:?}");
}

async fn a_thousand_operations_with_thirty_percent_refused_put_the_tenant_at_risk(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    let token = connected_tenant(&app, "acme").await;
    creates(&app, &token, 700, 300).await;
    let acme = dir.tenant("acme").await.unwrap();
    let risky = dir.check_health(&acme).await.unwrap();
    assert_eq!(risky.state, State::AtRisk, "{risky:?}");
    assert_eq!(
        (risky.reasons[0].kind.as_str(), risky.reasons[0].count),
        ("no_role", 300)
    );
    // 300 of 1 400: 21 %, above half of 30 %: still at risk
    creates(&app, &token, 400, 0).await;
    assert_eq!(dir.check_health(&acme).await.unwrap().state, State::AtRisk);
    // 300 of 2 100: 14 %, under half of 30 %: degraded (still above 10 %)
    creates(&app, &token, 700, 0).await;
    let after = dir.check_health(&acme).await.unwrap();
    assert_eq!(after.state, State::Degraded, "{after:?}");
    let history = dir.health_history("acme", 10).await.unwrap();
    let states: Vec<State> = history.iter().map(|c| c.state).collect();
    assert_eq!(states, [State::Degraded, State::AtRisk], "newest first");
}
