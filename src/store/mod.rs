//! Persistence: the `Store` trait every backend implements, the facts it reports
//! (`StoreError`), and `AnyStore`, the backend chosen by the database URL. Uniqueness and
//! versions are enforced by the database, never by a read-then-write check.

mod paging;
pub mod postgres;
mod shadow;
pub mod sqlite;
mod token_cache;

use std::collections::HashMap;
use std::future::Future;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::scim::canonical::Document;
use crate::scim::list::{CursorPosition, ListQuery};
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::ResourceKind;
pub use shadow::Shadow;

/// What went wrong in the store: facts, not HTTP codes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("resource not found")]
    NotFound,
    #[error("{attribute} must be unique")]
    Uniqueness { attribute: &'static str },
    #[error("version mismatch")]
    VersionMismatch,
    #[error("{id} is not a resource of this tenant")]
    InvalidReference { id: ResourceId },
    /// Changing the matching attribute would make these users share a value.
    #[error("users share values of the new matching attribute")]
    MatchingConflicts(Vec<MatchingConflict>),
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("invalid database URL: {0}")]
    Config(String),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Other(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_) => StoreError::Unavailable(e),
            other => StoreError::Other(other),
        }
    }
}

/// The id of a tenant: one connected directory, one Entra provisioning job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TenantId(pub Uuid);

/// A tenant as requests see it once authenticated, with its directory rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub policy: Policy,
}

/// A tenant's directory rules (the GoToMeeting tutorial's matching attribute and roles).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub matching: MatchingAttribute,
    /// Role values users may carry; `None`: any.
    pub allowed_roles: Option<Vec<String>>,
    /// Every active user must carry a role.
    pub require_role: bool,
}

/// The attribute Entra matches users on, unique in the tenant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MatchingAttribute {
    #[default]
    UserName,
    ExternalId,
    WorkEmail,
}

impl MatchingAttribute {
    pub const ALL: [MatchingAttribute; 3] = [Self::UserName, Self::ExternalId, Self::WorkEmail];

    /// The attribute path, as Entra's mapping and scimd's errors name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserName => "userName",
            Self::ExternalId => "externalId",
            Self::WorkEmail => "emails[type eq \"work\"].value",
        }
    }

    /// Parses a path in any letter case and spacing.
    pub fn parse(s: &str) -> Option<Self> {
        let squeezed: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        Self::ALL.into_iter().find(|m| {
            m.as_str()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_lowercase()
                == squeezed
        })
    }

    /// The value a user is matched by, from its folded document; `None` for `userName`,
    /// which the name index already keeps unique.
    pub fn key(self, folded: &Document) -> Option<String> {
        match self {
            Self::UserName => None,
            Self::ExternalId => folded
                .get("externalId")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            Self::WorkEmail => folded
                .get("emails")
                .and_then(|v| v.as_array())
                .and_then(|emails| {
                    emails
                        .iter()
                        .find(|e| e.get("type").and_then(|t| t.as_str()) == Some("work"))
                })
                .and_then(|e| e.get("value"))
                .and_then(|v| v.as_str())
                .map(str::to_owned),
        }
    }
}

/// Users that share one value of a matching attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchingConflict {
    pub value: String,
    pub user_names: Vec<String>,
}

/// A token as listed to operators: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: Uuid,
    pub tenant: String,
    pub label: Option<String>,
    pub created: DateTime<Utc>,
    pub revoked: Option<DateTime<Utc>>,
}

/// What a write stores: the canonical document, its folded copy (`scim::fold`), when the
/// write happened and, for groups, the complete member list (`None`: members untouched).
#[derive(Debug, Clone)]
pub struct Write<'a> {
    pub kind: ResourceKind,
    pub id: ResourceId,
    pub doc: &'a Document,
    pub folded: &'a Document,
    pub now: DateTime<Utc>,
    pub members: Option<&'a [MemberInput]>,
    /// The tenant's matching attribute, whose value the store keeps unique.
    pub matching: MatchingAttribute,
}

/// A member to add to a group: a user or group of the tenant, with the display the client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInput {
    pub id: ResourceId,
    pub display: Option<String>,
}

/// A member as read: its kind from the member itself, its display as sent or derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: ResourceId,
    pub kind: ResourceKind,
    pub display: Option<String>,
}

/// A group a resource belongs to (`User.groups`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    pub id: ResourceId,
    pub display: Option<String>,
}

