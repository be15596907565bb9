//! Listing: what a query asks for (filter, sorting, index or cursor pagination; RFC 7644
//! §3.4.2, RFC 9865) and the ListResponse message. `Resources` is always present, empty or
//! not: Entra's Test Connection expects it.

use serde_json::{Map, Value};

use crate::scim::error::Error;
use crate::scim::filter::{Filter, Kind};
use crate::scim::limits;
use crate::scim::urn;

/// The page size when the client names none ([`limits::DEFAULT_PAGE_SIZE`]).
pub const DEFAULT_COUNT: u32 = limits::DEFAULT_PAGE_SIZE;
/// The largest page scimd returns ([`limits::MAX_PAGE_SIZE`]).
pub const MAX_COUNT: u32 = limits::MAX_PAGE_SIZE;

/// A validated index page request: `start_index` is 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub start_index: u64,
    pub count: u32,
}

impl Page {
    /// RFC 7644 §3.4.2.4: a `startIndex` below 1 is read as 1, a negative `count` as 0.
    pub fn from_params(start_index: Option<&str>, count: Option<&str>) -> Result<Self, Error> {
        let start_index = match start_index {
            None => 1,
            Some(s) => parse_int(s, "startIndex")?.max(1),
        };
        Ok(Self {
            start_index: u64::try_from(start_index).unwrap_or(1),
            count: parse_count(count)?,
        })
    }

    /// Rows to skip; a hand-made `Page` with `start_index` 0 skips none.
    pub fn offset(self) -> u64 {
        self.start_index.saturating_sub(1)
    }
}

/// `count`: absent means [`DEFAULT_COUNT`], negative means 0, above [`MAX_COUNT`] is cut.
pub fn parse_count(count: Option<&str>) -> Result<u32, Error> {
    let count = match count {
        None => i64::from(DEFAULT_COUNT),
        Some(s) => parse_int(s, "count")?.clamp(0, i64::from(MAX_COUNT)),
    };
    Ok(u32::try_from(count).unwrap_or(MAX_COUNT))
}

fn parse_int(s: &str, name: &str) -> Result<i64, Error> {
    s.trim().parse::<i64>().map_err(|_| {
        Error::invalid_value(format!(
            "query parameter '{name}' must be an integer, not '{s}'"
        ))
    })
}

/// What a sort orders by (RFC 7644 §3.4.2.3).
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    Id,
    Created,
    LastModified,
    /// A single-valued attribute at this key path of the folded document.
    Field {
        path: Vec<String>,
        kind: Kind,
    },
    /// A multi-valued attribute: the primary element's value, else the first element's.
    Multi {
        path: Vec<String>,
        sub: Option<String>,
        kind: Kind,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

/// Where a cursor page starts (RFC 9865).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorPosition {
    /// The first page (`cursor=` empty).
    Start,
    /// Unsorted listings page by insertion order: after this sequence number.
    After(i64),
    /// Sorted listings page by offset among the resources that existed when the first page
    /// was read (sequence number at most `snapshot`), so later inserts shift nothing.
    Offset { snapshot: i64, offset: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    Index(Page),
    Cursor {
        position: CursorPosition,
        count: u32,
    },
}

impl Paging {
    pub fn count(self) -> u32 {
        match self {
            Paging::Index(p) => p.count,
            Paging::Cursor { count, .. } => count,
        }
    }
}

/// A list query as the store runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    pub sort: Option<Sort>,
    pub paging: Paging,
    /// Read the users' `groups` with the page, in the same query (the projection shows them).
    pub with_groups: bool,
    /// The work email (`store::Shadow::email_key`) that the filter fixes, when the work email
    /// is one of the tenant's matching attributes: the store then reads through the index
    /// that keeps that key unique. Set by the service, which knows the tenant; the filter
    /// alone decides what matches.
    pub email_key: Option<String>,
}

/// A ListResponse holding one page of `resources` out of `total`.
pub fn list_response(
    total: u64,
    start_index: Option<u64>,
    resources: Vec<Value>,
    next_cursor: Option<String>,
) -> Value {
    let mut body = Map::new();
    body.insert(
        "schemas".into(),
        Value::Array(vec![Value::String(urn::LIST_RESPONSE.into())]),
    );
    body.insert("totalResults".into(), Value::from(total));
    if let Some(start_index) = start_index {
        body.insert("startIndex".into(), Value::from(start_index));
    }
    body.insert("itemsPerPage".into(), Value::from(resources.len()));
    if let Some(next) = next_cursor {
        body.insert("nextCursor".into(), Value::String(next));
    }
    body.insert("Resources".into(), Value::Array(resources));
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn page_parameters_follow_rfc_7644_section_3_4_2_4() {
        let cases = [
            ((None, None), (1, DEFAULT_COUNT)),
            ((Some("0"), Some("-5")), (1, 0)),
            ((Some("-3"), Some("2")), (1, 2)),
            ((Some("11"), Some("5000")), (11, MAX_COUNT)),
        ];
        for ((start, count), (want_start, want_count)) in cases {
            let page = Page::from_params(start, count).unwrap();
            assert_eq!((page.start_index, page.count), (want_start, want_count));
        }
    }

    #[test]
    fn extreme_page_parameters_neither_overflow_nor_panic() {
        let cases = [
            (
                (Some("9223372036854775807"), Some("9223372036854775807")),
                (i64::MAX as u64, MAX_COUNT),
            ),
            (
                (Some("-9223372036854775808"), Some("-9223372036854775808")),
                (1, 0),
            ),
            ((Some(" 7 "), Some("\t3\n")), (7, 3)),
        ];
        for ((start, count), (want_start, want_count)) in cases {
            let page = Page::from_params(start, count).unwrap();
            assert_eq!((page.start_index, page.count), (want_start, want_count));
        }
        let hand_made = Page {
            start_index: 0,
            count: 1,
        };
        assert_eq!(hand_made.offset(), 0);
    }

    #[test]
    fn non_ascii_or_overflowing_page_parameters_are_invalid_value() {
        for (start, detail) in [
            (
                "€€",
                "query parameter 'startIndex' must be an integer, not '€€'",
            ),
            (
                "1\u{0}",
                "query parameter 'startIndex' must be an integer, not '1\u{0}'",
            ),
            (
                "١",
                "query parameter 'startIndex' must be an integer, not '١'",
            ),
            (
                "9223372036854775808",
                "query parameter 'startIndex' must be an integer, not '9223372036854775808'",
            ),
        ] {
            let err = Page::from_params(Some(start), None).unwrap_err();
            assert_eq!(err, Error::invalid_value(detail), "{start:?}");
        }
    }

    #[test]
    fn non_numeric_page_parameters_are_invalid_value() {
        let err = Page::from_params(Some("one"), None).unwrap_err();
        assert_eq!(
            err.detail,
            "query parameter 'startIndex' must be an integer, not 'one'"
        );
    }

    #[test]
    fn an_empty_list_response_still_carries_resources() {
        let body = list_response(0, Some(1), vec![], None);
        assert_eq!(body["Resources"], json!([]));
        assert_eq!(body["itemsPerPage"], 0);
    }
}
