//! OAuth 2.0 in SQL for every dialect: admins, clients, single-use codes, and token families
//! whose rotation and revocation each run in one transaction. Every revocation is announced so
//! that every replica's token cache forgets.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Sql, SqlStore, commit, execute};
use crate::domain::TenantId;
use crate::domain::oauth::{Admin, CodeGrant, OAuthClient, Rotation, TokenGrant};
use crate::store::dialect::{Conn, Dialect, Record};
use crate::store::oauth::OAuthStore;
use crate::store::{Missing, StoreError, Unique};

const ADMIN_COLUMNS: &str = "id, tenant_id, username, team_admin, created";
const CLIENT_SELECT: &str = "select oauth_clients.id, oauth_clients.tenant_id, tenants.name as tenant_name, \
     oauth_clients.client_id, oauth_clients.secret_hash, oauth_clients.redirect_uris, oauth_clients.created \
     from oauth_clients join tenants on tenants.id = oauth_clients.tenant_id";

pub(super) fn admin(row: &impl Record) -> Result<Admin, StoreError> {
    Ok(Admin {
        id: row.uuid("id")?,
        tenant: TenantId(row.uuid("tenant_id")?),
        username: row.text("username")?.unwrap_or_default(),
        team_admin: row.flag("team_admin")?,
        created: row.instant("created")?,
    })
}

fn client(row: &impl Record) -> Result<OAuthClient, StoreError> {
    Ok(OAuthClient {
        id: row.uuid("id")?,
        tenant: TenantId(row.uuid("tenant_id")?),
        tenant_name: row.text("tenant_name")?.unwrap_or_default(),
        client_id: row.text("client_id")?.unwrap_or_default(),
        redirect_uris: row.texts("redirect_uris")?.unwrap_or_default(),
        created: row.instant("created")?,
        secret_hash: row.bytes("secret_hash")?,
    })
}

fn code(row: &impl Record) -> Result<CodeGrant, StoreError> {
    Ok(CodeGrant {
        client: row.uuid("client_id")?,
        tenant: TenantId(row.uuid("tenant_id")?),
        admin: row.uuid("admin_id")?,
        redirect_uri: row.text("redirect_uri")?,
        challenge: row.text("code_challenge")?,
        challenge_method: row.text("code_challenge_method")?,
        family: row.uuid("family")?,
        expires: row.instant("expires_at")?,
    })
}

impl<D: Dialect> OAuthStore for SqlStore<D> {
    async fn add_admin(
        &self,
        tenant: TenantId,
        username: &str,
        password_hash: &str,
        team_admin: bool,
    ) -> Result<Admin, StoreError> {
        let sql = Sql::new(format!(
            "insert into admins (id, tenant_id, username, username_key, password_hash, team_admin, created)
             values ($1, $2, $3, $4, $5, $6, $7)
             on conflict (username_key, tenant_id) do nothing
             returning {ADMIN_COLUMNS}"
        ))
        .arg(Uuid::new_v4())
        .arg(tenant)
        .arg(username)
        .arg(username.to_lowercase())
        .arg(password_hash)
        .arg(team_admin)
        .arg(Utc::now());
        let mut conn = self.writer.acquire().await?;
        match D::fetch_optional(&mut conn, sql).await? {
            Some(row) => admin(&row),
            None => Err(StoreError::Uniqueness {
                rule: Unique::AdminName,
                value: username.to_owned(),
            }),
        }
    }

    async fn admins(&self, tenant: TenantId) -> Result<Vec<Admin>, StoreError> {
        let sql = Sql::new(format!(
            "select {ADMIN_COLUMNS} from admins where tenant_id = $1 order by username_key"
        ))
        .arg(tenant);
        self.fetch_all(sql).await?.iter().map(admin).collect()
    }

    async fn admin_credentials(
        &self,
        tenant: TenantId,
        username: &str,
    ) -> Result<Option<(Admin, String)>, StoreError> {
        let sql = Sql::new(format!(
            "select {ADMIN_COLUMNS}, password_hash from admins
             where username_key = $1 and tenant_id = $2"
        ))
        .arg(username.to_lowercase())
        .arg(tenant);
        let Some(row) = self.fetch_optional(sql).await? else {
            return Ok(None);
        };
        let hash = row.text("password_hash")?.unwrap_or_default();
        Ok(Some((admin(&row)?, hash)))
    }

