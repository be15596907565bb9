//! Sign-in attempts in SQL for every dialect: one upsert per key counts an attempt and starts
//! a new window when the old one is over, so that parallel attempts are each counted once.

use chrono::{DateTime, Utc};

use super::{Sql, SqlStore, commit, execute};
use crate::store::StoreError;
use crate::store::attempts::{AttemptStore, Attempts};
use crate::store::dialect::{Dialect, Record};

impl<D: Dialect> AttemptStore for SqlStore<D> {
    async fn count_attempt(
        &self,
        keys: &[String],
        window_after: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Attempts>, StoreError> {
        let mut tx = self.writer.begin_write().await?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let sql = Sql::new(
                "insert into sign_in_attempts (key, window_start, attempts) values ($1, $2, 1)
                 on conflict (key) do update set
                     attempts = case when sign_in_attempts.window_start <= $3 then 1
                                     else sign_in_attempts.attempts + 1 end,
                     window_start = case when sign_in_attempts.window_start <= $3 then $2
                                         else sign_in_attempts.window_start end
                 returning attempts, window_start",
            )
            .arg(key.as_str())
            .arg(now)
            .arg(window_after);
            let row = D::fetch_optional(&mut tx, sql).await?;
            let row = row.ok_or_else(|| StoreError::corrupt("attempts", key, "a counted row"))?;
            out.push(Attempts {
                count: row.int("attempts")?.unsigned_abs(),
                window_start: row.instant("window_start")?,
            });
        }
        commit::<D>(tx).await?;
        Ok(out)
    }

    async fn forget_attempts(&self, key: &str) -> Result<(), StoreError> {
        let sql = Sql::new("delete from sign_in_attempts where key = $1").arg(key);
        let mut conn = self.writer.acquire().await?;
        execute::<D>(&mut conn, sql).await?;
        Ok(())
    }

    async fn prune_attempts(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let sql = Sql::new("delete from sign_in_attempts where window_start < $1").arg(before);
        let mut conn = self.writer.acquire().await?;
        execute::<D>(&mut conn, sql).await
    }
}
