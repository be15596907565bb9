//! The matching attributes in the tenants API's documents: the list `matching_attributes`
//! (precedence 1 first), the single `matching_attribute` kept for clients of before the list,
//! their schema, and how a request's fields become a [`Precedence`] or a clear problem.

use super::problem::Problem;
use crate::domain::{MatchingAttribute, Precedence};

/// A matching attribute in the document: the names scimd takes (in any case).
pub struct MatchingName;

impl utoipa::PartialSchema for MatchingName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .enum_values(Some(MatchingAttribute::ALL.map(MatchingAttribute::as_str)))
            .into()
    }
}

impl utoipa::ToSchema for MatchingName {}

/// The precedence a request sets: `matching_attributes` (the list, in order) or
/// `matching_attribute` (one); `None` when it names neither. Both at once, an empty list, a
/// name scimd does not know or one listed twice are refused, naming the field.
pub fn requested(
    list: Option<&[String]>,
    single: Option<&str>,
) -> Result<Option<Precedence>, Problem> {
    match (list, single) {
        (Some(_), Some(_)) => Err(Problem::invalid(
            "matching_attributes",
            "matching_attributes: give the list matching_attributes or the single \
             matching_attribute, not both",
        )),
        (Some(list), None) => Precedence::parse(list).map(Some).map_err(|e| {
            Problem::invalid("matching_attributes", format!("matching_attributes: {e}"))
        }),
        (None, Some(one)) => Precedence::parse(&[one]).map(Some).map_err(|e| {
            Problem::invalid("matching_attribute", format!("matching_attribute: {e}"))
        }),
        (None, None) => Ok(None),
    }
}
