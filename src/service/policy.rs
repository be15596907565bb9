//! A tenant's directory rules, from Microsoft's "Configure GoToMeeting for automatic user
//! provisioning" tutorial: the matching attributes, each unique in the tenant, and the roles a
//! user may or must carry (a user assigned with "Default Access" carries none).

use serde_json::Value;

use super::{Directory, Error};
use crate::domain::{
    Deprovisioning, Limits, MAX_RETAIN_FOR_SECS, OnDelete, Passwords, Policy, Precedence,
    SoftDeleteRenames, Tenant,
};
use crate::scim;
use crate::scim::canonical::Document;
use crate::scim::password;
use crate::scim::schema::ResourceKind;
use crate::store::SchemaStore;
use crate::store::Tenants;

/// Changes to a tenant's rules; `None` leaves a rule as it is.
#[derive(Debug, Default, Clone)]
pub struct PolicyChange {
    /// The matching attributes, precedence 1 first.
    pub matching: Option<Precedence>,
    /// `Some(None)`: any role.
    pub allowed_roles: Option<Option<Vec<String>>>,
    pub require_role: Option<bool>,
    /// `Some(None)`: accept no Entra-signed tokens.
    pub entra_tenant: Option<Option<uuid::Uuid>>,
    pub unknown_attributes: Option<crate::domain::UnknownAttributes>,
    pub passwords: Option<Passwords>,
    pub soft_delete_renames: Option<SoftDeleteRenames>,
    /// What a `DELETE` of a user does.
    pub on_delete: Option<OnDelete>,
    /// How long a retained user is kept, in seconds (1 s to 100 years).
    pub retain_for_secs: Option<i64>,
    /// Whether a create with a retained user's `externalId` restores that user.
    pub restore_on_create: Option<bool>,
    /// The tenant's rate of SCIM requests per second; `Some(None)`: none.
    pub rate_limit: Option<Option<u32>>,
    /// The tenant's ceiling of SCIM requests in flight; `Some(None)`: the server's.
    pub max_in_flight: Option<Option<u32>>,
}

impl PolicyChange {
    /// Whether the change sets nothing.
    pub fn is_empty(&self) -> bool {
        self.matching.is_none()
            && self.allowed_roles.is_none()
            && self.require_role.is_none()
            && self.entra_tenant.is_none()
            && self.unknown_attributes.is_none()
            && self.passwords.is_none()
            && self.soft_delete_renames.is_none()
            && !self.deprovisions()
            && self.rate_limit.is_none()
            && self.max_in_flight.is_none()
    }

    /// Whether the change sets a deprovisioning rule.
    fn deprovisions(&self) -> bool {
        self.on_delete.is_some()
            || self.retain_for_secs.is_some()
            || self.restore_on_create.is_some()
    }

    /// What the change sets, for the audit trail: `matching=userName,externalId,
    /// require_role=true`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(m) = self.matching {
            parts.push(format!("matching={}", m.names().join(",")));
        }
        if let Some(roles) = &self.allowed_roles {
            parts.push(match roles {
                Some(r) => format!("allowed_roles={}", r.join(",")),
                None => "allowed_roles=any".to_owned(),
            });
        }
        if let Some(r) = self.require_role {
            parts.push(format!("require_role={r}"));
        }
        if let Some(e) = self.entra_tenant {
            parts.push(match e {
                Some(t) => format!("entra_tenant={t}"),
                None => "entra_tenant=none".to_owned(),
            });
        }
        if let Some(u) = self.unknown_attributes {
            parts.push(format!("unknown_attributes={}", u.as_str()));
        }
        if let Some(p) = self.passwords {
            parts.push(format!("passwords={}", p.as_str()));
        }
        if let Some(r) = self.soft_delete_renames {
            parts.push(format!("soft_delete_renames={}", r.as_str()));
        }
        if let Some(o) = self.on_delete {
            parts.push(format!("on_delete={}", o.as_str()));
        }
        if let Some(secs) = self.retain_for_secs {
            parts.push(format!("retain_for={secs}s"));
        }
        if let Some(r) = self.restore_on_create {
            parts.push(format!(
                "restore_on_create={}",
                if r { "on" } else { "off" }
            ));
        }
        let count = |n: Option<u32>| n.map_or_else(|| "none".to_owned(), |n| n.to_string());
        if let Some(rate) = self.rate_limit {
            parts.push(format!("rate_limit={}", count(rate)));
        }
        if let Some(ceiling) = self.max_in_flight {
            parts.push(format!("max_in_flight={}", count(ceiling)));
        }
        parts.join(", ")
    }
}

