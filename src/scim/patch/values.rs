//! What each operation does to the value it targets (RFC 7644 §3.5.2.1–3): a whole attribute,
//! a sub-attribute, or the elements a value filter selects.

use serde_json::{Map, Value};

use super::{Op, no_target, set};
use crate::scim::canonical::{coerce_attribute, coerce_element};
use crate::scim::error::Error;
use crate::scim::filter::eval::matches_element;
use crate::scim::filter::{self, CompareOp, Filter, Literal, Raw};
use crate::scim::fold::fold_value;
use crate::scim::limits::check_values;
use crate::scim::schema::{AttrType, Attribute};

/// The coerced value for the whole attribute (`None`: "no value", e.g. `manager: ""`).
fn coerce(attr: &Attribute, value: &Value, text: &str) -> Result<Option<Value>, Error> {
    coerce_attribute(attr, value, text)
}

/// Operations on a whole attribute (`emails`, `name`, `active`, `manager`).
pub(super) fn whole(
    holder: &mut Map<String, Value>,
    attr: &Attribute,
    op: Op,
    value: &Value,
    text: &str,
) -> Result<(), Error> {
    let name = attr.name.clone();
    if op == Op::Remove {
        return remove_whole(holder, attr, value, text);
    }
    let Some(new) = coerce(attr, value, text)? else {
        holder.remove(&name);
        return Ok(());
    };
    match (attr.multi_valued, op, holder.get_mut(&name)) {
        (true, Op::Add, Some(Value::Array(items))) => {
            let Value::Array(added) = new else {
                return Ok(());
            };
            let fresh = set::fresh(items, added);
            let start = items.len();
            items.extend(fresh);
            check_values(text, items.len())?;
            let end = items.len();
            settle_primary(items, start..end);
        }
        (false, _, Some(Value::Object(old))) if attr.kind == AttrType::Complex => {
            // replace (and add) on a complex attribute merge its sub-attributes (§3.5.2.3)
            if let Value::Object(members) = new {
                old.extend(members);
            }
        }
        _ => {
            holder.insert(name, new);
        }
    }
    Ok(())
}

/// Removes the attribute; given a value list, a multi-valued one loses only the listed values:
/// that is how Entra removes a group member unless its aadOptscim062020 flag is set ("Known
/// issues and resolutions with SCIM 2.0 protocol compliance of the Microsoft Entra user
/// provisioning service",
/// <https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility>).
fn remove_whole(
    holder: &mut Map<String, Value>,
    attr: &Attribute,
    value: &Value,
    text: &str,
) -> Result<(), Error> {
    let name = &attr.name;
    if !attr.multi_valued || value.is_null() {
        holder.remove(name);
        return Ok(());
    }
    let Some(Value::Array(gone)) = coerce(attr, value, text)? else {
        return Ok(());
    };
    let listed = set::Listed::new(&gone);
    if let Some(Value::Array(items)) = holder.get_mut(name) {
        items.retain(|item| !listed.holds(item));
        if items.is_empty() {
            holder.remove(name);
        }
    }
    Ok(())
}

/// RFC 7644 §3.5.2: a value written with `primary: true` clears `primary` on the others.
fn settle_primary(items: &mut [Value], written: std::ops::Range<usize>) {
    let newest = written
        .clone()
        .rev()
        .find(|&i| items[i].get("primary") == Some(&Value::Bool(true)));
    if let Some(newest) = newest {
        for (i, item) in items.iter_mut().enumerate() {
            if i != newest && item.get("primary") == Some(&Value::Bool(true)) {
                item["primary"] = Value::Bool(false);
            }
        }
    }
}

/// The coerced value of one sub-attribute; `text` ends in `.<sub>`, and errors name the
/// sub-attribute once (`name.givenName`, not `name.givenName.givenName`).
fn coerce_sub(
    attr: &Attribute,
    sub: &Attribute,
    value: &Value,
    text: &str,
) -> Result<Option<Value>, Error> {
    let holder = text.rsplit_once('.').map_or(text, |(head, _)| head);
    Ok(coerce_element(attr, &only(sub, value.clone()), holder)?
        .and_then(|v| v.get(&sub.name).cloned()))
}

