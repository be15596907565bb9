//! What can go wrong in the store, as facts: which thing is missing, which uniqueness rule a
//! value broke, which stored value is corrupt. The service turns them into SCIM errors in one
//! place (`service::error`); nothing here knows HTTP.

use uuid::Uuid;

use crate::domain::{MatchingAttribute, MatchingConflict};
use crate::scim::resource::{ResourceId, Version};
use crate::scim::schema::ResourceKind;

/// A failure of a store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(Missing),
    #[error("{rule} must be unique; '{value}' is taken")]
    Uniqueness { rule: Unique, value: String },
    /// A conditional write found the resource at another version.
    #[error("{kind:?} {id} is no longer at version {expected:?}")]
    VersionMismatch {
        kind: ResourceKind,
        id: ResourceId,
        expected: Version,
    },
    /// A group member that is not a resource of the tenant.
    #[error("{id} is not a resource of this tenant")]
    InvalidReference { id: ResourceId },
    /// Setting the matching attributes would make these users share a value of `matching`.
    #[error("users share values of {matching}")]
    MatchingConflicts {
        matching: MatchingAttribute,
        conflicts: Vec<MatchingConflict>,
    },
    /// Setting the matching attributes would leave these users with several values of
    /// `matching`.
    #[error("users hold several values of {matching}")]
    SeveralMatchingValues {
        matching: MatchingAttribute,
        user_names: Vec<String>,
    },
    /// A write would break the uniqueness of an attribute of a tenant's extension schema:
    /// the unique index `index` (the service knows which attribute it keeps unique).
    #[error("the values of an extension attribute must be unique (index {index})")]
    ExtensionUnique { index: String },
    /// A value the database cannot hold (a NUL character), refused before it was sent.
    #[error("a value holds a NUL character, which the database cannot store")]
    Unstorable,
    /// The tenant has a schema `urn` already: served (`ready`), or not served because its
    /// registration or removal is in progress or was interrupted (`scimd schema remove`
    /// clears it).
    #[error("schema {urn} is registered already (ready: {ready})")]
    SchemaExists { urn: String, ready: bool },
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// A stored value that scimd cannot have written.
    #[error("corrupt data in the database: {0}")]
    Corrupt(Corruption),
    #[error("invalid database URL {url}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Other(sqlx::Error),
}

/// Errors of the connection or the pool: the database does not answer now. Database error
/// codes are the dialect's to classify (`Dialect::store_error`).
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e),
            other => StoreError::Other(other),
        }
    }
}

/// What was not found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    #[error("{} {id}", kind.as_str())]
    Resource { kind: ResourceKind, id: ResourceId },
    #[error("tenant '{name}'")]
    Tenant { name: String },
    #[error("token {id}")]
    Token { id: Uuid },
    #[error("admin '{username}'")]
    Admin { username: String },
    #[error("OAuth client '{client_id}'")]
    Client { client_id: String },
    #[error("webhook {id}")]
    Subscription { id: Uuid },
    #[error("operator key '{key}'")]
    OperatorKey { key: String },
    #[error("operator account '{username}'")]
    OperatorAccount { username: String },
    #[error("schema '{urn}'")]
    Schema { urn: String },
}

/// A uniqueness rule the database enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    /// `userName` of users, `displayName` of groups: per tenant, in any letter case.
    Name(ResourceKind),
    /// One of the tenant's matching attributes among its users.
    Matching(MatchingAttribute),
    /// Tenant names.
    TenantName,
    /// Token hashes: a token belongs to one tenant.
    Token,
    /// Admin user names, per tenant, in any letter case.
    AdminName,
    /// The Entra tenant whose tokens a tenant accepts: one scimd tenant per Entra tenant.
    EntraTenant,
    /// Operator key names, in any case.
    OperatorKeyName,
    /// Operator account user names, in any case.
    OperatorAccountName,
}

impl Unique {
    /// The attribute the rule is about, as clients name it.
    pub fn attribute(self) -> &'static str {
        match self {
            Unique::Name(kind) => name_attribute(kind),
            Unique::Matching(m) => m.as_str(),
            Unique::TenantName => "tenant name",
            Unique::Token => "token",
            Unique::AdminName => "admin username",
            Unique::EntraTenant => "Entra tenant id",
            Unique::OperatorKeyName => "operator key name",
            Unique::OperatorAccountName => "operator account user name",
        }
    }
}

impl std::fmt::Display for Unique {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.attribute())
    }
}

/// The attribute whose lower-cased value is a resource's unique `name_key`.
pub fn name_attribute(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group => "displayName",
    }
}

/// A stored value that does not parse as what scimd writes there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column} holds '{value}', which is not {expected}")]
pub struct Corruption {
    pub column: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl StoreError {
    /// A corrupt stored value.
    pub fn corrupt(column: &'static str, value: impl ToString, expected: &'static str) -> Self {
        StoreError::Corrupt(Corruption {
            column,
            value: value.to_string(),
            expected,
        })
    }
}
