//! Filter leaves and sort keys in SQLite's JSON1 functions, with the semantics of the
//! PostgreSQL leaves and of the in-memory evaluator. Substring operators use `instr` and
//! `substr` (no `LIKE`, whose ASCII case folding SQLite applies by default), so there is
//! nothing to escape. Instants compare as microseconds since the epoch. An element filter with
//! an `eq` pre-selects through `resource_values`, SQLite's counterpart of the GIN index.

use chrono::{DateTime, Utc};

use super::Lite;
use crate::scim::filter::{CompareOp, Filter, Kind, Operand, Target};
use crate::scim::list::SortKey;
use crate::store::dialect::Leaves;
use crate::store::dialect::Relation;
use crate::store::statement::Sql;

impl Leaves for Lite {
    fn compare(sql: &mut Sql, target: &Target, op: CompareOp, value: &Operand) {
        match (target, value) {
            (Target::Id, Operand::Str(s)) => return text_op(sql, op, &mut push_id, s),
            (Target::Created | Target::LastModified, Operand::DateTime(t)) => {
                let column = if *target == Target::Created {
                    "created"
                } else {
                    "last_modified"
                };
                sql.push("(")
                    .push(column)
                    .push(" * 1000) ")
                    .push(sql_op(op))
                    .push(" ")
                    .push_bind(micros(*t));
                return;
            }
            _ => {}
        }
        sql.push("coalesce(");
        match value {
            Operand::Str(s) => {
                push_json_fn(sql, "json_type", target);
                sql.push(" = 'text' and ");
                text_op(
                    sql,
                    op,
                    &mut |sql| push_json_fn(sql, "json_extract", target),
                    s,
                );
            }
            Operand::Num(n) => {
                push_json_fn(sql, "json_type", target);
                sql.push(" in ('integer', 'real') and ");
                push_json_fn(sql, "json_extract", target);
                sql.push(" ").push(sql_op(op)).push(" ").push_bind(*n);
            }
            Operand::Bool(b) => {
                push_json_fn(sql, "json_type", target);
                sql.push(if *b { " = 'true'" } else { " = 'false'" });
            }
            Operand::DateTime(t) => {
                sql.push("cast(round(unixepoch(");
                push_json_fn(sql, "json_extract", target);
                sql.push(", 'subsec') * 1000000) as integer) ")
                    .push(sql_op(op))
                    .push(" ")
                    .push_bind(micros(*t));
            }
        }
        sql.push(", false)");
    }

    /// RFC 7644 §3.4.2.2 `pr`: not null, `""`, `[]` or `{}` (JSON1 gives no type for the last
    /// two, which canonical documents never hold).
    fn present(sql: &mut Sql, target: &Target) {
        sql.push("coalesce(");
        push_json_fn(sql, "json_type", target);
        sql.push(" <> 'null' and (");
        push_json_fn(sql, "json_type", target);
        sql.push(" <> 'text' or ");
        push_json_fn(sql, "json_extract", target);
        sql.push(" <> ''), false)");
    }

    /// `path[filter]`: an indexed pre-selection by one `eq` of the element filter, then a scan
    /// of the elements (`e`, inside `inner`).
    fn any(sql: &mut Sql, path: &[String], filter: &Filter, inner: &mut dyn FnMut(&mut Sql)) {
        if let ([attr], Some((sub, value))) = (path, indexed_eq(filter)) {
            sql.push("seq in (select seq from resource_values where attribute = ")
                .push_bind(format!("{attr}.{sub}"))
                .push(" and value = ")
                .push_bind(value)
                .push(") and ");
        }
        sql.push("exists (select 1 from json_each(search, ")
            .push_bind(json_path(path))
            .push(") as e where ");
        inner(sql);
        sql.push(")");
    }

