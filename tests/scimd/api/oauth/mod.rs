//! OAuth 2.0 over HTTP, as Entra's "Authorize" button and client credentials use it: the
//! sign-in page and its code (`authorize`), the token endpoint's grants and what SCIM answers
//! to the tokens (`tokens`). The helpers here drive the flow the way Entra's pop-up does.

mod accounts;
mod authorize;
mod entra;
mod tokens;

use axum::body::Body;
use axum::http::{Method, Request, header};
use base64::Engine;
use serde_json::Value;

use crate::support::{Backend, TestApp, TestResponse, encode};

pub const ENTRA: &str = "https://portal.azure.com/TokenAuthorize";
pub const PASSWORD: &str = "correct horse battery staple";

/// A test app whose tenant `default` has a team admin `alice`, a member `bob`, and an OAuth
/// client registered for Entra's redirect URI.
pub struct OAuthApp {
    pub app: TestApp,
    pub client_id: String,
    pub secret: String,
}

impl OAuthApp {
    pub async fn new(backend: Backend) -> Self {
        let app = TestApp::new(backend).await;
        let dir = &app.state.directory;
        dir.add_admin("default", "alice", PASSWORD, true)
            .await
            .unwrap();
        dir.add_admin("default", "bob", PASSWORD, false)
            .await
            .unwrap();
        let issued = dir
            .add_client("default", &[ENTRA.to_owned()])
            .await
            .unwrap();
        Self {
            client_id: issued.client.client_id.clone(),
            secret: issued.secret,
            app,
        }
    }

    /// The authorization URL Entra opens, with `extra` query parameters.
    pub fn authorize_url(&self, extra: &str) -> String {
        format!(
            "/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&state=xyz{extra}",
            self.client_id,
            encode(ENTRA)
        )
    }

    /// GET of the authorization URL: the page, and the CSRF cookie and field it carries.
    pub async fn open(&self, url: &str) -> (TestResponse, String) {
        let page = self.app.send(get(url)).await;
        let csrf = field(&page, "csrf").unwrap_or_default();
        (page, csrf)
    }

    /// Opens the page and posts the sign-in form with these credentials.
    pub async fn sign_in(&self, extra: &str, username: &str, password: &str) -> TestResponse {
        let (_, csrf) = self.open(&self.authorize_url(extra)).await;
        let mut form = vec![
            ("response_type", "code".to_owned()),
            ("client_id", self.client_id.clone()),
            ("redirect_uri", ENTRA.to_owned()),
            ("state", "xyz".to_owned()),
            ("username", username.to_owned()),
            ("password", password.to_owned()),
            ("csrf", csrf.clone()),
        ];
        for pair in extra
            .trim_start_matches('&')
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap();
            let k: &'static str = Box::leak(k.to_owned().into_boxed_str());
            form.push((k, v.to_owned()));
        }
        let body = serde_urlencoded::to_string(&form).unwrap();
        let req = Request::builder()
            .method(Method::POST)
            .uri("/oauth/authorize")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("scimd_csrf={csrf}"))
            .body(Body::from(body))
            .unwrap();
        self.app.send(req).await
    }

    /// A team admin's sign-in: the code from the redirect.
    pub async fn code(&self, extra: &str) -> String {
        let answer = self.sign_in(extra, "alice", PASSWORD).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        query_param(answer.header("location").unwrap(), "code").unwrap()
    }

    /// A token request authenticated with HTTP Basic.
    pub async fn token(&self, form: &[(&str, &str)]) -> TestResponse {
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.client_id, self.secret));
        token_request(&self.app, form, Some(&basic)).await
    }

    /// The whole code flow: access and refresh token.
    pub async fn authorized(&self) -> (String, String) {
        let code = self.code("").await;
        let answer = self
            .token(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", ENTRA),
            ])
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let text = |k: &str| answer.body[k].as_str().unwrap().to_owned();
        (text("access_token"), text("refresh_token"))
    }

    /// Entra's Test Connection probe with `token`.
    pub async fn probe(&self, token: &str) -> TestResponse {
        let req = Request::builder()
            .uri(format!(
                "/scim/v2/Users?filter={}",
                encode("userName eq \"a9d3c1e0-probe@example.com\"")
            ))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        self.app.send(req).await
    }
}

pub fn get(url: &str) -> Request<Body> {
    Request::builder().uri(url).body(Body::empty()).unwrap()
}

/// A token request with an optional Basic credential.
pub async fn token_request(
    app: &TestApp,
    form: &[(&str, &str)],
    basic: Option<&str>,
) -> TestResponse {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/oauth/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(basic) = basic {
        req = req.header(header::AUTHORIZATION, format!("Basic {basic}"));
    }
    let body = serde_urlencoded::to_string(form).unwrap();
    app.send(req.body(Body::from(body)).unwrap()).await
}

/// The value of the hidden or text field `name` of an HTML page.
pub fn field(page: &TestResponse, name: &str) -> Option<String> {
    let html = page.body.as_str()?;
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// An HTML page's text with the entities askama escapes turned back.
pub fn text(page: &TestResponse) -> String {
    page.body
        .as_str()
        .unwrap_or_default()
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#38;", "&")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A query parameter of a URL, decoded.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Asserts an RFC 6749 §5.2 error and returns its description.
#[track_caller]
pub fn assert_oauth_error(answer: &TestResponse, status: u16, error: &str) -> String {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.body);
    assert_eq!(answer.body["error"], Value::from(error), "{}", answer.body);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert!(
        answer
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    answer.body["error_description"]
        .as_str()
        .unwrap()
        .to_owned()
}
