//! Filters and sort keys compiled to SQLite (JSON1), with the semantics of the PostgreSQL
//! compiler and of the in-memory evaluator: everything compares the folded document, values
//! are bind parameters only, every leaf is two-valued. Substring operators use `instr` and
//! `substr` (no LIKE, whose ASCII case folding SQLite applies by default), so there is nothing
//! to escape.

use sqlx::{QueryBuilder, Sqlite};

use crate::scim::filter::{CompareOp, Filter, Kind, Operand, Target};
use crate::scim::list::SortKey;
use crate::scim::resource::ResourceId;
use crate::scim::schema::ResourceKind;
use crate::store::shadow::name_attribute;

type Qb<'a> = QueryBuilder<'a, Sqlite>;

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

/// Where element targets read from inside `Any`: an element of a document array (`e.value`),
/// or a membership seen as `{"value", "type", "display"}`.
#[derive(Clone, Copy)]
struct Scope<'s> {
    kind: ResourceKind,
    element: &'s str,
}

pub fn push_filter(qb: &mut Qb<'_>, filter: &Filter, kind: ResourceKind) {
    push(
        qb,
        filter,
        Scope {
            kind,
            element: "e.value",
        },
    );
}

fn push(qb: &mut Qb<'_>, filter: &Filter, scope: Scope<'_>) {
    match filter {
        Filter::And(a, b) => binary(qb, a, "and", b, scope),
        Filter::Or(a, b) => binary(qb, a, "or", b, scope),
        Filter::Not(a) => {
            qb.push("not (");
            push(qb, a, scope);
            qb.push(")");
        }
        Filter::Const(b) => {
            qb.push(if *b { "1" } else { "0" });
        }
        Filter::Present(target) => present(qb, target, scope),
        Filter::Compare { target, op, value } => compare(qb, target, *op, value, scope),
        Filter::Any { path, filter } => {
            if let Some(relation) = Relation::of(scope.kind, path) {
                relation.push(qb, filter, scope.kind);
                return;
            }
            // an indexed pre-selection by one `eq` of the element filter (resource_values)
            if let ([attr], Some((sub, value))) = (path.as_slice(), indexed_eq(filter)) {
                qb.push("seq in (select seq from resource_values where attribute = ");
                qb.push_bind(format!("{attr}.{sub}"));
                qb.push(" and value = ");
                qb.push_bind(value.to_owned());
                qb.push(") and ");
            }
            qb.push("exists (select 1 from json_each(search, ");
            qb.push_bind(json_path(path));
            qb.push(") as e where ");
            push(
                qb,
                filter,
                Scope {
                    kind: scope.kind,
                    element: "e.value",
                },
            );
            qb.push(")");
        }
    }
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

fn binary(qb: &mut Qb<'_>, a: &Filter, op: &str, b: &Filter, scope: Scope<'_>) {
    qb.push("(");
    push(qb, a, scope);
    qb.push(format!(" {op} "));
    push(qb, b, scope);
    qb.push(")");
}

/// `json_extract(<doc>, <path>)` or `json_type(…)` of a document or element target.
fn push_json_fn(qb: &mut Qb<'_>, function: &str, target: &Target, scope: Scope<'_>) {
    match target {
        Target::Field { path, .. } => {
            qb.push(format!("{function}(search, "));
            qb.push_bind(json_path(path));
            qb.push(")");
        }
        Target::Element { sub: Some(sub), .. } => {
            qb.push(format!("{function}({}, ", scope.element));
            qb.push_bind(json_path(std::slice::from_ref(sub)));
            qb.push(")");
        }
        Target::Element { sub: None, .. } => {
            qb.push(if function == "json_type" {
                "e.type"
            } else {
                "e.value"
            });
        }
        Target::Id | Target::Created | Target::LastModified => {
            qb.push("null");
        }
    }
}

fn present(qb: &mut Qb<'_>, target: &Target, scope: Scope<'_>) {
    if matches!(target, Target::Id | Target::Created | Target::LastModified) {
        qb.push("1");
        return;
    }
    qb.push("coalesce(");
    push_json_fn(qb, "json_type", target, scope);
    qb.push(" <> 'null' and (");
    push_json_fn(qb, "json_type", target, scope);
    qb.push(" <> 'text' or ");
    push_json_fn(qb, "json_extract", target, scope);
    qb.push(" <> ''), 0)");
}

fn sql_op(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "<>",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => "=",
    }
}

