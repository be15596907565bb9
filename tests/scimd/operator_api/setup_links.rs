//! `/api/v1/tenants/{name}/setup-links`: a link made over the API opens its tenant's setup (its
//! URL shown once, never in a list or the audit trail), lists newest first in pages with its
//! state, and is revoked; a read-only key lists but may not make or revoke; the audit trail
//! names who did each.

use std::time::Duration;

use axum::http::Method;
use chrono::DateTime;
use serde_json::{Value, json};

use super::{Api, assert_problem};
use crate::support::Backend;
use scimd::service::setup::SetupAccess;

crate::on_both_stores!(
    a_setup_link_made_over_the_api_opens_its_tenant_and_its_url_is_shown_once,
    setup_links_are_listed_newest_first_in_pages_with_their_state_and_never_their_url,
    a_revoked_setup_link_no_longer_opens_and_revoking_again_changes_nothing,
    a_retried_create_makes_one_setup_link_and_never_shows_its_url_again,
    a_read_only_key_lists_setup_links_but_may_not_make_or_revoke_one,
    the_audit_trail_names_who_made_and_revoked_a_setup_link_and_never_holds_its_url,
    the_openapi_document_describes_the_setup_link_operations,
);

pub(super) const LINKS: &str = "/api/v1/tenants/contoso/setup-links";

/// The token in a setup link's URL (`http://host/setup/<token>`).
pub(super) fn token_of(url: &str) -> &str {
    url.rsplit_once("/setup/").expect(url).1
}

/// What the setup page would find with `token`, without recording an opening.
pub(super) async fn access(api: &Api, token: &str) -> SetupAccess {
    let (found, _) = api
        .app
        .state
        .directory
        .setup_access(token, false, None)
        .await
        .unwrap();
    found
}

fn hours(from: &Value, to: &Value) -> i64 {
    let at = |v: &Value| DateTime::parse_from_rfc3339(v.as_str().expect("a time")).unwrap();
    (at(to) - at(from)).num_hours()
}

async fn a_setup_link_made_over_the_api_opens_its_tenant_and_its_url_is_shown_once(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let made = api.post(LINKS, json!({ "expires_in": "3d" })).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_owned();
    let url = made.body["url"].as_str().unwrap().to_owned();
    assert_eq!(
        made.header("location"),
        Some(format!("{LINKS}/{id}").as_str())
    );
    assert_eq!(
        made.body,
        json!({
            "id": id,
            "url": url,
            "expires_at": made.body["expires_at"],
            "created_at": made.body["created_at"],
            "created_by": "operator_key backend",
            "state": "active"
        })
    );
    // on the URL the request reached scimd at (SCIMD_PUBLIC_URL when set)
    assert!(
        url.starts_with("http://scimd.test/setup/scimd_setup_"),
        "{url}"
    );
    assert_eq!(
        hours(&made.body["created_at"], &made.body["expires_at"]),
        72
    );
    match access(&api, token_of(&url)).await {
        SetupAccess::Open(open) => {
            assert_eq!(open.0.id.to_string(), id);
            assert_eq!(open.1.name, "contoso");
        }
        other => panic!("{other:?}"),
    }
    // the URL opens the setup page (its path: the host is scimd's own)
    let path = url.strip_prefix("http://scimd.test").unwrap();
    let page = api
        .app
        .send(
            axum::http::Request::get(path)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, 200);
    // without a body, or with an empty one: 7 days
    for body in [None, Some(json!({}))] {
        let plain = api.call(Method::POST, LINKS, body).await;
        assert_eq!(plain.status, 201, "{}", plain.body);
        assert_eq!(
            hours(&plain.body["created_at"], &plain.body["expires_at"]),
            168
        );
    }
    let unknown = api
        .post("/api/v1/tenants/fabrikam/setup-links", json!({}))
        .await;
    let detail = assert_problem(&unknown, 404, "not-found", None);
    assert!(detail.contains("fabrikam"), "{detail}");
}

