//! A query as the client sends it, by URL (`GET /Users?filter=…`) or by body
//! (`POST /Users/.search`, RFC 7644 §3.4.3), compiled into what the store runs (`ListQuery`)
//! and what the response shows (`Projection`). Cursors (RFC 9865) are opaque strings that carry
//! a fingerprint of the query they belong to.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::scim::error::{Error, ScimType};
use crate::scim::filter::{self, Kind};
use crate::scim::list::{CursorPosition, ListQuery, Page, Paging, Sort, SortKey, parse_count};
use crate::scim::path::{Resolved, resolve};
use crate::scim::projection::Projection;
use crate::scim::schema::{AttrType, Attribute, ResourceKind, ResourceType};

/// The query parameters of RFC 7644 §3.4.2 as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchParams {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<String>,
    pub count: Option<String>,
    pub cursor: Option<String>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

impl SearchParams {
    /// A SearchRequest body (RFC 7644 §3.4.3): the same parameters as JSON members, names
    /// case-insensitive; `attributes` as an array (or a comma-separated string), `startIndex`
    /// and `count` as integers.
    pub fn from_body(body: &Value) -> Result<Self, Error> {
        let Value::Object(members) = body else {
            return Err(Error::invalid_syntax(
                "a SearchRequest body must be a JSON object",
            ));
        };
        let mut p = SearchParams::default();
        for (key, value) in members {
            let slot = match key.to_ascii_lowercase().as_str() {
                "filter" => &mut p.filter,
                "sortby" => &mut p.sort_by,
                "sortorder" => &mut p.sort_order,
                "startindex" => &mut p.start_index,
                "count" => &mut p.count,
                "cursor" => &mut p.cursor,
                "attributes" => &mut p.attributes,
                "excludedattributes" => &mut p.excluded_attributes,
                _ => continue,
            };
            *slot = body_text(key, value)?;
        }
        Ok(p)
    }

    /// The store query and the projection for resource type `rt`.
    pub fn compile(
        &self,
        rt: &ResourceType,
        common: &[Attribute],
    ) -> Result<(ListQuery, Projection), Error> {
        self.compile_with(rt, common, false)
    }

    /// The same for one resource type of a query across types (RFC 7644 §3.4.2.1): attributes
    /// the type lacks are absent, in the filter and as a sort key (which then orders nothing).
    pub fn compile_across(
        &self,
        rt: &ResourceType,
        common: &[Attribute],
    ) -> Result<(ListQuery, Projection), Error> {
        self.compile_with(rt, common, true)
    }

    fn compile_with(
        &self,
        rt: &ResourceType,
        common: &[Attribute],
        across: bool,
    ) -> Result<(ListQuery, Projection), Error> {
        let filter = match (&self.filter, across) {
            (Some(text), false) => Some(filter::compile(rt, common, text)?),
            (Some(text), true) => Some(filter::compile_across(rt, common, text)?),
            (None, _) => None,
        };
        let sort = match self.sort(rt, common) {
            Err(_) if across && self.sort_order_valid() => None,
            other => other?,
        };
        let paging = match &self.cursor {
            None => Paging::Index(Page::from_params(
                self.start_index.as_deref(),
                self.count.as_deref(),
            )?),
            Some(cursor) => Paging::Cursor {
                position: self.decode_cursor(cursor, sort.is_some())?,
                count: parse_count(self.count.as_deref())?,
            },
        };
        let projection = Projection::parse(
            rt,
            common,
            self.attributes.as_deref(),
            self.excluded_attributes.as_deref(),
        )?;
        let with_groups = rt.kind == ResourceKind::User
            && rt
                .schema
                .attribute("groups")
                .is_some_and(|g| projection.wants(None, g));
        Ok((
            ListQuery {
                filter,
                sort,
                paging,
                with_groups,
                email_key: None,
            },
            projection,
        ))
    }

    fn sort_order_valid(&self) -> bool {
        self.sort_order.as_deref().map(str::trim).is_none_or(|o| {
            o.is_empty()
                || o.eq_ignore_ascii_case("ascending")
                || o.eq_ignore_ascii_case("descending")
        })
    }

