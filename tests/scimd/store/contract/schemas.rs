//! `SchemaStore`: registered extension schemas served oldest first, each registration and
//! removal bumping the tenant's schema version; their unique indexes keeping an attribute
//! unique within the tenant; a registration over repeated values leaving neither row nor
//! index; a URN already there (served, or 'building') refused, also to registrations at once;
//! removal found in any case; the tenant's rule for unknown attributes.

use serde_json::json;
use uuid::Uuid;

use scimd::domain::{TenantId, UnknownAttributes};
use scimd::scim::resource::{ResourceId, StoredResource};
use scimd::scim::schema::ResourceKind;
use scimd::store::schemas::{StoredSchema, UNIQUE_INDEX_PREFIX, UniqueIndex};
use scimd::store::{Resources, SchemaStore, StoreError, Tenants};

use super::stored::{extension_indexes, schema_rows};
use super::{Body, Fixture, all_at_once, at};
use crate::support::{Backend, execute_sql};

const BADGE: &str = "urn:example:params:scim:schemas:extension:badge:2.0:User";
const DESK: &str = "urn:example:params:scim:schemas:extension:desk:2.0:User";

/// The schema document of `urn`, registered at `at(created)`, whose attributes `badge` and
/// `costCenter` are unique.
fn schema(urn: &str, created: i64) -> StoredSchema {
    let unique = |name: &str| json!({"name": name, "type": "string", "uniqueness": "server"});
    StoredSchema {
        kind: ResourceKind::User,
        document: json!({
            "id": urn,
            "name": "Extension",
            "attributes": [unique("badge"), unique("costCenter")],
        }),
        created: at(created),
    }
}

/// A unique index over `attribute` of the users' extension `urn`, named as the service names
/// them (the prefix and hex digits).
fn index(urn: &str, attribute: &str) -> UniqueIndex {
    let hex = Uuid::new_v4().simple().to_string();
    UniqueIndex {
        name: format!("{UNIQUE_INDEX_PREFIX}{}", &hex[..20]),
        kind: ResourceKind::User,
        urn: urn.to_owned(),
        attribute: attribute.to_owned(),
    }
}

impl Fixture {
    /// Creates the user `name` in `tenant` with the extension `BADGE`'s `values`.
    async fn badged(
        &self,
        tenant: TenantId,
        name: &str,
        values: serde_json::Value,
    ) -> Result<StoredResource, StoreError> {
        let body = Body::user(json!({ "userName": name, BADGE: values }));
        let write = body.write(ResourceId::random());
        self.store.create(tenant, write.into()).await
    }

    /// The version of `tenant`'s schemas.
    async fn schemas_version(&self, name: &str) -> i64 {
        self.store.tenant(name).await.unwrap().policy.schemas
    }
}

async fn registered_schemas_are_served_oldest_first_and_bump_the_schema_version(backend: Backend) {
    let f = Fixture::new(backend).await;
    let acme = f.store.create_tenant("acme").await.unwrap();
    let t = f.tenant.id;
    assert_eq!(f.schemas_version("default").await, 0);
    f.store
        .add_tenant_schema(t, BADGE, &schema(BADGE, 10), &[])
        .await
        .unwrap();
    f.store
        .add_tenant_schema(t, DESK, &schema(DESK, 0), &[])
        .await
        .unwrap();
    let theirs = schema(BADGE, 20);
    f.store
        .add_tenant_schema(acme.id, BADGE, &theirs, &[])
        .await
        .unwrap();
    let served = f.store.tenant_schemas(t).await.unwrap();
    assert_eq!(served, [schema(DESK, 0), schema(BADGE, 10)]);
    assert_eq!(f.store.tenant_schemas(acme.id).await.unwrap(), [theirs]);
    assert_eq!(f.schemas_version("default").await, 2);
    assert_eq!(f.schemas_version("acme").await, 1);
    assert_eq!(f.store.building_schema(t, BADGE).await.unwrap(), None);
    let rows = schema_rows(&f.db).await;
    assert!(rows.iter().all(|(_, state)| state == "ready"), "{rows:?}");
    assert_eq!(rows.len(), 3);
}

