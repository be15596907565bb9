//! One hostile request as data: its method, target, headers and body as they go on the wire,
//! what kind of answer it must get, whether it needs a fresh CSRF pair or a password check,
//! and the headers every family of requests may be dressed in (forged forwarding headers from
//! the trusted position, huge or many headers, odd hosts).

use proptest::prelude::*;

/// What kind of answer a request must get, besides a status below 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A SCIM answer: errors as SCIM error bodies (RFC 7644 §3.12).
    Scim,
    /// The token endpoint: RFC 6749 §5.1 tokens or §5.2 errors.
    Token,
    /// A server-rendered page: HTML, or a redirect.
    Page,
    /// A section of a page (the setup page's progress, read by its script): HTML, a whole
    /// page when refused.
    Fragment,
    /// A request HTTP itself refuses (a method that is not a token, headers past the limits):
    /// any 4xx, from the HTTP layer.
    Refused,
    /// The application's API: JSON, and RFC 9457 problems for refusals.
    Api,
    /// Operational endpoints: any answer below 500.
    Any,
}

/// The form field a CSRF pair fills in.
pub const CSRF: &str = "csrf";

/// A request of the run.
#[derive(Debug, Clone)]
pub struct Request {
    pub family: &'static str,
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    /// A form, encoded when sent (after its CSRF field is filled in).
    pub form: Option<Vec<(String, String)>>,
    /// Sent with `Transfer-Encoding: chunked` rather than a `Content-Length`.
    pub chunked: bool,
    pub expect: Expect,
    /// Fetch this page first and send its CSRF cookie and field with the form.
    pub pair_from: Option<String>,
    /// It may check a password (a sign-in form with a valid CSRF pair).
    pub sign_in: bool,
    /// On a connection of its own, closed after.
    pub alone: bool,
    /// On a fresh connection rather than the worker's open one.
    pub fresh: bool,
    /// From 127.0.0.2, whose forwarding headers scimd does not believe, rather than from
    /// 127.0.0.1, the trusted proxy.
    pub untrusted: bool,
    /// Names another tenant's resource with this tenant's credentials: must be refused.
    pub foreign: bool,
}

impl Request {
    pub fn new(family: &'static str, method: &str, target: String, expect: Expect) -> Self {
        Self {
            family,
            method: method.to_owned(),
            target,
            headers: Vec::new(),
            body: Vec::new(),
            form: None,
            chunked: false,
            expect,
            pair_from: None,
            sign_in: false,
            alone: false,
            fresh: false,
            untrusted: false,
            foreign: false,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// An `application/x-www-form-urlencoded` form.
    pub fn form(mut self, fields: Vec<(String, String)>) -> Self {
        self.form = Some(fields);
        self.header("Content-Type", "application/x-www-form-urlencoded")
    }

    /// The bytes on the wire, with the CSRF pair `(cookie, field)` if one was fetched.
    pub fn bytes(&self, pair: Option<&(String, String)>) -> Vec<u8> {
        let mut body = self.body.clone();
        if let Some(fields) = &self.form {
            let fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| match (k.as_str(), pair) {
                    (CSRF, Some((_, field))) => (k.as_str(), field.as_str()),
                    _ => (k.as_str(), v.as_str()),
                })
                .collect();
            body = serde_urlencoded::to_string(fields)
                .unwrap_or_default()
                .into_bytes();
        }
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.target).into_bytes();
        if !self
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("host"))
        {
            out.extend_from_slice(b"Host: scimd.test\r\n");
        }
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: ").as_bytes());
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        if let Some((cookie, _)) = pair {
            out.extend_from_slice(format!("Cookie: {cookie}\r\n").as_bytes());
        }
        if self.chunked {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            for chunk in body.chunks(64 * 1024) {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
        } else {
            out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
            out.extend_from_slice(&body);
        }
        out
    }

    /// The request in a few lines, for a failure's report.
    pub fn summary(&self) -> String {
        let cut = |b: &[u8], n: usize| {
            let text = String::from_utf8_lossy(&b[..b.len().min(n)]).into_owned();
            format!("{text:?}{}", if b.len() > n { "…" } else { "" })
        };
        let headers: Vec<String> = self
            .headers
            .iter()
            .take(12)
            .map(|(k, v)| format!("{k}: {}", cut(v, 80)))
            .collect();
        format!(
            "[{}] {} {}\n  headers ({} in all): {headers:?}\n  form: {:?}\n  body ({} bytes{}): {}",
            self.family,
            self.method,
            cut(self.target.as_bytes(), 300),
            self.headers.len(),
            self.form.as_ref().map(|f| f
                .iter()
                .map(|(k, v)| (k, cut(v.as_bytes(), 80)))
                .collect::<Vec<_>>()),
            self.body.len(),
            if self.chunked { ", chunked" } else { "" },
            cut(&self.body, 300),
        )
    }
}