/// The role values of a canonical user document.
fn roles(doc: &Document) -> Vec<&str> {
    doc.get("roles")
        .and_then(Value::as_array)
        .map(|roles| {
            roles
                .iter()
                .filter_map(|r| r.get("value").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks a user about to be stored against the tenant's rules: at most one value of each
/// matching attribute (else no lookup could say which of them it is matched by), and the
/// roles. A disabled user needs no role: taking a role away must never block off-boarding.
pub fn check_user(tenant: &Tenant, doc: &Document) -> Result<(), Error> {
    let policy = &tenant.policy;
    for &matching in policy.matching.as_slice() {
        let values = matching.count(doc);
        if values > 1 {
            return Err(scim::Error::invalid_value(format!(
                "emails: this application matches users on {matching}, so a user has one work \
                 email, not {values}"
            ))
            .at("emails")
            .because("the user has more than one work email")
            .into());
        }
    }
    let roles = roles(doc);
    if let Some(allowed) = &policy.allowed_roles {
        if let Some(bad) = roles
            .iter()
            .find(|r| !allowed.iter().any(|a| a.eq_ignore_ascii_case(r)))
        {
            return Err(scim::Error::invalid_value(format!(
                "roles: '{bad}' is not a role of this application (allowed: {})",
                allowed.join(", ")
            ))
            .at("roles")
            .because("a role the application does not have")
            .into());
        }
    }
    let disabled = doc.get("active") == Some(&Value::Bool(false));
    if policy.require_role && roles.is_empty() && !disabled {
        return Err(scim::Error::invalid_value(
            "roles: this application requires a role; assign the user to the application in \
             Microsoft Entra ID with one of its roles (the Default Access role is not provisioned)",
        )
        .at("roles")
        .because("the user has no role")
        .into());
    }
    Ok(())
}

/// How a request's body is read for a password: a resource (POST, PUT) or a PatchOp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Resource,
    Patch,
}

/// Refuses a User write that sets a password when the tenant's rule is
/// [`Passwords::Reject`], in the words of the Okta admin who turned "Sync Password" on (the
/// only provisioning client that sends one). The value is never read, kept or logged.
pub fn check_password(
    tenant: &Tenant,
    kind: ResourceKind,
    sent: Sent,
    body: &Value,
) -> Result<(), Error> {
    if kind != ResourceKind::User || tenant.policy.passwords != Passwords::Reject {
        return Ok(());
    }
    let carried = match sent {
        Sent::Resource => password::in_resource(body),
        Sent::Patch => password::in_patch(body),
    };
    if !carried {
        return Ok(());
    }
    Err(scim::Error::invalid_value(
        "password: scimd does not keep passwords: turn off Sync Password in the Okta \
         application's Provisioning > To App settings, or ask the application's team to set \
         this tenant's password rule to ignore",
    )
    .at(password::PASSWORD)
    .because("sets a password, which this tenant refuses")
    .into())
}

/// A tenant's limit `what` (`rate_limit_per_second`, `max_in_flight`): from 1 to `most`.
fn check_limit(what: &'static str, value: Option<u32>, most: u32) -> Result<(), Error> {
    match value {
        Some(n) if n == 0 || n > most => Err(scim::Error::invalid_value(format!(
            "{what}: {n} is not between 1 and {most}"
        ))
        .at(what)
        .because("is out of range")
        .into()),
        _ => Ok(()),
    }
}

/// A retention period a tenant may have: at least a second, at most 100 years.
fn check_retain_for(secs: i64) -> Result<(), Error> {
    if (1..=MAX_RETAIN_FOR_SECS).contains(&secs) {
        return Ok(());
    }
    Err(scim::Error::invalid_value(format!(
        "retain_for_seconds: {secs} is not between 1 s and 100 years ({MAX_RETAIN_FOR_SECS} s)"
    ))
    .at("retain_for_seconds")
    .because("is not between 1 s and 100 years")
    .into())
}

/// Role values a tenant may allow: each not blank, storable, and no longer than a name.
pub(super) fn check_roles(roles: &[String]) -> Result<(), Error> {
    for (i, role) in roles.iter().enumerate() {
        let path = format!("allowed_roles[{i}]");
        if role.trim().is_empty() {
            return Err(
                scim::Error::invalid_value(format!("{path}: a role may not be blank"))
                    .at(&path)
                    .because("a role may not be blank")
                    .into(),
            );
        }
        scim::limits::check_string(&path, role)?;
        scim::limits::check_name(&path, role)?;
    }
    Ok(())
}

impl Directory {
    /// Applies `change` to the tenant called `name` and returns its new rules.
    pub async fn set_policy(&self, name: &str, change: &PolicyChange) -> Result<Policy, Error> {
        // checked before anything is written: a refused change changes nothing
        if let Some(Some(roles)) = &change.allowed_roles {
            check_roles(roles)?;
        }
        if let Some(secs) = change.retain_for_secs {
            check_retain_for(secs)?;
        }
        if let Some(rate) = change.rate_limit {
            check_limit("rate_limit_per_second", rate, Limits::MAX_RATE)?;
        }
        if let Some(ceiling) = change.max_in_flight {
            check_limit("max_in_flight", ceiling, Limits::MAX_IN_FLIGHT)?;
        }
        let tenant = self.tenant(name).await?;
        if let Some(matching) = change.matching {
            self.store.set_matching(tenant.id, matching).await?;
        }
        if change.allowed_roles.is_some() || change.require_role.is_some() {
            let allowed = match &change.allowed_roles {
                Some(allowed) => allowed.clone(),
                None => tenant.policy.allowed_roles.clone(),
            };
            let require = change.require_role.unwrap_or(tenant.policy.require_role);
            self.store
                .set_roles(tenant.id, allowed.as_deref(), require)
                .await?;
        }
        if let Some(entra) = change.entra_tenant {
            self.store.set_entra_tenant(tenant.id, entra).await?;
        }
        if let Some(rule) = change.unknown_attributes {
            self.store.set_unknown_attributes(tenant.id, rule).await?;
        }
        if let Some(rule) = change.passwords {
            self.store.set_passwords(tenant.id, rule).await?;
        }
        if let Some(rule) = change.soft_delete_renames {
            self.store.set_soft_delete_renames(tenant.id, rule).await?;
        }
        if change.deprovisions() {
            let current = tenant.policy.deprovisioning;
            let rule = Deprovisioning {
                on_delete: change.on_delete.unwrap_or(current.on_delete),
                retain_for_secs: change.retain_for_secs.unwrap_or(current.retain_for_secs),
                restore_on_create: change
                    .restore_on_create
                    .unwrap_or(current.restore_on_create),
            };
            self.store.set_deprovisioning(tenant.id, rule).await?;
        }
        if change.rate_limit.is_some() || change.max_in_flight.is_some() {
            let current = tenant.policy.limits;
            let limits = Limits {
                rate_per_second: change.rate_limit.unwrap_or(current.rate_per_second),
                max_in_flight: change.max_in_flight.unwrap_or(current.max_in_flight),
            };
            self.store.set_limits(tenant.id, limits).await?;
        }
        self.audited(
            "tenant.set",
            Some(&tenant.name),
            None,
            Some(change.describe()),
        )
        .await;
        Ok(self.tenant(name).await?.policy)
    }
}
