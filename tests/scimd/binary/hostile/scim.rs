//! Hostile SCIM requests: those of the in-process generator (`api::fuzz::strategies`, whose
//! bodies cut member names with NUL and quotes), and what only a socket can send or what
//! needs the whole process: JSON nested 10 000 levels deep and more, bodies just under and over
//! the 1 MiB limit (some chunked), Bulk requests full of bulkId references, another tenant's
//! ids, made-up methods, odd content types, invalid UTF-8, percent-encoded NUL and invalid
//! bytes in paths and queries, and odd credentials.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::plan::{Expect, Request};
use super::setup::Known;
use crate::api::fuzz::strategies::{Hostile, hostile, marked_body, nasty};
use crate::support::{TOKEN, encode};

/// scimd's default `SCIMD_MAX_BODY_BYTES`.
pub const LIMIT: usize = 1024 * 1024;
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A SCIM request with the first tenant's token.
fn scim(family: &'static str, method: &str, target: String, body: Option<Vec<u8>>) -> Request {
    let r = Request::new(family, method, target, Expect::Scim)
        .header("Authorization", format!("Bearer {TOKEN}"));
    match body {
        Some(body) => r.header("Content-Type", "application/scim+json").body(body),
        None => r,
    }
}

/// Any of them.
pub fn requests(known: &Known) -> impl Strategy<Value = Request> {
    prop_oneof![
        8 => fuzzed(known),
        1 => deep(known),
        1 => sized(known),
        2 => bulk(known),
        2 => foreign(known),
        1 => methods(known),
        1 => odd_content(known),
        1 => invalid_utf8(known),
        2 => nul_targets(known),
        1 => credentials(),
    ]
}

/// The in-process generator's requests, sent over the socket.
fn fuzzed(known: &Known) -> impl Strategy<Value = Request> {
    hostile((known.user.clone(), known.group.clone())).prop_map(|h: Hostile| {
        let query: Vec<String> = h
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let target = match query.is_empty() {
            true => h.path.clone(),
            false => format!("{}?{}", h.path, query.join("&")),
        };
        let mut r = Request::new("scim", h.method.as_str(), target, Expect::Scim)
            .header("Authorization", format!("Bearer {TOKEN}"));
        if let Some(tag) = h.if_match.filter(|t| !t.chars().any(char::is_control)) {
            r = r.header("If-Match", tag);
        }
        if let Some(ct) = h.content_type {
            r = r.header("Content-Type", ct);
        }
        match h.body {
            Some(body) => r.body(body.to_string()),
            None => r,
        }
    })
}

/// Where a body goes, with `{user}` and `{group}` the first tenant's.
fn body_target(known: &Known) -> impl Strategy<Value = (&'static str, String)> {
    let user = format!("/scim/v2/Users/{}", known.user);
    let group = format!("/scim/v2/Groups/{}", known.group);
    prop_oneof![
        Just(("POST", "/scim/v2/Users".to_owned())),
        Just(("POST", "/scim/v2/Groups".to_owned())),
        Just(("PUT", user.clone())),
        Just(("PATCH", user)),
        Just(("PATCH", group)),
        Just(("POST", "/scim/v2/Bulk".to_owned())),
        Just(("POST", "/scim/v2/.search".to_owned())),
        Just(("POST", "/scim/v2/Users/.search".to_owned())),
    ]
}

/// JSON nested `depth` levels: arrays, objects, or either inside a user's `emails`.
fn nested(shape: u8, depth: usize) -> Vec<u8> {
    let (open, close) = match shape % 2 {
        0 => ("[", "]"),
        _ => ("{\"a\":", "}"),
    };
    let nest = format!("{}1{}", open.repeat(depth), close.repeat(depth));
    match shape / 2 {
        0 => nest,
        _ => format!("{{\"userName\":\"deep\",\"emails\":{nest}}}"),
    }
    .into_bytes()
}