async fn a_unique_index_keeps_an_attribute_unique_within_the_tenant(backend: Backend) {
    let f = Fixture::new(backend).await;
    let acme = f.store.create_tenant("acme").await.unwrap();
    let t = f.tenant.id;
    let badge = index(BADGE, "badge");
    let unique = std::slice::from_ref(&badge);
    f.store
        .add_tenant_schema(t, BADGE, &schema(BADGE, 0), unique)
        .await
        .unwrap();
    assert_eq!(
        extension_indexes(&f.db).await,
        std::slice::from_ref(&badge.name)
    );
    f.badged(t, "ada", json!({"badge": "B1"})).await.unwrap();
    assert_err!(
        f.badged(t, "bob", json!({"badge": "B1"})).await,
        StoreError::ExtensionUnique { index } if *index == badge.name
    );
    // bob was not stored: his name is free
    f.badged(t, "bob", json!({"badge": "B2"})).await.unwrap();
    // within the tenant only, and only the attribute indexed
    f.badged(acme.id, "ada", json!({"badge": "B1"}))
        .await
        .unwrap();
    let cc = json!({"badge": "B3", "costCenter": "CC-1"});
    f.badged(t, "carol", cc.clone()).await.unwrap();
    let cc = json!({"badge": "B4", "costCenter": "CC-1"});
    f.badged(t, "dave", cc).await.unwrap();
}

async fn registering_over_repeated_values_fails_and_leaves_neither_row_nor_index(backend: Backend) {
    let f = Fixture::new(backend).await;
    let t = f.tenant.id;
    f.badged(t, "ada", json!({"badge": "B1", "costCenter": "CC-a"}))
        .await
        .unwrap();
    f.badged(t, "bob", json!({"badge": "B1", "costCenter": "CC-b"}))
        .await
        .unwrap();
    // costCenter's index is built first, then badge's finds B1 twice
    let (cc, badge) = (index(BADGE, "costCenter"), index(BADGE, "badge"));
    let unique = [cc, badge.clone()];
    assert_err!(
        f.store.add_tenant_schema(t, BADGE, &schema(BADGE, 0), &unique).await,
        StoreError::ExtensionUnique { index } if *index == badge.name
    );
    assert_eq!(f.store.tenant_schemas(t).await.unwrap(), []);
    assert_eq!(f.store.building_schema(t, BADGE).await.unwrap(), None);
    assert_eq!(schema_rows(&f.db).await, []);
    assert_eq!(extension_indexes(&f.db).await, Vec::<String>::new());
    assert_eq!(f.schemas_version("default").await, 0);
    // no index is left to refuse a repeated cost center
    f.badged(t, "carol", json!({"badge": "B2", "costCenter": "CC-a"}))
        .await
        .unwrap();
}

async fn a_urn_the_tenant_has_served_or_building_is_refused(backend: Backend) {
    let f = Fixture::new(backend).await;
    let acme = f.store.create_tenant("acme").await.unwrap();
    let t = f.tenant.id;
    let upper = BADGE.to_uppercase();
    f.store
        .add_tenant_schema(t, BADGE, &schema(BADGE, 0), &[])
        .await
        .unwrap();
    assert_err!(
        f.store.add_tenant_schema(t, &upper, &schema(&upper, 1), &[]).await,
        StoreError::SchemaExists { urn, ready: true } if *urn == upper
    );
    // what an interrupted registration leaves
    let building = "update tenant_schemas set state = 'building'".to_owned();
    execute_sql(&f.db, &[building]).await;
    assert_eq!(f.store.tenant_schemas(t).await.unwrap(), []);
    let found = f.store.building_schema(t, &upper).await.unwrap();
    assert_eq!(found, Some(schema(BADGE, 0)));
    assert_err!(
        f.store.add_tenant_schema(t, BADGE, &schema(BADGE, 2), &[]).await,
        StoreError::SchemaExists { urn, ready: false } if urn == BADGE
    );
    assert_eq!(
        schema_rows(&f.db).await,
        [(BADGE.to_owned(), "building".to_owned())]
    );
    assert_eq!(f.schemas_version("default").await, 1);
    // another tenant's URNs are its own
    f.store
        .add_tenant_schema(acme.id, BADGE, &schema(BADGE, 3), &[])
        .await
        .unwrap();
    // removing the 'building' row clears the way
    assert!(f.store.remove_tenant_schema(t, &upper, &[]).await.unwrap());
    assert_eq!(f.store.building_schema(t, BADGE).await.unwrap(), None);
    f.store
        .add_tenant_schema(t, BADGE, &schema(BADGE, 4), &[])
        .await
        .unwrap();
    assert_eq!(f.store.tenant_schemas(t).await.unwrap(), [schema(BADGE, 4)]);
    assert_eq!(f.schemas_version("default").await, 3);
}

