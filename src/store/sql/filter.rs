//! Filters and sort keys compiled to SQL: the structure of every filter, written once — the
//! boolean tree, the indexed shortcuts (`id`, `userName` / `displayName`, `externalId`
//! equality on their shadow columns) and the relations kept outside the document (`members`,
//! `groups`) — with the leaves whose SQL differs left to the dialect. Everything compares the
//! folded document (`search`, see `scim::fold`), so case-insensitivity is plain equality.
//! Values are bind parameters only. Every leaf is two-valued, so that `not` means what the
//! in-memory evaluator (`scim::filter::eval`) means.

use crate::scim::filter::{CompareOp, Filter, Operand, Target};
use crate::scim::list::SortKey;
use crate::scim::resource::ResourceId;
use crate::scim::schema::ResourceKind;
use crate::store::dialect::{Dialect, Relation};
use crate::store::name_attribute;

use super::Sql;

/// Appends the SQL of `filter` for resources of `kind` (the table `resources`).
pub fn push_filter<D: Dialect>(sql: &mut Sql, filter: &Filter, kind: ResourceKind) {
    match filter {
        Filter::And(a, b) => binary::<D>(sql, a, "and", b, kind),
        Filter::Or(a, b) => binary::<D>(sql, a, "or", b, kind),
        Filter::Not(a) => {
            sql.push("not (");
            push_filter::<D>(sql, a, kind);
            sql.push(")");
        }
        Filter::Const(b) => {
            sql.push(if *b { "true" } else { "false" });
        }
        Filter::Present(Target::Id | Target::Created | Target::LastModified) => {
            sql.push("true");
        }
        Filter::Present(target) => D::present(sql, target),
        Filter::Compare { target, op, value } => compare::<D>(sql, target, *op, value, kind),
        Filter::Any { path, filter } => match Relation::of(kind, path) {
            Some(relation) => relation.push::<D>(sql, filter, kind),
            None => D::any(sql, path, filter, &mut |sql| {
                push_filter::<D>(sql, filter, kind)
            }),
        },
    }
}

fn binary<D: Dialect>(sql: &mut Sql, a: &Filter, op: &str, b: &Filter, kind: ResourceKind) {
    sql.push("(");
    push_filter::<D>(sql, a, kind);
    sql.push(" ").push(op).push(" ");
    push_filter::<D>(sql, b, kind);
    sql.push(")");
}

/// Indexed paths first — the resource id, the unique name and `externalId` — as bare
/// comparisons, so that the indexes serve them (a `coalesce` would hide the column from the
/// planner); both are two-valued: `name_key` is never null, `external_id` is tested first.
fn compare<D: Dialect>(
    sql: &mut Sql,
    target: &Target,
    op: CompareOp,
    value: &Operand,
    kind: ResourceKind,
) {
    match (target, op, value) {
        (Target::Id, CompareOp::Eq, Operand::Str(s)) => {
            id_is(sql, "id", s);
        }
        (Target::Field { path, .. }, CompareOp::Eq, Operand::Str(s))
            if path.len() == 1 && path[0] == name_attribute(kind) =>
        {
            sql.push("name_key = ").push_bind(s.as_str());
        }
        (Target::Field { path, .. }, CompareOp::Eq, Operand::Str(s))
            if path.len() == 1 && path[0] == "externalId" =>
        {
            sql.push("(external_id is not null and external_id = ")
                .push_bind(s.as_str())
                .push(")");
        }
        _ => D::compare(sql, target, op, value),
    }
}

/// `column = <id>`; an id that is not a UUID is no resource's: `false`.
fn id_is(sql: &mut Sql, column: &str, text: &str) {
    match text.parse::<ResourceId>() {
        Ok(id) => {
            sql.push(column).push(" = ").push_bind(id);
        }
        Err(_) => {
            sql.push("false");
        }
    }
}

/// Whether `filter` selects through an index that only its own statement shape matches — an
/// equality on the name (`userName` / `displayName`), `externalId` or `id` among its top-level
/// conjuncts — so that one plan, made once, serves every value (`store::sql::listing`).
pub fn is_indexed_lookup(filter: &Filter, kind: ResourceKind) -> bool {
    match filter {
        Filter::And(a, b) => is_indexed_lookup(a, kind) || is_indexed_lookup(b, kind),
        Filter::Compare {
            target: Target::Id,
            op: CompareOp::Eq,
            value: Operand::Str(_),
        } => true,
        Filter::Compare {
            target: Target::Field { path, .. },
            op: CompareOp::Eq,
            value: Operand::Str(_),
        } => path.len() == 1 && (path[0] == name_attribute(kind) || path[0] == "externalId"),
        _ => false,
    }
}

/// The expression a sort orders by.
pub fn push_sort_key<D: Dialect>(sql: &mut Sql, key: &SortKey) {
    match key {
        SortKey::Id => {
            sql.push("id");
        }
        SortKey::Created => {
            sql.push("created");
        }
        SortKey::LastModified => {
            sql.push("last_modified");
        }
        SortKey::Field { .. } | SortKey::Multi { .. } => D::sort_key(sql, key),
    }
}

/// How a filter reaches through a [`Relation`] (the type is the dialect seam's).
impl Relation {
    fn of(kind: ResourceKind, path: &[String]) -> Option<Self> {
        match (kind, path) {
            (ResourceKind::Group, [p]) if p == "members" => Some(Self::Members),
            (ResourceKind::User, [p]) if p == "groups" => Some(Self::Groups),
            _ => None,
        }
    }

    /// The membership columns of the resource filtered (`owner`) and of the other side.
    fn columns(self) -> (&'static str, &'static str) {
        match self {
            Self::Members => ("group_id", "member_id"),
            Self::Groups => ("member_id", "group_id"),
        }
    }

    /// `exists (…)` over the memberships of the current resource, each seen as an element
    /// `{"value", "type", "display"}` folded like documents are; `value eq "<id>"` is a
    /// primary-key lookup.
    fn push<D: Dialect>(self, sql: &mut Sql, filter: &Filter, kind: ResourceKind) {
        let (owner, other) = self.columns();
        let table = match self {
            Self::Members => "memberships m",
            Self::Groups => D::MEMBERSHIPS_BY_MEMBER,
        };
        let scope = format!("m.tenant_id = resources.tenant_id and m.{owner} = resources.id and ");
        if let Filter::Compare {
            target: Target::Element { sub: Some(sub), .. },
            op: CompareOp::Eq,
            value: Operand::Str(id),
        } = filter
        {
            if sub == "value" {
                sql.push("exists (select 1 from ")
                    .push(table)
                    .push(" where ")
                    .push(&scope);
                id_is(sql, &format!("m.{other}"), id);
                sql.push(")");
                return;
            }
        }
        sql.push(&format!(
            "exists (select 1 from {table} \
             join resources o on o.tenant_id = m.tenant_id and o.id = m.{other}, {} where {scope}",
            D::relation_element(self)
        ));
        push_filter::<D>(sql, filter, kind);
        sql.push(")");
    }
}
