//! The PATCH engine (RFC 7644 §3.5.2): PatchOp messages, structured from scimd's vocabulary or
//! raw JSON, applied to the fixed user and group. The result is a 400 naming the problem, or a
//! canonical document (canonicalising it again changes nothing) that folds and renders.
#![no_main]

mod common;

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use scimd::scim::patch;
use scimd::scim::schema::ResourceKind;
use serde_json::Value;

use common::{common, fixed, fixed_id, input, resource_type};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let body = if mode & 1 == 0 {
        match input::patch_op(&mut Unstructured::new(rest)) {
            Ok(body) => body,
            Err(_) => return,
        }
    } else {
        match serde_json::from_slice::<Value>(rest) {
            Ok(body) => body,
            Err(_) => return,
        }
    };
    let kind = if mode & 2 == 0 {
        ResourceKind::User
    } else {
        ResourceKind::Group
    };
    match patch::apply(
        resource_type(kind),
        common(),
        fixed(kind),
        fixed_id(),
        &body,
    ) {
        Ok(doc) => common::assert_canonical(kind, &doc),
        Err(e) => common::assert_client_error(&e, &body),
    }
});
