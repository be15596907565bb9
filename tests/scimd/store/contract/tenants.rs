//! Tenants and their rules: unique names, `ensure_tenant`, lookups and the listing by name,
//! role rules, the password and soft-delete rename rules, and the matching attribute whose
//! values the store keeps unique.

use chrono::Utc;
use scimd::store::Content;
use serde_json::{Value, json};

use scimd::domain::{
    MatchingAttribute, MatchingConflict, Passwords, Policy, Precedence, SoftDeleteRenames, Tenant,
};
use scimd::scim::resource::{ResourceId, StoredResource, Version};
use scimd::store::{Missing, Resources, StoreError, Tenants, Unique};

use super::{Body, Fixture, all_at_once};
use crate::support::Backend;

impl Fixture {
    /// Creates a user as the service does under the tenant's matching attribute `matching`.
    async fn create_matched(
        &self,
        matching: impl Into<Precedence>,
        value: Value,
    ) -> Result<StoredResource, StoreError> {
        let body = Body::user(value);
        let write = Content {
            matching: matching.into(),
            ..body.write(ResourceId::random())
        };
        self.store.create(self.tenant.id, write.into()).await
    }

    /// The tenant `default` as stored now.
    async fn default_tenant(&self) -> Tenant {
        self.store.tenant("default").await.unwrap()
    }
}

async fn creating_a_tenant_twice_is_a_uniqueness_conflict(backend: Backend) {
    let f = Fixture::new(backend).await;
    let acme = f.store.create_tenant("acme").await.unwrap();
    assert_eq!(
        acme,
        Tenant {
            id: acme.id,
            name: "acme".into(),
            policy: Policy::default(),
            created: acme.created,
        }
    );
    assert!((Utc::now() - acme.created).num_seconds().abs() < 60);
    assert_ne!(acme.id, f.tenant.id);
    for name in ["acme", "default"] {
        assert_err!(
            f.store.create_tenant(name).await,
            StoreError::Uniqueness { rule: Unique::TenantName, value } if value == name
        );
    }
    assert_eq!(
        f.store.tenants().await.unwrap(),
        [acme.clone(), f.tenant.clone()]
    );
    assert_eq!(f.store.tenant("acme").await.unwrap(), acme);
}

async fn ensuring_a_tenant_is_idempotent(backend: Backend) {
    let f = Fixture::new(backend).await;
    assert_eq!(f.store.ensure_tenant("default").await.unwrap(), f.tenant);
    let first = f.store.ensure_tenant("acme").await.unwrap();
    let second = f.store.ensure_tenant("acme").await.unwrap();
    assert_eq!(first, second);
    assert_eq!(
        (first.name.as_str(), &first.policy),
        ("acme", &Policy::default())
    );
    // an existing tenant keeps its rules
    f.store
        .set_roles(first.id, Some(&["admin".to_owned()]), true)
        .await
        .unwrap();
    let ensured = f.store.ensure_tenant("acme").await.unwrap();
    assert_eq!(ensured, f.store.tenant("acme").await.unwrap());
    assert_eq!(ensured.id, first.id);
    assert!(ensured.policy.require_role);
    assert_eq!(f.store.tenants().await.unwrap().len(), 2);
}

/// Replicas starting at once each ensure the bootstrap tenant: they all get the same one.
async fn parallel_ensures_of_one_tenant_agree_on_it(backend: Backend) {
    let f = Fixture::new(backend).await;
    let ensured = all_at_once(8, |_| {
        let store = f.store.clone();
        async move { store.ensure_tenant("bootstrap").await.unwrap() }
    })
    .await;
    let tenant = f.store.tenant("bootstrap").await.unwrap();
    assert!(ensured.iter().all(|t| *t == tenant), "{ensured:?}");
    assert_eq!(f.store.tenants().await.unwrap(), [tenant, f.tenant.clone()]);
}

async fn an_unknown_tenant_is_not_found(backend: Backend) {
    let f = Fixture::new(backend).await;
    assert_err!(
        f.store.tenant("nobody").await,
        StoreError::NotFound(Missing::Tenant { name }) if name == "nobody"
    );
    // names are exact
    assert_err!(
        f.store.tenant("DEFAULT").await,
        StoreError::NotFound(Missing::Tenant { name }) if name == "DEFAULT"
    );
}

async fn tenants_are_listed_by_name(backend: Backend) {
    let f = Fixture::new(backend).await;
    let zeta = f.store.create_tenant("zeta").await.unwrap();
    let alpha = f.store.create_tenant("alpha").await.unwrap();
    let mid = f.store.ensure_tenant("mid").await.unwrap();
    assert_eq!(
        f.store.tenants().await.unwrap(),
        [alpha, f.tenant.clone(), mid, zeta]
    );
}

