//! The application's API in SQL for every dialect: operator keys (found through the credential
//! cache, their removal announced like a token's revocation), the answers of Idempotency-Key
//! writes, and the audit trail, read newest first by (`at`, `id`).

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::{Sql, SqlStore, commit, execute};
use crate::domain::audit::{Actor, ActorKind, AuditEntry, AuditFilter};
use crate::domain::operator::{OperatorKey, Remembered};
use crate::store::dialect::{Constraint, Dialect, Record};
use crate::store::operators::OperatorStore;
use crate::store::{Missing, StoreError, Unique};

const KEY_COLUMNS: &str = "id, name, read_only, created, last_used";
const AUDIT_COLUMNS: &str = "id, at, actor_kind, actor, address, action, tenant, target, detail";
const AUDIT_READ: &str = "seq, id, at, actor_kind, actor, address, action, tenant, target, detail";

fn key(r: &impl Record) -> Result<OperatorKey, StoreError> {
    Ok(OperatorKey {
        id: r.uuid("id")?,
        name: r.text("name")?.unwrap_or_default(),
        read_only: r.flag("read_only")?,
        created: r.instant("created")?,
        last_used: r.opt_instant("last_used")?,
    })
}

fn entry(r: &impl Record) -> Result<AuditEntry, StoreError> {
    let kind = r.text("actor_kind")?.unwrap_or_default();
    Ok(AuditEntry {
        seq: r.int("seq")?,
        id: r.uuid("id")?,
        at: r.instant("at")?,
        actor: Actor {
            kind: ActorKind::parse(&kind)
                .ok_or_else(|| StoreError::corrupt("actor_kind", &kind, "an actor kind"))?,
            name: r.text("actor")?.unwrap_or_default(),
            address: r.text("address")?,
        },
        action: r.text("action")?.unwrap_or_default(),
        tenant: r.text("tenant")?,
        target: r.text("target")?,
        detail: r.text("detail")?,
    })
}

