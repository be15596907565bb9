//! Values of a multi-valued attribute as sets, so that a PATCH costs time linear in the values
//! it touches: an `add` skips the values already present (RFC 7644 §3.5.2.1), a `remove` with a
//! value list drops the elements holding a listed value (Entra's member removal). Values are
//! hashed consistently with JSON equality instead of being compared pair by pair.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use serde_json::{Map, Number, Value};

/// A JSON value hashed consistently with `Value`'s equality: object members in any order (a
/// `Map` equals another with the same members in another order), numbers by kind and value.
#[derive(Debug, Clone, Copy)]
pub(super) struct Key<'a>(pub &'a Value);

impl PartialEq for Key<'_> {
    fn eq(&self, other: &Self) -> bool {
        probe();
        self.0 == other.0
    }
}

impl Eq for Key<'_> {}

impl Hash for Key<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        probe();
        hash_value(self.0, state);
    }
}

fn hash_value<H: Hasher>(value: &Value, state: &mut H) {
    match value {
        Value::Null => state.write_u8(0),
        Value::Bool(b) => {
            state.write_u8(1);
            b.hash(state);
        }
        Value::Number(n) => {
            state.write_u8(2);
            hash_number(n, state);
        }
        Value::String(s) => {
            state.write_u8(3);
            s.hash(state);
        }
        Value::Array(items) => {
            state.write_u8(4);
            state.write_usize(items.len());
            for item in items {
                hash_value(item, state);
            }
        }
        Value::Object(members) => {
            state.write_u8(5);
            hash_members(members, state);
        }
    }
}

/// Members in name order: the order they were sent in does not change equality.
fn hash_members<H: Hasher>(members: &Map<String, Value>, state: &mut H) {
    let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
    sorted.sort_unstable_by_key(|(name, _)| *name);
    state.write_usize(sorted.len());
    for (name, value) in sorted {
        name.hash(state);
        hash_value(value, state);
    }
}

/// `serde_json` numbers are equal when of one kind (unsigned, negative, float) and one value;
/// `0.0` equals `-0.0`.
fn hash_number<H: Hasher>(n: &Number, state: &mut H) {
    if let Some(u) = n.as_u64() {
        state.write_u8(0);
        state.write_u64(u);
    } else if let Some(i) = n.as_i64() {
        state.write_u8(1);
        state.write_i64(i);
    } else if let Some(f) = n.as_f64() {
        state.write_u8(2);
        state.write_u64(if f == 0.0 { 0 } else { f.to_bits() });
    }
}

/// The values of `added` that `items` does not hold yet, in the order sent. Values repeated
/// within `added` are all kept, as they always were.
pub(super) fn fresh(items: &[Value], added: Vec<Value>) -> Vec<Value> {
    let present: HashSet<Key<'_>> = items.iter().map(Key).collect();
    added
        .into_iter()
        .filter(|a| !present.contains(&Key(a)))
        .collect()
}

/// The values a removal lists. An element goes when it holds every member of one listed object
/// (`{"value": "id"}` removes the member with that id whatever its `display`); a simple value
/// goes when it equals a listed one.
pub(super) struct Listed<'a> {
    simple: HashSet<Key<'a>>,
    /// Listed objects grouped by their member names (sorted): the values of those members.
    objects: HashMap<Vec<&'a str>, HashSet<Vec<Key<'a>>>>,
}

impl<'a> Listed<'a> {
    pub(super) fn new(listed: &'a [Value]) -> Self {
        let mut simple = HashSet::new();
        let mut objects: HashMap<Vec<&str>, HashSet<Vec<Key<'_>>>> = HashMap::new();
        for value in listed {
            let Value::Object(members) = value else {
                simple.insert(Key(value));
                continue;
            };
            let mut sorted: Vec<(&str, &Value)> =
                members.iter().map(|(k, v)| (k.as_str(), v)).collect();
            sorted.sort_unstable_by_key(|(name, _)| *name);
            let (names, values): (Vec<&str>, Vec<Key<'_>>) =
                sorted.into_iter().map(|(k, v)| (k, Key(v))).unzip();
            objects.entry(names).or_default().insert(values);
        }
        Self { simple, objects }
    }

    /// Whether `item` holds a listed value. The cost is one lookup per distinct set of member
    /// names among the listed objects, which the attribute's sub-attributes bound.
    pub(super) fn holds(&self, item: &Value) -> bool {
        let Value::Object(members) = item else {
            return self.simple.contains(&Key(item));
        };
        self.objects.iter().any(|(names, values)| {
            names
                .iter()
                .map(|name| members.get(*name).map(Key))
                .collect::<Option<Vec<Key<'_>>>>()
                .is_some_and(|held| values.contains(&held))
        })
    }
}

#[cfg(test)]
thread_local! {
    static PROBES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts hashes and comparisons of values (tests only), to show the work is linear.
fn probe() {
    #[cfg(test)]
    PROBES.with(|p| p.set(p.get() + 1));
}

/// The hashes and comparisons of values made on this thread since the last call (tests only).
#[cfg(test)]
pub(super) fn take_probes() -> usize {
    PROBES.with(|p| p.replace(0))
}

#[cfg(test)]
mod tests {
    use std::collections::hash_map::RandomState;
    use std::hash::BuildHasher;

    use serde_json::json;

    use super::*;

    #[test]
    fn equal_values_hash_alike_whatever_their_member_order_or_zero_sign() {
        let state = RandomState::new();
        let pairs = [
            (
                json!({"a": 1, "b": [2, {"c": "€", "d": null}]}),
                json!({"b": [2, {"d": null, "c": "€"}], "a": 1}),
            ),
            (json!(0.0), json!(-0.0)),
            (json!(-3), json!(-3)),
            (json!("e\u{301}"), json!("e\u{301}")),
        ];
        for (a, b) in pairs {
            assert_eq!(Key(&a), Key(&b));
            assert_eq!(state.hash_one(Key(&a)), state.hash_one(Key(&b)), "{a} {b}");
        }
        for (a, b) in [
            (json!(1), json!(1.0)),
            (json!([1, 2]), json!([2, 1])),
            (json!({"a": 1}), json!({"a": 1, "b": 2})),
        ] {
            assert_ne!(Key(&a), Key(&b));
        }
    }

    #[test]
    fn fresh_values_are_those_not_present_in_the_order_sent() {
        let items = [json!({"value": "a", "type": "work"}), json!({"value": "b"})];
        let added = vec![
            json!({"type": "work", "value": "a"}),
            json!({"value": "c"}),
            json!({"value": "c"}),
            json!({"value": "b", "type": "x"}),
        ];
        assert_eq!(
            fresh(&items, added),
            vec![
                json!({"value": "c"}),
                json!({"value": "c"}),
                json!({"value": "b", "type": "x"})
            ]
        );
    }

    #[test]
    fn listed_objects_match_elements_holding_all_their_members_and_simple_values_equal_ones() {
        let listed = [
            json!({"value": "a"}),
            json!({"type": "home", "value": "b"}),
            json!("s"),
            json!(7),
        ];
        let listed = Listed::new(&listed);
        let cases = [
            (json!({"value": "a", "display": "A"}), true),
            (json!({"value": "b", "type": "home", "primary": true}), true),
            (json!({"value": "b", "type": "work"}), false),
            (json!({"display": "a"}), false),
            (json!("s"), true),
            (json!(7), true),
            (json!(7.0), false),
            (json!("a"), false),
        ];
        for (item, expected) in cases {
            assert_eq!(listed.holds(&item), expected, "{item}");
        }
    }
}
