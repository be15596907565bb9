//! Filters (RFC 7644 §3.4.2.2): any text compiles for Users and Groups (also across types) or
//! is a 400 `invalidFilter`; a compiled filter evaluates on the fixed documents; an element
//! filter (PATCH's `emails[…]`) validates and evaluates on each e-mail; a parsed filter prints
//! back to text that parses to the same tree.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use scimd::scim::ScimType;
use scimd::scim::filter::{self, eval};
use scimd::scim::fold::{fold, fold_value};
use scimd::scim::resource::ResourceId;
use serde_json::Value;

use common::{KINDS, USER, common, fixed, resource_type};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in KINDS {
        let rt = resource_type(kind);
        let folded = fold(rt, common(), fixed(kind));
        let subject = eval::Subject {
            id: ResourceId(Default::default()),
            created: chrono::DateTime::UNIX_EPOCH,
            last_modified: chrono::DateTime::UNIX_EPOCH,
            folded: &folded,
        };
        for compiled in [
            filter::compile(rt, common(), text),
            filter::compile_across(rt, common(), text),
        ] {
            match compiled {
                Ok(f) => {
                    let _ = eval::matches(&f, &subject);
                }
                Err(e) => {
                    common::assert_client_error(&e, &text);
                    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{e:?}");
                }
            }
        }
    }
    let Ok(raw) = filter::parse(text) else {
        return;
    };
    // printing may add a space (`not(` becomes `not (`), so only a print within the length
    // limit must parse back
    let printed = raw.to_string();
    if printed.len() <= filter::LIMITS.max_length {
        assert_eq!(filter::parse(&printed).as_ref(), Ok(&raw), "{printed}");
    }
    let emails = resource_type(scimd::scim::schema::ResourceKind::User)
        .schema
        .attribute("emails")
        .expect("users have emails");
    if let Ok(f) = filter::validate_element(emails, &raw) {
        for email in USER["emails"].as_array().map_or(&[][..], Vec::as_slice) {
            let _ = eval::matches_element(&f, &fold_value(emails, email));
        }
        let _ = eval::matches_element(&f, &Value::Null);
    }
});
