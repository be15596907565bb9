//! The one error of every use case, and the one place where store facts become what a client
//! reads: a SCIM error with a detail that names the attribute and the value, or — when the
//! fault is the server's — `Unavailable` (503, retry) or `Internal` (500), whose cause is
//! logged once where the response is made (`http::error`).

use crate::domain::MatchingConflict;
use crate::scim::{self, ScimType};
use crate::store::{Missing, StoreError, Unique};

/// A failure of a use case.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request cannot be served as sent (4xx); the detail says why.
    #[error(transparent)]
    Scim(#[from] scim::Error),
    /// scimd cannot serve the request now; the same request can succeed later.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// The server's fault; the cause is for the log, not the client.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Why scimd cannot serve a request now (answered 503 with `Retry-After`).
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    /// The database does not answer, or not in time.
    #[error("the database is unavailable")]
    Database(#[source] StoreError),
    /// As many requests are being served as `SCIMD_MAX_CONCURRENT_REQUESTS` allows.
    #[error("scimd is serving its maximum of {0} requests at once")]
    Busy(u32),
    /// The request ran longer than `SCIMD_REQUEST_TIMEOUT` seconds.
    #[error("the request took longer than {0} s")]
    Slow(u64),
    /// Entra's signing keys cannot be fetched to verify an Entra-signed token; why is for the
    /// log (it names the metadata URL and the network error), not for the client.
    #[error("Entra's signing keys cannot be fetched now")]
    EntraKeys(String),
}

impl Error {
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Internal(cause.into())
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(missing) => not_found(&missing).into(),
            StoreError::Uniqueness { rule, value } => conflict(rule, &value).into(),
            StoreError::VersionMismatch { kind, id, expected } => {
                scim::Error::precondition_failed(format!(
                    "{} {id} is no longer at version {}; read it again and retry",
                    kind.as_str(),
                    expected.etag()
                ))
                .into()
            }
            StoreError::InvalidReference { id } => scim::Error::invalid_value(format!(
                "members: {id} is not the id of a User or Group in this tenant"
            ))
            .at("members")
            .because("a member is not a User or Group of this tenant")
            .into(),
            StoreError::MatchingConflicts {
                matching,
                conflicts,
            } => scim::Error::uniqueness(format!(
                "users share values of {matching}, which must be unique to match on it: {}",
                shared(&conflicts)
            ))
            .at(matching.as_str())
            .because("users share values of it")
            .into(),
            StoreError::SeveralMatchingValues {
                matching,
                user_names,
            } => scim::Error::invalid_value(format!(
                "users hold several values of {matching}, which must have one value per user to \
                 match on it: {}",
                user_names.join(", ")
            ))
            .at(matching.as_str())
            .because("users hold several values of it")
            .into(),
            StoreError::Unstorable => scim::Error::invalid_value(
                "a value contains a NUL character, which scimd cannot store",
            )
            .because("a value contains a NUL character")
            .into(),
            e @ StoreError::Unavailable(_) => Unavailable::Database(e).into(),
            other => Error::internal(other),
        }
    }
}

/// 404 naming what is missing.
pub fn not_found(missing: &Missing) -> scim::Error {
    scim::Error::not_found(match missing {
        Missing::Resource { kind, id } => format!("{} {id} not found", kind.as_str()),
        Missing::Tenant { name } => format!("no tenant called '{name}'"),
        Missing::Token { id } => format!("no token with id {id}"),
        Missing::Admin { username } => format!("no admin called '{username}' in this tenant"),
        Missing::Client { client_id } => format!("no OAuth client with client_id '{client_id}'"),
        Missing::Subscription { id } => format!("no webhook with id {id}"),
        Missing::OperatorKey { key } => format!("no operator key '{key}'"),
        Missing::OperatorAccount { username } => format!("no operator account called '{username}'"),
        Missing::Schema { urn } => format!("no schema '{urn}' in this tenant"),
    })
}