    async fn update_admin(
        &self,
        tenant: TenantId,
        username: &str,
        team_admin: Option<bool>,
        password_hash: Option<&str>,
    ) -> Result<Admin, StoreError> {
        let sql = Sql::new(format!(
            "update admins set team_admin = coalesce($3, team_admin),
                               password_hash = coalesce($4, password_hash),
                               password_version = password_version + $5
             where username_key = $1 and tenant_id = $2
             returning {ADMIN_COLUMNS}"
        ))
        .arg(username.to_lowercase())
        .arg(tenant)
        .arg(team_admin)
        .arg(password_hash)
        .arg(i64::from(password_hash.is_some()));
        let mut tx = self.writer.begin_write().await?;
        let row = D::fetch_optional(&mut tx, sql).await?;
        let admin = admin(&row.ok_or_else(|| missing_admin(username))?)?;
        if team_admin == Some(false) {
            // the right the admin's authorizations and sessions rest on is gone
            end_sessions::<D>(&mut tx, admin.id).await?;
            revoke::<D>(&mut tx, Grantor::Admin(admin.id), Utc::now()).await?;
        }
        commit::<D>(tx).await?;
        if team_admin == Some(false) {
            self.tokens.clear();
        }
        Ok(admin)
    }

    async fn remove_admin(&self, tenant: TenantId, username: &str) -> Result<(), StoreError> {
        let find = Sql::new("select id from admins where username_key = $1 and tenant_id = $2")
            .arg(username.to_lowercase())
            .arg(tenant);
        let mut tx = self.writer.begin_write().await?;
        let Some(row) = D::fetch_optional(&mut tx, find).await? else {
            return Err(missing_admin(username));
        };
        let id = row.uuid("id")?;
        // sessions go with the admin (on delete cascade); what they authorized goes too
        revoke::<D>(&mut tx, Grantor::Admin(id), Utc::now()).await?;
        execute::<D>(
            &mut tx,
            Sql::new("delete from admins where id = $1").arg(id),
        )
        .await?;
        commit::<D>(tx).await?;
        self.tokens.clear();
        Ok(())
    }

