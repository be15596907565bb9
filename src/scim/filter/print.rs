//! Printing an untyped filter back to text, so that `parse(print(f)) == f` can be tested. Only
//! the parentheses the grammar needs are printed (RFC 7644 §3.4.2.2: `not`, then `and`, then
//! `or`, each left-associative), so that a long chain of `or` prints as flat as it parsed and
//! stays within the nesting limit.

use std::fmt;

use super::parse::{Literal, Raw};

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            Literal::Num(n) => write!(f, "{n}"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Null => f.write_str("null"),
            Literal::Bare(s) => f.write_str(s),
        }
    }
}

/// How tightly an expression binds: `or` 0, `and` 1, anything else 2.
fn rank(raw: &Raw) -> u8 {
    match raw {
        Raw::Or(..) => 0,
        Raw::And(..) => 1,
        _ => 2,
    }
}

/// `raw` as an operand that must bind at least as tightly as `min`.
fn operand(f: &mut fmt::Formatter<'_>, raw: &Raw, min: u8) -> fmt::Result {
    if rank(raw) < min {
        write!(f, "({raw})")
    } else {
        write!(f, "{raw}")
    }
}

impl fmt::Display for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // left-associative: a right operand of the same operator needs parentheses
            Raw::And(a, b) | Raw::Or(a, b) => {
                let (this, word) = match self {
                    Raw::And(..) => (1, "and"),
                    _ => (0, "or"),
                };
                operand(f, a, this)?;
                write!(f, " {word} ")?;
                operand(f, b, this + 1)
            }
            Raw::Not(a) => write!(f, "not ({a})"),
            Raw::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Raw::Present { path } => write!(f, "{path} pr"),
            Raw::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}
