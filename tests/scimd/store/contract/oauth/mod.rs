//! `OAuthStore`: admins (`admins`), OAuth clients (`clients`), single-use codes (`codes`) and
//! token families that rotate and are revoked (`refresh`, and at once `rotations`), on a
//! store with tenant `default`, its team admin `ada` and its client `entra`. An access token
//! is judged by what `token_tenant` answers for it, a refresh token by its stored row.

mod admins;
mod clients;
mod codes;
mod refresh;
mod rotations;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use scimd::domain::oauth::{Admin, OAuthClient, Rotation, TokenGrant, TokenRecord};
use scimd::service::hash_token;
use scimd::store::{OAuthStore, SessionStore, Tenants, Tokens};

use super::stored::{Refresh, refresh_tokens};
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

/// A month: families younger than this have not expired.
const MONTH: Duration = Duration::from_secs(30 * 86_400);

impl OAuth {
    /// Tokens to rotate to, as the service asks for them: a family, admin, start and tenant
    /// of their own, which the store replaces with the old token's.
    async fn next(
        &self,
        access: &str,
        refresh: &str,
        refresh_expires: DateTime<Utc>,
    ) -> TokenGrant {
        let elsewhere = self.f.store.ensure_tenant("elsewhere").await.unwrap();
        TokenGrant {
            tenant: elsewhere.id,
            client: self.client.id,
            family: Uuid::new_v4(),
            admin: None,
            family_started: at(50),
            access_hash: hash_token(access).to_vec(),
            access_expires: at(7200),
            refresh: Some((hash_token(refresh).to_vec(), refresh_expires)),
        }
    }

    /// `rotate_refresh` of the refresh token `old` of `entra` to `next` at `now`.
    async fn rotate(
        &self,
        old: &str,
        next: &TokenGrant,
        now: DateTime<Utc>,
        max_age: Duration,
    ) -> Rotation {
        let old = hash_token(old);
        let rotated = self
            .f
            .store
            .rotate_refresh(&old, self.client.id, next, now, max_age);
        rotated.await.unwrap()
    }

    /// The stored refresh token `token`.
    async fn refresh(&self, token: &str) -> Option<Refresh> {
        refresh_tokens(&self.f.db)
            .await
            .remove(hash_token(token).as_slice())
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
