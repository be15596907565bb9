//! What the fuzz targets share: the schema registry, fixed documents, and the invariants every
//! answer of `scim` must keep (an error is a 400 with a detail, never a panic or a 500).

#![allow(dead_code, reason = "each target uses part of this module")]

use std::sync::LazyLock;

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

pub mod input;

use scimd::scim::Error;
use scimd::scim::canonical::{Document, canonicalize};
use scimd::scim::fold::fold;
use scimd::scim::projection::Projection;
use scimd::scim::render::render;
use scimd::scim::resource::{ResourceId, StoredResource, Version};
use scimd::scim::schema::{Attribute, Registry, ResourceKind, ResourceType};

pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

pub static REGISTRY: LazyLock<Registry> =
    LazyLock::new(|| Registry::new().expect("the shipped schema documents parse"));

pub fn common() -> &'static [Attribute] {
    REGISTRY.common()
}

pub fn resource_type(kind: ResourceKind) -> &'static ResourceType {
    REGISTRY
        .resource_type(kind)
        .expect("scimd serves Users and Groups")
}

pub const KINDS: [ResourceKind; 2] = [ResourceKind::User, ResourceKind::Group];

/// A user with a value in every kind of attribute: simple, complex, multi-valued, extension.
pub static USER: LazyLock<Document> = LazyLock::new(|| {
    canonical(
        ResourceKind::User,
        json!({
            "userName": "bjensen@example.com",
            "externalId": "e-1",
            "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara J Jensen"},
            "displayName": "Babs",
            "nickName": "Babs",
            "title": "Tour Guide",
            "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "phoneNumbers": [{"value": "555-555-8377", "type": "work"}],
            "addresses": [{"type": "work", "locality": "Hollywood", "primary": true}],
            "roles": [{"value": "Admin", "display": "Admin role", "primary": true}],
            "x509Certificates": [{"value": "TUlJRE"}],
            ENTERPRISE: {
                "employeeNumber": "701984",
                "department": "Tour Operations",
                "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
            }
        }),
    )
});

/// A group with members.
pub static GROUP: LazyLock<Document> = LazyLock::new(|| {
    canonical(
        ResourceKind::Group,
        json!({
            "displayName": "Tour Guides",
            "externalId": "g-1",
            "members": [
                {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs", "type": "User"},
                {"value": "902c246b-6245-4190-8e05-00816be7344a", "type": "Group"}
            ]
        }),
    )
});

/// The id of the fixed documents, which a patch's pathless value may name (Okta's renames).
pub fn fixed_id() -> ResourceId {
    "2819c223-7f76-453a-919d-413861904646"
        .parse()
        .expect("a UUID")
}

pub fn fixed(kind: ResourceKind) -> &'static Document {
    match kind {
        ResourceKind::User => &USER,
        ResourceKind::Group => &GROUP,
    }
}

fn canonical(kind: ResourceKind, body: Value) -> Document {
    canonicalize(resource_type(kind), common(), &body, None).expect("the fixed document is valid")
}

/// A client error: 400 with a detail, whatever the input was.
pub fn assert_client_error(e: &Error, input: &dyn std::fmt::Debug) {
    assert_eq!(e.status, 400, "{e:?} for {input:?}");
    assert!(!e.detail.is_empty(), "an empty detail for {input:?}");
}

/// A canonical document canonicalises to itself (stored documents are re-canonicalised by
/// every PATCH and PUT, so anything else changes attributes the client did not touch), and it
/// folds and renders.
pub fn assert_canonical(kind: ResourceKind, doc: &Document) {
    let rt = resource_type(kind);
    let again = canonicalize(rt, common(), &Value::Object(doc.clone()), None);
    assert_eq!(again.as_ref(), Ok(doc), "canonicalising {doc:?} again");
    let _ = fold(rt, common(), doc);
    let stored = StoredResource {
        kind,
        id: ResourceId(Default::default()),
        version: Version(1),
        created: Utc.timestamp_opt(0, 0).unwrap(),
        last_modified: Utc.timestamp_opt(0, 0).unwrap(),
        doc: doc.clone(),
    };
    let _ = render(
        rt,
        common(),
        &stored,
        "https://scimd.test/scim/v2",
        &Projection::default(),
    );
}