async fn role_rules_round_trip(backend: Backend) {
    let f = Fixture::new(backend).await;
    let other = f.store.create_tenant("other").await.unwrap();
    let roles = ["Admin".to_owned(), "User".to_owned()];
    let cases: [(Option<&[String]>, bool); 4] = [
        (Some(&roles), true),
        (Some(&[]), false),
        (None, true),
        (None, false),
    ];
    for (allowed, require) in cases {
        f.store
            .set_roles(f.tenant.id, allowed, require)
            .await
            .unwrap();
        let want = Tenant {
            policy: Policy {
                matching: Precedence::default(),
                allowed_roles: allowed.map(<[String]>::to_vec),
                require_role: require,
                entra_tenant: None,
                ..Default::default()
            },
            ..f.tenant.clone()
        };
        assert_eq!(f.default_tenant().await, want, "{allowed:?} {require}");
        assert_eq!(
            f.store.tenants().await.unwrap(),
            [want, other.clone()],
            "{allowed:?} {require}"
        );
    }
}

async fn a_matching_attribute_recomputes_the_keys_so_that_a_taken_value_conflicts(
    backend: Backend,
) {
    let f = Fixture::new(backend).await;
    use MatchingAttribute::{ExternalId, UserName, WorkEmail};
    // users written while userName is the matching attribute: no other key is kept
    for (name, external, email) in [
        ("alice", Some("E-1"), Some("Alice@Example.com")),
        ("bob", Some("E-2"), None),
        ("carol", None, Some("carol@example.com")),
        ("dave", None, None),
    ] {
        let mut v = json!({ "userName": name });
        if let Some(e) = external {
            v["externalId"] = json!(e);
        }
        if let Some(m) = email {
            // the type in any case, as the folded copy has it in lower case
            v["emails"] = json!([
                {"type": "home", "value": "home@example.com"},
                {"type": "Work", "value": m}
            ]);
        }
        f.create_matched(UserName, v).await.unwrap();
    }

    f.store
        .set_matching(f.tenant.id, Precedence::single(ExternalId))
        .await
        .unwrap();
    assert_eq!(
        f.default_tenant().await.policy.matching,
        Precedence::single(ExternalId)
    );
    assert_err!(
        f.create_matched(ExternalId, json!({"userName": "erin", "externalId": "E-1"}))
            .await,
        StoreError::Uniqueness { rule: Unique::Matching(ExternalId), value } if value == "E-1"
    );
    // groups have no matching key
    for name in ["g1", "g2"] {
        let g = Body::group(json!({"displayName": name, "externalId": "E-1"}));
        let write = Content {
            matching: Precedence::single(ExternalId),
            ..g.write(ResourceId::random())
        };
        f.store.create(f.tenant.id, write.into()).await.unwrap();
    }
    // externalId compares exactly; users without one share no value
    let erin = f
        .create_matched(ExternalId, json!({"userName": "erin", "externalId": "e-1"}))
        .await
        .unwrap();
    f.create_matched(ExternalId, json!({"userName": "frank"}))
        .await
        .unwrap();
    // a replace onto a taken value is refused and changes nothing
    let taken = Body::user(json!({"userName": "erin", "externalId": "E-2"}));
    assert_err!(
        f.store
            .replace(f.tenant.id, Content {
                    matching: Precedence::single(ExternalId),
                    ..taken.write(erin.id)
                }.into(), Version(1))
            .await,
        StoreError::Uniqueness { rule: Unique::Matching(ExternalId), value } if value == "E-2"
    );
    assert_eq!(f.get(&erin).await, erin);

    f.store
        .set_matching(f.tenant.id, Precedence::single(WorkEmail))
        .await
        .unwrap();
    assert_eq!(
        f.default_tenant().await.policy.matching,
        Precedence::single(WorkEmail)
    );
    // the work e-mail ignores case; the value is reported as sent
    assert_err!(
        f.create_matched(
            WorkEmail,
            json!({"userName": "gina", "emails": [{"type": "Work", "value": "ALICE@example.COM"}]})
        )
        .await,
        StoreError::Uniqueness { rule: Unique::Matching(WorkEmail), value }
            if value == "ALICE@example.COM"
    );
    // the old keys are gone: externalId values may repeat now
    f.create_matched(WorkEmail, json!({"userName": "hank", "externalId": "E-1"}))
        .await
        .unwrap();
    // a home e-mail is no work e-mail
    f.create_matched(
        WorkEmail,
        json!({"userName": "ivy", "emails": [{"type": "home", "value": "carol@example.com"}]}),
    )
    .await
    .unwrap();

    f.store
        .set_matching(f.tenant.id, Precedence::single(UserName))
        .await
        .unwrap();
    assert_eq!(
        f.default_tenant().await.policy.matching,
        Precedence::single(UserName)
    );
    f.create_matched(
        UserName,
        json!({"userName": "jack", "emails": [{"type": "work", "value": "alice@example.com"}]}),
    )
    .await
    .unwrap();
}

