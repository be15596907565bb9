//! Operator keys: the credentials of the application's backend at `/api/v1` (and only there).
//! A key is 32 random bytes behind `scimd_op_`, shown once, stored as SHA-256, compared in
//! constant time, found through the credential cache; removing one takes effect on every
//! replica at once. Also the answers of writes an Idempotency-Key may repeat.

use chrono::TimeDelta;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::tokens::{hash_token, secret};
use super::{Directory, Error};
use crate::domain::operator::{OperatorKey, Remembered};
use crate::scim::{self, limits};
use crate::store::OperatorStore;

/// Every operator key starts with this, so that leaked ones are easy to recognise and never
/// mistaken for a tenant's token.
pub const OPERATOR_KEY_PREFIX: &str = "scimd_op_";
/// How long the answer of an Idempotency-Key write is kept for its retries.
pub const IDEMPOTENCY_WINDOW: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// How long a request holding an Idempotency-Key may take before a retry takes the key over
/// (a process that stopped mid-request leaves its placeholder behind).
pub const IDEMPOTENCY_STALE: std::time::Duration = std::time::Duration::from_secs(300);

/// What a request with an Idempotency-Key does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// It is the first with its key: it is served, and its answer kept.
    Proceed,
    /// It was served already: this is what it answered.
    Replay(Remembered),
    /// A request with its key is being served now.
    InProgress,
    /// Its key was used by a different request.
    Mismatch,
}

/// A key just added: the secret is in `key` and nowhere else.
#[derive(Debug)]
pub struct IssuedOperatorKey {
    pub info: OperatorKey,
    pub key: String,
}

impl Directory {
    /// Adds an operator key called `name` (unique in any case); a `read_only` one may read,
    /// not change.
    pub async fn add_operator_key(
        &self,
        name: &str,
        read_only: bool,
    ) -> Result<IssuedOperatorKey, Error> {
        let name = name.trim();
        if name.is_empty() {
            return Err(scim::Error::invalid_value("name: may not be empty")
                .at("name")
                .because("may not be empty")
                .into());
        }
        limits::check_string("name", name)?;
        limits::check_name("name", name)?;
        let key = secret(OPERATOR_KEY_PREFIX)?;
        let info = self
            .store
            .add_operator_key(name, read_only, &hash_token(&key), self.now())
            .await?;
        let detail = read_only.then(|| "read-only".to_owned());
        self.audited("operator_key.add", None, Some(info.name.clone()), detail)
            .await;
        Ok(IssuedOperatorKey { info, key })
    }

    /// Every operator key, by name (never a secret).
    pub async fn operator_keys(&self) -> Result<Vec<OperatorKey>, Error> {
        Ok(self.store.operator_keys().await?)
    }

    /// Removes a key, by id or name: requests with it are refused from then on.
    pub async fn remove_operator_key(&self, id_or_name: &str) -> Result<OperatorKey, Error> {
        let removed = self.store.remove_operator_key(id_or_name.trim()).await?;
        self.audited(
            "operator_key.remove",
            None,
            Some(removed.name.clone()),
            None,
        )
        .await;
        Ok(removed)
    }

    /// The operator key a bearer secret is, if it is one (the comparison is constant-time).
    pub async fn authenticate_operator(&self, secret: &str) -> Result<Option<OperatorKey>, Error> {
        if !secret.starts_with(OPERATOR_KEY_PREFIX) || secret.contains('\0') {
            return Ok(None);
        }
        let hash = hash_token(secret);
        let found = self.store.operator_key(&hash, self.now()).await?;
        Ok(found
            .filter(|(_, stored)| bool::from(stored.as_slice().ct_eq(&hash)))
            .map(|(key, _)| key))
    }

    /// Claims the Idempotency-Key `idempotency_key` of the operator key `key` for a request
    /// whose SHA-256 is `request_hash`: the request may go on, or what it answered before is
    /// repeated, or it is refused (another request holds the key, or a different request used
    /// it). A placeholder left by a process that stopped mid-request is taken over after
    /// [`IDEMPOTENCY_STALE`].
    pub async fn claim_idempotency_key(
        &self,
        key: Uuid,
        idempotency_key: &str,
        request_hash: &[u8],
    ) -> Result<Claim, Error> {
        if idempotency_key.is_empty()
            || idempotency_key.len() > 255
            || !idempotency_key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(scim::Error::invalid_value(
                "Idempotency-Key: must be 1 to 255 visible ASCII characters (a UUID is best)",
            )
            .at("Idempotency-Key")
            .because("not 1 to 255 visible ASCII characters")
            .into());
        }
        let window = TimeDelta::from_std(IDEMPOTENCY_WINDOW).unwrap_or(TimeDelta::days(1));
        let stale = TimeDelta::from_std(IDEMPOTENCY_STALE).unwrap_or(TimeDelta::minutes(5));
        let placeholder = Remembered {
            request_hash: request_hash.to_vec(),
            status: 0,
            body: String::new(),
            withheld: false,
            created: self.now(),
        };
        // twice at most: an expired or stale answer is forgotten once, then claimed again
        for _ in 0..2 {
            if self
                .store
                .remember(key, idempotency_key, &placeholder)
                .await?
            {
                return Ok(Claim::Proceed);
            }
            let Some(found) = self.store.remembered(key, idempotency_key).await? else {
                continue;
            };
            let age = self.now() - found.created;
            if age >= window || (found.status == 0 && age >= stale) {
                self.store.forget_answer(key, idempotency_key).await?;
                continue;
            }
            if found.request_hash != request_hash {
                return Ok(Claim::Mismatch);
            }
            return Ok(if found.status == 0 {
                Claim::InProgress
            } else {
                Claim::Replay(found)
            });
        }
        Ok(Claim::InProgress)
    }

    /// Keeps the answer of a claimed request for its retries (`withheld`: it held a secret,
    /// which `body` no longer does).
    pub async fn settle_idempotency_key(
        &self,
        key: Uuid,
        idempotency_key: &str,
        status: u16,
        body: String,
        withheld: bool,
    ) -> Result<(), Error> {
        let answer = Remembered {
            request_hash: Vec::new(),
            status,
            body,
            withheld,
            created: self.now(),
        };
        Ok(self.store.settle(key, idempotency_key, &answer).await?)
    }

    /// Lets a claimed request be retried for real (it failed on the server's side).
    pub async fn release_idempotency_key(
        &self,
        key: Uuid,
        idempotency_key: &str,
    ) -> Result<(), Error> {
        Ok(self.store.forget_answer(key, idempotency_key).await?)
    }

    /// Forgets the answers older than [`IDEMPOTENCY_WINDOW`]; how many.
    pub async fn forget_answers(&self) -> Result<u64, Error> {
        let window = TimeDelta::from_std(IDEMPOTENCY_WINDOW).unwrap_or(TimeDelta::days(1));
        Ok(self.store.forget_answers(self.now() - window).await?)
    }
}
