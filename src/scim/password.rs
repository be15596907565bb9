//! Whether a request sets a user's `password` (RFC 7643 §4.1.1: writeOnly, returned never).
//! Canonicalisation drops the value whatever the tenant's rule; these functions tell the
//! service that one was sent, so that a tenant that refuses passwords can say so. They read
//! names only, never the value.

use serde_json::{Map, Value};

use super::urn;

/// The attribute's name.
pub const PASSWORD: &str = "password";

/// Whether a User body (POST, PUT, or the value of a path-less PATCH operation) holds a
/// password: `password`, `urn:…:core:2.0:User:password`, or `password` inside the core
/// schema's URN; `null` is "not present" (RFC 7643 §2.5).
pub fn in_resource(body: &Value) -> bool {
    let Value::Object(members) = body else {
        return false;
    };
    members.iter().any(|(key, value)| {
        if value.is_null() {
            return false;
        }
        if key.eq_ignore_ascii_case(urn::USER) {
            return in_resource(value);
        }
        names_password(key)
    })
}

/// Whether a PatchOp body adds or replaces a password, by its path or in a path-less value.
pub fn in_patch(body: &Value) -> bool {
    let Some(Value::Array(operations)) = member(body, "Operations") else {
        return false;
    };
    operations.iter().any(|operation| {
        let Value::Object(operation) = operation else {
            return false;
        };
        let writes = op_field(operation, "op")
            .and_then(Value::as_str)
            .is_some_and(|op| op.eq_ignore_ascii_case("add") || op.eq_ignore_ascii_case("replace"));
        let value = op_field(operation, "value").unwrap_or(&Value::Null);
        let path = op_field(operation, "path")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default();
        writes
            && match path {
                "" => in_resource(value),
                p if p.eq_ignore_ascii_case(urn::USER) => in_resource(value),
                p => names_password(p) && !value.is_null(),
            }
    })
}

/// `password`, alone or qualified by the core User schema's URN, in any case.
fn names_password(name: &str) -> bool {
    let name = name.trim();
    let bare = match name.get(..urn::USER.len() + 1) {
        Some(prefix) if prefix.eq_ignore_ascii_case(&format!("{}:", urn::USER)) => {
            &name[urn::USER.len() + 1..]
        }
        _ => name,
    };
    bare.eq_ignore_ascii_case(PASSWORD)
}

fn member<'v>(body: &'v Value, name: &str) -> Option<&'v Value> {
    match body {
        Value::Object(members) => op_field(members, name),
        _ => None,
    }
}

fn op_field<'v>(members: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    members
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_resource_body_holds_a_password_by_any_of_its_names() {
        let user = "urn:ietf:params:scim:schemas:core:2.0:User";
        let cases = [
            (json!({"userName": "a", "password": "x"}), true),
            (json!({"userName": "a", "PASSWORD": "x"}), true),
            (json!({format!("{user}:password"): "x"}), true),
            (json!({user: {"password": "x"}}), true),
            (json!({"userName": "a", "password": null}), false),
            (json!({"userName": "a"}), false),
            (json!({"passwords": "x", "name": {"password": "x"}}), false),
            (json!(["password"]), false),
        ];
        for (body, expected) in cases {
            assert_eq!(in_resource(&body), expected, "{body}");
        }
    }

    #[test]
    fn a_patch_sets_a_password_by_its_path_or_in_a_pathless_value() {
        let op = |o: Value| json!({"schemas": [urn::PATCH_OP], "Operations": [o]});
        let cases = [
            (
                json!({"op": "replace", "path": "password", "value": "x"}),
                true,
            ),
            (
                json!({"op": "Add", "path": " Password ", "value": "x"}),
                true,
            ),
            (json!({"op": "replace", "value": {"password": "x"}}), true),
            (
                json!({"op": "replace", "path": "", "value": {"password": "x"}}),
                true,
            ),
            (
                json!({"op": "replace", "path": urn::USER, "value": {"password": "x"}}),
                true,
            ),
            (
                json!({"op": "replace", "path": format!("{}:password", urn::USER), "value": "x"}),
                true,
            ),
            (json!({"op": "remove", "path": "password"}), false),
            (
                json!({"op": "replace", "path": "password", "value": null}),
                false,
            ),
            (json!({"op": "replace", "value": {"active": false}}), false),
            (
                json!({"op": "replace", "path": "displayName", "value": "password"}),
                false,
            ),
        ];
        for (operation, expected) in cases {
            assert_eq!(in_patch(&op(operation.clone())), expected, "{operation}");
        }
        assert!(!in_patch(&json!({"Operations": "password"})));
    }
}
