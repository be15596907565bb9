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

fn group(input: Value) -> Result<Value, Error> {
    let registry = Registry::new().unwrap();
    let rt = registry.resource_type(ResourceKind::Group).unwrap();
    canonicalize(rt, registry.common(), &input, None).map(Value::Object)
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[test]
fn a_nul_character_in_any_kept_string_is_invalid_value_naming_its_path() {
    let nul = |path: &str| {
        Err(Error::invalid_value(format!(
            "{path}: contains a NUL character, which scimd cannot store"
        )))
    };
    let department = format!("{ENTERPRISE}:department");
    let cases = [
        (json!({"userName": "a\u{0}"}), nul("userName")),
        (
            json!({"userName": "a", "name": {"givenName": "\u{0}"}}),
            nul("name.givenName"),
        ),
        (
            json!({"userName": "a", "emails": [{"value": "x"}, {"value": "y", "type": "w\u{0}"}]}),
            nul("emails[1].type"),
        ),
        (
            json!({"userName": "a", ENTERPRISE: {"department": "\u{0}R&D"}}),
            nul(&department),
        ),
        (
            json!({"userName": "a", department.clone(): "R&D\u{0}"}),
            nul(&department),
        ),
        (
            json!({"userName": "a", ENTERPRISE: {"manager": "m\u{0}"}}),
            nul(&format!("{ENTERPRISE}:manager.value")),
        ),
        (
            json!({"userName": "a", "roles": [{"value": "{\"value\":\"Admin\\u0000\"}"}]}),
            nul("roles[0].value"),
        ),
        (
            json!({"userName": "a", "active": "tr\u{0}ue"}),
            nul("active"),
        ),
        (
            json!({"userName": "a", "externalId": "\u{0}"}),
            nul("externalId"),
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(user(input.clone()), expected, "{input}");
    }
    assert_eq!(
        group(json!({"displayName": "g", "members": [{"value": "m", "display": "\u{0}"}]})),
        nul("members[0].display")
    );
}

#[test]
fn a_nul_character_in_what_is_dropped_anyway_is_not_an_error() {
    let doc = user(json!({
        "userName": "a",
        "bogus\u{0}": "\u{0}",
        "id": "\u{0}",
        "groups": [{"value": "\u{0}"}],
        "password": "\u{0}",
        "schemas": ["\u{0}"],
        "name": {"nonsense": "\u{0}"},
    }));
    assert_eq!(doc, Ok(json!({"userName": "a"})));
}

#[test]
fn over_long_strings_and_names_are_invalid_value_naming_the_attribute_and_the_limit() {
    let long_name = "é".repeat(1025);
    let cases = [
        (
            user(json!({"userName": "a", "nickName": "x".repeat(65_537)})),
            "nickName: is 65537 bytes long; a string may be at most 65536 bytes (UTF-8)",
        ),
        (
            user(json!({"userName": "a", ENTERPRISE: {"department": "€".repeat(21_846)}})),
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department: is 65538 bytes long; a string may be at most 65536 bytes (UTF-8)",
        ),
        (
            user(json!({"userName": long_name})),
            "userName: is 1025 characters long; it may be at most 1024",
        ),
        (
            user(json!({"userName": "a", "externalId": "😀".repeat(1025)})),
            "externalId: is 1025 characters long; it may be at most 1024",
        ),
        (
            group(json!({"displayName": "g".repeat(1025)})),
            "displayName: is 1025 characters long; it may be at most 1024",
        ),
    ];
    for (got, detail) in cases {
        assert_eq!(got, Err(Error::invalid_value(detail)));
    }
    let at_the_limits = json!({
        "userName": "é".repeat(1024),
        "displayName": "d".repeat(65_536),
    });
    assert_eq!(user(at_the_limits.clone()), Ok(at_the_limits));
}

#[test]
fn more_values_than_the_limit_are_invalid_value_naming_the_attribute() {
    let emails =
        |n: usize| -> Vec<Value> { (0..n).map(|i| json!({"value": format!("{i}@x")})).collect() };
    assert_eq!(
        user(json!({"userName": "a", "emails": emails(1001)})),
        Err(Error::invalid_value(
            "emails: has 1001 values; an attribute may have at most 1000"
        ))
    );
    let members: Vec<Value> = (0..1001)
        .map(|i| json!({"value": format!("m{i}")}))
        .collect();
    assert_eq!(
        group(json!({"displayName": "g", "members": members})),
        Err(Error::invalid_value(
            "members: has 1001 values; an attribute may have at most 1000"
        ))
    );
    let full = json!({"userName": "a", "emails": emails(1000)});
    assert_eq!(user(full.clone()), Ok(full));
}

#[test]
fn scalars_are_not_elements_of_a_multi_valued_complex_attribute() {
    let not_object = |path: &str| {
        Err(Error::invalid_value(format!(
            "attribute '{path}' must be a JSON object with sub-attributes"
        )))
    };
    let cases = [
        (
            user(json!({"userName": "a", "emails": [1, 2]})),
            not_object("emails[0]"),
        ),
        (
            user(json!({"userName": "a", "emails": ["a@b"]})),
            not_object("emails[0]"),
        ),
        (
            user(json!({"userName": "a", "emails": "a@b"})),
            not_object("emails[0]"),
        ),
        (
            user(json!({"userName": "a", "emails": [{"value": "a@b"}, true]})),
            not_object("emails[1]"),
        ),
        (
            user(json!({"userName": "a", "roles": ["Admin"]})),
            not_object("roles[0]"),
        ),
        (
            group(json!({"displayName": "g", "members": ["m1"]})),
            not_object("members[0]"),
        ),
    ];
    for (got, expected) in cases {
        assert_eq!(got, expected);
    }
}

#[test]
fn entras_shapes_stay_accepted_a_lone_object_json_encoded_roles_and_a_bare_manager() {
    let doc = user(json!({
        "userName": "a",
        "emails": {"value": "a@b"},
        "roles": ["{\"value\":\"Admin\",\"displayName\":\"Admin role\"}"],
        ENTERPRISE: {"manager": "m1"},
    }));
    assert_eq!(
        doc,
        Ok(json!({
            "userName": "a",
            "emails": [{"value": "a@b"}],
            "roles": [{"value": "Admin", "display": "Admin role"}],
            ENTERPRISE: {"manager": {"value": "m1"}},
        }))
    );
}

#[test]
fn a_json_encoded_value_is_read_one_level_deep_in_any_letter_case() {
    let doc = user(
        json!({"userName": "a", "roles": [{"Value": "{\"value\":\"Admin\",\"displayName\":\"A\"}"}]}),
    );
    assert_eq!(
        doc,
        Ok(json!({"userName": "a", "roles": [{"value": "Admin", "display": "A"}]}))
    );
    assert_eq!(
        user(doc.clone().unwrap()),
        doc,
        "canonical documents canonicalise to themselves"
    );
}

#[test]
fn a_json_encoded_object_inside_a_json_encoded_object_is_invalid_value() {
    // found by fuzzing: the inner object was stored as the value, and the next write of the
    // user decoded it again
    let once = "{\"value\":\"x\"}";
    let twice = format!("{{\"value\":{}}}", json!(once));
    let cases = [
        (json!([{"value": twice}]), "photos[0].value"),
        // a role as a JSON string is one level, its value another
        (
            json!([format!("{{\"value\":{}}}", json!(twice))]),
            "photos[0].value",
        ),
        (
            json!([{"VALUE": format!("{{\"Value\":{}}}", json!(once))}]),
            "photos[0].value",
        ),
    ];
    for (photos, path) in cases {
        assert_eq!(
            user(json!({"userName": "a", "photos": photos.clone()})),
            Err(Error::invalid_value(format!(
                "attribute '{path}' is a JSON-encoded object inside a JSON-encoded object; scimd reads one level (Entra's roles)"
            ))),
            "{photos}"
        );
    }
}
