//! Bearer tokens, and what a bearer token is. A token belongs to one tenant and selects it, so
//! every tenant uses the same Tenant URL; tokens are 32 random bytes, shown once, stored only
//! as a SHA-256 hash, compared in constant time, revocable, several valid at once for rotation.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use uuid::Uuid;

use super::entra_jwt::{EntraKeys, JwtRefusal};
use super::{Directory, Error, Unavailable};
use crate::domain::{Tenant, TokenInfo};
use crate::scim::{self, limits};
use crate::store::{Tenants, Tokens};

/// Every token scimd issues starts with this, so that leaked tokens are easy to recognise.
pub const TOKEN_PREFIX: &str = "scimd_";

/// The tenant that `SCIMD_BOOTSTRAP_TOKEN` belongs to.
pub const BOOTSTRAP_TENANT: &str = "default";

/// The label of the token `SCIMD_BOOTSTRAP_TOKEN` sets, reserved for it: a new bootstrap token
/// revokes the tokens labelled so.
pub const BOOTSTRAP_LABEL: &str = "bootstrap";

/// The label of the tokens the setup page issues, reserved for it: a new one revokes the
/// tokens labelled so.
pub const SETUP_LABEL: &str = "setup page";

/// A token just issued: the secret is in `token` and nowhere else.
#[derive(Debug)]
pub struct IssuedToken {
    pub info: TokenInfo,
    pub token: String,
}

pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// 32 random bytes in hex behind `prefix`: tokens, client secrets, codes.
pub(super) fn random_secret(prefix: &str) -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{prefix}{hex}"))
}

/// `random_secret`, with a failure of the operating system's randomness as a 500.
pub(super) fn secret(prefix: &str) -> Result<String, Error> {
    random_secret(prefix)
        .map_err(|e| Error::internal(format!("the operating system gave no randomness: {e}")))
}

impl Directory {
    /// The tokens of the tenant called `tenant`, in the order they were issued.
    pub async fn tokens(&self, tenant: &str) -> Result<Vec<TokenInfo>, Error> {
        let tenant = self.tenant(tenant).await?;
        Ok(self.store.tokens(tenant.id).await?)
    }

    /// Revokes a token: requests with it are refused from then on, on every replica.
    pub async fn revoke_token(&self, id: Uuid) -> Result<TokenInfo, Error> {
        let info = self.store.revoke_token(id).await?;
        self.audited(
            "token.revoke",
            Some(&info.tenant),
            Some(id.to_string()),
            None,
        )
        .await;
        Ok(info)
    }

    /// Issues a new random token for the tenant called `tenant`, labelled `label` (not one
    /// of the labels scimd reserves).
    pub async fn issue_token(
        &self,
        tenant: &str,
        label: Option<&str>,
    ) -> Result<IssuedToken, Error> {
        if let Some(reserved) = [BOOTSTRAP_LABEL, SETUP_LABEL]
            .into_iter()
            .find(|r| label.is_some_and(|l| l.trim().eq_ignore_ascii_case(r)))
        {
            let owner = match reserved {
                BOOTSTRAP_LABEL => "SCIMD_BOOTSTRAP_TOKEN",
                _ => "the setup page",
            };
            return Err(scim::Error::invalid_value(format!(
                "the label '{reserved}' is reserved for {owner}"
            ))
            .at("label")
            .into());
        }
        if let Some(label) = label {
            limits::check_string("label", label)?;
            limits::check_name("label", label)?;
        }
        self.issue_labelled_token(tenant, label).await
    }

    /// Issues a token with any label, reserved ones too.
    pub(super) async fn issue_labelled_token(
        &self,
        tenant: &str,
        label: Option<&str>,
    ) -> Result<IssuedToken, Error> {
        let tenant = self.tenant(tenant).await?;
        let token = secret(TOKEN_PREFIX)?;
        let info = self
            .store
            .put_token(tenant.id, label, &hash_token(&token))
            .await?;
        let detail = info.label.as_ref().map(|l| format!("label={l}"));
        self.audited(
            "token.issue",
            Some(&tenant.name),
            Some(info.id.to_string()),
            detail,
        )
        .await;
        Ok(IssuedToken { info, token })
    }

