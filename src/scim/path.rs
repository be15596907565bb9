//! Attribute paths (RFC 7644 §3.10): `userName`, `name.givenName`, URN-qualified
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`, resolved against
//! a resource type to the canonical definitions. Filters, sorting, projection and PATCH all
//! name attributes this way. Schema URNs contain `.` (`2.0`), so they are matched as known
//! prefixes, never split.

use crate::scim::canonical::strip_prefix_ci;
use crate::scim::schema::{Attribute, ResourceType, find};

/// Where a resolved path points.
#[derive(Debug, Clone, Copy)]
pub enum Resolved<'a> {
    /// `id`: a column, not part of the document.
    Id,
    /// `meta` (sub-attribute `None`) or one of its sub-attributes.
    Meta(Option<&'a Attribute>),
    /// `schemas`: computed from the document on output.
    Schemas,
    /// An attribute of the document: core (`ext: None`) or of an extension.
    Doc(DocPath<'a>),
}

/// An attribute in the canonical document, with its definitions.
#[derive(Debug, Clone, Copy)]
pub struct DocPath<'a> {
    /// The extension URN, for extension attributes.
    pub ext: Option<&'a str>,
    pub attr: &'a Attribute,
    pub sub: Option<&'a Attribute>,
}

impl DocPath<'_> {
    /// The canonical path as text (`name.givenName`, `urn:…:User:manager.value`).
    pub fn display(&self) -> String {
        let mut out = String::new();
        if let Some(ext) = self.ext {
            out.push_str(ext);
            out.push(':');
        }
        out.push_str(&self.attr.name);
        if let Some(sub) = self.sub {
            out.push('.');
            out.push_str(&sub.name);
        }
        out
    }
}

/// Resolves `text` for resource type `rt`. The error is a sentence naming the path.
pub fn resolve<'a>(
    rt: &'a ResourceType,
    common: &'a [Attribute],
    text: &str,
) -> Result<Resolved<'a>, String> {
    let text = text.trim();
    let (ext, rest) = split_schema(rt, text)?;
    let (attr_name, sub_name) = match rest.split_once('.') {
        Some((a, s)) => (a, Some(s)),
        None => (rest, None),
    };
    if attr_name.is_empty() || sub_name.is_some_and(str::is_empty) {
        return Err(format!("'{text}' is not an attribute path"));
    }
    let unknown = || format!("attribute '{text}' is not defined for {}", rt.kind.as_str());
    let attr = match ext {
        Some(schema_id) => {
            let schema = rt
                .extension(schema_id)
                .map(|e| &e.schema)
                .ok_or_else(unknown)?;
            schema.attribute(attr_name).ok_or_else(unknown)?
        }
        None => {
            if attr_name.eq_ignore_ascii_case("schemas") && sub_name.is_none() {
                return Ok(Resolved::Schemas);
            }
            match find(common, attr_name).or_else(|| rt.schema.attribute(attr_name)) {
                Some(a) => a,
                // An unqualified extension attribute (Entra filters `manager eq "…"`).
                None => {
                    let (schema_id, attr) = rt
                        .extensions
                        .iter()
                        .find_map(|e| {
                            e.schema
                                .attribute(attr_name)
                                .map(|a| (e.schema.id.as_str(), a))
                        })
                        .ok_or_else(unknown)?;
                    return finish(Some(schema_id), attr, sub_name, unknown);
                }
            }
        }
    };
    finish(ext, attr, sub_name, unknown)
}

fn finish<'a>(
    ext: Option<&'a str>,
    attr: &'a Attribute,
    sub_name: Option<&str>,
    unknown: impl Fn() -> String,
) -> Result<Resolved<'a>, String> {
    let sub = match sub_name {
        None => None,
        Some(s) => Some(attr.sub_attribute(s).ok_or_else(&unknown)?),
    };
    if ext.is_none() {
        if attr.name == "id" {
            return if sub.is_none() {
                Ok(Resolved::Id)
            } else {
                Err(unknown())
            };
        }
        if attr.name == "meta" {
            return Ok(Resolved::Meta(sub));
        }
    }
    Ok(Resolved::Doc(DocPath { ext, attr, sub }))
}

/// Splits a leading schema URN off `text`: `(Some(extension URN) | None for core, rest)`.
fn split_schema<'a, 't>(
    rt: &'a ResourceType,
    text: &'t str,
) -> Result<(Option<&'a str>, &'t str), String> {
    if let Some(rest) = strip_prefix_ci(text, &rt.schema.id).and_then(|r| r.strip_prefix(':')) {
        return Ok((None, rest));
    }
    for ext in &rt.extensions {
        if let Some(rest) = strip_prefix_ci(text, &ext.schema.id) {
            // RFC 7644 §3.10 uses ':'; Entra's pre-2018 form uses '.' (the dot notation row in
            // "Known issues and resolutions with SCIM 2.0 protocol compliance of the Microsoft
            // Entra user provisioning service",
            // https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility).
            if let Some(rest) = rest.strip_prefix(':').or_else(|| rest.strip_prefix('.')) {
                return Ok((Some(ext.schema.id.as_str()), rest));
            }
        }
    }
    // `get`, not `[..4]`: the fifth byte may be inside a character (`€€`).
    if text.len() > 4 && strip_prefix_ci(text, "urn:").is_some() {
        return Err(format!(
            "'{text}' names a schema that {} does not have",
            rt.kind.as_str()
        ));
    }
    Ok((None, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{Registry, ResourceKind};

    fn show(text: &str) -> Result<String, String> {
        let registry = Registry::new().unwrap();
        let rt = registry.resource_type(ResourceKind::User).unwrap();
        resolve(rt, registry.common(), text).map(|r| match r {
            Resolved::Id => "id".to_owned(),
            Resolved::Meta(sub) => format!("meta.{}", sub.map_or("", |s| s.name.as_str())),
            Resolved::Schemas => "schemas".to_owned(),
            Resolved::Doc(p) => p.display(),
        })
    }

    #[test]
    fn paths_resolve_to_canonical_names_in_any_case_and_any_qualification() {
        let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let cases = [
            ("USERNAME", "userName".to_owned()),
            ("name.FamilyName", "name.familyName".to_owned()),
            ("emails.Value", "emails.value".to_owned()),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                "userName".to_owned(),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                format!("{enterprise}:employeeNumber"),
            ),
            (
                "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:manager.value",
                format!("{enterprise}:manager.value"),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.department",
                format!("{enterprise}:department"),
            ),
            ("Meta.Created", "meta.created".to_owned()),
            ("ID", "id".to_owned()),
            ("externalId", "externalId".to_owned()),
            ("schemas", "schemas".to_owned()),
        ];
        for (input, expected) in cases {
            assert_eq!(show(input), Ok(expected), "{input}");
        }
    }

    #[test]
    fn unknown_paths_are_errors_that_name_them() {
        assert_eq!(
            show("nickname.first"),
            Err("attribute 'nickname.first' is not defined for User".into())
        );
        assert_eq!(
            show("bogus"),
            Err("attribute 'bogus' is not defined for User".into())
        );
        assert_eq!(
            show("urn:example:x:y"),
            Err("'urn:example:x:y' names a schema that User does not have".into())
        );
        assert_eq!(
            show("name."),
            Err("'name.' is not an attribute path".into())
        );
    }

    #[test]
    fn non_ascii_paths_are_unknown_attributes_not_panics() {
        let cases = [
            ("€€", "attribute '€€' is not defined for User"),
            ("ur€", "attribute 'ur€' is not defined for User"),
            ("urn€:x", "attribute 'urn€:x' is not defined for User"),
            (
                "e\u{301}mails",
                "attribute 'e\u{301}mails' is not defined for User",
            ),
            ("😀.😀", "attribute '😀.😀' is not defined for User"),
            ("name.€", "attribute 'name.€' is not defined for User"),
            (
                "user\u{0}Name",
                "attribute 'user\u{0}Name' is not defined for User",
            ),
            ("URN:€€", "'URN:€€' names a schema that User does not have"),
        ];
        for (input, expected) in cases {
            assert_eq!(show(input), Err(expected.to_owned()), "{input:?}");
        }
    }
}
