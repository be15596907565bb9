//! Self-serve setup: the application's team makes a setup link for a tenant (32 random bytes in
//! the URL, kept as SHA-256, 7 days unless told otherwise, 1 hour to 30 days, revocable), and
//! the customer's identity admin who opens it generates the Secret Token, creates the tenant's
//! first team admin for Authorize, registers the schema of attributes Entra sent, and watches
//! the connection come up. Everything done through a link is in the audit trail under the link
//! (actor `setup_link`, named `<tenant>/<link id>`), with the page's openings and the refused
//! uses of an expired or revoked link.

use std::collections::HashSet;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::admins::check_username;
use super::invitations::parse_validity;
use super::tokens::{SETUP_LABEL, hash_token, secret};
use super::{Directory, Error, IssuedToken, RegisteredSchema};
use crate::domain::activity::{self, minute};
use crate::domain::audit::{Actor, ActorKind};
use crate::domain::oauth::Admin;
use crate::domain::setup::{self, Connected, Progress, SetupLink};
use crate::domain::{Tenant, TenantId};
use crate::scim;
use crate::scim::schema::ResourceKind;
use crate::store::{ActivityStore, OAuthStore, SetupStore};

/// How long a setup link is valid unless told otherwise.
pub const DEFAULT_SETUP_DAYS: i64 = 7;
/// Setup link tokens start with this, so that leaked links are easy to recognise.
const SETUP_PREFIX: &str = "scimd_setup_";
/// Where setup pages are, below scimd's root URL.
pub const SETUP_PATH: &str = "/setup";
/// The most links a tenant's list shows per page.
pub const SETUP_LINKS_PAGE: u32 = 100;

/// A link just made: its URL (with the token) is here and nowhere else.
#[derive(Debug)]
pub struct IssuedSetupLink {
    pub link: SetupLink,
    pub url: String,
}

/// What a person opening a setup link finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupAccess {
    /// Valid: the link and its tenant, and the directory acting for the link.
    Open(Box<(SetupLink, Tenant)>),
    /// Expired or revoked (`state` says which); nothing of the tenant is shown.
    Gone { state: &'static str },
    /// No such link.
    Unknown,
}

/// The tenants this process has seen connected, so that only the first request of each
/// writes it.
#[derive(Debug, Default)]
pub struct KnownConnected(Mutex<HashSet<TenantId>>);

impl Directory {
    /// Makes a setup link for `tenant` (`root`: the URL scimd is reached at), valid for
    /// `validity` (`3d`, `12h`, `90m`; 7 days when `None`).
    pub async fn create_setup_link(
        &self,
        tenant: &str,
        validity: Option<&str>,
        root: &str,
    ) -> Result<IssuedSetupLink, Error> {
        let validity = match validity {
            Some(text) => parse_validity(text)?,
            None => TimeDelta::days(DEFAULT_SETUP_DAYS),
        };
        let found = self.tenant(tenant).await?;
        let token = secret(SETUP_PREFIX)?;
        let now = self.now();
        let actor = self.actor();
        let link = SetupLink {
            id: Uuid::new_v4(),
            tenant: found.id,
            tenant_name: found.name.clone(),
            created: now,
            created_by: format!("{} {}", actor.kind.as_str(), actor.name),
            expires: now + validity,
            revoked: None,
            last_used: None,
        };
        self.store
            .put_setup_link(&link, &hash_token(&token))
            .await?;
        self.audited(
            "setup_link.create",
            Some(&found.name),
            Some(link.id.to_string()),
            Some(format!("expires={}", link.expires.to_rfc3339())),
        )
        .await;
        let url = format!("{}{SETUP_PATH}/{token}", root.trim_end_matches('/'));
        Ok(IssuedSetupLink { link, url })
    }

