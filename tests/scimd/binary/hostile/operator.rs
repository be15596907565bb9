//! Hostile requests at the application's API (`/api/v1`) with the run's operator key: bodies
//! with NUL, quotes and control characters, JSON nested 10 000 levels deep, bodies over the
//! limit, unknown and mistyped fields, odd tenant names and paths, cursors and limits that are
//! not (on tenants, tokens, admins, OAuth clients, webhooks, pull consumers and their feed,
//! schemas, activity, cycles and the audit trail), Idempotency-Keys of any bytes, another tenant's token id, and credentials that are not
//! an operator key (a SCIM token among them). Every answer is JSON, and every refusal an RFC
//! 9457 problem. Nothing here may change the run's tenants `default` and `other`: writes go to
//! tenants of the `h-` names this family makes, or are refused.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::plan::{Expect, Request};
use super::scim::LIMIT;
use super::setup::Known;
use crate::api::fuzz::strategies::nasty;
use crate::support::{TOKEN, encode};

/// A request with the run's operator key.
fn api(known: &Known, method: &str, target: String, body: Option<Vec<u8>>) -> Request {
    let r = Request::new("operator-api", method, target, Expect::Api)
        .header("Authorization", format!("Bearer {}", known.operator_key));
    match body {
        Some(body) => r.header("Content-Type", "application/json").body(body),
        None => r,
    }
}

/// Any of them.
pub fn requests(known: &Known) -> impl Strategy<Value = Request> {
    prop_oneof![
        3 => reads(known),
        3 => writes(known),
        1 => deep(known),
        1 => sized(known),
        1 => foreign(known),
        1 => idempotent(known),
        1 => credentials(),
    ]
}

/// A tenant of this family's own: `h-` and a number.
fn own() -> impl Strategy<Value = String> {
    (0..20u32).prop_map(|n| format!("h-{n}"))
}

/// Any tenant name in a path: the run's, this family's, and hostile text (encoded).
fn any_tenant() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("default".to_owned()),
        Just("other".to_owned()),
        own(),
        nasty().prop_map(|t| encode(&t)),
    ]
}

/// Reads: lists with odd queries, tenants, tokens, the audit trail.
fn reads(known: &Known) -> impl Strategy<Value = Request> {
    let known = known.clone();
    let query = (
        proptest::option::of(nasty()),
        proptest::option::of(prop_oneof![
            Just("0".to_owned()),
            Just("1001".to_owned()),
            Just("-1".into()),
            Just("x".into()),
            Just("5".into())
        ]),
        proptest::option::of(nasty()),
    );
    (any_tenant(), query, 0..16u8).prop_map(move |(tenant, (q, limit, cursor), which)| {
        let mut params = Vec::new();
        if let Some(q) = q {
            params.push(format!("q={}", encode(&q)));
        }
        if let Some(limit) = limit {
            params.push(format!("limit={limit}"));
        }
        if let Some(cursor) = cursor {
            params.push(format!("cursor={}", encode(&cursor)));
        }
        let path = match which {
            0 => "/api/v1/tenants".to_owned(),
            1 => format!("/api/v1/tenants/{tenant}"),
            2 => format!("/api/v1/tenants/{tenant}/tokens"),
            3 => "/api/v1/audit".to_owned(),
            4 => format!("/api/v1/tenants/{tenant}/admins"),
            5 => format!("/api/v1/tenants/{tenant}/oauth-clients"),
            6 => format!("/api/v1/tenants/{tenant}/webhooks"),
            7 => format!("/api/v1/tenants/{tenant}/consumers"),
            8 => format!("/api/v1/tenants/{tenant}/schemas"),
            9 => format!("/api/v1/tenants/{tenant}/activity"),
            10 => format!("/api/v1/tenants/{tenant}/cycles"),
            11 => format!("/api/v1/events?consumer={tenant}"),
            12 => format!("/api/v1/tenants/{tenant}/setup-links"),
            13 => format!("/api/v1/tenants/{tenant}/health"),
            14 => "/api/v1/health".to_owned(),
            _ => format!("/api/v1/audit?tenant={tenant}"),
        };
        let join = if path.contains('?') { '&' } else { '?' };
        let target = match params.is_empty() {
            true => path,
            false => format!("{path}{join}{}", params.join("&")),
        };
        api(&known, "GET", target, None)
    })
}

/// A body of the right shape or not, with hostile text in its strings.
fn body() -> impl Strategy<Value = Value> {
    prop_oneof![
        own().prop_map(|name| json!({ "name": name })),
        nasty().prop_map(|name| json!({ "name": name })),
        (own(), nasty()).prop_map(|(name, role)| json!({ "name": name, "allowed_roles": [role] })),
        nasty().prop_map(|m| json!({ "matching_attribute": m })),
        proptest::collection::vec(nasty(), 0..40)
            .prop_map(|list| json!({ "matching_attributes": list })),
        nasty().prop_map(|label| json!({ "label": label })),
        nasty().prop_map(|validity| json!({ "expires_in": validity })),
        Just(json!({ "expires_in": 7 })),
        Just(json!({ "require_role": "yes" })),
        Just(json!({ "name": 7 })),
        Just(json!([])),
        Just(json!(null)),
        nasty().prop_map(|k| json!({ k: true })),
    ]
}

