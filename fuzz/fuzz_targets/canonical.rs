//! Canonicalisation (RFC 7643 §2): a resource body, structured from scimd's vocabulary or raw
//! JSON, canonicalised as a User and as a Group, new (POST) and over the fixed documents (PUT).
//! The result is a 400 naming the problem, or a canonical document that canonicalises to
//! itself and folds and renders.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use scimd::scim::canonical::canonicalize;

use common::{KINDS, common, fixed, input, resource_type};

fuzz_target!(|data: &[u8]| {
    let Some(body) = input::body(data, 0) else {
        return;
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
