//! Tests of canonicalisation: input spellings and shapes (the RFC's and Entra's) against the
//! canonical documents they give, and the errors for bodies that cannot be canonicalised.

use serde_json::{Value, json};

use super::*;
use crate::scim::schema::{Registry, ResourceKind};

fn user(input: Value) -> Result<Value, Error> {
    let registry = Registry::new().unwrap();
    let rt = registry.resource_type(ResourceKind::User).unwrap();
    canonicalize(rt, registry.common(), &input, None).map(Value::Object)
}

#[test]
fn attribute_names_take_the_schema_spelling_whatever_the_input_case() {
    let doc = user(json!({
        "USERNAME": "bjensen",
        "Name": {"GivenName": "Barbara", "familyname": "Jensen"},
        "Emails": [{"Value": "b@example.com", "Primary": true, "TYPE": "work"}],
        "externalid": "e1",
    }))
    .unwrap();
    assert_eq!(
        doc,
        json!({
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "b@example.com", "primary": true, "type": "work"}],
            "externalId": "e1",
        })
    );
}

#[test]
fn boolean_strings_in_any_case_become_booleans() {
    for (input, expected) in [
        ("True", true),
        ("false", false),
        ("TRUE", true),
        ("False", false),
    ] {
        let doc = user(
            json!({"userName": "a", "active": input, "emails": [{"value": "x", "primary": input}]}),
        )
        .unwrap();
        assert_eq!(doc["active"], json!(expected), "{input}");
        assert_eq!(doc["emails"][0]["primary"], json!(expected), "{input}");
    }
}

#[test]
fn a_boolean_that_is_not_true_or_false_is_invalid_value_naming_the_attribute() {
    let err = user(json!({"userName": "a", "active": "yes"})).unwrap_err();
    assert_eq!(err.status, 400);
    assert_eq!(
        err.scim_type,
        Some(crate::scim::error::ScimType::InvalidValue)
    );
    assert_eq!(
        err.detail,
        "attribute 'active' must be a boolean (true or false), not a string"
    );
}

#[test]
fn nulls_empty_arrays_unknown_and_read_only_attributes_are_dropped() {
    let doc = user(json!({
        "userName": "a",
        "id": "client-chosen",
        "meta": {"resourceType": "User"},
        "groups": [{"value": "g"}],
        "title": null,
        "roles": [],
        "adreses": [{"locality": "x"}],
        "schemas": ["urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
        "name": {"givenName": null},
    }))
    .unwrap();
    assert_eq!(doc, json!({"userName": "a"}));
}

#[test]
fn missing_or_empty_user_name_is_required_invalid_value() {
    assert_eq!(
        user(json!({"displayName": "x"})).unwrap_err().detail,
        "attribute 'userName' is required"
    );
    assert_eq!(
        user(json!({"userName": "  "})).unwrap_err().detail,
        "attribute 'userName' is required and may not be empty"
    );
}

#[test]
fn wrong_types_name_the_attribute_path() {
    let cases = [
        (
            json!({"userName": ["a"]}),
            "attribute 'userName' must be a string, not an array",
        ),
        (
            json!({"userName": "a", "name": "x"}),
            "attribute 'name' must be a JSON object with sub-attributes",
        ),
        (
            json!({"userName": "a", "emails": [{"value": {"x": 1}}]}),
            "attribute 'emails[0].value' must be a string, not an object",
        ),
        (
            json!({"userName": "a", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "x"}),
            "'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' must be a JSON object holding the extension's attributes",
        ),
    ];
    for (input, detail) in cases {
        assert_eq!(user(input).unwrap_err().detail, detail);
    }
}

#[test]
fn the_same_attribute_twice_in_different_case_is_invalid_syntax() {
    let err = user(json!({"userName": "a", "USERNAME": "b"})).unwrap_err();
    assert_eq!(
        err.scim_type,
        Some(crate::scim::error::ScimType::InvalidSyntax)
    );
}

#[test]
fn enterprise_extension_is_accepted_as_object_and_as_urn_qualified_keys() {
    let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let doc = user(json!({
        "userName": "a",
        "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": {"Department": "R&D", "Manager": {"Value": "m1"}},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": 42,
    }))
    .unwrap();
    assert_eq!(
        doc[ext],
        json!({"department": "R&D", "manager": {"value": "m1"}, "employeeNumber": "42"})
    );
}

#[test]
fn manager_arrives_as_bare_string_array_or_empty_value() {
    let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    for manager in [
        json!("m1"),
        json!([{"value": "m1", "$ref": "../Users/m1"}]),
        json!({"value": "m1"}),
    ] {
        let doc = user(json!({"userName": "a", ext: {"manager": manager}})).unwrap();
        assert_eq!(doc[ext]["manager"]["value"], "m1");
    }
    for empty in [json!(""), json!({"value": ""}), json!(null), json!([])] {
        let doc = user(json!({"userName": "a", ext: {"manager": empty}})).unwrap();
        assert!(doc.get(ext).is_none(), "{doc}");
    }
}

#[test]
fn two_primary_values_are_invalid() {
    let err = user(json!({"userName": "a", "emails": [{"value": "x", "primary": true}, {"value": "y", "primary": "True"}]})).unwrap_err();
    assert_eq!(
        err.detail,
        "attribute 'emails' has 2 values marked primary; at most one may be"
    );
}

#[test]
fn password_is_accepted_and_never_kept() {
    let doc = user(json!({"userName": "a", "password": "hunter2"})).unwrap();
    assert!(doc.get("password").is_none());
}

#[test]
fn a_body_that_is_not_an_object_is_invalid_syntax() {
    let err = user(json!(["userName"])).unwrap_err();
    assert_eq!(err.status, 400);
    assert_eq!(
        err.scim_type,
        Some(crate::scim::error::ScimType::InvalidSyntax)
    );
}
