//! Admin invitations in SQL for every dialect: issuing one replaces the admin's others in one
//! transaction; using one is a single conditional update, so a link works once.

use chrono::{DateTime, Utc};

use super::{Sql, SqlStore, commit, execute};
use crate::domain::oauth::{Admin, Invitation};
use crate::store::StoreError;
use crate::store::dialect::{Dialect, Record};
use crate::store::invitations::InvitationStore;

const INVITATION_SELECT: &str = "select admins.id, admins.tenant_id, admins.username, \
     admins.team_admin, admins.created, tenants.name as tenant_name, \
     admin_invitations.expires, admin_invitations.used \
     from admin_invitations join admins on admins.id = admin_invitations.admin_id \
     join tenants on tenants.id = admin_invitations.tenant_id \
     where admin_invitations.token_hash = $1";

fn invitation(row: &impl Record) -> Result<Invitation, StoreError> {
    Ok(Invitation {
        admin: super::oauth::admin(row)?,
        tenant_name: row.text("tenant_name")?.unwrap_or_default(),
        expires: row.instant("expires")?,
        used: row.opt_instant("used")?,
    })
}

impl<D: Dialect> InvitationStore for SqlStore<D> {
    async fn put_invitation(
        &self,
        token_hash: &[u8],
        admin: &Admin,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_write().await?;
        let revoke = Sql::new("delete from admin_invitations where admin_id = $1").arg(admin.id);
        execute::<D>(&mut tx, revoke).await?;
        let insert = Sql::new(
            "insert into admin_invitations (token_hash, admin_id, tenant_id, created, expires)
             values ($1, $2, $3, $4, $5)",
        )
        .arg(token_hash)
        .arg(admin.id)
        .arg(admin.tenant)
        .arg(now)
        .arg(expires);
        execute::<D>(&mut tx, insert).await?;
        commit::<D>(tx).await
    }

    async fn invitation(&self, token_hash: &[u8]) -> Result<Option<Invitation>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = D::fetch_optional(&mut conn, Sql::new(INVITATION_SELECT).arg(token_hash)).await?;
        row.as_ref().map(invitation).transpose()
    }

    async fn use_invitation(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<Invitation>, StoreError> {
        let take = Sql::new(
            "update admin_invitations set used = $2
             where token_hash = $1 and used is null and expires > $2",
        )
        .arg(token_hash)
        .arg(now);
        let mut conn = self.writer.acquire().await?;
        if execute::<D>(&mut conn, take).await? == 0 {
            return Ok(None);
        }
        let row = D::fetch_optional(&mut conn, Sql::new(INVITATION_SELECT).arg(token_hash)).await?;
        row.as_ref().map(invitation).transpose()
    }
}