    /// The tenant's setup links, newest first, those older than `before` (the creation time
    /// and id of the previous page's last).
    pub async fn setup_links(
        &self,
        tenant: &str,
        before: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> Result<Vec<SetupLink>, Error> {
        let found = self.tenant(tenant).await?;
        Ok(self.store.setup_links(found.id, before, limit).await?)
    }

    /// Revokes the tenant's setup link `id`: its page answers 410 from then on.
    pub async fn revoke_setup_link(&self, tenant: &str, id: Uuid) -> Result<SetupLink, Error> {
        let found = self.tenant(tenant).await?;
        let now = self.now();
        let Some(link) = self.store.revoke_setup_link(found.id, id, now).await? else {
            return Err(scim::Error::not_found(format!(
                "tenant {} has no setup link {id}",
                found.name
            ))
            .into());
        };
        // revoking a revoked link changes nothing, and is not recorded again
        if link.revoked == Some(now) {
            self.audited(
                "setup_link.revoke",
                Some(&found.name),
                Some(id.to_string()),
                None,
            )
            .await;
        }
        Ok(link)
    }

    /// What the setup link with `token` is. `opened` records an opening of the page in the
    /// audit trail (a page that refreshes itself while it waits does not); a refused use of
    /// an expired or revoked link is always recorded.
    pub async fn setup_access(
        &self,
        token: &str,
        opened: bool,
        address: Option<String>,
    ) -> Result<(SetupAccess, Directory), Error> {
        if token.len() > 256 || token.contains('\0') {
            return Ok((SetupAccess::Unknown, self.clone()));
        }
        let Some(link) = self.store.setup_link_by_token(&hash_token(token)).await? else {
            return Ok((SetupAccess::Unknown, self.clone()));
        };
        let acting = self.acting(Actor {
            kind: ActorKind::SetupLink,
            name: format!("{}/{}", link.tenant_name, link.id),
            address,
        });
        let now = self.now();
        let state = link.state(now);
        if state != "active" {
            acting
                .audited(
                    "setup_link.refused",
                    Some(&link.tenant_name),
                    Some(link.id.to_string()),
                    Some(state.to_owned()),
                )
                .await;
            return Ok((SetupAccess::Gone { state }, acting));
        }
        let tenant = self.tenant(&link.tenant_name).await?;
        if opened {
            self.store.touch_setup_link(link.id, now).await?;
            acting
                .audited(
                    "setup_link.open",
                    Some(&link.tenant_name),
                    Some(link.id.to_string()),
                    None,
                )
                .await;
        }
        Ok((SetupAccess::Open(Box::new((link, tenant))), acting))
    }

    /// Issues a Secret Token from the setup page, revoking the ones the page issued before.
    pub async fn setup_token(&self, link: &SetupLink) -> Result<IssuedToken, Error> {
        let issued = self
            .issue_labelled_token(&link.tenant_name, Some(SETUP_LABEL))
            .await?;
        self.revoke_labelled(link.tenant, SETUP_LABEL, issued.info.id, true)
            .await?;
        Ok(issued)
    }

    /// Creates the tenant's first team admin from the setup page, for Entra's Authorize; a
    /// tenant that has a team admin already gets none from a link (409).
    pub async fn setup_team_admin(
        &self,
        link: &SetupLink,
        username: &str,
        password: &str,
    ) -> Result<Admin, Error> {
        check_username(username)?;
        let admins = self.store.admins(link.tenant).await?;
        if admins.iter().any(|a| a.team_admin) {
            return Err(scim::Error::new(
                409,
                None,
                "this tenant has a team admin already: sign in with that account when Entra's \
                 Authorize asks, or ask the application's team for another",
            )
            .into());
        }
        self.add_admin(&link.tenant_name, username, password, true)
            .await
    }

    /// The tenant's team admins (their user names), and its OAuth clients' ids.
    pub async fn setup_accounts(
        &self,
        tenant: &Tenant,
    ) -> Result<(Vec<String>, Vec<String>), Error> {
        let admins = self.store.admins(tenant.id).await?;
        let clients = self.store.clients(tenant.id).await?;
        Ok((
            admins
                .into_iter()
                .filter(|a| a.team_admin)
                .map(|a| a.username)
                .collect(),
            clients.into_iter().map(|c| c.client_id).collect(),
        ))
    }

    /// Registers, from the setup page, an extension schema of users holding the attributes
    /// under `urn` that the tenant's requests sent and no schema kept (as strings).
    pub async fn register_ignored(
        &self,
        tenant: &Tenant,
        urn: &str,
        names: &[String],
    ) -> Result<RegisteredSchema, Error> {
        let attributes: Vec<Value> = names
            .iter()
            .map(|n| json!({"name": n, "type": "string"}))
            .collect();
        let name = urn.rsplit(':').nth(2).unwrap_or("Custom");
        let document = json!({
            "id": urn,
            "name": format!("{name} attributes"),
            "description": "Attributes the identity provider sent, registered from the setup page",
            "attributes": attributes,
        });
        self.add_schema(&tenant.name, ResourceKind::User, &document)
            .await
    }

    /// Notes that `tenant` was reached with `credential`: the first time in this process, the
    /// store keeps it unless it knew already (a failure is logged; the request goes on).
    pub async fn note_connected(&self, tenant: TenantId, credential: &str) {
        let known = match self.known_connected.0.lock() {
            Ok(mut seen) => !seen.insert(tenant),
            Err(_) => true,
        };
        if known {
            return;
        }
        let connected = Connected {
            at: self.now(),
            credential: credential.to_owned(),
        };
        if let Err(e) = self.store.note_connected(tenant, &connected).await {
            tracing::warn!(error = %crate::telemetry::chain(&e), "the tenant's first connection could not be noted");
            if let Ok(mut seen) = self.known_connected.0.lock() {
                seen.remove(&tenant);
            }
        }
    }

    /// How far the tenant's connection has come: its first request, first user, first cycle
    /// (cycles end after `gap` without a request) and that cycle's refusals by cause.
    pub async fn setup_progress(&self, tenant: &Tenant, gap: TimeDelta) -> Result<Progress, Error> {
        let mut progress = Progress {
            connected: self.store.connected(tenant.id).await?,
            first_user: None,
            first_cycle: None,
            causes: Vec::new(),
            ignored: Vec::new(),
        };
        let Some(connected) = &progress.connected else {
            return Ok(progress);
        };
        let minutes = self
            .store
            .minute_counts(tenant.id, minute(connected.at))
            .await?;
        progress.first_user = minutes
            .iter()
            .find(|m| {
                m.operation == "create" && !m.refused && m.resource_type.as_deref() == Some("User")
            })
            .map(|m| m.minute);
        // lookups alone (Test Connection) make no cycle: the first is the first that wrote
        let Some(cycle) = activity::cycles(&minutes, &[], gap).into_iter().next() else {
            return Ok(progress);
        };
        let until = cycle.last + TimeDelta::minutes(1);
        let groups = self
            .store
            .refusal_groups(tenant.id, cycle.started, until)
            .await?;
        progress.causes = setup::causes(&groups, &tenant.policy.matching);
        let notes = self
            .store
            .ignored_notes(tenant.id, cycle.started, until)
            .await?;
        progress.ignored = setup::ignored_attributes(&notes);
        let ended = self.now() - until >= gap;
        progress.first_cycle = Some((cycle, ended));
        Ok(progress)
    }
}

/// The URNs of extension schemas that attributes in no schema were sent under, each with its
/// attribute names (`urn:…:contoso:2.0:User:badge` is `badge` of `urn:…:contoso:2.0:User`);
/// names without a URN are left out (they can only be kept once Entra sends them under one).
pub fn ignored_by_urn(ignored: &[(String, u64)]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (name, _) in ignored {
        if !name.starts_with("urn:") {
            continue;
        }
        let Some((urn, attribute)) = name.rsplit_once(':') else {
            continue;
        };
        if attribute.is_empty() || attribute.contains('.') || !urn.contains(':') {
            continue;
        }
        match out.iter_mut().find(|(u, _)| u == urn) {
            Some((_, names)) => names.push(attribute.to_owned()),
            None => out.push((urn.to_owned(), vec![attribute.to_owned()])),
        }
    }
    out
}

/// A time as the setup pages and the lists of links say it (to the minute, UTC).
pub fn expires_text(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignored_attributes_under_a_urn_are_grouped_by_it_and_bare_names_left_out() {
        let ignored = [
            (
                "urn:ietf:params:scim:schemas:extension:contoso:2.0:User:badge".to_owned(),
                3,
            ),
            ("costCenter".to_owned(), 2),
            (
                "urn:ietf:params:scim:schemas:extension:contoso:2.0:User:floor".to_owned(),
                1,
            ),
            ("urn:x:name.sub".to_owned(), 1),
        ];
        assert_eq!(
            ignored_by_urn(&ignored),
            [(
                "urn:ietf:params:scim:schemas:extension:contoso:2.0:User".to_owned(),
                vec!["badge".to_owned(), "floor".to_owned()]
            )]
        );
    }
}
