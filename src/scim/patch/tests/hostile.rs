//! Tests of the PATCH engine on hostile input: non-ASCII in paths and values.

use serde_json::json;

use super::{barbara, patch};
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