async fn two_matching_attributes_are_unique_at_once_and_a_list_is_set_whole_or_not_at_all(
    backend: Backend,
) {
    let f = Fixture::new(backend).await;
    use MatchingAttribute::{ExternalId, UserName, WorkEmail};
    let both = Precedence::new(&[ExternalId, WorkEmail]).unwrap();
    let user = |name: &str, external: &str, email: &str| {
        json!({"userName": name, "externalId": external,
            "emails": [{"type": "work", "value": email}]})
    };
    f.create_matched(UserName, user("alice", "E-1", "a@x.org"))
        .await
        .unwrap();
    f.create_matched(UserName, user("bob", "E-2", "A@X.org"))
        .await
        .unwrap();
    // the work email repeats: the list is refused naming it, and externalId is not kept
    assert_err!(
        f.store.set_matching(f.tenant.id, both).await,
        StoreError::MatchingConflicts { matching: WorkEmail, conflicts }
            if conflicts.len() == 1 && conflicts[0].user_names == ["alice", "bob"]
    );
    assert_eq!(f.default_tenant().await, f.tenant);
    f.create_matched(UserName, user("carol", "E-1", "c@x.org"))
        .await
        .unwrap();
    // without the work email, externalId repeats (carol's): refused too
    let external = Precedence::new(&[UserName, ExternalId]).unwrap();
    assert_err!(
        f.store.set_matching(f.tenant.id, external).await,
        StoreError::MatchingConflicts {
            matching: ExternalId,
            ..
        }
    );
    let f2 = Fixture::new(backend).await;
    f2.create_matched(UserName, user("alice", "E-1", "a@x.org"))
        .await
        .unwrap();
    f2.store.set_matching(f2.tenant.id, both).await.unwrap();
    assert_eq!(f2.default_tenant().await.policy.matching, both);
    // each attribute refuses its own duplicate, naming it
    assert_err!(
        f2.create_matched(both, user("bob", "E-1", "b@x.org")).await,
        StoreError::Uniqueness { rule: Unique::Matching(ExternalId), value } if value == "E-1"
    );
    assert_err!(
        f2.create_matched(both, user("bob", "E-2", "A@x.org")).await,
        StoreError::Uniqueness { rule: Unique::Matching(WorkEmail), value } if value == "A@x.org"
    );
    // a list without the work email frees it, keeping externalId unique
    let external_only = Precedence::new(&[ExternalId]).unwrap();
    f2.store
        .set_matching(f2.tenant.id, external_only)
        .await
        .unwrap();
    f2.create_matched(external_only, user("bob", "E-2", "A@x.org"))
        .await
        .unwrap();
    assert_err!(
        f2.create_matched(external_only, user("carl", "E-2", "c@x.org"))
            .await,
        StoreError::Uniqueness {
            rule: Unique::Matching(ExternalId),
            ..
        }
    );
}

async fn a_matching_attribute_that_users_share_is_refused_with_the_conflicts_and_changes_nothing(
    backend: Backend,
) {
    let f = Fixture::new(backend).await;
    use MatchingAttribute::{ExternalId, UserName, WorkEmail};
    for (name, external, email) in [
        ("Bob", Some("X"), Some("Shared@Example.com")),
        ("alice", Some("X"), Some("shared@example.COM")),
        ("dave", Some("Y"), None),
        ("carol", Some("Y"), Some("carol@example.com")),
        ("erin", Some("Z"), None),
        ("frank", Some("x"), None),
        ("gina", None, None),
        ("hank", None, None),
    ] {
        let mut v = json!({ "userName": name });
        if let Some(e) = external {
            v["externalId"] = json!(e);
        }
        if let Some(m) = email {
            v["emails"] = json!([{"type": "work", "value": m}]);
        }
        f.create_matched(UserName, v).await.unwrap();
    }
    let conflict = |value: &str, user_names: &[&str]| MatchingConflict {
        value: value.to_owned(),
        user_names: user_names.iter().map(|&n| n.to_owned()).collect(),
    };
    assert_err!(
        f.store.set_matching(f.tenant.id, Precedence::single(ExternalId)).await,
        StoreError::MatchingConflicts { matching: ExternalId, conflicts }
            if *conflicts == [conflict("X", &["alice", "Bob"]), conflict("Y", &["carol", "dave"])]
    );
    assert_err!(
        f.store.set_matching(f.tenant.id, Precedence::single(WorkEmail)).await,
        StoreError::MatchingConflicts { matching: WorkEmail, conflicts }
            if *conflicts == [conflict("shared@example.com", &["alice", "Bob"])]
    );
    // the rule stays, and no key was kept: erin's externalId is not taken
    assert_eq!(f.default_tenant().await, f.tenant);
    let erin_again = json!({"userName": "erin2", "externalId": "Z"});
    f.create_matched(ExternalId, erin_again).await.unwrap();
}

