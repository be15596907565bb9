//! OAuth 2.0 over HTTP: the authorization endpoint's sign-in page (server-rendered, no
//! JavaScript, CSRF-protected by a double-submit cookie, never cached, never framed), the token
//! endpoint (RFC 6749 §3.2, errors as §5.2 JSON) and the server metadata (RFC 8414).

use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::http::AppState;
use crate::http::client::Client;
use crate::http::page::{Cookies, held_page, html, no_store, retry_after, same_token};
use crate::service::Error;
use crate::service::oauth::{
    Authorization, AuthorizeError, AuthorizeRequest, SignInError, TokenError, TokenRequest,
};

const CSRF_COOKIE: &str = "scimd_csrf";
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
pub const TOKEN_PATH: &str = "/oauth/token";
pub const METADATA_PATH: &str = "/.well-known/oauth-authorization-server";

#[derive(Template)]
#[template(path = "oauth/signin.html")]
struct SignInPage<'a> {
    tenant: &'a str,
    request: &'a AuthorizeRequest,
    csrf: &'a str,
    username: &'a str,
    message: Option<&'a str>,
    redirect_host: &'a str,
}

#[derive(Template)]
#[template(path = "oauth/error.html")]
struct ErrorPage<'a> {
    message: &'a str,
}

/// The sign-in form as posted: the authorization request's fields, the credentials, the CSRF
/// token.
#[derive(Debug, serde::Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    client_id: String,
    redirect_uri: Option<String>,
    state: Option<String>,
    scope: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

impl SignInForm {
    fn request(&self) -> AuthorizeRequest {
        AuthorizeRequest {
            response_type: self.response_type.clone(),
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
            scope: self.scope.clone(),
            code_challenge: self.code_challenge.clone(),
            code_challenge_method: self.code_challenge_method.clone(),
        }
    }
}

/// `GET /oauth/authorize`: the sign-in page, or an error page, or the error sent back.
pub async fn authorize(
    State(app): State<AppState>,
    cookies: Cookies,
    query: Result<Query<AuthorizeRequest>, QueryRejection>,
) -> Response {
    // a parameter sent twice (RFC 6749 §3.1 allows each once) is refused on a page, as the
    // request's other faults are
    let req = match query {
        Ok(Query(req)) => req,
        Err(e) => {
            let message = format!(
                "the authorization request could not be read: {}",
                e.body_text()
            );
            return error_page(StatusCode::BAD_REQUEST, &message);
        }
    };
    match app.directory.check_authorize(&req).await {
        Ok(auth) => sign_in_page(cookies, &req, &auth, "", None, StatusCode::OK),
        Err(e) => authorize_error(e),
    }
}

/// `POST /oauth/authorize`: signs in; a team admin is sent back with a code.
pub async fn sign_in(
    State(app): State<AppState>,
    cookies: Cookies,
    client: Client,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let form: Result<Form<SignInForm>, FormRejection> =
        <Form<SignInForm> as axum::extract::FromRequest<AppState>>::from_request(request, &app)
            .await;
    let Ok(Form(form)) = form else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "the sign-in form was not sent as a form",
        );
    };
    let req = form.request();
    let auth = match app.directory.check_authorize(&req).await {
        Ok(auth) => auth,
        Err(e) => return authorize_error(e),
    };
    let cookie = cookies.get(&headers, CSRF_COOKIE).unwrap_or_default();
    if !same_token(&form.csrf, &cookie) {
        let message = "the sign-in form expired or came from another page; sign in again";
        return sign_in_page(
            cookies,
            &req,
            &auth,
            &form.username,
            Some(message),
            StatusCode::FORBIDDEN,
        );
    }
    let signed_in = app
        .directory
        .sign_in(&req, &auth, &form.username, &form.password, client.address)
        .await;
    match signed_in {
        Ok(code) => {
            let mut answer = vec![("code", code.as_str())];
            if let Some(state) = &req.state {
                answer.push(("state", state));
            }
            redirect(&auth.redirect_uri, &answer)
        }
        Err(SignInError::Refused(message)) => sign_in_page(
            cookies,
            &req,
            &auth,
            &form.username,
            Some(&message),
            StatusCode::UNAUTHORIZED,
        ),
        Err(SignInError::Held(held)) => {
            let (status, message, wait) = held_page(&held);
            let page = sign_in_page(cookies, &req, &auth, &form.username, Some(&message), status);
            retry_after(page, wait)
        }
        Err(SignInError::Service(e)) => service_error_page(e),
    }
}

