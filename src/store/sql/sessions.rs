//! Console sessions in SQL for every dialect. Reading a session checks, in one statement, that
//! it is fresh, that its admin still exists and is a team admin, and that the admin's password
//! is the one the session was opened with (`password_version`): a demoted, removed or
//! re-passworded admin's sessions end at their next request.

use chrono::{DateTime, Utc};

use super::rows::{self, TENANT_COLUMNS};
use super::{Sql, SqlStore, execute};
use crate::domain::Tenant;
use crate::domain::oauth::Admin;
use crate::store::StoreError;
use crate::store::dialect::{Dialect, Record};
use crate::store::sessions::SessionStore;

impl<D: Dialect> SessionStore for SqlStore<D> {
    async fn put_session(
        &self,
        session_hash: &[u8],
        admin: &Admin,
        csrf: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = Sql::new(
            "insert into admin_sessions (session_hash, admin_id, tenant_id, csrf, created,
                                         last_seen, password_version)
             select $1, $2, $3, $4, $5, $5, password_version from admins where id = $2",
        )
        .arg(session_hash)
        .arg(admin.id)
        .arg(admin.tenant)
        .arg(csrf)
        .arg(now);
        let mut conn = self.writer.acquire().await?;
        execute::<D>(&mut conn, sql).await?;
        // sessions ended a day ago go as new ones come
        let prune = Sql::new("delete from admin_sessions where last_seen < $1")
            .arg(now - chrono::Duration::days(1));
        execute::<D>(&mut conn, prune).await?;
        Ok(())
    }

    async fn session(
        &self,
        session_hash: &[u8],
        idle_since: DateTime<Utc>,
        opened_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<(Admin, Tenant, String)>, StoreError> {
        let touch = Sql::new(
            "update admin_sessions set last_seen = $4
             where session_hash = $1 and last_seen >= $2 and created >= $3",
        )
        .arg(session_hash)
        .arg(idle_since)
        .arg(opened_since)
        .arg(now);
        let mut conn = self.writer.acquire().await?;
        if execute::<D>(&mut conn, touch).await? == 0 {
            let end =
                Sql::new("delete from admin_sessions where session_hash = $1").arg(session_hash);
            execute::<D>(&mut conn, end).await?;
            return Ok(None);
        }
        let read = Sql::new(
            "select admins.id, admins.tenant_id, admins.username, admins.team_admin, admins.created,
                    admin_sessions.csrf
             from admin_sessions join admins on admins.id = admin_sessions.admin_id
             where admin_sessions.session_hash = $1 and admins.team_admin
               and admins.password_version = admin_sessions.password_version",
        )
        .arg(session_hash);
        let Some(row) = D::fetch_optional(&mut conn, read).await? else {
            let end =
                Sql::new("delete from admin_sessions where session_hash = $1").arg(session_hash);
            execute::<D>(&mut conn, end).await?;
            return Ok(None);
        };
        let csrf = row.text("csrf")?.unwrap_or_default();
        let admin = super::oauth::admin(&row)?;
        let tenant = Sql::new(format!(
            "select {TENANT_COLUMNS} from tenants where tenants.id = $1"
        ))
        .arg(admin.tenant);
        let Some(tenant) = D::fetch_optional(&mut conn, tenant).await? else {
            return Ok(None);
        };
        Ok(Some((admin, rows::tenant(&tenant)?, csrf)))
    }

    async fn delete_session(&self, session_hash: &[u8]) -> Result<(), StoreError> {
        let sql = Sql::new("delete from admin_sessions where session_hash = $1").arg(session_hash);
        let mut conn = self.writer.acquire().await?;
        execute::<D>(&mut conn, sql).await?;
        Ok(())
    }
}
