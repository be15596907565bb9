//! Queries on a registered extension: filters (`eq`, `sw`, `gt`, `pr`, on a complex
//! sub-attribute, combined with core attributes), `sortBy` in both orders, and the
//! `attributes` / `excludedAttributes` projections; an attribute the extension does not
//! define is a bad filter.

use serde_json::json;

use super::{CONTOSO, CORE_USER, attr, count, created, register, user};
use crate::support::{Backend, TestApp, encode};

/// Four users: costCenter, badge, remote, office floor.
async fn staff(app: &TestApp) {
    for (name, cost_center, badge, remote, floor) in [
        ("ann", "CC-100", 3, true, 1),
        ("bob", "cc-200", 1, false, 3),
        ("cid", "XX-300", 4, true, 5),
        ("dee", "cc-050", 2, false, 2),
    ] {
        created(
            app,
            "Users",
            user(
                name,
                Some(json!({
                    "costCenter": cost_center,
                    "badge": badge,
                    "remote": remote,
                    "office": {"building": "B1", "floor": floor}
                })),
            ),
        )
        .await;
    }
    // and one without the extension
    created(app, "Users", user("eve", None)).await;
}

/// The userNames of `GET /Users?<query>`, in the order answered.
async fn names(app: &TestApp, query: &str) -> Vec<String> {
    let res = app.get(&format!("/scim/v2/Users?{query}")).await;
    assert_eq!(res.status.as_u16(), 200, "{query}: {}", res.body);
    res.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap().to_owned())
        .collect()
}

fn filter(f: &str) -> String {
    format!("filter={}", encode(f))
}

async fn filters_and_sorting_on_extension_attributes_find_and_order_the_users(backend: Backend) {
    let app = TestApp::new(backend).await;
    register(&app).await;
    staff(&app).await;

    let cc = attr("costCenter");
    assert_eq!(
        names(&app, &filter(&format!("{cc} eq \"cc-100\""))).await,
        ["ann"]
    );
    assert_eq!(
        names(
            &app,
            &format!("{}&sortBy={cc}", filter(&format!("{cc} sw \"CC\"")))
        )
        .await,
        ["dee", "ann", "bob"],
        "caseExact=false: compared and sorted ignoring case"
    );
    assert_eq!(
        names(&app, &filter(&format!("{} gt 2", attr("badge")))).await,
        ["ann", "cid"]
    );
    assert_eq!(
        names(&app, &filter(&format!("{} eq true", attr("remote")))).await,
        ["ann", "cid"]
    );
    assert_eq!(
        names(&app, &filter(&format!("{} gt 2", attr("office.floor")))).await,
        ["bob", "cid"]
    );
    // the URN in another case, the attribute too
    assert_eq!(
        names(
            &app,
            &filter("urn:ietf:params:scim:schemas:extension:contoso:2.0:user:OFFICE.Floor ge 2 and userName ne \"bob\"")
        )
        .await,
        ["cid", "dee"]
    );
    assert_eq!(
        names(&app, &filter(&format!("{cc} pr or userName eq \"eve\""))).await,
        ["ann", "bob", "cid", "dee", "eve"]
    );
    assert_eq!(count(&app, "Users", &format!("not ({cc} pr)")).await, 1);
    assert_eq!(
        count(
            &app,
            "Users",
            &format!("{} eq \"B1\"", attr("office.building"))
        )
        .await,
        4
    );

    // sortBy an extension attribute, both orders; absent values sort last ascending
    assert_eq!(
        names(&app, &format!("sortBy={}", attr("badge"))).await,
        ["bob", "dee", "ann", "cid", "eve"]
    );
    assert_eq!(
        names(
            &app,
            &format!(
                "sortBy={}&sortOrder=descending&{}",
                attr("office.floor"),
                filter(&format!("{cc} pr"))
            )
        )
        .await,
        ["cid", "bob", "dee", "ann"]
    );

    // POST /.search says the same
    let searched = app
        .post(
            "/scim/v2/Users/.search",
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": format!("{} lt 3", attr("badge")),
                "sortBy": attr("badge"),
                "attributes": ["userName"]
            }),
        )
        .await;
    assert_eq!(searched.status.as_u16(), 200, "{}", searched.body);
    assert_eq!(searched.body["totalResults"], 2);
    assert_eq!(searched.body["Resources"][0]["userName"], "bob");
    assert_eq!(searched.body["Resources"][1]["userName"], "dee");

    // an attribute the extension does not define is not a filter
    let res = app
        .get(&format!(
            "/scim/v2/Users?{}",
            filter(&format!("{} eq \"x\"", attr("floor")))
        ))
        .await;
    let detail = res.assert_scim_error(400, Some("invalidFilter"));
    assert!(detail.contains("floor"), "{detail}");
}

