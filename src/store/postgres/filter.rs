//! Filter leaves and sort keys in PostgreSQL's JSONB operators. `eq` compiles to containment
//! (`search @> …`), which the GIN index on `search` serves, also for an element filter that
//! is a conjunction of `eq`s (`emails[type eq "work" and value eq "x"]`). Strings compare by
//! code point (`collate "C"`, like Rust's `str`); substring operators are `LIKE` with `\`, `%`
//! and `_` escaped.

use serde_json::{Map, Value};

use super::Pg;
use crate::scim::filter::{CompareOp, Filter, Kind, Operand, Target};
use crate::scim::list::SortKey;
use crate::store::dialect::Leaves;
use crate::store::dialect::Relation;
use crate::store::statement::{Arg, Sql};

impl Leaves for Pg {
    fn compare(sql: &mut Sql, target: &Target, op: CompareOp, value: &Operand) {
        if op == CompareOp::Eq && equal(sql, target, value) {
            return;
        }
        sql.push("coalesce(");
        match value {
            Operand::Str(s) => {
                push_text(sql, target);
                if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                    sql.push(" like ")
                        .push_bind(like_pattern(op, s))
                        .push(" escape '\\'");
                } else {
                    sql.push(" collate \"C\" ")
                        .push(sql_op(op))
                        .push(" ")
                        .push_bind(s.as_str());
                }
            }
            Operand::Num(n) => {
                push_text(sql, target);
                sql.push("::float8 ")
                    .push(sql_op(op))
                    .push(" ")
                    .push_bind(*n);
            }
            Operand::DateTime(t) => {
                push_text(sql, target);
                if !matches!(target, Target::Created | Target::LastModified) {
                    sql.push("::timestamptz");
                }
                sql.push(" ").push(sql_op(op)).push(" ").push_bind(*t);
            }
            Operand::Bool(b) => {
                push_json(sql, target);
                sql.push(" = ").push_bind(&Value::Bool(*b));
            }
        }
        sql.push(", false)");
    }

    /// RFC 7644 §3.4.2.2 `pr`: not null, `""`, `[]` or `{}`.
    fn present(sql: &mut Sql, target: &Target) {
        sql.push("coalesce(");
        push_json(sql, target);
        sql.push(" not in ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb, '{}'::jsonb), false)");
    }

    /// `path[filter]`: containment when the filter allows it, else a scan of the elements
    /// (`e.v` inside `inner`).
    fn any(sql: &mut Sql, path: &[String], filter: &Filter, inner: &mut dyn FnMut(&mut Sql)) {
        if let Some(pattern) = containment_elements(filter) {
            sql.push("search @> ")
                .push_bind(&nest(path, Value::Array(vec![pattern])));
            return;
        }
        sql.push("exists (select 1 from jsonb_array_elements(case jsonb_typeof(search #> ")
            .push_bind(path_arg(path))
            .push(") when 'array' then search #> ")
            .push_bind(path_arg(path))
            .push(" else '[]'::jsonb end) as e(v) where ");
        inner(sql);
        sql.push(")");
    }

    /// A membership as the element `e.v`, folded like documents are.
    fn relation_element(relation: Relation) -> &'static str {
        match relation {
            Relation::Members => {
                "lateral (select jsonb_build_object('value', m.member_id::text, \
                 'type', lower(o.resource_type), 'display', \
                 coalesce(lower(m.display), o.search->>'displayName', o.search->>'userName'))) as e(v)"
            }
            Relation::Groups => {
                "lateral (select jsonb_build_object('value', m.group_id::text, 'type', 'direct', \
                 'display', o.search->>'displayName')) as e(v)"
            }
        }
    }

    /// The expression a sort by a document attribute orders by, typed so that numbers and
    /// instants order as such and strings by code point (`collate "C"`, like Rust's `str`).
    fn sort_key(sql: &mut Sql, key: &SortKey) {
        match key {
            SortKey::Field { path, kind } => {
                sql.push("(search #>> ").push_bind(path_arg(path)).push(")");
                sql.push(cast(*kind));
            }
            SortKey::Multi { path, sub, kind } => {
                // RFC 7644 §3.4.2.3: the primary value, else the first one.
                let sub_text = |sql: &mut Sql| match sub {
                    Some(sub) => {
                        sql.push(" ->> ").push_bind(sub.as_str());
                    }
                    None => {
                        sql.push(" #>> '{}'");
                    }
                };
                sql.push("(coalesce((select p.v");
                sub_text(sql);
                sql.push(" from jsonb_array_elements(case jsonb_typeof(search #> ")
                    .push_bind(path_arg(path))
                    .push(") when 'array' then search #> ")
                    .push_bind(path_arg(path))
                    .push(" else '[]'::jsonb end) as p(v) where p.v -> 'primary' = 'true'::jsonb limit 1), ((search #> ")
                    .push_bind(path_arg(path))
                    .push(") -> 0)");
                sub_text(sql);
                sql.push("))");
                sql.push(cast(*kind));
            }
            SortKey::Id | SortKey::Created | SortKey::LastModified => {}
        }
    }
}

