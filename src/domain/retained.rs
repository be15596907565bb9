//! Retained users: what a `DELETE` under the tenant's rule `retain` keeps out of SCIM's sight
//! (with its id and document) until it is purged, and the words the activity log and the
//! SCIM events use for a retained delete and a restore.

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use super::TenantId;
use crate::scim::canonical::Document;

/// A user deleted under `retain`: gone from SCIM, kept until `purge_after`.
#[derive(Debug, Clone, PartialEq)]
pub struct Retained {
    pub tenant: TenantId,
    pub id: Uuid,
    /// `User` (groups are always deleted).
    pub resource_type: String,
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    /// The version it had when it was deleted.
    pub version: i64,
    /// Its `meta.created`, kept through a restore.
    pub created: DateTime<Utc>,
    pub deleted_at: DateTime<Utc>,
    pub purge_after: DateTime<Utc>,
    /// The document as it was stored.
    pub doc: Document,
}

/// What an activity row and an event say of a delete that retained the user:
/// `retained until 2027-01-05T10:00:00Z`.
pub fn retained_until(until: DateTime<Utc>) -> String {
    format!(
        "{RETAINED_UNTIL}{}",
        until.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

/// The prefix of [`retained_until`].
pub const RETAINED_UNTIL: &str = "retained until ";

/// What an activity row and an event say of a create or an operator's restore that brought a
/// retained user back with its id.
pub const RESTORED: &str = "restored";

/// When a [`retained_until`] note says the user is purged, if it is one.
pub fn retained_until_of(note: &str) -> Option<DateTime<Utc>> {
    let at = note.strip_prefix(RETAINED_UNTIL)?;
    DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retained_until_note_reads_back_as_its_instant() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let note = retained_until(at);
        assert_eq!(note, "retained until 2027-01-15T08:00:00Z");
        assert_eq!(retained_until_of(&note), Some(at));
        assert_eq!(retained_until_of(RESTORED), None);
    }
}
