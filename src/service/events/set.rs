//! Security Event Tokens (RFC 8417) of SCIM events (RFC 9967): the claims of one event for
//! one subscription, signed with HS256 and the subscription's secret.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::events::{Event, Kinds, Receiver};
use crate::domain::retained::{RESTORED, retained_until_of};
use crate::scim::projection::Projection;
use crate::scim::render::{render, timestamp};
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::{Registry, ResourceKind};

use crate::scim::urn::{EVENT_PROV as PROV, EVENT_TEST as TEST_EVENT};
/// The media type of a SET (RFC 8417 §2.3), its JOSE `typ` and the push request's body type.
pub const MEDIA_TYPE: &str = "application/secevent+jwt";

/// Where SETs say they come from: `iss`, and the SCIM base URL `data` locations are under.
#[derive(Debug, Clone)]
pub struct Issuer {
    pub iss: String,
    pub scim_base: String,
}

/// The `jti` of `event` for `subscription`: the same on every retry (receivers dedupe on it),
/// different per subscription (RFC 9967 §2.2: one `txn`, a `jti` per SET).
pub fn jti(event: Uuid, subscription: Uuid) -> String {
    let digest = Sha256::new()
        .chain_update(event.as_bytes())
        .chain_update(subscription.as_bytes())
        .finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The claims of `event` as `receiver` gets it: only the kinds it wants; `full` events carry
/// the resource when the outbox kept it, `notice` events the attribute names.
pub fn claims(issuer: &Issuer, registry: &Registry, event: &Event, receiver: &Receiver) -> Value {
    let kinds = event.kinds.and(receiver.kinds);
    let version = event.version.map(|v| Version(v).etag());
    let data = event
        .data
        .as_ref()
        .filter(|_| receiver.full)
        .and_then(|doc| rendered(issuer, registry, event, doc));
    let mut events = Map::new();
    for (kind, name) in Kinds::EACH {
        if !kinds.contains(kind) {
            continue;
        }
        let payload = if kind == Kinds::CREATE || kind == Kinds::PATCH || kind == Kinds::PUT {
            let mut payload = Map::new();
            let uri = match &data {
                Some(data) => {
                    payload.insert("data".into(), data.clone());
                    format!("{PROV}:{name}:full")
                }
                None => {
                    payload.insert("attributes".into(), json!(event.attributes));
                    format!("{PROV}:{name}:notice")
                }
            };
            if let Some(version) = &version {
                payload.insert("version".into(), json!(version));
            }
            if kind == Kinds::CREATE && event.lifecycle.as_deref() == Some(RESTORED) {
                // a retained user back with its id: a create to the receiver, said so
                payload.insert("restored".into(), json!(true));
            }
            (uri, Value::Object(payload))
        } else if kind == Kinds::DELETE {
            // a delete under `retain` says until when the user can be restored
            let until = event.lifecycle.as_deref().and_then(retained_until_of);
            let payload = match until {
                Some(until) => json!({"retainedUntil": timestamp(until)}),
                None => json!({}),
            };
            (format!("{PROV}:{name}"), payload)
        } else {
            (format!("{PROV}:{name}"), json!({}))
        };
        events.insert(payload.0, payload.1);
    }
    let endpoint = if event.resource_type == "Group" {
        "Groups"
    } else {
        "Users"
    };
    let mut sub_id = json!({
        "format": "scim",
        "uri": format!("/{endpoint}/{}", event.resource_id),
        "id": event.resource_id.to_string(),
    });
    if let (Some(external), Some(o)) = (&event.external_id, sub_id.as_object_mut()) {
        o.insert("externalId".into(), json!(external));
    }
    json!({
        "iss": issuer.iss,
        "aud": receiver.url,
        "iat": event.at.timestamp(),
        // the time of the change to the millisecond: a NumericDate may have a fraction
        // (RFC 7519 §2), and receivers order and measure by it
        "toe": event.at.timestamp_millis() as f64 / 1000.0,
        "jti": jti(event.id, receiver.id),
        "txn": event.txn,
        "sub_id": sub_id,
        "events": events,
    })
}

/// The claims of a test event for `receiver`, sent at `at`.
pub fn test_claims(issuer: &Issuer, receiver: &Receiver, at: DateTime<Utc>) -> Value {
    let id = Uuid::new_v4();
    json!({
        "iss": issuer.iss,
        "aud": receiver.url,
        "iat": at.timestamp(),
        "jti": jti(id, receiver.id),
        "txn": id.to_string(),
        "sub_id": {"format": "scim", "uri": "/ServiceProviderConfig"},
        "events": {TEST_EVENT: {"description": "a test event sent by `scimd webhook test`"}},
    })
}

/// The stored document as a SCIM response would show it, `meta` without `created` (the
/// outbox does not keep it); a group's `members` are not part of it.
fn rendered(issuer: &Issuer, registry: &Registry, event: &Event, doc: &Value) -> Option<Value> {
    let kind = if event.resource_type == "Group" {
        ResourceKind::Group
    } else {
        ResourceKind::User
    };
    let rt = registry.resource_type(kind)?;
    let resource = StoredResource {
        kind,
        id: ResourceId(event.resource_id),
        version: Version(event.version?),
        created: event.at,
        last_modified: event.at,
        doc: doc.as_object()?.clone(),
    };
    let mut out = render(
        rt,
        registry.common(),
        &resource,
        &issuer.scim_base,
        &Projection::default(),
    );
    if let Some(meta) = out.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("created");
        meta.insert("lastModified".into(), json!(timestamp(event.at)));
    }
    Some(out)
}

