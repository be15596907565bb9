//! Validation: resolves every attribute path of an untyped filter against the schema registry
//! and types every value by its attribute, giving a [`Filter`] that needs no schema to run.
//! Unknown attributes, operators that make no sense for a type (ordering on booleans, `co` on
//! numbers) and values of the wrong type are errors naming the attribute.

use super::operand::{check_op, compare_str, kind_of, typed};
use super::parse::{Literal, Raw};
use super::{CompareOp, Filter, Kind, Operand, Target};
use crate::scim::path::{Resolved, resolve};
use crate::scim::schema::{AttrType, Attribute, ResourceType};

/// Validates `raw` for resource type `rt`. Errors are sentences for an `invalidFilter` detail.
pub fn validate(rt: &ResourceType, common: &[Attribute], raw: &Raw) -> Result<Filter, String> {
    Validator {
        rt,
        common,
        lenient: false,
    }
    .root(raw)
}

/// Validates `raw` for one resource type of a query across types (RFC 7644 §3.4.2.1): an
/// attribute the type does not define has no value there, so comparisons and `pr` on it are
/// false instead of errors.
pub fn validate_across(
    rt: &ResourceType,
    common: &[Attribute],
    raw: &Raw,
) -> Result<Filter, String> {
    Validator {
        rt,
        common,
        lenient: true,
    }
    .root(raw)
}

/// Validates a filter over the elements of the multi-valued complex attribute `attr`, as in a
/// PATCH path `emails[type eq "work"]`.
pub fn validate_element(attr: &Attribute, raw: &Raw) -> Result<Filter, String> {
    element(attr, raw)
}

struct Validator<'a> {
    rt: &'a ResourceType,
    common: &'a [Attribute],
    lenient: bool,
}

/// The definition and key path a comparison on a document attribute works with.
struct Leaf<'a> {
    /// Key path from the document root to the attribute holding the value(s).
    path: Vec<String>,
    /// Set when the attribute is multi-valued: the sub-attribute compared in each element.
    element: Option<Option<String>>,
    def: &'a Attribute,
    display: String,
}

impl<'a> Validator<'a> {
    fn root(&self, raw: &Raw) -> Result<Filter, String> {
        Ok(match raw {
            Raw::And(a, b) => Filter::And(Box::new(self.root(a)?), Box::new(self.root(b)?)),
            Raw::Or(a, b) => Filter::Or(Box::new(self.root(a)?), Box::new(self.root(b)?)),
            Raw::Not(a) => Filter::Not(Box::new(self.root(a)?)),
            Raw::Compare { path, op, value } => {
                self.absent_if_unknown(path, self.compare(path, *op, value))?
            }
            Raw::Present { path } => self.absent_if_unknown(path, self.present(path))?,
            Raw::ValuePath { path, filter } => {
                self.absent_if_unknown(path, self.value_path(path, filter))?
            }
        })
    }

    fn absent_if_unknown(
        &self,
        path: &str,
        result: Result<Filter, String>,
    ) -> Result<Filter, String> {
        match result {
            Err(_) if self.lenient && self.resolve(path).is_err() => Ok(Filter::Const(false)),
            other => other,
        }
    }

