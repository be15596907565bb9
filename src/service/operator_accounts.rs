//! Operator accounts, the application's team at the operator page: added, listed, re-passworded
//! and removed by the CLI (each change in the audit trail), and signed in through the same
//! throttle and password checks as the console's team admins. A sign-in opens a session (a
//! random cookie value, stored as SHA-256) that ends after the console's `IDLE` without use or
//! `LIFETIME` after it opened, and at once when the account's password changes or the account
//! is removed. An operator session is of the operator page only: it names no tenant.

use std::net::IpAddr;

use chrono::TimeDelta;

use super::admins::{check_password, check_username, hash_password};
use super::console::{IDLE, LIFETIME};
use super::oauth::SignInError;
use super::throttle::AttemptKeys;
use super::tokens::{hash_token, secret};
use super::{Directory, Error};
use crate::domain::audit::{Actor, ActorKind};
use crate::domain::operator::OperatorAccount;
use crate::store::OperatorAccountStore;

const SESSION_PREFIX: &str = "scimd_o_";

/// A signed-in operator account and the CSRF token of its forms.
#[derive(Debug, Clone)]
pub struct OperatorSession {
    pub account: OperatorAccount,
    pub csrf: String,
}

/// The throttle's account of an operator account: no tenant's admin shares it (a tenant's
/// name holds no NUL character).
fn throttled_as(username: &str) -> String {
    format!("\0operator/{username}")
}

/// A checked user name and the hash of a checked password, as an account stores them.
fn credentials<'a>(username: &'a str, password: &str) -> Result<(&'a str, String), Error> {
    let username = check_username(username)?;
    check_password(password)?;
    Ok((username, hash_password(password)?))
}

impl Directory {
    pub async fn add_operator_account(
        &self,
        username: &str,
        password: &str,
    ) -> Result<OperatorAccount, Error> {
        let (username, hash) = credentials(username, password)?;
        let account = self
            .store
            .add_operator_account(username, &hash, self.now())
            .await?;
        self.audited(
            "operator_account.add",
            None,
            Some(account.username.clone()),
            None,
        )
        .await;
        Ok(account)
    }

    pub async fn operator_accounts(&self) -> Result<Vec<OperatorAccount>, Error> {
        Ok(self.store.operator_accounts().await?)
    }

    /// Sets an account's password; its open sessions end.
    pub async fn set_operator_account_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<OperatorAccount, Error> {
        let (username, hash) = credentials(username, password)?;
        let account = self
            .store
            .set_operator_account_password(username, &hash)
            .await?;
        self.audited(
            "operator_account.password",
            None,
            Some(account.username.clone()),
            None,
        )
        .await;
        Ok(account)
    }

    /// Removes an account; its open sessions end.
    pub async fn remove_operator_account(&self, username: &str) -> Result<OperatorAccount, Error> {
        let username = check_username(username)?;
        let account = self.store.remove_operator_account(username).await?;
        self.audited(
            "operator_account.remove",
            None,
            Some(account.username.clone()),
            None,
        )
        .await;
        Ok(account)
    }

    /// Signs an operator account in: the new session's cookie value. Counted by the sign-in
    /// throttle before the password is checked, like a team admin's sign-in.
    pub async fn operator_sign_in(
        &self,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<String, SignInError> {
        let keys = AttemptKeys::new(&throttled_as(username), address);
        if let Some(held) = self.count_sign_in(&keys).await? {
            return Err(SignInError::Held(held));
        }
        // a name with a NUL character names no account (and the store cannot hold it)
        let found = if username.contains('\0') || username.trim().is_empty() {
            None
        } else {
            let read = self.store.operator_account_credentials(username.trim());
            read.await.map_err(Error::from)?
        };
        let stored = found.as_ref().map(|(_, hash)| hash.clone());
        let matches = self
            .check_password(password, stored)
            .await?
            .map_err(SignInError::Held)?;
        let account = match found {
            Some((account, _)) if matches => account,
            _ => {
                return Err(SignInError::Refused(
                    "the user name or the password is wrong".into(),
                ));
            }
        };
        self.signed_in(&keys).await?;
        let token = secret(SESSION_PREFIX)?;
        let csrf = secret("")?;
        let opened = self
            .store
            .put_operator_session(&hash_token(&token), &account, &csrf, self.now())
            .await;
        opened.map_err(Error::from)?;
        let actor = Actor {
            kind: ActorKind::OperatorAccount,
            name: account.username.clone(),
            address: address.map(|a| a.to_string()),
        };
        self.acting(actor)
            .audited(
                "operator_account.sign_in",
                None,
                Some(account.username.clone()),
                None,
            )
            .await;
        tracing::info!(operator = %account.username, "operator page sign-in");
        Ok(token)
    }

    /// The operator session of a cookie value, if it is open; using it keeps it open.
    pub async fn operator_session(&self, token: &str) -> Result<Option<OperatorSession>, Error> {
        let now = self.now();
        let idle = now - TimeDelta::from_std(IDLE).unwrap_or(TimeDelta::minutes(30));
        let opened = now - TimeDelta::from_std(LIFETIME).unwrap_or(TimeDelta::hours(12));
        let session = self
            .store
            .operator_session(&hash_token(token), idle, opened, now)
            .await?;
        Ok(session.map(|(account, csrf)| OperatorSession { account, csrf }))
    }

    pub async fn operator_sign_out(&self, token: &str) -> Result<(), Error> {
        Ok(self
            .store
            .delete_operator_session(&hash_token(token))
            .await?)
    }
}
