//! The setup page's forms: a Secret Token, the tenant's first team admin, the schema of
//! attributes the first cycle sent under a URN no schema defines. Each is posted with the page's
//! CSRF token ([`super::Visit::posted`]); a use case's refusal is said on the page.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::TimeDelta;

use super::providers::Provider;
use super::{Opened, Visit};
use crate::http::AppState;
use crate::http::console::extract::Form;
use crate::http::console::failure;
use crate::service::Error;
use crate::service::setup::ignored_by_urn;

#[derive(serde::Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idp: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct AdminForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idp: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

#[derive(serde::Deserialize)]
pub struct SchemaForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idp: Option<String>,
    #[serde(default)]
    urn: String,
}

/// The refusal of a form whose CSRF token is not the cookie's: 403, nothing done.
pub(super) async fn refused(o: &Opened, app: &AppState, provider: Provider) -> Response {
    let mut r = o
        .page(
            app,
            provider,
            None,
            Some(
                "The form expired or came from another page: reload this page and try again."
                    .to_owned(),
            ),
            None,
            String::new(),
        )
        .await;
    *r.status_mut() = StatusCode::FORBIDDEN;
    r
}

/// `POST /setup/{token}/token`: a new Secret Token, shown once; the previous one the page
/// issued stops working.
pub(super) async fn token(
    State(app): State<AppState>,
    visit: Visit,
    Form(form): Form<TokenForm>,
) -> Response {
    let (o, provider) = match visit.posted(&app, &form.csrf, form.idp.as_deref()).await {
        Ok(opened) => opened,
        Err(r) => return r,
    };
    match o.directory.setup_token(&o.link).await {
        Ok(issued) => {
            o.page(
                &app,
                provider,
                Some(issued.token),
                None,
                None,
                String::new(),
            )
            .await
        }
        Err(e) => failure(e),
    }
}

/// `POST /setup/{token}/admin`: the tenant's first team admin, for Authorize.
pub(super) async fn admin(
    State(app): State<AppState>,
    visit: Visit,
    Form(form): Form<AdminForm>,
) -> Response {
    let (o, provider) = match visit.posted(&app, &form.csrf, form.idp.as_deref()).await {
        Ok(opened) => opened,
        Err(r) => return r,
    };
    let username = form.username.trim().to_owned();
    if form.password != form.confirm {
        let message = "The two passwords are not the same.".to_owned();
        return o
            .page(&app, provider, None, Some(message), None, username)
            .await;
    }
    match o
        .directory
        .setup_team_admin(&o.link, &username, &form.password)
        .await
    {
        Ok(admin) => {
            let notice = format!(
                "Team admin {} is created: sign in with it when your identity provider's \
                 Authorize asks.",
                admin.username
            );
            o.page(&app, provider, None, None, Some(notice), String::new())
                .await
        }
        Err(Error::Scim(e)) if e.status < 500 => {
            o.page(&app, provider, None, Some(e.detail), None, username)
                .await
        }
        Err(e) => failure(e),
    }
}

/// `POST /setup/{token}/schema`: registers the schema of attributes the first cycle sent
/// under an extension URN that no schema defines.
pub(super) async fn schema(
    State(app): State<AppState>,
    visit: Visit,
    Form(form): Form<SchemaForm>,
) -> Response {
    let (o, provider) = match visit.posted(&app, &form.csrf, form.idp.as_deref()).await {
        Ok(opened) => opened,
        Err(r) => return r,
    };
    let gap = TimeDelta::from_std(app.cycle_gap).unwrap_or(TimeDelta::minutes(10));
    let progress = match o.directory.setup_progress(&o.tenant, gap).await {
        Ok(p) => p,
        Err(e) => return failure(e),
    };
    let found = ignored_by_urn(&progress.ignored)
        .into_iter()
        .find(|(urn, _)| *urn == form.urn);
    let Some((urn, names)) = found else {
        let message =
            "Nothing was sent under that schema in the first cycle: reload the page.".to_owned();
        return o
            .page(&app, provider, None, Some(message), None, String::new())
            .await;
    };
    match o.directory.register_ignored(&o.tenant, &urn, &names).await {
        Ok(registered) => {
            let notice = format!(
                "{} is registered with {}: the application keeps these attributes from the \
                 next request on. Users already provisioned get them at their next update.",
                registered.schema.id,
                names.join(", ")
            );
            o.page(&app, provider, None, None, Some(notice), String::new())
                .await
        }
        Err(Error::Scim(e)) if e.status < 500 => {
            o.page(&app, provider, None, Some(e.detail), None, String::new())
                .await
        }
        Err(e) => failure(e),
    }
}