/// Microseconds since the epoch: the precision filters compare instants at.
fn micros(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_micros()
}

fn compare(qb: &mut Qb<'_>, target: &Target, op: CompareOp, value: &Operand, scope: Scope<'_>) {
    match (target, value) {
        (Target::Id, Operand::Str(s)) => return compare_id(qb, op, s),
        (Target::Created | Target::LastModified, Operand::DateTime(t)) => {
            let column = if *target == Target::Created {
                "created"
            } else {
                "last_modified"
            };
            qb.push(format!("({column} * 1000) {} ", sql_op(op)));
            qb.push_bind(micros(*t));
            return;
        }
        _ => {}
    }
    if let (Target::Field { path, .. }, CompareOp::Eq, Operand::Str(s)) = (target, op, value) {
        if let [only] = path.as_slice() {
            if *only == name_attribute(scope.kind) {
                qb.push("name_key = ");
                qb.push_bind(s.clone());
                return;
            }
            if only == "externalId" {
                qb.push("(external_id is not null and external_id = ");
                qb.push_bind(s.clone());
                qb.push(")");
                return;
            }
        }
    }
    qb.push("coalesce(");
    match value {
        Operand::Str(s) => {
            push_json_fn(qb, "json_type", target, scope);
            qb.push(" = 'text' and ");
            match op {
                CompareOp::Co => {
                    qb.push("instr(");
                    push_json_fn(qb, "json_extract", target, scope);
                    qb.push(", ");
                    qb.push_bind(s.clone());
                    qb.push(") > 0");
                }
                CompareOp::Sw => {
                    qb.push("substr(");
                    push_json_fn(qb, "json_extract", target, scope);
                    qb.push(", 1, length(");
                    qb.push_bind(s.clone());
                    qb.push(")) = ");
                    qb.push_bind(s.clone());
                }
                CompareOp::Ew => {
                    qb.push("(");
                    qb.push_bind(s.clone());
                    qb.push(" = '' or substr(");
                    push_json_fn(qb, "json_extract", target, scope);
                    qb.push(", -length(");
                    qb.push_bind(s.clone());
                    qb.push(")) = ");
                    qb.push_bind(s.clone());
                    qb.push(")");
                }
                _ => {
                    push_json_fn(qb, "json_extract", target, scope);
                    qb.push(format!(" {} ", sql_op(op)));
                    qb.push_bind(s.clone());
                }
            }
        }
        Operand::Num(n) => {
            push_json_fn(qb, "json_type", target, scope);
            qb.push(" in ('integer', 'real') and ");
            push_json_fn(qb, "json_extract", target, scope);
            qb.push(format!(" {} ", sql_op(op)));
            qb.push_bind(*n);
        }
        Operand::Bool(b) => {
            push_json_fn(qb, "json_type", target, scope);
            qb.push(if *b { " = 'true'" } else { " = 'false'" });
        }
        Operand::DateTime(t) => {
            qb.push("cast(round(unixepoch(");
            push_json_fn(qb, "json_extract", target, scope);
            qb.push(format!(
                ", 'subsec') * 1000000) as integer) {} ",
                sql_op(op)
            ));
            qb.push_bind(micros(*t));
        }
    }
    qb.push(", 0)");
}

