//! The plain listener of `SCIMD_HTTP_REDIRECT_LISTEN`: every request is answered 308 to the
//! same path and query over HTTPS — at `SCIMD_PUBLIC_URL` when set, else at the host the
//! client asked for and the HTTPS listener's port — except, when ACME answers HTTP-01 here, a
//! `GET /.well-known/acme-challenge/{token}` of a challenge pending, answered with its key
//! authorization (RFC 8555 §8.3). Nothing else is served on it.

use std::sync::Arc;

use axum::http::{HeaderMap, Method, StatusCode, Uri, header, uri::Authority};
use axum::response::{IntoResponse, Response};

use super::acme::AcmeCert;

/// Where the CA asks for an HTTP-01 challenge's key authorization (RFC 8555 §8.3).
const CHALLENGE_PATH: &str = "/.well-known/acme-challenge/";

/// The redirecting application: `public_url` (without a trailing slash) or the request's host
/// with `https_port`; `acme`'s pending HTTP-01 challenges answered.
pub fn app(
    https_port: u16,
    public_url: Option<String>,
    acme: Option<Arc<AcmeCert>>,
) -> axum::Router {
    axum::Router::new().fallback(move |method: Method, headers: HeaderMap, uri: Uri| {
        let public_url = public_url.clone();
        let answer = acme
            .as_ref()
            .and_then(|acme| challenge(acme, &method, &uri));
        async move {
            match answer {
                Some(key_authorization) => (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/octet-stream")],
                    key_authorization,
                )
                    .into_response(),
                None => redirect(https_port, public_url.as_deref(), &headers, &uri),
            }
        }
    })
}

/// The key authorization a request for a pending HTTP-01 challenge is answered with.
fn challenge(acme: &AcmeCert, method: &Method, uri: &Uri) -> Option<String> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let token = uri.path().strip_prefix(CHALLENGE_PATH)?;
    acme.http01(token)
}

fn redirect(https_port: u16, public_url: Option<&str>, headers: &HeaderMap, uri: &Uri) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let root = match public_url {
        Some(root) => root.trim_end_matches('/').to_owned(),
        None => {
            let Some(host) = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .and_then(|h| h.parse::<Authority>().ok())
            else {
                return (
                    StatusCode::BAD_REQUEST,
                    "This address only redirects to HTTPS, which needs the request's Host header.\n",
                )
                    .into_response();
            };
            match https_port {
                443 => format!("https://{}", host.host()),
                // an IPv6 host keeps its brackets (`[::1]`)
                port => format!("https://{}:{port}", host.host()),
            }
        }
    };
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, format!("{root}{path}"))],
    )
        .into_response()
}
