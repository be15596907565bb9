//! The admin console at `/admin`, for the application's team admins: sign-in, a session cookie
//! (`HttpOnly`, `SameSite=Lax`, `Secure` and `__Host-` behind TLS, ended when idle, and at once
//! when the admin is removed, loses the team-admin right or changes password), a CSRF token on every form,
//! and pages rendered on the server from askama templates (escaped: directory data never runs as
//! HTML). Every page and change is of the session's tenant only.

mod alerts;
mod connection;
mod deleted;
mod directory;
pub(super) mod extract;
mod invitation;
mod pages;
mod views;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::domain::audit::{Actor, ActorKind};
use crate::http::AppState;
use crate::http::page::{Cookies, failure_page, html, same_token};
use crate::service::console::Session;
use crate::service::{Directory, Error};

pub const SESSION_COOKIE: &str = "scimd_session";
const LOGIN_COOKIE: &str = "scimd_login";

/// The console's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(pages::overview))
        .route("/admin/sign-in", post(pages::sign_in))
        .route("/admin/sign-out", post(pages::sign_out))
        .route(
            "/admin/invitation/{token}",
            get(invitation::open).post(invitation::accept),
        )
        .route("/admin/cycles", get(pages::cycles))
        .route("/admin/cycles/{start}", get(pages::cycle))
        .route("/admin/activity", get(pages::activity))
        .route("/admin/directory", get(directory::directory))
        .route("/admin/users/{id}", get(directory::user))
        .route("/admin/groups/{id}", get(directory::group))
        .route("/admin/connection", get(connection::connection))
        .route(
            "/admin/alerts",
            get(alerts::alerts).post(alerts::set_addresses),
        )
        .route("/admin/alerts/me", post(alerts::set_mine))
        .route(
            "/admin/deleted",
            get(deleted::deleted).post(deleted::set_rule),
        )
        .route("/admin/deleted/{id}/restore", post(deleted::restore))
        .route("/admin/tokens", post(connection::issue_token))
        .route("/admin/tokens/{id}/revoke", post(connection::revoke_token))
        .route("/admin/clients", post(connection::add_client))
        .route(
            "/admin/clients/{client_id}/rotate",
            post(connection::rotate_client),
        )
        .route(
            "/admin/clients/{client_id}/remove",
            post(connection::remove_client),
        )
        .route("/admin/setup-links", post(connection::create_setup_link))
        .route(
            "/admin/setup-links/{id}/revoke",
            post(connection::revoke_setup_link),
        )
        .route(
            "/admin/webhooks/{id}/pause",
            post(connection::pause_webhook),
        )
        .route(
            "/admin/webhooks/{id}/resume",
            post(connection::resume_webhook),
        )
        .route("/admin/webhooks/{id}/test", post(connection::test_webhook))
        .route(
            "/admin/webhooks/{id}/retry",
            post(connection::retry_webhook),
        )
}

/// A request of a signed-in team admin, with the directory acting for them (the audit trail
/// names them as `console` `<tenant>/<username>`, with the client's address); without a
/// session, the sign-in page.
pub struct Signed(pub Session, Directory);

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Response> {
        let Ok(cookies) = Cookies::from_request_parts(parts, app).await;
        let token = cookies
            .get(&parts.headers, SESSION_COOKIE)
            .unwrap_or_default();
        if token.is_empty() {
            return Err(sign_in_page(cookies, None, "", "", StatusCode::OK));
        }
        match app.directory.console_session(&token).await {
            Ok(Some(session)) => {
                let address = parts
                    .extensions
                    .get::<crate::http::client::Client>()
                    .and_then(|c| c.address)
                    .map(|a| a.to_string());
                let actor = Actor {
                    kind: ActorKind::Console,
                    name: format!("{}/{}", session.tenant.name, session.admin.username),
                    address,
                };
                let directory = app.directory.acting(actor);
                Ok(Signed(session, directory))
            }
            Ok(None) => Err(sign_in_page(
                cookies,
                Some("your session has ended; sign in again"),
                "",
                "",
                StatusCode::OK,
            )),
            Err(e) => Err(failure(e)),
        }
    }
}