async fn an_entra_tenant_selects_one_tenant_and_is_kept_unique(backend: Backend) {
    let f = Fixture::new(backend).await;
    let other = f.store.create_tenant("other").await.unwrap();
    let entra = uuid::Uuid::new_v4();
    assert_eq!(f.store.tenant_by_entra(entra).await.unwrap(), None);
    f.store
        .set_entra_tenant(f.tenant.id, Some(entra))
        .await
        .unwrap();
    let found = f.store.tenant_by_entra(entra).await.unwrap().unwrap();
    assert_eq!(found.id, f.tenant.id);
    assert_eq!(found.policy.entra_tenant, Some(entra));
    assert_eq!(f.default_tenant().await.policy.entra_tenant, Some(entra));
    let taken = f
        .store
        .set_entra_tenant(other.id, Some(entra))
        .await
        .unwrap_err();
    assert!(
        matches!(&taken, StoreError::Uniqueness { rule: Unique::EntraTenant, value } if *value == entra.to_string()),
        "{taken:?}"
    );
    f.store.set_entra_tenant(f.tenant.id, None).await.unwrap();
    assert_eq!(f.store.tenant_by_entra(entra).await.unwrap(), None);
    f.store
        .set_entra_tenant(other.id, Some(entra))
        .await
        .unwrap();
    assert_eq!(
        f.store.tenant_by_entra(entra).await.unwrap().unwrap().id,
        other.id
    );
}

async fn a_new_tenant_refuses_passwords_until_its_rule_says_ignore(backend: Backend) {
    let f = Fixture::new(backend).await;
    let acme = f.store.create_tenant("acme").await.unwrap();
    assert_eq!(acme.policy.passwords, Passwords::Reject);
    let before = f.default_tenant().await;
    assert_eq!(before.policy.passwords, Passwords::Reject);
    f.store
        .set_passwords(f.tenant.id, Passwords::Ignore)
        .await
        .unwrap();
    let mut ignoring = before.clone();
    ignoring.policy.passwords = Passwords::Ignore;
    assert_eq!(f.default_tenant().await, ignoring);
    assert_eq!(f.store.tenant("acme").await.unwrap(), acme);
    f.store
        .set_passwords(f.tenant.id, Passwords::Reject)
        .await
        .unwrap();
    assert_eq!(f.default_tenant().await, before);
}

async fn a_new_tenant_keeps_names_against_soft_delete_renames_until_its_rule_says_apply(
    backend: Backend,
) {
    let f = Fixture::new(backend).await;
    let acme = f.store.create_tenant("acme").await.unwrap();
    assert_eq!(acme.policy.soft_delete_renames, SoftDeleteRenames::Keep);
    let before = f.default_tenant().await;
    assert_eq!(before.policy.soft_delete_renames, SoftDeleteRenames::Keep);
    f.store
        .set_soft_delete_renames(f.tenant.id, SoftDeleteRenames::Apply)
        .await
        .unwrap();
    let mut applying = before.clone();
    applying.policy.soft_delete_renames = SoftDeleteRenames::Apply;
    assert_eq!(f.default_tenant().await, applying);
    assert_eq!(f.store.tenant("acme").await.unwrap(), acme);
    f.store
        .set_soft_delete_renames(f.tenant.id, SoftDeleteRenames::Keep)
        .await
        .unwrap();
    assert_eq!(f.default_tenant().await, before);
}

crate::on_both_stores!(
    a_new_tenant_keeps_names_against_soft_delete_renames_until_its_rule_says_apply,
    an_entra_tenant_selects_one_tenant_and_is_kept_unique,
    creating_a_tenant_twice_is_a_uniqueness_conflict,
    ensuring_a_tenant_is_idempotent,
    parallel_ensures_of_one_tenant_agree_on_it,
    an_unknown_tenant_is_not_found,
    tenants_are_listed_by_name,
    role_rules_round_trip,
    a_matching_attribute_recomputes_the_keys_so_that_a_taken_value_conflicts,
    a_matching_attribute_that_users_share_is_refused_with_the_conflicts_and_changes_nothing,
    two_matching_attributes_are_unique_at_once_and_a_list_is_set_whole_or_not_at_all,
    a_new_tenant_refuses_passwords_until_its_rule_says_ignore,
);
