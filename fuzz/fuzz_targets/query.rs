//! Queries (RFC 7644 §3.4.2, §3.4.3, RFC 9865): a SearchRequest body, structured from scimd's
//! vocabulary or raw JSON, read and compiled for Users and Groups and across both. Every
//! answer is a store query and a projection, or a 400.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use scimd::scim::query::SearchParams;

use common::{KINDS, common, input, resource_type};

fuzz_target!(|data: &[u8]| {
    let Some(body) = input::body(data, 3) else {
        return;
    };
    let params = match SearchParams::from_body(&body) {
        Ok(params) => params,
        Err(e) => return common::assert_client_error(&e, &body),
    };
    for kind in KINDS {
        let rt = resource_type(kind);
        for compiled in [
            params.compile(rt, common()),
            params.compile_across(rt, common()),
        ] {
            if let Err(e) = compiled {
                common::assert_client_error(&e, &body);
            }
        }
    }
});
