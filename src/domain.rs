//! The directory's own vocabulary, shared by every layer: tenants and their rules, tokens as
//! operators see them. No I/O here; `store` persists these, `service` enforces them.

pub mod activity;
pub mod audit;
pub mod clock;
pub mod events;
pub mod health;
pub mod matching;
pub mod notify;
pub mod oauth;
pub mod operator;
pub mod retained;
pub mod setup;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

pub use self::matching::{Precedence, PrecedenceError};
use crate::scim::canonical::Document;
use crate::scim::filter::{CompareOp, Filter, Operand, Target};

/// The id of a tenant: one connected directory, one Entra provisioning job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TenantId(pub Uuid);

/// A tenant as requests see it once authenticated, with its directory rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub policy: Policy,
    pub created: DateTime<Utc>,
}

/// A tenant's directory rules (the matching attributes and the roles of Microsoft's
/// "Configure GoToMeeting for automatic user provisioning" tutorial).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// The matching attributes, in Entra's "Matching precedence" order.
    pub matching: Precedence,
    /// Role values users may carry; `None`: any.
    pub allowed_roles: Option<Vec<String>>,
    /// Every active user must carry a role.
    pub require_role: bool,
    /// The Entra tenant (its id, `tid`) whose own signed tokens this tenant accepts.
    pub entra_tenant: Option<Uuid>,
    /// What a request's attributes that no schema of the tenant defines get.
    pub unknown_attributes: UnknownAttributes,
    /// What a user's `password` in a request gets.
    pub passwords: Passwords,
    /// What Entra's soft-delete rename of a user's name gets.
    pub soft_delete_renames: SoftDeleteRenames,
    /// What a `DELETE` of a user does, and whether a create restores a retained user.
    pub deprovisioning: Deprovisioning,
    /// The tenant's share of the server: its rate and its ceiling of requests in flight.
    pub limits: Limits,
    /// The version of the tenant's extension schemas: each registration or removal bumps it,
    /// so a replica knows that the schemas it holds are stale (0: never registered any).
    pub schemas: i64,
}

/// A tenant's share of the server (`http::admission`): its own rate of SCIM requests, and
/// its own ceiling of SCIM requests served or waiting at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Requests per second, with bursts of twice as many, on each replica; `None`: no rate.
    pub rate_per_second: Option<u32>,
    /// Requests in flight at once; `None`: the server's `SCIMD_TENANT_MAX_IN_FLIGHT`.
    pub max_in_flight: Option<u32>,
}

impl Limits {
    /// The highest rate a tenant may be given.
    pub const MAX_RATE: u32 = 100_000;
    /// The highest ceiling a tenant may be given.
    pub const MAX_IN_FLIGHT: u32 = 10_000;
}

/// What becomes of attributes no schema of the tenant defines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UnknownAttributes {
    /// Dropped, counted and noted in the activity log (the default: Entra's mappings send a
    /// few that an application may not keep).
    #[default]
    Ignore,
    /// The request is refused with 400, naming them.
    Reject,
}

impl UnknownAttributes {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ignore => "ignore",
            Self::Reject => "reject",
        }
    }
}

impl FromStr for UnknownAttributes {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ignore" => Ok(Self::Ignore),
            "reject" => Ok(Self::Reject),
            _ => Err(format!("'{s}': use ignore or reject")),
        }
    }
}

/// What becomes of a user's `password` (RFC 7643 §4.1.1) in a create, replace or patch: Okta
/// sends one when its application's "Sync Password" is on. scimd is not the application's
/// password store, so it never keeps one, in clear or hashed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Passwords {
    /// The request is refused with 400 `invalidValue` at `password`, saying how to turn the
    /// sync off (the default: a password the identity provider believes synced, and dropped,
    /// would be a lie).
    #[default]
    Reject,
    /// Accepted and dropped: the password is neither stored nor returned.
    Ignore,
}

impl Passwords {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reject => "reject",
            Self::Ignore => "ignore",
        }
    }
}

impl FromStr for Passwords {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "reject" => Ok(Self::Reject),
            "ignore" => Ok(Self::Ignore),
            _ => Err(format!("'{s}': use reject or ignore")),
        }
    }
}