impl Signed {
    /// The directory, its changes recorded as this admin's.
    pub fn directory(&self) -> &Directory {
        &self.1
    }

    /// The header of a console page, `here` marking the current section.
    pub fn nav(&self, here: &'static str) -> views::Nav {
        views::Nav {
            tenant: self.0.tenant.name.clone(),
            admin: self.0.admin.username.clone(),
            csrf: self.0.csrf.clone(),
            here,
        }
    }

    /// The refusal of a form whose CSRF token is not the session's.
    fn refusal(&self, csrf: &str) -> Option<Response> {
        if same_token(csrf, &self.0.csrf) {
            return None;
        }
        Some(html(
            StatusCode::FORBIDDEN,
            views::Message {
                title: "Form refused",
                message: "the form came from another page or an old session; go back, reload and try again",
            }
            .render(),
            "",
        ))
    }
}

#[derive(Template)]
#[template(path = "console/signin.html")]
struct SignInPage<'a> {
    csrf: &'a str,
    tenant: &'a str,
    username: &'a str,
    message: Option<&'a str>,
}

/// The sign-in page with a fresh login CSRF cookie.
pub fn sign_in_page(
    cookies: Cookies,
    message: Option<&str>,
    tenant: &str,
    username: &str,
    status: StatusCode,
) -> Response {
    let csrf = match crate::service::oauth::csrf_token() {
        Ok(t) => t,
        Err(e) => return failure(e),
    };
    let page = SignInPage {
        csrf: &csrf,
        tenant,
        username,
        message,
    };
    let mut response = html(status, page.render(), "");
    set_cookie(cookies, &mut response, LOGIN_COOKIE, &csrf, "Strict");
    response
}

/// Whether the sign-in form's CSRF field matches its cookie.
pub fn login_csrf_ok(cookies: Cookies, headers: &HeaderMap, field: &str) -> bool {
    same_token(
        field,
        &cookies.get(headers, LOGIN_COOKIE).unwrap_or_default(),
    )
}

/// Sets a console cookie (`Path=/admin` over plain HTTP; see [`Cookies::set`]).
pub fn set_cookie(
    cookies: Cookies,
    response: &mut Response,
    name: &str,
    value: &str,
    same_site: &str,
) {
    cookies.set(response, (name, value), "/admin", same_site);
}

/// A POSTed console form of a signed-in team admin, its CSRF token checked: the session and
/// the form's other fields. The only way a console handler reads a form, so none can forget
/// the check. Without a session, the sign-in page; with another token, 403 and nothing done.
pub struct CsrfForm<T>(pub Signed, pub T);

/// A form's fields with its CSRF token (`csrf`).
#[derive(serde::Deserialize)]
struct WithCsrf<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: T,
}

impl<T: serde::de::DeserializeOwned + Send> axum::extract::FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, app: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let signed = Signed::from_request_parts(&mut parts, app).await?;
        let req = axum::extract::Request::from_parts(parts, body);
        let extract::Form(form) = extract::Form::<WithCsrf<T>>::from_request(req, app)
            .await
            .map_err(IntoResponse::into_response)?;
        if let Some(refused) = signed.refusal(&form.csrf) {
            return Err(refused);
        }
        Ok(CsrfForm(signed, form.fields))
    }
}

/// A console form without fields besides its CSRF token.
#[derive(serde::Deserialize)]
pub struct NoFields {}

/// A use case's failure, answered as a console page ([`failure`]).
pub struct ConsoleError(pub Error);

impl From<Error> for ConsoleError {
    fn from(e: Error) -> Self {
        ConsoleError(e)
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        failure(self.0)
    }
}

/// What a console handler answers: a page, or a failure as a page.
pub type Page = Result<Response, ConsoleError>;

/// A use case's failure as a console page ([`failure_page`]).
pub fn failure(e: Error) -> Response {
    failure_page(e, "console", |message| {
        views::Message {
            title: "Cannot show this",
            message,
        }
        .render()
    })
}

/// A rendered console page, 200.
pub fn page(t: impl Template) -> Response {
    html(StatusCode::OK, t.render(), "")
}

/// 303 to `to`.
pub fn see_other(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    crate::http::page::no_store(response)
}
