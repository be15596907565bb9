//! The store contract: what every backend must do, proven against PostgreSQL and SQLite, and
//! the differential test that holds both SQL filter compilers to the in-memory evaluator.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly on the first surprise"
)]

#[path = "../api/support/mod.rs"]
#[allow(dead_code, reason = "shared with the API tests, which use all of it")]
mod support;

mod contract;
mod differential;

/// The default backend of helpers shared with the API suite; the tests here run every backend.
const BACKEND: support::Backend = support::Backend::Postgres;

/// Every backend the store contract must hold on.
const BACKENDS: [support::Backend; 2] = [support::Backend::Postgres, support::Backend::Sqlite];
