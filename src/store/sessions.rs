//! The store's part of the admin console's sessions: a session is a row keyed by its cookie's
//! hash, valid only while its admin exists, is a team admin and has the password the session
//! was opened with.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::Tenant;
use crate::domain::oauth::Admin;
use crate::store::StoreError;

/// Console sessions.
pub trait SessionStore {
    /// Opens a console session for `admin`.
    fn put_session(
        &self,
        session_hash: &[u8],
        admin: &Admin,
        csrf: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The session's admin, their tenant and the CSRF token if it was used after `idle_since`
    /// and opened after `opened_since`, its admin is still a team admin and their password the
    /// one the session was opened with; marks it used at `now`. An ended session is deleted.
    fn session(
        &self,
        session_hash: &[u8],
        idle_since: DateTime<Utc>,
        opened_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<(Admin, Tenant, String)>, StoreError>> + Send;
    fn delete_session(
        &self,
        session_hash: &[u8],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
