//! `OAuthStore`: admins (`admins`), OAuth clients (`clients`), single-use codes (`codes`) and
//! token families that rotate and are revoked (`refresh`), on a store with tenant `default`,
//! its team admin `ada` and its client `entra`. An access token is judged by what
//! `token_tenant` answers for it, a refresh token by its stored row.

mod admins;
mod clients;
mod codes;
mod refresh;

use chrono::Utc;
use chrono::{DateTime, TimeDelta};
use uuid::Uuid;

use scimd::domain::oauth::{Admin, OAuthClient, TokenGrant, TokenRecord};
use scimd::service::hash_token;
use scimd::store::{OAuthStore, SessionStore, Tokens};

use super::{Fixture, at};
use crate::support::Backend;

/// Tenant `default` with its team admin `ada` and its OAuth client `entra`.
struct OAuth {
    f: Fixture,
    ada: Admin,
    client: OAuthClient,
}

impl OAuth {
    async fn new(backend: Backend) -> Self {
        let f = Fixture::new(backend).await;
        let ada = f
            .store
            .add_admin(f.tenant.id, "ada", "hash-ada", true)
            .await
            .unwrap();
        let uris = ["https://portal.azure.com/TokenAuthorize".to_owned()];
        let client = f
            .store
            .add_client(f.tenant.id, "entra", &hash_token("entra-secret"), &uris)
            .await
            .unwrap();
        Self { f, ada, client }
    }

    /// The tokens of `family`, authorized by `admin`, issued at `at(0)`: the access token
    /// `access` (valid for an hour) and, if given, the refresh token `refresh` (for a day).
    fn grant(
        &self,
        family: Uuid,
        admin: Option<&Admin>,
        access: &str,
        refresh: Option<&str>,
    ) -> TokenGrant {
        TokenGrant {
            tenant: self.f.tenant.id,
            client: self.client.id,
            family,
            admin: admin.map(|a| a.id),
            family_started: at(0),
            access_hash: hash_token(access).to_vec(),
            access_expires: at(3600),
            refresh: refresh.map(|r| (hash_token(r).to_vec(), at(86_400))),
        }
    }

    /// Stores `grant` at `at(0)`.
    async fn issue(&self, grant: &TokenGrant) {
        self.f.store.store_tokens(grant, at(0)).await.unwrap();
    }

    /// What `token_tenant` answers for the access token `token`.
    async fn access(&self, token: &str) -> Option<TokenRecord> {
        self.f.store.token_tenant(&hash_token(token)).await.unwrap()
    }

    /// Whether the access token `token`, which must be stored, is revoked.
    async fn revoked(&self, token: &str) -> bool {
        let record = self.access(token).await;
        record
            .unwrap_or_else(|| panic!("{token} is not stored"))
            .revoked
    }

    /// The session `hash`'s admin, as `session` answers between `at(0)` and `at(1)`.
    async fn session_admin(&self, hash: &[u8]) -> Option<Admin> {
        let found = self.f.store.session(hash, at(0), at(0), at(1)).await;
        found.unwrap().map(|(admin, _, _)| admin)
    }

    /// Opens the session `hash` of `admin` at `at(0)`.
    async fn open_session(&self, hash: &[u8], admin: &Admin) {
        let store = &self.f.store;
        store.put_session(hash, admin, "csrf", at(0)).await.unwrap();
    }
}

/// Asserts that `created` is a time the store stamped between `before` and `after` (to the
/// millisecond, as SQLite keeps it).
#[track_caller]
fn stamped(created: DateTime<Utc>, before: DateTime<Utc>, after: DateTime<Utc>) {
    let ms = TimeDelta::milliseconds(1);
    assert!(
        before - ms <= created && created <= after,
        "{before} <= {created} <= {after}"
    );
}
