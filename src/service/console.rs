//! The admin console's use cases: a team admin's sign-in opens a session (a random cookie value,
//! stored as SHA-256, ending after `IDLE` without use or `LIFETIME` after it opened), and every
//! change the console makes is checked against the session's tenant, whatever id the page sent.

use std::net::IpAddr;
use std::time::Duration;

use chrono::TimeDelta;
use uuid::Uuid;

use super::events::{Answer, webhook_id};
use super::oauth::SignInError;
use super::tokens::{hash_token, secret};
use super::{Directory, Error, IssuedClient, IssuedToken};
use crate::domain::events::{FailedDelivery, Subscription};
use crate::domain::oauth::Admin;
use crate::domain::{Tenant, TokenInfo};
use crate::scim;
use crate::store::{EventStore, Groups, Missing, OAuthStore, SessionStore, StoreError, Tokens};

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

/// A webhook of the session's tenant, with its latest dropped and parked deliveries.
#[derive(Debug, Clone)]
pub struct TenantWebhook {
    pub subscription: Subscription,
    pub failures: Vec<FailedDelivery>,
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
        let account = format!("{}/{username}", tenant.trim());
        let found = match self.tenant(tenant.trim()).await {
            Ok(t) => Some(t),
            Err(Error::Scim(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let checked = self
            .check_admin(
                &account,
                found.as_ref().map(|t| t.id),
                username,
                password,
                address,
            )
            .await;
        let (tenant, admin) = match (found, checked) {
            (Some(tenant), Ok(admin)) => (tenant, admin),
            (_, Err(SignInError::Refused(_))) | (None, Ok(_)) => return Err(wrong()),
            (_, Err(e)) => return Err(e),
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
            .put_session(&hash_token(&token), &admin, &csrf, self.now())
            .await;
        opened.map_err(Error::from)?;
        tracing::info!(tenant = %tenant.name, admin = %admin.username, "console sign-in");
        Ok(token)
    }

    /// The session of a cookie value, if it is open; using it keeps it open.
    pub async fn console_session(&self, token: &str) -> Result<Option<Session>, Error> {
        let now = self.now();
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

    /// A page of a group of the session's tenant's members, in the order they were added, and
    /// how many it has: read a page at a time, however large the group.
    pub async fn group_members(
        &self,
        session: &Session,
        group: crate::scim::resource::ResourceId,
        start: u64,
        count: u32,
    ) -> Result<(Vec<crate::store::Member>, u64), Error> {
        let tenant = session.tenant.id;
        let page = self.store.member_page(tenant, group, start, count).await?;
        let counts = self.store.member_counts(tenant, &[group]).await?;
        Ok((page, counts.get(&group).copied().unwrap_or(0)))
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

    /// The webhooks of the session's tenant, each with its latest `failures` dropped or
    /// parked deliveries (none read for a webhook without any).
    pub async fn tenant_webhooks(
        &self,
        session: &Session,
        failures: u32,
    ) -> Result<Vec<TenantWebhook>, Error> {
        let mut subscriptions = self.store.subscriptions(Some(session.tenant.id)).await?;
        // the application's pull consumers read at /api/v1/events: nothing to push or pause
        subscriptions.retain(|s| !s.pull);
        let mut webhooks = Vec::with_capacity(subscriptions.len());
        for subscription in subscriptions {
            let failures = if subscription.failed > 0 {
                self.store.failures(subscription.id, failures).await?
            } else {
                Vec::new()
            };
            webhooks.push(TenantWebhook {
                subscription,
                failures,
            });
        }
        Ok(webhooks)
    }

    /// A webhook of the session's tenant, or not found (whatever another tenant has, and the
    /// application's pull consumers).
    async fn tenant_webhook(&self, session: &Session, id: &str) -> Result<Subscription, Error> {
        let missing =
            || -> Error { scim::Error::not_found(format!("no webhook with id {id}")).into() };
        match self.store.subscription(webhook_id(id)?).await {
            Ok(s) if s.tenant == session.tenant.id && !s.pull => Ok(s),
            Ok(_) | Err(StoreError::NotFound(_)) => Err(missing()),
            Err(e) => Err(e.into()),
        }
    }

    /// Pauses (or resumes) a webhook of the session's tenant.
    pub async fn pause_tenant_webhook(
        &self,
        session: &Session,
        id: &str,
        paused: bool,
    ) -> Result<Subscription, Error> {
        self.tenant_webhook(session, id).await?;
        self.pause_webhook(id, paused).await
    }

    /// Sends a test event to a webhook of the session's tenant: the webhook and the answer.
    pub async fn test_tenant_webhook(
        &self,
        session: &Session,
        id: &str,
    ) -> Result<(Subscription, Answer), Error> {
        let subscription = self.tenant_webhook(session, id).await?;
        Ok((subscription, self.test_webhook(id).await?))
    }

    /// Queues the parked events of a webhook of the session's tenant again: the webhook and
    /// how many.
    pub async fn retry_tenant_parked(
        &self,
        session: &Session,
        id: &str,
    ) -> Result<(Subscription, u64), Error> {
        let subscription = self.tenant_webhook(session, id).await?;
        Ok((subscription, self.retry_parked(id).await?))
    }
}
