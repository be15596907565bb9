//! Filters and sort keys compiled to PostgreSQL. Everything compares the folded document
//! (`search`, see `scim::fold`), so case-insensitivity is plain equality. Values, keys and
//! patterns are bind parameters only; no text of a request reaches the SQL. `eq` compiles to
//! JSONB containment (`search @> …`), which the GIN index on `search` serves, and to the
//! indexed shadow columns where there are some (`name_key`, `external_id`, `id`).
//! Every leaf is made two-valued with `coalesce(…, false)` so that `not` means what the
//! in-memory evaluator means.

use serde_json::{Map, Value};
use sqlx::{Postgres, QueryBuilder};

use crate::scim::filter::{CompareOp, Filter, Kind, Operand, Target};
use crate::scim::list::SortKey;
use crate::scim::resource::ResourceId;
use crate::scim::schema::ResourceKind;
use crate::store::shadow::name_attribute;

type Qb<'a> = QueryBuilder<'a, Postgres>;

/// Appends the SQL of `filter` for resources of `kind`.
pub fn push_filter(qb: &mut Qb<'_>, filter: &Filter, kind: ResourceKind) {
    match filter {
        Filter::And(a, b) => binary(qb, a, "and", b, kind),
        Filter::Or(a, b) => binary(qb, a, "or", b, kind),
        Filter::Not(a) => {
            qb.push("not (");
            push_filter(qb, a, kind);
            qb.push(")");
        }
        Filter::Const(b) => {
            qb.push(if *b { "true" } else { "false" });
        }
        Filter::Present(target) => present(qb, target),
        Filter::Compare { target, op, value } => compare(qb, target, *op, value, kind),
        Filter::Any { path, filter } => {
            if let Some(relation) = Relation::of(kind, path) {
                relation.push(qb, filter, kind);
                return;
            }
            if let Some(pattern) = containment_elements(filter) {
                qb.push("search @> ");
                qb.push_bind(nest(path, Value::Array(vec![pattern])));
                return;
            }
            qb.push("exists (select 1 from jsonb_array_elements(case jsonb_typeof(search #> ");
            qb.push_bind(path.clone());
            qb.push(") when 'array' then search #> ");
            qb.push_bind(path.clone());
            qb.push(" else '[]'::jsonb end) as e(v) where ");
            push_filter(qb, filter, kind);
            qb.push(")");
        }
    }
}

fn binary(qb: &mut Qb<'_>, a: &Filter, op: &str, b: &Filter, kind: ResourceKind) {
    qb.push("(");
    push_filter(qb, a, kind);
    qb.push(format!(" {op} "));
    push_filter(qb, b, kind);
    qb.push(")");
}

/// `{"a": {"b": leaf}}` for path `["a", "b"]`.
fn nest(path: &[String], leaf: Value) -> Value {
    path.iter().rev().fold(leaf, |inner, key| {
        let mut m = Map::new();
        m.insert(key.clone(), inner);
        Value::Object(m)
    })
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

/// For `emails[type eq "work" and value eq "x"]`: the element pattern `{"type":"work","value":"x"}`
/// when the inner filter is a conjunction of `eq` on distinct sub-attributes.
fn containment_elements(filter: &Filter) -> Option<Value> {
    let mut pattern = Map::new();
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
                if pattern.insert(sub.clone(), v).is_some() {
                    return None; // `type eq "a" and type eq "b"`: not a containment
                }
                Some(())
            }
            _ => None,
        }
    }
    walk(filter, &mut pattern)?;
    Some(Value::Object(pattern))
}

/// The jsonb expression of a target.
fn push_json(qb: &mut Qb<'_>, target: &Target) {
    match target {
        Target::Field { path, .. } => {
            qb.push("(search #> ");
            qb.push_bind(path.clone());
            qb.push(")");
        }
        Target::Element { sub: Some(sub), .. } => {
            qb.push("(e.v -> ");
            qb.push_bind(sub.clone());
            qb.push(")");
        }
        Target::Element { sub: None, .. } => {
            qb.push("e.v");
        }
        Target::Id | Target::Created | Target::LastModified => {
            qb.push("null::jsonb");
        }
    }
}

/// The text expression of a target.
fn push_text(qb: &mut Qb<'_>, target: &Target) {
    match target {
        Target::Field { path, .. } => {
            qb.push("(search #>> ");
            qb.push_bind(path.clone());
            qb.push(")");
        }
        Target::Element { sub: Some(sub), .. } => {
            qb.push("(e.v ->> ");
            qb.push_bind(sub.clone());
            qb.push(")");
        }
        Target::Element { sub: None, .. } => {
            qb.push("(e.v #>> '{}')");
        }
        Target::Id => {
            qb.push("id::text");
        }
        Target::Created => {
            qb.push("created");
        }
        Target::LastModified => {
            qb.push("last_modified");
        }
    }
}