impl<D: Dialect> OperatorStore for SqlStore<D> {
    async fn add_operator_key(
        &self,
        name: &str,
        read_only: bool,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<OperatorKey, StoreError> {
        let sql = Sql::new(format!(
            "insert into operator_keys (id, name, read_only, key_hash, created)
             values ($1, $2, $3, $4, $5)
             returning {KEY_COLUMNS}"
        ))
        .arg(Uuid::new_v4())
        .arg(name)
        .arg(read_only)
        .arg(hash)
        .arg(now);
        let mut conn = self.writer.acquire().await?;
        let row = D::fetch_optional(&mut conn, sql)
            .await
            .map_err(|e| match D::violated(&e) {
                Some(Constraint::OperatorKeyName) => StoreError::Uniqueness {
                    rule: Unique::OperatorKeyName,
                    value: name.to_owned(),
                },
                _ => e,
            })?;
        key(&row.ok_or_else(|| missing(name))?)
    }

    async fn operator_keys(&self) -> Result<Vec<OperatorKey>, StoreError> {
        let sql = Sql::new(format!(
            "select {KEY_COLUMNS} from operator_keys order by lower(name)"
        ));
        self.fetch_all(sql).await?.iter().map(key).collect()
    }

    async fn operator_key(
        &self,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(OperatorKey, Vec<u8>)>, StoreError> {
        let generation = self.tokens.generation();
        let (mut found, stored, cached) = match self.tokens.get_operator(hash) {
            Some((found, stored)) => (found, stored, true),
            None => {
                let sql = Sql::new(format!(
                    "select {KEY_COLUMNS}, key_hash from operator_keys where key_hash = $1"
                ))
                .arg(hash);
                let Some(row) = self.fetch_optional(sql).await? else {
                    return Ok(None);
                };
                let stored = row.bytes("key_hash")?;
                (key(&row)?, stored, false)
            }
        };
        let mut changed = !cached;
        // when it was last used, to the minute: a key in use costs one write a minute, cached
        // or not
        if found
            .last_used
            .is_none_or(|at| now - at >= TimeDelta::minutes(1))
        {
            let touch = Sql::new("update operator_keys set last_used = $2 where id = $1")
                .arg(found.id)
                .arg(now);
            execute::<D>(&mut *self.writer.acquire().await?, touch).await?;
            found.last_used = Some(now);
            changed = true;
        }
        if changed {
            self.tokens.put_operator(generation, hash, &found, &stored);
        }
        Ok(Some((found, stored)))
    }

    async fn remove_operator_key(&self, id_or_name: &str) -> Result<OperatorKey, StoreError> {
        let mut find = Sql::new(format!("select {KEY_COLUMNS} from operator_keys where "));
        match id_or_name.parse::<Uuid>() {
            Ok(id) => find.push("id = ").push_bind(id),
            Err(_) => find
                .push("lower(name) = lower(")
                .push_bind(id_or_name)
                .push(")"),
        };
        let mut tx = self.writer.begin_write().await?;
        let Some(row) = D::fetch_optional(&mut tx, find).await? else {
            return Err(missing(id_or_name));
        };
        let found = key(&row)?;
        let delete = Sql::new("delete from operator_keys where id = $1").arg(found.id);
        execute::<D>(&mut tx, delete).await?;
        D::announce_token_change(&mut tx).await?;
        commit::<D>(tx).await?;
        self.tokens.clear();
        Ok(found)
    }

    async fn remembered(
        &self,
        key: Uuid,
        idempotency_key: &str,
    ) -> Result<Option<Remembered>, StoreError> {
        let sql = Sql::new(
            "select request_hash, status, body, withheld, created from idempotency
             where operator_key_id = $1 and idempotency_key = $2",
        )
        .arg(key)
        .arg(idempotency_key);
        let Some(row) = self.fetch_optional(sql).await? else {
            return Ok(None);
        };
        Ok(Some(Remembered {
            request_hash: row.bytes("request_hash")?,
            status: u16::try_from(row.int("status")?).unwrap_or(500),
            body: row.text("body")?.unwrap_or_default(),
            withheld: row.flag("withheld")?,
            created: row.instant("created")?,
        }))
    }

    async fn remember(
        &self,
        key: Uuid,
        idempotency_key: &str,
        answer: &Remembered,
    ) -> Result<bool, StoreError> {
        let sql = Sql::new(
            "insert into idempotency (operator_key_id, idempotency_key, request_hash, status,
                                      body, withheld, created)
             values ($1, $2, $3, $4, $5, $6, $7)
             on conflict (operator_key_id, idempotency_key) do nothing",
        )
        .arg(key)
        .arg(idempotency_key)
        .arg(answer.request_hash.as_slice())
        .arg(i64::from(answer.status))
        .arg(answer.body.as_str())
        .arg(answer.withheld)
        .arg(answer.created);
        let mut conn = self.writer.acquire().await?;
        Ok(execute::<D>(&mut conn, sql).await? == 1)
    }

    async fn settle(
        &self,
        key: Uuid,
        idempotency_key: &str,
        answer: &Remembered,
    ) -> Result<(), StoreError> {
        let sql = Sql::new(
            "update idempotency set status = $3, body = $4, withheld = $5
             where operator_key_id = $1 and idempotency_key = $2 and status = 0",
        )
        .arg(key)
        .arg(idempotency_key)
        .arg(i64::from(answer.status))
        .arg(answer.body.as_str())
        .arg(answer.withheld);
        execute::<D>(&mut *self.writer.acquire().await?, sql).await?;
        Ok(())
    }

    async fn forget_answer(&self, key: Uuid, idempotency_key: &str) -> Result<(), StoreError> {
        let sql =
            Sql::new("delete from idempotency where operator_key_id = $1 and idempotency_key = $2")
                .arg(key)
                .arg(idempotency_key);
        execute::<D>(&mut *self.writer.acquire().await?, sql).await?;
        Ok(())
    }

    async fn forget_answers(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let sql = Sql::new("delete from idempotency where created < $1").arg(before);
        execute::<D>(&mut *self.writer.acquire().await?, sql).await
    }

    async fn record_audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        let sql = Sql::new(format!(
            "insert into audit ({AUDIT_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .arg(e.id)
        .arg(e.at)
        .arg(e.actor.kind.as_str())
        .arg(e.actor.name.as_str())
        .arg(e.actor.address.as_deref())
        .arg(e.action.as_str())
        .arg(e.tenant.as_deref())
        .arg(e.target.as_deref())
        .arg(e.detail.as_deref());
        execute::<D>(&mut *self.writer.acquire().await?, sql).await?;
        Ok(())
    }

    async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let mut sql = Sql::new(format!("select {AUDIT_READ} from audit where 1 = 1"));
        if let Some(tenant) = &filter.tenant {
            sql.push(" and tenant = ").push_bind(tenant.as_str());
        }
        if let Some(seq) = filter.before {
            sql.push(" and seq < ").push_bind(seq);
        }
        sql.push(" order by seq desc limit ")
            .push_bind(i64::from(filter.limit));
        self.fetch_all(sql).await?.iter().map(entry).collect()
    }

    async fn prune_audit(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, StoreError> {
        let sql = Sql::new(format!(
            "delete from audit where {}",
            D::in_select(
                "seq",
                "select seq from audit where at < $1 order by seq limit $2"
            )
        ))
        .arg(before)
        .arg(i64::from(batch));
        execute::<D>(&mut *self.writer.acquire().await?, sql).await
    }
}

fn missing(key: &str) -> StoreError {
    StoreError::NotFound(Missing::OperatorKey {
        key: key.to_owned(),
    })
}
