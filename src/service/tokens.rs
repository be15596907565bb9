//! Tenants and bearer tokens (DESIGN.md "Tenancy and auth"): tokens are 32 random bytes,
//! shown once, stored only as a SHA-256 hash, compared in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Directory, Error};
use crate::scim;
use crate::store::{Store, StoreError, Tenant, TokenInfo};

/// Every token scimd issues starts with this, so that leaked tokens are easy to recognise.
pub const TOKEN_PREFIX: &str = "scimd_";

/// The tenant that `SCIMD_BOOTSTRAP_TOKEN` belongs to.
pub const BOOTSTRAP_TENANT: &str = "default";

/// A token just issued: the secret is in `token` and nowhere else.
#[derive(Debug)]
pub struct IssuedToken {
    pub info: TokenInfo,
    pub token: String,
}

pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{TOKEN_PREFIX}{hex}"))
}

impl Directory {
    pub async fn create_tenant(&self, name: &str) -> Result<Tenant, Error> {
        let name = name.trim();
        if name.is_empty() {
            return Err(scim::Error::invalid_value("a tenant name may not be empty").into());
        }
        self.store.create_tenant(name).await.map_err(|e| match e {
            StoreError::Uniqueness { .. } => {
                scim::Error::uniqueness(format!("tenant '{name}' already exists")).into()
            }
            other => other.into(),
        })
    }

    pub async fn tenant(&self, name: &str) -> Result<Tenant, Error> {
        self.store.tenant(name).await.map_err(|e| match e {
            StoreError::NotFound => {
                scim::Error::not_found(format!("no tenant called '{name}'")).into()
            }
            other => other.into(),
        })
    }

    /// Issues a new random token for the tenant called `tenant`.
    pub async fn issue_token(
        &self,
        tenant: &str,
        label: Option<&str>,
    ) -> Result<IssuedToken, Error> {
        let tenant = self.tenant(tenant).await?;
        let token = random_token()
            .map_err(|e| scim::Error::new(500, None, format!("no randomness: {e}")))?;
        let info = self
            .store
            .put_token(tenant.id, label, &hash_token(&token))
            .await?;
        Ok(IssuedToken { info, token })
    }

    /// Makes sure tenant `default` exists and `token` is valid for it, idempotently.
    pub async fn bootstrap(&self, token: &str) -> Result<Tenant, Error> {
        if token.len() < 16 {
            return Err(scim::Error::invalid_value(
                "SCIMD_BOOTSTRAP_TOKEN must be at least 16 characters",
            )
            .into());
        }
        let tenant = self.store.ensure_tenant(BOOTSTRAP_TENANT).await?;
        self.store
            .put_token(tenant.id, Some("bootstrap"), &hash_token(token))
            .await
            .map_err(|e| match e {
                StoreError::Uniqueness { .. } => scim::Error::uniqueness(
                    "SCIMD_BOOTSTRAP_TOKEN is already a token of another tenant",
                )
                .into(),
                other => Error::from(other),
            })?;
        Ok(tenant)
    }

    /// The tenant a bearer token belongs to, or `None` for a wrong or revoked token.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Tenant>, Error> {
        let hash = hash_token(token);
        let found = self.store.token_tenant(&hash).await?;
        Ok(found.and_then(|(tenant, stored)| {
            bool::from(stored.as_slice().ct_eq(&hash)).then_some(tenant)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_carry_32_random_bytes_behind_the_prefix() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(a, b);
    }
}
