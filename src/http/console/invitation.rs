//! The invitation page at `/admin/invitation/{token}`: the person an admin invitation was
//! issued to opens the link, chooses a password (a form with a CSRF token, no JavaScript) and
//! is told where to sign in. A link that is unknown, used or expired answers a page that says
//! to ask the application's team for a new one, and names no tenant.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::extract::{Form, Path};
use super::{LOGIN_COOKIE, failure, login_csrf_ok, set_cookie};
use crate::domain::audit::{Actor, ActorKind};
use crate::http::AppState;
use crate::http::client::Client;
use crate::http::page::{Cookies, html};
use crate::service::MIN_PASSWORD_CHARS;
use crate::service::invitations::{INVITATION_PATH, InvitationState};

/// The password form of a valid invitation.
struct SetPassword {
    action: String,
    csrf: String,
    tenant: String,
    username: String,
    min_chars: usize,
}

/// The password was set: where to sign in.
struct Done {
    tenant: String,
    username: String,
}

#[derive(Template)]
#[template(path = "console/invitation.html")]
struct InvitationPage {
    title: &'static str,
    message: Option<String>,
    form: Option<SetPassword>,
    done: Option<Done>,
}

/// The fields of the password form.
#[derive(serde::Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

fn render(status: StatusCode, page: InvitationPage) -> Response {
    html(status, page.render(), "")
}

/// The page of a link that cannot be used: 404 unknown, 410 used or expired.
fn unusable(state: &InvitationState) -> Response {
    let (status, title) = match state {
        InvitationState::Gone => (StatusCode::GONE, "This invitation was used or has expired"),
        _ => (StatusCode::NOT_FOUND, "This invitation link is not valid"),
    };
    render(
        status,
        InvitationPage {
            title,
            message: Some(
                "An invitation link works once and for a limited time. Ask the application's \
                 team for a new invitation."
                    .to_owned(),
            ),
            form: None,
            done: None,
        },
    )
}

/// The password form, with a fresh CSRF token in its field and cookie.
fn form(
    cookies: Cookies,
    token: &str,
    tenant: String,
    username: String,
    message: Option<String>,
    status: StatusCode,
) -> Response {
    let csrf = match crate::service::oauth::csrf_token() {
        Ok(t) => t,
        Err(e) => return failure(e),
    };
    let page = InvitationPage {
        title: "Set your password",
        message,
        form: Some(SetPassword {
            action: format!("{INVITATION_PATH}/{token}"),
            csrf: csrf.clone(),
            tenant,
            username,
            min_chars: MIN_PASSWORD_CHARS,
        }),
        done: None,
    };
    let mut response = render(status, page);
    set_cookie(cookies, &mut response, LOGIN_COOKIE, &csrf, "Strict");
    response
}

/// `GET /admin/invitation/{token}`.
pub async fn open(
    State(app): State<AppState>,
    cookies: Cookies,
    Path(token): Path<String>,
) -> Response {
    match app.directory.invitation(&token).await {
        Ok(InvitationState::Open { tenant, username }) => {
            form(cookies, &token, tenant, username, None, StatusCode::OK)
        }
        Ok(other) => unusable(&other),
        Err(e) => failure(e),
    }
}

/// `POST /admin/invitation/{token}`: sets the password and uses the invitation up.
pub async fn accept(
    State(app): State<AppState>,
    client: Client,
    cookies: Cookies,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(fields): Form<PasswordForm>,
) -> Response {
    let (tenant, username) = match app.directory.invitation(&token).await {
        Ok(InvitationState::Open { tenant, username }) => (tenant, username),
        Ok(other) => return unusable(&other),
        Err(e) => return failure(e),
    };
    let again = |message: &str, status| {
        form(
            cookies,
            &token,
            tenant.clone(),
            username.clone(),
            Some(message.to_owned()),
            status,
        )
    };
    if !login_csrf_ok(cookies, &headers, &fields.csrf) {
        return again(
            "the form expired or came from another page; choose your password again",
            StatusCode::FORBIDDEN,
        );
    }
    if fields.password != fields.confirm {
        return again(
            "the two passwords are not the same",
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    // the person the invitation is for sets their password: the audit trail names them
    let actor = Actor {
        kind: ActorKind::Console,
        name: format!("{tenant}/{username}"),
        address: client.address.map(|a| a.to_string()),
    };
    let directory = app.directory.acting(actor);
    match directory.accept_invitation(&token, &fields.password).await {
        Ok(Ok((admin, tenant))) => render(
            StatusCode::OK,
            InvitationPage {
                title: "Your password is set",
                message: None,
                form: None,
                done: Some(Done {
                    tenant,
                    username: admin.username,
                }),
            },
        ),
        Ok(Err(state)) => unusable(&state),
        Err(crate::service::Error::Scim(e)) if e.status < 500 => {
            again(&e.detail, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => failure(e),
    }
}
