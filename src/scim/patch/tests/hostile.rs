//! Tests of the PATCH engine on hostile input: non-ASCII and NUL in paths and values, scalars
//! where elements belong, the bounds of `scim::limits`, and work linear in the values touched.

use serde_json::{Value, json};

use super::super::set::take_probes;
use super::{ENTERPRISE, barbara, patch, user};
use crate::scim::error::{Error, ScimType};

#[test]
fn non_ascii_patch_paths_are_invalid_path_not_panics() {
    let cases = [
        ("€€", "path '€€': attribute '€€' is not defined for User"),
        ("€[", "path '€[' has a '[' that is never closed"),
        (
            "emails[value eq \"€\"]€",
            "path 'emails[value eq \"€\"]€' has '€' after ']'",
        ),
        (
            "emails[type eq \"€\"].€",
            "path 'emails[type eq \"€\"].€': 'emails' has no sub-attribute '€'",
        ),
        (
            "e\u{301}mails[type eq \"work\"]",
            "path 'e\u{301}mails[type eq \"work\"]': attribute 'e\u{301}mails' is not defined for User",
        ),
        (
            "😀.😀",
            "path '😀.😀': attribute '😀.😀' is not defined for User",
        ),
        (
            "urn:€€:x",
            "path 'urn:€€:x': 'urn:€€:x' names a schema that User does not have",
        ),
        (
            "nick\u{0}Name",
            "path 'nick\u{0}Name': attribute 'nick\u{0}Name' is not defined for User",
        ),
    ];
    for (path, detail) in cases {
        let err = patch(
            &barbara(),
            json!([{"op": "replace", "path": path, "value": "x"}]),
        );
        assert_eq!(
            err,
            Err(Error::new(
                400,
                Some(ScimType::InvalidPath),
                format!("Operations[0]: {detail}")
            )),
            "{path:?}"
        );
    }
}

#[test]
fn a_value_filter_with_non_ascii_text_selects_and_creates_by_characters() {
    let got = patch(
        &barbara(),
        json!([
            {"op": "add", "path": "emails[type eq \"😀€\"].value", "value": "e\u{301}@x"},
            {"op": "replace", "path": "emails[value eq \"e\u{301}@x\"].display", "value": "€"}
        ]),
    )
    .unwrap();
    assert_eq!(
        got["emails"],
        json!([
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"},
            {"type": "😀€", "value": "e\u{301}@x", "display": "€"}
        ])
    );
}

#[test]
fn a_nul_character_in_any_patch_value_is_invalid_value_naming_its_path() {
    let nul = |path: &str| {
        Err(Error::invalid_value(format!(
            "Operations[0]: {path}: contains a NUL character, which scimd cannot store"
        )))
    };
    let department = format!("{ENTERPRISE}:department");
    let cases = [
        (
            json!({"op": "add", "path": "nickName", "value": "a\u{0}"}),
            nul("nickName"),
        ),
        (
            json!({"op": "replace", "path": "name.givenName", "value": "\u{0}"}),
            nul("name.givenName"),
        ),
        (
            json!({"op": "replace", "path": "NAME.GIVENNAME", "value": "\u{0}"}),
            nul("NAME.givenName"),
        ),
        (
            json!({"op": "add", "path": "emails[type eq \"work\"].value", "value": "x\u{0}"}),
            nul("emails[type eq \"work\"].value"),
        ),
        (
            json!({"op": "add", "path": "emails", "value": [{"value": "ok"}, {"value": "\u{0}"}]}),
            nul("emails[1].value"),
        ),
        (
            json!({"op": "replace", "value": {"title": "\u{0}"}}),
            nul("title"),
        ),
        (
            json!({"op": "replace", "path": department.clone(), "value": "\u{0}"}),
            nul(&department),
        ),
        (
            json!({"op": "replace", "value": {ENTERPRISE: {"department": "\u{0}"}}}),
            nul(&department),
        ),
        (
            json!({"op": "add", "path": "roles", "value": [{"value": "{\"value\":\"A\\u0000\"}"}]}),
            nul("roles[0].value"),
        ),
    ];
    for (op, expected) in cases {
        assert_eq!(patch(&barbara(), json!([op])), expected, "{op}");
    }
}

#[test]
fn a_nul_character_in_a_value_filter_is_invalid_filter() {
    for path in [
        "emails[value eq \"\u{0}\"]",
        "emails[value eq \"\\u0000\"].type",
    ] {
        assert_eq!(
            patch(&barbara(), json!([{"op": "remove", "path": path}])),
            Err(Error::new(
                400,
                Some(ScimType::InvalidFilter),
                format!(
                    "Operations[0]: path '{path}': invalid filter: the filter contains a NUL character, which no value can hold"
                )
            )),
            "{path:?}"
        );
    }
}