    fn resolve(&self, path: &str) -> Result<Resolved<'a>, String> {
        resolve(self.rt, self.common, path)
    }

    /// The leaf of a document attribute; complex attributes without a sub-attribute mean their
    /// `value` sub-attribute (RFC 7644 §3.4.2.2, Figure 2: `emails co "x"`; Entra's `manager eq`).
    fn leaf(&self, path: &str) -> Result<Option<Leaf<'a>>, String> {
        let Resolved::Doc(p) = self.resolve(path)? else {
            return Ok(None);
        };
        let mut keys: Vec<String> = p.ext.map(str::to_owned).into_iter().collect();
        keys.push(p.attr.name.clone());
        let sub = match (p.attr.kind, p.sub) {
            (AttrType::Complex, None) => Some(p.attr.sub_attribute("value").ok_or_else(|| {
                format!(
                    "'{}' is complex; name a sub-attribute such as {}.{}",
                    p.display(),
                    p.attr.name,
                    first_sub(p.attr)
                )
            })?),
            (_, sub) => sub,
        };
        let def = sub.unwrap_or(p.attr);
        let display = match sub {
            Some(s) if p.sub.is_none() => format!("{}.{}", p.display(), s.name),
            _ => p.display(),
        };
        let element = if p.attr.multi_valued {
            Some(sub.map(|s| s.name.clone()))
        } else {
            keys.extend(sub.map(|s| s.name.clone()));
            None
        };
        Ok(Some(Leaf {
            path: keys,
            element,
            def,
            display,
        }))
    }

    fn compare(&self, path: &str, op: CompareOp, value: &Literal) -> Result<Filter, String> {
        if op == CompareOp::Ne {
            return Ok(Filter::Not(Box::new(self.compare(
                path,
                CompareOp::Eq,
                value,
            )?)));
        }
        if *value == Literal::Null {
            return null_comparison(op, path, self.present(path)?);
        }
        match self.resolve(path)? {
            Resolved::Id => {
                let operand = typed(Kind::String, true, value, "id")?;
                check_op(op, Kind::String, AttrType::String, "id")?;
                Ok(Filter::Compare {
                    target: Target::Id,
                    op,
                    value: operand,
                })
            }
            Resolved::Meta(sub) => self.meta(sub, op, value, path),
            Resolved::Schemas => self.schemas(op, value),
            Resolved::Doc(_) => {
                let Some(leaf) = self.leaf(path)? else {
                    return Err(format!("'{path}' cannot be compared"));
                };
                let kind = kind_of(leaf.def, &leaf.display)?;
                check_op(op, kind, leaf.def.kind, &leaf.display)?;
                let operand = typed(kind, leaf.def.case_exact, value, &leaf.display)?;
                Ok(match leaf.element {
                    None => Filter::Compare {
                        target: Target::Field {
                            path: leaf.path,
                            kind,
                        },
                        op,
                        value: operand,
                    },
                    Some(sub) => Filter::Any {
                        path: leaf.path,
                        filter: Box::new(Filter::Compare {
                            target: Target::Element { sub, kind },
                            op,
                            value: operand,
                        }),
                    },
                })
            }
        }
    }

    fn meta(
        &self,
        sub: Option<&Attribute>,
        op: CompareOp,
        value: &Literal,
        path: &str,
    ) -> Result<Filter, String> {
        let Some(sub) = sub else {
            return Err("'meta' is complex; name a sub-attribute such as meta.created".to_owned());
        };
        match sub.name.as_str() {
            "created" | "lastModified" => {
                let display = format!("meta.{}", sub.name);
                check_op(op, Kind::DateTime, AttrType::DateTime, &display)?;
                let operand = typed(Kind::DateTime, true, value, &display)?;
                let target = if sub.name == "created" {
                    Target::Created
                } else {
                    Target::LastModified
                };
                Ok(Filter::Compare {
                    target,
                    op,
                    value: operand,
                })
            }
            "resourceType" => {
                check_op(op, Kind::String, AttrType::String, "meta.resourceType")?;
                let Operand::Str(s) = typed(Kind::String, true, value, "meta.resourceType")? else {
                    return Err("meta.resourceType is a string".to_owned());
                };
                Ok(Filter::Const(compare_str(op, self.rt.kind.as_str(), &s)))
            }
            _ => Err(format!(
                "'{path}' cannot be used in a filter; filter on meta.created, meta.lastModified or meta.resourceType"
            )),
        }
    }

    /// `schemas eq "<URN>"` (RFC 7644 §3.4.2.2): the core URN always matches, an extension URN
    /// matches resources that hold data of that extension.
    fn schemas(&self, op: CompareOp, value: &Literal) -> Result<Filter, String> {
        if op != CompareOp::Eq {
            return Err(format!("'schemas' supports eq, ne and pr, not {op}"));
        }
        let Operand::Str(urn) = typed(Kind::String, true, value, "schemas")? else {
            return Err("'schemas' holds strings".to_owned());
        };
        if urn.eq_ignore_ascii_case(&self.rt.schema.id) {
            return Ok(Filter::Const(true));
        }
        Ok(match self.rt.extension(&urn) {
            Some(ext) => Filter::Present(Target::Field {
                path: vec![ext.schema.id.clone()],
                kind: Kind::String,
            }),
            None => Filter::Const(false),
        })
    }

    fn present(&self, path: &str) -> Result<Filter, String> {
        match self.resolve(path)? {
            Resolved::Id | Resolved::Schemas | Resolved::Meta(_) => Ok(Filter::Const(true)),
            Resolved::Doc(p) => {
                let mut keys: Vec<String> = p.ext.map(str::to_owned).into_iter().collect();
                keys.push(p.attr.name.clone());
                Ok(match (p.attr.multi_valued, p.sub) {
                    (true, Some(sub)) => Filter::Any {
                        path: keys,
                        filter: Box::new(Filter::Present(Target::Element {
                            sub: Some(sub.name.clone()),
                            kind: Kind::String,
                        })),
                    },
                    // a multi-valued attribute is present when it has an element (canonical
                    // documents hold no empty arrays; members live outside the document)
                    (true, None) => Filter::Any {
                        path: keys,
                        filter: Box::new(Filter::Const(true)),
                    },
                    (false, sub) => {
                        keys.extend(sub.map(|s| s.name.clone()));
                        Filter::Present(Target::Field {
                            path: keys,
                            kind: Kind::String,
                        })
                    }
                })
            }
        }
    }

    fn value_path(&self, path: &str, inner: &Raw) -> Result<Filter, String> {
        let Resolved::Doc(p) = self.resolve(path)? else {
            return Err(format!(
                "'{path}[…]' needs a multi-valued complex attribute"
            ));
        };
        if !p.attr.multi_valued || p.attr.kind != AttrType::Complex || p.sub.is_some() {
            return Err(format!(
                "'{}[…]' needs a multi-valued complex attribute",
                p.display()
            ));
        }
        let mut keys: Vec<String> = p.ext.map(str::to_owned).into_iter().collect();
        keys.push(p.attr.name.clone());
        Ok(Filter::Any {
            path: keys,
            filter: Box::new(element(p.attr, inner)?),
        })
    }
}

