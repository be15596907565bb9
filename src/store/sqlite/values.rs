//! `resource_values`: the string values inside multi-valued complex attributes of each folded
//! document (`emails.value`, `emails.type`, …), one row each, so that Entra's
//! `emails[type eq "work"].value eq "x"` is an index lookup on SQLite, which has no JSON
//! containment index. Rewritten in the transaction of every write of a document.

use sqlx::sqlite::SqliteConnection;

use crate::domain::TenantId;
use crate::scim::canonical::Document;
use crate::scim::resource::ResourceId;
use crate::store::StoreError;
use crate::store::statement::{Arg, Sql};

use super::Lite;
use crate::store::dialect::Dialect;

/// Replaces the indexed values of resource `id`.
pub async fn index(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: ResourceId,
    folded: &Document,
) -> Result<(), StoreError> {
    let clear = Sql::new(
        "delete from resource_values
         where seq = (select seq from resources where tenant_id = $1 and id = $2)",
    )
    .arg(tenant)
    .arg(id);
    Lite::execute(conn, clear).await?;
    let values = indexed_values(folded);
    if values.is_empty() {
        return Ok(());
    }
    let insert = Sql::new(
        "insert into resource_values (seq, attribute, value)
         select r.seq, json_extract(v.value, '$[0]'), json_extract(v.value, '$[1]')
         from resources r, json_each($3) as v where r.tenant_id = $1 and r.id = $2",
    )
    .arg(tenant)
    .arg(id)
    .arg(Arg::json(&values)?);
    Lite::execute(conn, insert).await?;
    Ok(())
}

/// The string values inside multi-valued complex attributes of the folded document, as
/// `("emails.value", "x@y")` pairs (the migration that created the table computes the same
/// in SQL).
fn indexed_values(folded: &Document) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, value) in folded {
        let Some(items) = value.as_array() else {
            continue;
        };
        for item in items.iter().filter_map(|i| i.as_object()) {
            for (sub, v) in item {
                if let Some(text) = v.as_str() {
                    out.push((format!("{key}.{sub}"), text.to_owned()));
                }
            }
        }
    }
    out
}