fn deep(known: &Known) -> impl Strategy<Value = Request> {
    let depth = prop_oneof![
        Just(10_000usize),
        Just(100_000),
        120..140usize,
        1..2000usize
    ];
    (body_target(known), 0..4u8, depth).prop_map(|((method, target), shape, depth)| {
        scim("deep", method, target, Some(nested(shape, depth)))
    })
}

/// A body of exactly `size` bytes: a user whose display name fills it.
fn of_size(size: usize, tag: u32) -> Vec<u8> {
    let head = format!("{{\"userName\":\"big-{tag}\",\"displayName\":\"");
    let tail = "\"}";
    let fill = size.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "d".repeat(fill)).into_bytes()
}

fn sized(known: &Known) -> impl Strategy<Value = Request> {
    let size = prop_oneof![(LIMIT - 64)..=LIMIT, (LIMIT + 1)..(LIMIT + 64)];
    (
        body_target(known),
        size,
        any::<u32>(),
        proptest::bool::weighted(0.3),
    )
        .prop_map(|((method, target), size, tag, chunked)| {
            let mut r = scim("sized", method, target, Some(of_size(size, tag)));
            r.chunked = chunked;
            r
        })
}

/// One Bulk operation: users and groups defined by bulkId and named by others (forwards,
/// backwards, in cycles, undefined, with a NUL), and operations on another tenant's ids.
fn bulk_op(other: (String, String), run: u32, n: usize) -> impl Strategy<Value = Value> {
    let (other_user, other_group) = other;
    let reference = move |i: usize| match i % 7 {
        0 => "bulkId:missing".to_owned(),
        1 => "bulkId:\u{0}".to_owned(),
        2 => format!("bulkId:g{}", i % n.max(1)),
        _ => format!("bulkId:u{}", i % n.max(1)),
    };
    (0..n.max(1), 0..8u8, proptest::collection::vec(any::<usize>(), 0..4)).prop_map(
        move |(i, kind, refs)| {
            let members: Vec<Value> = refs.iter().map(|r| json!({"value": reference(*r)})).collect();
            match kind {
                0..=2 => json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                    "data": {"userName": format!("bulk-{run}-{i}"),
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
                            {"manager": {"value": reference(i + 3)}}}}),
                3 | 4 => json!({"method": "POST", "path": "/Groups", "bulkId": format!("g{i}"),
                    "data": {"displayName": format!("bulk-{run}-{i}"), "members": members}}),
                5 => json!({"method": "PATCH", "path": format!("/Groups/{}", reference(i + 2)),
                    "data": {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": members}]}}),
                6 => json!({"method": "DELETE", "path": format!("/Users/{}", reference(i))}),
                _ => json!({"method": "PUT", "path": format!("/Users/{other_user}"), "bulkId": format!("o{i}"),
                    "data": {"userName": "stolen", "members": [{"value": other_group}]}}),
            }
        },
    )
}

fn bulk(known: &Known) -> impl Strategy<Value = Request> {
    let other = (known.other_user.clone(), known.other_group.clone());
    (
        any::<u32>(),
        prop_oneof![8 => 1..60usize, 1 => 60..300usize, 1 => 1001..1002usize],
    )
        .prop_flat_map(move |(run, n)| {
            let ops = proptest::collection::vec(bulk_op(other.clone(), run, n), n..=n);
            (ops, proptest::option::of(0..5i64))
        })
        .prop_map(|(ops, fail_on_errors)| {
            let mut body = json!({"schemas": [BULK], "Operations": ops});
            if let Some(n) = fail_on_errors {
                body["failOnErrors"] = json!(n);
            }
            scim(
                "bulk",
                "POST",
                "/scim/v2/Bulk".into(),
                Some(body.to_string().into_bytes()),
            )
        })
}

/// Another tenant's resources named with the first tenant's token, and the first tenant's
/// with the other's token: every one must be refused. And the other tenant's user added to the
/// first tenant's group, which the directory's final check looks for.
fn foreign(known: &Known) -> impl Strategy<Value = Request> {
    let theirs = [
        format!("/scim/v2/Users/{}", known.other_user),
        format!("/scim/v2/Groups/{}", known.other_group),
    ];
    let ours = [
        format!("/scim/v2/Users/{}", known.user),
        format!("/scim/v2/Groups/{}", known.group),
    ];
    let other_token = known.other_token.clone();
    let other = (known.other_user.clone(), known.other_group.clone());
    let methods = ["GET", "PUT", "PATCH", "DELETE"];
    let method = proptest::sample::select(methods.to_vec());
    (method, 0..2usize, 0..3u8).prop_map(move |(method, at, how)| {
        let body = stolen(method, &other);
        let mut r = match how {
            0 => scim("foreign", method, theirs[at].clone(), body),
            1 => {
                let mut r = scim("foreign", method, ours[at].clone(), body);
                r.headers[0].1 = format!("Bearer {other_token}").into_bytes();
                r
            }
            // the other tenant's user into the first tenant's group: the final check looks
            _ => return scim("foreign", "PATCH", ours[1].clone(), stolen("PATCH", &other)),
        };
        r.foreign = true;
        r
    })
}

/// A body for `method` that names the other tenant's user and group.
fn stolen(method: &str, (other_user, other_group): &(String, String)) -> Option<Vec<u8>> {
    let body = match method {
        "PATCH" => json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "add", "path": "members", "value": [{"value": other_user}]},
            {"op": "replace", "path": "displayName", "value": "stolen"}]}),
        "PUT" => json!({"userName": "stolen", "displayName": "stolen",
            "members": [{"value": other_group}]}),
        _ => return None,
    };
    Some(body.to_string().into_bytes())
}

