//! Attribute paths (RFC 7644 §3.10) wherever a client names one: resolved against Users and
//! Groups, as `sortBy`, `attributes`, `excludedAttributes` and the other query parameters, and
//! as the `path` of PATCH operations (Figure 7: value filters and sub-attributes) on the fixed
//! documents. Every answer is a result or a 400; a patched document is canonical.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use scimd::scim::patch;
use scimd::scim::path::resolve;
use scimd::scim::query::SearchParams;
use serde_json::json;

use common::{KINDS, common, fixed, fixed_id, resource_type};

fn params(text: &str) -> [SearchParams; 6] {
    let some = || Some(text.to_owned());
    [
        SearchParams {
            sort_by: some(),
            sort_order: Some("descending".into()),
            ..Default::default()
        },
        SearchParams {
            attributes: some(),
            ..Default::default()
        },
        SearchParams {
            excluded_attributes: some(),
            ..Default::default()
        },
        SearchParams {
            cursor: some(),
            sort_by: Some("userName".into()),
            ..Default::default()
        },
        SearchParams {
            cursor: some(),
            ..Default::default()
        },
        SearchParams {
            start_index: some(),
            count: some(),
            sort_order: some(),
            ..Default::default()
        },
    ]
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in KINDS {
        let rt = resource_type(kind);
        let _ = resolve(rt, common(), text);
        for p in params(text) {
            for compiled in [p.compile(rt, common()), p.compile_across(rt, common())] {
                if let Err(e) = compiled {
                    common::assert_client_error(&e, &text);
                }
            }
        }
        let operations = [
            json!({"op": "remove", "path": text}),
            json!({"op": "add", "path": text, "value": "x"}),
            json!({"op": "replace", "path": text, "value": {"value": "x", "type": "work", "primary": true}}),
            json!({"op": "Add", "path": text, "value": [{"value": "y"}]}),
        ];
        for op in operations {
            let body = json!({"Operations": [op]});
            match patch::apply(rt, common(), fixed(kind), fixed_id(), &body) {
                Ok(doc) => common::assert_canonical(kind, &doc),
                Err(e) => common::assert_client_error(&e, &body),
            }
        }
    }
});
