//! Request paths as clients really send them: a trailing slash (`/Users/`) and endpoint names in
//! another case (`/users`, as Microsoft's reference collection sends) reach the same handler.
//! Applied before routing; the query string is kept as it is.

use axum::extract::Request;
use axum::http::Uri;
use axum::http::uri::PathAndQuery;

use crate::http::SCIM_BASE;

/// The endpoint names under the SCIM base, spelled as routed.
const ENDPOINTS: [&str; 6] = [
    "Users",
    "Groups",
    "ServiceProviderConfig",
    "Schemas",
    "ResourceTypes",
    ".search",
];

/// The canonical form of `path`, or `None` when it is canonical already.
pub fn canonical_path(path: &str) -> Option<String> {
    let trimmed = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
    let mut out = trimmed.to_owned();
    if let Some(rest) = trimmed
        .strip_prefix(SCIM_BASE)
        .and_then(|r| r.strip_prefix('/'))
    {
        let (segment, tail) = rest
            .split_once('/')
            .map_or((rest, None), |(s, t)| (s, Some(t)));
        if let Some(name) = ENDPOINTS.iter().find(|e| e.eq_ignore_ascii_case(segment)) {
            out = format!("{SCIM_BASE}/{name}");
            if let Some(tail) = tail {
                let tail = if tail.eq_ignore_ascii_case(".search") {
                    ".search"
                } else {
                    tail
                };
                out.push('/');
                out.push_str(tail);
            }
        }
    }
    (out != path).then_some(out)
}

/// Rewrites the request's path to its canonical form.
pub fn normalize(mut req: Request) -> Request {
    let Some(path) = canonical_path(req.uri().path()) else {
        return req;
    };
    let path_and_query = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut parts = req.uri().clone().into_parts();
    if let Ok(pq) = path_and_query.parse::<PathAndQuery>() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_canonicalised_before_routing() {
        let cases = [
            ("/scim/v2/users", Some("/scim/v2/Users")),
            ("/scim/v2/Users/", Some("/scim/v2/Users")),
            ("/scim/v2/USERS/abc/", Some("/scim/v2/Users/abc")),
            ("/scim/v2/users/.SEARCH", Some("/scim/v2/Users/.search")),
            ("/scim/v2/", Some("/scim/v2")),
            (
                "/scim/v2/serviceproviderconfig",
                Some("/scim/v2/ServiceProviderConfig"),
            ),
            ("/scim/v2/Users", None),
            ("/scim/v2/Users/abc", None),
            ("/healthz", None),
            ("/", None),
        ];
        for (input, expected) in cases {
            assert_eq!(canonical_path(input).as_deref(), expected, "{input}");
        }
    }
}
