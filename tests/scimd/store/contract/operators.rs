//! The application's API in the store: operator keys (unique names in any case, found by hash
//! and marked used at most once a minute, removed by id or name with their answers), the
//! answers of Idempotency-Key writes (placeholder, settle, forget), the audit trail (newest
//! first, by tenant, pruned in batches), and the tenants' page and deletion.

use chrono::TimeDelta;
use uuid::Uuid;

use scimd::domain::audit::{Actor, ActorKind, AuditEntry, AuditFilter};
use scimd::domain::operator::Remembered;
use scimd::service::hash_token;
use scimd::store::{Missing, OperatorStore, Resources, StoreError, Tenants, Tokens, Unique};

use super::{Fixture, all_at_once, at, user};
use crate::support::Backend;

crate::on_both_stores!(
    a_key_name_is_unique_in_any_case_and_keys_are_listed_by_name,
    a_key_is_found_by_its_hash_and_marked_used_at_most_once_a_minute,
    a_key_is_removed_by_id_or_name_with_its_remembered_answers,
    an_answer_is_remembered_once_settled_and_forgotten,
    the_audit_trail_is_read_newest_first_by_tenant_and_pruned_in_batches,
    tenants_are_paged_by_name_in_code_point_order_with_a_prefix,
    deleting_a_tenant_removes_all_of_it_and_nothing_of_another,
);

async fn a_key_name_is_unique_in_any_case_and_keys_are_listed_by_name(backend: Backend) {
    let f = Fixture::new(backend).await;
    let zed = f
        .store
        .add_operator_key("zed", false, &hash_token("k1"), at(0))
        .await
        .unwrap();
    assert_eq!(
        (zed.name.as_str(), zed.read_only, zed.created, zed.last_used),
        ("zed", false, at(0), None)
    );
    let alpha = f
        .store
        .add_operator_key("Alpha", true, &hash_token("k2"), at(1))
        .await
        .unwrap();
    assert!(alpha.read_only);
    for name in ["ZED", "alpha"] {
        let taken = f
            .store
            .add_operator_key(name, false, &hash_token(name), at(2))
            .await;
        assert_err!(taken, StoreError::Uniqueness { rule: Unique::OperatorKeyName, value } if value == name);
    }
    let names: Vec<String> = f
        .store
        .operator_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.name)
        .collect();
    assert_eq!(names, ["Alpha", "zed"]);
    // at once, one name: one key
    let store = f.store.clone();
    let results = all_at_once(6, move |i| {
        let store = store.clone();
        async move {
            store
                .add_operator_key("racer", false, &hash_token(&format!("r{i}")), at(3))
                .await
        }
    })
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
}

