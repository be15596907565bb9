//! Use cases: what a request or a CLI command asks of the directory. The only caller of the
//! store; turns store facts into SCIM errors with the context a client needs.

mod groups;
mod policy;
mod resources;
mod tokens;

use std::sync::Arc;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::scim::schema::Registry;
use crate::store::{AnyStore, StoreError};
pub use policy::PolicyChange;
pub use resources::SearchResult;
pub use tokens::{BOOTSTRAP_TENANT, IssuedToken, TOKEN_PREFIX, hash_token};

/// A failure of a use case: either a protocol error the client can act on, or a store failure
/// that is the server's problem (logged once, answered 500 or 503).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Scim(#[from] crate::scim::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The directory: the store plus the schema registry that validates what goes in.
#[derive(Debug, Clone)]
pub struct Directory {
    pub store: AnyStore,
    pub registry: Arc<Registry>,
}

impl Directory {
    pub fn new(store: AnyStore, registry: Arc<Registry>) -> Self {
        Self { store, registry }
    }
}

/// Now, to the millisecond: the precision of every timestamp scimd stores and renders, so
/// that what a client saw on create is what it reads back.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    t.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(t)
}
