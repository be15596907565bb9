//! The store contract: what every backend must do, proven against PostgreSQL and SQLite, the
//! differential test that holds both SQL filter compilers to the in-memory evaluator, and the
//! comparison of the schemas both migrations build, and what an upgrade keeps.

mod contract;
mod differential;
mod plans;
mod schema;
mod upgrade;