async fn attributes_and_excluded_attributes_project_the_extension(backend: Backend) {
    let app = TestApp::new(backend).await;
    register(&app).await;
    let (path, full) = created(
        &app,
        "Users",
        user(
            "proj@contoso.com",
            Some(
                json!({"costCenter": "CC-1", "badge": 7, "office": {"building": "B1", "floor": 3}}),
            ),
        ),
    )
    .await;
    let id = full["id"].clone();
    let read = async |query: &str| {
        let res = app.get(&format!("{path}?{query}")).await;
        assert_eq!(res.status.as_u16(), 200, "{query}: {}", res.body);
        let mut body = res.body;
        body.as_object_mut().unwrap().remove("meta");
        body
    };

    assert_eq!(
        read(&format!("attributes={}", attr("costCenter"))).await,
        json!({"schemas": [CORE_USER, CONTOSO], "id": id, CONTOSO: {"costCenter": "CC-1"}})
    );
    assert_eq!(
        read(&format!("attributes={},userName", attr("office.floor"))).await,
        json!({"schemas": [CORE_USER, CONTOSO], "id": id, "userName": "proj@contoso.com",
            CONTOSO: {"office": {"floor": 3}}})
    );
    assert_eq!(
        read(&format!("attributes={CONTOSO}")).await,
        json!({"schemas": [CORE_USER, CONTOSO], "id": id, CONTOSO: full[CONTOSO].clone()})
    );
    let excluded = read(&format!("excludedAttributes={}", attr("badge"))).await;
    assert_eq!(
        excluded[CONTOSO],
        json!({"costCenter": "CC-1", "office": {"building": "B1", "floor": 3}})
    );
    assert_eq!(excluded["userName"], "proj@contoso.com");
    let without = read(&format!("excludedAttributes={CONTOSO}")).await;
    assert!(without.get(CONTOSO).is_none(), "{without}");
    assert_eq!(without["userName"], "proj@contoso.com");

    // on a list too
    let listed = app
        .get(&format!(
            "/scim/v2/Users?attributes={}&{}",
            attr("badge"),
            filter(&format!("{} eq 7", attr("badge")))
        ))
        .await;
    assert_eq!(listed.status.as_u16(), 200, "{}", listed.body);
    let mut first = listed.body["Resources"][0].clone();
    first.as_object_mut().unwrap().remove("meta");
    assert_eq!(
        first,
        json!({"schemas": [CORE_USER, CONTOSO], "id": id, CONTOSO: {"badge": 7}})
    );

    // an attribute the extension does not define is ignored, as any unknown name is: only
    // what is always returned is left
    let unknown = read(&format!("attributes={}", attr("nope"))).await;
    assert_eq!(unknown["id"], id);
    assert!(unknown.get(CONTOSO).is_none(), "{unknown}");
    assert!(unknown.get("userName").is_none(), "{unknown}");
}

crate::on_both_stores!(
    filters_and_sorting_on_extension_attributes_find_and_order_the_users,
    attributes_and_excluded_attributes_project_the_extension,
);
