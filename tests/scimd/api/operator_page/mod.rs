//! The operator page over HTTP, on both stores: operator accounts' sign-in (throttled, CSRF on
//! every form, cookies flagged like the console's), sessions that end at sign-out, a password
//! change or the account's removal, no door between it and the console or the API, and the
//! page itself — every tenant's state, reasons, last cycle, refusals, silence and chart from
//! real SCIM traffic, sorted by every column both ways — and what hostile input gets.

mod hostile;
mod page;
mod sign_in;

use axum::body::Body;
use axum::http::{Request, header};

use crate::api::oauth::{field, text};
use crate::api::security::{PASSWORD, PROXY, from_peer, proxied_app};
use crate::support::{Backend, TestApp, TestResponse, cookie_pair};

/// The operator account every test signs in with.
pub const OPERATOR: &str = "olivia";
/// Where the tests' browsers are, as the trusted proxy reports them.
pub const HOME: &str = "198.51.100.7";

pub struct Operator {
    pub app: TestApp,
}

/// A signed-in browser: its session cookie (`name=value`) and the CSRF token of its forms.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl Operator {
    /// An app behind a trusted proxy with operator account `olivia` and team admin `alice` of
    /// tenant `default`.
    pub async fn new(backend: Backend) -> Self {
        let app = proxied_app(backend).await;
        app.state
            .directory
            .add_operator_account(OPERATOR, PASSWORD)
            .await
            .unwrap();
        Self { app }
    }

    /// `req` from `client` through the trusted proxy.
    pub async fn send(&self, client: &str, req: Request<Body>) -> TestResponse {
        let mut req = req;
        req.headers_mut()
            .insert("x-forwarded-for", client.parse().unwrap());
        self.app.send(from_peer(req, PROXY)).await
    }

    /// The sign-in page's CSRF field and the login cookie that goes with it.
    pub async fn login_form(&self) -> (String, String) {
        let page = self
            .send(
                HOME,
                Request::get("/operator/sign-in")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(page.status, 200);
        let csrf = field(&page, "csrf").unwrap();
        (csrf, cookie_pair(page.header("set-cookie").unwrap()))
    }

    /// Posts the sign-in form with a CSRF token and cookie already had.
    pub async fn sign_in_with(
        &self,
        client: &str,
        (csrf, cookie): (&str, &str),
        username: &str,
        password: &str,
    ) -> TestResponse {
        let body = serde_urlencoded::to_string([
            ("username", username),
            ("password", password),
            ("csrf", csrf),
        ])
        .unwrap();
        let req = Request::post("/operator/sign-in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookie)
            .body(Body::from(body))
            .unwrap();
        self.send(client, req).await
    }

    /// Signs in from `client` with a fresh sign-in form.
    pub async fn sign_in(&self, client: &str, username: &str, password: &str) -> TestResponse {
        let (csrf, cookie) = self.login_form().await;
        self.sign_in_with(client, (&csrf, &cookie), username, password)
            .await
    }

    /// `olivia` signed in: her session cookie and the CSRF token of her page's forms.
    pub async fn session(&self) -> Session {
        let signed = self.sign_in(HOME, OPERATOR, PASSWORD).await;
        assert_eq!(signed.status, 303, "{}", signed.body);
        let cookie = cookie_pair(signed.header("set-cookie").unwrap());
        let page = self.get(&cookie, "/operator").await;
        assert_eq!(page.status, 200);
        let csrf = field(&page, "csrf").expect("the page's sign-out form");
        Session { cookie, csrf }
    }

    pub async fn get(&self, cookie: &str, path: &str) -> TestResponse {
        let req = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        self.send(HOME, req).await
    }

    pub async fn post(&self, cookie: &str, path: &str, form: &[(&str, &str)]) -> TestResponse {
        let req = Request::post(path)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(serde_urlencoded::to_string(form).unwrap()))
            .unwrap();
        self.send(HOME, req).await
    }
}

/// Whether `page` is the operator page's sign-in form.
pub fn is_sign_in(page: &TestResponse) -> bool {
    let html = page.body.as_str().unwrap_or_default();
    html.contains("action=\"/operator/sign-in\"") && html.contains("type=\"password\"")
}

/// The tenants of the page's table, in their order.
pub fn tenants(page: &TestResponse) -> Vec<String> {
    let html = page.body.as_str().unwrap_or_default();
    html.split("<tr class=\"tenant-row\" data-tenant=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

/// The HTML of the table's row of `tenant`, the entities askama escapes turned back.
pub fn row(page: &TestResponse, tenant: &str) -> String {
    let html = text(page);
    let start = html
        .find(&format!("data-tenant=\"{tenant}\""))
        .unwrap_or_else(|| panic!("no row of {tenant}"));
    let rest = &html[start..];
    rest[..rest.find("</tr>").unwrap()].to_owned()
}

/// A SCIM request of a tenant with its token.
pub use crate::api::health::scim;
