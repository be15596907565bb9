//! What every server-rendered page of scimd shares: the security headers of an HTML answer,
//! `no-store`, its cookies, and the constant-time check of a form's CSRF token.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

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

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Sets cookie `name` for the pages under `path`: `HttpOnly`, `SameSite=same_site`, `Secure`
/// when scimd's public URL is https; an empty value expires it.
pub fn set_cookie(
    response: &mut Response,
    public_url: Option<&str>,
    (name, value): (&str, &str),
    path: &str,
    same_site: &str,
) {
    let secure = if public_url.is_some_and(|u| u.starts_with("https://")) {
        "; Secure"
    } else {
        ""
    };
    let max_age = if value.is_empty() { "; Max-Age=0" } else { "" };
    let cookie =
        format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}{secure}{max_age}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Whether a form's CSRF field is `expected`, compared in constant time; an empty field never is.
pub fn same_token(field: &str, expected: &str) -> bool {
    !field.is_empty()
        && bool::from(subtle::ConstantTimeEq::ct_eq(
            field.as_bytes(),
            expected.as_bytes(),
        ))
}
