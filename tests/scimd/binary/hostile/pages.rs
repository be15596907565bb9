//! Hostile requests to OAuth and the console: the Authorize page with hostile query parameters
//! (client ids with NUL, quotes and huge values, PKCE challenges plain, S256 and garbage), its
//! sign-in form and the console's with and without a valid CSRF pair, the token endpoint with
//! hostile forms and Basic headers, the console's forms posted from alice's session with
//! hostile fields and ids (the other tenant's, NUL, broken escapes), and the operational
//! endpoints with odd tokens.

use proptest::prelude::*;

use super::plan::{CSRF, Expect, Request};
use super::setup::{Known, REDIRECT};
use crate::api::fuzz::strategies::nasty;
use crate::support::{METRICS_TOKEN, encode};

/// Any of them.
pub fn requests(known: &Known) -> impl Strategy<Value = Request> {
    prop_oneof![
        3 => authorize(known),
        3 => oauth_sign_in(known),
        4 => token(known),
        2 => console_pages(known),
        3 => console_sign_in(),
        4 => console_forms(known),
        3 => setup_pages(known),
        1 => ops(),
    ]
}

/// The setup page of tenant `other`'s link and of hostile tokens: opened with odd providers,
/// its progress read, its forms (token, team admin, schema) posted with hostile fields, with
/// and without the page's CSRF pair.
fn setup_pages(known: &Known) -> impl Strategy<Value = Request> {
    let link = known.setup_link.clone();
    let tokens = vec![
        link.clone(),
        "/setup/scimd_setup_0".into(),
        format!("/setup/{}", encode("a\u{0}b")),
        format!("/setup/{}", "x".repeat(3000)),
        format!("{link}x"),
    ];
    let providers = vec![
        "entra".into(),
        "okta".into(),
        "other".into(),
        "\u{0}".into(),
    ];
    let params = fields(vec![
        ("idp", one_of(providers.clone()).boxed()),
        ("watch", hostile_text().boxed()),
    ]);
    let form = fields(vec![
        ("csrf", hostile_text().boxed()),
        ("idp", one_of(providers).boxed()),
        (
            "username",
            one_of(vec!["ines".into(), "al\u{0}ice".into()]).boxed(),
        ),
        ("password", hostile_text().boxed()),
        ("confirm", hostile_text().boxed()),
        (
            "urn",
            one_of(vec![
                "urn:ietf:params:scim:schemas:extension:h:2.0:User".into(),
            ])
            .boxed(),
        ),
    ]);
    let actions = ["", "/progress", "/token", "/admin", "/schema"];
    (
        proptest::sample::select(tokens),
        proptest::sample::select(actions.to_vec()),
        params,
        form,
        proptest::bool::weighted(0.5),
    )
        .prop_map(move |(base, action, q, form, paired)| {
            let target = format!("{base}{action}");
            match action {
                "" => Request::new(
                    "setup-page",
                    "GET",
                    format!("{target}?{}", query(&q)),
                    Expect::Page,
                ),
                "/progress" => Request::new(
                    "setup-progress",
                    "GET",
                    format!("{target}?{}", query(&q)),
                    Expect::Fragment,
                ),
                _ => {
                    let mut r = Request::new("setup-form", "POST", target, Expect::Page).form(form);
                    if paired {
                        if let Some(fields) = r.form.as_mut() {
                            fields.retain(|(k, _)| k != CSRF);
                            fields.push((CSRF.to_owned(), String::new()));
                        }
                        r.pair_from = Some(link.clone());
                    }
                    r
                }
            }
        })
}

/// Text a field may hold: hostile, or huge, or with a NUL, quotes and markup.
pub(super) fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => nasty(),
        1 => (1000..20_000usize).prop_map(|n| "h".repeat(n)),
        1 => Just("a\u{0}b\"'<script>&amp;".to_owned()),
    ]
}

/// A value picked among `known` ones, or hostile text.
pub(super) fn one_of(known: Vec<String>) -> impl Strategy<Value = String> {
    prop_oneof![2 => proptest::sample::select(known), 1 => hostile_text()]
}

