//! scimd's test suite, one binary: the SCIM API over HTTP (`api`), the store contract and the
//! filter compilers (`store`), the `scimd` binary as operators run it (`binary`), and the
//! verification of Entra-issued JWTs against a local key server (`entra_jwt`, no database).
//! Every test of `api` and `store` runs on PostgreSQL and on SQLite, each time on a database of
//! its own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly on the first surprise"
)]

mod api;
mod binary;
mod entra_jwt;
mod layers;
mod operator_api;
mod service_map;
mod store;
mod support;

/// Runs each named test once per store, as `<name>::postgres` and `<name>::sqlite`. A test is
/// an `async fn <name>(backend: Backend)` of the module that names it here; one left out of
/// the list is dead code, which the lints refuse, so none is forgotten.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    super::$name($crate::support::Backend::Postgres).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    super::$name($crate::support::Backend::Sqlite).await
                }
            }
        )+
    };
}