fn first_sub(attr: &Attribute) -> &str {
    attr.sub_attributes
        .first()
        .map_or("value", |s| s.name.as_str())
}

/// `a eq null` is "a is absent"; `a ne null` was already rewritten to `not (a eq null)`.
fn null_comparison(op: CompareOp, path: &str, present: Filter) -> Result<Filter, String> {
    match op {
        CompareOp::Eq => Ok(Filter::Not(Box::new(present))),
        _ => Err(format!(
            "'{path} {op} null' compares nothing; use '{path} pr' or 'not ({path} pr)'"
        )),
    }
}

/// A filter inside `attr[…]`: its paths are sub-attributes of `attr`.
fn element(attr: &Attribute, raw: &Raw) -> Result<Filter, String> {
    Ok(match raw {
        Raw::And(a, b) => Filter::And(Box::new(element(attr, a)?), Box::new(element(attr, b)?)),
        Raw::Or(a, b) => Filter::Or(Box::new(element(attr, a)?), Box::new(element(attr, b)?)),
        Raw::Not(a) => Filter::Not(Box::new(element(attr, a)?)),
        Raw::Compare { path, op, value } => {
            let (sub, display) = sub_attribute(attr, path)?;
            if *op == CompareOp::Ne {
                let eq = Raw::Compare {
                    path: path.clone(),
                    op: CompareOp::Eq,
                    value: value.clone(),
                };
                return Ok(Filter::Not(Box::new(element(attr, &eq)?)));
            }
            let present = Filter::Present(Target::Element {
                sub: Some(sub.name.clone()),
                kind: Kind::String,
            });
            if *value == Literal::Null {
                return null_comparison(*op, &display, present);
            }
            let kind = kind_of(sub, &display)?;
            check_op(*op, kind, sub.kind, &display)?;
            let operand = typed(kind, sub.case_exact, value, &display)?;
            Filter::Compare {
                target: Target::Element {
                    sub: Some(sub.name.clone()),
                    kind,
                },
                op: *op,
                value: operand,
            }
        }
        Raw::Present { path } => {
            let (sub, _) = sub_attribute(attr, path)?;
            Filter::Present(Target::Element {
                sub: Some(sub.name.clone()),
                kind: Kind::String,
            })
        }
        Raw::ValuePath { path, .. } => {
            return Err(format!(
                "'{path}[…]' cannot be nested inside '{}[…]'",
                attr.name
            ));
        }
    })
}

/// A sub-attribute named inside `attr[…]`, plainly (`type`) or qualified (`emails.type`).
fn sub_attribute<'a>(attr: &'a Attribute, path: &str) -> Result<(&'a Attribute, String), String> {
    let name = match path.split_once('.') {
        Some((head, tail)) if head.eq_ignore_ascii_case(&attr.name) => tail,
        _ => path,
    };
    let sub = attr
        .sub_attribute(name)
        .ok_or_else(|| format!("attribute '{}.{name}' is not defined", attr.name))?;
    Ok((sub, format!("{}.{}", attr.name, sub.name)))
}