    /// A membership as the one element `e` of a JSON array, folded like documents are.
    fn relation_element(relation: Relation) -> &'static str {
        match relation {
            Relation::Members => {
                "json_each(json_array(json_object('value', m.member_id, 'type', lower(o.resource_type), \
                 'display', coalesce(lower(m.display), json_extract(o.search, '$.displayName'), \
                 json_extract(o.search, '$.userName'))))) as e"
            }
            Relation::Groups => {
                "json_each(json_array(json_object('value', m.group_id, 'type', 'direct', \
                 'display', json_extract(o.search, '$.displayName')))) as e"
            }
        }
    }

    /// The expression a sort by a document attribute orders by; strings by code point.
    fn sort_key(sql: &mut Sql, key: &SortKey) {
        let timed = matches!(
            key,
            SortKey::Field {
                kind: Kind::DateTime,
                ..
            } | SortKey::Multi {
                kind: Kind::DateTime,
                ..
            }
        );
        if timed {
            sql.push("unixepoch(");
        }
        match key {
            SortKey::Field { path, .. } => {
                sql.push("json_extract(search, ")
                    .push_bind(json_path(path))
                    .push(")");
            }
            SortKey::Multi { path, sub, .. } => {
                // RFC 7644 §3.4.2.3: the primary value, else the first one.
                let sub_path = sub
                    .as_ref()
                    .map_or("$".to_owned(), |s| json_path(std::slice::from_ref(s)));
                let first = match sub {
                    Some(s) => format!(
                        "{}[0].{}",
                        json_path(path),
                        &json_path(std::slice::from_ref(s))[2..]
                    ),
                    None => format!("{}[0]", json_path(path)),
                };
                sql.push("coalesce((select json_extract(p.value, ")
                    .push_bind(sub_path)
                    .push(") from json_each(search, ")
                    .push_bind(json_path(path))
                    .push(") as p where json_type(p.value, '$.primary') = 'true' limit 1), json_extract(search, ")
                    .push_bind(first)
                    .push("))");
            }
            SortKey::Id | SortKey::Created | SortKey::LastModified => {}
        }
        if timed {
            sql.push(", 'subsec')");
        }
    }
}

/// A JSON path for `json_extract`: `$."name"."givenName"` (keys quoted: URNs hold `.` and `:`).
fn json_path(keys: &[String]) -> String {
    let mut path = String::from("$");
    for key in keys {
        path.push_str(".\"");
        path.push_str(&key.replace('"', "\\\""));
        path.push('"');
    }
    path
}

/// Microseconds since the epoch: the precision filters compare instants at.
fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// An `eq` on a string sub-attribute that every element matching `filter` satisfies (one of
/// the conjunction), preferring the `value` sub-attribute, which is the selective one.
fn indexed_eq(filter: &Filter) -> Option<(&str, &str)> {
    fn collect<'f>(f: &'f Filter, out: &mut Vec<(&'f str, &'f str)>) {
        match f {
            Filter::And(a, b) => {
                collect(a, out);
                collect(b, out);
            }
            Filter::Compare {
                target: Target::Element { sub: Some(sub), .. },
                op: CompareOp::Eq,
                value: Operand::Str(v),
            } => out.push((sub.as_str(), v.as_str())),
            _ => {}
        }
    }
    let mut eqs = Vec::new();
    collect(filter, &mut eqs);
    eqs.iter()
        .find(|(sub, _)| *sub == "value")
        .or(eqs.first())
        .copied()
}

/// `json_extract(…)` or `json_type(…)` of a document or element target.
fn push_json_fn(sql: &mut Sql, function: &str, target: &Target) {
    match target {
        Target::Field { path, .. } => {
            sql.push(function)
                .push("(search, ")
                .push_bind(json_path(path))
                .push(")");
        }
        Target::Element { sub: Some(sub), .. } => {
            sql.push(function)
                .push("(e.value, ")
                .push_bind(json_path(std::slice::from_ref(sub)))
                .push(")");
        }
        Target::Element { sub: None, .. } => {
            sql.push(if function == "json_type" {
                "e.type"
            } else {
                "e.value"
            });
        }
        Target::Id | Target::Created | Target::LastModified => {
            sql.push("null");
        }
    }
}

fn sql_op(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => "=",
        CompareOp::Ne => "<>",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
    }
}

fn push_id(sql: &mut Sql) {
    sql.push("id");
}

/// A string comparison of the text `expr` pushes: substring operators with `instr` and
/// `substr`, the others by code point (SQLite's BINARY collation compares UTF-8 bytes).
fn text_op(sql: &mut Sql, op: CompareOp, expr: &mut dyn FnMut(&mut Sql), s: &str) {
    match op {
        CompareOp::Co => {
            sql.push("instr(");
            expr(sql);
            sql.push(", ").push_bind(s).push(") > 0");
        }
        CompareOp::Sw => {
            sql.push("substr(");
            expr(sql);
            sql.push(", 1, length(")
                .push_bind(s)
                .push(")) = ")
                .push_bind(s);
        }
        CompareOp::Ew => {
            sql.push("(").push_bind(s).push(" = '' or substr(");
            expr(sql);
            sql.push(", -length(")
                .push_bind(s)
                .push(")) = ")
                .push_bind(s)
                .push(")");
        }
        _ => {
            expr(sql);
            sql.push(" ").push(sql_op(op)).push(" ").push_bind(s);
        }
    }
}
