//! Tests of the PATCH engine: every path form and operation against the document the RFC
//! describes, invalid operations and their scimType, and the property that a failing
//! operation leaves the document unchanged.

use serde_json::{Value, json};

use super::*;
use crate::scim::schema::{Registry, ResourceKind};

pub(super) const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

pub(super) fn user(body: Value) -> Document {
    let registry = Registry::new().unwrap();
    let rt = registry.resource_type(ResourceKind::User).unwrap();
    canonicalize(rt, registry.common(), &body, None).unwrap()
}

pub(super) fn patch(doc: &Document, ops: Value) -> Result<Value, Error> {
    let registry = Registry::new().unwrap();
    let rt = registry.resource_type(ResourceKind::User).unwrap();
    let body =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    apply(rt, registry.common(), doc, ids::ID, &body).map(Value::Object)
}

pub(super) fn barbara() -> Document {
    user(json!({
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [{"type": "work", "locality": "Hollywood"}],
        ENTERPRISE: {"department": "Tour Operations", "manager": {"value": "m1"}}
    }))
}

/// (operations, expected document) — the forms of RFC 7644 §3.5.2.1–3 and Entra's shapes.
#[test]
fn every_path_form_and_operation_gives_the_document_the_rfc_describes() {
    let cases: Vec<(Value, Value)> = vec![
        // single-valued simple: add and replace set, remove unsets; ops in any case
        (
            json!([{"op": "Add", "path": "nickName", "value": "Babs"}]),
            json!({"nickName": "Babs"}),
        ),
        (
            json!([{"op": "REPLACE", "path": "active", "value": "False"}]),
            json!({"active": false}),
        ),
        (
            json!([{"op": "replace", "path": "active", "value": false}]),
            json!({"active": false}),
        ),
        (
            json!([{"op": "remove", "path": "active"}]),
            json!({"active": null}),
        ),
        // complex single-valued: sub-attribute, and merge on replace
        (
            json!([{"op": "Replace", "path": "name.familyName", "value": "Doe"}]),
            json!({"name": {"givenName": "Barbara", "familyName": "Doe"}}),
        ),
        (
            json!([{"op": "replace", "path": "name", "value": {"middleName": "J"}}]),
            json!({"name": {"givenName": "Barbara", "familyName": "Jensen", "middleName": "J"}}),
        ),
        (
            json!([{"op": "remove", "path": "name.givenName"}]),
            json!({"name": {"familyName": "Jensen"}}),
        ),
        // multi-valued: add appends without duplicates, replace replaces all, remove removes all
        (
            json!([{"op": "add", "path": "emails", "value": [{"value": "babs@jensen.org", "type": "home"}, {"value": "new@x.org", "type": "other"}]}]),
            json!({"emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"},
                {"value": "new@x.org", "type": "other"}
            ]}),
        ),
        (
            json!([{"op": "replace", "path": "emails", "value": [{"value": "only@x.org"}]}]),
            json!({"emails": [{"value": "only@x.org"}]}),
        ),
        (
            json!([{"op": "remove", "path": "emails"}]),
            json!({"emails": null}),
        ),
        // value filters
        (
            json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
            json!({"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}]}),
        ),
        (
            json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updated@example.com"}]),
            json!({"emails": [
                {"value": "updated@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ]}),
        ),
        (
            json!([{"op": "replace", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"}]),
            json!({"addresses": [{"type": "work", "locality": "Redmond"}]}),
        ),
        (
            json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]),
            json!({"emails": [{"value": "bjensen@example.com", "type": "work"}, {"value": "babs@jensen.org", "type": "home"}]}),
        ),
        // Entra: create-on-absent through a filtered path, with a string boolean
        (
            json!([
                {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "555-0100"},
                {"op": "Add", "path": "addresses[type eq \"other\"].formatted", "value": "1 Main St"}
            ]),
            json!({
                "phoneNumbers": [{"type": "mobile", "value": "555-0100"}],
                "addresses": [{"type": "work", "locality": "Hollywood"}, {"type": "other", "formatted": "1 Main St"}]
            }),
        ),
        // primary true on one element clears it on the others
        (
            json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": "True"}]),
            json!({"emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": false},
                {"value": "babs@jensen.org", "type": "home", "primary": true}
            ]}),
        ),
        // URN paths, colon and legacy dot forms; manager shapes
        (
            json!([{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"}]),
            json!({ENTERPRISE: {"department": "Sales", "manager": {"value": "m1"}}}),
        ),
        (
            json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.employeeNumber", "value": "42"}]),
            json!({ENTERPRISE: {"department": "Tour Operations", "manager": {"value": "m1"}, "employeeNumber": "42"}}),
        ),
        (
            json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m2"}]),
            json!({ENTERPRISE: {"department": "Tour Operations", "manager": {"value": "m2"}}}),
        ),
        (
            json!([{"op": "Add", "path": "manager", "value": [{"$ref": "../Users/m3", "value": "m3"}]}]),
            json!({ENTERPRISE: {"department": "Tour Operations", "manager": {"value": "m3", "$ref": "../Users/m3"}}}),
        ),
        (
            json!([{"op": "replace", "path": "manager", "value": {"value": ""}}]),
            json!({ENTERPRISE: {"department": "Tour Operations"}}),
        ),
        (
            json!([{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": ""}]),
            json!({ENTERPRISE: {"department": "Tour Operations"}}),
        ),
        (
            json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}, {"op": "remove", "path": "manager"}]),
            json!({ENTERPRISE: null}),
        ),
        // path-less replace with dotted and URN keys (aadOptscim062020) and plain objects
        (
            json!([{"op": "replace", "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "NAME.familyName": "Unua",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq",
                "active": "false"
            }}]),
            json!({
                "displayName": "Bjfe",
                "name": {"givenName": "Kkom", "familyName": "Unua"},
                "active": false,
                ENTERPRISE: {"department": "Tour Operations", "manager": {"value": "m1"}, "employeeNumber": "Aklq"}
            }),
        ),
        (
            json!([{"op": "add", "value": {"title": "Boss", ENTERPRISE: {"costCenter": "4130"}, "name": {"honorificPrefix": "Ms."}}}]),
            json!({
                "title": "Boss",
                "name": {"givenName": "Barbara", "familyName": "Jensen", "honorificPrefix": "Ms."},
                ENTERPRISE: {"department": "Tour Operations", "manager": {"value": "m1"}, "costCenter": "4130"}
            }),
        ),
        // roles: JSON-encoded values, displayName for display; add appends, replace replaces
        (
            json!([{"op": "Add", "path": "roles", "value": [{"value": "{\"id\":\"06b07648\",\"value\":\"Admin\",\"displayName\":\"Admin role\"}"}]}]),
            json!({"roles": [{"value": "Admin", "display": "Admin role"}]}),
        ),
        (
            json!([
                {"op": "add", "path": "roles", "value": [{"value": "User"}]},
                {"op": "replace", "path": "roles", "value": [{"primary": "False", "type": "WindowsAzureActiveDirectoryRole", "display": "Org", "value": "Organizer"}]}
            ]),
            json!({"roles": [{"primary": false, "type": "WindowsAzureActiveDirectoryRole", "display": "Org", "value": "Organizer"}]}),
        ),
        // Entra's remove with a value list removes only those values
        (
            json!([{"op": "Remove", "path": "emails", "value": [{"value": "babs@jensen.org"}]}]),
            json!({"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}]}),
        ),
        // operations run in order, each on the result of the previous one
        (
            json!([
                {"op": "add", "path": "title", "value": "a"},
                {"op": "replace", "path": "title", "value": "b"},
                {"op": "remove", "path": "emails[value co \"jensen.org\"]"},
                {"op": "remove", "path": "emails[value eq \"nobody@x\"]"}
            ]),
            json!({"title": "b", "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}]}),
        ),
        // schemas is computed; changing it changes nothing
        (
            json!([{"op": "replace", "path": "schemas", "value": ["x"]}]),
            json!({}),
        ),
    ];
    for (ops, changes) in cases {
        let mut expected = serde_json::Value::Object(barbara());
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                expected.as_object_mut().unwrap().remove(k);
            } else {
                expected[k] = v.clone();
            }
        }
        let got = patch(&barbara(), ops.clone()).unwrap_or_else(|e| panic!("{ops}: {}", e.detail));
        assert_eq!(got, expected, "{ops}");
    }
}

#[test]
fn invalid_operations_fail_with_the_right_scim_type_and_name_the_operation() {
    let cases = [
        (
            json!([{"op": "remove"}]),
            400,
            Some(ScimType::NoTarget),
            "Operations[0]: remove needs a 'path' (RFC 7644 §3.5.2.2)",
        ),
        (
            json!([{"op": "move", "path": "title"}]),
            400,
            Some(ScimType::InvalidSyntax),
            "Operations[0]: 'op' must be add, replace or remove, not 'move'",
        ),
        (
            json!([{"op": "add", "path": "title"}]),
            400,
            Some(ScimType::InvalidValue),
            "Operations[0]: title: add and replace need a 'value'",
        ),
        (
            json!([{"op": "replace", "path": "id", "value": "x"}]),
            400,
            Some(ScimType::Mutability),
            "Operations[0]: 'id' is read-only",
        ),
        (
            json!([{"op": "replace", "path": "meta.created", "value": "x"}]),
            400,
            Some(ScimType::Mutability),
            "Operations[0]: 'meta.created' is read-only",
        ),
        (
            json!([{"op": "add", "path": "groups", "value": [{"value": "g"}]}]),
            400,
            Some(ScimType::Mutability),
            "Operations[0]: 'groups' is read-only",
        ),
        (
            json!([{"op": "remove", "path": "userName"}]),
            400,
            Some(ScimType::Mutability),
            "Operations[0]: 'userName' is required and cannot be removed",
        ),
        (
            json!([{"op": "replace", "path": "bogus", "value": 1}]),
            400,
            Some(ScimType::InvalidPath),
            "Operations[0]: path 'bogus': attribute 'bogus' is not defined for User",
        ),
        (
            json!([{"op": "replace", "path": "emails[type eq \"work\"", "value": 1}]),
            400,
            Some(ScimType::InvalidPath),
            "Operations[0]: path 'emails[type eq \"work\"' has a '[' that is never closed",
        ),
        (
            json!([{"op": "replace", "path": "emails[bogus eq 1].value", "value": "x"}]),
            400,
            Some(ScimType::InvalidFilter),
            "Operations[0]: path 'emails[bogus eq 1].value': invalid filter: attribute 'emails.bogus' is not defined",
        ),
        (
            json!([{"op": "replace", "path": "name[givenName eq \"x\"]", "value": "x"}]),
            400,
            Some(ScimType::InvalidPath),
            "Operations[0]: path 'name[givenName eq \"x\"]': a value filter needs a multi-valued complex attribute",
        ),
        (
            json!([{"op": "replace", "path": "emails[value co \"nobody\"].type", "value": "work"}]),
            400,
            Some(ScimType::NoTarget),
            "Operations[0]: no value of 'emails' matches [value co \"nobody\"], and the filter does not describe one to create",
        ),
        (
            json!([{"op": "add", "path": "title", "value": "ok"}, {"op": "replace", "path": "active", "value": "maybe"}]),
            400,
            Some(ScimType::InvalidValue),
            "Operations[1]: attribute 'active' must be a boolean (true or false), not a string",
        ),
        (
            json!([{"op": "replace", "value": "not an object"}]),
            400,
            Some(ScimType::InvalidValue),
            "Operations[0]: add or replace without a 'path' needs an object 'value'",
        ),
        (
            json!([]),
            400,
            Some(ScimType::InvalidSyntax),
            "a PatchOp needs 'Operations': an array of at least one operation (RFC 7644 §3.5.2)",
        ),
    ];
    for (ops, status, scim_type, detail) in cases {
        let err = patch(&barbara(), ops.clone()).unwrap_err();
        assert_eq!(
            (err.status, err.scim_type, err.detail.as_str()),
            (status, scim_type, detail),
            "{ops}"
        );
    }
}

#[test]
fn a_failing_operation_leaves_the_document_unchanged() {
    let before = barbara();
    let copy = before.clone();
    let err = patch(
        &before,
        json!([{"op": "replace", "path": "title", "value": "x"}, {"op": "remove"}]),
    );
    assert!(err.is_err());
    assert_eq!(before, copy);
}

mod hostile;
mod ids;

mod model {
    //! Property: a sequence of operations gives what a simple model of attribute values
    //! predicts; a sequence with one failing operation leaves the document unchanged.

    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::{ENTERPRISE, barbara, patch};

    const PATHS: [&str; 8] = [
        "title",
        "nickName",
        "displayName",
        "name.givenName",
        "name.familyName",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.costCenter",
        "emails[type eq \"work\"].value",
    ];

    /// What the model says is at `path` in a document.
    fn read(doc: &Value, path: &str) -> Option<String> {
        let v = match path {
            "name.givenName" => doc.get("name").and_then(|n| n.get("givenName")),
            "name.familyName" => doc.get("name").and_then(|n| n.get("familyName")),
            p if p.ends_with("department") => doc.get(ENTERPRISE).and_then(|e| e.get("department")),
            p if p.ends_with("costCenter") => doc.get(ENTERPRISE).and_then(|e| e.get("costCenter")),
            "emails[type eq \"work\"].value" => doc
                .get("emails")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().find(|e| e["type"] == "work"))
                .and_then(|e| e.get("value")),
            p => doc.get(p),
        };
        v.and_then(Value::as_str).map(str::to_owned)
    }

    fn op_strategy() -> impl Strategy<Value = (String, usize, Option<String>)> {
        (
            prop::sample::select(vec!["add", "Add", "replace", "Replace", "remove", "Remove"]),
            0..PATHS.len(),
            prop::option::of(prop::sample::select(vec!["a", "B", "zoë", "x y"])),
        )
            .prop_map(|(op, p, v)| (op.to_owned(), p, v.map(str::to_owned)))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn patching_then_reading_returns_what_the_model_predicts(ops in prop::collection::vec(op_strategy(), 1..8)) {
            let start = Value::Object(barbara());
            let mut model: BTreeMap<&str, Option<String>> = PATHS.iter().map(|p| (*p, read(&start, p))).collect();
            let mut body = Vec::new();
            for (op, p, v) in &ops {
                let path = PATHS[*p];
                if op.eq_ignore_ascii_case("remove") {
                    body.push(json!({"op": op, "path": path}));
                    model.insert(path, None);
                } else {
                    let v = v.clone().unwrap_or_else(|| "v".to_owned());
                    body.push(json!({"op": op, "path": path, "value": v}));
                    model.insert(path, Some(v));
                }
            }
            let got = patch(&barbara(), Value::Array(body.clone())).map_err(|e| TestCaseError::fail(e.detail))?;
            for path in PATHS {
                prop_assert_eq!(read(&got, path), model[path].clone(), "{} after {}", path, Value::Array(body.clone()));
            }
        }

        #[test]
        fn one_failing_operation_anywhere_leaves_the_document_unchanged(
            ops in prop::collection::vec(op_strategy(), 0..6),
            at in 0usize..6,
            bad in prop::sample::select(vec![
                json!({"op": "remove"}),
                json!({"op": "replace", "path": "active", "value": "maybe"}),
                json!({"op": "replace", "path": "meta.created", "value": "x"}),
                json!({"op": "add", "path": "emails[value co \"q\"].type", "value": "x"}),
                json!({"op": "explode", "path": "title"}),
            ]),
        ) {
            let mut body: Vec<Value> = ops
                .iter()
                .map(|(op, p, v)| json!({"op": op, "path": PATHS[*p], "value": v.clone().unwrap_or_default()}))
                .collect();
            body.insert(at.min(body.len()), bad);
            let before = barbara();
            prop_assert!(patch(&before, Value::Array(body)).is_err());
            prop_assert_eq!(before, barbara());
        }
    }
}

#[test]
fn a_schema_urn_as_path_merges_the_extension_object_or_removes_the_extension() {
    let doc = barbara();
    let added = patch(
        &doc,
        json!([{"op": "add", "path": ENTERPRISE, "value": {"employeeNumber": "701984", "department": "Sales"}}]),
    )
    .unwrap();
    assert_eq!(added[ENTERPRISE]["employeeNumber"], "701984");
    assert_eq!(added[ENTERPRISE]["department"], "Sales");
    assert_eq!(
        added[ENTERPRISE]["manager"]["value"], "m1",
        "other attributes stay"
    );
    // scim2-tester sends the extension object with a `schemas` member of its own
    let described = patch(
        &doc,
        json!([{"op": "add", "path": ENTERPRISE, "value": {"schemas": [ENTERPRISE], "division": "West"}}]),
    )
    .unwrap();
    assert_eq!(described[ENTERPRISE]["division"], "West");
    let lower = ENTERPRISE.to_lowercase();
    let replaced = patch(
        &doc,
        json!([{"op": "Replace", "path": lower, "value": {"costCenter": "4130"}}]),
    )
    .unwrap();
    assert_eq!(replaced[ENTERPRISE]["costCenter"], "4130");
    let removed = patch(&doc, json!([{"op": "remove", "path": ENTERPRISE}])).unwrap();
    assert!(removed.get(ENTERPRISE).is_none(), "{removed}");
    assert_eq!(removed["userName"], "bjensen");
    let core = "urn:ietf:params:scim:schemas:core:2.0:User";
    let via_core = patch(
        &doc,
        json!([{"op": "replace", "path": core, "value": {"nickName": "B"}}]),
    )
    .unwrap();
    assert_eq!(via_core["nickName"], "B");
    let refused = patch(&doc, json!([{"op": "remove", "path": core}])).unwrap_err();
    assert_eq!(refused.scim_type, Some(ScimType::Mutability));
    let not_object = patch(
        &doc,
        json!([{"op": "add", "path": ENTERPRISE, "value": "x"}]),
    )
    .unwrap_err();
    assert_eq!(not_object.scim_type, Some(ScimType::InvalidValue));
    assert!(
        not_object.detail.contains("need an object 'value'"),
        "{}",
        not_object.detail
    );
}