/// An element holding only `sub`.
fn only(sub: &Attribute, value: Value) -> Value {
    let mut element = Map::new();
    element.insert(sub.name.clone(), value);
    Value::Object(element)
}

fn set_sub(element: &mut Value, sub: &Attribute, value: Option<&Value>) {
    if let Value::Object(m) = element {
        match value {
            Some(v) => {
                m.insert(sub.name.clone(), v.clone());
            }
            None => {
                m.remove(&sub.name);
            }
        }
    }
}

/// `name.givenName`, or `emails.value` (every element) without a filter.
pub(super) fn sub_attribute(
    holder: &mut Map<String, Value>,
    attr: &Attribute,
    sub: &Attribute,
    op: Op,
    value: &Value,
    text: &str,
) -> Result<(), Error> {
    let new = if op == Op::Remove {
        None
    } else {
        coerce_sub(attr, sub, value, text)?
    };
    let name = attr.name.clone();
    match holder.get_mut(&name) {
        Some(Value::Array(items)) => {
            for item in items.iter_mut() {
                set_sub(item, sub, new.as_ref());
            }
            items.retain(|i| i.as_object().is_some_and(|m| !m.is_empty()));
            let all = 0..items.len();
            settle_primary(items, all);
        }
        Some(element @ Value::Object(_)) => set_sub(element, sub, new.as_ref()),
        _ => {
            if let Some(v) = new {
                let element = only(sub, v);
                holder.insert(
                    name.clone(),
                    if attr.multi_valued {
                        Value::Array(vec![element])
                    } else {
                        element
                    },
                );
            }
        }
    }
    if holder.get(&name).is_some_and(|v| {
        matches!(v, Value::Object(m) if m.is_empty())
            || matches!(v, Value::Array(a) if a.is_empty())
    }) {
        holder.remove(&name);
    }
    Ok(())
}

