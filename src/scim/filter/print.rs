//! Printing an untyped filter back to text, so that `parse(print(f)) == f` can be tested.

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

impl fmt::Display for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Raw::And(a, b) => write!(f, "({a} and {b})"),
            Raw::Or(a, b) => write!(f, "({a} or {b})"),
            Raw::Not(a) => write!(f, "not ({a})"),
            Raw::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Raw::Present { path } => write!(f, "{path} pr"),
            Raw::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}
