//! `scimd tenant …`: tenants, one per connected Entra provisioning job, and their rules.

use clap::{Args, Subcommand};

use scimd::StartError;
use scimd::config::Database;
use scimd::config::{duration, period};
use scimd::domain::{
    MatchingAttribute, OnDelete, Passwords, Policy, Precedence, SoftDeleteRenames,
    UnknownAttributes,
};
use scimd::service::PolicyChange;

#[derive(Debug, Args)]
pub struct Tenant {
    #[command(flatten)]
    database: Database,
    #[command(subcommand)]
    command: TenantCommand,
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create a tenant.
    Create {
        /// A name for the tenant, e.g. the customer or the Entra tenant it connects.
        name: String,
    },
    /// List tenants with their rules.
    List,
    /// Change a tenant's rules: the matching attributes, the roles users may or must carry, and
    /// what attributes in no schema, passwords and Entra's soft-delete renames get.
    Set {
        /// The tenant's name, as `scimd tenant list` shows it.
        name: String,
        /// An attribute Entra matches users on, unique in the tenant: userName (default),
        /// externalId, or 'emails[type eq "work"].value'. Repeat it for several, in the order
        /// of Entra's Matching precedence (1 first), each once; the list replaces the tenant's.
        /// Fails, listing them, if users already share values of one.
        #[arg(long, value_name = "ATTRIBUTE")]
        matching_attribute: Vec<MatchingAttribute>,
        /// Role values users may carry, comma-separated (e.g. Organizer,Attendee).
        #[arg(
            long,
            value_name = "ROLES",
            value_delimiter = ',',
            conflicts_with = "any_role"
        )]
        allowed_roles: Option<Vec<String>>,
        /// Allow any role value again.
        #[arg(long)]
        any_role: bool,
        /// Every active user must carry a role (Entra's "Default Access" is refused).
        #[arg(long, conflicts_with = "no_require_role")]
        require_role: bool,
        /// Users need no role (the default).
        #[arg(long)]
        no_require_role: bool,
        /// Accept the tokens this Entra tenant (its tenant id, a GUID) signs when the Secret
        /// Token is left blank.
        #[arg(long, value_name = "GUID", conflicts_with = "no_entra_tenant_id")]
        entra_tenant_id: Option<uuid::Uuid>,
        /// Stop accepting Entra-signed tokens.
        #[arg(long)]
        no_entra_tenant_id: bool,
        /// What attributes no schema of the tenant defines get: `ignore` (dropped, counted and
        /// noted in the activity log; the default) or `reject` (400 naming them).
        #[arg(long, value_name = "RULE")]
        unknown_attributes: Option<UnknownAttributes>,
        /// What a user's password in a request gets (Okta sends one when its "Sync Password"
        /// is on): `reject` (400 saying how to turn it off; the default) or `ignore` (accepted
        /// and dropped). scimd never keeps a password.
        #[arg(long, value_name = "RULE")]
        passwords: Option<Passwords>,
        /// What Entra's soft-delete rename gets, an update whose userName (or externalId, when
        /// a matching attribute) is 32 hex digits followed by the stored value: `keep` (the
        /// stored value stays, the rest applies, the activity log notes it; the default) or
        /// `apply` (as sent).
        #[arg(long, value_name = "RULE")]
        soft_delete_renames: Option<SoftDeleteRenames>,
        /// What a SCIM `DELETE` of a user does: `delete` (the default) or `retain` (gone from
        /// SCIM, its unique values free, but kept with its id for `--retain-for`, for `scimd
        /// retained restore` or a re-creation with its externalId to restore; then purged).
        #[arg(long, value_name = "RULE")]
        on_delete: Option<OnDelete>,
        /// How long a retained user is kept before it is purged: 90s, 10m, 12h, 30d (the
        /// default is 30d).
        #[arg(long, value_name = "DURATION", value_parser = duration)]
        retain_for: Option<std::time::Duration>,
        /// Under `--on-delete retain`, whether a create whose externalId is a retained user's
        /// (or the one deactivated user's that has it) restores that user with its id and the
        /// create's values: `on` (the default) or `off`.
        #[arg(long, value_name = "ON|OFF", value_parser = on_off)]
        restore_on_create: Option<bool>,
        /// The tenant's SCIM requests per second, e.g. `200/s` (bursts of twice as many), on
        /// each replica; past it, 429 with Retry-After.
        #[arg(long, value_name = "N/s", value_parser = per_second, conflicts_with = "no_rate_limit")]
        rate_limit: Option<u32>,
        /// No rate for the tenant's SCIM requests (the default).
        #[arg(long)]
        no_rate_limit: bool,
        /// The tenant's SCIM requests served or waiting at once (1 to 10000), instead of the
        /// server's SCIMD_TENANT_MAX_IN_FLIGHT; past it, 429 with Retry-After.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000), conflicts_with = "default_max_in_flight")]
        max_in_flight: Option<u32>,
        /// The server's SCIMD_TENANT_MAX_IN_FLIGHT for the tenant (the default).
        #[arg(long)]
        default_max_in_flight: bool,
        /// An address the tenant's alerts (changes of provisioning health) are e-mailed to;
        /// repeat for several (at most 20). Replaces the tenant's list.
        #[arg(
            long = "notify-email",
            value_name = "ADDRESS",
            conflicts_with = "no_notify_email"
        )]
        notify_email: Vec<String>,
        /// E-mail the tenant's alerts to no address (its opted-in team admins still receive).
        #[arg(long)]
        no_notify_email: bool,
    },
    /// Delete a tenant with everything of it: its users and groups, tokens, admins, OAuth
    /// clients, webhooks and their events, activity and schemas.
    Delete {
        /// The tenant's name, as `scimd tenant list` shows it.
        name: String,
        /// The tenant's name again, to confirm.
        #[arg(long, value_name = "NAME")]
        confirm: String,
        /// Delete even though its webhooks have events still to deliver (they are dropped).
        #[arg(long)]
        force: bool,
    },
}

