//! Structured input: JSON values and PatchOp messages built from the fuzzer's bytes out of
//! scimd's vocabulary (attribute names in odd letter cases, Entra's shapes, hostile strings,
//! member names cut by a NUL or a quote) and arbitrary text, so that the fuzzer reaches past
//! "unknown attribute" within seconds.

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use serde_json::{Map, Number, Value, json};

use super::ENTERPRISE;

/// Object keys: attributes, sub-attributes and message members, some in other letter cases.
pub const KEYS: &[&str] = &[
    "userName",
    "USERNAME",
    "externalId",
    "name",
    "givenName",
    "familyName",
    "formatted",
    "displayName",
    "display",
    "nickName",
    "title",
    "active",
    "emails",
    "Emails",
    "value",
    "Value",
    "type",
    "primary",
    "phoneNumbers",
    "addresses",
    "locality",
    "roles",
    "members",
    "groups",
    "x509Certificates",
    "entitlements",
    "ims",
    "photos",
    "password",
    "id",
    "meta",
    "schemas",
    "$ref",
    "manager",
    "department",
    "employeeNumber",
    "costCenter",
    "name.givenName",
    "NAME.familyName",
    ENTERPRISE,
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.department",
    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
    "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
    "Operations",
    "op",
    "path",
    "filter",
    "sortBy",
    "sortOrder",
    "startIndex",
    "count",
    "cursor",
    "attributes",
    "excludedAttributes",
    "€€",
    "",
];

/// String values: Entra's and the RFC's, and the ones that broke scimd before.
pub const STRINGS: &[&str] = &[
    "",
    " ",
    "x",
    "work",
    "home",
    "True",
    "false",
    "FALSE",
    "42",
    "-1",
    "1.5",
    "1e400",
    "2015-10-10T14:38:21Z",
    "2015-10-10T14:38:21.8617979-07:00",
    "yesterday",
    "Admin",
    "2819c223-7f76-453a-919d-413861904646",
    "bjensen@example.com",
    "../Users/x",
    "€€",
    "e\u{301}",
    "😀",
    "\u{0}",
    "a\u{0}b",
    "urn:",
    "urn:€",
    "{\"value\":\"Admin\",\"displayName\":\"Admin\"}",
    "{\"id\":\"1\",\"value\":\"{\\\"value\\\":\\\"x\\\"}\"}",
    "{",
    "{}",
    "[]",
    "userName eq \"bjensen@example.com\"",
    "emails[type eq \"work\"].value co \"x\"",
    "meta.created gt 2015-10-10T14:38:21Z",
    "not (title pr) or active eq \"True\"",
    "descending",
];

/// PATCH paths, attribute lists and sort keys.
pub const PATHS: &[&str] = &[
    "title",
    "nickName",
    "active",
    "userName",
    "displayName",
    "externalId",
    "name",
    "name.givenName",
    "NAME.FAMILYNAME",
    "emails",
    "emails.value",
    "emails.primary",
    "emails[type eq \"work\"]",
    "emails[type eq \"work\"].value",
    "emails[value co \"x\"]",
    "emails[primary eq true].primary",
    "emails[not (type eq \"home\")].display",
    "emails[type eq \"work\" and primary eq \"True\"].type",
    "roles",
    "roles.value",
    "roles[primary eq \"True\"].value",
    "roles[value eq \"Admin\"].displayName",
    "addresses[type eq \"work\"].locality",
    "addresses[type eq \"other\"].formatted",
    "phoneNumbers[type eq \"mobile\"].value",
    "x509Certificates",
    "ims[type eq \"x\"]",
    "groups",
    "members",
    "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]",
    "members.display",
    "manager",
    "manager.value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.department",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    "urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq \"work\"].value",
    ENTERPRISE,
    "meta.created",
    "meta",
    "id",
    "schemas",
    "urn:x",
    "€€",
    "emails[",
    "emails[type eq \"a\"]x",
    "emails[type eq \"work\"].",
];

/// What cuts a member name: characters PostgreSQL's `jsonb` cannot hold, or that end a string
/// in JSON, SQL or HTML.
pub const MARKS: &[&str] = &["\u{0}", "\"", "'", "\u{0}\"", "\\\u{0}", "\u{0}\u{0}"];

