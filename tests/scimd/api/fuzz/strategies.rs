//! The strategies of the hostile request generator, shared by the in-process run (`api::fuzz`)
//! and the run against the real process (`binary::hostile`): text with the characters that broke
//! servers before, attribute names and member names (some cut by a NUL or a quote, at the top
//! level, in extension objects and in complex values), JSON values, resource bodies, PATCH
//! bodies, and whole requests.

use axum::http::Method;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::support::encode;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Text with the characters that broke servers before: multi-byte, NUL, quotes, brackets.
pub(crate) fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("€€".to_owned()),
        Just("\u{0}".to_owned()),
        Just("a\u{0}b".to_owned()),
        Just("🙂é\u{301}".to_owned()),
        Just("\"]) or (x pr".to_owned()),
        Just("'; drop table resources; --".to_owned()),
        Just("urn:ietf:params:scim:schemas:core:2.0:User:".to_owned()),
        Just("x".repeat(5000)),
        "\\PC{0,12}",
        any::<String>().prop_map(|s| s.chars().take(40).collect()),
    ]
}

const ATTRIBUTES: [&str; 14] = [
    "userName",
    "displayName",
    "emails",
    "emails.value",
    "emails[type eq \"work\"].value",
    "name.givenName",
    "members",
    "members[value eq \"x\"]",
    "active",
    "roles",
    "manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "meta.lastModified",
    "id",
];

pub(crate) fn attribute() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => proptest::sample::select(&ATTRIBUTES[..]).prop_map(str::to_owned),
        2 => nasty(),
        1 => marked_name(),
    ]
}

/// Member names scimd knows, at the top level, in the enterprise extension and in complex
/// values.
const MEMBERS: [&str; 12] = [
    "userName",
    "displayName",
    "title",
    "name",
    "givenName",
    "emails",
    "value",
    "type",
    "department",
    "manager",
    "members",
    "display",
];

/// What cuts a member name.
const MARKS: [&str; 6] = ["\u{0}", "\"", "'", "\u{0}\"", "\\\u{0}", "\u{0}\u{0}"];

/// A member name cut by a NUL or a quote (which PostgreSQL's `jsonb` and a careless SQL or
/// HTML rendering choke on), or such a mark alone.
pub(crate) fn marked_name() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(&MEMBERS[..]),
        proptest::sample::select(&MARKS[..]),
        any::<proptest::sample::Index>(),
    )
        .prop_map(|(name, mark, at)| {
            // the names are ASCII: every index is a character boundary
            let at = at.index(name.len() + 1);
            format!("{}{mark}{}", &name[..at], &name[at..])
        })
}

/// A user or group body, or a PATCH of one, with a marked member name at the top level, in the
/// enterprise extension object, in a complex value (`name`, an email, a member, the manager) or
/// in a PATCH operation's value.
pub(crate) fn marked_body() -> impl Strategy<Value = Value> {
    (
        marked_name(),
        scalar(),
        0..7usize,
        proptest::option::of(nasty()),
    )
        .prop_map(|(name, value, place, user_name)| {
            let with = |mut base: Value| {
                base[name.as_str()] = value.clone();
                base
            };
            let user_name = user_name.unwrap_or_else(|| "marked".to_owned());
            let mut body = json!({"userName": user_name, "displayName": "marked"});
            match place {
                0 => body = with(body),
                1 => body[ENTERPRISE] = with(json!({"department": "d"})),
                2 => body["name"] = with(json!({"givenName": "g"})),
                3 => body["emails"] = json!([with(json!({"value": "m@example.com"}))]),
                4 => body[ENTERPRISE] = json!({"manager": with(json!({"value": "x"}))}),
                5 => body["members"] = json!([with(json!({"value": "x"}))]),
                _ => {
                    return json!({
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "add", "value": {"name": with(json!({}))}}]
                    });
                }
            }
            body
        })
}

pub(crate) fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        nasty().prop_map(Value::String),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        Just(json!("True")),
    ]
}

pub(crate) fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((attribute(), inner), 0..5)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

pub(crate) fn resource_body() -> impl Strategy<Value = Value> {
    (
        proptest::option::of(nasty()),
        proptest::collection::vec((attribute(), value()), 0..6),
    )
        .prop_map(|(name, extra)| {
            let mut body: Map<String, Value> = extra.into_iter().collect();
            if let Some(name) = name {
                body.insert("userName".into(), Value::String(name.clone()));
                body.insert("displayName".into(), Value::String(name));
            }
            Value::Object(body)
        })
}

pub(crate) fn patch_body() -> impl Strategy<Value = Value> {
    let op = (
        proptest::sample::select(&["add", "Replace", "remove", "REMOVE", "copy"][..]),
        proptest::option::of(attribute()),
        proptest::option::of(value()),
    )
        .prop_map(|(op, path, value)| {
            let mut o = json!({"op": op});
            if let Some(path) = path {
                o["path"] = Value::String(path);
            }
            if let Some(value) = value {
                o["value"] = value;
            }
            o
        });
    prop_oneof![
        4 => proptest::collection::vec(op, 0..6).prop_map(|ops| json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": ops
        })),
        1 => value(),
    ]
}

/// One generated request, as data.
#[derive(Debug, Clone)]
pub(crate) struct Hostile {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub if_match: Option<String>,
    pub content_type: Option<&'static str>,
    pub body: Option<Value>,
}

pub(crate) fn hostile(ids: (String, String)) -> impl Strategy<Value = Hostile> {
    let (user, group) = ids;
    let path = prop_oneof![
        Just("/scim/v2/Users".to_owned()),
        Just("/scim/v2/Groups".to_owned()),
        Just(format!("/scim/v2/Users/{user}")),
        Just(format!("/scim/v2/Groups/{group}")),
        Just("/scim/v2/Users/.search".to_owned()),
        Just("/scim/v2/.search".to_owned()),
        Just("/scim/v2/".to_owned()),
        nasty().prop_map(|s| format!("/scim/v2/Users/{}", encode(&s))),
        nasty().prop_map(|s| format!("/scim/v2/Schemas/{}", encode(&s))),
    ];
    let parameter = (
        prop_oneof![
            proptest::sample::select(
                &[
                    "filter",
                    "sortBy",
                    "sortOrder",
                    "startIndex",
                    "count",
                    "cursor",
                    "attributes",
                    "excludedAttributes"
                ][..]
            )
            .prop_map(str::to_owned),
            nasty(),
        ],
        prop_oneof![
            attribute(),
            nasty(),
            any::<i64>().prop_map(|n| n.to_string())
        ],
    );
    (
        proptest::sample::select(
            &[
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ][..],
        ),
        path,
        proptest::collection::vec(parameter, 0..4),
        proptest::option::of(prop_oneof![
            nasty(),
            Just("W/\"1\"".to_owned()),
            Just("*".to_owned())
        ]),
        proptest::sample::select(
            &[
                Some("application/scim+json"),
                Some("application/json"),
                Some("text/plain"),
                None,
            ][..],
        ),
        prop_oneof![resource_body(), patch_body(), marked_body()],
    )
        .prop_map(|(method, path, query, if_match, content_type, body)| {
            let body = (method != Method::GET && method != Method::DELETE).then_some(body);
            Hostile {
                method,
                path,
                query,
                if_match,
                content_type,
                body,
            }
        })
}