/// Writes on this family's tenants, and refused ones on the run's.
fn writes(known: &Known) -> impl Strategy<Value = Request> {
    let known = known.clone();
    let writes = (own(), body(), 0..12u8, any_tenant(), nasty());
    writes.prop_map(move |(tenant, body, which, anyone, id)| {
        let bytes = Some(body.to_string().into_bytes());
        match which {
            10 => api(
                &known,
                "POST",
                format!("/api/v1/tenants/{tenant}/setup-links"),
                bytes,
            ),
            11 => api(
                &known,
                "DELETE",
                format!("/api/v1/tenants/{anyone}/setup-links/{}", encode(&id)),
                None,
            ),
            0 => api(&known, "POST", "/api/v1/tenants".into(), bytes),
            6 => api(
                &known,
                "POST",
                format!("/api/v1/tenants/{tenant}/admins"),
                bytes,
            ),
            7 => api(
                &known,
                "POST",
                format!("/api/v1/tenants/{tenant}/consumers"),
                bytes,
            ),
            8 => api(
                &known,
                "POST",
                format!("/api/v1/tenants/{tenant}/oauth-clients"),
                bytes,
            ),
            9 => api(
                &known,
                "POST",
                format!("/api/v1/tenants/{tenant}/schemas"),
                bytes,
            ),
            1 => api(&known, "PATCH", format!("/api/v1/tenants/{tenant}"), bytes),
            2 => api(
                &known,
                "POST",
                format!("/api/v1/tenants/{tenant}/tokens"),
                bytes,
            ),
            3 => api(
                &known,
                "DELETE",
                format!("/api/v1/tenants/{tenant}?confirm={tenant}"),
                None,
            ),
            // the run's tenants are never deleted: the confirmation is wrong
            4 => api(
                &known,
                "DELETE",
                format!("/api/v1/tenants/{anyone}?confirm=not-{anyone}"),
                None,
            ),
            _ => api(&known, "PUT", format!("/api/v1/tenants/{anyone}"), bytes),
        }
    })
}

/// JSON nested 10 000 levels deep and more.
fn deep(known: &Known) -> impl Strategy<Value = Request> {
    let known = known.clone();
    (10_000..60_000usize, own()).prop_map(move |(depth, tenant)| {
        let body = format!(
            "{{\"allowed_roles\":{}{}}}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        api(
            &known,
            "PATCH",
            format!("/api/v1/tenants/{tenant}"),
            Some(body.into_bytes()),
        )
    })
}

/// Bodies just under and over the limit.
fn sized(known: &Known) -> impl Strategy<Value = Request> {
    let known = known.clone();
    (LIMIT - 64..LIMIT + 64).prop_map(move |size| {
        let name = "a".repeat(size.saturating_sub(12));
        let body = format!("{{\"name\":\"{name}\"}}");
        api(
            &known,
            "POST",
            "/api/v1/tenants".into(),
            Some(body.into_bytes()),
        )
    })
}

/// The other tenant's token id under the first tenant: not found, and still valid.
fn foreign(known: &Known) -> impl Strategy<Value = Request> {
    let mut r = api(
        known,
        "DELETE",
        format!("/api/v1/tenants/default/tokens/{}", known.other_token_id),
        None,
    );
    r.foreign = true;
    Just(r)
}

/// Writes with Idempotency-Keys of any bytes.
fn idempotent(known: &Known) -> impl Strategy<Value = Request> {
    let known = known.clone();
    let keys = prop_oneof![
        Just(b"same-key".to_vec()),
        "[a-z0-9-]{1,40}".prop_map(String::into_bytes),
        // any byte a header value may hold (HTTP refuses DEL and controls before scimd sees them)
        proptest::collection::vec(prop_oneof![32u8..=126, 128u8..=255], 0..300),
    ];
    (keys, own(), body()).prop_map(move |(key, tenant, body)| {
        api(
            &known,
            "POST",
            format!("/api/v1/tenants/{tenant}/tokens"),
            Some(body.to_string().into_bytes()),
        )
        .header("Idempotency-Key", key)
    })
}

/// Credentials that are not an operator key: refused with 401, whatever the request.
fn credentials() -> impl Strategy<Value = Request> {
    let values: Vec<Vec<u8>> = vec![
        format!("Bearer {TOKEN}").into_bytes(),
        b"Bearer scimd_op_".to_vec(),
        format!("Bearer scimd_op_{}", "0".repeat(64)).into_bytes(),
        format!("Bearer scimd_op_{}", "x".repeat(10_000)).into_bytes(),
        b"Basic dGVzdDp0ZXN0".to_vec(),
        b"Bearer \xc3\xa9\xff".to_vec(),
        b"".to_vec(),
    ];
    let targets = [
        "/api/v1/tenants",
        "/api/v1/audit",
        "/api/v1/tenants/other/tokens",
    ];
    (
        proptest::sample::select(values),
        proptest::sample::select(targets.to_vec()),
    )
        .prop_map(|(value, target)| {
            let mut r = Request::new(
                "operator-api-credentials",
                "GET",
                target.into(),
                Expect::Api,
            )
            .header("Authorization", value);
            // never served: a credential that is not a key is refused
            r.foreign = true;
            r
        })
}
