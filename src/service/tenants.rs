//! Tenants: one per connected Entra provisioning job, created by name, and `default`, which
//! `SCIMD_BOOTSTRAP_TOKEN` makes sure of. A tenant's rules are `policy`'s, its extension schemas
//! `schemas`'.

use super::tokens::{BOOTSTRAP_LABEL, BOOTSTRAP_TENANT, hash_token};
use super::{Directory, Error};
use crate::domain::Tenant;
use crate::scim::{self, limits};
use crate::store::{Tenants, Tokens};

impl Directory {
    pub async fn create_tenant(&self, name: &str) -> Result<Tenant, Error> {
        let name = name.trim();
        if name.is_empty() {
            return Err(scim::Error::invalid_value("a tenant name may not be empty").into());
        }
        limits::check_string("tenant name", name)?;
        limits::check_name("tenant name", name)?;
        Ok(self.store.create_tenant(name).await?)
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
        for previous in self.store.tokens(tenant.id).await? {
            let bootstrap = previous.label.as_deref() == Some(BOOTSTRAP_LABEL);
            if bootstrap && previous.id != current.id && previous.revoked.is_none() {
                self.store.revoke_token(previous.id).await?;
                tracing::info!(token = %previous.id, "revoked the previous bootstrap token");
            }
        }
        Ok(tenant)
    }
}