fn methods(known: &Known) -> impl Strategy<Value = Request> {
    let names = [
        "FOO", "PROPFIND", "get", "OPTIONS", "TRACE", "HEAD", "M-SEARCH", "CONNECT", "BREW",
    ];
    let method = prop_oneof![
        proptest::sample::select(names.to_vec()).prop_map(str::to_owned),
        (1..300usize).prop_map(|n| "X".repeat(n)),
    ];
    let paths = [
        "/scim/v2/Users".to_owned(),
        format!("/scim/v2/Users/{}", known.user),
        "/scim/v2/Bulk".to_owned(),
        "/scim/v2/ServiceProviderConfig".to_owned(),
    ];
    (
        method,
        proptest::sample::select(paths.to_vec()),
        any::<bool>(),
    )
        .prop_map(|(method, path, with_body)| {
            let body = with_body.then(|| b"{\"userName\":\"m\"}".to_vec());
            let mut r = scim("methods", &method, path, body);
            // a CONNECT leaves HTTP behind when it succeeds: never reuse its connection
            r.alone = method == "CONNECT";
            r
        })
}

fn odd_content(known: &Known) -> impl Strategy<Value = Request> {
    let types: [&[u8]; 13] = [
        b"application/scim+json; charset=latin1",
        b"application/x-www-form-urlencoded",
        b"multipart/form-data; boundary=x",
        b"text/html",
        b"application/json;;;",
        b"",
        b"application/\xc3\xa9",
        b"*/*",
        b"application/scim+json, text/plain",
        b"APPLICATION/SCIM+JSON",
        b"application/merge-patch+json",
        b"application/json; charset=utf-16",
        b"application/\xff+json",
    ];
    (
        body_target(known),
        proptest::sample::select(types.to_vec()),
        marked_body(),
    )
        .prop_map(|((method, target), content_type, body)| {
            let mut r = scim(
                "content",
                method,
                target,
                Some(body.to_string().into_bytes()),
            );
            r.headers.retain(|(k, _)| k != "Content-Type");
            r.header("Content-Type", content_type)
        })
}

