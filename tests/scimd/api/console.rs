//! The admin console over HTTP: sign-in of team admins only, sessions that end, CSRF on every
//! form, tenant isolation whatever id a URL names, escaping of directory data, and the pages
//! that answer "did Entra's last cycle create Alice, and if not, why?".

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::json;

use crate::api::oauth::{field, text};
use crate::support::{Backend, TOKEN, TestApp, TestResponse, encode, entra_user, execute_sql};

const PASSWORD: &str = "correct horse battery staple";

pub(super) struct Console {
    pub(super) app: TestApp,
}

/// A signed-in browser: its session cookie and the CSRF token of its forms.
pub(super) struct Browser {
    session: String,
    pub(super) csrf: String,
}

impl Console {
    pub(super) async fn new(backend: Backend) -> Self {
        let app = TestApp::new(backend).await;
        let dir = &app.state.directory;
        dir.add_admin("default", "alice", PASSWORD, true)
            .await
            .unwrap();
        dir.add_admin("default", "bob", PASSWORD, false)
            .await
            .unwrap();
        dir.create_tenant("other").await.unwrap();
        dir.add_admin("other", "carol", PASSWORD, true)
            .await
            .unwrap();
        Self { app }
    }

    async fn sign_in(&self, tenant: &str, user: &str, password: &str) -> TestResponse {
        let page = self
            .app
            .send(Request::get("/admin").body(Body::empty()).unwrap())
            .await;
        let csrf = field(&page, "csrf").unwrap();
        let body = serde_urlencoded::to_string([
            ("tenant", tenant),
            ("username", user),
            ("password", password),
            ("csrf", &csrf),
        ])
        .unwrap();
        let req = Request::post("/admin/sign-in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("scimd_login={csrf}"))
            .body(Body::from(body))
            .unwrap();
        self.app.send(req).await
    }

    pub(super) async fn browser(&self, tenant: &str, user: &str) -> Browser {
        let answer = self.sign_in(tenant, user, PASSWORD).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        let cookie = answer.header("set-cookie").unwrap().to_owned();
        let session = cookie
            .split(';')
            .next()
            .unwrap()
            .trim_start_matches("scimd_session=")
            .to_owned();
        let overview = self
            .get(
                &Browser {
                    session: session.clone(),
                    csrf: String::new(),
                },
                "/admin",
            )
            .await;
        Browser {
            csrf: field(&overview, "csrf").unwrap(),
            session,
        }
    }

    pub(super) async fn get(&self, b: &Browser, path: &str) -> TestResponse {
        let req = Request::get(path)
            .header(header::COOKIE, format!("scimd_session={}", b.session))
            .body(Body::empty())
            .unwrap();
        self.app.send(req).await
    }

    pub(super) async fn post(
        &self,
        b: &Browser,
        path: &str,
        form: &[(&str, &str)],
    ) -> TestResponse {
        let req = Request::post(path)
            .header(header::COOKIE, format!("scimd_session={}", b.session))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(serde_urlencoded::to_string(form).unwrap()))
            .unwrap();
        self.app.send(req).await
    }

    async fn scim(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> TestResponse {
        self.app.call(method, path, body).await
    }
}

async fn only_team_admins_sign_in_and_the_session_cookie_is_http_only_and_lax(backend: Backend) {
    let c = Console::new(backend).await;
    let first = c
        .app
        .send(Request::get("/admin").body(Body::empty()).unwrap())
        .await;
    assert_eq!(first.status, 200);
    assert!(
        text(&first).contains("type=\"password\""),
        "the first page signs in"
    );
    let member = c.sign_in("default", "bob", PASSWORD).await;
    assert_eq!(member.status, 401);
    assert!(text(&member).contains("'bob' is not a team admin; the console is for team admins"));
    let wrong = c.sign_in("default", "alice", "not the password").await;
    assert!(text(&wrong).contains("the tenant, user name or password is wrong"));
    let nowhere = c.sign_in("nowhere", "alice", PASSWORD).await;
    assert!(text(&nowhere).contains("the tenant, user name or password is wrong"));
    let ok = c.sign_in("default", "alice", PASSWORD).await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.header("location"), Some("/admin"));
    let cookie = ok.header("set-cookie").unwrap();
    assert!(cookie.starts_with("scimd_session=scimd_s_"), "{cookie}");
    assert!(
        cookie.ends_with("; Path=/admin; HttpOnly; SameSite=Lax"),
        "{cookie}"
    );
    let b = c.browser("default", "alice").await;
    let overview = c.get(&b, "/admin").await;
    assert_eq!(overview.status, 200);
    assert_eq!(overview.header("cache-control"), Some("no-store"));
    assert_eq!(overview.header("x-frame-options"), Some("DENY"));
    let html = text(&overview);
    assert!(
        html.contains("http://scimd.test/scim/v2"),
        "the Tenant URL to paste into Entra"
    );
    assert!(html.contains("Entra has not sent any request yet."));
}

