//! Operands: the kind an attribute compares as, the operators that apply to it (RFC 7644
//! §3.4.2.2), a filter's literal typed for it, and the comparisons both validation and the
//! in-memory evaluator make on strings and dateTimes.

use chrono::{DateTime, DurationRound, NaiveDateTime, TimeDelta, Utc};

use super::parse::Literal;
use super::{CompareOp, Kind, Operand};
use crate::scim::canonical::parse_bool;
use crate::scim::schema::{AttrType, Attribute};

/// The kind a simple attribute compares as; a complex one names no value to compare.
pub(super) fn kind_of(def: &Attribute, display: &str) -> Result<Kind, String> {
    Ok(match def.kind {
        AttrType::String | AttrType::Reference | AttrType::Binary => Kind::String,
        AttrType::Boolean => Kind::Boolean,
        AttrType::Integer | AttrType::Decimal => Kind::Number,
        AttrType::DateTime => Kind::DateTime,
        AttrType::Complex => return Err(format!("'{display}' is complex; name a sub-attribute")),
    })
}

/// RFC 7644 §3.4.2.2: ordering operators on booleans and binary are invalid; substring
/// operators apply to strings.
pub(super) fn check_op(
    op: CompareOp,
    kind: Kind,
    attr_type: AttrType,
    display: &str,
) -> Result<(), String> {
    let ordering_ok = kind != Kind::Boolean && attr_type != AttrType::Binary;
    let substring_ok = kind == Kind::String;
    match op {
        o if o.is_ordering() && !ordering_ok => Err(format!(
            "'{display}' cannot be ordered: {op} does not apply to it"
        )),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew if !substring_ok => Err(format!(
            "{op} compares strings; '{display}' is not a string"
        )),
        _ => Ok(()),
    }
}

/// The operand for an attribute of `kind`, folded to lower case unless `case_exact`.
pub(super) fn typed(
    kind: Kind,
    case_exact: bool,
    value: &Literal,
    display: &str,
) -> Result<Operand, String> {
    let text = match value {
        Literal::Str(s) | Literal::Bare(s) => Some(s.clone()),
        Literal::Num(n) => Some(n.to_string()),
        Literal::Bool(_) | Literal::Null => None,
    };
    let wrong = |expected: &str| format!("'{display}' is {expected}; {} is not one", show(value));
    match kind {
        Kind::String => match (value, text) {
            (Literal::Bool(b), _) => Err(format!(
                "'{display}' is a string; {b} is not one (quote it)"
            )),
            (_, Some(t)) => Ok(Operand::Str(if case_exact { t } else { t.to_lowercase() })),
            _ => Err(wrong("a string")),
        },
        Kind::Boolean => match value {
            Literal::Bool(b) => Ok(Operand::Bool(*b)),
            Literal::Str(s) | Literal::Bare(s) => parse_bool(s)
                .map(Operand::Bool)
                .ok_or_else(|| wrong("a boolean")),
            _ => Err(wrong("a boolean")),
        },
        Kind::Number => text
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|f| f.is_finite())
            .map(Operand::Num)
            .ok_or_else(|| wrong("a number")),
        Kind::DateTime => text
            .as_deref()
            .and_then(parse_datetime)
            .map(Operand::DateTime)
            .ok_or_else(|| wrong("a dateTime (such as 2015-10-10T14:38:21Z)")),
    }
}

fn show(value: &Literal) -> String {
    match value {
        Literal::Str(s) => format!("\"{s}\""),
        Literal::Bare(s) => s.clone(),
        Literal::Num(n) => n.to_string(),
        Literal::Bool(b) => b.to_string(),
        Literal::Null => "null".to_owned(),
    }
}

/// An xsd:dateTime as an instant, to the microsecond (the precision both stores keep). A value
/// without a zone is read as UTC.
pub(super) fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let t = DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").map(|n| n.and_utc()))
        .ok()?;
    Some(t.duration_round(TimeDelta::microseconds(1)).unwrap_or(t))
}

/// A string comparison for values known at validation time.
pub(super) fn compare_str(op: CompareOp, value: &str, operand: &str) -> bool {
    match op {
        CompareOp::Eq => value == operand,
        CompareOp::Ne => value != operand,
        CompareOp::Co => value.contains(operand),
        CompareOp::Sw => value.starts_with(operand),
        CompareOp::Ew => value.ends_with(operand),
        CompareOp::Gt => value > operand,
        CompareOp::Ge => value >= operand,
        CompareOp::Lt => value < operand,
        CompareOp::Le => value <= operand,
    }
}
