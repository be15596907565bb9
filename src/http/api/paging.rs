//! Paging of every list at `/api/v1`: `?limit=` (1 to 1000, 100 by default) and the opaque
//! `?cursor=` of the previous page's `next_cursor`, which is `null` on the last page. A cursor
//! names the list it belongs to and where the page ended (a key, never an offset, so that a
//! list that changes between pages skips and repeats nothing that stayed); one of another
//! list, or one altered, is refused with 422.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::problem::Problem;

/// Items per page unless `limit` says.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most items a page holds.
pub const MAX_LIMIT: u32 = 1000;
/// The longest cursor read (they are far shorter).
const MAX_CURSOR_CHARS: usize = 2048;

/// `?cursor=&limit=` of a list.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// The `next_cursor` of the previous page; the first page without it.
    #[param(max_length = 2048, example = "eyJsIjoidGVuYW50cyIsImsiOiJjb250b3NvIn0")]
    pub cursor: Option<String>,
    /// How many items at most (1 to 1000).
    #[param(minimum = 1, maximum = 1000, example = 100)]
    pub limit: Option<u32>,
}

/// A page of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts: pass it as `?cursor=`; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl PageParams {
    /// The page's size, checked.
    pub fn limit(&self) -> Result<u32, Problem> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n @ 1..=MAX_LIMIT) => Ok(n),
            Some(n) => Err(Problem::invalid(
                "limit",
                format!("limit: {n} is not between 1 and {MAX_LIMIT}"),
            )),
        }
    }

    /// Where the page of `list` starts: after the key the cursor holds, if there is one.
    pub fn after<K: DeserializeOwned>(&self, list: &str) -> Result<Option<K>, Problem> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        let refused = || {
            Problem::invalid(
                "cursor",
                format!(
                    "cursor: not a cursor of this list ({list}); pass the next_cursor of its \
                     previous page, or none for the first"
                ),
            )
        };
        if cursor.len() > MAX_CURSOR_CHARS {
            return Err(refused());
        }
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| refused())?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| refused())?;
        if value.get("l").and_then(Value::as_str) != Some(list) {
            return Err(refused());
        }
        let key = value.get("k").cloned().ok_or_else(refused)?;
        serde_json::from_value(key).map(Some).map_err(|_| refused())
    }
}

/// The cursor of the page of `list` that starts after `key`.
pub fn cursor<K: Serialize>(list: &str, key: &K) -> String {
    URL_SAFE_NO_PAD.encode(json!({ "l": list, "k": key }).to_string())
}

impl<T> Page<T> {
    /// A page of `items`, fetched one past the page's `limit`: when that one came, there is a
    /// next page, starting after the key of the page's last item.
    pub fn of<K: Serialize>(
        mut items: Vec<T>,
        limit: u32,
        list: &str,
        key: impl Fn(&T) -> K,
    ) -> Page<T> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = match (more, items.last()) {
            (true, Some(last)) => Some(cursor(list, &key(last))),
            _ => None,
        };
        Page { items, next_cursor }
    }

    /// The page of a whole list held in memory (a tenant's tokens, its admins): the items
    /// after the cursor's key, ordered by `key`.
    pub fn within<K: Serialize + DeserializeOwned + Ord>(
        mut items: Vec<T>,
        params: &PageParams,
        list: &str,
        key: impl Fn(&T) -> K,
    ) -> Result<Page<T>, Problem> {
        let limit = params.limit()?;
        let after: Option<K> = params.after(list)?;
        items.sort_by_key(|item| key(item));
        if let Some(after) = after {
            items.retain(|item| key(item) > after);
        }
        let taken = usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        items.truncate(taken);
        Ok(Page::of(items, limit, list, key))
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(cursor: Option<String>, limit: Option<u32>) -> PageParams {
        PageParams { cursor, limit }
    }

    #[test]
    fn pages_of_a_list_in_memory_cover_it_once_in_order() {
        let items: Vec<u32> = (0..25).rev().collect();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = Page::within(items.clone(), &params(cursor, Some(10)), "n", |n| *n).unwrap();
            seen.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, (0..25).collect::<Vec<_>>());
    }

    #[test]
    fn a_cursor_of_another_list_or_altered_is_refused_naming_the_cursor() {
        let other = cursor("tokens", &"x");
        for bad in [other, "not base64!".into(), "e30".into(), "x".repeat(5000)] {
            let problem = params(Some(bad.clone()), None)
                .after::<String>("tenants")
                .unwrap_err();
            assert_eq!(
                (problem.status, problem.field.as_deref()),
                (422, Some("cursor")),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_limit_out_of_range_is_refused() {
        for limit in [0, 1001] {
            let problem = params(None, Some(limit)).limit().unwrap_err();
            assert_eq!(problem.field.as_deref(), Some("limit"));
        }
        assert_eq!(params(None, None).limit().unwrap(), DEFAULT_LIMIT);
    }
}
