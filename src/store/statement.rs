//! A statement as the shared store code writes it: SQL text with `$1`, `$2`, … placeholders
//! (PostgreSQL's form, which sqlx also binds on SQLite) and its parameters as [`Arg`]s, values
//! in scimd's terms. Each dialect encodes the arguments in its own column types (a UUID is
//! `uuid` on PostgreSQL and text on SQLite). No text of a request ever reaches `text`: values
//! are parameters only.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::domain::TenantId;
use crate::scim::resource::{ResourceId, Version};
use crate::store::StoreError;

/// One parameter of a statement.
#[derive(Debug, Clone)]
pub enum Arg {
    Uuid(Uuid),
    /// An id that may be missing (`null`).
    OptUuid(Option<Uuid>),
    /// A list of ids (`uuid[]` on PostgreSQL, a JSON array on SQLite).
    Uuids(Vec<Uuid>),
    Text(Option<String>),
    /// A list of strings (`text[]` on PostgreSQL, a JSON array on SQLite).
    Texts(Option<Vec<String>>),
    Int(Option<i64>),
    Float(f64),
    Bool(Option<bool>),
    /// An instant (`timestamptz` on PostgreSQL, integer milliseconds on SQLite).
    Instant(DateTime<Utc>),
    /// An instant that may be missing (`null`).
    OptInstant(Option<DateTime<Utc>>),
    /// A JSON document, serialised once (`jsonb` on PostgreSQL, text on SQLite).
    Json(String),
    Bytes(Vec<u8>),
}

impl Arg {
    /// A value as a JSON parameter.
    pub fn json(value: &impl Serialize) -> Result<Self, StoreError> {
        serde_json::to_string(value)
            .map(Arg::Json)
            .map_err(|e| StoreError::Other(sqlx::Error::Encode(Box::new(e))))
    }
}

/// SQL text and its arguments, `$n` being `args[n - 1]`.
#[derive(Debug, Clone, Default)]
pub struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    /// A statement whose text holds its placeholders; `arg` supplies them in order.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            args: Vec::new(),
        }
    }

    /// The value of the next placeholder already in the text.
    pub fn arg(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Puts SQL text before the statement (its placeholders keep their numbers).
    pub fn prepend(&mut self, text: &str) -> &mut Self {
        self.text.insert_str(0, text);
        self
    }

    /// Appends SQL text.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn push_bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        // written into the text, without the allocation of `to_string` (a create's statement
        // has some forty placeholders)
        let _ = write!(self.text, "${}", self.args.len());
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text and the arguments, for a dialect to run.
    pub fn into_parts(self) -> (String, Vec<Arg>) {
        (self.text, self.args)
    }
}

impl From<&Value> for Arg {
    fn from(v: &Value) -> Self {
        Arg::Json(v.to_string())
    }
}

impl From<Uuid> for Arg {
    fn from(v: Uuid) -> Self {
        Arg::Uuid(v)
    }
}

impl From<Option<Uuid>> for Arg {
    fn from(v: Option<Uuid>) -> Self {
        Arg::OptUuid(v)
    }
}

impl From<TenantId> for Arg {
    fn from(v: TenantId) -> Self {
        Arg::Uuid(v.0)
    }
}

impl From<ResourceId> for Arg {
    fn from(v: ResourceId) -> Self {
        Arg::Uuid(v.0)
    }
}

impl From<&[ResourceId]> for Arg {
    fn from(v: &[ResourceId]) -> Self {
        Arg::Uuids(v.iter().map(|id| id.0).collect())
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}

impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_owned))
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}

