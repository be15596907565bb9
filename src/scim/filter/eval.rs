//! The in-memory evaluator: a validated filter on a folded document (see `scim::fold`). It is
//! the reference the SQL compilers are tested against, and PATCH uses it for value filters.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::operand::{compare_str, parse_datetime};
use super::{CompareOp, Filter, Kind, Operand, Target};
use crate::scim::canonical::Document;
use crate::scim::resource::ResourceId;

/// What a filter looks at: the columns and the folded document of one resource.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub id: ResourceId,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub folded: &'a Document,
}

/// Whether the resource matches.
pub fn matches(filter: &Filter, s: &Subject<'_>) -> bool {
    match filter {
        Filter::And(a, b) => matches(a, s) && matches(b, s),
        Filter::Or(a, b) => matches(a, s) || matches(b, s),
        Filter::Not(a) => !matches(a, s),
        Filter::Const(b) => *b,
        Filter::Present(target) => match target {
            Target::Field { path, .. } => lookup(s.folded, path).is_some_and(present),
            _ => true,
        },
        Filter::Compare { target, op, value } => match target {
            Target::Id => compare_id(*op, s.id, value),
            Target::Created => compare_instant(*op, s.created, value),
            Target::LastModified => compare_instant(*op, s.last_modified, value),
            Target::Field { path, kind } => {
                lookup(s.folded, path).is_some_and(|v| compare(*op, *kind, v, value))
            }
            Target::Element { .. } => false,
        },
        Filter::Any { path, filter } => match lookup(s.folded, path) {
            Some(Value::Array(items)) => items.iter().any(|e| matches_element(filter, e)),
            _ => false,
        },
    }
}

/// Whether one element of a multi-valued attribute (folded) matches a filter whose targets are
/// [`Target::Element`]s.
pub fn matches_element(filter: &Filter, element: &Value) -> bool {
    match filter {
        Filter::And(a, b) => matches_element(a, element) && matches_element(b, element),
        Filter::Or(a, b) => matches_element(a, element) || matches_element(b, element),
        Filter::Not(a) => !matches_element(a, element),
        Filter::Const(b) => *b,
        Filter::Present(Target::Element { sub, .. }) => {
            item(element, sub.as_deref()).is_some_and(present)
        }
        Filter::Compare {
            target: Target::Element { sub, kind },
            op,
            value,
        } => item(element, sub.as_deref()).is_some_and(|v| compare(*op, *kind, v, value)),
        _ => false,
    }
}

fn item<'v>(element: &'v Value, sub: Option<&str>) -> Option<&'v Value> {
    match sub {
        Some(sub) => element.get(sub),
        None => Some(element),
    }
}

fn lookup<'v>(doc: &'v Document, path: &[String]) -> Option<&'v Value> {
    let (first, rest) = path.split_first()?;
    let mut v = doc.get(first)?;
    for key in rest {
        v = v.get(key)?;
    }
    Some(v)
}

/// RFC 7644 §3.4.2.2 `pr`: not null, not an empty string, array or object.
fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn compare(op: CompareOp, kind: Kind, v: &Value, operand: &Operand) -> bool {
    match (kind, operand) {
        (Kind::String, Operand::Str(o)) => v.as_str().is_some_and(|s| compare_str(op, s, o)),
        (Kind::Boolean, Operand::Bool(o)) => op == CompareOp::Eq && v.as_bool() == Some(*o),
        (Kind::Number, Operand::Num(o)) => {
            v.as_f64().is_some_and(|n| ordered(op, n.partial_cmp(o)))
        }
        (Kind::DateTime, Operand::DateTime(o)) => v
            .as_str()
            .and_then(parse_datetime)
            .is_some_and(|t| ordered(op, Some(t.cmp(o)))),
        _ => false,
    }
}

fn compare_instant(op: CompareOp, t: DateTime<Utc>, operand: &Operand) -> bool {
    match operand {
        Operand::DateTime(o) => ordered(op, Some(t.cmp(o))),
        _ => false,
    }
}

/// `id eq` compares UUIDs (any letter case); other operators compare the canonical text.
fn compare_id(op: CompareOp, id: ResourceId, operand: &Operand) -> bool {
    let Operand::Str(o) = operand else {
        return false;
    };
    if op == CompareOp::Eq {
        return o.parse::<ResourceId>().is_ok_and(|parsed| parsed == id);
    }
    compare_str(op, &id.to_string(), o)
}

fn ordered(op: CompareOp, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match (op, ord) {
        (_, None) => false,
        (CompareOp::Eq, Some(o)) => o == Equal,
        (CompareOp::Ne, Some(o)) => o != Equal,
        (CompareOp::Gt, Some(o)) => o == Greater,
        (CompareOp::Ge, Some(o)) => o != Less,
        (CompareOp::Lt, Some(o)) => o == Less,
        (CompareOp::Le, Some(o)) => o != Greater,
        (CompareOp::Co | CompareOp::Sw | CompareOp::Ew, _) => false,
    }
}
