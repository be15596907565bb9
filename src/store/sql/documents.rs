//! The statements that write a resource's document: the insert and the compare-and-swap
//! update, the arguments of the document and its shadow columns, and what a broken unique
//! index means. Resources and group changes both write documents through them.

use super::rows::{self, RESOURCE_COLUMNS};
use super::{Arg, Sql, activity};
use crate::domain::activity::Activity;
use crate::domain::{MatchingAttribute, TenantId};
use crate::scim::canonical::Document;
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::ResourceKind;
use crate::store::dialect::{Conn, Constraint, Dialect};
use crate::store::{Content, Missing, Shadow, StoreError, Unique};

/// Whether writing `w` is one statement — no side table to index (PostgreSQL), no members to
/// write: then it runs
/// on its own, committed as it ends, instead of between `BEGIN` and `COMMIT`, two round trips
/// fewer for each of Entra's creates and updates of users.
pub(super) fn alone<D: Dialect>(w: &Content<'_>) -> bool {
    !D::INDEXES_AFTER_WRITE && w.members.is_none()
}

/// The row an insert returned; a broken uniqueness rule as that rule.
pub(super) async fn inserted<D: Dialect>(
    conn: &mut Conn<D>,
    sql: Sql,
    w: &Content<'_>,
) -> Result<D::Row, StoreError> {
    D::fetch_optional(conn, sql)
        .await
        .map_err(|e| unique_violation::<D>(e, w))?
        .ok_or_else(|| not_found(w.kind, w.id))
}

pub(super) fn not_found(kind: ResourceKind, id: ResourceId) -> StoreError {
    StoreError::NotFound(Missing::Resource { kind, id })
}

/// Writes the document of `w` and its shadow columns, bumping the version; at `expected` only
/// when given. `None` when no row was written.
/// With `recorded` (PostgreSQL's lone writes), the activity row is written by the same
/// statement.
pub(super) async fn update<D: Dialect>(
    conn: &mut Conn<D>,
    tenant: TenantId,
    w: &Content<'_>,
    expected: Option<Version>,
    recorded: Option<&Activity>,
) -> Result<Option<StoredResource>, StoreError> {
    let sql = Sql::new(format!(
        "update resources
         set version = version + 1, last_modified = $5,
             name_key = $6, external_id = $7, active = $8, doc = $9, search = $10,
             external_key = $11, email_key = $12
         where tenant_id = $1 and id = $2 and resource_type = $3
           and ($4 is null or version = $4)
         returning {RESOURCE_COLUMNS}"
    ))
    .arg(tenant)
    .arg(w.id)
    .arg(w.kind.as_str())
    .arg(expected)
    .arg(w.now);
    let sql = document_args(sql, w)?;
    let sql = match recorded {
        Some(a) => activity::with_row::<D>(sql, a),
        None => sql,
    };
    let Some(row) = D::fetch_optional(conn, sql)
        .await
        .map_err(|e| unique_violation::<D>(e, w))?
    else {
        return Ok(None);
    };
    D::after_write(conn, tenant, w.id, w.folded).await?;
    rows::resource(&row, w.kind).map(Some)
}

/// The arguments of the written document, in the order both writes name its columns:
/// `name_key, external_id, active, doc, search, external_key, email_key`.
pub(super) fn document_args(sql: Sql, w: &Content<'_>) -> Result<Sql, StoreError> {
    Ok(document_values(w)?.into_iter().fold(sql, Sql::arg))
}

/// The values of the written document's columns, in [`document_args`]'s order.
pub(super) fn document_values(w: &Content<'_>) -> Result<Vec<Arg>, StoreError> {
    let shadow = Shadow::of(w.kind, w.doc, w.folded, w.matching);
    Ok(vec![
        shadow.name_key.into(),
        shadow.external_id.into(),
        shadow.active.into(),
        Arg::json(w.doc)?,
        Arg::json(w.folded)?,
        shadow.external_key.into(),
        shadow.email_key.into(),
    ])
}

/// A failed write of `w` as the uniqueness rule it broke, with the value as the client sent it.
fn unique_violation<D: Dialect>(e: StoreError, w: &Content<'_>) -> StoreError {
    violation::<D>(e, w.kind, |rule| rule_value(rule, w.doc).map(str::to_owned))
}

/// A failed write as the uniqueness rule it broke, `value` giving what the written document
/// held for a rule; any other failure as it is.
pub(super) fn violation<D: Dialect>(
    e: StoreError,
    kind: ResourceKind,
    value: impl FnOnce(Unique) -> Option<String>,
) -> StoreError {
    if let Some(index) = D::violated_index(&e) {
        return StoreError::ExtensionUnique { index };
    }
    let rule = match D::violated(&e) {
        Some(Constraint::ResourceName) => Unique::Name(kind),
        Some(Constraint::ExternalKey) => Unique::Matching(MatchingAttribute::ExternalId),
        Some(Constraint::EmailKey) => Unique::Matching(MatchingAttribute::WorkEmail),
        _ => return e,
    };
    StoreError::Uniqueness {
        rule,
        value: value(rule).unwrap_or_default(),
    }
}

/// What `doc` holds for the uniqueness rule `rule`: the value as the client sent it.
pub(super) fn rule_value(rule: Unique, doc: &Document) -> Option<&str> {
    match rule {
        Unique::Matching(m) => m.value(doc),
        _ => doc
            .get(rule.attribute())
            .and_then(serde_json::Value::as_str),
    }
}
