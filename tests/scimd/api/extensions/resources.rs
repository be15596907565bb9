//! A registered extension on `/Users`: created with its object or with URN-qualified keys
//! (Entra's string booleans, names in any case, `null` as absent), read back, replaced by
//! PUT, patched by attribute path, by sub-attribute path and by the URN alone; a value of the
//! wrong type is refused naming the attribute, and nothing is written.

use scimd::scim::schema::ResourceKind;
use serde_json::{Value, json};

use super::{CONTOSO, CORE_USER, attr, created, patch, register, stored, user};
use crate::support::{Backend, TestApp};

async fn the_extension_object_and_urn_qualified_keys_with_string_booleans_create_the_same_values(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    register(&app).await;

    let (path, body) = created(
        &app,
        "Users",
        user(
            "obj@contoso.com",
            Some(json!({
                "costCenter": "CC-1",
                "badge": 7,
                "remote": "True",
                "office": {"building": "B1", "floor": 3},
                "hired": "2024-02-01T09:00:00Z",
                "rate": 1.5
            })),
        ),
    )
    .await;
    let values = json!({
        "costCenter": "CC-1",
        "badge": 7,
        "remote": true,
        "office": {"building": "B1", "floor": 3},
        "hired": "2024-02-01T09:00:00Z",
        "rate": 1.5
    });
    assert_eq!(body[CONTOSO], values);
    assert_eq!(body["schemas"], json!([CORE_USER, CONTOSO]));
    let read = app.get(&path).await;
    assert_eq!(read.status.as_u16(), 200);
    assert_eq!(read.body, body, "what POST answered is what GET reads");
    assert_eq!(
        Value::Object(stored(&app, "default", ResourceKind::User, &path).await)[CONTOSO],
        values,
        "stored under the URN as registered"
    );

    // the RFC 7644 §3.10 form: URN-qualified top-level keys, in any case; Entra's strings
    // for booleans and numbers; null is absence
    let (path, body) = created(
        &app,
        "Users",
        json!({
            "schemas": [CORE_USER],
            "userName": "keys@contoso.com",
            attr("costCenter"): "CC-2",
            "URN:IETF:params:scim:schemas:extension:CONTOSO:2.0:User:Remote": "False",
            attr("office"): {"FLOOR": "4"},
            attr("rate"): "2.25",
            attr("badge"): null
        }),
    )
    .await;
    assert_eq!(
        body[CONTOSO],
        json!({"costCenter": "CC-2", "remote": false, "office": {"floor": 4}, "rate": 2.25})
    );
    assert_eq!(body["schemas"], json!([CORE_USER, CONTOSO]));
    assert_eq!(app.get(&path).await.body, body);

    // an object with nothing in it, or null: no extension at all
    for empty in [json!({}), Value::Null, json!({"badge": null})] {
        let name = format!("empty-{}@contoso.com", empty.to_string().len());
        let (_, body) = created(&app, "Users", user(&name, Some(empty.clone()))).await;
        assert!(body.get(CONTOSO).is_none(), "{empty}: {body}");
        assert_eq!(body["schemas"], json!([CORE_USER]), "{empty}");
    }
}

async fn put_replaces_the_extension_and_a_body_without_it_clears_it(backend: Backend) {
    let app = TestApp::new(backend).await;
    register(&app).await;
    let (path, _) = created(
        &app,
        "Users",
        user(
            "put@contoso.com",
            Some(json!({"costCenter": "CC-1", "badge": 7, "office": {"building": "B1"}})),
        ),
    )
    .await;

    let replaced = app
        .put(
            &path,
            user(
                "put@contoso.com",
                Some(json!({"badge": "nine", "remote": true})),
            ),
        )
        .await;
    let detail = replaced.assert_scim_error(400, Some("invalidValue"));
    assert!(detail.contains(&attr("badge")), "{detail}");
    assert_eq!(
        app.get(&path).await.body[CONTOSO]["costCenter"],
        "CC-1",
        "a refused PUT changes nothing"
    );

    let replaced = app
        .put(
            &path,
            user(
                "put@contoso.com",
                Some(json!({"badge": "9", "remote": true})),
            ),
        )
        .await;
    assert_eq!(replaced.status.as_u16(), 200, "{}", replaced.body);
    // Entra sends every value as a string: "9" is the integer 9
    assert_eq!(
        replaced.body[CONTOSO],
        json!({"badge": 9, "remote": true}),
        "PUT replaces the whole extension: costCenter and office are gone"
    );
    assert_eq!(app.get(&path).await.body, replaced.body);

    let cleared = app.put(&path, json!({"userName": "put@contoso.com"})).await;
    assert_eq!(cleared.status.as_u16(), 200, "{}", cleared.body);
    assert!(cleared.body.get(CONTOSO).is_none(), "{}", cleared.body);
    assert_eq!(cleared.body["schemas"], json!([CORE_USER]));
    assert!(
        !stored(&app, "default", ResourceKind::User, &path)
            .await
            .contains_key(CONTOSO)
    );
}