async fn a_key_is_found_by_its_hash_and_marked_used_at_most_once_a_minute(backend: Backend) {
    let f = Fixture::new(backend).await;
    let key = f
        .store
        .add_operator_key("backend", false, &hash_token("secret"), at(0))
        .await
        .unwrap();
    let (found, stored) = f
        .store
        .operator_key(&hash_token("secret"), at(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, hash_token("secret").to_vec());
    assert_eq!((found.id, found.last_used), (key.id, Some(at(10))));
    // within the minute: not written again
    let again = f
        .store
        .operator_key(&hash_token("secret"), at(40))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.0.last_used, Some(at(10)));
    let listed = f.store.operator_keys().await.unwrap();
    assert_eq!(listed[0].last_used, Some(at(10)));
    let later = f
        .store
        .operator_key(&hash_token("secret"), at(71))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(later.0.last_used, Some(at(71)));
    assert_eq!(
        f.store.operator_keys().await.unwrap()[0].last_used,
        Some(at(71))
    );
    assert_eq!(
        f.store
            .operator_key(&hash_token("other"), at(80))
            .await
            .unwrap(),
        None
    );
    // a tenant's token hash is not an operator key, nor the other way round
    f.store
        .put_token(f.tenant.id, None, &hash_token("scim"))
        .await
        .unwrap();
    assert_eq!(
        f.store
            .operator_key(&hash_token("scim"), at(90))
            .await
            .unwrap(),
        None
    );
    assert!(
        f.store
            .token_tenant(&hash_token("secret"))
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_key_is_removed_by_id_or_name_with_its_remembered_answers(backend: Backend) {
    let f = Fixture::new(backend).await;
    let one = f
        .store
        .add_operator_key("one", false, &hash_token("1"), at(0))
        .await
        .unwrap();
    f.store
        .add_operator_key("two", false, &hash_token("2"), at(0))
        .await
        .unwrap();
    let answer = remembered(201, at(1));
    assert!(f.store.remember(one.id, "k", &answer).await.unwrap());
    // looked up once, so that a cache would hold it
    assert!(
        f.store
            .operator_key(&hash_token("1"), at(2))
            .await
            .unwrap()
            .is_some()
    );
    let removed = f
        .store
        .remove_operator_key(&one.id.to_string())
        .await
        .unwrap();
    assert_eq!(removed.id, one.id);
    assert_eq!(
        f.store.operator_key(&hash_token("1"), at(3)).await.unwrap(),
        None
    );
    assert_eq!(f.store.remembered(one.id, "k").await.unwrap(), None);
    let by_name = f.store.remove_operator_key("TWO").await.unwrap();
    assert_eq!(by_name.name, "two");
    for gone in ["two", "one", &Uuid::new_v4().to_string()] {
        assert_err!(
            f.store.remove_operator_key(gone).await,
            StoreError::NotFound(Missing::OperatorKey { key }) if key == gone
        );
    }
    assert!(f.store.operator_keys().await.unwrap().is_empty());
}

/// An answer of `status` made at `created`.
fn remembered(status: u16, created: chrono::DateTime<chrono::Utc>) -> Remembered {
    Remembered {
        request_hash: vec![7; 32],
        status,
        body: if status == 0 {
            String::new()
        } else {
            r#"{"ok":true}"#.into()
        },
        withheld: false,
        created,
    }
}

async fn an_answer_is_remembered_once_settled_and_forgotten(backend: Backend) {
    let f = Fixture::new(backend).await;
    let key = f
        .store
        .add_operator_key("k", false, &hash_token("k"), at(0))
        .await
        .unwrap()
        .id;
    let placeholder = remembered(0, at(1));
    assert!(f.store.remember(key, "a", &placeholder).await.unwrap());
    // a concurrent retry finds the placeholder kept
    assert!(
        !f.store
            .remember(key, "a", &remembered(0, at(2)))
            .await
            .unwrap()
    );
    assert_eq!(
        f.store.remembered(key, "a").await.unwrap(),
        Some(placeholder.clone())
    );
    let settled = Remembered {
        status: 201,
        body: r#"{"id":"x"}"#.into(),
        withheld: true,
        ..placeholder.clone()
    };
    f.store.settle(key, "a", &settled).await.unwrap();
    assert_eq!(
        f.store.remembered(key, "a").await.unwrap(),
        Some(settled.clone())
    );
    // settled once: a second settle changes nothing
    f.store
        .settle(key, "a", &remembered(500, at(3)))
        .await
        .unwrap();
    assert_eq!(f.store.remembered(key, "a").await.unwrap(), Some(settled));
    assert!(
        f.store
            .remember(key, "b", &remembered(0, at(100)))
            .await
            .unwrap()
    );
    f.store.forget_answer(key, "b").await.unwrap();
    assert_eq!(f.store.remembered(key, "b").await.unwrap(), None);
    assert!(
        f.store
            .remember(key, "c", &remembered(204, at(100)))
            .await
            .unwrap()
    );
    assert_eq!(f.store.forget_answers(at(50)).await.unwrap(), 1);
    assert_eq!(f.store.remembered(key, "a").await.unwrap(), None);
    assert!(f.store.remembered(key, "c").await.unwrap().is_some());
    // at once, one key: one placeholder
    let store = f.store.clone();
    let won = all_at_once(6, move |_| {
        let store = store.clone();
        async move {
            store
                .remember(key, "race", &remembered(0, at(5)))
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(won.iter().filter(|w| **w).count(), 1);
}

/// An entry of `action` for `tenant` at `at`.
fn entry(action: &str, tenant: Option<&str>, seconds: i64) -> AuditEntry {
    AuditEntry {
        seq: 0,
        id: Uuid::new_v4(),
        at: at(seconds),
        actor: Actor {
            kind: ActorKind::OperatorKey,
            name: "backend".into(),
            address: Some("10.0.0.7".into()),
        },
        action: action.into(),
        tenant: tenant.map(str::to_owned),
        target: Some("target".into()),
        detail: Some("detail".into()),
    }
}

async fn the_audit_trail_is_read_newest_first_by_tenant_and_pruned_in_batches(backend: Backend) {
    let f = Fixture::new(backend).await;
    let mut written = Vec::new();
    for (i, tenant) in [Some("a"), Some("b"), None, Some("a"), Some("a")]
        .iter()
        .enumerate()
    {
        // the same second for several: the order written is kept
        let e = entry(
            &format!("action.{i}"),
            *tenant,
            i64::try_from(i / 2).unwrap(),
        );
        f.store.record_audit(&e).await.unwrap();
        written.push(e);
    }
    let all = f
        .store
        .audit(&AuditFilter {
            tenant: None,
            before: None,
            limit: 10,
        })
        .await
        .unwrap();
    let actions: Vec<&str> = all.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["action.4", "action.3", "action.2", "action.1", "action.0"]
    );
    for (read, made) in all.iter().rev().zip(&written) {
        assert_eq!(
            AuditEntry {
                seq: 0,
                ..read.clone()
            },
            *made
        );
    }
    assert!(all.windows(2).all(|w| w[0].seq > w[1].seq));
    let a = f
        .store
        .audit(&AuditFilter {
            tenant: Some("a".into()),
            before: Some(all[0].seq),
            limit: 1,
        })
        .await
        .unwrap();
    assert_eq!(
        a.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["action.3"]
    );
    assert_eq!(f.store.prune_audit(at(2), 1).await.unwrap(), 1);
    assert_eq!(f.store.prune_audit(at(2), 10).await.unwrap(), 3);
    let left = f
        .store
        .audit(&AuditFilter {
            tenant: None,
            before: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(
        left.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["action.4"]
    );
}

async fn tenants_are_paged_by_name_in_code_point_order_with_a_prefix(backend: Backend) {
    let f = Fixture::new(backend).await;
    // tenants made before names were DNS labels keep their names: upper case sorts first
    for name in ["acme", "Acme", "acme-eu", "b", "a_c", "acme%"] {
        f.store.create_tenant(name).await.unwrap();
    }
    let page = |prefix: Option<&'static str>, after: Option<&'static str>, limit| {
        let store = f.store.clone();
        async move {
            store
                .tenant_page(prefix, after, limit)
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        page(None, None, 10).await,
        ["Acme", "a_c", "acme", "acme%", "acme-eu", "b", "default"]
    );
    assert_eq!(page(None, Some("acme"), 2).await, ["acme%", "acme-eu"]);
    assert_eq!(
        page(Some("acme"), None, 10).await,
        ["acme", "acme%", "acme-eu"]
    );
    // the prefix is text, never a pattern
    assert_eq!(page(Some("a_"), None, 10).await, ["a_c"]);
    assert_eq!(page(Some("acme%"), None, 10).await, ["acme%"]);
    assert!(page(Some("zz"), None, 10).await.is_empty());
    let created = f.store.tenant("acme").await.unwrap().created;
    assert!((chrono::Utc::now() - created).abs() < TimeDelta::minutes(1));
}

async fn deleting_a_tenant_removes_all_of_it_and_nothing_of_another(backend: Backend) {
    let f = Fixture::new(backend).await;
    let doomed = f.store.create_tenant("doomed").await.unwrap();
    f.store
        .put_token(doomed.id, None, &hash_token("doomed-token"))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for name in ["a", "b", "c", "d", "e"] {
        let created = f
            .store
            .create(
                doomed.id,
                user(name)
                    .write(scimd::scim::resource::ResourceId::random())
                    .into(),
            )
            .await
            .unwrap();
        ids.push(created.id);
    }
    let kept = f.create(&user("kept")).await;
    f.store
        .put_token(f.tenant.id, None, &hash_token("kept-token"))
        .await
        .unwrap();
    // batches smaller than the tenant: several statements
    f.store.delete_tenant(doomed.id, 2).await.unwrap();
    assert_err!(
        f.store.tenant("doomed").await,
        StoreError::NotFound(Missing::Tenant { name }) if name == "doomed"
    );
    for id in ids {
        assert!(
            f.store
                .get(doomed.id, scimd::scim::schema::ResourceKind::User, id)
                .await
                .is_err()
        );
    }
    assert!(
        f.store
            .token_tenant(&hash_token("doomed-token"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(f.get(&kept).await.id, kept.id);
    assert!(
        f.store
            .token_tenant(&hash_token("kept-token"))
            .await
            .unwrap()
            .is_some()
    );
    // the name is free again
    f.store.create_tenant("doomed").await.unwrap();
}