/// The element a filter of `eq` comparisons describes: `type eq "work"` → `{"type": "work"}`,
/// spelled as the filter spells it and typed by the schema. `None` when the filter is not such a
/// conjunction.
fn element_from_filter(attr: &Attribute, f_text: &str) -> Option<Map<String, Value>> {
    fn walk(raw: &Raw, out: &mut Map<String, Value>) -> Option<()> {
        match raw {
            Raw::And(a, b) => {
                walk(a, out)?;
                walk(b, out)
            }
            Raw::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } => {
                let v = match value {
                    Literal::Str(s) | Literal::Bare(s) => Value::String(s.clone()),
                    Literal::Bool(b) => Value::Bool(*b),
                    Literal::Num(n) => Value::Number(n.clone()),
                    Literal::Null => return None,
                };
                out.insert(path.clone(), v);
                Some(())
            }
            _ => None,
        }
    }
    let raw = filter::parse(f_text).ok()?;
    let mut described = Map::new();
    walk(&raw, &mut described)?;
    match coerce_element(attr, &Value::Object(described), f_text).ok()? {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// Operations on the elements a value filter selects (`emails[type eq "work"]`, with or
/// without a sub-attribute).
#[expect(clippy::too_many_arguments, reason = "one operation's parts, named")]
pub(super) fn filtered(
    holder: &mut Map<String, Value>,
    attr: &Attribute,
    f: &Filter,
    f_text: &str,
    sub: Option<&Attribute>,
    op: Op,
    value: &Value,
    text: &str,
) -> Result<(), Error> {
    let matching = matching(holder, attr, f);
    if op == Op::Remove {
        remove_matching(holder, &attr.name, &matching, sub);
        return Ok(());
    }
    let Some(Value::Object(new_members)) = written_element(attr, sub, value, text)? else {
        // replacing a filtered value with "nothing" removes it
        remove_matching(holder, &attr.name, &matching, sub);
        return Ok(());
    };
    let Some(items) = array_mut(holder, &attr.name) else {
        return Ok(());
    };
    if matching.is_empty() {
        return create_matching(items, attr, f_text, new_members);
    }
    write_matching(items, &matching, sub, op, &new_members);
    Ok(())
}

/// The indices of the elements of `attr` that `f` selects.
fn matching(holder: &Map<String, Value>, attr: &Attribute, f: &Filter) -> Vec<usize> {
    match holder.get(&attr.name) {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter(|(_, item)| matches_element(f, &fold_value(attr, item)))
            .map(|(i, _)| i)
            .collect(),
        _ => Vec::new(),
    }
}

/// Removes the selected elements, or only their sub-attribute `sub`; an element left empty
/// goes, and so does an attribute left without elements.
fn remove_matching(
    holder: &mut Map<String, Value>,
    name: &str,
    matching: &[usize],
    sub: Option<&Attribute>,
) {
    let Some(Value::Array(items)) = holder.get_mut(name) else {
        return;
    };
    let mut hits = vec![false; items.len()];
    for &i in matching {
        if let Some(hit) = hits.get_mut(i) {
            *hit = true;
        }
    }
    let mut hits = hits.into_iter();
    items.retain_mut(|item| {
        let hit = hits.next().unwrap_or(false);
        match (hit, sub) {
            (false, _) => true,
            (true, None) => false,
            (true, Some(sub)) => {
                set_sub(item, sub, None);
                item.as_object().is_some_and(|m| !m.is_empty())
            }
        }
    });
    if items.is_empty() {
        holder.remove(name);
    }
}

/// What an add or replace writes into a selected element: the whole element, or an object
/// holding only `sub`. `None` when the value means "no value".
fn written_element(
    attr: &Attribute,
    sub: Option<&Attribute>,
    value: &Value,
    text: &str,
) -> Result<Option<Value>, Error> {
    match sub {
        Some(sub) => Ok(coerce_sub(attr, sub, value, text)?.map(|v| only(sub, v))),
        None => coerce_element(attr, value, text),
    }
}

/// The array under `name`, made an empty one first if it is absent or not an array.
fn array_mut<'h>(holder: &'h mut Map<String, Value>, name: &str) -> Option<&'h mut Vec<Value>> {
    let slot = holder
        .entry(name.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    slot.as_array_mut()
}

/// No element matches: the one the filter describes is created with the written members, where
/// RFC 7644 §3.5.2.3 would say noTarget. Entra maps `emails`, `addresses` and `phoneNumbers` to
/// filtered paths such as `emails[type eq "work"].value` and patches them there (the attribute
/// table and "Update User [Multi-valued properties]" in "Tutorial: Develop and plan
/// provisioning for a SCIM endpoint in Microsoft Entra ID",
/// <https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups>),
/// so its first write of a user's work email has to create the element.
fn create_matching(
    items: &mut Vec<Value>,
    attr: &Attribute,
    f_text: &str,
    new_members: Map<String, Value>,
) -> Result<(), Error> {
    let mut element = element_from_filter(attr, f_text).ok_or_else(|| {
        no_target(format!(
            "no value of '{}' matches [{f_text}], and the filter does not describe one to create",
            attr.name
        ))
    })?;
    element.extend(new_members);
    items.push(Value::Object(element));
    check_values(&attr.name, items.len())?;
    let end = items.len();
    settle_primary(items, end - 1..end);
    Ok(())
}

/// Writes into the selected elements: a sub-attribute or an add merges into the element, a
/// replace of the whole element replaces it.
fn write_matching(
    items: &mut [Value],
    matching: &[usize],
    sub: Option<&Attribute>,
    op: Op,
    new_members: &Map<String, Value>,
) {
    for &i in matching {
        match (&mut items[i], sub, op) {
            (Value::Object(m), Some(_), _) | (Value::Object(m), None, Op::Add) => {
                m.extend(new_members.clone())
            }
            (item, None, _) => *item = Value::Object(new_members.clone()),
            _ => {}
        }
    }
    let written = matching.iter().copied().max().unwrap_or(0);
    settle_primary(items, written..written + 1);
}