/// One change of a group's members, as a PATCH operation asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    Add(Vec<MemberInput>),
    Remove(Vec<ResourceId>),
    RemoveAll,
    Replace(Vec<MemberInput>),
}

/// One page of a listing, the number of matches in all pages, and where the next cursor page
/// starts when there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub total: u64,
    pub resources: Vec<StoredResource>,
    pub next: Option<CursorPosition>,
    /// The users' groups, read in the page's query when `ListQuery::with_groups` asked.
    pub groups: Option<HashMap<ResourceId, Vec<GroupRef>>>,
}

/// A page row's groups as the list queries return them, `[[group id, displayName], …]`.
type GroupPairs = Vec<(String, Option<String>)>;

/// The groups of each listed user, from the list query's `groups` column.
fn groups_by_user(
    rows: Vec<(ResourceId, Option<GroupPairs>)>,
) -> Result<HashMap<ResourceId, Vec<GroupRef>>, StoreError> {
    let mut out = HashMap::new();
    for (user, pairs) in rows {
        let refs = pairs
            .unwrap_or_default()
            .into_iter()
            .map(|(id, display)| {
                let id = id
                    .parse()
                    .map_err(|_| StoreError::Config(format!("stored id '{id}' is not a UUID")))?;
                Ok(GroupRef { id, display })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // by name, as `groups_of` orders them (name_key is the lower-cased displayName)
        let mut refs = refs;
        refs.sort_by_cached_key(|g| g.display.as_deref().map(str::to_lowercase));
        out.insert(user, refs);
    }
    Ok(out)
}

/// Database settings beyond the URL.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub max_connections: u32,
}

/// Everything scimd persists. Every resource method takes the tenant: there is no query
/// without one.
pub trait Store: Clone + Send + Sync + 'static {
    /// Whether the database answers (for `/readyz`).
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Applies the embedded migrations.
    fn migrate(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn create_tenant(&self, name: &str) -> impl Future<Output = Result<Tenant, StoreError>> + Send;
    /// The tenant called `name`, created if missing.
    fn ensure_tenant(&self, name: &str) -> impl Future<Output = Result<Tenant, StoreError>> + Send;
    fn tenants(&self) -> impl Future<Output = Result<Vec<Tenant>, StoreError>> + Send;
    /// Sets the tenant's matching attribute, recomputing every user's key in one transaction;
    /// fails with the conflicts when users would share a value.
    fn set_matching(
        &self,
        tenant: TenantId,
        matching: MatchingAttribute,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Sets the tenant's role rules.
    fn set_roles(
        &self,
        tenant: TenantId,
        allowed: Option<&[String]>,
        require: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn tenant(&self, name: &str) -> impl Future<Output = Result<Tenant, StoreError>> + Send;

    /// Stores a new token's hash; makes an existing token with this hash valid again.
    fn put_token(
        &self,
        tenant: TenantId,
        label: Option<&str>,
        hash: &[u8],
    ) -> impl Future<Output = Result<TokenInfo, StoreError>> + Send;
    fn tokens(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Vec<TokenInfo>, StoreError>> + Send;
    fn revoke_token(&self, id: Uuid) -> impl Future<Output = Result<TokenInfo, StoreError>> + Send;
    /// The tenant of the unrevoked token with this hash, with the stored hash for a
    /// constant-time comparison.
    fn token_tenant(
        &self,
        hash: &[u8],
    ) -> impl Future<Output = Result<Option<(Tenant, Vec<u8>)>, StoreError>> + Send;

    fn create(
        &self,
        tenant: TenantId,
        write: Write<'_>,
    ) -> impl Future<Output = Result<StoredResource, StoreError>> + Send;
    fn get(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: ResourceId,
    ) -> impl Future<Output = Result<StoredResource, StoreError>> + Send;
    /// Replaces the document if the stored version is still `expected` (compare-and-swap).
    fn replace(
        &self,
        tenant: TenantId,
        write: Write<'_>,
        expected: Version,
    ) -> impl Future<Output = Result<StoredResource, StoreError>> + Send;
    /// Deletes the resource, if `expected` is given only at that version.
    fn delete(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: ResourceId,
        expected: Option<Version>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Changes a group's members and, with `doc`, its document, atomically; with `expected`
    /// only at that version. A change that changes nothing keeps the version.
    fn update_group(
        &self,
        tenant: TenantId,
        group: ResourceId,
        doc: Option<Write<'_>>,
        expected: Option<Version>,
        changes: &[MemberChange],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<StoredResource, StoreError>> + Send;
    /// The members of each group, in the order they were added.
    fn members(
        &self,
        tenant: TenantId,
        groups: &[ResourceId],
    ) -> impl Future<Output = Result<HashMap<ResourceId, Vec<Member>>, StoreError>> + Send;
    /// The groups each resource is a direct member of.
    fn groups_of(
        &self,
        tenant: TenantId,
        members: &[ResourceId],
    ) -> impl Future<Output = Result<HashMap<ResourceId, Vec<GroupRef>>, StoreError>> + Send;
    /// One page of the resources that match the query's filter, in its order (creation
    /// order when unsorted).
    fn list(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Listing, StoreError>> + Send;
}

/// The backend the database URL names.
#[derive(Debug, Clone)]
pub enum AnyStore {
    Postgres(postgres::PgStore),
    Sqlite(sqlite::SqliteStore),
}

impl AnyStore {
    /// Whether valid tokens are served from the cache (its invalidation feed is connected).
    pub fn caches_tokens(&self) -> bool {
        match self {
            AnyStore::Postgres(s) => s.caches_tokens(),
            AnyStore::Sqlite(s) => s.caches_tokens(),
        }
    }

    /// Connects to the database at `url`, creating the database if it does not exist.
    pub async fn open(url: &str, options: Options) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(AnyStore::Postgres(
                postgres::PgStore::open(url, options).await?,
            ));
        }
        if url.starts_with("sqlite:") {
            return Ok(AnyStore::Sqlite(
                sqlite::SqliteStore::open(url, options).await?,
            ));
        }
        Err(StoreError::Config(format!(
            "unsupported scheme in '{}': use postgres://… or sqlite://…",
            redact_url(url)
        )))
    }
}

/// The URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Delegates every `Store` method to the chosen backend.
macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        impl Store for AnyStore {
            $(
                async fn $name(&self, $($arg: $ty),*) -> $ret {
                    match self {
                        AnyStore::Postgres(s) => s.$name($($arg),*).await,
                        AnyStore::Sqlite(s) => s.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

delegate! {
    ping() -> Result<(), StoreError>;
    migrate() -> Result<(), StoreError>;
    create_tenant(name: &str) -> Result<Tenant, StoreError>;
    ensure_tenant(name: &str) -> Result<Tenant, StoreError>;
    tenants() -> Result<Vec<Tenant>, StoreError>;
    set_matching(tenant: TenantId, matching: MatchingAttribute) -> Result<(), StoreError>;
    set_roles(tenant: TenantId, allowed: Option<&[String]>, require: bool) -> Result<(), StoreError>;
    tenant(name: &str) -> Result<Tenant, StoreError>;
    put_token(tenant: TenantId, label: Option<&str>, hash: &[u8]) -> Result<TokenInfo, StoreError>;
    tokens(tenant: TenantId) -> Result<Vec<TokenInfo>, StoreError>;
    revoke_token(id: Uuid) -> Result<TokenInfo, StoreError>;
    token_tenant(hash: &[u8]) -> Result<Option<(Tenant, Vec<u8>)>, StoreError>;
    create(tenant: TenantId, write: Write<'_>) -> Result<StoredResource, StoreError>;
    get(tenant: TenantId, kind: ResourceKind, id: ResourceId) -> Result<StoredResource, StoreError>;
    replace(tenant: TenantId, write: Write<'_>, expected: Version) -> Result<StoredResource, StoreError>;
    delete(tenant: TenantId, kind: ResourceKind, id: ResourceId, expected: Option<Version>) -> Result<(), StoreError>;
    list(tenant: TenantId, kind: ResourceKind, query: &ListQuery) -> Result<Listing, StoreError>;
    update_group(tenant: TenantId, group: ResourceId, doc: Option<Write<'_>>, expected: Option<Version>, changes: &[MemberChange], now: DateTime<Utc>) -> Result<StoredResource, StoreError>;
    members(tenant: TenantId, groups: &[ResourceId]) -> Result<HashMap<ResourceId, Vec<Member>>, StoreError>;
    groups_of(tenant: TenantId, members: &[ResourceId]) -> Result<HashMap<ResourceId, Vec<GroupRef>>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            redact_url("postgres://scimd:s3cret@db:5432/scimd"),
            "postgres://scimd:***@db:5432/scimd"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/scimd"),
            "postgres://postgres@127.0.0.1/scimd"
        );
    }
}
