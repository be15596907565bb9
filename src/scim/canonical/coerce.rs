//! Coercion: a value as the schema types it (RFC 7643 §2.3), `null` and empty arrays as "not
//! present" (RFC 7643 §2.5), complex values by their sub-attributes, one `primary` at most
//! (RFC 7643 §2.4). Entra's shapes (strings for booleans, a bare id for `manager`, roles as
//! JSON strings) become their RFC form here.

use serde_json::{Map, Value};

use super::Document;
use crate::scim::error::Error;
use crate::scim::limits::{check_string, check_values};
use crate::scim::schema::{AttrType, Attribute, Returned};

/// Coerces `value` for `attr` and stores it under the canonical name, unless it is absent or
/// read-only. Two input keys naming one attribute (`userName` and `USERNAME`) are an error.
pub(super) fn insert(
    doc: &mut Document,
    attr: &Attribute,
    value: &Value,
    path: &str,
) -> Result<(), Error> {
    if doc.contains_key(&attr.name) {
        return Err(Error::invalid_syntax(format!(
            "attribute '{path}' appears more than once (attribute names are case-insensitive)"
        ))
        .at(path)
        .because("appears more than once"));
    }
    if !attr.writable() || attr.returned == Returned::Never {
        // readOnly: ignored on input (RFC 7644 §3.5.1). returned=never (password): scimd keeps
        // no credentials, so the value is accepted and discarded (RFC 7643 §4.1.1 `password`).
        return Ok(());
    }
    if let Some(value) = coerce_attribute(attr, value, path)? {
        doc.insert(attr.name.clone(), value);
    }
    Ok(())
}

/// The canonical value of `attr`, or `None` when the input means "not present".
pub fn coerce_attribute(
    attr: &Attribute,
    value: &Value,
    path: &str,
) -> Result<Option<Value>, Error> {
    if !attr.multi_valued {
        let value = match value {
            // Entra sends single-valued manager as `[{"value": id}]`.
            Value::Array(items) if attr.kind == AttrType::Complex => match items.as_slice() {
                [] => return Ok(None),
                [one] => one,
                _ => {
                    return Err(Error::invalid_value(format!(
                        "attribute '{path}' is single-valued but received {} values",
                        items.len()
                    ))
                    .at(path)
                    .because("is single-valued but received several values"));
                }
            },
            other => other,
        };
        return coerce_single(attr, value, path);
    }
    let items: Vec<&Value> = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items.iter().collect(),
        // A lone value where an array belongs is read as a one-element array.
        single => vec![single],
    };
    check_values(path, items.len())?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        if let Some(v) = coerce_single(attr, item, &format!("{path}[{i}]"))? {
            out.push(v);
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    check_one_primary(&out, path)?;
    Ok(Some(Value::Array(out)))
}

/// RFC 7643 §2.4: the primary value `true` appears no more than once.
fn check_one_primary(values: &[Value], path: &str) -> Result<(), Error> {
    let primaries = values
        .iter()
        .filter(|v| v.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(Error::invalid_value(format!(
            "attribute '{path}' has {primaries} values marked primary; at most one may be"
        ))
        .at(path)
        .because("has several values marked primary"));
    }
    Ok(())
}

/// One element of a multi-valued `attr` as a PATCH writes it through a value filter or a
/// sub-attribute path: read as a single-valued attribute's value (`{"value": ""}` is no value),
/// except that a bare scalar is not an element of a multi-valued complex attribute.
pub(crate) fn coerce_element(
    attr: &Attribute,
    value: &Value,
    path: &str,
) -> Result<Option<Value>, Error> {
    if attr.multi_valued && attr.kind == AttrType::Complex && is_bare_scalar(value) {
        return Err(not_an_object(path));
    }
    let single = Attribute {
        multi_valued: false,
        ..attr.clone()
    };
    coerce_attribute(&single, value, path)
}

