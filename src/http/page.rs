//! What every server-rendered page of scimd shares: the security headers of an HTML answer,
//! `no-store`, its cookies, and the constant-time check of a form's CSRF token.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::http::AppState;
use crate::http::client::Client;
use crate::service::throttle::Held;

/// An HTML page with the headers every scimd page carries: never cached, never framed (the
/// Authorize pop-up is a window of its own, not a frame), no scripts, forms posted only to
/// scimd and, after sign-in, to the redirect URI's origin.
pub fn html(
    status: StatusCode,
    body: Result<String, askama::Error>,
    form_target: &str,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "a page template failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' {form_target}; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(csp.trim()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    no_store(response)
}

/// `Cache-Control: no-store` (and `Pragma: no-cache` for old caches).
pub fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// How the cookies of one request's pages are named and flagged. When the request came over
/// TLS (to scimd, or to a trusted proxy that says so) or scimd's public URL is https, a cookie
/// is `Secure` and named `__Host-<name>` with `Path=/` (RFC 6265bis §4.1.3.2: such a cookie
/// can be set only by this host over TLS, never by a sibling domain or plain HTTP, so a
/// session or CSRF cookie cannot be planted); otherwise (plain HTTP, development) it is
/// `<name>` under the pages' own path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cookies {
    pub secure: bool,
}

impl FromRequestParts<AppState> for Cookies {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let client = parts
            .extensions
            .get::<Client>()
            .cloned()
            .unwrap_or_default();
        Ok(Cookies::of(&client, app.public_url.as_deref()))
    }
}

impl Cookies {
    pub fn of(client: &Client, public_url: Option<&str>) -> Self {
        Cookies {
            secure: client.tls || public_url.is_some_and(|u| u.starts_with("https://")),
        }
    }

    fn name(self, name: &str) -> String {
        if self.secure {
            format!("__Host-{name}")
        } else {
            name.to_owned()
        }
    }

    /// The value of cookie `name` as this request names it.
    pub fn get(self, headers: &HeaderMap, name: &str) -> Option<String> {
        let name = self.name(name);
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }

    /// Sets cookie `name` for the pages under `path` (`/` when secure): `HttpOnly`,
    /// `SameSite=same_site`; an empty value expires it.
    pub fn set(
        self,
        response: &mut Response,
        (name, value): (&str, &str),
        path: &str,
        same_site: &str,
    ) {
        let (path, secure) = if self.secure {
            ("/", "; Secure")
        } else {
            (path, "")
        };
        let max_age = if value.is_empty() { "; Max-Age=0" } else { "" };
        let cookie = format!(
            "{}={value}; Path={path}; HttpOnly; SameSite={same_site}{secure}{max_age}",
            self.name(name)
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// A use case's failure as a page (`page` renders its message, `pages` names the pages in the
/// log): 4xx with the failure's detail, 503 with `Retry-After` when the database or a budget is
/// busy, 500 (logged) for what should not happen.
pub fn failure_page(
    e: crate::service::Error,
    pages: &'static str,
    page: impl FnOnce(&str) -> Result<String, askama::Error>,
) -> Response {
    use crate::service::Error;
    let (status, message) = match &e {
        Error::Scim(s) => (
            StatusCode::from_u16(s.status).unwrap_or(StatusCode::BAD_REQUEST),
            s.detail.clone(),
        ),
        Error::Unavailable(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{why}; try again in a moment"),
        ),
        Error::Internal(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "an internal error; see scimd's log".into(),
        ),
    };
    if status.is_server_error() {
        tracing::error!(error = %crate::telemetry::chain(&e), pages, "a page failed");
    }
    let mut response = html(status, page(&message), "");
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

/// Whether a form's CSRF field is `expected`, compared in constant time; an empty field never is.
pub fn same_token(field: &str, expected: &str) -> bool {
    !field.is_empty()
        && bool::from(subtle::ConstantTimeEq::ct_eq(
            field.as_bytes(),
            expected.as_bytes(),
        ))
}

/// The status, message and wait of a sign-in the throttle held (both sign-in pages show it).
pub fn held_page(held: &Held) -> (StatusCode, String, Duration) {
    match held {
        Held::TooMany(wait) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many sign-in attempts from your address; try again in {} minutes",
                wait.as_secs().div_ceil(60).max(1)
            ),
            *wait,
        ),
        Held::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            "scimd is checking too many passwords at once; try again in a moment".to_owned(),
            Duration::from_secs(5),
        ),
    }
}

/// `response` with `Retry-After` in whole seconds (at least 1).
pub fn retry_after(mut response: Response, wait: Duration) -> Response {
    let seconds = wait.as_secs().max(1);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}