/// `id eq` compares UUIDs (any letter case); other operators compare the canonical text.
fn compare_id(qb: &mut Qb<'_>, op: CompareOp, s: &str) {
    match op {
        CompareOp::Eq => match s.parse::<ResourceId>() {
            Ok(id) => {
                qb.push("id = ");
                qb.push_bind(id.to_string());
            }
            Err(_) => {
                qb.push("0");
            }
        },
        CompareOp::Co => {
            qb.push("instr(id, ");
            qb.push_bind(s.to_owned());
            qb.push(") > 0");
        }
        CompareOp::Sw => {
            qb.push("substr(id, 1, length(");
            qb.push_bind(s.to_owned());
            qb.push(")) = ");
            qb.push_bind(s.to_owned());
        }
        CompareOp::Ew => {
            qb.push("(");
            qb.push_bind(s.to_owned());
            qb.push(" = '' or substr(id, -length(");
            qb.push_bind(s.to_owned());
            qb.push(")) = ");
            qb.push_bind(s.to_owned());
            qb.push(")");
        }
        _ => {
            qb.push(format!("id {} ", sql_op(op)));
            qb.push_bind(s.to_owned());
        }
    }
}

/// `members` of groups and `groups` of users, read from the membership table.
enum Relation {
    Members,
    Groups,
}

impl Relation {
    fn of(kind: ResourceKind, path: &[String]) -> Option<Self> {
        match (kind, path) {
            (ResourceKind::Group, [p]) if p == "members" => Some(Self::Members),
            (ResourceKind::User, [p]) if p == "groups" => Some(Self::Groups),
            _ => None,
        }
    }

    fn push(&self, qb: &mut Qb<'_>, filter: &Filter, kind: ResourceKind) {
        let (owner, other, element) = match self {
            Self::Members => (
                "group_id",
                "member_id",
                "json_object('value', m.member_id, 'type', lower(o.resource_type), 'display', \
                 coalesce(lower(m.display), json_extract(o.search, '$.displayName'), json_extract(o.search, '$.userName')))",
            ),
            Self::Groups => (
                "member_id",
                "group_id",
                "json_object('value', m.group_id, 'type', 'direct', 'display', json_extract(o.search, '$.displayName'))",
            ),
        };
        if let Filter::Compare {
            target: Target::Element { sub: Some(sub), .. },
            op: CompareOp::Eq,
            value: Operand::Str(id),
        } = filter
        {
            if sub == "value" {
                match id.parse::<ResourceId>() {
                    Ok(id) => {
                        qb.push(format!(
                            "exists (select 1 from memberships m where m.tenant_id = resources.tenant_id \
                             and m.{owner} = resources.id and m.{other} = "
                        ));
                        qb.push_bind(id.to_string());
                        qb.push(")");
                    }
                    Err(_) => {
                        qb.push("0");
                    }
                }
                return;
            }
        }
        qb.push(format!(
            "exists (select 1 from memberships m join resources o on o.tenant_id = m.tenant_id and o.id = m.{other} \
             where m.tenant_id = resources.tenant_id and m.{owner} = resources.id and "
        ));
        push(qb, filter, Scope { kind, element });
        qb.push(")");
    }
}

/// The expression a sort orders by; strings by code point (SQLite's BINARY collation compares
/// UTF-8 bytes, like Rust's `str` ordering and PostgreSQL's `"C"`).
pub fn push_sort_key(qb: &mut Qb<'_>, key: &SortKey) {
    let typed = |qb: &mut Qb<'_>, kind: Kind, push_value: &dyn Fn(&mut Qb<'_>)| {
        if kind == Kind::DateTime {
            qb.push("unixepoch(");
            push_value(qb);
            qb.push(", 'subsec')");
        } else {
            push_value(qb);
        }
    };
    match key {
        SortKey::Id => {
            qb.push("id");
        }
        SortKey::Created => {
            qb.push("created");
        }
        SortKey::LastModified => {
            qb.push("last_modified");
        }
        SortKey::Field { path, kind } => typed(qb, *kind, &|qb| {
            qb.push("json_extract(search, ");
            qb.push_bind(json_path(path));
            qb.push(")");
        }),
        SortKey::Multi { path, sub, kind } => typed(qb, *kind, &|qb| {
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
            qb.push("coalesce((select json_extract(p.value, ");
            qb.push_bind(sub_path);
            qb.push(") from json_each(search, ");
            qb.push_bind(json_path(path));
            qb.push(") as p where json_type(p.value, '$.primary') = 'true' limit 1), json_extract(search, ");
            qb.push_bind(first);
            qb.push("))");
        }),
    }
}
