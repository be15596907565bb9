//! Projection: `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) together with
//! the `returned` characteristic (RFC 7643 §7): `always` attributes (id, schemas) are always
//! there, `never` ones (password) never, `request` ones only when named, `default` ones unless
//! `attributes` leaves them out or `excludedAttributes` names them.

use std::collections::HashSet;

use crate::scim::error::Error;
use crate::scim::path::{Resolved, resolve};
use crate::scim::schema::{Attribute, ResourceType, Returned};

/// One named attribute: `(extension URN or None, attribute, sub-attribute)`, canonical names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Selector {
    pub ext: Option<String>,
    pub attr: String,
    pub sub: Option<String>,
}

/// What a response shows of each resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    /// `attributes`: only these (plus `always`).
    pub include: Option<Vec<Selector>>,
    /// `excludedAttributes`.
    pub exclude: Vec<Selector>,
}

/// Whether a part of a resource is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    No,
    /// All of it (by the usual `returned` rules for its sub-attributes).
    All,
    /// Only the named sub-attributes.
    Some,
}

impl Projection {
    /// Parses the comma-separated lists. Unknown names are ignored (a client may ask for
    /// attributes of another resource type); the value-filter form Microsoft's tests send
    /// (`emails[type eq "work"]`) is read as the attribute itself.
    pub fn parse(
        rt: &ResourceType,
        common: &[Attribute],
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Result<Self, Error> {
        let attributes = attributes.filter(|s| !s.trim().is_empty());
        let excluded = excluded.filter(|s| !s.trim().is_empty());
        if attributes.is_some() && excluded.is_some() {
            return Err(Error::invalid_value(
                "'attributes' and 'excludedAttributes' cannot be used together (RFC 7644 §3.9)",
            ));
        }
        for (name, list) in [("attributes", attributes), ("excludedAttributes", excluded)] {
            if list.is_some_and(|l| l.contains('\0')) {
                return Err(Error::invalid_value(format!(
                    "'{name}' contains a NUL character, which no attribute name has"
                )));
            }
        }
        Ok(Self {
            include: attributes.map(|a| selectors(rt, common, a)),
            exclude: excluded
                .map(|e| selectors(rt, common, e))
                .unwrap_or_default(),
        })
    }

    /// Whether the attribute `attr` (of extension `ext`) is shown, and how much of it.
    pub fn show(&self, ext: Option<&str>, attr: &Attribute) -> Show {
        match attr.returned {
            Returned::Always => return Show::All,
            Returned::Never => return Show::No,
            _ => {}
        }
        let named =
            |s: &Selector| s.ext.as_deref() == ext && (s.attr == attr.name || s.attr.is_empty());
        if let Some(include) = &self.include {
            let hits: Vec<&Selector> = include.iter().filter(|s| named(s)).collect();
            return if hits.is_empty() {
                Show::No
            } else if hits.iter().any(|s| s.sub.is_none()) {
                Show::All
            } else {
                Show::Some
            };
        }
        if attr.returned == Returned::Request {
            return Show::No;
        }
        let excluded: Vec<&Selector> = self.exclude.iter().filter(|s| named(s)).collect();
        if excluded.iter().any(|s| s.sub.is_none()) {
            Show::No
        } else if excluded.is_empty() {
            Show::All
        } else {
            Show::Some
        }
    }

    /// For an attribute shown as [`Show::Some`]: whether sub-attribute `sub` is shown.
    pub fn show_sub(&self, ext: Option<&str>, attr: &Attribute, sub: &Attribute) -> bool {
        if sub.returned == Returned::Never {
            return false;
        }
        let named = |s: &Selector| {
            s.ext.as_deref() == ext && s.attr == attr.name && s.sub.as_deref() == Some(&sub.name)
        };
        match &self.include {
            Some(include) => sub.returned == Returned::Always || include.iter().any(named),
            None => sub.returned == Returned::Always || !self.exclude.iter().any(named),
        }
    }

    /// Whether excluding `members` (or not asking for them) lets a store skip reading them.
    pub fn wants(&self, ext: Option<&str>, attr: &Attribute) -> bool {
        self.show(ext, attr) != Show::No
    }
}

/// The selectors a list names, each once: a list repeating names (a SearchRequest may hold a
/// megabyte of them) costs no more to apply than the schema's attributes.
fn selectors(rt: &ResourceType, common: &[Attribute], list: &str) -> Vec<Selector> {
    let mut seen = HashSet::new();
    list.split(',')
        .filter_map(|item| selector(rt, common, item))
        .filter(|s| seen.insert(s.clone()))
        .collect()
}

/// The selector one name of a list stands for; `None` for names the type does not have.
fn selector(rt: &ResourceType, common: &[Attribute], item: &str) -> Option<Selector> {
    let item = item.trim();
    // `emails[type eq "work"]` → `emails`
    let item = item.split_once('[').map_or(item, |(head, _)| head);
    let named = |ext: Option<String>, attr: &str, sub: Option<String>| Selector {
        ext,
        attr: attr.to_owned(),
        sub,
    };
    if let Some(ext) = rt.extension(item) {
        return Some(named(Some(ext.schema.id.clone()), "", None));
    }
    Some(match resolve(rt, common, item).ok()? {
        Resolved::Id => named(None, "id", None),
        Resolved::Schemas => named(None, "schemas", None),
        Resolved::Meta(sub) => named(None, "meta", sub.map(|s| s.name.clone())),
        Resolved::Doc(p) => named(
            p.ext.map(str::to_owned),
            &p.attr.name,
            p.sub.map(|s| s.name.clone()),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{Registry, ResourceKind};

    fn parse(attributes: Option<&str>, excluded: Option<&str>) -> Result<Projection, Error> {
        let registry = Registry::new().unwrap();
        let rt = registry.resource_type(ResourceKind::User).unwrap();
        Projection::parse(rt, registry.common(), attributes, excluded)
    }

    fn selector(ext: Option<&str>, attr: &str, sub: Option<&str>) -> Selector {
        Selector {
            ext: ext.map(str::to_owned),
            attr: attr.to_owned(),
            sub: sub.map(str::to_owned),
        }
    }

    #[test]
    fn repeated_names_give_one_selector_each_and_unknown_or_non_ascii_names_none() {
        let list = format!(
            "{}€€,USERNAME,urn:€,name.😀,emails[type eq \"€\"],name.givenName",
            "userName,".repeat(10_000)
        );
        assert_eq!(
            parse(Some(&list), None),
            Ok(Projection {
                include: Some(vec![
                    selector(None, "userName", None),
                    selector(None, "emails", None),
                    selector(None, "name", Some("givenName")),
                ]),
                exclude: Vec::new(),
            })
        );
    }

    #[test]
    fn a_nul_character_in_an_attribute_list_is_invalid_value_naming_the_parameter() {
        assert_eq!(
            parse(Some("userName,\u{0}"), None),
            Err(Error::invalid_value(
                "'attributes' contains a NUL character, which no attribute name has"
            ))
        );
        assert_eq!(
            parse(None, Some("emails\u{0}")),
            Err(Error::invalid_value(
                "'excludedAttributes' contains a NUL character, which no attribute name has"
            ))
        );
    }
}
