//! The commands of tenants' extension schemas (`scimd schema …`).

use clap::Subcommand;

use crate::scim::schema::ResourceKind;

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Register an extension schema (an RFC 7643 §7 schema document) for a tenant; it takes
    /// effect at the tenant's next request, on every replica.
    Add {
        #[arg(long)]
        tenant: String,
        /// The schema document, a JSON file (`-` for standard input).
        file: String,
        /// The resource type it extends: User or Group.
        #[arg(long, default_value = "User", value_parser = resource_type)]
        resource_type: ResourceKind,
    },
    /// List a tenant's extension schemas.
    List {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        json: bool,
    },
    /// Show one of a tenant's extension schemas as /Schemas serves it.
    Show {
        #[arg(long)]
        tenant: String,
        urn: String,
    },
    /// Remove an extension schema. Values stored under it stay in the resources, hidden and
    /// unsearchable (a PATCH keeps them, a PUT drops them); registering it again shows them
    /// again.
    Remove {
        #[arg(long)]
        tenant: String,
        urn: String,
    },
}

/// `User` or `Group`, in any case.
fn resource_type(text: &str) -> Result<ResourceKind, String> {
    [ResourceKind::User, ResourceKind::Group]
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| format!("'{text}': use User or Group"))
}