fn invalid_utf8(known: &Known) -> impl Strategy<Value = Request> {
    let fixed: [&[u8]; 6] = [
        b"\xff\xfe{}",
        b"{\"userName\":\"\xff\"}",
        b"{\"userName\":\"\xc0\x80\"}",
        b"\xef\xbb\xbf{\"userName\":\"bom\"}",
        b"{\"userName\":\"\\ud800\"}",
        b"{\"user\xedName\":\"x\"}",
    ];
    let utf16: Vec<u8> = "{\"userName\":\"u16\"}"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let body = prop_oneof![
        proptest::sample::select(fixed.to_vec()).prop_map(<[u8]>::to_vec),
        Just(utf16),
        proptest::collection::vec(any::<u8>(), 0..300),
    ];
    (body_target(known), body)
        .prop_map(|((method, target), body)| scim("utf8", method, target, Some(body)))
}

/// Targets with a percent-encoded NUL, bytes that are not UTF-8 and broken escapes.
fn nul_targets(known: &Known) -> impl Strategy<Value = Request> {
    let user = &known.user;
    let targets = vec![
        "/scim/v2/Users/%00".to_owned(),
        "/scim/v2/Users/a%00b".to_owned(),
        "/scim/v2/Groups/%00/".to_owned(),
        "/scim/v2/%00".to_owned(),
        "/scim/v2/Users/%FF".to_owned(),
        "/scim/v2/Groups/%C0%80".to_owned(),
        "/scim/v2/Users/%".to_owned(),
        "/scim/v2/Users/%G0".to_owned(),
        format!("/scim/v2/Users/{user}%00"),
        "/scim/v2/Users/%2e%2e%2fGroups".to_owned(),
        "/scim/v2/Users?filter=userName%20eq%20%22%00%22".to_owned(),
        "/scim/v2/Users?filter=userName%20eq%20%22%FF%22".to_owned(),
        "/scim/v2/Users?attributes=%00".to_owned(),
        "/scim/v2/Users?sortBy=%FF&sortOrder=%00".to_owned(),
        "/scim/v2/Groups?startIndex=%00&count=%FF".to_owned(),
        "/scim/v2/Users?%00=%00&filter".to_owned(),
        "/scim/v2/Users?cursor=%00".to_owned(),
        "/scim/v2/Schemas/%00".to_owned(),
        "/scim/v2/ResourceTypes/%FF".to_owned(),
        "/%00".to_owned(),
    ];
    let method = proptest::sample::select(&["GET", "DELETE", "PATCH", "PUT", "POST"][..]);
    (proptest::sample::select(targets), method, nasty()).prop_map(|(target, method, name)| {
        let body = matches!(method, "PATCH" | "PUT" | "POST").then(|| {
            json!({"userName": name, "displayName": "n"})
                .to_string()
                .into_bytes()
        });
        scim("nul-target", method, target, body)
    })
}

/// Odd `Authorization` headers on a listing.
fn credentials() -> impl Strategy<Value = Request> {
    let values: Vec<Vec<u8>> = vec![
        b"Bearer".to_vec(),
        format!("Bearer {}", "x".repeat(10_000)).into_bytes(),
        b"Basic dGVzdDp0ZXN0".to_vec(),
        format!("bearer {TOKEN}").into_bytes(),
        format!("Bearer {TOKEN} {TOKEN}").into_bytes(),
        format!("Bearer \"{TOKEN}\"").into_bytes(),
        format!("Bearer {TOKEN}   ").into_bytes(),
        b"Bearer \xc3\xa9\xff".to_vec(),
        b"".to_vec(),
        b"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.".to_vec(),
    ];
    proptest::sample::select(values).prop_map(|value| {
        let mut r = scim("credentials", "GET", "/scim/v2/Users?count=2".into(), None);
        r.headers[0].1 = value;
        r
    })
}