async fn a_removed_schema_takes_its_indexes_and_bumps_the_schema_version(backend: Backend) {
    let f = Fixture::new(backend).await;
    let acme = f.store.create_tenant("acme").await.unwrap();
    let t = f.tenant.id;
    let (mine, theirs) = (index(BADGE, "badge"), index(BADGE, "badge"));
    let (mine, theirs) = (std::slice::from_ref(&mine), std::slice::from_ref(&theirs));
    f.store
        .add_tenant_schema(t, BADGE, &schema(BADGE, 0), mine)
        .await
        .unwrap();
    f.store
        .add_tenant_schema(acme.id, BADGE, &schema(BADGE, 0), theirs)
        .await
        .unwrap();
    f.store
        .add_tenant_schema(t, DESK, &schema(DESK, 1), &[])
        .await
        .unwrap();
    f.badged(t, "ada", json!({"badge": "B1"})).await.unwrap();
    let upper = BADGE.to_uppercase();
    assert!(f.store.remove_tenant_schema(t, &upper, mine).await.unwrap());
    assert_eq!(f.store.tenant_schemas(t).await.unwrap(), [schema(DESK, 1)]);
    assert_eq!(extension_indexes(&f.db).await, [theirs[0].name.clone()]);
    assert_eq!(f.schemas_version("default").await, 3);
    // the values may repeat now; the other tenant's index still holds
    f.badged(t, "bob", json!({"badge": "B1"})).await.unwrap();
    f.badged(acme.id, "ada", json!({"badge": "B1"}))
        .await
        .unwrap();
    assert_err!(
        f.badged(acme.id, "bob", json!({"badge": "B1"})).await,
        StoreError::ExtensionUnique { index } if *index == theirs[0].name
    );
    // removing it again finds nothing, and changes nothing
    assert!(!f.store.remove_tenant_schema(t, BADGE, mine).await.unwrap());
    assert_eq!(f.schemas_version("default").await, 3);
    assert_eq!(
        f.store.tenant_schemas(acme.id).await.unwrap(),
        [schema(BADGE, 0)]
    );
}

/// Registrations of one URN at once (two operators, or a retried command): exactly one
/// registers it, the others find it there.
async fn registrations_of_one_urn_at_once_register_it_once(backend: Backend) {
    let f = Fixture::new(backend).await;
    let t = f.tenant.id;
    let badge = index(BADGE, "badge");
    let added = all_at_once(4, |i| {
        let (store, badge) = (f.store.clone(), badge.clone());
        let seconds = i64::try_from(i).unwrap();
        async move {
            let unique = std::slice::from_ref(&badge);
            store
                .add_tenant_schema(t, BADGE, &schema(BADGE, seconds), unique)
                .await
        }
    })
    .await;
    let winners: Vec<usize> = (0..4).filter(|i| added[*i].is_ok()).collect();
    assert_eq!(winners.len(), 1, "{added:?}");
    for (i, result) in added.iter().enumerate() {
        if i != winners[0] {
            assert!(
                matches!(result, Err(StoreError::SchemaExists { urn, .. }) if urn == BADGE),
                "{result:?}"
            );
        }
    }
    let winner = i64::try_from(winners[0]).unwrap();
    assert_eq!(
        f.store.tenant_schemas(t).await.unwrap(),
        [schema(BADGE, winner)]
    );
    assert_eq!(extension_indexes(&f.db).await, [badge.name]);
    assert_eq!(f.schemas_version("default").await, 1);
}

async fn the_rule_for_unknown_attributes_is_the_tenants(backend: Backend) {
    let f = Fixture::new(backend).await;
    let acme = f.store.create_tenant("acme").await.unwrap();
    let before = f.store.tenant("default").await.unwrap();
    assert_eq!(before.policy.unknown_attributes, UnknownAttributes::Ignore);
    f.store
        .set_unknown_attributes(f.tenant.id, UnknownAttributes::Reject)
        .await
        .unwrap();
    let mut rejecting = before.clone();
    rejecting.policy.unknown_attributes = UnknownAttributes::Reject;
    assert_eq!(f.store.tenant("default").await.unwrap(), rejecting);
    assert_eq!(f.store.tenant("acme").await.unwrap(), acme);
    f.store
        .set_unknown_attributes(f.tenant.id, UnknownAttributes::Ignore)
        .await
        .unwrap();
    assert_eq!(f.store.tenant("default").await.unwrap(), before);
}

crate::on_both_stores!(
    registered_schemas_are_served_oldest_first_and_bump_the_schema_version,
    a_unique_index_keeps_an_attribute_unique_within_the_tenant,
    registering_over_repeated_values_fails_and_leaves_neither_row_nor_index,
    a_urn_the_tenant_has_served_or_building_is_refused,
    a_removed_schema_takes_its_indexes_and_bumps_the_schema_version,
    registrations_of_one_urn_at_once_register_it_once,
    the_rule_for_unknown_attributes_is_the_tenants,
);
