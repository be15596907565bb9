//! Hostile requests to the operator page: the page read with hostile `sort`, `order` and other
//! query parameters, with olivia's session, alice's console session (under its own name and the
//! operator page's) and forged cookies; its sign-in form with hostile user names (NUL, quotes,
//! huge) and passwords, with and without a valid CSRF pair; its sign-out form with hostile CSRF
//! tokens, which never match and so never end the session the other requests use.

use proptest::prelude::*;

use super::pages::{fields, hostile_text, one_of, pairing, query, sign_in_form};
use super::plan::{Expect, Request};
use super::setup::{Known, PASSWORD};

/// Any of them.
pub fn requests(known: &Known) -> impl Strategy<Value = Request> {
    prop_oneof![
        4 => page(known),
        3 => sign_in(),
        1 => sign_out(known),
    ]
}

/// The cookies a request to the operator page may carry.
fn cookies(known: &Known) -> Vec<Option<String>> {
    let console_value = known.session.split_once('=').map_or("", |(_, v)| v);
    vec![
        Some(known.operator_session.clone()),
        Some(known.operator_session.clone()),
        Some(known.session.clone()),
        Some(format!("scimd_operator={console_value}")),
        Some(format!("scimd_operator=scimd_o_{}", "A".repeat(4000))),
        Some("scimd_operator=%00; scimd_operator=\"'<x>".to_owned()),
        None,
    ]
}

fn with_cookie(request: Request, cookie: Option<String>) -> Request {
    match cookie {
        Some(cookie) => request.header("Cookie", cookie),
        None => request,
    }
}

fn page(known: &Known) -> impl Strategy<Value = Request> {
    let sorts = ["state", "tenant", "last_cycle", "refusals", "silence"].map(String::from);
    let params = fields(vec![
        ("sort", one_of(sorts.to_vec()).boxed()),
        ("order", one_of(vec!["asc".into(), "desc".into()]).boxed()),
        ("page", hostile_text().boxed()),
    ]);
    let broken = ["sort=%ZZ", "sort=%C0%80&order=%FF", "&&&==&", "sort"].map(String::from);
    let target = prop_oneof![
        4 => params.prop_map(|q| format!("/operator?{}", query(&q))),
        1 => proptest::sample::select(broken.to_vec()).prop_map(|q| format!("/operator?{q}")),
    ];
    let cookies = cookies(known);
    (target, proptest::sample::select(cookies)).prop_map(|(target, cookie)| {
        with_cookie(
            Request::new("operator-page", "GET", target, Expect::Page),
            cookie,
        )
    })
}

fn sign_in() -> impl Strategy<Value = Request> {
    let names = vec![
        "olivia".into(),
        "OLIVIA ".into(),
        "oli\u{0}via".into(),
        "\"olivia'".into(),
    ];
    let passwords = prop_oneof![1 => Just(PASSWORD.to_owned()), 3 => hostile_text()];
    let form = fields(vec![
        ("username", one_of(names).boxed()),
        ("password", passwords.boxed()),
        ("csrf", hostile_text().boxed()),
    ]);
    (form, pairing()).prop_map(|(form, paired)| {
        sign_in_form(
            "operator-sign-in",
            "/operator/sign-in",
            "/operator/sign-in".to_owned(),
            form,
            paired,
        )
    })
}

fn sign_out(known: &Known) -> impl Strategy<Value = Request> {
    let form = fields(vec![("csrf", hostile_text().boxed())]);
    let cookies = cookies(known);
    (form, proptest::sample::select(cookies)).prop_map(|(form, cookie)| {
        let request = Request::new(
            "operator-sign-out",
            "POST",
            "/operator/sign-out".to_owned(),
            Expect::Page,
        );
        with_cookie(request.form(form), cookie)
    })
}
