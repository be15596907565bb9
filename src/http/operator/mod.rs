//! The operator page at `/operator`, for the application's team (support engineers) signed in
//! with an operator account: every tenant's health on one page. Its sign-in and session follow
//! the console's rules — the same throttle and password checks, a session cookie (`HttpOnly`,
//! `SameSite=Lax`, `Secure` and `__Host-` behind TLS) that ends when idle, at its lifetime, or at
//! once when the account's password changes or the account is removed, a CSRF token on every
//! form, the pages' security headers — under cookie names of its own: a team admin's console
//! session or an operator key never opens it, and its session opens nothing else.

mod certificate;
mod chart;
mod page;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::http::AppState;
use crate::http::client::Client;
use crate::http::page::{
    Cookies, failure_page, held_page, html, no_store, retry_after, same_token,
};
use crate::service::Error;
use crate::service::oauth::SignInError;
use crate::service::operator_accounts::OperatorSession;

const SESSION_COOKIE: &str = "scimd_operator";
const LOGIN_COOKIE: &str = "scimd_operator_login";
const PATH: &str = "/operator";

/// The operator page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PATH, get(page::page))
        .route("/operator/sign-in", get(sign_in_form).post(sign_in))
        .route("/operator/sign-out", axum::routing::post(sign_out))
}

#[derive(Template)]
#[template(path = "operator/signin.html")]
struct SignInPage<'a> {
    csrf: &'a str,
    username: &'a str,
    message: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "operator/message.html")]
struct Message<'a> {
    title: &'a str,
    message: &'a str,
}

/// A page saying why a request was refused, with its status.
fn message(status: StatusCode, title: &str, message: &str) -> Response {
    html(status, Message { title, message }.render(), "")
}

/// The sign-in page with a fresh login CSRF cookie.
fn sign_in_page(
    cookies: Cookies,
    message: Option<&str>,
    username: &str,
    status: StatusCode,
) -> Response {
    let csrf = match crate::service::oauth::csrf_token() {
        Ok(t) => t,
        Err(e) => return failure(e),
    };
    let page = SignInPage {
        csrf: &csrf,
        username,
        message,
    };
    let mut response = html(status, page.render(), "");
    cookies.set(&mut response, (LOGIN_COOKIE, &csrf), PATH, "Strict");
    response
}

/// A use case's failure as a page ([`failure_page`]).
fn failure(e: Error) -> Response {
    failure_page(e, "operator", |detail| {
        Message {
            title: "Cannot show this",
            message: detail,
        }
        .render()
    })
}

/// 303 to `to`.
fn see_other(to: &'static str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(to));
    no_store(response)
}

/// A request of a signed-in operator account; without a session, the sign-in page.
pub struct Signed(pub OperatorSession);

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Response> {
        let Ok(cookies) = Cookies::from_request_parts(parts, app).await;
        let token = cookies
            .get(&parts.headers, SESSION_COOKIE)
            .unwrap_or_default();
        if token.is_empty() {
            return Err(sign_in_page(cookies, None, "", StatusCode::OK));
        }
        match app.directory.operator_session(&token).await {
            Ok(Some(session)) => Ok(Signed(session)),
            Ok(None) => Err(sign_in_page(
                cookies,
                Some("your session has ended; sign in again"),
                "",
                StatusCode::OK,
            )),
            Err(e) => Err(failure(e)),
        }
    }
}

/// A form's fields, read as a form (`application/x-www-form-urlencoded`); what cannot be read
/// is a page with the status axum gives it.
struct Form<T>(T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(form)) => Ok(Form(form)),
            Err(e) => Err(message(
                e.status(),
                "Cannot read this request",
                &e.body_text(),
            )),
        }
    }
}

#[derive(serde::Deserialize)]
struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn sign_in_form(cookies: Cookies) -> Response {
    sign_in_page(cookies, None, "", StatusCode::OK)
}

async fn sign_in(
    State(app): State<AppState>,
    cookies: Cookies,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    // what was typed is shown again, up to a name's length, without what cannot be shown
    let typed: String = form
        .username
        .chars()
        .filter(|c| !c.is_control())
        .take(crate::scim::limits::MAX_NAME_CHARS)
        .collect();
    let again = |message: &str, status| sign_in_page(cookies, Some(message), &typed, status);
    let login = cookies.get(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !same_token(&form.csrf, &login) {
        return again(
            "the sign-in form expired or came from another page; sign in again",
            StatusCode::FORBIDDEN,
        );
    }
    let signed = app
        .directory
        .operator_sign_in(&form.username, &form.password, client.address)
        .await;
    match signed {
        Ok(token) => {
            let mut response = see_other(PATH);
            cookies.set(&mut response, (SESSION_COOKIE, &token), PATH, "Lax");
            response
        }
        Err(SignInError::Refused(why)) => again(&why, StatusCode::UNAUTHORIZED),
        Err(SignInError::Held(held)) => {
            let (status, why, wait) = held_page(&held);
            retry_after(again(&why, status), wait)
        }
        Err(SignInError::Service(e)) => failure(e),
    }
}

#[derive(serde::Deserialize)]
struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

async fn sign_out(
    State(app): State<AppState>,
    cookies: Cookies,
    headers: HeaderMap,
    Signed(session): Signed,
    Form(form): Form<SignOutForm>,
) -> Response {
    if !same_token(&form.csrf, &session.csrf) {
        return message(
            StatusCode::FORBIDDEN,
            "Form refused",
            "the form came from another page or an old session; go back, reload and try again",
        );
    }
    let token = cookies.get(&headers, SESSION_COOKIE).unwrap_or_default();
    if let Err(e) = app.directory.operator_sign_out(&token).await {
        return failure(e);
    }
    let mut response = see_other("/operator/sign-in");
    cookies.set(&mut response, (SESSION_COOKIE, ""), PATH, "Lax");
    response
}
