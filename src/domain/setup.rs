//! The customer's identity admin setting up provisioning on their own: setup links (a
//! capability URL for one tenant, expiring and revocable), how far the connection has come, and
//! what went wrong in a cycle, grouped by cause with the fix in the admin's words.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::activity::Cycle;
use super::{Precedence, TenantId};

/// A setup link as the store keeps it (its token never: only the SHA-256 of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupLink {
    pub id: Uuid,
    pub tenant: TenantId,
    pub tenant_name: String,
    pub created: DateTime<Utc>,
    /// Who made it, as the audit trail names actors (`operator_key ci`, `console acme/alice`).
    pub created_by: String,
    pub expires: DateTime<Utc>,
    pub revoked: Option<DateTime<Utc>>,
    /// When the page was last opened or used.
    pub last_used: Option<DateTime<Utc>>,
}

impl SetupLink {
    /// `active`, `expired` or `revoked` at `now`.
    pub fn state(&self, now: DateTime<Utc>) -> &'static str {
        if self.revoked.is_some() {
            "revoked"
        } else if self.expires <= now {
            "expired"
        } else {
            "active"
        }
    }
}

/// When a tenant was first reached with one of its credentials, and with which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    pub at: DateTime<Utc>,
    /// As the activity log names a credential (`token <id>`, `oauth <client>`).
    pub credential: String,
}

/// Refused requests of one kind, as the activity log groups them: status, `scimType`, the note
/// (`attribute: reason`) and the resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusalGroup {
    pub status: u16,
    pub scim_type: Option<String>,
    pub note: Option<String>,
    pub resource_type: Option<String>,
    pub count: u64,
}

impl RefusalGroup {
    /// The attribute the note names (`roles` of `roles: the user has no role`).
    pub fn attribute(&self) -> Option<&str> {
        let (attribute, _) = self.note.as_deref()?.split_once(": ")?;
        super::super::scim::is_attribute_name(attribute).then_some(attribute)
    }

    fn reason(&self) -> &str {
        let note = self.note.as_deref().unwrap_or_default();
        note.split_once(": ").map_or(note, |(_, reason)| reason)
    }
}

/// What went wrong, in the identity admin's words, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cause {
    /// A stable name for the kind of cause (`no_role`, `matching_repeats`, …).
    pub kind: &'static str,
    pub count: u64,
    pub status: u16,
    pub scim_type: Option<String>,
    pub attribute: Option<String>,
    /// What happened: "23 users have no role".
    pub what: String,
    /// What to do: "assign them one of the application's roles in Entra".
    pub fix: String,
}

/// "1 user", "23 users".
fn things(n: u64, one: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        n => format!("{n} {one}s"),
    }
}

/// "was" for one, "were" for more.
fn were(n: u64) -> &'static str {
    if n == 1 { "was" } else { "were" }
}

