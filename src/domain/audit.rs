//! The audit trail's vocabulary: who changed the administration of scimd (an operator key over
//! the API, a person at the CLI, a team admin in the console), what they did, to which tenant,
//! when and from where. Never a secret: an entry names a token by its id, a key by its name.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    /// The operator key's name, the CLI user's login name, the console admin's tenant and
    /// user name.
    pub name: String,
    /// The client's address, when the change came over HTTP.
    pub address: Option<String>,
}

/// The door a change came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    OperatorKey,
    Cli,
    Console,
    /// The customer's identity admin, on the page of a setup link.
    SetupLink,
    /// A person of the application's team, signed in to the operator page.
    OperatorAccount,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::OperatorKey => "operator_key",
            ActorKind::Cli => "cli",
            ActorKind::Console => "console",
            ActorKind::SetupLink => "setup_link",
            ActorKind::OperatorAccount => "operator_account",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            ActorKind::OperatorKey,
            ActorKind::Cli,
            ActorKind::Console,
            ActorKind::SetupLink,
            ActorKind::OperatorAccount,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

impl Actor {
    /// The person running a `scimd` command (their login name, as the environment says).
    pub fn cli() -> Self {
        let name = ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|n| !n.is_empty()))
            .unwrap_or_else(|| "unknown".to_owned());
        Actor {
            kind: ActorKind::Cli,
            name,
            address: None,
        }
    }
}

/// One change of administration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The order entries were written in (0 until one is).
    pub seq: i64,
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    /// What was done: `tenant.create`, `token.revoke`, `webhook.pause`, …
    pub action: String,
    /// The tenant's name, when the change was of one tenant.
    pub tenant: Option<String>,
    /// What was changed: a token's or webhook's id, an admin's user name, a schema's URN.
    pub target: Option<String>,
    /// More of what was done, never a secret (`matching=externalId`).
    pub detail: Option<String>,
}

/// Which entries to read: newest first, after a position, of one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub tenant: Option<String>,
    /// Only entries written before this one (its `seq`): the previous page's last.
    pub before: Option<i64>,
    pub limit: u32,
}