impl Tenant {
    pub async fn run(self) -> Result<(), StartError> {
        let dir = scimd::open_database(&self.database).await?;
        match self.command {
            TenantCommand::Create { name } => {
                let tenant = dir.create_tenant(&name).await?;
                println!("created tenant {} ({})", tenant.name, tenant.id.0);
            }
            TenantCommand::List => {
                for tenant in dir.tenants().await? {
                    let notify = dir.notify_addresses(&tenant.name).await?;
                    println!(
                        "{}\t{}\t{}{}",
                        tenant.id.0,
                        tenant.name,
                        describe(&tenant.policy),
                        alerts(&notify)
                    );
                }
            }
            TenantCommand::Set {
                name,
                matching_attribute,
                allowed_roles,
                any_role,
                require_role,
                no_require_role,
                entra_tenant_id,
                no_entra_tenant_id,
                unknown_attributes,
                passwords,
                soft_delete_renames,
                on_delete,
                retain_for,
                restore_on_create,
                rate_limit,
                no_rate_limit,
                max_in_flight,
                default_max_in_flight,
                notify_email,
                no_notify_email,
            } => {
                let matching =
                    match matching_attribute.as_slice() {
                        [] => None,
                        list => Some(Precedence::new(list).map_err(|e| {
                            StartError::Config(format!("--matching-attribute: {e}"))
                        })?),
                    };
                let change = PolicyChange {
                    matching,
                    allowed_roles: if any_role {
                        Some(None)
                    } else {
                        allowed_roles.map(Some)
                    },
                    require_role: (require_role || no_require_role).then_some(require_role),
                    entra_tenant: if no_entra_tenant_id {
                        Some(None)
                    } else {
                        entra_tenant_id.map(Some)
                    },
                    unknown_attributes,
                    passwords,
                    soft_delete_renames,
                    on_delete,
                    retain_for_secs: retain_for
                        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
                    restore_on_create,
                    rate_limit: if no_rate_limit {
                        Some(None)
                    } else {
                        rate_limit.map(Some)
                    },
                    max_in_flight: if default_max_in_flight {
                        Some(None)
                    } else {
                        max_in_flight.map(Some)
                    },
                };
                let notify = if no_notify_email || !notify_email.is_empty() {
                    // checked before any rule is changed: a refused list changes nothing
                    scimd::service::notify::check_addresses(&notify_email)?;
                    Some(notify_email)
                } else {
                    None
                };
                let policy = if change.is_empty() {
                    dir.tenant(&name).await?.policy
                } else {
                    dir.set_policy(&name, &change).await?
                };
                let notify = match notify {
                    Some(list) => dir.set_notify_addresses(&name, &list).await?,
                    None => dir.notify_addresses(&name).await?,
                };
                println!("tenant {name}: {}{}", describe(&policy), alerts(&notify));
            }
            TenantCommand::Delete {
                name,
                confirm,
                force,
            } => {
                if confirm != name {
                    return Err(StartError::Config(format!(
                        "deleting a tenant removes everything of it; repeat its name: \
                         scimd tenant delete {name} --confirm {name}"
                    )));
                }
                dir.delete_tenant(&name, force).await?;
                println!("deleted tenant {name} and everything of it");
            }
        }
        Ok(())
    }
}

