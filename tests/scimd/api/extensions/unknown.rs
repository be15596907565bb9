//! Attributes no schema of the tenant defines: by default dropped, counted in
//! `scimd_unknown_attributes_total{tenant, attribute}` and named in the activity row; with
//! `--unknown-attributes reject` the body is refused with 400 naming them and nothing is
//! stored. `null` is absence, not an attribute: it is neither counted nor refused. The
//! metrics recorder is shared by the tests running at once, so each test has a tenant of its
//! own.

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{Value, json};

use scimd::domain::UnknownAttributes;
use scimd::scim::schema::ResourceKind;
use scimd::service::PolicyChange;

use super::{CONTOSO, activity, add, attr, call_as, contoso_schema, tenant_with_token};
use crate::support::{Backend, METRICS_TOKEN, TestApp};

const FABRIKAM_X: &str = "urn:ietf:params:scim:schemas:extension:fabrikam:2.0:User:x";

/// `scimd_unknown_attributes_total` of `tenant` and `attribute`, 0 when there is no series.
async fn counted(app: &TestApp, tenant: &str, attribute: &str) -> f64 {
    let res = app
        .send(
            Request::get("/metrics")
                .header("authorization", format!("Bearer {METRICS_TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200);
    let Value::String(text) = res.body else {
        return 0.0;
    };
    let labels = format!("{{tenant=\"{tenant}\",attribute=\"{attribute}\"}}");
    text.lines()
        .filter_map(|l| l.strip_prefix("scimd_unknown_attributes_total"))
        .filter_map(|l| l.strip_prefix(labels.as_str()))
        .filter_map(|v| v.trim().parse::<f64>().ok())
        .sum()
}

fn unique_tenant(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

async fn unknown_attributes_are_dropped_counted_and_noted_in_the_activity_log(backend: Backend) {
    let app = TestApp::new(backend).await;
    let tenant = unique_tenant("unknown");
    let token = tenant_with_token(&app, &tenant).await;
    add(&app, &tenant, ResourceKind::User, &contoso_schema()).await;
    let call = async |method: Method, path: &str, body: Value| {
        call_as(&app, &token, method, path, Some(body)).await
    };

    let created = call(
        Method::POST,
        "/scim/v2/Users",
        json!({
            "userName": "u1",
            "foo": 1,
            FABRIKAM_X: "y",
            "bar": null,
            CONTOSO: {"badge": 1, "nope": "n", "none": null}
        }),
    )
    .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body[CONTOSO], json!({"badge": 1}));
    for dropped in ["foo", "bar", FABRIKAM_X] {
        assert!(created.body.get(dropped).is_none(), "{dropped}");
    }
    let read = call_as(
        &app,
        &token,
        Method::GET,
        &format!("/scim/v2/Users/{id}"),
        None,
    )
    .await;
    assert_eq!(read.body, created.body, "nothing unknown was stored");

    let rows = activity(&app, &tenant).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].status, 201);
    let noted = format!("foo, {FABRIKAM_X}, {}", attr("nope"));
    assert_eq!(rows[0].ignored.as_deref(), Some(noted.as_str()));
    assert_eq!(rows[0].note(), format!("ignored, in no schema: {noted}"));
    assert_eq!(counted(&app, &tenant, "foo").await, 1.0);
    assert_eq!(counted(&app, &tenant, FABRIKAM_X).await, 1.0);
    assert_eq!(counted(&app, &tenant, &attr("nope")).await, 1.0);
    assert_eq!(
        counted(&app, &tenant, "bar").await,
        0.0,
        "null is not counted"
    );
    assert_eq!(counted(&app, &tenant, &attr("none")).await, 0.0);

    // a PUT counts too, once per name however it is cased
    let replaced = call(
        Method::PUT,
        &format!("/scim/v2/Users/{id}"),
        json!({"userName": "u1", "foo": 2, "FOO": 3, "baz": [1]}),
    )
    .await;
    assert_eq!(replaced.status.as_u16(), 200, "{}", replaced.body);
    assert_eq!(counted(&app, &tenant, "foo").await, 2.0);
    assert_eq!(counted(&app, &tenant, "baz").await, 1.0);
    let rows = activity(&app, &tenant).await;
    let row = rows.iter().find(|a| a.operation == "replace").unwrap();
    assert_eq!(row.ignored.as_deref(), Some("foo, baz"));

    // a body with nothing unknown notes nothing
    let clean = call(
        Method::POST,
        "/scim/v2/Users",
        json!({"userName": "u2", "bar": null, attr("badge"): 2}),
    )
    .await;
    assert_eq!(clean.status.as_u16(), 201, "{}", clean.body);
    let rows = activity(&app, &tenant).await;
    let row = rows
        .iter()
        .find(|a| {
            a.resource_id.map(|r| r.to_string()) == clean.body["id"].as_str().map(str::to_owned)
        })
        .unwrap();
    assert_eq!(row.ignored, None);
    assert_eq!(row.note(), "");

    // a PATCH path in no schema is refused as a bad path, as before
    let patched = call(
        Method::PATCH,
        &format!("/scim/v2/Users/{id}"),
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "foo", "value": 1}]}),
    )
    .await;
    patched.assert_scim_error(400, Some("invalidPath"));
}

