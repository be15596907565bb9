//! What every store must do, whatever the backend: every method of `Store`, `Tenants`,
//! `Tokens`, `Resources`, `Groups`, `OAuthStore`, `SessionStore`, `InvitationStore`,
//! `AttemptStore`, `ActivityStore`, `EventStore`, `SchemaStore` and `RetainedStore`, proven
//! on PostgreSQL and SQLite alike. Each failure is the fact it is (`StoreError`), and a failed write changes
//! nothing. Time is an argument: the methods that take `now` (or `before`) are given fixed
//! instants ([`at`]).
//!
//! The documents written here are what the service would write: a document as a client sent
//! it and its folded copy (`scim::fold`), built by [`Body`].

use scimd::store::{Content, GroupChange};
use std::future::Future;
use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use serde_json::Value;

use scimd::domain::Tenant;
use scimd::scim::canonical::Document;
use scimd::scim::fold::fold;
use scimd::scim::resource::{ResourceId, StoredResource, Version};
use scimd::scim::schema::{Registry, ResourceKind};
use scimd::service::now;
use scimd::store::{
    AnyStore, GroupRef, Groups, Member, MemberChange, MemberInput, Resources, Store, StoreError,
    Tenants,
};

use tokio::sync::Barrier;

use crate::support::{Backend, TestDb, open_store};

/// Asserts that `result` is the error `pattern` (with an optional guard), showing what it was
/// otherwise.
macro_rules! assert_err {
    ($result:expr, $pattern:pat $(if $guard:expr)? $(,)?) => {{
        let result = $result;
        assert!(
            matches!(&result, Err($pattern) $(if $guard)?),
            "expected {}, got {result:?}",
            stringify!($pattern)
        );
    }};
}

mod activity;
mod attempts;
mod events;
mod invitations;
mod listing;
mod member_changes;
mod membership;
mod notify;
mod oauth;
mod operators;
mod resources;
mod retained;
mod schemas;
mod sessions;
mod sorting;
mod stored;
mod tenants;
mod tokens;

/// The instant `seconds` after a fixed origin, the start of a minute in 2030: whole seconds,
/// which both backends keep exactly, and later than any clock the store reads itself.
fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_900_000_020 + seconds, 0).unwrap()
}

/// The schemas the service folds documents with.
static REGISTRY: LazyLock<Registry> = LazyLock::new(|| Registry::new().unwrap());

/// A migrated store on a fresh database, with tenant `default`.
struct Fixture {
    db: TestDb,
    store: AnyStore,
    tenant: Tenant,
}

impl Fixture {
    async fn new(backend: Backend) -> Self {
        let db = TestDb::new(backend).await;
        let store = open_store(&db.url).await;
        store.migrate().await.unwrap();
        let tenant = store.ensure_tenant("default").await.unwrap();
        Self { db, store, tenant }
    }

    /// Creates `body` with a new id in tenant `default`.
    async fn create(&self, body: &Body) -> StoredResource {
        self.store
            .create(self.tenant.id, body.write(ResourceId::random()).into())
            .await
            .unwrap()
    }

    /// Users with these names, created in this order.
    async fn users<const N: usize>(&self, names: [&str; N]) -> [StoredResource; N] {
        let mut created = Vec::with_capacity(N);
        for name in names {
            created.push(self.create(&user(name)).await);
        }
        created.try_into().unwrap_or_else(|_| unreachable!())
    }

    /// Creates the group `body` with these members.
    async fn create_group(&self, body: &Body, members: &[MemberInput]) -> StoredResource {
        let write = Content {
            members: Some(members),
            ..body.write(ResourceId::random())
        };
        self.store
            .create(self.tenant.id, write.into())
            .await
            .unwrap()
    }

    /// The resource as stored now.
    async fn get(&self, resource: &StoredResource) -> StoredResource {
        self.store
            .get(self.tenant.id, resource.kind, resource.id)
            .await
            .unwrap()
    }

    /// The members of one group, as `members` reads them.
    async fn members(&self, group: ResourceId) -> Vec<Member> {
        let mut all = self.store.members(self.tenant.id, &[group]).await.unwrap();
        let members = all.remove(&group).unwrap_or_default();
        assert!(all.is_empty(), "members of groups not asked for: {all:?}");
        members
    }