/// The refusals of a cycle grouped by cause, most frequent first, with the fix for each.
pub fn causes(groups: &[RefusalGroup], matching: &Precedence) -> Vec<Cause> {
    // groups of one cause are summed first, so that its words count them all
    let mut merged: Vec<(&'static str, Option<String>, RefusalGroup)> = Vec::new();
    for g in groups {
        let c = cause(g, matching);
        match merged
            .iter_mut()
            .find(|(kind, attribute, _)| *kind == c.kind && *attribute == c.attribute)
        {
            Some((.., same)) => same.count += g.count,
            None => merged.push((c.kind, c.attribute, g.clone())),
        }
    }
    let mut out: Vec<Cause> = merged.iter().map(|(.., g)| cause(g, matching)).collect();
    out.sort_by_key(|c| std::cmp::Reverse(c.count));
    out
}

/// The cause of one group of refusals, in the identity admin's words.
fn cause(g: &RefusalGroup, matching: &Precedence) -> Cause {
    {
        let attribute = g.attribute().map(str::to_owned);
        let resource = match g.resource_type.as_deref() {
            Some("Group") => "group",
            Some("User") => "user",
            _ => "request",
        };
        let n = things(g.count, resource);
        // the precedence (1 first) of the matching attribute the refusal names
        let precedence = attribute.as_deref().and_then(|a| {
            matching.as_slice().iter().position(|m| {
                a.eq_ignore_ascii_case(&super::super::scim::without_brackets(m.as_str()))
            })
        });
        let (kind, what, fix) = match (g.status, g.scim_type.as_deref(), attribute.as_deref()) {
            (400, _, Some("roles")) if g.reason().contains("no role") => (
                "no_role",
                format!(
                    "{n} {} no role (Default Access)",
                    if g.count == 1 { "has" } else { "have" }
                ),
                "assign them to the application with one of its roles (Users and groups > \
                 Edit assignment > Select a role): Default Access is not provisioned"
                    .to_owned(),
            ),
            (400, _, Some("password")) => (
                "password",
                format!(
                    "{n} {} a password, which the application does not keep",
                    if g.count == 1 { "carries" } else { "carry" }
                ),
                "turn off Sync Password (in Okta: the application's Provisioning > To App), or \
                 ask the application's team to set this tenant's password rule to ignore"
                    .to_owned(),
            ),
            (400, _, Some("roles")) => (
                "unknown_role",
                format!(
                    "{n} {} a role this application does not have",
                    if g.count == 1 { "carries" } else { "carry" }
                ),
                "assign them one of the application's roles, or ask the application's team to \
                 allow the role"
                    .to_owned(),
            ),
            (409, _, Some(a)) if precedence.is_some() => {
                let rank = precedence.unwrap_or_default() + 1;
                (
                    "matching_repeats",
                    format!(
                        "the matching attribute {a} repeats: {n} {} a value with a user already \
                     provisioned",
                        if g.count == 1 { "shares" } else { "share" }
                    ),
                    format!(
                        "give each user a different {a} in Entra, or delete the stale account the \
                     value belongs to; Entra matches users on {a} (Attribute mappings > \
                     Matching precedence {rank})"
                    ),
                )
            }
            (409, _, Some(a)) => (
                "unique_repeats",
                format!(
                    "{a} repeats: {n} {} a value that must be unique",
                    if g.count == 1 { "shares" } else { "share" }
                ),
                format!("give each one a different {a} in Entra"),
            ),
            (409, _, None) => (
                "conflict",
                format!("{n} conflict with what the application already holds"),
                "see the provisioning logs for each one's detail".to_owned(),
            ),
            (401, ..) => (
                "credentials",
                format!("{n} {} refused as not authenticated", were(g.count)),
                "the Secret Token or authorization stopped working: generate a new token (or \
                 click Authorize again), paste it under Admin Credentials and Test Connection"
                    .to_owned(),
            ),
            (400, _, Some(a)) => (
                "invalid_value",
                format!(
                    "{n} {} a value of {a} the application cannot take",
                    if g.count == 1 { "has" } else { "have" }
                ),
                format!(
                    "check the mapping of {a} (Attribute mappings) and the users' values; the \
                     provisioning logs give each one's detail"
                ),
            ),
            (s, ..) if s >= 500 => (
                "server",
                format!("{n} failed on the application's side"),
                "nothing to change in Entra: Entra retries them; tell the application's team if \
                 it lasts"
                    .to_owned(),
            ),
            _ => (
                "other",
                format!(
                    "{n} {} refused ({})",
                    were(g.count),
                    g.note.as_deref().unwrap_or("no detail")
                ),
                "the provisioning logs give each one's detail".to_owned(),
            ),
        };
        Cause {
            kind,
            count: g.count,
            status: g.status,
            scim_type: g.scim_type.clone(),
            attribute,
            what,
            fix,
        }
    }
}

/// Attributes a cycle sent that no schema of the tenant defines, with how many requests sent
/// each, most frequent first: from the activity log's comma-separated notes and their counts.
pub fn ignored_attributes(notes: &[(String, u64)]) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = Vec::new();
    for (note, count) in notes {
        for name in note.split(", ").map(str::trim).filter(|n| !n.is_empty()) {
            if !super::super::scim::is_attribute_name(name) {
                continue;
            }
            match out.iter_mut().find(|(n, _)| n == name) {
                Some((_, c)) => *c += count,
                None => out.push((name.to_owned(), *count)),
            }
        }
    }
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// How far a tenant's connection has come, for the setup page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The first request with one of the tenant's credentials (Test Connection).
    pub connected: Option<Connected>,
    /// The minute of the first user created.
    pub first_user: Option<DateTime<Utc>>,
    /// The first cycle that changed or refused something, and whether it has ended (no request
    /// for the cycle gap since its last).
    pub first_cycle: Option<(Cycle, bool)>,
    /// Its refusals by cause.
    pub causes: Vec<Cause>,
    /// Attributes it sent that no schema keeps.
    pub ignored: Vec<(String, u64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(status: u16, scim_type: Option<&str>, note: &str, rt: &str, n: u64) -> RefusalGroup {
        RefusalGroup {
            status,
            scim_type: scim_type.map(str::to_owned),
            note: Some(note.to_owned()),
            resource_type: Some(rt.to_owned()),
            count: n,
        }
    }

    #[test]
    fn refusals_are_grouped_by_cause_with_the_fix_most_frequent_first() {
        let groups = [
            group(
                400,
                Some("invalidValue"),
                "roles: the user has no role",
                "User",
                23,
            ),
            group(
                409,
                Some("uniqueness"),
                "userName: a value that must be unique is taken",
                "User",
                2,
            ),
            group(
                409,
                Some("uniqueness"),
                "userName: a value that must be unique is taken",
                "User",
                1,
            ),
            group(
                409,
                Some("uniqueness"),
                "externalId: a value that must be unique is taken",
                "User",
                4,
            ),
            group(401, None, "not authenticated", "User", 1),
            group(
                400,
                Some("invalidValue"),
                "password: sets a password, which this tenant refuses",
                "User",
                2,
            ),
        ];
        let causes = causes(&groups, &Precedence::default());
        let kinds: Vec<_> = causes.iter().map(|c| (c.kind, c.count)).collect();
        assert_eq!(
            kinds,
            [
                ("no_role", 23),
                ("unique_repeats", 4),
                ("matching_repeats", 3),
                ("password", 2),
                ("credentials", 1)
            ]
        );
        assert_eq!(causes[0].what, "23 users have no role (Default Access)");
        assert!(causes[0].fix.contains("Select a role"), "{}", causes[0].fix);
        assert!(
            causes[2]
                .what
                .starts_with("the matching attribute userName repeats: 3 users share"),
            "{}",
            causes[2].what
        );
        assert_eq!(causes[1].attribute.as_deref(), Some("externalId"));
        // externalId listed second: its repeats are a matching attribute's, at precedence 2
        let both = Precedence::new(&[
            super::super::MatchingAttribute::UserName,
            super::super::MatchingAttribute::ExternalId,
        ])
        .unwrap();
        let causes = super::causes(&groups, &both);
        assert_eq!((causes[1].kind, causes[1].count), ("matching_repeats", 4));
        assert!(
            causes[1]
                .fix
                .ends_with("(Attribute mappings > Matching precedence 2)"),
            "{}",
            causes[1].fix
        );
    }

    #[test]
    fn a_note_that_names_no_attribute_is_a_cause_without_one() {
        let g = group(
            400,
            Some("invalidSyntax"),
            "the request is not the message the endpoint expects",
            "Group",
            1,
        );
        let causes = causes(&[g], &Precedence::default());
        assert_eq!(causes[0].kind, "other");
        assert_eq!(causes[0].attribute, None);
        assert!(
            causes[0].what.starts_with("1 group was refused"),
            "{}",
            causes[0].what
        );
    }

    #[test]
    fn ignored_attributes_are_summed_per_name_and_values_are_never_kept() {
        let notes = [
            ("department, costCenter".to_owned(), 3),
            ("costCenter".to_owned(), 2),
            ("(not an attribute name)".to_owned(), 9),
        ];
        assert_eq!(
            ignored_attributes(&notes),
            [("costCenter".to_owned(), 5), ("department".to_owned(), 3)]
        );
    }
}
