//! The setup page at `/setup/{token}`: the customer's identity admin opens the link the
//! application's team sent, chooses their identity provider, gets the Tenant URL and a Secret
//! Token (or creates the tenant's first team admin for Entra's Authorize), and watches the
//! connection come up step by step, with the first cycle's refusals grouped by cause and the
//! fix. Server-rendered, usable without JavaScript (a `<noscript>` refresh while a step
//! waits); a small script from scimd itself refreshes the progress in place instead, so a
//! token shown once stays on screen. Forms carry a CSRF token bound to a cookie of the setup
//! pages. A link that is unknown, expired or revoked answers a page that says what to ask for
//! and shows nothing of the tenant.

mod forms;
mod progress;
mod providers;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::TimeDelta;

use self::progress::{ProgressView, view};
use self::providers::Provider;
use crate::domain::Tenant;
use crate::domain::setup::SetupLink;
use crate::http::AppState;
use crate::http::client::Client;
use crate::http::console::extract::{Path, Query};
use crate::http::console::failure;
use crate::http::extract::BaseUrl;
use crate::http::page::{Cookies, html, same_token};
use crate::service::setup::{SETUP_PATH, SetupAccess, expires_text};
use crate::service::{Directory, Error, MIN_PASSWORD_CHARS};

/// The cookie that holds the setup pages' CSRF token.
const CSRF_COOKIE: &str = "scimd_setup";
/// How often the page looks at the progress again while a step waits, in seconds.
const REFRESH_SECONDS: u32 = 5;

/// The setup page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{SETUP_PATH}/{{token}}"), get(open))
        .route(&format!("{SETUP_PATH}/{{token}}/progress"), get(progress))
        .route(&format!("{SETUP_PATH}/{{token}}/token"), post(forms::token))
        .route(&format!("{SETUP_PATH}/{{token}}/admin"), post(forms::admin))
        .route(
            &format!("{SETUP_PATH}/{{token}}/schema"),
            post(forms::schema),
        )
        .route("/static/setup.js", get(script))
}

struct Tab {
    name: &'static str,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "setup/page.html")]
struct SetupPage {
    tenant: String,
    expires: String,
    provider: Provider,
    tabs: Vec<Tab>,
    tenant_url: String,
    /// The tenant's matching attributes, precedence 1 first.
    matching: Vec<String>,
    authorize_url: String,
    token_url: String,
    token_action: String,
    admin_action: String,
    csrf: String,
    /// A token just generated, shown once.
    secret: Option<String>,
    message: Option<String>,
    notice: Option<String>,
    team_admins: Vec<String>,
    clients: Vec<String>,
    min_chars: usize,
    username: String,
    p: ProgressView,
    /// Refresh the whole page while a step waits (without the script): not when a token is
    /// on screen.
    refresh: bool,
    refresh_url: String,
    refresh_seconds: u32,
}

#[derive(Template)]
#[template(path = "setup/progress.html")]
struct ProgressFragment {
    p: ProgressView,
}

#[derive(Template)]
#[template(path = "setup/unusable.html")]
struct Unusable {
    title: &'static str,
    message: &'static str,
}

#[derive(serde::Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    idp: Option<String>,
    /// Set by the page's own refresh: not an opening for the audit trail.
    #[serde(default)]
    watch: Option<String>,
}

/// An open link: the link, its tenant, the directory acting for it, and the page's context.
struct Opened {
    link: SetupLink,
    tenant: Tenant,
    directory: Directory,
    token: String,
    cookies: Cookies,
    csrf: String,
    /// The CSRF cookie to set (none when the request had one).
    new_csrf: bool,
    base: String,
}

/// The answer for a link that cannot be used: 404 unknown, 410 expired or revoked.
fn unusable(access: &SetupAccess) -> Response {
    let (status, title, message) = match access {
        SetupAccess::Gone { state: "revoked" } => (
            StatusCode::GONE,
            "This setup link was revoked",
            "Ask the application's team for a new setup link.",
        ),
        SetupAccess::Gone { .. } => (
            StatusCode::GONE,
            "This setup link has expired",
            "Setup links work for a limited time. Ask the application's team for a new one.",
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "This setup link is not valid",
            "Check that the whole link was copied, or ask the application's team for a new one.",
        ),
    };
    html(status, Unusable { title, message }.render(), "")
}

