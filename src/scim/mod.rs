//! The SCIM protocol, pure: schema registry, canonicalisation, rendering, list and error
//! messages, discovery documents. No axum, sqlx or tokio here, and nothing else of scimd's:
//! the protocol is tested without I/O, and every other layer may use it.

pub mod canonical;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod fold;
pub mod limits;
pub mod list;
pub mod patch;
pub mod path;
pub mod projection;
pub mod query;
pub mod render;
pub mod resource;
pub mod schema;
pub mod urn;

pub use error::{Error, Note, ScimType, is_attribute_name};