/// Some of `fields`, each present or not, with a duplicate now and then.
pub(super) fn fields(
    fields: Vec<(&'static str, BoxedStrategy<String>)>,
) -> impl Strategy<Value = Vec<(String, String)>> {
    let picked: Vec<_> = fields
        .into_iter()
        .map(|(name, value)| proptest::option::weighted(0.8, value).prop_map(move |v| (name, v)))
        .collect();
    (picked, proptest::bool::weighted(0.15)).prop_map(|(picked, duplicate)| {
        let mut out: Vec<(String, String)> = picked
            .into_iter()
            .filter_map(|(name, v)| v.map(|v| (name.to_owned(), v)))
            .collect();
        if let Some(first) = out.first().filter(|_| duplicate).cloned() {
            out.push(first);
        }
        out
    })
}

/// The fields of an authorization request, aimed at the first tenant's client.
fn authorization(known: &Known) -> impl Strategy<Value = Vec<(String, String)>> {
    let clients = vec![
        known.client.0.clone(),
        known.other_client.0.clone(),
        "x\u{0}y".into(),
        "\"'><".into(),
    ];
    let redirects = vec![
        REDIRECT.into(),
        "https://evil.example/cb".into(),
        "javascript:alert(1)".into(),
        format!("{REDIRECT}#frag"),
    ];
    let codes = vec!["code".into(), "token".into(), String::new(), "CODE".into()];
    let challenges = vec![
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        "short".into(),
        "=".repeat(200),
    ];
    let methods = vec!["S256".into(), "plain".into(), "s256".into(), String::new()];
    fields(vec![
        ("response_type", one_of(codes).boxed()),
        ("client_id", one_of(clients).boxed()),
        ("redirect_uri", one_of(redirects).boxed()),
        ("state", hostile_text().boxed()),
        ("scope", hostile_text().boxed()),
        ("code_challenge", one_of(challenges).boxed()),
        ("code_challenge_method", one_of(methods).boxed()),
    ])
}

pub(super) fn query(fields: &[(String, String)]) -> String {
    let pairs: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    pairs.join("&")
}

/// The Authorize page of a valid request of the first tenant's client: where a valid CSRF
/// pair comes from.
fn valid_authorize(known: &Known) -> String {
    format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        known.client.0,
        encode(REDIRECT)
    )
}

fn authorize(known: &Known) -> impl Strategy<Value = Request> {
    let broken = [
        "%00",
        "%FF",
        "%",
        "client_id=%C0%80&redirect_uri=%00",
        "&&&==&",
    ];
    prop_oneof![
        4 => authorization(known).prop_map(|f| format!("/oauth/authorize?{}", query(&f))),
        1 => proptest::sample::select(broken.to_vec()).prop_map(|q| format!("/oauth/authorize?{q}")),
    ]
    .prop_map(|target| Request::new("authorize", "GET", target, Expect::Page))
}

/// A sign-in form: with a valid CSRF pair it reaches the throttle and a password check.
pub(super) fn sign_in_form(
    family: &'static str,
    path: &str,
    page: String,
    form: Vec<(String, String)>,
    pairing: Pairing,
) -> Request {
    let mut r = Request::new(family, "POST", path.to_owned(), Expect::Page).form(form);
    let Some(client) = pairing else {
        return r;
    };
    if let Some(fields) = r.form.as_mut() {
        fields.retain(|(k, _)| k != CSRF);
        fields.push((CSRF.to_owned(), String::new()));
    }
    r.pair_from = Some(page);
    r.sign_in = true;
    match client {
        Some([a, b]) => r.header("X-Forwarded-For", format!("198.18.{a}.{b}")),
        None => r,
    }
}

/// Whether a sign-in form gets a valid CSRF pair, and then the client the trusted proxy
/// reports (one of many, so that the throttle, which holds an address after 20 attempts,
/// lets most of them reach a password check).
pub(super) type Pairing = Option<Option<[u8; 2]>>;

pub(super) fn pairing() -> impl Strategy<Value = Pairing> {
    proptest::option::weighted(0.3, proptest::option::weighted(0.8, any::<[u8; 2]>()))
}

fn credentials() -> impl Strategy<Value = Vec<(String, String)>> {
    let names = vec!["alice".into(), "al\u{0}ice".into(), "\"alice'".into()];
    fields(vec![
        ("username", one_of(names).boxed()),
        ("password", hostile_text().boxed()),
        ("csrf", hostile_text().boxed()),
    ])
}

