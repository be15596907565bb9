//! API tests over HTTP against a real PostgreSQL, each test on a fresh database.
//! `tests/api_sqlite.rs` runs the same modules against SQLite.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly on the first surprise"
)]

mod auth;
mod concurrency;
mod discovery;
mod durability;
mod errors;
mod groups;
mod journeys;
mod ops;
mod patch;
mod policies;
mod query;
mod support;
mod users;

/// This binary's store; `tests/api_sqlite.rs` runs the same modules on SQLite.
const BACKEND: support::Backend = support::Backend::Postgres;