/// What a `DELETE` of a user does (`--on-delete`): delete it, or retain it out of SCIM's
/// sight for a period, with its id and document, for an operator or a re-creation to restore.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnDelete {
    /// The user is deleted (the default, and what every delete did before the rule).
    #[default]
    Delete,
    /// The user leaves SCIM (404, not listed, out of its groups, its unique values free) but
    /// is kept until `retain_for` has passed, then purged.
    Retain,
}

impl OnDelete {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Retain => "retain",
        }
    }
}

impl FromStr for OnDelete {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "delete" => Ok(Self::Delete),
            "retain" => Ok(Self::Retain),
            _ => Err(format!("'{s}': use delete or retain")),
        }
    }
}

/// The tenant's deprovisioning rules (issue 26, items 1 and 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deprovisioning {
    pub on_delete: OnDelete,
    /// How long a retained user is kept before it is purged, in seconds.
    pub retain_for_secs: i64,
    /// Whether a create whose `externalId` is a retained user's restores that user, with its
    /// id, and the create's values.
    pub restore_on_create: bool,
}

/// Thirty days, Entra's own soft-delete period.
pub const DEFAULT_RETAIN_FOR_SECS: i64 = 30 * 86_400;

/// The longest retention taken: 100 years, the longest duration any setting takes.
pub const MAX_RETAIN_FOR_SECS: i64 = 36_500 * 86_400;

impl Default for Deprovisioning {
    fn default() -> Self {
        Self {
            on_delete: OnDelete::Delete,
            retain_for_secs: DEFAULT_RETAIN_FOR_SECS,
            restore_on_create: true,
        }
    }
}

/// What becomes of Entra's soft-delete rename: an update that would set `userName` (or
/// `externalId`, when it is one of the matching attributes) to the object id's 32 hex digits
/// followed by the value stored (`scim::rename`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SoftDeleteRenames {
    /// The stored value is kept, the rest of the update applied, and the activity log notes
    /// the rename as ignored (the default: the name stays the person's, for a restore).
    #[default]
    Keep,
    /// The rename is applied as sent.
    Apply,
}

impl SoftDeleteRenames {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keep => "keep",
            Self::Apply => "apply",
        }
    }
}

impl FromStr for SoftDeleteRenames {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "keep" => Ok(Self::Keep),
            "apply" => Ok(Self::Apply),
            _ => Err(format!("'{s}': use keep or apply")),
        }
    }
}

/// An attribute Entra matches users on, unique in the tenant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MatchingAttribute {
    #[default]
    UserName,
    ExternalId,
    WorkEmail,
}

/// A name that is not one of [`MatchingAttribute::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a matching attribute; use one of: userName, externalId, emails[type eq \"work\"].value"
)]
pub struct UnknownMatchingAttribute(pub String);

impl MatchingAttribute {
    pub const ALL: [MatchingAttribute; 3] = [Self::UserName, Self::ExternalId, Self::WorkEmail];

