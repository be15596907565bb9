//! The API suite of `tests/api` run against the SQLite store: one behaviour, proven twice.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly on the first surprise"
)]

#[path = "api/auth.rs"]
mod auth;
#[path = "api/concurrency.rs"]
mod concurrency;
#[path = "api/discovery.rs"]
mod discovery;
#[path = "api/durability.rs"]
mod durability;
#[path = "api/errors.rs"]
mod errors;
#[path = "api/first_start.rs"]
mod first_start;
#[path = "api/groups.rs"]
mod groups;
#[path = "api/journeys.rs"]
mod journeys;
#[path = "api/ops.rs"]
mod ops;
#[path = "api/patch.rs"]
mod patch;
#[path = "api/policies.rs"]
mod policies;
#[path = "api/query.rs"]
mod query;
#[path = "api/support/mod.rs"]
mod support;
#[path = "api/users.rs"]
mod users;

const BACKEND: support::Backend = support::Backend::Sqlite;
