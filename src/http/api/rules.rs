//! The names of a tenant's rules in the application's API: enums that serialise as the
//! words the CLI and the book use, and their domain counterparts.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{Passwords, SoftDeleteRenames, UnknownAttributes};

/// What attributes no schema of the tenant defines get: `ignore` (dropped, counted, noted)
/// or `reject` (the request is refused with 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnknownRule {
    Ignore,
    Reject,
}

impl From<UnknownAttributes> for UnknownRule {
    fn from(rule: UnknownAttributes) -> Self {
        match rule {
            UnknownAttributes::Ignore => UnknownRule::Ignore,
            UnknownAttributes::Reject => UnknownRule::Reject,
        }
    }
}

impl From<UnknownRule> for UnknownAttributes {
    fn from(rule: UnknownRule) -> Self {
        match rule {
            UnknownRule::Ignore => UnknownAttributes::Ignore,
            UnknownRule::Reject => UnknownAttributes::Reject,
        }
    }
}

/// What a user's `password` in a SCIM request gets (Okta sends one when its "Sync Password"
/// is on): `reject` (the request is refused with 400 saying how to turn the sync off; the
/// default) or `ignore` (accepted and dropped). scimd never keeps a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PasswordRule {
    Reject,
    Ignore,
}

impl From<Passwords> for PasswordRule {
    fn from(rule: Passwords) -> Self {
        match rule {
            Passwords::Reject => PasswordRule::Reject,
            Passwords::Ignore => PasswordRule::Ignore,
        }
    }
}

impl From<PasswordRule> for Passwords {
    fn from(rule: PasswordRule) -> Self {
        match rule {
            PasswordRule::Reject => Passwords::Reject,
            PasswordRule::Ignore => Passwords::Ignore,
        }
    }
}

/// What Entra's soft-delete rename gets: an update that would set a user's `userName` (or
/// `externalId`, when a matching attribute) to 32 hex digits followed by the value stored. `keep` (the
/// stored value stays, the rest of the update applies, the activity log notes the rename as
/// ignored; the default) or `apply` (as sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RenameRule {
    Keep,
    Apply,
}

impl From<SoftDeleteRenames> for RenameRule {
    fn from(rule: SoftDeleteRenames) -> Self {
        match rule {
            SoftDeleteRenames::Keep => RenameRule::Keep,
            SoftDeleteRenames::Apply => RenameRule::Apply,
        }
    }
}

impl From<RenameRule> for SoftDeleteRenames {
    fn from(rule: RenameRule) -> Self {
        match rule {
            RenameRule::Keep => SoftDeleteRenames::Keep,
            RenameRule::Apply => SoftDeleteRenames::Apply,
        }
    }
}
