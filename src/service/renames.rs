//! Entra's soft-delete rename, as an update of a user meets it: when the new document would
//! give `userName` (or `externalId`, when it is one of the tenant's matching attributes) the
//! object id's 32 hex digits followed by the value stored, the stored value is put back,
//! unless the tenant's rule is `apply`. Run inside the compare-and-swap loop of PUT and PATCH (`resources::rewrite`),
//! so that a retry against a newer state decides again.

use serde_json::Value;

use crate::domain::{MatchingAttribute, SoftDeleteRenames, Tenant};
use crate::scim::canonical::Document;
use crate::scim::rename::is_soft_delete_rename;
use crate::scim::schema::ResourceKind;

/// The attributes a soft-delete rename may touch under `tenant`'s rules, with whether their
/// values compare exactly: `userName`, and `externalId` when it is one of the tenant's matching
/// attributes, whatever its precedence (a work email sits inside a list, and is left as sent).
fn renameable(tenant: &Tenant) -> Vec<(&'static str, bool)> {
    let mut names = vec![("userName", MatchingAttribute::UserName.case_exact())];
    if tenant
        .policy
        .matching
        .contains(MatchingAttribute::ExternalId)
    {
        names.push(("externalId", MatchingAttribute::ExternalId.case_exact()));
    }
    names
}

/// Puts back into `doc`, the new document of an update of a user, the value `current` holds
/// for each attribute the update would give Entra's soft-delete rename of it; the names of
/// those kept, comma-separated (`None`: none was, or the tenant's rule applies renames).
pub(super) fn keep_stored(
    tenant: &Tenant,
    kind: ResourceKind,
    current: &Document,
    doc: &mut Document,
) -> Option<String> {
    if kind != ResourceKind::User || tenant.policy.soft_delete_renames == SoftDeleteRenames::Apply {
        return None;
    }
    let mut kept = Vec::new();
    for (name, case_exact) in renameable(tenant) {
        let (Some(stored), Some(sent)) = (
            current.get(name).and_then(Value::as_str),
            doc.get(name).and_then(Value::as_str),
        ) else {
            continue;
        };
        if is_soft_delete_rename(stored, sent, case_exact) {
            doc.insert(name.to_owned(), Value::String(stored.to_owned()));
            kept.push(name);
        }
    }
    (!kept.is_empty()).then(|| kept.join(", "))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::{Policy, Precedence, TenantId};

    fn tenant(matching: MatchingAttribute, rule: SoftDeleteRenames) -> Tenant {
        Tenant {
            id: TenantId(uuid::Uuid::nil()),
            name: "t".into(),
            policy: Policy {
                // externalId at precedence 2 is kept as at precedence 1
                matching: match matching {
                    MatchingAttribute::ExternalId => {
                        Precedence::new(&[MatchingAttribute::UserName, matching]).unwrap()
                    }
                    other => Precedence::single(other),
                },
                soft_delete_renames: rule,
                ..Policy::default()
            },
            created: chrono::Utc::now(),
        }
    }

    fn doc(v: Value) -> Document {
        v.as_object().cloned().unwrap_or_default()
    }

    const ID: &str = "283405F5A8C24D0E9A1B7C3D2E4F5A6B";

    #[test]
    fn the_stored_user_name_is_kept_and_the_rest_of_the_update_applied() {
        let t = tenant(MatchingAttribute::UserName, SoftDeleteRenames::Keep);
        let current =
            doc(json!({"userName": "ralf@contoso.com", "externalId": "e1", "active": true}));
        let mut new = doc(json!({"userName": format!("{ID}ralf@contoso.com"),
            "externalId": format!("{ID}e1"), "active": false}));
        let kept = keep_stored(&t, ResourceKind::User, &current, &mut new);
        assert_eq!(kept.as_deref(), Some("userName"));
        assert_eq!(
            new,
            doc(
                json!({"userName": "ralf@contoso.com", "externalId": format!("{ID}e1"),
                "active": false})
            )
        );
    }

    #[test]
    fn a_tenant_matching_on_external_id_at_any_precedence_keeps_it_too() {
        let t = tenant(MatchingAttribute::ExternalId, SoftDeleteRenames::Keep);
        let current = doc(json!({"userName": "ralf@contoso.com", "externalId": "Ab1"}));
        let mut new = doc(json!({"userName": format!("{ID}RALF@contoso.com"),
            "externalId": format!("{ID}Ab1")}));
        let kept = keep_stored(&t, ResourceKind::User, &current, &mut new);
        assert_eq!(kept.as_deref(), Some("userName, externalId"));
        assert_eq!(new, current);
        // externalId compares exactly
        let mut other_case = doc(json!({"userName": "ralf@contoso.com",
            "externalId": format!("{ID}ab1")}));
        assert_eq!(
            keep_stored(&t, ResourceKind::User, &current, &mut other_case),
            None
        );
        assert_eq!(other_case["externalId"], format!("{ID}ab1"));
    }

    #[test]
    fn the_rule_apply_groups_and_other_values_leave_the_update_as_sent() {
        let current = doc(json!({"userName": "ralf@contoso.com"}));
        let renamed = doc(json!({"userName": format!("{ID}ralf@contoso.com")}));
        let apply = tenant(MatchingAttribute::UserName, SoftDeleteRenames::Apply);
        let keep = tenant(MatchingAttribute::UserName, SoftDeleteRenames::Keep);
        let cases = [
            (&apply, ResourceKind::User, renamed.clone()),
            (&keep, ResourceKind::Group, renamed.clone()),
            (
                &keep,
                ResourceKind::User,
                doc(json!({"userName": "ralf2@contoso.com"})),
            ),
            (&keep, ResourceKind::User, doc(json!({"active": false}))),
            (&keep, ResourceKind::User, doc(json!({"userName": 7}))),
        ];
        for (t, kind, sent) in cases {
            let mut new = sent.clone();
            assert_eq!(keep_stored(t, kind, &current, &mut new), None, "{sent:?}");
            assert_eq!(new, sent);
        }
    }
}
