//! The store's part of OAuth 2.0: admins, clients, single-use codes and token families. The
//! database decides every race: a code or a refresh token is used up by one conditional update,
//! so two exchanges of the same one cannot both succeed.

use std::future::Future;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::TenantId;
use crate::domain::oauth::{Admin, CodeGrant, OAuthClient, Rotation, TokenGrant};
use crate::store::StoreError;

/// Admins, OAuth clients, codes and tokens.
pub trait OAuthStore {
    /// Adds an admin; a name the tenant has already, in any case, is a uniqueness conflict.
    fn add_admin(
        &self,
        tenant: TenantId,
        username: &str,
        password_hash: &str,
        team_admin: bool,
    ) -> impl Future<Output = Result<Admin, StoreError>> + Send;
    /// The tenant's admins by name.
    fn admins(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Vec<Admin>, StoreError>> + Send;
    /// The admin called `username` (any case), with the hash of its password.
    fn admin_credentials(
        &self,
        tenant: TenantId,
        username: &str,
    ) -> impl Future<Output = Result<Option<(Admin, String)>, StoreError>> + Send;
    /// Changes an admin's rights and/or password. A new password ends the admin's console
    /// sessions; taking the team-admin right ends them too and revokes every OAuth family the
    /// admin authorized, with the codes they authorized that were not yet exchanged.
    fn update_admin(
        &self,
        tenant: TenantId,
        username: &str,
        team_admin: Option<bool>,
        password_hash: Option<&str>,
    ) -> impl Future<Output = Result<Admin, StoreError>> + Send;
    /// Removes an admin, their sessions and every OAuth family they authorized (and the codes
    /// not yet exchanged for one).
    fn remove_admin(
        &self,
        tenant: TenantId,
        username: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn add_client(
        &self,
        tenant: TenantId,
        client_id: &str,
        secret_hash: &[u8],
        redirect_uris: &[String],
    ) -> impl Future<Output = Result<OAuthClient, StoreError>> + Send;
    /// The tenant's clients in the order they were added.
    fn clients(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Vec<OAuthClient>, StoreError>> + Send;
    fn client(
        &self,
        client_id: &str,
    ) -> impl Future<Output = Result<Option<OAuthClient>, StoreError>> + Send;
    fn set_client_secret(
        &self,
        client_id: &str,
        secret_hash: &[u8],
    ) -> impl Future<Output = Result<OAuthClient, StoreError>> + Send;
    /// Removes a client with its codes and tokens (requests with them are refused at once on
    /// every replica).
    fn remove_client(&self, client_id: &str)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    fn put_code(
        &self,
        code_hash: &[u8],
        grant: &CodeGrant,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Uses up the code: its grant, and whether this was its first use (a second use finds it
    /// used, and the caller revokes its family).
    fn take_code(
        &self,
        code_hash: &[u8],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<(CodeGrant, bool)>, StoreError>> + Send;
    /// Stores the tokens of a grant.
    fn store_tokens(
        &self,
        grant: &TokenGrant,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Exchanges the refresh token `old` of `client` for `next` (whose tenant, family, admin
    /// and family start are taken from `old`), in one transaction; a used or revoked `old`
    /// revokes its family. A family older than `max_age` has expired, and the new refresh
    /// token ends when the family does.
    fn rotate_refresh(
        &self,
        old: &[u8],
        client: Uuid,
        next: &TokenGrant,
        now: DateTime<Utc>,
        max_age: std::time::Duration,
    ) -> impl Future<Output = Result<Rotation, StoreError>> + Send;
    /// Revokes every access and refresh token of a family.
    fn revoke_family(
        &self,
        family: Uuid,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