async fn with_unknown_attributes_rejected_a_body_naming_them_is_refused_and_nothing_is_stored(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let tenant = unique_tenant("reject");
    let token = tenant_with_token(&app, &tenant).await;
    add(&app, &tenant, ResourceKind::User, &contoso_schema()).await;
    let dir = &app.state.directory;
    let policy = dir
        .set_policy(
            &tenant,
            &PolicyChange {
                unknown_attributes: Some(UnknownAttributes::Reject),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(policy.unknown_attributes, UnknownAttributes::Reject);
    let call = async |method: Method, path: &str, body: Value| {
        call_as(&app, &token, method, path, Some(body)).await
    };

    let refused = call(
        Method::POST,
        "/scim/v2/Users",
        json!({"userName": "r1", "foo": 1, FABRIKAM_X: "y", CONTOSO: {"badge": 1, "nope": 2}}),
    )
    .await;
    let detail = refused.assert_scim_error(400, Some("invalidValue"));
    assert_eq!(
        detail,
        format!(
            "attribute(s) 'foo', '{FABRIKAM_X}', '{}' are in no schema of User: register the \
             extension that defines them (scimd schema add), or have the tenant ignore unknown \
             attributes",
            attr("nope")
        )
    );
    let listed = call_as(&app, &token, Method::GET, "/scim/v2/Users", None).await;
    assert_eq!(listed.body["totalResults"], 0, "nothing stored");
    assert_eq!(
        counted(&app, &tenant, "foo").await,
        0.0,
        "refused, not ignored"
    );

    // null is absence: not refused; the extension's own attributes are known
    let created = call(
        Method::POST,
        "/scim/v2/Users",
        json!({"userName": "r1", "foo": null, attr("badge"): 3, CONTOSO: {"remote": "True"}}),
    )
    .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    assert_eq!(created.body[CONTOSO], json!({"badge": 3, "remote": true}));
    let path = format!("/scim/v2/Users/{}", created.body["id"].as_str().unwrap());

    // a PUT with an unknown attribute changes nothing
    let put = call(
        Method::PUT,
        &path,
        json!({"userName": "r1", "nickName": "n", "Foo": 1}),
    )
    .await;
    let detail = put.assert_scim_error(400, Some("invalidValue"));
    assert!(
        detail.starts_with("attribute(s) 'Foo' are in no schema of User"),
        "{detail}"
    );
    let read = call_as(&app, &token, Method::GET, &path, None).await;
    assert_eq!(read.body, created.body);

    // twelve unknown names: ten shown, the rest counted
    let mut many = json!({"userName": "r2"});
    for i in 0..12 {
        many[format!("x{i:02}")] = json!(i);
    }
    let detail = call(Method::POST, "/scim/v2/Users", many.clone())
        .await
        .assert_scim_error(400, Some("invalidValue"));
    assert!(
        detail.starts_with("attribute(s) 'x00', 'x01', 'x02', 'x03', 'x04', 'x05', 'x06', 'x07', 'x08', 'x09' and 2 more are in no schema of User"),
        "{detail}"
    );

    // another tenant's rule is its own
    let other = app
        .post("/scim/v2/Users", json!({"userName": "d1", "foo": 1}))
        .await;
    assert_eq!(other.status.as_u16(), 201, "{}", other.body);

    // back to ignore: the same body is accepted, its unknown names dropped
    dir.set_policy(
        &tenant,
        &PolicyChange {
            unknown_attributes: Some(UnknownAttributes::Ignore),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let accepted = call(Method::POST, "/scim/v2/Users", many).await;
    assert_eq!(accepted.status.as_u16(), 201, "{}", accepted.body);
    assert!(accepted.body.get("x00").is_none());
    assert_eq!(counted(&app, &tenant, "x11").await, 1.0);
}

crate::on_both_stores!(
    unknown_attributes_are_dropped_counted_and_noted_in_the_activity_log,
    with_unknown_attributes_rejected_a_body_naming_them_is_refused_and_nothing_is_stored,
);