/// 409 `uniqueness` (RFC 7644 §3.3) naming the attribute and the value taken.
pub fn conflict(rule: Unique, value: &str) -> scim::Error {
    let error = scim::Error::uniqueness(match rule {
        Unique::Name(kind) => {
            let attribute = rule.attribute();
            format!(
                "a {} with {attribute} '{value}' already exists ({attribute} is unique, case-insensitively)",
                kind.as_str()
            )
        }
        Unique::Matching(m) => {
            let case = if m.case_exact() {
                ""
            } else {
                ", case-insensitively"
            };
            format!("a User with {m} '{value}' already exists ({m} is unique{case})")
        }
        Unique::TenantName => format!("tenant '{value}' already exists"),
        Unique::Token => {
            "the token is already a token of another tenant; choose another SCIMD_BOOTSTRAP_TOKEN"
                .to_owned()
        }
        Unique::AdminName => format!("the tenant already has an admin called '{value}'"),
        Unique::OperatorKeyName => format!("an operator key is already called '{value}'"),
        Unique::OperatorAccountName => {
            format!("an operator account is already called '{value}'")
        }
        Unique::EntraTenant => {
            format!("another tenant already accepts the tokens of Entra tenant {value}")
        }
    });
    error.at(rule.attribute()).because("the value is taken")
}

/// 409 for a write that lost its compare-and-swap to concurrent writers every time it retried:
/// a conflict the client may retry, not a server failure.
pub fn contended(kind: crate::scim::schema::ResourceKind, id: impl std::fmt::Display) -> Error {
    scim::Error::new(
        409,
        None,
        format!(
            "{} {id} was changed by other requests each time this one tried to apply; retry it",
            kind.as_str()
        ),
    )
    .into()
}

/// 400 `invalidPath` for a PATCH path.
pub fn invalid_path(detail: impl Into<String>) -> Error {
    scim::Error::new(400, Some(ScimType::InvalidPath), detail).into()
}

fn shared(conflicts: &[MatchingConflict]) -> String {
    conflicts
        .iter()
        .map(|c| format!("'{}' is shared by {}", c.value, c.user_names.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MatchingAttribute;
    use crate::scim::resource::ResourceId;
    use crate::scim::schema::ResourceKind;

    #[test]
    fn store_facts_become_scim_errors_that_name_the_attribute_and_value() {
        let id = ResourceId(uuid::Uuid::nil());
        let cases: Vec<(StoreError, u16, Option<ScimType>, String)> = vec![
            (
                StoreError::NotFound(Missing::Resource {
                    kind: ResourceKind::User,
                    id,
                }),
                404,
                None,
                format!("User {id} not found"),
            ),
            (
                StoreError::Uniqueness {
                    rule: Unique::Name(ResourceKind::Group),
                    value: "Sales".into(),
                },
                409,
                Some(ScimType::Uniqueness),
                "a Group with displayName 'Sales' already exists (displayName is unique, case-insensitively)".into(),
            ),
            (
                StoreError::Uniqueness {
                    rule: Unique::Matching(MatchingAttribute::ExternalId),
                    value: "E1".into(),
                },
                409,
                Some(ScimType::Uniqueness),
                "a User with externalId 'E1' already exists (externalId is unique)".into(),
            ),
            (
                StoreError::InvalidReference { id },
                400,
                Some(ScimType::InvalidValue),
                format!("members: {id} is not the id of a User or Group in this tenant"),
            ),
        ];
        for (store, status, scim_type, detail) in cases {
            match Error::from(store) {
                Error::Scim(e) => assert_eq!(
                    (e.status, e.scim_type, e.detail),
                    (status, scim_type, detail)
                ),
                other => panic!("not a SCIM error: {other:?}"),
            }
        }
    }

    #[test]
    fn an_unreachable_database_is_unavailable_and_corrupt_data_internal() {
        assert!(matches!(
            Error::from(StoreError::Unavailable(sqlx::Error::PoolTimedOut)),
            Error::Unavailable(Unavailable::Database(_))
        ));
        assert!(matches!(
            Error::from(StoreError::corrupt("created", -1, "an instant")),
            Error::Internal(_)
        ));
    }
}