    fn sort(&self, rt: &ResourceType, common: &[Attribute]) -> Result<Option<Sort>, Error> {
        let descending = match self.sort_order.as_deref().map(str::trim) {
            None | Some("") => false,
            Some(o) if o.eq_ignore_ascii_case("ascending") => false,
            Some(o) if o.eq_ignore_ascii_case("descending") => true,
            Some(o) => {
                return Err(Error::invalid_value(format!(
                    "sortOrder must be 'ascending' or 'descending', not '{o}'"
                )));
            }
        };
        let Some(by) = self.sort_by.as_deref().filter(|s| !s.trim().is_empty()) else {
            return Ok(None);
        };
        Ok(Some(Sort {
            key: sort_key(rt, common, by)?,
            descending,
        }))
    }

    /// A fingerprint of everything but the page position: a cursor is only valid for the query
    /// that made it (RFC 9865 `invalidCursor`).
    fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for part in [&self.filter, &self.sort_by, &self.sort_order] {
            h.update(part.as_deref().unwrap_or_default().as_bytes());
            h.update([0]);
        }
        h.finalize()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The cursor for the page after `position` (RFC 9865 `nextCursor`).
    pub fn encode_cursor(&self, position: CursorPosition) -> String {
        let fp = self.fingerprint();
        match position {
            CursorPosition::Start => format!("{fp}.s"),
            CursorPosition::After(seq) => format!("{fp}.a{seq}"),
            CursorPosition::Offset { snapshot, offset } => format!("{fp}.o{snapshot}.{offset}"),
        }
    }

    fn decode_cursor(&self, cursor: &str, sorted: bool) -> Result<CursorPosition, Error> {
        let cursor = cursor.trim();
        if cursor.is_empty() {
            return Ok(CursorPosition::Start);
        }
        let invalid = || {
            Error::new(
                400,
                Some(ScimType::InvalidCursor),
                format!(
                    "cursor '{cursor}' is not a nextCursor of this query (same filter, sortBy and sortOrder)"
                ),
            )
        };
        let (fp, rest) = cursor.split_once('.').ok_or_else(invalid)?;
        if fp != self.fingerprint() {
            return Err(invalid());
        }
        let position = if let Some(seq) = rest.strip_prefix('a') {
            CursorPosition::After(seq.parse().map_err(|_| invalid())?)
        } else if let Some(rest) = rest.strip_prefix('o') {
            let (snapshot, offset) = rest.split_once('.').ok_or_else(invalid)?;
            // the offsets scimd writes fit a database's signed 64-bit OFFSET
            let offset: i64 = offset.parse().map_err(|_| invalid())?;
            CursorPosition::Offset {
                snapshot: snapshot.parse().map_err(|_| invalid())?,
                offset: u64::try_from(offset).map_err(|_| invalid())?,
            }
        } else if rest == "s" {
            CursorPosition::Start
        } else {
            return Err(invalid());
        };
        match (position, sorted) {
            (CursorPosition::After(_), true) | (CursorPosition::Offset { .. }, false) => {
                Err(invalid())
            }
            (p, _) => Ok(p),
        }
    }
}

fn body_text(key: &str, value: &Value) -> Result<Option<String>, Error> {
    // RFC 7644 §3.4.3: startIndex and count are JSON integers in a SearchRequest.
    let integer = matches!(key.to_ascii_lowercase().as_str(), "startindex" | "count");
    Ok(match value {
        Value::Null => None,
        Value::String(s) if !integer => Some(s.clone()),
        Value::Number(n) if integer && n.is_i64() => Some(n.to_string()),
        Value::Array(items) if key.to_ascii_lowercase().ends_with("attributes") => {
            let names: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
            Some(
                names
                    .ok_or_else(|| {
                        Error::invalid_value(format!("'{key}' must be an array of attribute names"))
                    })?
                    .join(","),
            )
        }
        _ => {
            return Err(Error::invalid_value(format!(
                "SearchRequest member '{key}' has the wrong type"
            )));
        }
    })
}