/// A member name: one of `vocabulary` (or text, as [`text`] makes it), one time in four cut by
/// one of [`MARKS`].
pub fn member(u: &mut Unstructured<'_>, vocabulary: &[&str]) -> Result<String> {
    let name = text(u, vocabulary)?;
    match u.ratio(1, 4)? {
        true => cut(u, &name),
        false => Ok(name),
    }
}

/// `name` with one of [`MARKS`] at one of its character boundaries.
pub fn cut(u: &mut Unstructured<'_>, name: &str) -> Result<String> {
    let mark = u.choose(MARKS)?;
    let boundaries: Vec<usize> = name
        .char_indices()
        .map(|(i, _)| i)
        .chain([name.len()])
        .collect();
    let at = *u.choose(&boundaries)?;
    Ok(format!("{}{mark}{}", &name[..at], &name[at..]))
}

/// Vocabulary, vocabulary with an arbitrary tail, or arbitrary text.
pub fn text(u: &mut Unstructured<'_>, vocabulary: &[&str]) -> Result<String> {
    Ok(match u.int_in_range(0..=5)? {
        0 => u.arbitrary::<String>()?,
        1 => format!("{}{}", u.choose(vocabulary)?, u.arbitrary::<&str>()?),
        _ => (*u.choose(vocabulary)?).to_owned(),
    })
}

/// A JSON value at most five levels deep.
pub fn value(u: &mut Unstructured<'_>, depth: u32) -> Result<Value> {
    let kinds = if depth >= 4 { 5 } else { 8 };
    Ok(match u.int_in_range(0..=kinds)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
        4 | 5 => Value::String(text(u, STRINGS)?),
        6 => {
            let n = u.int_in_range(0..=4)?;
            Value::Array((0..n).map(|_| value(u, depth + 1)).collect::<Result<_>>()?)
        }
        _ => Value::Object(object(u, depth + 1)?),
    })
}

/// The body a fuzz input stands for: its first byte picks an object built from scimd's
/// vocabulary (nested up to `depth`) or the rest read as JSON; `None` for input that is neither.
pub fn body(data: &[u8], depth: u32) -> Option<Value> {
    let (&mode, rest) = data.split_first()?;
    if mode & 1 == 0 {
        object(&mut Unstructured::new(rest), depth)
            .ok()
            .map(Value::Object)
    } else {
        serde_json::from_slice(rest).ok()
    }
}

/// A JSON object with keys of [`KEYS`] and arbitrary ones, some cut by a NUL or a quote, at
/// the top level as in extension objects and complex values (every level is made here).
pub fn object(u: &mut Unstructured<'_>, depth: u32) -> Result<Map<String, Value>> {
    let n = u.int_in_range(0..=6)?;
    let mut members = Map::new();
    for _ in 0..n {
        members.insert(member(u, KEYS)?, value(u, depth)?);
    }
    Ok(members)
}

/// A PatchOp message of one to eight operations.
pub fn patch_op(u: &mut Unstructured<'_>) -> Result<Value> {
    let n = u.int_in_range(1..=8)?;
    let ops = (0..n).map(|_| operation(u)).collect::<Result<Vec<_>>>()?;
    Ok(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops}))
}

/// An operation's member name, one time in eight cut by one of [`MARKS`].
fn op_member(u: &mut Unstructured<'_>, name: &str) -> Result<String> {
    match u.ratio(1, 8)? {
        true => cut(u, name),
        false => Ok(name.to_owned()),
    }
}

fn operation(u: &mut Unstructured<'_>) -> Result<Value> {
    const OPS: &[&str] = &[
        "add", "replace", "remove", "Add", "Replace", "Remove", "REPLACE", "move",
    ];
    let mut op = Map::new();
    op.insert(op_member(u, "op")?, Value::String(text(u, OPS)?));
    if u.ratio(3, 4)? {
        op.insert(op_member(u, "path")?, Value::String(text(u, PATHS)?));
    }
    if u.ratio(3, 4)? {
        op.insert(op_member(u, "value")?, value(u, 1)?);
    }
    Ok(Value::Object(op))
}