#[test]
fn over_long_values_and_names_are_invalid_value_naming_the_attribute_and_the_limit() {
    assert_eq!(
        patch(
            &barbara(),
            json!([{"op": "add", "path": "nickName", "value": "x".repeat(65_537)}])
        ),
        Err(Error::invalid_value(
            "Operations[0]: nickName: is 65537 bytes long; a string may be at most 65536 bytes (UTF-8)"
        ))
    );
    assert_eq!(
        patch(
            &barbara(),
            json!([{"op": "replace", "path": "userName", "value": "€".repeat(1025)}])
        ),
        Err(Error::invalid_value(
            "userName: is 1025 characters long; it may be at most 1024"
        ))
    );
}

#[test]
fn scalars_written_as_elements_of_a_multi_valued_complex_attribute_are_invalid_value() {
    let cases = [
        (
            json!({"op": "add", "path": "emails", "value": [1, 2]}),
            "emails[0]",
        ),
        (
            json!({"op": "add", "path": "emails", "value": "a@b"}),
            "emails[0]",
        ),
        (
            json!({"op": "replace", "value": {"emails": ["a@b"]}}),
            "emails[0]",
        ),
        (
            json!({"op": "replace", "path": "emails[type eq \"work\"]", "value": "a@b"}),
            "emails[type eq \"work\"]",
        ),
        (
            json!({"op": "add", "path": "emails[type eq \"work\"]", "value": ["a@b"]}),
            "emails[type eq \"work\"]",
        ),
    ];
    for (op, path) in cases {
        assert_eq!(
            patch(&barbara(), json!([op])),
            Err(Error::invalid_value(format!(
                "Operations[0]: attribute '{path}' must be a JSON object with sub-attributes"
            ))),
            "{op}"
        );
    }
}

fn emails(range: std::ops::Range<usize>) -> Vec<Value> {
    range
        .map(|i| json!({"value": format!("{i}@example.com"), "type": "work"}))
        .collect()
}

#[test]
fn more_operations_than_the_limit_are_invalid_value_naming_it() {
    let title = json!({"op": "replace", "path": "title", "value": "t"});
    let limit = "a PatchOp may hold at most 1000 operations (one without a 'path' counts once per attribute it sets)";
    let many = Value::Array(vec![title.clone(); 1001]);
    assert_eq!(
        patch(&barbara(), many),
        Err(Error::invalid_value(format!("{limit}; this one has 1001")))
    );
    let wide: serde_json::Map<String, Value> =
        (0..1001).map(|i| (format!("a{i}"), json!("x"))).collect();
    assert_eq!(
        patch(&barbara(), json!([{"op": "replace", "value": wide}])),
        Err(Error::invalid_value(format!("{limit}; this one has 1001")))
    );
    let mut expected = Value::Object(barbara());
    expected["title"] = json!("t");
    assert_eq!(
        patch(&barbara(), Value::Array(vec![title; 1000])),
        Ok(expected)
    );
}

#[test]
fn a_patch_growing_an_attribute_beyond_the_value_limit_is_invalid_value_naming_it() {
    let too_many = "emails: has 1001 values; an attribute may have at most 1000";
    assert_eq!(
        patch(
            &barbara(),
            json!([{"op": "add", "path": "emails", "value": emails(0..999)}])
        ),
        Err(Error::invalid_value(format!("Operations[0]: {too_many}")))
    );
    let full = user(json!({"userName": "u", "emails": emails(0..1000)}));
    assert_eq!(
        patch(
            &full,
            json!([{"op": "add", "path": "emails[type eq \"home\"].value", "value": "h@x"}])
        ),
        Err(Error::invalid_value(format!("Operations[0]: {too_many}")))
    );
}

/// The value hashes and comparisons of one PatchOp that adds `n` e-mails (half of them
/// present already) and removes them again by a value list.
fn add_and_remove_cost(n: usize) -> usize {
    let doc = user(json!({"userName": "u", "emails": emails(0..n / 2)}));
    let listed: Vec<Value> = (0..n)
        .map(|i| json!({"value": format!("{i}@example.com")}))
        .collect();
    let ops = json!([
        {"op": "add", "path": "emails", "value": emails(0..n)},
        {"op": "remove", "path": "emails", "value": listed},
    ]);
    take_probes();
    let got = patch(&doc, ops);
    let probes = take_probes();
    assert_eq!(got, Ok(json!({"userName": "u"})));
    probes
}

#[test]
fn adding_and_removing_a_thousand_values_costs_linear_work() {
    let small = add_and_remove_cost(250);
    let large = add_and_remove_cost(1000);
    // Hashing does about 5 probes per value; comparing pairs would make 500 000 at n = 1000.
    assert!(large <= 10 * 1000, "{large} probes for 1000 values");
    assert!(
        large <= 5 * small,
        "{small} probes for 250 values, {large} for 1000"
    );
}