/// A value that is neither an object, nor `null`, nor a string holding a JSON object (nor an
/// array of those, which a single-valued reading takes its one element from).
fn is_bare_scalar(value: &Value) -> bool {
    match value {
        Value::Object(_) | Value::Null => false,
        Value::String(s) => json_object(s).is_none(),
        Value::Array(items) => items.iter().any(is_bare_scalar),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn not_an_object(path: &str) -> Error {
    Error::invalid_value(format!(
        "attribute '{path}' must be a JSON object with sub-attributes"
    ))
    .at(path)
    .because("must be a JSON object with sub-attributes")
}

fn coerce_single(attr: &Attribute, value: &Value, path: &str) -> Result<Option<Value>, Error> {
    if value.is_null() {
        return Ok(None);
    }
    match attr.kind {
        AttrType::Complex => coerce_complex(attr, value, path),
        kind => coerce_simple(kind, value, path).map(Some),
    }
}

/// A complex value as an object of its sub-attributes. Entra sends roles as JSON strings
/// ("Provisioning a role to a SCIM app" in "Tutorial - Customize user provisioning
/// attribute-mappings for SaaS applications in Microsoft Entra ID",
/// <https://learn.microsoft.com/en-us/entra/identity/app-provisioning/customize-application-attributes>)
/// and a manager as a bare id string (the example schema in "Tutorial: Develop and plan
/// provisioning for a SCIM endpoint in Microsoft Entra ID",
/// <https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups>).
fn coerce_complex(attr: &Attribute, value: &Value, path: &str) -> Result<Option<Value>, Error> {
    let mut members = members_of(attr, value, path)?;
    decode_value(&mut members, path)?;
    let mut out = Map::new();
    for (key, sub_value) in &members {
        let Some(sub) = sub_attribute_alias(attr, key) else {
            continue;
        };
        insert(&mut out, sub, sub_value, &format!("{path}.{}", sub.name))?;
    }
    // `{"value": ""}` on a single-valued reference such as manager means "no manager": Entra
    // cannot send null ("What you should know" in "Tutorial - Customize user provisioning
    // attribute-mappings for SaaS applications in Microsoft Entra ID",
    // https://learn.microsoft.com/en-us/entra/identity/app-provisioning/customize-application-attributes).
    if !attr.multi_valued && out.get("value") == Some(&Value::String(String::new())) {
        out.remove("value");
    }
    if out.is_empty() {
        return Ok(None);
    }
    check_required_subs(attr, &out, path)?;
    Ok(Some(Value::Object(out)))
}

/// The members a complex value is sent with: an object, a role as a JSON-encoded object, or a
/// bare scalar standing for `value`.
fn members_of(attr: &Attribute, value: &Value, path: &str) -> Result<Map<String, Value>, Error> {
    match (value, value.as_str().and_then(json_object)) {
        (Value::Object(members), _) => Ok(members.clone()),
        // A role sent as a JSON-encoded object.
        (_, Some(parsed)) => Ok(parsed),
        // A bare scalar for a single-valued complex attribute with a `value` sub-attribute is
        // its value: Entra sends `manager` as a bare id string. Elements of a multi-valued one
        // are objects (`emails: ["a@b"]` and `emails: [1, 2]` are errors, not two e-mails):
        // RFC 7643 §2.4, and no Entra mapping sends them otherwise.
        (scalar, None) if !attr.multi_valued && attr.sub_attribute("value").is_some() => {
            let mut m = Map::new();
            m.insert("value".to_owned(), scalar.clone());
            Ok(m)
        }
        _ => Err(not_an_object(path)),
    }
}

/// Entra's role assignments put the whole role, JSON-encoded, in `value`:
/// `{"value": "{\"id\":\"…\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}`; its members
/// take the place of `value`. One level is read: a value still JSON-encoded would be read again
/// by the next PUT or PATCH of the resource, changing an attribute the client did not touch
/// (found by fuzzing), so it is an error.
fn decode_value(members: &mut Map<String, Value>, path: &str) -> Result<(), Error> {
    if let Some((key, inner)) = encoded_value(members) {
        members.remove(&key);
        members.extend(inner);
    }
    if encoded_value(members).is_some() {
        return Err(Error::invalid_value(format!(
            "attribute '{path}.value' is a JSON-encoded object inside a JSON-encoded object; \
             scimd reads one level (Entra's roles)"
        ))
        .at(path)
        .because("holds a JSON-encoded object inside a JSON-encoded object"));
    }
    Ok(())
}

/// The `value` member (named in any letter case) when it is a string holding a JSON object:
/// its key and the object.
fn encoded_value(members: &Map<String, Value>) -> Option<(String, Map<String, Value>)> {
    members.iter().find_map(|(key, v)| {
        let inner = v.as_str().and_then(json_object)?;
        key.eq_ignore_ascii_case("value")
            .then(|| (key.clone(), inner))
    })
}

/// A string holding a JSON object, parsed.
fn json_object(s: &str) -> Option<Map<String, Value>> {
    if !s.trim_start().starts_with('{') {
        return None;
    }
    match serde_json::from_str(s) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// The sub-attribute a member names; `displayName` stands for `display` where the attribute
/// has no `displayName` (Entra's role objects, Microsoft's group members).
pub(crate) fn sub_attribute_alias<'a>(attr: &'a Attribute, key: &str) -> Option<&'a Attribute> {
    attr.sub_attribute(key).or_else(|| {
        key.eq_ignore_ascii_case("displayName")
            .then(|| attr.sub_attribute("display"))
            .flatten()
    })
}

fn check_required_subs(
    attr: &Attribute,
    value: &Map<String, Value>,
    path: &str,
) -> Result<(), Error> {
    for sub in attr
        .sub_attributes
        .iter()
        .filter(|s| s.required && s.writable())
    {
        if !value.contains_key(&sub.name) {
            return Err(Error::invalid_value(format!(
                "attribute '{path}.{}' is required",
                sub.name
            ))
            .at(&format!("{path}.{}", sub.name))
            .because("is required"));
        }
    }
    Ok(())
}

/// Coerces a simple (non-complex) value to its RFC 7643 §2.3 type.
pub fn coerce_simple(kind: AttrType, value: &Value, path: &str) -> Result<Value, Error> {
    if let Value::String(s) = value {
        check_string(path, s)?;
    }
    let wrong = |expected: &str| {
        Error::invalid_value(format!(
            "attribute '{path}' must be {expected}, not {}",
            json_kind(value)
        ))
        .at(path)
        .because("has a value of the wrong type")
    };
    match (kind, value) {
        (AttrType::Boolean, Value::Bool(_)) => Ok(value.clone()),
        // Entra sends booleans as "True"/"False" unless its aadOptscim062020 flag is set
        // ("Known issues and resolutions with SCIM 2.0 protocol compliance of the Microsoft
        // Entra user provisioning service",
        // https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility).
        (AttrType::Boolean, Value::String(s)) => parse_bool(s)
            .map(Value::Bool)
            .ok_or_else(|| wrong("a boolean (true or false)")),
        (AttrType::Boolean, _) => Err(wrong("a boolean (true or false)")),
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(_)) => {
            Ok(value.clone())
        }
        // Numbers sent for string attributes (employeeNumber: 42) are kept as their text.
        (AttrType::String, Value::Number(n)) => Ok(Value::String(n.to_string())),
        (AttrType::String | AttrType::Reference | AttrType::Binary, _) => Err(wrong("a string")),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() => Ok(value.clone()),
        (AttrType::Integer, Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| wrong("an integer")),
        (AttrType::Integer, _) => Err(wrong("an integer")),
        (AttrType::Decimal, Value::Number(_)) => Ok(value.clone()),
        (AttrType::Decimal, Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| wrong("a decimal number")),
        (AttrType::Decimal, _) => Err(wrong("a decimal number")),
        (AttrType::DateTime, Value::String(s)) => {
            chrono::DateTime::parse_from_rfc3339(s)
                .map_err(|_| wrong("an xsd:dateTime such as 2008-01-23T04:56:22Z"))?;
            Ok(value.clone())
        }
        (AttrType::DateTime, _) => Err(wrong("an xsd:dateTime such as 2008-01-23T04:56:22Z")),
        (AttrType::Complex, _) => Err(wrong("a JSON object")),
    }
}

/// `true`/`false` in any letter case.
pub fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
