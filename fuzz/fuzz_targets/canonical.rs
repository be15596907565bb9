//! Canonicalisation (RFC 7643 §2): a resource body, structured from scimd's vocabulary or raw
//! JSON, canonicalised as a User and as a Group, new (POST) and over the fixed documents (PUT).
//! The result is a 400 naming the problem, or a canonical document that canonicalises to
//! itself and folds and renders.
#![no_main]

mod common;

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use scimd::scim::canonical::canonicalize;
use serde_json::Value;

use common::{KINDS, common, fixed, input, resource_type};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let body = if mode & 1 == 0 {
        match input::object(&mut Unstructured::new(rest), 0) {
            Ok(members) => Value::Object(members),
            Err(_) => return,
        }
    } else {
        match serde_json::from_slice::<Value>(rest) {
            Ok(body) => body,
            Err(_) => return,
        }
    };
    for kind in KINDS {
        let rt = resource_type(kind);
        for existing in [None, Some(fixed(kind))] {
            match canonicalize(rt, common(), &body, existing) {
                Ok(doc) => common::assert_canonical(kind, &doc),
                Err(e) => common::assert_client_error(&e, &body),
            }
        }
    }
});