/// The sort key for `sortBy` (RFC 7644 §3.4.2.3): complex attributes sort by a sub-attribute
/// (`value` when none is named), multi-valued ones by the primary (else first) value.
fn sort_key(rt: &ResourceType, common: &[Attribute], by: &str) -> Result<SortKey, Error> {
    let bad = |why: String| Error::invalid_value(format!("sortBy: {why}"));
    match resolve(rt, common, by).map_err(bad)? {
        Resolved::Id => Ok(SortKey::Id),
        Resolved::Meta(Some(sub)) if sub.name == "created" => Ok(SortKey::Created),
        Resolved::Meta(Some(sub)) if sub.name == "lastModified" => Ok(SortKey::LastModified),
        Resolved::Meta(_) | Resolved::Schemas => Err(bad(format!("cannot sort by '{by}'"))),
        Resolved::Doc(p) => {
            let sub = match (p.attr.kind, p.sub) {
                (AttrType::Complex, None) => {
                    Some(p.attr.sub_attribute("value").ok_or_else(|| {
                        bad(format!(
                            "'{}' is complex; name a sub-attribute",
                            p.display()
                        ))
                    })?)
                }
                (_, sub) => sub,
            };
            let leaf = sub.unwrap_or(p.attr);
            let kind = match leaf.kind {
                AttrType::Boolean => Kind::Boolean,
                AttrType::Integer | AttrType::Decimal => Kind::Number,
                AttrType::DateTime => Kind::DateTime,
                _ => Kind::String,
            };
            let mut path: Vec<String> = p.ext.map(str::to_owned).into_iter().collect();
            path.push(p.attr.name.clone());
            if p.attr.multi_valued {
                Ok(SortKey::Multi {
                    path,
                    sub: sub.map(|s| s.name.clone()),
                    kind,
                })
            } else {
                path.extend(sub.map(|s| s.name.clone()));
                Ok(SortKey::Field { path, kind })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::Registry;

    fn compile_users(params: &SearchParams) -> Result<ListQuery, Error> {
        let registry = Registry::new().unwrap();
        let rt = registry.resource_type(ResourceKind::User).unwrap();
        params.compile(rt, registry.common()).map(|(q, _)| q)
    }

    fn with_cursor(cursor: &str, sort_by: Option<&str>) -> SearchParams {
        SearchParams {
            cursor: Some(cursor.to_owned()),
            sort_by: sort_by.map(str::to_owned),
            ..SearchParams::default()
        }
    }

    #[test]
    fn cursors_round_trip_and_odd_ones_are_invalid_cursor_not_panics() {
        let sorted = with_cursor("", Some("userName"));
        let fp = sorted.fingerprint();
        let good = sorted.encode_cursor(CursorPosition::Offset {
            snapshot: 9,
            offset: 40,
        });
        let decoded = compile_users(&with_cursor(&good, Some("userName"))).unwrap();
        assert_eq!(
            decoded.paging,
            Paging::Cursor {
                position: CursorPosition::Offset {
                    snapshot: 9,
                    offset: 40
                },
                count: 100
            }
        );
        for cursor in [
            "€€".to_owned(),
            "€.€".to_owned(),
            format!("{fp}.€"),
            format!("{fp}.o€.€"),
            format!("{fp}.o1.\u{0}"),
            format!("{fp}.o1.-1"),
            format!("{fp}.o1.9223372036854775808"),
            format!("{fp}.o-1"),
            format!("{fp}.a1"),
            format!("{fp}😀.s"),
        ] {
            let err = compile_users(&with_cursor(&cursor, Some("userName"))).unwrap_err();
            assert_eq!(
                (err.status, err.scim_type),
                (400, Some(ScimType::InvalidCursor)),
                "{cursor:?}"
            );
        }
    }

    #[test]
    fn non_ascii_sort_keys_are_invalid_value_naming_them() {
        for (by, detail) in [
            ("€€", "sortBy: attribute '€€' is not defined for User"),
            (
                "urn:€",
                "sortBy: 'urn:€' names a schema that User does not have",
            ),
            (
                "name.😀",
                "sortBy: attribute 'name.😀' is not defined for User",
            ),
        ] {
            let params = SearchParams {
                sort_by: Some(by.to_owned()),
                ..SearchParams::default()
            };
            assert_eq!(
                compile_users(&params),
                Err(Error::invalid_value(detail)),
                "{by}"
            );
        }
    }
}
