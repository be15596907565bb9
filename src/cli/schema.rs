//! `scimd schema …`: a tenant's extension schemas (the custom attributes Entra's mapping sends),
//! registered from RFC 7643 §7 documents.

use std::io::Read;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::common::TENANT;
use scimd::StartError;
use scimd::config::Database;
use scimd::scim::schema::ResourceKind;
use scimd::service::RegisteredSchema;

#[derive(Debug, Args)]
pub struct Schema {
    #[command(flatten)]
    database: Database,
    #[command(subcommand)]
    command: SchemaCommand,
}

/// The help of a schema's URN, the same in every command that names one.
const URN: &str = "The schema's id, a URN (as `scimd schema list` shows it)";

#[derive(Debug, Subcommand)]
enum SchemaCommand {
    /// Register an extension schema (an RFC 7643 §7 schema document) for a tenant; it takes
    /// effect at the tenant's next request, on every replica.
    Add {
        #[arg(long, help = TENANT)]
        tenant: String,
        /// The schema document, a JSON file (`-` for standard input).
        file: String,
        /// The resource type it extends: User or Group.
        #[arg(long, value_name = "TYPE", default_value = "User", value_parser = resource_type)]
        resource_type: ResourceKind,
    },
    /// List a tenant's extension schemas.
    List {
        #[arg(long, help = TENANT)]
        tenant: String,
        /// One JSON document a line, each as `schema show` prints it, instead of columns.
        #[arg(long)]
        json: bool,
    },
    /// Show one of a tenant's extension schemas as /Schemas serves it.
    Show {
        #[arg(long, help = TENANT)]
        tenant: String,
        #[arg(help = URN)]
        urn: String,
    },
    /// Remove an extension schema; values stored under it stay in the resources, hidden and
    /// unsearchable, until a PUT replaces them (registering it again shows them again).
    Remove {
        #[arg(long, help = TENANT)]
        tenant: String,
        #[arg(help = URN)]
        urn: String,
    },
}

impl Schema {
    pub async fn run(self) -> Result<(), StartError> {
        let dir = scimd::open_database(&self.database).await?;
        match self.command {
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

/// `User` or `Group`, in any case.
fn resource_type(text: &str) -> Result<ResourceKind, String> {
    [ResourceKind::User, ResourceKind::Group]
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| format!("'{text}': use User or Group"))
}