fn oauth_sign_in(known: &Known) -> impl Strategy<Value = Request> {
    let page = valid_authorize(known);
    let valid = vec![
        ("response_type".to_owned(), "code".to_owned()),
        ("client_id".to_owned(), known.client.0.clone()),
        ("redirect_uri".to_owned(), REDIRECT.to_owned()),
    ];
    let request = prop_oneof![2 => Just(valid), 1 => authorization(known)];
    (request, credentials(), pairing()).prop_map(move |(request, credentials, paired)| {
        let form = [request, credentials].concat();
        sign_in_form(
            "oauth-sign-in",
            "/oauth/authorize",
            page.clone(),
            form,
            paired,
        )
    })
}

/// `Authorization` headers of the token endpoint: valid and invalid Basic credentials.
fn basic(known: &Known) -> impl Strategy<Value = Option<Vec<u8>>> {
    use base64::Engine;
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let (id, secret) = &known.client;
    let values = vec![
        format!("Basic {}", b64(format!("{id}:{secret}").as_bytes())).into_bytes(),
        format!(
            "Basic {}",
            b64(format!("{id}:{}", known.other_client.1).as_bytes())
        )
        .into_bytes(),
        format!("Basic {}", b64(b"%00:%ZZ")).into_bytes(),
        format!("Basic {}", b64(b"\xff\xfe:x")).into_bytes(),
        format!("Basic {}", b64(b"no-colon")).into_bytes(),
        b"Basic".to_vec(),
        b"Basic !!!".to_vec(),
        format!("Basic {}", "A".repeat(20_000)).into_bytes(),
        b"Bearer x".to_vec(),
    ];
    proptest::option::weighted(0.5, proptest::sample::select(values))
}

/// The token endpoint's fields: grants, the two tenants' clients, hostile codes and tokens.
fn token_form(known: &Known) -> impl Strategy<Value = Vec<(String, String)>> {
    let grants = vec![
        "client_credentials".into(),
        "authorization_code".into(),
        "refresh_token".into(),
        "password".into(),
        "client_credentials\u{0}".into(),
    ];
    let ids = vec![known.client.0.clone(), known.other_client.0.clone()];
    let secrets = vec![known.client.1.clone(), known.other_client.1.clone()];
    fields(vec![
        ("grant_type", one_of(grants).boxed()),
        ("client_id", one_of(ids).boxed()),
        ("client_secret", one_of(secrets).boxed()),
        ("code", hostile_text().boxed()),
        ("code_verifier", hostile_text().boxed()),
        ("redirect_uri", one_of(vec![REDIRECT.into()]).boxed()),
        ("refresh_token", hostile_text().boxed()),
    ])
}

/// `r` with its `Content-Type` replaced by `content_type` (none when empty).
fn typed(mut r: Request, content_type: &str) -> Request {
    r.headers.retain(|(k, _)| k != "Content-Type");
    match content_type.is_empty() {
        true => r,
        false => r.header("Content-Type", content_type),
    }
}

fn token(known: &Known) -> impl Strategy<Value = Request> {
    let content_types = [
        "application/x-www-form-urlencoded",
        "application/json",
        "text/plain",
        "",
    ];
    let content_type = proptest::sample::select(content_types.to_vec());
    (token_form(known), basic(known), content_type, 0..10u8).prop_map(
        |(form, basic, content_type, method)| {
            // a GET is not routed to the token endpoint: the 405 is SCIM's
            let (method, expect) = match method {
                0 => ("GET", Expect::Scim),
                _ => ("POST", Expect::Token),
            };
            let r = Request::new("token", method, "/oauth/token".into(), expect).form(form);
            let r = typed(r, content_type);
            match basic {
                Some(value) => r.header("Authorization", value),
                None => r,
            }
        },
    )
}