    async fn add_client(
        &self,
        tenant: TenantId,
        client_id: &str,
        secret_hash: &[u8],
        redirect_uris: &[String],
    ) -> Result<OAuthClient, StoreError> {
        let sql = Sql::new(
            "insert into oauth_clients (id, tenant_id, client_id, secret_hash, redirect_uris, created)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .arg(Uuid::new_v4())
        .arg(tenant)
        .arg(client_id)
        .arg(secret_hash)
        .arg(Some(redirect_uris))
        .arg(Utc::now());
        let mut conn = self.writer.acquire().await?;
        execute::<D>(&mut conn, sql).await?;
        drop(conn);
        self.client(client_id)
            .await?
            .ok_or_else(|| missing_client(client_id))
    }

    async fn clients(&self, tenant: TenantId) -> Result<Vec<OAuthClient>, StoreError> {
        let sql = Sql::new(format!(
            "{CLIENT_SELECT} where oauth_clients.tenant_id = $1 order by {}",
            D::CLIENT_ORDER
        ))
        .arg(tenant);
        self.fetch_all(sql).await?.iter().map(client).collect()
    }

    async fn client(&self, client_id: &str) -> Result<Option<OAuthClient>, StoreError> {
        let sql = Sql::new(format!(
            "{CLIENT_SELECT} where oauth_clients.client_id = $1"
        ))
        .arg(client_id);
        self.fetch_optional(sql)
            .await?
            .as_ref()
            .map(client)
            .transpose()
    }

    async fn set_client_secret(
        &self,
        client_id: &str,
        secret_hash: &[u8],
    ) -> Result<OAuthClient, StoreError> {
        let sql = Sql::new("update oauth_clients set secret_hash = $2 where client_id = $1")
            .arg(client_id)
            .arg(secret_hash);
        let mut conn = self.writer.acquire().await?;
        if execute::<D>(&mut conn, sql).await? == 0 {
            return Err(missing_client(client_id));
        }
        drop(conn);
        self.client(client_id)
            .await?
            .ok_or_else(|| missing_client(client_id))
    }

    async fn remove_client(&self, client_id: &str) -> Result<(), StoreError> {
        let sql = Sql::new("delete from oauth_clients where client_id = $1").arg(client_id);
        let mut tx = self.writer.begin_write().await?;
        if execute::<D>(&mut tx, sql).await? == 0 {
            return Err(missing_client(client_id));
        }
        D::announce_token_change(&mut tx).await?;
        commit::<D>(tx).await?;
        self.tokens.clear();
        Ok(())
    }

    async fn put_code(&self, code_hash: &[u8], grant: &CodeGrant) -> Result<(), StoreError> {
        let sql = Sql::new(
            "insert into oauth_codes (code_hash, client_id, tenant_id, admin_id, redirect_uri,
                                      code_challenge, code_challenge_method, family, expires_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .arg(code_hash)
        .arg(grant.client)
        .arg(grant.tenant)
        .arg(grant.admin)
        .arg(grant.redirect_uri.as_deref())
        .arg(grant.challenge.as_deref())
        .arg(grant.challenge_method.as_deref())
        .arg(grant.family)
        .arg(grant.expires);
        let mut tx = self.writer.begin_write().await?;
        // codes expired for a day go as new ones come
        let prune = Sql::new("delete from oauth_codes where expires_at < $1")
            .arg(Utc::now() - chrono::Duration::days(1));
        execute::<D>(&mut tx, prune).await?;
        execute::<D>(&mut tx, sql).await?;
        commit::<D>(tx).await
    }

    async fn take_code(
        &self,
        code_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(CodeGrant, bool)>, StoreError> {
        let mut tx = self.writer.begin_write().await?;
        let take = Sql::new(
            "update oauth_codes set used_at = $2 where code_hash = $1 and used_at is null",
        )
        .arg(code_hash)
        .arg(now);
        let first = execute::<D>(&mut tx, take).await? == 1;
        let read = Sql::new(
            "select client_id, tenant_id, admin_id, redirect_uri, code_challenge,
                    code_challenge_method, family, expires_at
             from oauth_codes where code_hash = $1",
        )
        .arg(code_hash);
        let found = D::fetch_optional(&mut tx, read).await?;
        let grant = found.as_ref().map(code).transpose()?;
        commit::<D>(tx).await?;
        Ok(grant.map(|g| (g, first)))
    }

    async fn store_tokens(&self, grant: &TokenGrant, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_write().await?;
        insert_tokens::<D>(&mut tx, grant, now).await?;
        commit::<D>(tx).await
    }

    async fn rotate_refresh(
        &self,
        old: &[u8],
        client: Uuid,
        next: &TokenGrant,
        now: DateTime<Utc>,
        max_age: std::time::Duration,
    ) -> Result<Rotation, StoreError> {
        let mut tx = self.writer.begin_write().await?;
        // the token's row is held from the read on, so that rotations of one token run one
        // after the other, each seeing what the one before did. Without it, a loser whose
        // conditional update below waited for the winner still locked the row (PostgreSQL
        // locks a row updated meanwhile to recheck it) and went on to revoke the family's
        // access tokens, while another loser, which had revoked them first, waited for that
        // row: a deadlock.
        let read = Sql::new(format!(
            "select tenant_id, family, admin_id, coalesce(family_started, created) as started,
                    expires_at, used_at, revoked_at
             from refresh_tokens where token_hash = $1 and client_id = $2{}",
            D::FOR_UPDATE
        ))
        .arg(old)
        .arg(client);
        let Some(row) = D::fetch_optional(&mut tx, read).await? else {
            return Ok(Rotation::Unknown);
        };
        let family = row.uuid("family")?;
        let spent =
            row.opt_instant("used_at")?.is_some() || row.opt_instant("revoked_at")?.is_some();
        if spent {
            revoke::<D>(&mut tx, Grantor::Family(family), now).await?;
            commit::<D>(tx).await?;
            self.tokens.clear();
            return Ok(Rotation::Reused);
        }
        let family_started = row.instant("started")?;
        // none when `max_age` reaches beyond the calendar: the family never ends
        let family_ends = chrono::TimeDelta::from_std(max_age)
            .ok()
            .and_then(|age| family_started.checked_add_signed(age));
        if row.instant("expires_at")? <= now || family_ends.is_some_and(|end| end <= now) {
            return Ok(Rotation::Expired);
        }
        // the condition makes one of two concurrent rotations of the same token the loser
        let take = Sql::new(
            "update refresh_tokens set used_at = $2 where token_hash = $1 and used_at is null",
        )
        .arg(old)
        .arg(now);
        if execute::<D>(&mut tx, take).await? == 0 {
            revoke::<D>(&mut tx, Grantor::Family(family), now).await?;
            commit::<D>(tx).await?;
            self.tokens.clear();
            return Ok(Rotation::Reused);
        }
        let next = TokenGrant {
            tenant: TenantId(row.uuid("tenant_id")?),
            family,
            admin: row.opt_uuid("admin_id")?,
            family_started,
            refresh: next
                .refresh
                .clone()
                .map(|(hash, expires)| (hash, family_ends.map_or(expires, |end| expires.min(end)))),
            ..next.clone()
        };
        insert_tokens::<D>(&mut tx, &next, now).await?;
        commit::<D>(tx).await?;
        Ok(Rotation::Rotated)
    }

    async fn revoke_family(&self, family: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_write().await?;
        revoke::<D>(&mut tx, Grantor::Family(family), now).await?;
        commit::<D>(tx).await?;
        self.tokens.clear();
        Ok(())
    }
}

/// Stores a grant's access token (and refresh token), dropping its client's access tokens
/// that expired a day ago.
async fn insert_tokens<D: Dialect>(
    conn: &mut Conn<D>,
    grant: &TokenGrant,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let prune = Sql::new("delete from tokens where client_id = $1 and expires_at < $2")
        .arg(grant.client)
        .arg(now - chrono::Duration::days(1));
    execute::<D>(conn, prune).await?;
    let access = Sql::new(
        "insert into tokens (id, tenant_id, label, token_hash, created, expires_at, client_id,
                             family, admin_id)
         values ($1, $2, 'oauth', $3, $4, $5, $6, $7, $8)",
    )
    .arg(Uuid::new_v4())
    .arg(grant.tenant)
    .arg(grant.access_hash.as_slice())
    .arg(now)
    .arg(grant.access_expires)
    .arg(grant.client)
    .arg(grant.family)
    .arg(grant.admin);
    execute::<D>(conn, access).await?;
    if let Some((hash, expires)) = &grant.refresh {
        let prune = Sql::new("delete from refresh_tokens where client_id = $1 and expires_at < $2")
            .arg(grant.client)
            .arg(now);
        execute::<D>(conn, prune).await?;
        let refresh = Sql::new(
            "insert into refresh_tokens (token_hash, client_id, tenant_id, family, created,
                                         expires_at, admin_id, family_started)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .arg(hash.as_slice())
        .arg(grant.client)
        .arg(grant.tenant)
        .arg(grant.family)
        .arg(now)
        .arg(*expires)
        .arg(grant.admin)
        .arg(grant.family_started);
        execute::<D>(conn, refresh).await?;
    }
    Ok(())
}

/// Who revoked tokens are: a family, or everything an admin authorized.
#[derive(Clone, Copy)]
enum Grantor {
    Family(Uuid),
    Admin(Uuid),
}

/// Revokes the access and refresh tokens of a family, or every token an admin authorized (all
/// their families, and the codes of theirs not yet exchanged, which would start one), and
/// announces it.
async fn revoke<D: Dialect>(
    conn: &mut Conn<D>,
    whose: Grantor,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (column, id) = match whose {
        Grantor::Family(id) => ("family", id),
        Grantor::Admin(id) => ("admin_id", id),
    };
    if let Grantor::Admin(admin) = whose {
        let codes = Sql::new("delete from oauth_codes where admin_id = $1").arg(admin);
        execute::<D>(conn, codes).await?;
    }
    for table in ["tokens", "refresh_tokens"] {
        let sql = Sql::new(format!(
            "update {table} set revoked_at = coalesce(revoked_at, $2) where {column} = $1"
        ))
        .arg(id)
        .arg(now);
        execute::<D>(conn, sql).await?;
    }
    D::announce_token_change(conn).await
}

/// Ends every console session of the admin `admin`.
async fn end_sessions<D: Dialect>(conn: &mut Conn<D>, admin: Uuid) -> Result<(), StoreError> {
    let sql = Sql::new("delete from admin_sessions where admin_id = $1").arg(admin);
    execute::<D>(conn, sql).await?;
    Ok(())
}

fn missing_admin(username: &str) -> StoreError {
    StoreError::NotFound(Missing::Admin {
        username: username.to_owned(),
    })
}

fn missing_client(client_id: &str) -> StoreError {
    StoreError::NotFound(Missing::Client {
        client_id: client_id.to_owned(),
    })
}
