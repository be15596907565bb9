//! Operator accounts and their sessions in SQL for every dialect. Reading a session checks, in
//! one statement, that it is fresh and that its account still exists with the password the
//! session was opened with (`password_version`): a removed or re-passworded account's sessions
//! end at their next request.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Sql, SqlStore, commit, execute};
use crate::domain::operator::OperatorAccount;
use crate::store::dialect::{Dialect, Record};
use crate::store::operator_accounts::OperatorAccountStore;
use crate::store::{Missing, StoreError, Unique};

const COLUMNS: &str = "operator_accounts.id, operator_accounts.username, operator_accounts.created";

fn account(row: &impl Record) -> Result<OperatorAccount, StoreError> {
    Ok(OperatorAccount {
        id: row.uuid("id")?,
        username: row.text("username")?.unwrap_or_default(),
        created: row.instant("created")?,
    })
}

fn missing(username: &str) -> StoreError {
    StoreError::NotFound(Missing::OperatorAccount {
        username: username.trim().to_owned(),
    })
}

/// The key an account is found by: its user name, trimmed, in lower case.
fn key(username: &str) -> String {
    username.trim().to_lowercase()
}

impl<D: Dialect> OperatorAccountStore for SqlStore<D> {
    async fn add_operator_account(
        &self,
        username: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<OperatorAccount, StoreError> {
        let sql = Sql::new(format!(
            "insert into operator_accounts (id, username, username_key, password_hash, created)
             values ($1, $2, $3, $4, $5)
             on conflict (username_key) do nothing
             returning {COLUMNS}"
        ))
        .arg(Uuid::new_v4())
        .arg(username)
        .arg(key(username))
        .arg(password_hash)
        .arg(now);
        let mut conn = self.writer.acquire().await?;
        match D::fetch_optional(&mut conn, sql).await? {
            Some(row) => account(&row),
            None => Err(StoreError::Uniqueness {
                rule: Unique::OperatorAccountName,
                value: username.to_owned(),
            }),
        }
    }

    async fn operator_accounts(&self) -> Result<Vec<OperatorAccount>, StoreError> {
        let sql = Sql::new(format!(
            "select {COLUMNS} from operator_accounts order by username_key"
        ));
        self.fetch_all(sql).await?.iter().map(account).collect()
    }

    async fn operator_account_credentials(
        &self,
        username: &str,
    ) -> Result<Option<(OperatorAccount, String)>, StoreError> {
        let sql = Sql::new(format!(
            "select {COLUMNS}, password_hash from operator_accounts where username_key = $1"
        ))
        .arg(key(username));
        let Some(row) = self.fetch_optional(sql).await? else {
            return Ok(None);
        };
        let hash = row.text("password_hash")?.unwrap_or_default();
        Ok(Some((account(&row)?, hash)))
    }

    async fn set_operator_account_password(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<OperatorAccount, StoreError> {
        let sql = Sql::new(format!(
            "update operator_accounts set password_hash = $2,
                                          password_version = password_version + 1
             where username_key = $1
             returning {COLUMNS}"
        ))
        .arg(key(username))
        .arg(password_hash);
        let mut tx = self.writer.begin_write().await?;
        let row = D::fetch_optional(&mut tx, sql).await?;
        let found = account(&row.ok_or_else(|| missing(username))?)?;
        // the sessions would fail their version check at their next request; they go now
        let end = Sql::new("delete from operator_sessions where account_id = $1").arg(found.id);
        execute::<D>(&mut tx, end).await?;
        commit::<D>(tx).await?;
        Ok(found)
    }

    async fn remove_operator_account(&self, username: &str) -> Result<OperatorAccount, StoreError> {
        let find = Sql::new(format!(
            "select {COLUMNS} from operator_accounts where username_key = $1"
        ))
        .arg(key(username));
        let mut tx = self.writer.begin_write().await?;
        let Some(row) = D::fetch_optional(&mut tx, find).await? else {
            return Err(missing(username));
        };
        let found = account(&row)?;
        let end = Sql::new("delete from operator_sessions where account_id = $1").arg(found.id);
        execute::<D>(&mut tx, end).await?;
        let remove = Sql::new("delete from operator_accounts where id = $1").arg(found.id);
        execute::<D>(&mut tx, remove).await?;
        commit::<D>(tx).await?;
        Ok(found)
    }

    async fn put_operator_session(
        &self,
        session_hash: &[u8],
        account: &OperatorAccount,
        csrf: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = Sql::new(
            "insert into operator_sessions (session_hash, account_id, csrf, password_version,
                                            created, last_seen)
             select $1, $2, $3, password_version, $4, $4 from operator_accounts where id = $2",
        )
        .arg(session_hash)
        .arg(account.id)
        .arg(csrf)
        .arg(now);
        let mut conn = self.writer.acquire().await?;
        execute::<D>(&mut conn, sql).await?;
        // sessions ended a day ago go as new ones come
        let prune = Sql::new("delete from operator_sessions where last_seen < $1")
            .arg(now - chrono::Duration::days(1));
        execute::<D>(&mut conn, prune).await?;
        Ok(())
    }

    async fn operator_session(
        &self,
        session_hash: &[u8],
        idle_since: DateTime<Utc>,
        opened_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<(OperatorAccount, String)>, StoreError> {
        let read = Sql::new(format!(
            "select {COLUMNS}, operator_sessions.csrf
             from operator_sessions
             join operator_accounts on operator_accounts.id = operator_sessions.account_id
             where operator_sessions.session_hash = $1
               and operator_sessions.last_seen >= $2 and operator_sessions.created >= $3
               and operator_accounts.password_version = operator_sessions.password_version"
        ))
        .arg(session_hash)
        .arg(idle_since)
        .arg(opened_since);
        let mut conn = self.writer.acquire().await?;
        let Some(row) = D::fetch_optional(&mut conn, read).await? else {
            let end =
                Sql::new("delete from operator_sessions where session_hash = $1").arg(session_hash);
            execute::<D>(&mut conn, end).await?;
            return Ok(None);
        };
        let touch = Sql::new("update operator_sessions set last_seen = $2 where session_hash = $1")
            .arg(session_hash)
            .arg(now);
        execute::<D>(&mut conn, touch).await?;
        let csrf = row.text("csrf")?.unwrap_or_default();
        Ok(Some((account(&row)?, csrf)))
    }

    async fn delete_operator_session(&self, session_hash: &[u8]) -> Result<(), StoreError> {
        let sql =
            Sql::new("delete from operator_sessions where session_hash = $1").arg(session_hash);
        let mut conn = self.writer.acquire().await?;
        execute::<D>(&mut conn, sql).await?;
        Ok(())
    }
}
