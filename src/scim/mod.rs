//! The SCIM protocol, pure: schema registry, canonicalisation, rendering, list and error
//! messages, discovery documents. No axum, sqlx or tokio here, and nothing else of scimd's:
//! the protocol is tested without I/O, and every other layer may use it.

pub mod bulk;
pub mod canonical;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod fold;
pub mod limits;
pub mod list;
pub mod password;
pub mod patch;
pub mod path;
pub mod projection;
pub mod query;
pub mod rename;
pub mod render;
pub mod resource;
pub mod schema;
pub mod urn;

/// The path the SCIM API is served under (RFC 7644 §3.13 leaves it to the service provider);
/// Entra's Tenant URL is the public URL followed by it.
pub const BASE_PATH: &str = "/scim/v2";

pub use error::{Error, Note, ScimType, is_attribute_name, without_brackets};