/// RFC 7644 §3.4.2.2 `pr`: not null, `""`, `[]` or `{}`.
fn present(qb: &mut Qb<'_>, target: &Target) {
    if matches!(target, Target::Id | Target::Created | Target::LastModified) {
        qb.push("true");
        return;
    }
    qb.push("coalesce(");
    push_json(qb, target);
    qb.push(" not in ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb, '{}'::jsonb), false)");
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

fn compare(qb: &mut Qb<'_>, target: &Target, op: CompareOp, value: &Operand, kind: ResourceKind) {
    // Indexed paths first: the resource id, the unique name and externalId.
    if let Target::Id = target {
        if op == CompareOp::Eq {
            match value {
                Operand::Str(s) => match s.parse::<ResourceId>() {
                    Ok(id) => {
                        qb.push("id = ");
                        qb.push_bind(id.0);
                    }
                    Err(_) => {
                        qb.push("false");
                    }
                },
                _ => {
                    qb.push("false");
                }
            }
            return;
        }
    }
    if let (Target::Field { path, .. }, CompareOp::Eq, Operand::Str(s)) = (target, op, value) {
        if let [only] = path.as_slice() {
            // Bare comparisons, so the btree indexes serve them (a `coalesce` would hide the
            // column from the planner); both are two-valued: name_key is never null, and
            // external_id is tested for null first.
            if *only == name_attribute(kind) {
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
    if op == CompareOp::Eq {
        if let (Target::Field { path, .. }, Some(v)) = (target, json_operand(value)) {
            qb.push("search @> ");
            qb.push_bind(nest(path, v));
            return;
        }
        if let (Target::Element { sub, .. }, Some(v)) = (target, json_operand(value)) {
            // element equality: same JSON value (strings folded already)
            match sub {
                Some(sub) => {
                    qb.push("coalesce(e.v -> ");
                    qb.push_bind(sub.clone());
                    qb.push(" = ");
                }
                None => {
                    qb.push("coalesce(e.v = ");
                }
            }
            qb.push_bind(v);
            qb.push(", false)");
            return;
        }
    }
    qb.push("coalesce(");
    match value {
        Operand::Str(s) => {
            push_text(qb, target);
            if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                qb.push(" like ");
                qb.push_bind(like_pattern(op, s));
                qb.push(" escape '\\'");
            } else {
                qb.push(format!(" collate \"C\" {} ", sql_op(op)));
                qb.push_bind(s.clone());
            }
        }
        Operand::Num(n) => {
            push_text(qb, target);
            qb.push(format!("::float8 {} ", sql_op(op)));
            qb.push_bind(*n);
        }
        Operand::DateTime(t) => {
            push_text(qb, target);
            if !matches!(target, Target::Created | Target::LastModified) {
                qb.push("::timestamptz");
            }
            qb.push(format!(" {} ", sql_op(op)));
            qb.push_bind(*t);
        }
        Operand::Bool(b) => {
            push_json(qb, target);
            qb.push(" = ");
            qb.push_bind(Value::Bool(*b));
        }
    }
    qb.push(", false)");
}

/// The expression a sort orders by, typed so that numbers and instants order as such and
/// strings order by code point (`collate "C"`, like Rust's `str` ordering).
pub fn push_sort_key(qb: &mut Qb<'_>, key: &SortKey) {
    let cast = |qb: &mut Qb<'_>, kind: Kind| {
        qb.push(match kind {
            Kind::String => " collate \"C\"",
            Kind::Number => "::float8",
            Kind::DateTime => "::timestamptz",
            Kind::Boolean => "::boolean",
        });
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
        SortKey::Field { path, kind } => {
            qb.push("(search #>> ");
            qb.push_bind(path.clone());
            qb.push(")");
            cast(qb, *kind);
        }
        SortKey::Multi { path, sub, kind } => {
            // RFC 7644 §3.4.2.3: the primary value, else the first one.
            let sub_text = |qb: &mut Qb<'_>| match sub {
                Some(sub) => {
                    qb.push(" ->> ");
                    qb.push_bind(sub.clone());
                }
                None => {
                    qb.push(" #>> '{}'");
                }
            };
            qb.push("(coalesce((select p.v");
            sub_text(qb);
            qb.push(" from jsonb_array_elements(case jsonb_typeof(search #> ");
            qb.push_bind(path.clone());
            qb.push(") when 'array' then search #> ");
            qb.push_bind(path.clone());
            qb.push(" else '[]'::jsonb end) as p(v) where p.v -> 'primary' = 'true'::jsonb limit 1), ((search #> ");
            qb.push_bind(path.clone());
            qb.push(") -> 0)");
            sub_text(qb);
            qb.push("))");
            cast(qb, *kind);
        }
    }
}

/// Multi-valued attributes that live in the membership table, not in the document: a group's
/// `members` and a user's `groups` (RFC 7643 §4.1.2, §4.2).
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

    /// `exists (…)` over the memberships of the current resource, each seen as an element
    /// `{"value", "type", "display"}` folded like documents are; `value eq "<id>"` is a
    /// primary-key lookup.
    fn push(&self, qb: &mut Qb<'_>, filter: &Filter, kind: ResourceKind) {
        let (owner, other, element) = match self {
            Self::Members => (
                "group_id",
                "member_id",
                "jsonb_build_object('value', m.member_id::text, 'type', lower(o.resource_type), \
                 'display', coalesce(lower(m.display), o.search->>'displayName', o.search->>'userName'))",
            ),
            Self::Groups => (
                "member_id",
                "group_id",
                "jsonb_build_object('value', m.group_id::text, 'type', 'direct', 'display', o.search->>'displayName')",
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
                        qb.push_bind(id.0);
                        qb.push(")");
                    }
                    Err(_) => {
                        qb.push("false");
                    }
                }
                return;
            }
        }
        qb.push(format!(
            "exists (select 1 from memberships m join resources o on o.tenant_id = m.tenant_id and o.id = m.{other}, \
             lateral (select {element}) as e(v) \
             where m.tenant_id = resources.tenant_id and m.{owner} = resources.id and "
        ));
        push_filter(qb, filter, kind);
        qb.push(")");
    }
}
