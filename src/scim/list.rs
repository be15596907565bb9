//! Listing: pagination parameters (RFC 7644 §3.4.2.4) and the ListResponse message
//! (§3.4.2). `Resources` is always present, empty or not: Entra's Test Connection expects it.

use serde_json::{Value, json};

use crate::scim::error::Error;
use crate::scim::urn;

/// The page size when the client names none.
pub const DEFAULT_COUNT: u32 = 100;
/// The largest page scimd returns; a larger `count` is cut to it (RFC 7644 §3.4.2.4 lets the
/// service provider cap it). Advertised as `filter.maxResults`.
pub const MAX_COUNT: u32 = 1000;

/// A validated page request: `start_index` is 1-based.
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
        let count = match count {
            None => i64::from(DEFAULT_COUNT),
            Some(s) => parse_int(s, "count")?.clamp(0, i64::from(MAX_COUNT)),
        };
        Ok(Self {
            start_index: u64::try_from(start_index).unwrap_or(1),
            count: u32::try_from(count).unwrap_or(MAX_COUNT),
        })
    }

    pub fn offset(self) -> u64 {
        self.start_index - 1
    }
}

fn parse_int(s: &str, name: &str) -> Result<i64, Error> {
    s.trim().parse::<i64>().map_err(|_| {
        Error::invalid_value(format!(
            "query parameter '{name}' must be an integer, not '{s}'"
        ))
    })
}

/// A ListResponse holding one page of `resources` out of `total`.
pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [urn::LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
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
    fn non_numeric_page_parameters_are_invalid_value() {
        let err = Page::from_params(Some("one"), None).unwrap_err();
        assert_eq!(
            err.detail,
            "query parameter 'startIndex' must be an integer, not 'one'"
        );
    }

    #[test]
    fn an_empty_list_response_still_carries_resources() {
        let body = list_response(0, 1, vec![]);
        assert_eq!(body["Resources"], json!([]));
        assert_eq!(body["itemsPerPage"], 0);
    }
}
