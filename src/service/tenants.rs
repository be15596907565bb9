//! Tenants: one per connected Entra provisioning job, created by name, and `default`, which
//! `SCIMD_BOOTSTRAP_TOKEN` makes sure of. A tenant's rules are `policy`'s, its extension schemas
//! `schemas`'.

use super::tokens::{BOOTSTRAP_LABEL, BOOTSTRAP_TENANT, hash_token};
use super::{Directory, Error};
use crate::domain::Tenant;
use crate::scim::{self, limits};
use crate::store::{EventStore, Tenants, Tokens};

/// Resources deleted per statement when a tenant goes.
const DELETE_BATCH: u32 = 1_000;

/// Whether `name` may name a new tenant: a DNS label — 1 to 63 lower-case letters, digits and
/// hyphens, neither first nor last a hyphen (RFC 1123 §2.1) — so that it fits a host name, a
/// path segment and a log line as it is. Tenants created before the rule keep their names.
pub fn check_tenant_name(name: &str) -> Result<(), scim::Error> {
    let label = name.len() <= 63
        && !name.is_empty()
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if label {
        return Ok(());
    }
    Err(scim::Error::invalid_value(format!(
        "name: '{name}' is not a tenant name: use 1 to 63 lower-case letters, digits and \
         hyphens, not starting or ending with a hyphen (contoso, acme-eu)"
    ))
    .at("name")
    .because("is not a tenant name"))
}

impl Directory {
    /// Creates a tenant; its name must be a DNS label ([`check_tenant_name`]) and not taken.
    pub async fn create_tenant(&self, name: &str) -> Result<Tenant, Error> {
        let name = name.trim();
        check_tenant_name(name)?;
        let tenant = self.store.create_tenant(name).await?;
        self.audited("tenant.create", Some(&tenant.name), None, None)
            .await;
        Ok(tenant)
    }

    /// Creates a tenant with its rules at once: a tenant whose rules cannot be set is not
    /// left behind.
    pub async fn create_tenant_with(
        &self,
        name: &str,
        rules: &super::PolicyChange,
    ) -> Result<Tenant, Error> {
        if let Some(Some(roles)) = &rules.allowed_roles {
            super::policy::check_roles(roles)?;
        }
        let tenant = self.create_tenant(name).await?;
        if rules.is_empty() {
            return Ok(tenant);
        }
        match self.set_policy(&tenant.name, rules).await {
            Ok(_) => Ok(self.tenant(&tenant.name).await?),
            Err(e) => {
                if let Err(undo) = self.store.delete_tenant(tenant.id, DELETE_BATCH).await {
                    tracing::error!(error = %crate::telemetry::chain(&undo), tenant = %tenant.name,
                        "a tenant whose rules were refused could not be removed");
                } else {
                    self.audited(
                        "tenant.delete",
                        Some(&tenant.name),
                        None,
                        Some("its rules were refused".into()),
                    )
                    .await;
                }
                Err(e)
            }
        }
    }

    /// A page of tenants by name: those starting with `prefix`, after `after`.
    pub async fn tenant_page(
        &self,
        prefix: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Tenant>, Error> {
        for text in [prefix, after].into_iter().flatten() {
            limits::check_string("q", text)?;
        }
        Ok(self.store.tenant_page(prefix, after, limit).await?)
    }

    /// Deletes a tenant with everything of it — its directory, credentials, admins, webhooks
    /// and their events, activity, schemas — unless its webhooks still have events to deliver
    /// and `force` is not given.
    pub async fn delete_tenant(&self, name: &str, force: bool) -> Result<(), Error> {
        let tenant = self.tenant(name).await?;
        let subscriptions = self.store.subscriptions(Some(tenant.id)).await?;
        let backlog: u64 = subscriptions.iter().map(|s| s.backlog).sum();
        if backlog > 0 && !force {
            return Err(scim::Error::new(
                409,
                None,
                format!(
                    "tenant {} has {backlog} event(s) its webhooks have not received yet; \
                     delete it with force to drop them",
                    tenant.name
                ),
            )
            .because("its webhooks have events to deliver")
            .into());
        }
        for schema in self.schemas_of(&tenant.name).await? {
            self.remove_schema(&tenant.name, &schema.schema.id).await?;
        }
        self.store.delete_tenant(tenant.id, DELETE_BATCH).await?;
        let detail = (backlog > 0).then(|| format!("{backlog} undelivered event(s) dropped"));
        self.audited("tenant.delete", Some(&tenant.name), None, detail)
            .await;
        Ok(())
    }

    pub async fn tenant(&self, name: &str) -> Result<Tenant, Error> {
        if name.contains('\0') {
            // no tenant can have such a name, and the database cannot be asked for it
            let missing = crate::store::Missing::Tenant {
                name: name.to_owned(),
            };
            return Err(crate::store::StoreError::NotFound(missing).into());
        }
        Ok(self.store.tenant(name).await?)
    }

    /// Every tenant, by name.
    pub async fn tenants(&self) -> Result<Vec<Tenant>, Error> {
        Ok(self.store.tenants().await?)
    }

    /// Makes sure tenant `default` exists and `token` is its bootstrap token, idempotently.
    /// A bootstrap token an operator revoked stays revoked (a warning says so), and a new
    /// `SCIMD_BOOTSTRAP_TOKEN` revokes the previous one.
    pub async fn bootstrap(&self, token: &str) -> Result<Tenant, Error> {
        if token.len() < 16 {
            return Err(scim::Error::invalid_value(
                "SCIMD_BOOTSTRAP_TOKEN must be at least 16 characters",
            )
            .into());
        }
        let tenant = self.store.ensure_tenant(BOOTSTRAP_TENANT).await?;
        let current = self
            .store
            .put_token(tenant.id, Some(BOOTSTRAP_LABEL), &hash_token(token))
            .await?;
        if current.revoked.is_some() {
            tracing::warn!(
                token = %current.id,
                "SCIMD_BOOTSTRAP_TOKEN was revoked and stays revoked; set another one or issue a token"
            );
        }
        self.revoke_labelled(tenant.id, BOOTSTRAP_LABEL, current.id, false)
            .await?;
        Ok(tenant)
    }
}