/// Console pages, with alice's session or a forged one.
fn console_pages(known: &Known) -> impl Strategy<Value = Request> {
    let paths = vec![
        "/admin".to_owned(),
        "/admin/connection".into(),
        "/admin/directory?filter=%00".into(),
        format!("/admin/users/{}", known.user),
        format!("/admin/users/{}", known.other_user),
        format!("/admin/groups/{}", known.other_group),
        "/admin/users/%00".into(),
        "/admin/groups/%FF".into(),
        "/admin/cycles/%00".into(),
        "/admin/cycles/99999999999999999999".into(),
        "/admin/activity?status=%00&since=%FF".into(),
        "/admin/activity?status=2xx&status=4xx".into(),
        "/admin/directory?type=%FF&filter=a&filter=b".into(),
    ];
    let cookies = vec![
        known.session.clone(),
        format!("scimd_session={}", "s".repeat(8000)),
        "scimd_session=%00".into(),
        format!("__Host-{}", known.session),
        ";;;==; scimd_session".into(),
    ];
    (
        proptest::sample::select(paths),
        proptest::option::of(proptest::sample::select(cookies)),
    )
        .prop_map(|(path, cookie)| {
            let r = Request::new("console-page", "GET", path, Expect::Page);
            match cookie {
                Some(cookie) => r.header("Cookie", cookie),
                None => r,
            }
        })
}

fn console_sign_in() -> impl Strategy<Value = Request> {
    let tenants = vec!["default".into(), "other".into(), "de\u{0}fault".into()];
    let form = fields(vec![("tenant", one_of(tenants).boxed())]);
    (form, credentials(), pairing()).prop_map(|(tenant, credentials, paired)| {
        let form = [tenant, credentials].concat();
        sign_in_form(
            "console-sign-in",
            "/admin/sign-in",
            "/admin".into(),
            form,
            paired,
        )
    })
}

/// Where the console's forms go: tokens and clients, and webhooks, tokens and clients named by
/// id (the other tenant's, NUL, broken escapes; never one of alice's that the run needs).
fn console_target(known: &Known) -> impl Strategy<Value = String> {
    let ids = vec![
        known.webhook.clone(),
        known.other_webhook.clone(),
        known.other_token_id.clone(),
        known.other_client.0.clone(),
        "%00".into(),
        "a%00b".into(),
        "%FF".into(),
        "%".into(),
        "h".repeat(3000),
    ];
    let actions = vec![
        "/admin/webhooks/{}/pause",
        "/admin/webhooks/{}/resume",
        "/admin/tokens/{}/revoke",
        "/admin/clients/{}/rotate",
        "/admin/clients/{}/remove",
    ];
    prop_oneof![
        2 => Just("/admin/tokens".to_owned()),
        2 => Just("/admin/clients".to_owned()),
        3 => (proptest::sample::select(actions), proptest::sample::select(ids))
            .prop_map(|(action, id)| action.replace("{}", &id)),
    ]
}

/// The console's forms posted from alice's session (or none), their fields hostile, the
/// session's CSRF token sent or not.
fn console_forms(known: &Known) -> impl Strategy<Value = Request> {
    let redirects = vec![
        "https://app.example/cb".into(),
        "https://a\u{0}.example/cb".into(),
        "http://user:pw@127.0.0.1/x".into(),
        "javascript:alert(1)".into(),
    ];
    let form = fields(vec![
        ("csrf", one_of(vec![known.session_csrf.clone()]).boxed()),
        ("label", hostile_text().boxed()),
        ("redirect_uri", one_of(redirects).boxed()),
    ]);
    let content_types = [
        "application/x-www-form-urlencoded",
        "application/json",
        "multipart/form-data",
    ];
    let content_type = proptest::sample::select(content_types.to_vec());
    let session = known.session.clone();
    (console_target(known), form, content_type, 0..8u8).prop_map(
        move |(target, form, content_type, signed)| {
            let r = Request::new("console-form", "POST", target, Expect::Page).form(form);
            let r = typed(r, content_type);
            match signed {
                0 => r,
                _ => r.header("Cookie", session.clone()),
            }
        },
    )
}

/// `/healthz`, `/readyz`, `/metrics` with odd tokens, the OAuth metadata, the stylesheet.
fn ops() -> impl Strategy<Value = Request> {
    let paths = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/.well-known/oauth-authorization-server",
        "/static/scimd.css",
    ];
    let tokens = vec![
        format!("Bearer {METRICS_TOKEN}"),
        "Bearer wrong".into(),
        format!("Bearer {METRICS_TOKEN}x"),
        String::new(),
    ];
    (
        proptest::sample::select(paths.to_vec()),
        proptest::sample::select(tokens),
    )
        .prop_map(|(path, token)| {
            Request::new("ops", "GET", path.into(), Expect::Any).header("Authorization", token)
        })
}
