//! Tests of an `id` in a path-less value: the resource's own is accepted and changes nothing
//! (Okta's Group Push rename), another is a read-only attribute.

use serde_json::json;

use super::{barbara, patch};
use crate::scim::error::ScimType;
use crate::scim::resource::ResourceId;

/// The id of the resource the tests patch.
pub(in crate::scim::patch) const ID: ResourceId = ResourceId(uuid::Uuid::from_u128(
    0x2819c223_7f76_453a_919d_413861904646,
));

#[test]
fn a_pathless_value_holding_the_resources_own_id_changes_only_the_other_attributes() {
    let before = barbara();
    let own = ID.to_string();
    for sent in [
        json!(own),
        json!(own.to_uppercase()),
        json!(format!(" {own} ")),
        json!(null),
    ] {
        let after = patch(
            &before,
            json!([{"op": "replace", "value": {"id": sent, "displayName": "Babs"}}]),
        )
        .unwrap();
        let mut expected = serde_json::to_value(&before).unwrap();
        expected["displayName"] = json!("Babs");
        assert_eq!(after, expected, "{sent}");
        assert!(after.get("id").is_none());
    }
}

#[test]
fn a_pathless_value_holding_another_id_is_a_mutability_error() {
    let other = "6f4d0a2e-0b6b-4b8e-9d6c-0c9c1d2e3f40";
    for sent in [json!(other), json!("not-a-uuid"), json!(7)] {
        let err = patch(
            &barbara(),
            json!([{"op": "replace", "value": {"id": sent, "displayName": "Babs"}}]),
        )
        .unwrap_err();
        assert_eq!(err.status, 400, "{sent}");
        assert_eq!(err.scim_type, Some(ScimType::Mutability), "{sent}");
        assert!(err.detail.contains("'id' is read-only"), "{}", err.detail);
        assert_eq!(err.attribute(), Some("id"));
    }
}