/// Forwarding headers as a client forges them; scimd believes them from 127.0.0.1 here, so
/// they must be harmless whatever they say.
fn forwarded() -> impl Strategy<Value = (String, Vec<u8>)> {
    let for_ = [
        "203.0.113.9",
        "198.51.100.7, 127.0.0.1",
        "garbage",
        "::1",
        "[2001:db8::1]:80",
        "unknown",
        "999.1.1.1",
        "",
        "1.1.1.1,,,;",
    ];
    let proto = ["https", "HTTPS", "http", "https, http", "ftp", "", "é"];
    let host = [
        "evil.example",
        "a b",
        "scimd.test:443",
        "<script>",
        "[::1]",
        "x\"y",
        "",
    ];
    prop_oneof![
        proptest::sample::select(for_.to_vec()).prop_map(|v| ("X-Forwarded-For".into(), v.into())),
        (1..200usize).prop_map(|n| {
            let list: Vec<String> = (0..n)
                .map(|i| format!("10.0.{}.{}", i / 250, i % 250))
                .collect();
            ("X-Forwarded-For".into(), list.join(", ").into_bytes())
        }),
        proptest::sample::select(proto.to_vec())
            .prop_map(|v| ("X-Forwarded-Proto".into(), v.into())),
        proptest::sample::select(host.to_vec()).prop_map(|v| ("X-Forwarded-Host".into(), v.into())),
        (1..3000usize).prop_map(|n| ("X-Forwarded-Host".into(), "h".repeat(n).into_bytes())),
        Just(("X-Forwarded-Proto".into(), vec![b'h', 0xff, 0xfe])),
    ]
}

/// Headers a client may add: forged forwarding, huge values, many of them, odd hosts, an
/// `Expect: 100-continue`. All within what HTTP accepts.
fn extra() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let one = prop_oneof![
        4 => forwarded().prop_map(|h| vec![h]),
        1 => (1024..64 * 1024usize).prop_map(|n| vec![("X-Junk".into(), vec![b'j'; n])]),
        // with the request's own and the others, under the 100 headers HTTP takes
        1 => (10..25usize).prop_map(|n| {
            (0..n).map(|i| (format!("X-Many-{i}"), b"v".to_vec())).collect()
        }),
        1 => proptest::sample::select(&["", "a:b:c", "[::1]:99999", "scimd.test:0", "é.example"][..])
            .prop_map(|h| vec![("Host".into(), h.as_bytes().to_vec())]),
        1 => Just(vec![("Expect".into(), b"100-continue".to_vec())]),
        1 => Just(vec![("Accept".into(), b"*/*; q=\"".to_vec()), ("Accept-Encoding".into(), b"gzip, br, zstd".to_vec())]),
    ];
    prop_oneof![
        3 => Just(Vec::new()),
        2 => proptest::collection::vec(one, 1..4).prop_map(|v| v.concat()),
    ]
}

/// `request` dressed in extra headers, sent on a fresh connection or on the worker's open one,
/// from the trusted proxy's address or another.
pub fn dressed(request: impl Strategy<Value = Request>) -> impl Strategy<Value = Request> {
    let how = (proptest::bool::weighted(0.3), proptest::bool::weighted(0.2));
    (request, extra(), how).prop_map(|(mut r, extra, (fresh, untrusted))| {
        let has_host = r
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("host"));
        r.headers.extend(
            extra
                .into_iter()
                .filter(|(k, _)| !(has_host && k.eq_ignore_ascii_case("host"))),
        );
        r.fresh = fresh;
        r.untrusted = untrusted;
        r
    })
}

/// Requests HTTP itself refuses, each on a connection of its own: a method that is not a
/// token, more headers than the server takes, a header past its buffer, a NUL in a header.
pub fn refused_by_http() -> impl Strategy<Value = Request> {
    let refused = |method: &str| {
        let mut r = Request::new("http", method, "/scim/v2/Users".into(), Expect::Refused);
        r.alone = true;
        r
    };
    prop_oneof![
        Just(refused("G(ET")),
        Just(refused("GET\u{7f}")),
        (101..300usize).prop_map(move |n| {
            (0..n).fold(refused("GET"), |r, i| r.header(&format!("X-H-{i}"), "v"))
        }),
        (420 * 1024..600 * 1024usize)
            .prop_map(move |n| refused("GET").header("X-Big", vec![b'b'; n])),
        Just(refused("GET").header("X-Nul", b"a\0b".to_vec())),
        Just(refused("GET").header("Bad Name", "v")),
    ]
}