async fn a_session_ends_when_signed_out_or_idle(backend: Backend) {
    let c = Console::new(backend).await;
    let b = c.browser("default", "alice").await;
    let out = c.post(&b, "/admin/sign-out", &[("csrf", &b.csrf)]).await;
    assert_eq!(out.status, 303);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert!(text(&c.get(&b, "/admin/cycles").await).contains("your session has ended"));
    let b = c.browser("default", "alice").await;
    let old = match backend {
        Backend::Postgres => "now() - interval '31 minutes'",
        Backend::Sqlite => "0",
    };
    execute_sql(
        &c.app.db,
        &[format!("update admin_sessions set last_seen = {old}")],
    )
    .await;
    let idle = c.get(&b, "/admin/activity").await;
    assert!(text(&idle).contains("your session has ended; sign in again"));
}

async fn forms_without_the_sessions_csrf_token_change_nothing(backend: Backend) {
    let c = Console::new(backend).await;
    let b = c.browser("default", "alice").await;
    let before = c.app.state.directory.tokens("default").await.unwrap().len();
    for csrf in ["", "forged"] {
        let answer = c
            .post(&b, "/admin/tokens", &[("csrf", csrf), ("label", "x")])
            .await;
        assert_eq!(answer.status, 403);
        assert!(text(&answer).contains("the form came from another page"));
    }
    assert_eq!(
        c.app.state.directory.tokens("default").await.unwrap().len(),
        before
    );
}

async fn an_admin_of_another_tenant_cannot_see_or_change_this_one_by_naming_its_ids(
    backend: Backend,
) {
    let c = Console::new(backend).await;
    let user = c
        .scim(
            Method::POST,
            "/scim/v2/Users",
            Some(entra_user("alice@example.com")),
        )
        .await;
    let uid = user.body["id"].as_str().unwrap().to_owned();
    let dir = &c.app.state.directory;
    let token = dir.issue_token("default", Some("entra")).await.unwrap();
    let client = dir
        .add_client(
            "default",
            &["https://portal.azure.com/TokenAuthorize".to_owned()],
        )
        .await
        .unwrap();
    let carol = c.browser("other", "carol").await;
    assert_eq!(
        c.get(&carol, &format!("/admin/users/{uid}")).await.status,
        404
    );
    let directory = c.get(&carol, "/admin/directory?type=User").await;
    assert!(!text(&directory).contains("alice@example.com"));
    let revoke = c
        .post(
            &carol,
            &format!("/admin/tokens/{}/revoke", token.info.id),
            &[("csrf", &carol.csrf)],
        )
        .await;
    assert_eq!(revoke.status, 404);
    let rotate = c
        .post(
            &carol,
            &format!("/admin/clients/{}/rotate", client.client.client_id),
            &[("csrf", &carol.csrf)],
        )
        .await;
    assert_eq!(rotate.status, 404);
    assert!(
        dir.tokens("default")
            .await
            .unwrap()
            .iter()
            .all(|t| t.revoked.is_none())
    );
    assert_eq!(
        dir.clients("default").await.unwrap()[0].secret_hash,
        client.client.secret_hash
    );
}

async fn directory_data_is_shown_escaped_never_as_html(backend: Backend) {
    let c = Console::new(backend).await;
    let evil = "<script>alert(1)</script>";
    let group = c
        .scim(
            Method::POST,
            "/scim/v2/Groups",
            Some(json!({"displayName": evil})),
        )
        .await;
    assert_eq!(group.status, 201);
    let b = c.browser("default", "alice").await;
    let gid = group.body["id"].as_str().unwrap();
    for page in [
        c.get(&b, "/admin/directory?type=Group").await,
        c.get(&b, &format!("/admin/groups/{gid}")).await,
    ] {
        let raw = page.body.as_str().unwrap();
        assert!(!raw.contains(evil), "{raw}");
        assert!(
            raw.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{raw}"
        );
    }
}