/// `{"a": {"b": leaf}}` for path `["a", "b"]`.
fn nest(path: &[String], leaf: Value) -> Value {
    path.iter().rev().fold(leaf, |inner, key| {
        let mut m = Map::new();
        m.insert(key.clone(), inner);
        Value::Object(m)
    })
}

/// A key path as a `text[]` parameter (for `#>` and `#>>`).
fn path_arg(path: &[String]) -> Arg {
    Arg::Texts(Some(path.to_vec()))
}

/// The JSON value containment compares for an `eq` operand (not for dateTimes, whose text
/// may differ for one instant).
fn json_operand(value: &Operand) -> Option<Value> {
    match value {
        Operand::Str(s) => Some(Value::String(s.clone())),
        Operand::Bool(b) => Some(Value::Bool(*b)),
        Operand::Num(n) => serde_json::Number::from_f64(*n).map(Value::Number),
        Operand::DateTime(_) => None,
    }
}

/// For `emails[type eq "work" and value eq "x"]`: the element pattern
/// `{"type":"work","value":"x"}`, when the filter is a conjunction of `eq` on distinct
/// sub-attributes.
fn containment_elements(filter: &Filter) -> Option<Value> {
    fn walk(f: &Filter, pattern: &mut Map<String, Value>) -> Option<()> {
        match f {
            Filter::And(a, b) => {
                walk(a, pattern)?;
                walk(b, pattern)
            }
            Filter::Compare {
                target: Target::Element { sub: Some(sub), .. },
                op: CompareOp::Eq,
                value,
            } => {
                let v = json_operand(value)?;
                // `type eq "a" and type eq "b"` is no containment
                pattern.insert(sub.clone(), v).is_none().then_some(())
            }
            _ => None,
        }
    }
    let mut pattern = Map::new();
    walk(filter, &mut pattern)?;
    Some(Value::Object(pattern))
}

/// The jsonb expression of a target.
fn push_json(sql: &mut Sql, target: &Target) {
    match target {
        Target::Field { path, .. } => {
            sql.push("(search #> ").push_bind(path_arg(path)).push(")");
        }
        Target::Element { sub: Some(sub), .. } => {
            sql.push("(e.v -> ").push_bind(sub.as_str()).push(")");
        }
        Target::Element { sub: None, .. } => {
            sql.push("e.v");
        }
        Target::Id | Target::Created | Target::LastModified => {
            sql.push("null::jsonb");
        }
    }
}

/// The text expression of a target.
fn push_text(sql: &mut Sql, target: &Target) {
    match target {
        Target::Field { path, .. } => {
            sql.push("(search #>> ").push_bind(path_arg(path)).push(")");
        }
        Target::Element { sub: Some(sub), .. } => {
            sql.push("(e.v ->> ").push_bind(sub.as_str()).push(")");
        }
        Target::Element { sub: None, .. } => {
            sql.push("(e.v #>> '{}')");
        }
        Target::Id => {
            sql.push("id::text");
        }
        Target::Created => {
            sql.push("created");
        }
        Target::LastModified => {
            sql.push("last_modified");
        }
    }
}

fn sql_op(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "<>",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => "like",
    }
}

/// A LIKE pattern matching `s` as a substring, prefix or suffix, with `\`, `%` and `_` escaped.
pub fn like_pattern(op: CompareOp, s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    match op {
        CompareOp::Co => format!("%{escaped}%"),
        CompareOp::Sw => format!("{escaped}%"),
        _ => format!("%{escaped}"),
    }
}

/// `eq` as containment on the document (served by the GIN index) or as JSON equality of an
/// element; `false` when the operand has no JSON form to compare (dateTimes).
fn equal(sql: &mut Sql, target: &Target, value: &Operand) -> bool {
    let Some(v) = json_operand(value) else {
        return false;
    };
    match target {
        Target::Field { path, .. } => {
            sql.push("search @> ").push_bind(&nest(path, v));
        }
        // element equality: the same JSON value (strings are folded already)
        Target::Element { sub: Some(sub), .. } => {
            sql.push("coalesce(e.v -> ")
                .push_bind(sub.as_str())
                .push(" = ")
                .push_bind(&v)
                .push(", false)");
        }
        Target::Element { sub: None, .. } => {
            sql.push("coalesce(e.v = ").push_bind(&v).push(", false)");
        }
        Target::Id | Target::Created | Target::LastModified => return false,
    }
    true
}

fn cast(kind: Kind) -> &'static str {
    match kind {
        Kind::String => " collate \"C\"",
        Kind::Number => "::float8",
        Kind::DateTime => "::timestamptz",
        Kind::Boolean => "::boolean",
    }
}