/// A tenant's rules in one line.
fn describe(policy: &Policy) -> String {
    let roles = match &policy.allowed_roles {
        None => "any role".to_owned(),
        Some(roles) => format!("roles {}", roles.join(",")),
    };
    let required = if policy.require_role {
        ", role required"
    } else {
        ""
    };
    let entra = policy
        .entra_tenant
        .map(|t| format!("; accepts tokens of Entra tenant {t}"))
        .unwrap_or_default();
    format!(
        "matching {}; {roles}{required}{entra}; unknown attributes: {}; passwords: {}; \
         soft-delete renames: {}; on delete: {}{}",
        policy.matching,
        policy.unknown_attributes.as_str(),
        policy.passwords.as_str(),
        policy.soft_delete_renames.as_str(),
        on_delete(policy),
        limits(policy)
    )
}

/// Where a tenant's alerts are e-mailed, for its line.
fn alerts(addresses: &[String]) -> String {
    if addresses.is_empty() {
        "; alerts e-mailed to no address".to_owned()
    } else {
        format!("; alerts e-mailed to {}", addresses.join(","))
    }
}

/// What a tenant's `DELETE` of a user does, for its rules' line: `delete`, or
/// `retain for 30d, restore on create on`.
fn on_delete(policy: &Policy) -> String {
    let rule = policy.deprovisioning;
    match rule.on_delete {
        OnDelete::Delete => "delete".to_owned(),
        OnDelete::Retain => format!(
            "retain for {}, restore on create {}",
            period(rule.retain_for_secs),
            if rule.restore_on_create { "on" } else { "off" }
        ),
    }
}

/// A rate: `200/s`, or a bare `200`, from 1 to 100000 requests per second.
fn per_second(text: &str) -> Result<u32, String> {
    let number = text.trim();
    let number = number.strip_suffix("/s").unwrap_or(number);
    match number.trim().parse::<u32>() {
        Ok(n) if (1..=scimd::domain::Limits::MAX_RATE).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{text}' is not a rate: use 1/s to {}/s",
            scimd::domain::Limits::MAX_RATE
        )),
    }
}

/// What the tenant's share of the server is, for its rules' line: `; rate 200/s; at most 64
/// requests in flight`, or nothing when both are the defaults.
fn limits(policy: &Policy) -> String {
    let l = policy.limits;
    let mut out = String::new();
    if let Some(rate) = l.rate_per_second {
        out.push_str(&format!("; rate {rate}/s"));
    }
    if let Some(n) = l.max_in_flight {
        out.push_str(&format!("; at most {n} requests in flight"));
    }
    out
}

/// `on` or `off`, in any letter case.
fn on_off(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("'{text}': use on or off")),
    }
}