/// A request to a setup link's pages, before the link is looked at: who asks, their cookies,
/// the URL scimd is reached at, and the link's token.
pub struct Visit {
    client: Client,
    cookies: Cookies,
    headers: HeaderMap,
    base: BaseUrl,
    token: String,
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Response> {
        let Path(token) = Path::<String>::from_request_parts(parts, app)
            .await
            .map_err(IntoResponse::into_response)?;
        let Ok(cookies) = Cookies::from_request_parts(parts, app).await;
        let base = BaseUrl::from_request_parts(parts, app)
            .await
            .map_err(IntoResponse::into_response)?;
        let client = parts
            .extensions
            .get::<Client>()
            .cloned()
            .unwrap_or_default();
        Ok(Visit {
            client,
            cookies,
            headers: parts.headers.clone(),
            base,
            token,
        })
    }
}

impl Visit {
    /// Opens the link: the link and its tenant, or the answer for an unusable one.
    /// `audit_opening` records the opening in the audit trail.
    async fn open(self, app: &AppState, audit_opening: bool) -> Result<Opened, Response> {
        let address = self.client.address.map(|a| a.to_string());
        let (access, directory) = app
            .directory
            .setup_access(&self.token, audit_opening, address)
            .await
            .map_err(failure)?;
        let SetupAccess::Open(open) = access else {
            return Err(unusable(&access));
        };
        let (link, tenant) = *open;
        let held = self.cookies.get(&self.headers, CSRF_COOKIE).filter(|c| {
            c.len() >= 32
                && c.len() <= 128
                && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        let (csrf, new_csrf) = match held {
            Some(c) => (c, false),
            None => (crate::service::oauth::csrf_token().map_err(failure)?, true),
        };
        Ok(Opened {
            link,
            tenant,
            directory,
            token: self.token,
            cookies: self.cookies,
            csrf,
            new_csrf,
            base: self.base.0,
        })
    }

    /// Opens the link for a form posted on its page, whose CSRF field must be the cookie's:
    /// the link and the provider the form names, or the answer (403 and nothing done for
    /// another CSRF token).
    async fn posted(
        self,
        app: &AppState,
        csrf: &str,
        idp: Option<&str>,
    ) -> Result<(Opened, Provider), Response> {
        let o = self.open(app, false).await?;
        let provider = providers::by_key(idp);
        if !o.csrf_ok(csrf) {
            return Err(forms::refused(&o, app, provider).await);
        }
        Ok((o, provider))
    }
}

impl Opened {
    fn path(&self) -> String {
        format!("{SETUP_PATH}/{}", self.token)
    }

    /// The form's CSRF token is the cookie's.
    fn csrf_ok(&self, field: &str) -> bool {
        !self.new_csrf && same_token(field, &self.csrf)
    }

    /// A rendered page with the setup pages' headers: the script of scimd's own allowed, and
    /// the CSRF cookie set when the request had none.
    fn answer(&self, status: StatusCode, body: Result<String, askama::Error>) -> Response {
        let mut response = html(status, body, "");
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; \
                 connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
        if self.new_csrf {
            self.cookies.set(
                &mut response,
                (CSRF_COOKIE, &self.csrf),
                SETUP_PATH,
                "Strict",
            );
        }
        response
    }

    /// The progress section, read now; `clients`, the tenant's OAuth clients where the
    /// caller read them already.
    async fn progress(
        &self,
        app: &AppState,
        provider: Provider,
        clients: Option<&[String]>,
    ) -> Result<ProgressView, Error> {
        let gap = TimeDelta::from_std(app.cycle_gap).unwrap_or(TimeDelta::minutes(10));
        let progress = self.directory.setup_progress(&self.tenant, gap).await?;
        let credentials = match &progress.connected {
            Some(_) => self.credential_warning(clients).await?,
            None => None,
        };
        Ok(view(progress, provider, self, credentials))
    }

    /// Whether the tenant has lost every credential it connected with.
    async fn credential_warning(
        &self,
        clients: Option<&[String]>,
    ) -> Result<Option<String>, Error> {
        let tokens = self.directory.tokens(&self.tenant.name).await?;
        let valid = tokens.iter().any(|t| t.revoked.is_none());
        if valid || self.tenant.policy.entra_tenant.is_some() {
            return Ok(None);
        }
        let has_clients = match clients {
            Some(clients) => !clients.is_empty(),
            None => !self
                .directory
                .setup_accounts(&self.tenant)
                .await?
                .1
                .is_empty(),
        };
        if has_clients {
            return Ok(None);
        }
        Ok(Some(
            "No credential of this tenant works any more: the Secret Token was revoked. \
             Generate a new one above, paste it into your identity provider and test the \
             connection again."
                .to_owned(),
        ))
    }

    /// The whole page.
    async fn page(
        &self,
        app: &AppState,
        provider: Provider,
        secret: Option<String>,
        message: Option<String>,
        notice: Option<String>,
        username: String,
    ) -> Response {
        let result = async {
            let (team_admins, clients) = self.directory.setup_accounts(&self.tenant).await?;
            let p = self.progress(app, provider, Some(&clients)).await?;
            Ok::<_, Error>((p, team_admins, clients))
        }
        .await;
        let (p, team_admins, clients) = match result {
            Ok(r) => r,
            Err(e) => return failure(e),
        };
        let path = self.path();
        // where Entra reaches scimd, as the Tenant URL says (the issuer may be a listening
        // address such as 0.0.0.0:8080 when SCIMD_PUBLIC_URL is unset)
        let root = self
            .base
            .strip_suffix(crate::http::SCIM_BASE)
            .unwrap_or(&self.base)
            .to_owned();
        let refresh = p.waiting && secret.is_none();
        let status = if message.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        let page = SetupPage {
            tenant: self.tenant.name.clone(),
            expires: expires_text(self.link.expires),
            provider,
            tabs: providers::ALL
                .iter()
                .map(|p| Tab {
                    name: p.name,
                    href: format!("{path}?idp={}", p.key),
                    current: p.key == provider.key,
                })
                .collect(),
            tenant_url: self.base.clone(),
            matching: self.tenant.policy.matching.names(),
            authorize_url: format!("{root}{}", crate::http::oauth::AUTHORIZE_PATH),
            token_url: format!("{root}{}", crate::http::oauth::TOKEN_PATH),
            token_action: format!("{path}/token"),
            admin_action: format!("{path}/admin"),
            csrf: self.csrf.clone(),
            secret,
            message,
            notice,
            team_admins,
            clients,
            min_chars: MIN_PASSWORD_CHARS,
            username,
            p,
            refresh,
            refresh_url: format!("{path}?idp={}&watch=1", provider.key),
            refresh_seconds: REFRESH_SECONDS,
        };
        self.answer(status, page.render())
    }
}

/// `GET /setup/{token}`: the page.
async fn open(State(app): State<AppState>, visit: Visit, Query(q): Query<PageQuery>) -> Response {
    let o = match visit.open(&app, q.watch.is_none()).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let provider = providers::by_key(q.idp.as_deref());
    o.page(&app, provider, None, None, None, String::new())
        .await
}

/// `GET /setup/{token}/progress`: the progress section alone, for the page's script.
async fn progress(
    State(app): State<AppState>,
    visit: Visit,
    Query(q): Query<PageQuery>,
) -> Response {
    let o = match visit.open(&app, false).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let provider = providers::by_key(q.idp.as_deref());
    match o.progress(&app, provider, None).await {
        Ok(p) => o.answer(StatusCode::OK, ProgressFragment { p }.render()),
        Err(e) => failure(e),
    }
}

/// The page's script: while a step waits, reads the progress section again every few
/// seconds and puts it in place, so that nothing else on the page (a token shown once) goes.
async fn script() -> Response {
    let mut response = axum::response::IntoResponse::into_response((
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    ));
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

const SCRIPT: &str = include_str!("../../../static/setup.js");
