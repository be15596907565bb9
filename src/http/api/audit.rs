//! `/api/v1/audit`: the audit trail of administration, newest first — every change made
//! through the API, the CLI or the console, who made it, from where, never a secret. The same
//! entries `scimd audit --json` prints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{Acting, Params};
use super::paging::{Page, PageParams};
use super::problem::Problem;
use crate::domain::audit::{AuditEntry, AuditFilter};

/// One change of administration.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0b7c1f8e-2c1d-4d0e-8f7a-6b5c4d3e2f1a",
    "at": "2026-12-04T10:00:00Z",
    "actor": {"kind": "operator_key", "name": "backend", "address": "10.0.0.7"},
    "action": "token.issue",
    "tenant": "contoso",
    "target": "7d4f0b5e-8a51-4c1e-9a0e-1d2f3a4b5c6d",
    "detail": "label=entra-prod"
}))]
pub struct AuditView {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: ActorView,
    /// What was done: `tenant.create`, `token.revoke`, `webhook.pause`, …
    pub action: String,
    /// The tenant's name, when the change was of one tenant.
    pub tenant: Option<String>,
    /// What was changed: a token's or webhook's id, an admin's user name, a schema's URN.
    pub target: Option<String>,
    /// More of what was done (never a secret).
    pub detail: Option<String>,
}

/// Who made a change, and from where.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActorView {
    /// `operator_key` (over the API), `cli` (a `scimd` command), `console` (a team admin),
    /// `setup_link` (the customer's identity admin on a setup page), `operator_account` (the
    /// application's team signing in to the operator page).
    pub kind: String,
    /// The operator key's name, the CLI user's login name, the console admin's
    /// `tenant/username`, the operator account's user name.
    pub name: String,
    /// The client's address, when the change came over HTTP.
    pub address: Option<String>,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        AuditView {
            id: e.id,
            at: e.at,
            actor: ActorView {
                kind: e.actor.kind.as_str().to_owned(),
                name: e.actor.name,
                address: e.actor.address,
            },
            action: e.action,
            tenant: e.tenant,
            target: e.target,
            detail: e.detail,
        }
    }
}

/// `?tenant=`: only the changes of one tenant.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only the changes of this tenant (by name; a deleted tenant's too).
    #[param(example = "contoso")]
    pub tenant: Option<String>,
}

/// Read the audit trail.
///
/// Newest first, in pages, kept for `SCIMD_AUDIT_RETENTION` (365 days by default).
#[utoipa::path(
    get,
    operation_id = "list_audit",
    path = "/api/v1/audit",
    tag = "Audit",
    params(AuditQuery, PageParams),
    responses((status = 200, description = "A page of the audit trail", body = Page<AuditView>))
)]
pub async fn list(
    api: Acting,
    Params(query): Params<AuditQuery>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<Page<AuditView>>, Problem> {
    let limit = page.limit()?;
    let filter = AuditFilter {
        tenant: query.tenant,
        before: page.after("audit")?,
        limit: limit + 1,
    };
    let entries = api.directory.audit(&filter).await?;
    let page = Page::of(entries, limit, "audit", |e| e.seq);
    Ok(axum::Json(page.map(AuditView::from)))
}
