//! The caps on what a tenant registers: at most `MAX_UNIQUE_ATTRIBUTES` attributes with
//! uniqueness server or global over all its schemas (each is an index on the table every
//! tenant writes), and at most `MAX_SCHEMAS` schemas. A registration past either is refused
//! with 400 `invalidValue` naming the cap and what the tenant has, and registers nothing;
//! another tenant's schemas count for nothing.

use serde_json::{Value, json};

use scimd::scim::ScimType;
use scimd::scim::schema::ResourceKind;
use scimd::service::{MAX_SCHEMAS, MAX_UNIQUE_ATTRIBUTES};

use super::catalog::extension_indexes;
use super::{add, tenant_with_token};
use crate::support::{Backend, TestApp};

/// A User extension `urn:…:<name>:2.0:User` with `unique` unique strings and one plain one.
fn schema(name: &str, unique: usize) -> Value {
    let mut attributes: Vec<Value> = (0..unique)
        .map(|i| json!({"name": format!("key{i}"), "type": "string", "uniqueness": "server"}))
        .collect();
    attributes.push(json!({"name": "note", "type": "string"}));
    json!({
        "id": format!("urn:ietf:params:scim:schemas:extension:{name}:2.0:User"),
        "name": name,
        "attributes": attributes
    })
}

/// The refusal of registering `document` for `tenant`, which must be 400 `invalidValue`.
async fn invalid(app: &TestApp, tenant: &str, document: &Value) -> String {
    let dir = &app.state.directory;
    match dir.add_schema(tenant, ResourceKind::User, document).await {
        Ok(added) => panic!("{} was registered", added.schema.id),
        Err(scimd::service::Error::Scim(e)) => {
            assert_eq!((e.status, e.scim_type), (400, Some(ScimType::InvalidValue)));
            e.detail
        }
        Err(e) => panic!("not a SCIM error: {e}"),
    }
}

async fn a_tenant_keeps_at_most_five_attributes_unique_over_all_its_schemas(backend: Backend) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    assert_eq!(MAX_UNIQUE_ATTRIBUTES, 5);
    let over = |unique: usize, held: usize| {
        format!(
            "the schema has {unique} attribute(s) with uniqueness server or global and tenant \
             default has {held} already; a tenant may have at most 5 over all its schemas \
             (each is an index that every write of every tenant's users and groups evaluates)"
        )
    };
    assert_eq!(
        invalid(&app, "default", &schema("six", 6)).await,
        over(6, 0)
    );
    add(&app, "default", ResourceKind::User, &schema("three", 3)).await;
    assert_eq!(
        invalid(&app, "default", &schema("more", 3)).await,
        over(3, 3)
    );
    add(&app, "default", ResourceKind::User, &schema("two", 2)).await;
    assert_eq!(
        invalid(&app, "default", &schema("one", 1)).await,
        over(1, 5)
    );
    // a schema without a unique attribute adds no index
    add(&app, "default", ResourceKind::User, &schema("plain", 0)).await;

    let ids: Vec<String> = dir
        .schemas_of("default")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.schema.id)
        .collect();
    let urn = |name: &str| format!("urn:ietf:params:scim:schemas:extension:{name}:2.0:User");
    assert_eq!(ids, [urn("three"), urn("two"), urn("plain")]);
    assert_eq!(extension_indexes(&app.db).await.len(), 5);
    let served = app.get("/scim/v2/Schemas").await;
    assert_eq!(
        served.body["totalResults"], 6,
        "3 of scimd's and 3 of the tenant's"
    );

    // the cap is the tenant's own
    tenant_with_token(&app, "fabrikam").await;
    add(&app, "fabrikam", ResourceKind::User, &schema("five", 5)).await;
    assert_eq!(extension_indexes(&app.db).await.len(), 10);
}

async fn a_tenant_registers_at_most_twenty_schemas(backend: Backend) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    assert_eq!(MAX_SCHEMAS, 20);
    for i in 0..MAX_SCHEMAS {
        add(
            &app,
            "default",
            ResourceKind::User,
            &schema(&format!("s{i}"), 0),
        )
        .await;
    }
    assert_eq!(
        invalid(&app, "default", &schema("s20", 0)).await,
        "tenant default has 20 schemas already; a tenant may register at most 20"
    );
    assert_eq!(dir.schemas_of("default").await.unwrap().len(), 20);
    let served = app.get("/scim/v2/Schemas").await;
    assert_eq!(served.body["totalResults"], 23);

    // a schema removed makes room
    let first = "urn:ietf:params:scim:schemas:extension:s0:2.0:User";
    dir.remove_schema("default", first).await.unwrap();
    add(&app, "default", ResourceKind::User, &schema("s20", 0)).await;
    tenant_with_token(&app, "fabrikam").await;
    add(&app, "fabrikam", ResourceKind::User, &schema("s0", 0)).await;
}

crate::on_both_stores!(
    a_tenant_keeps_at_most_five_attributes_unique_over_all_its_schemas,
    a_tenant_registers_at_most_twenty_schemas,
);
