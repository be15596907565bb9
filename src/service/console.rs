//! The admin console's use cases: a team admin's sign-in opens a session (a random cookie value,
//! stored as SHA-256, ending after `IDLE` without use or `LIFETIME` after it opened), and every
//! change the console makes is checked against the session's tenant, whatever id the page sent.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use uuid::Uuid;

use super::oauth::SignInError;
use super::tokens::{hash_token, secret};
use super::{Directory, Error, IssuedClient, IssuedToken};
use crate::domain::oauth::Admin;
use crate::domain::{Tenant, TokenInfo};
use crate::scim;
use crate::store::{Missing, OAuthStore, StoreError, Tokens};

/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// And at the latest this long after sign-in.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);
const SESSION_PREFIX: &str = "scimd_s_";

/// A signed-in team admin, their tenant, and the CSRF token of their forms.
#[derive(Debug, Clone)]
pub struct Session {
    pub admin: Admin,
    pub tenant: Tenant,
    pub csrf: String,
}

impl Directory {
    /// Signs a team admin of `tenant` in: the new session's cookie value.
    pub async fn console_sign_in(
        &self,
        tenant: &str,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<String, SignInError> {
        let wrong = || SignInError::Refused("the tenant, user name or password is wrong".into());
        let tenant = match self.tenant(tenant.trim()).await {
            Ok(t) => t,
            Err(_) => {
                // as long as a wrong password takes, and counted like one
                let _ = self
                    .check_admin(
                        crate::domain::TenantId(Uuid::nil()),
                        username,
                        password,
                        address,
                    )
                    .await;
                return Err(wrong());
            }
        };
        let admin = match self
            .check_admin(tenant.id, username, password, address)
            .await
        {
            Ok(admin) => admin,
            Err(SignInError::Refused(why)) if why.starts_with("too many") => {
                return Err(SignInError::Refused(why));
            }
            Err(SignInError::Refused(_)) => return Err(wrong()),
            Err(e) => return Err(e),
        };
        if !admin.team_admin {
            return Err(SignInError::Refused(format!(
                "'{}' is not a team admin; the console is for team admins",
                admin.username
            )));
        }
        let token = secret(SESSION_PREFIX)?;
        let csrf = secret("")?;
        let opened = self
            .store
            .put_session(&hash_token(&token), &admin, &csrf, Utc::now())
            .await;
        opened.map_err(Error::from)?;
        tracing::info!(tenant = %tenant.name, admin = %admin.username, "console sign-in");
        Ok(token)
    }

    /// The session of a cookie value, if it is open; using it keeps it open.
    pub async fn console_session(&self, token: &str) -> Result<Option<Session>, Error> {
        let now = Utc::now();
        let idle = now - TimeDelta::from_std(IDLE).unwrap_or(TimeDelta::minutes(30));
        let opened = now - TimeDelta::from_std(LIFETIME).unwrap_or(TimeDelta::hours(12));
        let session = self
            .store
            .session(&hash_token(token), idle, opened, now)
            .await?;
        Ok(session.map(|(admin, tenant, csrf)| Session {
            admin,
            tenant,
            csrf,
        }))
    }

    pub async fn console_sign_out(&self, token: &str) -> Result<(), Error> {
        Ok(self.store.delete_session(&hash_token(token)).await?)
    }

    /// Revokes a token of the session's tenant (another tenant's id is not found).
    pub async fn revoke_tenant_token(
        &self,
        session: &Session,
        id: Uuid,
    ) -> Result<TokenInfo, Error> {
        let ours = self.store.tokens(session.tenant.id).await?;
        if !ours.iter().any(|t| t.id == id) {
            return Err(StoreError::NotFound(Missing::Token { id }).into());
        }
        self.revoke_token(id).await
    }

    /// Issues a token of the session's tenant.
    pub async fn issue_tenant_token(
        &self,
        session: &Session,
        label: &str,
    ) -> Result<IssuedToken, Error> {
        let label = label.trim();
        let label = (!label.is_empty()).then_some(label);
        self.issue_token(&session.tenant.name, label).await
    }

    /// A client of the session's tenant, or not found.
    async fn tenant_client(&self, session: &Session, client_id: &str) -> Result<(), Error> {
        match self.store.client(client_id).await? {
            Some(c) if c.tenant == session.tenant.id => Ok(()),
            _ => Err(StoreError::NotFound(Missing::Client {
                client_id: client_id.to_owned(),
            })
            .into()),
        }
    }

    pub async fn rotate_tenant_client(
        &self,
        session: &Session,
        client_id: &str,
    ) -> Result<IssuedClient, Error> {
        self.tenant_client(session, client_id).await?;
        self.rotate_client_secret(client_id).await
    }

    pub async fn remove_tenant_client(
        &self,
        session: &Session,
        client_id: &str,
    ) -> Result<(), Error> {
        self.tenant_client(session, client_id).await?;
        self.remove_client(client_id).await
    }

    pub async fn add_tenant_client(
        &self,
        session: &Session,
        redirect_uri: &str,
    ) -> Result<IssuedClient, Error> {
        let uri = redirect_uri.trim();
        if uri.is_empty() {
            return Err(scim::Error::invalid_value("redirect URI: may not be empty").into());
        }
        self.add_client(&session.tenant.name, &[uri.to_owned()])
            .await
    }
}
