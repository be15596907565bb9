//! The backend-independent part of listing: which page a query asks for, when the total must be
//! counted, and where the next cursor page starts. Both stores run the same plan with their own
//! SQL, so index and cursor pagination behave identically on both.

use crate::scim::list::{CursorPosition, ListQuery, Paging};

/// `count(*)` of the matches and the highest sequence number among them.
pub type Counted = (i64, i64);

/// What the page query selects besides the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Rows to skip.
    pub offset: u64,
    /// Only rows inserted after this one (unsorted cursor pages).
    pub after: Option<i64>,
    /// Only rows that existed when the first sorted cursor page was read.
    pub snapshot: Option<i64>,
    /// The page size; the query reads one row more, to tell whether another page follows.
    pub count: u32,
}

/// Whether the total must be counted before the page is read: for `count=0`, and for the
/// first sorted cursor page, whose snapshot is the highest sequence number. Otherwise the count
/// is read only when the page cannot tell it, so an Entra lookup is one query.
pub fn count_first(query: &ListQuery) -> bool {
    query.paging.count() == 0
        || (query.sort.is_some()
            && matches!(
                query.paging,
                Paging::Cursor {
                    position: CursorPosition::Start,
                    ..
                }
            ))
}

/// The window of the page `query` asks for.
pub fn window(query: &ListQuery, counted: Option<Counted>) -> Window {
    let count = query.paging.count();
    match query.paging {
        Paging::Index(page) => Window {
            offset: page.offset(),
            after: None,
            snapshot: None,
            count,
        },
        Paging::Cursor { position, .. } => match position {
            CursorPosition::Start => Window {
                offset: 0,
                after: None,
                snapshot: query.sort.as_ref().and(counted.map(|(_, s)| s)),
                count,
            },
            CursorPosition::After(seq) => Window {
                offset: 0,
                after: Some(seq),
                snapshot: None,
                count,
            },
            CursorPosition::Offset { snapshot, offset } => Window {
                offset,
                after: None,
                snapshot: Some(snapshot),
                count,
            },
        },
    }
}

/// A page read with one row too many: its rows, the total when the page tells it (`None`: count
/// it), and the next cursor position.
pub struct Finished<R> {
    pub rows: Vec<R>,
    pub total: Option<u64>,
    pub next: Option<CursorPosition>,
}

/// Cuts the extra row off `rows` (each with its sequence number) and works out the rest.
pub fn finish<R>(
    query: &ListQuery,
    window: Window,
    counted: Option<Counted>,
    mut rows: Vec<(i64, R)>,
) -> Finished<R> {
    let count = window.count as usize;
    let more = rows.len() > count;
    rows.truncate(count);
    let total = match counted {
        Some((total, _)) => Some(total.unsigned_abs()),
        // a last page that starts at a known offset knows the total
        None if !more && window.after.is_none() && (window.offset == 0 || !rows.is_empty()) => {
            Some(window.offset + rows.len() as u64)
        }
        None => None,
    };
    let next = match (query.paging, more) {
        (Paging::Cursor { .. }, true) => Some(match window.snapshot {
            Some(snapshot) => CursorPosition::Offset {
                snapshot,
                offset: window.offset + u64::from(window.count),
            },
            None => CursorPosition::After(rows.last().map_or(0, |(seq, _)| *seq)),
        }),
        _ => None,
    };
    Finished {
        rows: rows.into_iter().map(|(_, r)| r).collect(),
        total,
        next,
    }
}