impl From<Option<&[String]>> for Arg {
    fn from(v: Option<&[String]>) -> Self {
        Arg::Texts(v.map(<[String]>::to_vec))
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Version> for Arg {
    fn from(v: Version) -> Self {
        Arg::Int(Some(v.0))
    }
}

impl From<Option<Version>> for Arg {
    fn from(v: Option<Version>) -> Self {
        Arg::Int(v.map(|v| v.0))
    }
}

impl From<f64> for Arg {
    fn from(v: f64) -> Self {
        Arg::Float(v)
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(Some(v))
    }
}

impl From<Option<bool>> for Arg {
    fn from(v: Option<bool>) -> Self {
        Arg::Bool(v)
    }
}

impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Self {
        Arg::Instant(v)
    }
}

impl From<Option<DateTime<Utc>>> for Arg {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Arg::OptInstant(v)
    }
}

impl From<&[u8]> for Arg {
    fn from(v: &[u8]) -> Self {
        Arg::Bytes(v.to_vec())
    }
}

/// Whether a statement's arguments can be stored: PostgreSQL's `text` and `jsonb` cannot hold
/// U+0000 (nor `\u0000` in JSON), so such an argument is refused as [`StoreError::Unstorable`]
/// before it reaches either database — the two stores refuse the same values, whatever check
/// upstream missed one.
pub fn check_storable(args: &[Arg]) -> Result<(), StoreError> {
    let text_nul = |t: &str| t.contains('\0');
    let bad = args.iter().any(|arg| match arg {
        Arg::Text(Some(t)) => text_nul(t),
        Arg::Texts(Some(list)) => list.iter().any(|t| text_nul(t)),
        Arg::Json(j) => json_nul(j),
        _ => false,
    });
    if bad {
        return Err(StoreError::Unstorable);
    }
    Ok(())
}

/// Whether JSON text holds a NUL character: raw, or as the escape `\u0000` (a backslash that
/// is itself escaped does not start one).
fn json_nul(json: &str) -> bool {
    if json.contains('\0') {
        return true;
    }
    let bytes = json.as_bytes();
    let mut from = 0;
    while let Some(at) = json[from..].find("\\u0000").map(|i| i + from) {
        let backslashes = bytes[..at]
            .iter()
            .rev()
            .take_while(|b| **b == b'\\')
            .count();
        if backslashes % 2 == 0 {
            return true;
        }
        from = at + 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_after_the_arguments_given_with_the_text() {
        let mut sql = Sql::new("select 1 where a = $1").arg("x");
        sql.push(" and b = ")
            .push_bind(2_i64)
            .push(" and c = ")
            .push_bind(true);
        let (text, args) = sql.into_parts();
        assert_eq!(text, "select 1 where a = $1 and b = $2 and c = $3");
        assert_eq!(args.len(), 3);
    }

    #[test]
    fn placeholders_past_nine_and_past_ninety_nine_are_written_in_full() {
        let mut sql = Sql::new("values (");
        for i in 0..120_i64 {
            sql.push(if i == 0 { "" } else { ", " }).push_bind(i);
        }
        let (text, args) = sql.into_parts();
        let expected: Vec<String> = (1..=120).map(|n| format!("${n}")).collect();
        assert_eq!(text, format!("values ({}", expected.join(", ")));
        assert_eq!(args.len(), 120);
    }

    #[test]
    fn nul_characters_are_unstorable_in_text_and_json_but_an_escaped_backslash_is_not_one() {
        let json = |v: serde_json::Value| Arg::Json(v.to_string());
        assert!(check_storable(&[Arg::Text(Some("a\0b".into()))]).is_err());
        assert!(check_storable(&[Arg::Texts(Some(vec!["ok".into(), "\0".into()]))]).is_err());
        assert!(check_storable(&[json(serde_json::json!({"a\u{0}": 1}))]).is_err());
        assert!(check_storable(&[json(serde_json::json!(["x\u{0}"]))]).is_err());
        assert!(check_storable(&[json(serde_json::json!({"a": "\\u0000"}))]).is_ok());
        assert!(check_storable(&[json(serde_json::json!({"a": "\\\u{0}"}))]).is_err());
        assert!(check_storable(&[Arg::Text(Some("plain".into())), Arg::Bytes(vec![0])]).is_ok());
    }
}
