//! The plain listener of `SCIMD_HTTP_REDIRECT_LISTEN`: every request is answered 308 to the
//! same path and query over HTTPS — at `SCIMD_PUBLIC_URL` when set, else at the host the
//! client asked for and the HTTPS listener's port. Nothing else is served on it.

use axum::http::{HeaderMap, StatusCode, Uri, header, uri::Authority};
use axum::response::{IntoResponse, Response};

/// The redirecting application: `public_url` (without a trailing slash) or the request's host
/// with `https_port`.
pub fn app(https_port: u16, public_url: Option<String>) -> axum::Router {
    axum::Router::new().fallback(move |headers: HeaderMap, uri: Uri| {
        let public_url = public_url.clone();
        async move { redirect(https_port, public_url.as_deref(), &headers, &uri) }
    })
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
