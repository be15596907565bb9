//! `scimd schema …`: a tenant's extension schemas, registered from RFC 7643 §7 documents.

use std::io::Read;

use serde_json::{Value, json};

use scimd::StartError;
use scimd::config::SchemaCommand;
use scimd::service::{Directory, RegisteredSchema};

pub async fn schema(dir: &Directory, cmd: SchemaCommand) -> Result<(), StartError> {
    match cmd {
        SchemaCommand::Add {
            tenant,
            file,
            resource_type,
        } => {
            let text = if file == "-" {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text)?;
                text
            } else {
                std::fs::read_to_string(&file)
                    .map_err(|e| StartError::Config(format!("cannot read {file}: {e}")))?
            };
            let source = if file == "-" { "standard input" } else { &file };
            let document: Value = serde_json::from_str(&text)
                .map_err(|e| StartError::Config(format!("{source} is not JSON: {e}")))?;
            let added = dir.add_schema(&tenant, resource_type, &document).await?;
            println!(
                "registered {} ({} attributes) for the {}s of tenant {tenant}; it applies from \
                 the tenant's next request",
                added.schema.id,
                added.schema.attributes.len(),
                added.kind.as_str()
            );
        }
        SchemaCommand::List { tenant, json } => {
            for r in dir.schemas_of(&tenant).await? {
                if json {
                    println!("{}", described(&r));
                } else {
                    let names: Vec<&str> = r
                        .schema
                        .attributes
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect();
                    println!(
                        "{}\t{}\t{}\t{}",
                        r.schema.id,
                        r.kind.as_str(),
                        names.join(","),
                        r.created.to_rfc3339()
                    );
                }
            }
        }
        SchemaCommand::Show { tenant, urn } => {
            let found = dir
                .schemas_of(&tenant)
                .await?
                .into_iter()
                .find(|r| r.schema.id.eq_ignore_ascii_case(urn.trim()))
                .ok_or_else(|| {
                    StartError::Config(format!("tenant {tenant} has no schema '{urn}'"))
                })?;
            let text = serde_json::to_string_pretty(&described(&found))
                .map_err(|e| StartError::Config(e.to_string()))?;
            println!("{text}");
        }
        SchemaCommand::Remove { tenant, urn } => {
            let removed = dir.remove_schema(&tenant, &urn).await?;
            println!(
                "removed {} from tenant {tenant}; values stored under it are kept, no longer \
                 shown or searchable, until a PUT replaces the resource",
                removed.schema.id
            );
        }
    }
    Ok(())
}

/// A registered schema as JSON: the RFC 7643 §7 document with its resource type.
fn described(r: &RegisteredSchema) -> Value {
    json!({
        "id": r.schema.id,
        "name": r.schema.name,
        "description": r.schema.description,
        "resourceType": r.kind.as_str(),
        "attributes": r.schema.attributes,
        "created": r.created,
    })
}
