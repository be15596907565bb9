//! API tests over HTTP against a real PostgreSQL, each test on a fresh database.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly on the first surprise"
)]

mod auth;
mod concurrency;
mod discovery;
mod errors;
mod groups;
mod journeys;
mod ops;
mod patch;
mod policies;
mod query;
mod support;
mod users;