async fn patch_by_attribute_path_by_sub_attribute_and_by_the_urn_alone_updates_the_extension(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    register(&app).await;
    let (path, _) = created(
        &app,
        "Users",
        user(
            "patch@contoso.com",
            Some(json!({"costCenter": "CC-1", "remote": true})),
        ),
    )
    .await;
    let ext = async |ops: Value| {
        let res = patch(&app, &path, ops).await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.body);
        assert_eq!(
            app.get(&path).await.body,
            res.body,
            "PATCH answers what is stored"
        );
        res.body.get(CONTOSO).cloned().unwrap_or(Value::Null)
    };

    // Entra's shapes: an attribute path, and its string boolean
    assert_eq!(
        ext(json!([
            {"op": "Replace", "path": attr("costCenter"), "value": "CC-9"},
            {"op": "Replace", "path": attr("remote"), "value": "False"},
            {"op": "Add", "path": attr("badge"), "value": 12}
        ]))
        .await,
        json!({"costCenter": "CC-9", "remote": false, "badge": 12})
    );
    // a sub-attribute path, the URN in another case
    assert_eq!(
        ext(json!([
            {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:contoso:2.0:user:office.floor", "value": 2},
            {"op": "replace", "path": attr("office.building"), "value": "B7"}
        ]))
        .await,
        json!({"costCenter": "CC-9", "remote": false, "badge": 12, "office": {"floor": 2, "building": "B7"}})
    );
    // the URN alone with an object: add and replace merge into what is there
    assert_eq!(
        ext(json!([{"op": "add", "path": CONTOSO, "value": {"badge": 13, "remote": "True"}}]))
            .await,
        json!({"costCenter": "CC-9", "remote": true, "badge": 13, "office": {"floor": 2, "building": "B7"}})
    );
    assert_eq!(
        ext(json!([{"op": "replace", "path": CONTOSO, "value": {"costCenter": "CC-10"}}])).await,
        json!({"costCenter": "CC-10", "remote": true, "badge": 13, "office": {"floor": 2, "building": "B7"}})
    );
    // no path: the value's keys, URN-qualified or the extension object
    assert_eq!(
        ext(json!([{"op": "replace", "value": {attr("badge"): 14, CONTOSO: {"remote": false}}}]))
            .await,
        json!({"costCenter": "CC-10", "remote": false, "badge": 14, "office": {"floor": 2, "building": "B7"}})
    );
    // remove one attribute, one sub-attribute, then the whole extension
    assert_eq!(
        ext(json!([
            {"op": "remove", "path": attr("badge")},
            {"op": "remove", "path": attr("office.floor")}
        ]))
        .await,
        json!({"costCenter": "CC-10", "remote": false, "office": {"building": "B7"}})
    );
    assert_eq!(
        ext(json!([{"op": "Remove", "path": CONTOSO}])).await,
        Value::Null
    );
    let read = app.get(&path).await.body;
    assert_eq!(read["schemas"], json!([CORE_USER]));
    assert!(
        !stored(&app, "default", ResourceKind::User, &path)
            .await
            .contains_key(CONTOSO)
    );

    // an attribute the extension does not define is not a path
    let res = patch(
        &app,
        &path,
        json!([{"op": "add", "path": attr("nickname"), "value": "x"}]),
    )
    .await;
    let detail = res.assert_scim_error(400, Some("invalidPath"));
    assert!(detail.contains("nickname"), "{detail}");
}

async fn a_value_of_the_wrong_type_is_refused_naming_the_attribute_and_nothing_is_written(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    register(&app).await;
    for (ext, named) in [
        (json!({"badge": "seven"}), attr("badge")),
        (json!({"badge": 7.5}), attr("badge")),
        (json!({"remote": "maybe"}), attr("remote")),
        (json!({"costCenter": {"code": 42}}), attr("costCenter")),
        (json!({"hired": "last week"}), attr("hired")),
        (json!({"rate": "high"}), attr("rate")),
        (json!({"costCenter": ["a", "b"]}), attr("costCenter")),
        (json!({"office": "B1"}), attr("office")),
        (json!({"office": {"floor": "high"}}), attr("office.floor")),
        (json!("CC-1"), CONTOSO.to_owned()),
    ] {
        let res = app
            .post("/scim/v2/Users", user("typed", Some(ext.clone())))
            .await;
        let detail = res.assert_scim_error(400, Some("invalidValue"));
        assert!(detail.contains(&named), "{ext}: {detail}");
    }
    let listed = app.get("/scim/v2/Users").await;
    assert_eq!(listed.body["totalResults"], 0, "nothing was created");

    let (path, before) = created(&app, "Users", user("typed", Some(json!({"badge": 1})))).await;
    for (ops, named) in [
        (
            json!([{"op": "replace", "path": attr("badge"), "value": "x"}]),
            attr("badge"),
        ),
        (
            json!([{"op": "replace", "path": attr("remote"), "value": 1}]),
            attr("remote"),
        ),
        (
            json!([{"op": "add", "path": CONTOSO, "value": {"office": {"floor": true}}}]),
            attr("office.floor"),
        ),
    ] {
        let res = patch(&app, &path, ops.clone()).await;
        let detail = res.assert_scim_error(400, Some("invalidValue"));
        assert!(detail.contains(&named), "{ops}: {detail}");
    }
    assert_eq!(app.get(&path).await.body, before, "no refused PATCH wrote");
}

crate::on_both_stores!(
    the_extension_object_and_urn_qualified_keys_with_string_booleans_create_the_same_values,
    put_replaces_the_extension_and_a_body_without_it_clears_it,
    patch_by_attribute_path_by_sub_attribute_and_by_the_urn_alone_updates_the_extension,
    a_value_of_the_wrong_type_is_refused_naming_the_attribute_and_nothing_is_written,
);