    /// The attribute path, as Entra's mapping and scimd's errors name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserName => "userName",
            Self::ExternalId => "externalId",
            Self::WorkEmail => "emails[type eq \"work\"].value",
        }
    }

    /// Whether values compare exactly (`externalId`) or ignoring case (the others).
    pub fn case_exact(self) -> bool {
        self == Self::ExternalId
    }

    /// The value a user is matched by, from its document as sent or folded; `None` when the
    /// user has none.
    pub fn value(self, doc: &Document) -> Option<&str> {
        match self {
            Self::UserName => doc.get("userName").and_then(Value::as_str),
            Self::ExternalId => doc.get("externalId").and_then(Value::as_str),
            Self::WorkEmail => doc
                .get("emails")
                .and_then(Value::as_array)?
                .iter()
                .find(|e| is_work(e))?
                .get("value")
                .and_then(Value::as_str),
        }
    }

    /// How many values of it a document holds: a user has at most one `userName` or
    /// `externalId`, but may list several work emails, and is then no match for any of them.
    pub fn count(self, doc: &Document) -> usize {
        match self {
            Self::UserName | Self::ExternalId => usize::from(self.value(doc).is_some()),
            Self::WorkEmail => doc
                .get("emails")
                .and_then(Value::as_array)
                .map_or(0, |emails| emails.iter().filter(|e| is_work(e)).count()),
        }
    }

    /// The key value a filter fixes among its top-level conjuncts, folded as [`Self::key`]
    /// folds it: `emails[type eq "work"].value eq "…"` (Entra's form) or `emails[type eq
    /// "work" and value eq "…"]`. `None` for `userName`, which has no key of its own, and for
    /// `externalId`, whose own column is indexed.
    pub fn fixed_by(self, filter: &Filter) -> Option<&str> {
        match (self, filter) {
            (Self::WorkEmail, Filter::And(a, b)) => self.fixed_by(a).or_else(|| self.fixed_by(b)),
            (Self::WorkEmail, Filter::Any { path, filter })
                if path.len() == 1 && path[0] == "emails" =>
            {
                let Filter::And(a, b) = filter.as_ref() else {
                    return None;
                };
                match (element_eq(a)?, element_eq(b)?) {
                    (("type", "work"), ("value", email)) | (("value", email), ("type", "work")) => {
                        Some(email)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The key the store keeps unique, from the folded document; `None` for `userName`,
    /// which the name index already keeps unique.
    pub fn key(self, folded: &Document) -> Option<String> {
        match self {
            Self::UserName => None,
            other => other.value(folded).map(str::to_owned),
        }
    }
}

/// Whether an element of `emails` is a work email.
fn is_work(email: &Value) -> bool {
    email
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("work"))
}

/// `sub eq "text"` inside an element filter.
fn element_eq(filter: &Filter) -> Option<(&str, &str)> {
    match filter {
        Filter::Compare {
            target: Target::Element { sub: Some(sub), .. },
            op: CompareOp::Eq,
            value: Operand::Str(text),
        } => Some((sub, text)),
        _ => None,
    }
}

impl fmt::Display for MatchingAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MatchingAttribute {
    type Err = UnknownMatchingAttribute;

    /// Parses a path in any letter case and spacing.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let squeeze = |s: &str| -> String {
            s.chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_lowercase()
        };
        let wanted = squeeze(s);
        Self::ALL
            .into_iter()
            .find(|m| squeeze(m.as_str()) == wanted)
            .ok_or_else(|| UnknownMatchingAttribute(shown(s)))
    }
}

/// A name as an error may show it: at most 64 characters, control characters escaped.
fn shown(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(64)
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect();
    if s.chars().nth(64).is_some() {
        out.push('…');
    }
    out
}

/// Users that share one value of a matching attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchingConflict {
    pub value: String,
    pub user_names: Vec<String>,
}

/// A token as listed to operators: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: Uuid,
    pub tenant: String,
    pub label: Option<String>,
    pub created: DateTime<Utc>,
    pub revoked: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn matching_attributes_parse_in_any_case_and_spacing() {
        let cases = [
            ("userName", Ok(MatchingAttribute::UserName)),
            ("EXTERNALID", Ok(MatchingAttribute::ExternalId)),
            (
                "emails[type eq \"Work\"].value",
                Ok(MatchingAttribute::WorkEmail),
            ),
            (
                " emails[ type  eq \"work\" ].value ",
                Ok(MatchingAttribute::WorkEmail),
            ),
            ("mail", Err(UnknownMatchingAttribute("mail".into()))),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<MatchingAttribute>(), expected, "{text}");
        }
    }

    #[test]
    fn the_work_email_is_the_value_of_the_first_email_of_type_work() {
        let Value::Object(doc) = json!({"emails": [
            {"type": "home", "value": "h@x"},
            {"type": "Work", "value": "W@x"},
            {"type": "work", "value": "second@x"}
        ]}) else {
            unreachable!()
        };
        assert_eq!(MatchingAttribute::WorkEmail.value(&doc), Some("W@x"));
        assert_eq!(MatchingAttribute::UserName.key(&doc), None);
        assert_eq!(MatchingAttribute::ExternalId.value(&doc), None);
    }
}