/// `claims` signed as a SET: HS256 with `secret`, `typ` `secevent+jwt`, `kid` the
/// subscription's id.
pub fn sign(claims: &Value, subscription: Uuid, secret: &str) -> Result<String, String> {
    sign_with_kid(claims, &subscription.to_string(), secret)
}

/// `claims` signed as a SET: HS256 with `secret`, `typ` `secevent+jwt`, `kid` as given (the
/// operator webhook's SETs name no subscription).
pub fn sign_with_kid(claims: &Value, kid: &str, secret: &str) -> Result<String, String> {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("secevent+jwt".to_owned());
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| format!("cannot sign the event: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TenantId;

    fn event(kinds: Kinds, data: Option<Value>) -> Event {
        Event {
            seq: 7,
            id: Uuid::nil(),
            tenant: TenantId(Uuid::nil()),
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            txn: "req-1".into(),
            resource_type: "User".into(),
            resource_id: Uuid::from_u128(1),
            kinds,
            attributes: vec!["active".into()],
            version: Some(3),
            external_id: Some("alice".into()),
            data,
            lifecycle: None,
        }
    }

    fn receiver(kinds: Kinds, full: bool) -> Receiver {
        Receiver {
            id: Uuid::from_u128(2),
            tenant: TenantId(Uuid::nil()),
            url: "https://app.example/events".into(),
            kinds,
            full,
            secret: "s3cret".into(),
            pull: false,
            acknowledged: 0,
        }
    }

    fn issuer() -> Issuer {
        Issuer {
            iss: "https://scim.example".into(),
            scim_base: "https://scim.example/scim/v2".into(),
        }
    }

    #[test]
    fn a_deactivating_patch_is_one_set_with_the_patch_notice_and_the_deactivate_event() {
        let registry = Registry::new().expect("registry");
        let e = event(Kinds::PATCH.with(Kinds::DEACTIVATE), None);
        let c = claims(&issuer(), &registry, &e, &receiver(Kinds::ALL, false));
        assert_eq!(
            c,
            json!({
                "iss": "https://scim.example",
                "aud": "https://app.example/events",
                "iat": 1_700_000_000,
                "toe": 1_700_000_000.0,
                "jti": jti(Uuid::nil(), Uuid::from_u128(2)),
                "txn": "req-1",
                "sub_id": {"format": "scim", "uri": format!("/Users/{}", Uuid::from_u128(1)),
                           "id": Uuid::from_u128(1).to_string(), "externalId": "alice"},
                "events": {
                    "urn:ietf:params:scim:event:prov:patch:notice":
                        {"attributes": ["active"], "version": "W/\"3\""},
                    "urn:ietf:params:scim:event:prov:deactivate": {},
                },
            })
        );
        let only = claims(
            &issuer(),
            &registry,
            &e,
            &receiver(Kinds::DEACTIVATE, false),
        );
        assert_eq!(
            only["events"],
            json!({"urn:ietf:params:scim:event:prov:deactivate": {}})
        );
    }

    #[test]
    fn a_full_subscription_gets_the_resource_as_scim_shows_it() {
        let registry = Registry::new().expect("registry");
        let e = event(
            Kinds::CREATE,
            Some(json!({"userName": "alice", "active": true})),
        );
        let c = claims(&issuer(), &registry, &e, &receiver(Kinds::ALL, true));
        let data = &c["events"]["urn:ietf:params:scim:event:prov:create:full"]["data"];
        assert_eq!(data["userName"], "alice");
        assert_eq!(data["id"], Uuid::from_u128(1).to_string());
        assert_eq!(data["meta"]["version"], "W/\"3\"");
        assert_eq!(
            data["meta"]["location"],
            format!("https://scim.example/scim/v2/Users/{}", Uuid::from_u128(1))
        );
        assert!(data["meta"].get("created").is_none());
    }

    #[test]
    fn a_retained_delete_says_until_when_and_a_restore_is_a_create_that_says_restored() {
        let registry = Registry::new().expect("registry");
        let all = receiver(Kinds::ALL, false);
        let mut deleted = event(Kinds::DELETE, None);
        let c = claims(&issuer(), &registry, &deleted, &all);
        assert_eq!(
            c["events"],
            json!({"urn:ietf:params:scim:event:prov:delete": {}})
        );
        deleted.lifecycle = Some("retained until 2027-01-09T10:00:00Z".into());
        let c = claims(&issuer(), &registry, &deleted, &all);
        assert_eq!(
            c["events"],
            json!({"urn:ietf:params:scim:event:prov:delete":
                {"retainedUntil": "2027-01-09T10:00:00.000Z"}})
        );
        let mut restored = event(Kinds::CREATE, None);
        restored.lifecycle = Some(RESTORED.into());
        let c = claims(&issuer(), &registry, &restored, &all);
        assert_eq!(
            c["events"],
            json!({"urn:ietf:params:scim:event:prov:create:notice":
                {"attributes": ["active"], "version": "W/\"3\"", "restored": true}})
        );
    }

    #[test]
    fn the_jti_is_stable_per_subscription_and_differs_between_subscriptions() {
        let (e, a, b) = (Uuid::from_u128(9), Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(jti(e, a), jti(e, a));
        assert_ne!(jti(e, a), jti(e, b));
        assert_eq!(jti(e, a).len(), 32);
    }
}
