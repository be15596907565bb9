//! The store's part of operator accounts and their sessions: accounts keyed by their
//! lower-cased user name, and sessions keyed by their cookie's hash, valid only while their
//! account exists and has the password the session was opened with.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::operator::OperatorAccount;
use crate::store::StoreError;

/// Operator accounts and the operator page's sessions.
pub trait OperatorAccountStore {
    /// Adds an account; its user name must be unique in any letter case.
    fn add_operator_account(
        &self,
        username: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<OperatorAccount, StoreError>> + Send;
    /// Every account, by user name.
    fn operator_accounts(
        &self,
    ) -> impl Future<Output = Result<Vec<OperatorAccount>, StoreError>> + Send;
    /// The account called `username` (in any case) and its password hash.
    fn operator_account_credentials(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Option<(OperatorAccount, String)>, StoreError>> + Send;
    /// Sets the account's password: its sessions end.
    fn set_operator_account_password(
        &self,
        username: &str,
        password_hash: &str,
    ) -> impl Future<Output = Result<OperatorAccount, StoreError>> + Send;
    /// Removes the account and its sessions.
    fn remove_operator_account(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<OperatorAccount, StoreError>> + Send;
    /// Opens a session of `account`, at its current password.
    fn put_operator_session(
        &self,
        session_hash: &[u8],
        account: &OperatorAccount,
        csrf: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The session's account and CSRF token if it was used after `idle_since`, opened after
    /// `opened_since` and its account's password is the one it was opened with; marks it used
    /// at `now`. An ended session is deleted.
    fn operator_session(
        &self,
        session_hash: &[u8],
        idle_since: DateTime<Utc>,
        opened_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<(OperatorAccount, String)>, StoreError>> + Send;
    fn delete_operator_session(
        &self,
        session_hash: &[u8],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