/// `POST /oauth/token`.
pub async fn token(
    State(app): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Response {
    let Ok(Form(req)) = form else {
        return token_error(TokenError::Refused {
            error: "invalid_request",
            description: "send the request as application/x-www-form-urlencoded (RFC 6749 §3.2)"
                .into(),
        });
    };
    let basic = match basic_credentials(&headers) {
        Ok(basic) => basic,
        Err(e) => return token_error(e),
    };
    match app.directory.token(&req, basic).await {
        Ok(tokens) => no_store((StatusCode::OK, axum::Json(tokens)).into_response()),
        Err(e) => token_error(e),
    }
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414 §3). The issuer is fixed by the
/// configuration (RFC 8414 §2, RFC 9207): `SCIMD_PUBLIC_URL`, else the listening address —
/// never a request's `Host` or forwarding headers, which a client could choose.
pub async fn metadata(State(app): State<AppState>) -> Response {
    let root = app.issuer.as_str();
    axum::Json(json!({
        "issuer": root,
        "authorization_endpoint": format!("{root}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{root}{TOKEN_PATH}"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}

/// `GET /static/scimd.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/scimd.css"),
    )
        .into_response()
}

/// `Authorization: Basic` client credentials (RFC 6749 §2.3.1), if sent.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, TokenError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || TokenError::Refused {
        error: "invalid_client",
        description: "the Authorization header is not valid Basic client credentials".into(),
    };
    let value = value.to_str().map_err(|_| bad())?.trim();
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(bad());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| -> Result<String, TokenError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&format!("v={s}")).map_err(|_| bad())?;
        Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
    };
    Ok(Some((unescape(id)?, unescape(secret)?)))
}

fn token_error(e: TokenError) -> Response {
    // a request the service refused as such (a value it cannot store) is an invalid request
    // in the token endpoint's own terms (RFC 6749 §5.2)
    let e = match e {
        TokenError::Service(Error::Scim(refused)) => TokenError::Refused {
            error: "invalid_request",
            description: refused.detail,
        },
        other => other,
    };
    match e {
        TokenError::Refused { error, description } => {
            let status = if error == "invalid_client" {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::BAD_REQUEST
            };
            let mut response = (
                status,
                axum::Json(json!({"error": error, "error_description": description})),
            )
                .into_response();
            if status == StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"scimd\""),
                );
            }
            no_store(response)
        }
        TokenError::Service(e) => e.into_response(),
    }
}

fn authorize_error(e: AuthorizeError) -> Response {
    match e {
        AuthorizeError::Page(message) => error_page(StatusCode::BAD_REQUEST, &message),
        AuthorizeError::Redirect {
            redirect_uri,
            error,
            description,
        } => redirect(
            &redirect_uri,
            &[("error", error), ("error_description", &description)],
        ),
        AuthorizeError::Service(e) => service_error_page(e),
    }
}

fn service_error_page(e: Error) -> Response {
    let status = match &e {
        Error::Scim(refused) => {
            let status = StatusCode::from_u16(refused.status).unwrap_or(StatusCode::BAD_REQUEST);
            return error_page(status, &refused.detail);
        }
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut response = error_page(
        status,
        "scimd cannot serve this sign-in now; try again in a minute",
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    tracing::error!(error = %crate::telemetry::chain(&e), "sign-in failed");
    response
}

fn sign_in_page(
    cookies: Cookies,
    req: &AuthorizeRequest,
    auth: &Authorization,
    username: &str,
    message: Option<&str>,
    status: StatusCode,
) -> Response {
    let csrf = match crate::service::oauth::csrf_token() {
        Ok(token) => token,
        Err(e) => return service_error_page(e),
    };
    let redirect_host = origin(&auth.redirect_uri);
    let page = SignInPage {
        tenant: &auth.client.tenant_name,
        request: req,
        csrf: &csrf,
        username,
        message,
        redirect_host: &redirect_host,
    };
    let mut response = html(status, page.render(), &redirect_host);
    cookies.set(&mut response, (CSRF_COOKIE, &csrf), "/oauth", "Strict");
    response
}

fn error_page(status: StatusCode, message: &str) -> Response {
    html(status, ErrorPage { message }.render(), "")
}

/// 303 to `uri` with `params` added to its query.
fn redirect(uri: &str, params: &[(&str, &str)]) -> Response {
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    let separator = if uri.contains('?') { '&' } else { '?' };
    let location = format!("{uri}{separator}{query}");
    match HeaderValue::from_str(&location) {
        Ok(value) => no_store((StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response()),
        Err(_) => error_page(
            StatusCode::BAD_REQUEST,
            "the redirect URI is not a valid URI",
        ),
    }
}

/// `scheme://host[:port]` of a URI, as browsers parse it (the WHATWG URL Standard): the host
/// the code goes to, which user-info before an `@` does not change; empty for what is not a
/// URL with a host.
fn origin(uri: &str) -> String {
    match url::Url::parse(uri).map(|url| url.origin()) {
        Ok(origin) if origin.is_tuple() => origin.ascii_serialization(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::origin;

    #[test]
    fn the_origin_shown_and_allowed_as_form_action_is_the_host_a_browser_goes_to() {
        assert_eq!(
            origin("https://portal.azure.com/TokenAuthorize"),
            "https://portal.azure.com"
        );
        assert_eq!(origin("http://[::1]:8080/cb?x=1"), "http://[::1]:8080");
        assert_eq!(origin("https://App.Example:443/cb"), "https://app.example");
        assert_eq!(
            origin("http://localhost:1@evil.example/x"),
            "http://evil.example"
        );
        assert_eq!(origin("not a URL"), "");
    }
}