async fn setup_links_are_listed_newest_first_in_pages_with_their_state_and_never_their_url(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let clock = api.app.state.directory.clock();
    let mut made = Vec::new();
    for validity in ["1h", "2d", "3d", "4d", "5d"] {
        let link = api.post(LINKS, json!({ "expires_in": validity })).await;
        assert_eq!(link.status, 201, "{}", link.body);
        made.push(link.body);
        clock.advance(Duration::from_secs(60));
    }
    // the first expires an hour after it was made
    clock.advance(Duration::from_secs(3600));
    let listed = api.all(LINKS, 2).await;
    let expected: Vec<Value> = made
        .iter()
        .rev()
        .map(|m| {
            json!({
                "id": m["id"],
                "expires_at": m["expires_at"],
                "created_at": m["created_at"],
                "created_by": "operator_key backend",
                "state": if m == &made[0] { "expired" } else { "active" },
                "revoked_at": null,
                "last_used_at": null
            })
        })
        .collect();
    assert_eq!(listed, expected);
    let page = api.get(LINKS).await;
    assert!(
        !page.body.to_string().contains("scimd_setup_"),
        "{}",
        page.body
    );
    // an opening of the page is the link's last use
    let url = made[4]["url"].as_str().unwrap();
    api.app
        .state
        .directory
        .setup_access(token_of(url), true, None)
        .await
        .unwrap();
    let page = api.get(LINKS).await;
    let used = page.body["items"][0]["last_used_at"]
        .as_str()
        .expect("a time");
    let used = DateTime::parse_from_rfc3339(used).unwrap();
    let now = api.app.state.directory.now();
    assert!(
        (now - used.to_utc()).num_seconds().abs() <= 1,
        "{used} {now}"
    );
    // another tenant's list has none of them; its cursor is not one of this list's
    api.tenant("fabrikam").await;
    let theirs = "/api/v1/tenants/fabrikam/setup-links";
    assert_eq!(api.get(theirs).await.body["items"], json!([]));
    let first = api.get(&format!("{LINKS}?limit=1")).await;
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let refused = api.get(&format!("{theirs}?cursor={cursor}")).await;
    assert_problem(&refused, 422, "validation", Some("cursor"));
    let tokens = "eyJsIjoidG9rZW5zIiwiayI6WyIyMDI2LTAxLTAxVDAwOjAwOjAwWiIsIngiXX0";
    let refused = api.get(&format!("{LINKS}?cursor={tokens}")).await;
    assert_problem(&refused, 422, "validation", Some("cursor"));
    let refused = api.get(&format!("{LINKS}?limit=0")).await;
    assert_problem(&refused, 422, "validation", Some("limit"));
}

async fn a_revoked_setup_link_no_longer_opens_and_revoking_again_changes_nothing(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let kept = api.post(LINKS, json!({})).await.body;
    let made = api.post(LINKS, json!({})).await.body;
    let path = format!("{LINKS}/{}", made["id"].as_str().unwrap());
    let revoked = api.delete(&path).await;
    assert_eq!(
        (revoked.status.as_u16(), &revoked.body),
        (204, &Value::Null)
    );
    let token = token_of(made["url"].as_str().unwrap());
    assert_eq!(
        access(&api, token).await,
        SetupAccess::Gone { state: "revoked" }
    );
    let page_path = made["url"]
        .as_str()
        .unwrap()
        .replace("http://scimd.test", "");
    let page = api
        .app
        .send(
            axum::http::Request::get(page_path.as_str())
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, 410, "the page of a revoked link");
    let listed = api.get(LINKS).await.body;
    let shown = &listed["items"][0];
    assert_eq!(
        (&shown["id"], &shown["state"]),
        (&made["id"], &json!("revoked"))
    );
    let at = shown["revoked_at"].clone();
    assert!(at.is_string(), "{listed}");
    api.app
        .state
        .directory
        .clock()
        .advance(Duration::from_secs(60));
    assert_eq!(api.delete(&path).await.status, 204);
    let again = api.get(LINKS).await.body;
    assert_eq!(
        again["items"][0]["revoked_at"], at,
        "revoked at its first time"
    );
    assert_eq!(again["items"][1]["state"], "active");
    assert!(matches!(
        access(&api, token_of(kept["url"].as_str().unwrap())).await,
        SetupAccess::Open(_)
    ));
}

