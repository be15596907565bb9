//! The audit trail of administration as the use cases keep it: a directory acts for one actor
//! (an operator key, the person at the CLI, a console admin: [`Directory::acting`]), and every
//! change of administration it makes is recorded once it has committed, with what was done,
//! to which tenant and what (never a secret). Old entries are pruned after
//! `SCIMD_AUDIT_RETENTION`.

use std::sync::Arc;

use chrono::TimeDelta;
use uuid::Uuid;

use super::{Directory, Error};
use crate::domain::audit::{Actor, AuditEntry, AuditFilter};
use crate::store::OperatorStore;

/// Entries pruned per statement.
const PRUNE_BATCH: u32 = 1_000;

impl Directory {
    /// This directory, its changes recorded as `actor`'s.
    pub fn acting(&self, actor: Actor) -> Directory {
        Directory {
            actor: Arc::new(actor),
            ..self.clone()
        }
    }

    /// Who this directory's changes are recorded as.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Records a change of administration that committed: `action` (`tenant.create`), the
    /// tenant's name, what was changed and more of what was done. A failure to record is
    /// logged, not answered: the change is done.
    pub(super) async fn audited(
        &self,
        action: &str,
        tenant: Option<&str>,
        target: Option<String>,
        detail: Option<String>,
    ) {
        let entry = AuditEntry {
            seq: 0,
            id: Uuid::new_v4(),
            at: self.now(),
            actor: (*self.actor).clone(),
            action: action.to_owned(),
            tenant: tenant.map(str::to_owned),
            target,
            detail,
        };
        if let Err(e) = self.store.record_audit(&entry).await {
            tracing::error!(error = %crate::telemetry::chain(&e), action,
                "a change of administration could not be recorded in the audit trail");
        }
    }

    /// The audit trail, newest first.
    pub async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, Error> {
        if let Some(tenant) = &filter.tenant {
            // a tenant deleted since is still asked for by name: only its name is checked
            crate::scim::limits::check_string("tenant", tenant)?;
        }
        Ok(self.store.audit(filter).await?)
    }

    /// Deletes the audit entries older than `retention`, in batches; how many went.
    pub async fn prune_audit(&self, retention: std::time::Duration) -> Result<u64, Error> {
        let before = self.now() - TimeDelta::from_std(retention).unwrap_or(TimeDelta::days(365));
        let mut total = 0;
        loop {
            let pruned = self.store.prune_audit(before, PRUNE_BATCH).await?;
            total += pruned;
            if pruned < u64::from(PRUNE_BATCH) {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }
}