    /// Revokes the tenant's valid tokens labelled `label` but `keep`; with `older_only`, only
    /// those issued before `keep` (of two issued at once, neither then revokes the later one,
    /// so one always stays valid).
    pub(super) async fn revoke_labelled(
        &self,
        tenant: crate::domain::TenantId,
        label: &str,
        keep: Uuid,
        older_only: bool,
    ) -> Result<(), Error> {
        let tokens = self.store.tokens(tenant).await?;
        let at = tokens.iter().position(|t| t.id == keep);
        for (i, previous) in tokens.iter().enumerate() {
            let labelled = previous.label.as_deref() == Some(label);
            let older = at.is_none_or(|at| i < at);
            if labelled
                && previous.id != keep
                && (older || !older_only)
                && previous.revoked.is_none()
            {
                self.store.revoke_token(previous.id).await?;
                self.audited(
                    "token.revoke",
                    Some(&previous.tenant),
                    Some(previous.id.to_string()),
                    Some(format!("replaced by {keep}")),
                )
                .await;
            }
        }
        Ok(())
    }

    /// What a bearer token is: valid for its tenant, or why not.
    pub async fn authenticate(&self, token: &str) -> Result<TokenCheck, Error> {
        if EntraKeys::looks_like_jwt(token) {
            return self.authenticate_entra(token).await;
        }
        let hash = hash_token(token);
        let Some(found) = self.store.token_tenant(&hash).await? else {
            return Ok(TokenCheck::Unknown);
        };
        if !bool::from(found.hash.as_slice().ct_eq(&hash)) {
            return Ok(TokenCheck::Unknown);
        }
        let (tenant, client) = (found.tenant.clone(), found.client.clone());
        if found.revoked {
            return Ok(TokenCheck::Revoked { tenant, client });
        }
        if found.expires.is_some_and(|e| e <= self.now()) {
            return Ok(TokenCheck::Expired { tenant, client });
        }
        let credential = match &found.client {
            Some(client) => format!("oauth {client}"),
            None => format!("token {}", found.id),
        };
        Ok(TokenCheck::Valid {
            tenant: found.tenant,
            credential,
        })
    }
}

impl Directory {
    /// A JWT Entra signed (Secret Token left blank): valid for the tenant that names its Entra
    /// tenant, verified against that Entra tenant's keys and issuer.
    /// Every refusal reads the same to the client, whether the Entra tenant is a customer's or
    /// not: a different answer for an unknown `tid` than for a bad signature would tell anyone
    /// which Entra tenants are connected. The reason goes to the log.
    async fn authenticate_entra(&self, token: &str) -> Result<TokenCheck, Error> {
        let refused = |claimed: Option<uuid::Uuid>, reason: &dyn std::fmt::Display| {
            tracing::info!(entra_tenant = ?claimed, %reason, "Entra-signed token refused");
            Ok(TokenCheck::EntraRefused)
        };
        let Some(claimed) = EntraKeys::claimed_tenant(token) else {
            return refused(None, &"it names no Entra tenant (tid)");
        };
        let Some(tenant) = self.store.tenant_by_entra(claimed).await? else {
            return refused(
                Some(claimed),
                &format!(
                    "no tenant accepts the tokens of Entra tenant {claimed}; `scimd tenant set \
                     <tenant> --entra-tenant-id {claimed}` makes one accept them"
                ),
            );
        };
        let Some(keys) = &self.entra else {
            return refused(
                Some(claimed),
                &"this scimd does not verify Entra-signed tokens",
            );
        };
        match keys.verify(token, claimed).await {
            Ok(_) => Ok(TokenCheck::Valid {
                tenant,
                credential: format!("entra {claimed}"),
            }),
            Err(JwtRefusal::KeysUnavailable(why)) => Err(Unavailable::EntraKeys(why).into()),
            Err(refusal) => refused(Some(claimed), &format!("tenant {}: {refusal}", tenant.name)),
        }
    }
}

/// What a bearer token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    /// Valid for `tenant`; `credential` names it for the activity log (never its value).
    Valid { tenant: Tenant, credential: String },
    /// No token has this value.
    Unknown,
    /// An operator revoked it, or its OAuth family was revoked: a credential of `tenant` that
    /// stopped working (recorded in its activity log, for its health).
    Revoked {
        tenant: Tenant,
        client: Option<String>,
    },
    /// An OAuth access token past its `expires_in`.
    Expired {
        tenant: Tenant,
        client: Option<String>,
    },
    /// A JWT that Entra signed (or claims to have signed), refused; why is in the log only.
    EntraRefused,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_carry_32_random_bytes_behind_the_prefix() {
        let a = random_secret(TOKEN_PREFIX).unwrap();
        let b = random_secret(TOKEN_PREFIX).unwrap();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(a, b);
    }
}