async fn the_last_cycle_shows_what_entra_created_and_why_a_request_was_refused(backend: Backend) {
    let c = Console::new(backend).await;
    let created = c
        .scim(
            Method::POST,
            "/scim/v2/Users",
            Some(entra_user("alice@example.com")),
        )
        .await;
    let uid = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        c.scim(
            Method::POST,
            "/scim/v2/Users",
            Some(entra_user("ALICE@example.com"))
        )
        .await
        .status,
        409
    );
    let b = c.browser("default", "alice").await;
    let cycles = c.get(&b, "/admin/cycles").await;
    let html = text(&cycles);
    let link = html
        .split("href=\"/admin/cycles/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let cycle = text(&c.get(&b, &format!("/admin/cycles/{link}")).await);
    assert!(
        cycle.contains("1 / 0 created") || cycle.contains("<li>1 / 0 created</li>"),
        "{cycle}"
    );
    assert!(
        cycle.contains("uniqueness: userName: the value is taken"),
        "{cycle}"
    );
    assert!(cycle.contains(&format!("/admin/users/{uid}")));
    let refused = text(&c.get(&b, "/admin/activity?status=4xx").await);
    assert!(
        refused.contains("409") && !refused.contains(">201<"),
        "{refused}"
    );
    let search = text(
        &c.get(
            &b,
            &format!(
                "/admin/directory?type=User&filter={}",
                encode("userName eq \"alice@example.com\"")
            ),
        )
        .await,
    );
    assert!(search.contains("1 found"), "{search}");
    let user = text(&c.get(&b, &format!("/admin/users/{uid}")).await);
    assert!(user.contains("\"userName\": \"alice@example.com\""));
    assert!(user.contains("create"), "the user's activity");
    let bad = text(
        &c.get(
            &b,
            &format!("/admin/directory?type=User&filter={}", encode("nope eq 1")),
        )
        .await,
    );
    assert!(
        bad.contains("role=\"alert\""),
        "a bad filter is explained: {bad}"
    );
}

async fn a_token_issued_in_the_console_is_shown_once_and_revoking_it_refuses_it(backend: Backend) {
    let c = Console::new(backend).await;
    let b = c.browser("default", "alice").await;
    let issued = c
        .post(
            &b,
            "/admin/tokens",
            &[("csrf", &b.csrf), ("label", "from-console")],
        )
        .await;
    assert_eq!(issued.status, 200);
    let html = text(&issued);
    let token = html
        .split("<code class=\"copy\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(token.starts_with("scimd_"));
    let probe = |token: String| {
        Request::get("/scim/v2/Users")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(c.app.send(probe(token.clone())).await.status, 200);
    let connection = text(&c.get(&b, "/admin/connection").await);
    assert!(!connection.contains(&token), "never shown again");
    assert!(
        connection.contains("<ol><li><code>userName</code></li></ol>"),
        "the matching attributes, in order: {connection}"
    );
    let id = c
        .app
        .state
        .directory
        .tokens("default")
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.label.as_deref() == Some("from-console"))
        .unwrap()
        .id;
    let revoked = c
        .post(
            &b,
            &format!("/admin/tokens/{id}/revoke"),
            &[("csrf", &b.csrf)],
        )
        .await;
    assert!(text(&revoked).contains("Token 'from-console' is revoked"));
    assert_eq!(c.app.send(probe(token)).await.status, 401);
    assert_eq!(c.app.send(probe(TOKEN.to_owned())).await.status, 200);
}

crate::on_both_stores!(
    only_team_admins_sign_in_and_the_session_cookie_is_http_only_and_lax,
    a_session_ends_when_signed_out_or_idle,
    forms_without_the_sessions_csrf_token_change_nothing,
    an_admin_of_another_tenant_cannot_see_or_change_this_one_by_naming_its_ids,
    directory_data_is_shown_escaped_never_as_html,
    the_last_cycle_shows_what_entra_created_and_why_a_request_was_refused,
    a_token_issued_in_the_console_is_shown_once_and_revoking_it_refuses_it,
);
