//! The setup page over HTTP: a link made for one tenant opens a page with that tenant's Tenant
//! URL, its token form yields a token SCIM accepts (once: generating again revokes it), the
//! connection's steps turn done as Entra's requests arrive, the first cycle's refusals are
//! grouped by cause with the fix, and a link that is unknown, expired or revoked shows nothing
//! of the tenant. Every use is in the audit trail.

mod progress;

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::Value;

use crate::api::oauth::text;
use crate::support::{Backend, TestApp, TestResponse, encode};
use scimd::domain::audit::AuditFilter;

const ROOT: &str = "http://scimd.test";
const CONTOSO: &str = "urn:ietf:params:scim:schemas:extension:contoso:2.0:User";

/// An app with tenant `acme` (no credential yet) and a setup link for it: the link's path.
async fn with_link(backend: Backend) -> (TestApp, String) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    dir.create_tenant("acme").await.unwrap();
    let link = dir.create_setup_link("acme", None, ROOT).await.unwrap();
    assert!(
        link.url.starts_with(&format!("{ROOT}/setup/scimd_setup_")),
        "{}",
        link.url
    );
    let path = link.url.strip_prefix(ROOT).unwrap().to_owned();
    (app, path)
}

/// A browser on the setup page: the CSRF cookie the page set, and the form's field.
struct Visitor {
    cookie: String,
    csrf: String,
}

async fn open(app: &TestApp, path: &str) -> (TestResponse, Visitor) {
    let page = app
        .send(Request::get(path).body(Body::empty()).unwrap())
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let set = page.header("set-cookie").unwrap_or_default().to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/setup"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_owned();
    let csrf = crate::api::oauth::field(&page, "csrf").unwrap();
    (page, Visitor { cookie, csrf })
}

