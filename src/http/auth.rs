//! Bearer authentication (RFC 6750): every `/scim/v2` request carries a token of one tenant;
//! the tenant rides on the request as an extension and into the request span.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use crate::http::AppState;
use crate::scim;
use crate::service::{Error, TokenCheck};

/// Resolves the bearer token to its tenant, or answers 401.
pub async fn require_tenant(
    State(app): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, Error> {
    let token = bearer(req.headers()).ok_or_else(|| {
        scim::Error::unauthorized("authentication required: send Authorization: Bearer <token>")
    })?;
    let tenant = match app.directory.authenticate(token).await? {
        TokenCheck::Valid(tenant) => tenant,
        TokenCheck::Unknown => {
            return Err(scim::Error::unauthorized(
                "the bearer token is unknown: check the Secret Token, or authorize again",
            )
            .into());
        }
        TokenCheck::Revoked { tenant, client } => {
            tracing::warn!(%tenant, client = client.as_deref().unwrap_or("-"), "revoked token refused");
            return Err(scim::Error::unauthorized(
                "the bearer token was revoked: issue a new token, or authorize again",
            )
            .into());
        }
        TokenCheck::EntraRefused { reason } => {
            return Err(scim::Error::unauthorized(format!(
                "the Entra-signed token is refused: {reason}"
            ))
            .into());
        }
        TokenCheck::Expired { tenant, client } => {
            tracing::info!(%tenant, client = client.as_deref().unwrap_or("-"), "expired access token refused");
            return Err(scim::Error::unauthorized(
                "the access token has expired: get a new one from the token endpoint (refresh_token or client_credentials)",
            )
            .into());
        }
    };
    tracing::Span::current().record("tenant", tenant.name.as_str());
    req.extensions_mut().insert(tenant);
    Ok(next.run(req).await)
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