    /// `update_group` of `group` without a document change.
    async fn change(
        &self,
        group: &StoredResource,
        expected: Option<Version>,
        changes: &[MemberChange],
    ) -> Result<StoredResource, StoreError> {
        self.store
            .update_group(
                self.tenant.id,
                GroupChange {
                    group: group.id,
                    content: None,
                    expected,
                    changes,
                    now: now(),
                    activity: None,
                },
            )
            .await
    }

    /// The groups of one resource, as `groups_of` reads them.
    async fn groups_of(&self, id: ResourceId) -> Vec<GroupRef> {
        let mut all = self.store.groups_of(self.tenant.id, &[id]).await.unwrap();
        let groups = all.remove(&id).unwrap_or_default();
        assert!(all.is_empty(), "groups of resources not asked for: {all:?}");
        groups
    }
}

/// A document as a client sent it and its folded copy, as the service writes them.
#[derive(Debug, Clone)]
struct Body {
    kind: ResourceKind,
    doc: Document,
    folded: Document,
}

impl Body {
    fn new(kind: ResourceKind, value: Value) -> Self {
        let Value::Object(doc) = value else {
            panic!("a document is a JSON object: {value}")
        };
        let rt = REGISTRY.resource_type(kind).unwrap();
        let folded = fold(rt, REGISTRY.common(), &doc);
        Self { kind, doc, folded }
    }

    fn user(value: Value) -> Self {
        Self::new(ResourceKind::User, value)
    }

    fn group(value: Value) -> Self {
        Self::new(ResourceKind::Group, value)
    }

    /// A write of this document as resource `id`: now, members untouched, matched on
    /// `userName`.
    fn write(&self, id: ResourceId) -> Content<'_> {
        Content {
            kind: self.kind,
            id,
            doc: &self.doc,
            folded: &self.folded,
            now: now(),
            members: None,
            matching: Default::default(),
        }
    }
}

/// The user `{"userName": name}`.
fn user(name: &str) -> Body {
    Body::user(serde_json::json!({ "userName": name }))
}

/// The group `{"displayName": name}`.
fn group(name: &str) -> Body {
    Body::group(serde_json::json!({ "displayName": name }))
}

/// A member to add, with no display of its own.
fn member(resource: &StoredResource) -> MemberInput {
    MemberInput {
        id: resource.id,
        display: None,
    }
}

/// A member to add, with the display the client sent.
fn member_shown(resource: &StoredResource, display: &str) -> MemberInput {
    MemberInput {
        id: resource.id,
        display: Some(display.to_owned()),
    }
}

/// Members as `members` reads them: each resource with its kind and this display.
fn read_members(members: &[(&StoredResource, &str)]) -> Vec<Member> {
    members
        .iter()
        .map(|(r, display)| Member {
            id: r.id,
            kind: r.kind,
            display: Some((*display).to_owned()),
        })
        .collect()
}

/// A group as `groups_of` reads it.
fn group_ref(group: &StoredResource) -> GroupRef {
    GroupRef {
        id: group.id,
        display: group
            .doc
            .get("displayName")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

/// Waits until the PostgreSQL store serves valid tokens from its cache (its `LISTEN`
/// connection comes up in the background after `open`), so that a test goes through the
/// cache; SQLite never caches.
async fn until_tokens_are_cached(store: &AnyStore, backend: Backend) {
    if backend == Backend::Sqlite {
        assert!(!store.caches_tokens(), "SQLite has no invalidation feed");
        return;
    }
    let live = async {
        while !store.caches_tokens() {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), live)
        .await
        .expect("the PostgreSQL store caches tokens once its LISTEN connection is up");
}

/// Runs `n` tasks (`task(i)` for i in 0..n) on the runtime's threads, released together, and
/// returns what each did in order.
async fn all_at_once<T, F>(n: usize, task: impl Fn(usize) -> F) -> Vec<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let start = Arc::new(Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (start, run) = (start.clone(), task(i));
            tokio::spawn(async move {
                start.wait().await;
                run.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.expect("a task of all_at_once panicked"));
    }
    out
}