async fn get(app: &TestApp, path: &str, v: &Visitor) -> TestResponse {
    app.send(
        Request::get(path)
            .header(header::COOKIE, &v.cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn post(app: &TestApp, path: &str, cookie: &str, fields: &[(&str, &str)]) -> TestResponse {
    let body = serde_urlencoded::to_string(fields).unwrap();
    app.send(
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookie)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

/// The secret token a page shows in `#secret-token`.
fn secret(page: &TestResponse) -> String {
    let html = page.body.as_str().unwrap();
    let at = html
        .find("id=\"secret-token\">")
        .expect("a token on the page")
        + 18;
    html[at..at + html[at..].find('<').unwrap()].to_owned()
}

/// The class of the element `id` (`step done`).
fn class_of(page: &TestResponse, id: &str) -> String {
    let html = page.body.as_str().unwrap();
    let at = html
        .find(&format!("id=\"{id}\" class=\""))
        .unwrap_or_else(|| panic!("no {id}: {html}"));
    let rest = &html[at + id.len() + 13..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// Entra's Test Connection probe: a lookup of a random userName with the token.
async fn probe(app: &TestApp, token: &str) -> TestResponse {
    let filter = encode(&format!("userName eq \"{}\"", uuid::Uuid::new_v4()));
    app.send(
        Request::get(format!("/scim/v2/Users?filter={filter}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn scim_post(app: &TestApp, token: &str, path: &str, body: Value) -> TestResponse {
    app.send(
        Request::post(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/scim+json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn audit(app: &TestApp) -> Vec<(String, String, Option<String>)> {
    let filter = AuditFilter {
        tenant: Some("acme".into()),
        before: None,
        limit: 200,
    };
    let mut entries: Vec<_> = app
        .state
        .directory
        .audit(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.action,
                format!("{} {}", e.actor.kind.as_str(), e.actor.name),
                e.detail,
            )
        })
        .collect();
    entries.reverse();
    entries
}

async fn a_setup_link_opens_the_tenants_page_and_its_token_connects_entra(backend: Backend) {
    let (app, path) = with_link(backend).await;
    let (page, v) = open(&app, &path).await;
    let shown = text(&page);
    assert!(
        shown.contains("<code id=\"tenant-url\">http://scimd.test/scim/v2</code>"),
        "{shown}"
    );
    assert!(shown.contains("for <strong>acme</strong>"), "{shown}");
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(class_of(&page, "step-test-connection"), "step waiting");
    assert!(
        shown.contains("click Test Connection"),
        "Entra is the default provider: {shown}"
    );
    assert!(
        shown.contains("<noscript><meta http-equiv=\"refresh\""),
        "{shown}"
    );

    let made = post(
        &app,
        &format!("{path}/token"),
        &v.cookie,
        &[("csrf", &v.csrf), ("idp", "entra")],
    )
    .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let token = secret(&made);
    assert!(token.starts_with("scimd_"), "{token}");
    assert!(
        !text(&made).contains("<noscript><meta http-equiv=\"refresh\""),
        "a token on screen is not refreshed away"
    );

    let probed = probe(&app, &token).await;
    assert_eq!(probed.status, 200, "{}", probed.body);
    assert_eq!(probed.body["totalResults"], 0);
    let progress = get(&app, &format!("{path}/progress?idp=entra"), &v).await;
    assert_eq!(progress.status, 200);
    assert_eq!(class_of(&progress, "step-test-connection"), "step done");
    assert!(
        text(&progress)
            .contains("Your identity provider reached the application with a Secret Token.")
    );
    assert_eq!(class_of(&progress, "step-first-user"), "step waiting");
    assert!(
        text(&progress).contains("assign users and groups with a role"),
        "{}",
        text(&progress)
    );

    // generating again revokes the token the page made before
    let again = post(
        &app,
        &format!("{path}/token"),
        &v.cookie,
        &[("csrf", &v.csrf)],
    )
    .await;
    let second = secret(&again);
    assert_ne!(second, token);
    assert_eq!(probe(&app, &token).await.status, 401);
    assert_eq!(probe(&app, &second).await.status, 200);
    let tokens = app.state.directory.tokens("acme").await.unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(tokens[0].revoked.is_some() && tokens[1].revoked.is_none());
    assert!(
        tokens
            .iter()
            .all(|t| t.label.as_deref() == Some("setup page"))
    );

    let trail = audit(&app).await;
    let actions: Vec<&str> = trail.iter().map(|(a, ..)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "tenant.create",
            "setup_link.create",
            "setup_link.open",
            "token.issue",
            "token.issue",
            "token.revoke"
        ],
        "{trail:?}"
    );
    assert!(trail[3].1.starts_with("setup_link acme/"), "{trail:?}");
    // the page's own refreshes are not openings
    let watched = get(&app, &format!("{path}?watch=1"), &v).await;
    assert_eq!(watched.status, 200);
    assert_eq!(audit(&app).await.len(), trail.len());
}

async fn an_unknown_expired_or_revoked_link_shows_nothing_of_the_tenant(backend: Backend) {
    let (app, path) = with_link(backend).await;
    let unknown = app
        .send(
            Request::get("/setup/scimd_setup_0000")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(unknown.status, 404);
    assert!(
        text(&unknown).contains("Ask the application's team")
            || text(&unknown).contains("ask the application's team")
    );
    for nasty in [
        "/setup/%00",
        "/setup/a%00b/token",
        &format!("/setup/{}", "x".repeat(5000)),
    ] {
        let r = app
            .send(Request::get(nasty).body(Body::empty()).unwrap())
            .await;
        assert!(r.status.is_client_error(), "{nasty}: {}", r.status);
    }

    let dir = &app.state.directory;
    let links = dir.setup_links("acme", None, 10).await.unwrap();
    dir.revoke_setup_link("acme", links[0].id).await.unwrap();
    let revoked = app
        .send(Request::get(&path).body(Body::empty()).unwrap())
        .await;
    assert_eq!(revoked.status, 410);
    assert!(text(&revoked).contains("This setup link was revoked"));
    assert!(!text(&revoked).contains("acme") && !text(&revoked).contains("scim/v2"));
    let posted = post(&app, &format!("{path}/token"), "", &[("csrf", "x")]).await;
    assert_eq!(posted.status, 410);
    assert!(
        dir.tokens("acme").await.unwrap().is_empty(),
        "a revoked link issues nothing"
    );

    let fresh = dir
        .create_setup_link("acme", Some("1h"), ROOT)
        .await
        .unwrap();
    let fresh_path = fresh.url.strip_prefix(ROOT).unwrap().to_owned();
    dir.clock().advance(std::time::Duration::from_secs(61 * 60));
    let expired = app
        .send(Request::get(&fresh_path).body(Body::empty()).unwrap())
        .await;
    assert_eq!(expired.status, 410);
    assert!(text(&expired).contains("This setup link has expired"));
    assert!(!text(&expired).contains("acme"));

    let refused: Vec<_> = audit(&app)
        .await
        .into_iter()
        .filter(|(a, ..)| a == "setup_link.refused")
        .map(|(_, _, d)| d.unwrap_or_default())
        .collect();
    assert_eq!(refused, ["revoked", "revoked", "expired"]);
}

async fn forms_without_the_pages_csrf_token_change_nothing(backend: Backend) {
    let (app, path) = with_link(backend).await;
    let (_, v) = open(&app, &path).await;
    let forged = [
        ("", v.csrf.as_str()),
        (v.cookie.as_str(), ""),
        (
            v.cookie.as_str(),
            "scimd_forged_csrf_value_0123456789abcdef",
        ),
        (
            "scimd_setup=another_cookie_value_0123456789abcdef",
            v.csrf.as_str(),
        ),
    ];
    for (cookie, csrf) in forged {
        let r = post(&app, &format!("{path}/token"), cookie, &[("csrf", csrf)]).await;
        assert_eq!(r.status, 403, "{cookie} {csrf}");
        assert!(text(&r).contains("The form expired or came from another page"));
        assert!(!r.body.as_str().unwrap().contains("secret-token"));
        let r = post(
            &app,
            &format!("{path}/admin"),
            cookie,
            &[
                ("csrf", csrf),
                ("username", "mallory"),
                ("password", "long enough password"),
                ("confirm", "long enough password"),
            ],
        )
        .await;
        assert_eq!(r.status, 403);
    }
    assert!(app.state.directory.tokens("acme").await.unwrap().is_empty());
    assert!(app.state.directory.admins("acme").await.unwrap().is_empty());
}

async fn the_entra_steps_name_the_matching_attributes_with_their_precedence(backend: Backend) {
    let (app, path) = with_link(backend).await;
    let list = ["userName", "externalId", "emails[type eq \"work\"].value"];
    let change = scimd::service::PolicyChange {
        matching: Some(scimd::domain::Precedence::parse(&list).unwrap()),
        ..Default::default()
    };
    app.state
        .directory
        .set_policy("acme", &change)
        .await
        .unwrap();
    let (page, _) = open(&app, &path).await;
    let shown = text(&page);
    assert!(
        shown.contains(
            "<p id=\"matching\">This application matches users on <code>userName</code> \
             (Matching precedence 1), then <code>externalId</code> (Matching precedence 2), then \
             <code>emails[type eq \"work\"].value</code> (Matching precedence 3)."
        ),
        "{shown}"
    );
    let okta = app
        .send(
            Request::get(format!("{path}?idp=okta"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(okta.status, 200);
    assert!(
        !text(&okta).contains("id=\"matching\""),
        "Entra's words only"
    );
}

crate::on_both_stores!(
    a_setup_link_opens_the_tenants_page_and_its_token_connects_entra,
    an_unknown_expired_or_revoked_link_shows_nothing_of_the_tenant,
    forms_without_the_pages_csrf_token_change_nothing,
    the_entra_steps_name_the_matching_attributes_with_their_precedence,
);