async fn a_retried_create_makes_one_setup_link_and_never_shows_its_url_again(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let key = [("idempotency-key", "setup-link-once")];
    let body = Some(json!({ "expires_in": "2d" }));
    let first = api
        .call_with(Method::POST, LINKS, body.clone(), &api.key.clone(), &key)
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let url = first.body["url"].as_str().unwrap().to_owned();
    let retry = api
        .call_with(Method::POST, LINKS, body, &api.key.clone(), &key)
        .await;
    assert_problem(&retry, 409, "secret-not-repeated", Some("Idempotency-Key"));
    assert_eq!(retry.body["resource"]["id"], first.body["id"]);
    assert!(
        retry.body["resource"].get("url").is_none(),
        "{}",
        retry.body
    );
    assert!(!retry.body.to_string().contains(token_of(&url)));
    assert_eq!(api.all(LINKS, 10).await.len(), 1);
}

async fn a_read_only_key_lists_setup_links_but_may_not_make_or_revoke_one(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let made = api.post(LINKS, json!({})).await.body;
    let reader = api
        .app
        .state
        .directory
        .add_operator_key("dashboard", true)
        .await
        .unwrap()
        .key;
    let listed = api.call_with(Method::GET, LINKS, None, &reader, &[]).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["items"][0]["id"], made["id"]);
    let path = format!("{LINKS}/{}", made["id"].as_str().unwrap());
    for (method, path, body) in [
        (Method::POST, LINKS, Some(json!({}))),
        (Method::DELETE, path.as_str(), None),
    ] {
        let refused = api.call_with(method, path, body, &reader, &[]).await;
        let detail = assert_problem(&refused, 403, "forbidden", None);
        assert!(detail.contains("read-only"), "{detail}");
    }
    let after = api.all(LINKS, 10).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["state"], "active");
}

async fn the_audit_trail_names_who_made_and_revoked_a_setup_link_and_never_holds_its_url(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let made = api.post(LINKS, json!({ "expires_in": "12h" })).await.body;
    let id = made["id"].as_str().unwrap();
    assert_eq!(api.delete(&format!("{LINKS}/{id}")).await.status, 204);
    let audit = api.get("/api/v1/audit?tenant=contoso").await;
    assert_eq!(audit.status, 200, "{}", audit.body);
    let entries: Vec<(&str, &str, &str, &str)> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("setup_link."))
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"]["kind"].as_str().unwrap(),
                e["actor"]["name"].as_str().unwrap(),
                e["target"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            ("setup_link.revoke", "operator_key", "backend", id),
            ("setup_link.create", "operator_key", "backend", id),
        ]
    );
    let url = made["url"].as_str().unwrap();
    assert!(!audit.body.to_string().contains(token_of(url)));
}

async fn the_openapi_document_describes_the_setup_link_operations(backend: Backend) {
    let api = Api::new(backend).await;
    let document = api.get("/api/v1/openapi.json").await.body;
    let paths = &document["paths"];
    for (path, method, id, status) in [
        (LINKS_TEMPLATE, "post", "create_setup_link", "201"),
        (LINKS_TEMPLATE, "get", "list_setup_links", "200"),
        (
            "/api/v1/tenants/{name}/setup-links/{id}",
            "delete",
            "revoke_setup_link",
            "204",
        ),
    ] {
        let operation = &paths[path][method];
        assert_eq!(operation["operationId"], id, "{path} {method}");
        assert_eq!(operation["tags"], json!(["Setup links"]), "{id}");
        assert!(operation["responses"][status].is_object(), "{id}");
        assert!(operation["responses"]["404"].is_object(), "{id}");
    }
    let created = &paths[LINKS_TEMPLATE]["post"]["responses"]["201"];
    assert!(created["headers"]["Location"].is_object(), "{created}");
    let schemas = &document["components"]["schemas"];
    let listed = schemas["SetupLinkView"]["properties"].as_object().unwrap();
    assert!(!listed.contains_key("url"), "a list never holds the URL");
    let validity = &schemas["NewSetupLink"]["properties"]["expires_in"];
    assert!(
        validity
            .to_string()
            .contains("#/components/schemas/Validity"),
        "{validity}"
    );
    let pattern = schemas["Validity"]["pattern"].as_str().unwrap();
    assert_eq!(pattern, scimd::service::invitations::VALIDITY_PATTERN);
}

const LINKS_TEMPLATE: &str = "/api/v1/tenants/{name}/setup-links";
