//! The store contract: what every backend must do, proven against a real database, and the
//! differential test that holds the SQL filter compiler to the in-memory evaluator.
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
