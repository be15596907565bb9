//! The operator page from real SCIM traffic: a tenant driven degraded by refused creates and
//! one whose token was revoked, shown with their states, reasons, last cycles, refusals,
//! silence and charts whose bars and titles carry the counts; every column sorted both ways
//! through its header's link; a sort the page does not know is a 400 page; 601 tenants, past a
//! page of recorded health, all listed.

use std::time::Duration;

use chrono::TimeDelta;
use serde_json::json;

use super::{Operator, row, scim, tenants};
use crate::api::oauth::text;
use crate::support::{Backend, entra_user};
use scimd::domain::activity::Cycle;
use scimd::domain::health::State;
use scimd::service::PolicyChange;

const PROBE: &str = "/scim/v2/Users?filter=userName%20eq%20%22nobody%22";

/// Tenant `acme`, which requires a role: one accepted lookup, then 10 creates with a role
/// (accepted) and 60 without (refused).
async fn degraded_acme(o: &Operator) {
    let dir = &o.app.state.directory;
    dir.create_tenant("acme").await.unwrap();
    let rules = PolicyChange {
        require_role: Some(true),
        ..Default::default()
    };
    dir.set_policy("acme", &rules).await.unwrap();
    let token = dir.issue_token("acme", Some("entra")).await.unwrap().token;
    assert_eq!(scim(&o.app, "GET", PROBE, &token, None).await.status, 200);
    for i in 0..70 {
        let mut user = entra_user(&format!("u{i}@acme.test"));
        if i < 10 {
            user["roles"] = json!([{"value": "member"}]);
        }
        let r = scim(&o.app, "POST", "/scim/v2/Users", &token, Some(user)).await;
        assert_eq!(r.status, if i < 10 { 201 } else { 400 }, "{}", r.body);
    }
}

/// Tenant `globex`: two accepted creates, then its token revoked and 20 requests with it.
async fn rejected_globex(o: &Operator) {
    let dir = &o.app.state.directory;
    dir.create_tenant("globex").await.unwrap();
    let token = dir.issue_token("globex", Some("entra")).await.unwrap();
    for i in 0..2 {
        let user = entra_user(&format!("g{i}@globex.test"));
        let r = scim(&o.app, "POST", "/scim/v2/Users", &token.token, Some(user)).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    dir.revoke_token(token.info.id).await.unwrap();
    dir.clock().advance(Duration::from_secs(120));
    for _ in 0..20 {
        let r = scim(&o.app, "GET", PROBE, &token.token, None).await;
        assert_eq!(r.status, 401);
    }
}

async fn a_degraded_and_a_rejected_tenant_show_their_reasons_counts_and_charts(backend: Backend) {
    let o = Operator::new(backend).await;
    let dir = &o.app.state.directory;
    degraded_acme(&o).await;
    rejected_globex(&o).await;
    dir.check_all_health().await.unwrap();
    // a tenant created since the last check
    dir.create_tenant("initech").await.unwrap();
    let s = o.session().await;
    let page = o.get(&s.cookie, "/operator").await;
    assert_eq!(page.status, 200);
    let shown = text(&page);
    assert!(
        shown.contains("4 tenants: 1 credentials rejected, 0 at risk, 0 silent, 1 degraded"),
        "{shown}"
    );
    assert_eq!(
        tenants(&page),
        ["globex", "acme", "default", "initech"],
        "worst first"
    );

    let recorded = dir.all_health().await.unwrap();
    let reasons = |name: &str| {
        let t = recorded.iter().find(|t| t.tenant == name).unwrap();
        t.recorded.clone().unwrap()
    };
    let since = |name: &str| reasons(name).since.format("%Y-%m-%d %H:%M UTC").to_string();
    async fn only_cycle(dir: &scimd::service::Directory, name: &str) -> Cycle {
        let all = dir
            .cycles(name, dir.now() - TimeDelta::days(7), TimeDelta::minutes(10))
            .await
            .unwrap();
        assert_eq!(all.len(), 1, "{name}: {all:?}");
        all[0].clone()
    }

    let acme = reasons("acme");
    assert_eq!(acme.state, State::Degraded);
    let acme_row = row(&page, "acme");
    assert!(acme_row.contains("data-state=\"degraded\""));
    assert!(acme_row.contains("<span class=\"badge state-degraded\">degraded</span>"));
    assert!(acme_row.contains(&format!("since {}", since("acme"))));
    assert_eq!(acme.reasons[0].count, 60);
    assert!(acme.reasons[0].what.starts_with("60 users have no role"));
    assert!(acme_row.contains(&format!(
        "<span class=\"what\">{}</span>",
        acme.reasons[0].what
    )));
    assert!(acme_row.contains(&format!("Fix: {}", acme.reasons[0].fix)));
    let last = only_cycle(dir, "acme").await;
    assert_eq!(
        (
            last.created.total(),
            last.updated.total(),
            last.refused.total()
        ),
        (10, 0, 60)
    );
    assert!(acme_row.contains(&format!(
        "{}<br><span class=\"counts-line\">10 created, 0 updated, 60 refused</span>",
        last.last.format("%Y-%m-%d %H:%M UTC")
    )));
    assert!(acme_row.contains("<td data-label=\"Refusals\" class=\"refusals bad\">60</td>"));
    assert!(acme_row.contains("<td data-label=\"Silence\" class=\"silence\">2 min</td>"));
    let when = last.started.format("%Y-%m-%d %H:%M UTC");
    for bar in [
        format!(
            "<rect class=\"created\" x=\"1\" y=\"31\" width=\"3\" height=\"7\"><title>cycle of {when}: 10 created</title></rect>"
        ),
        format!(
            "<rect class=\"updated\" x=\"4\" y=\"38\" width=\"3\" height=\"0\"><title>cycle of {when}: 0 updated</title></rect>"
        ),
        format!(
            "<rect class=\"refused\" x=\"7\" y=\"0\" width=\"3\" height=\"38\"><title>cycle of {when}: 60 refused</title></rect>"
        ),
        format!("<title>cycle of {when}: 10 created, 0 updated, 60 refused</title>"),
        "aria-label=\"last 1 cycles: 10 created, 0 updated, 60 refused\"".to_owned(),
    ] {
        assert!(acme_row.contains(&bar), "{bar} in {acme_row}");
    }

    let globex = reasons("globex");
    assert_eq!(globex.state, State::CredentialsRejected);
    let globex_row = row(&page, "globex");
    assert!(
        globex_row.contains(
            "<span class=\"badge state-credentials_rejected\">credentials rejected</span>"
        )
    );
    assert_eq!(globex.reasons[0].count, 20);
    assert!(globex_row.contains(&format!(
        "<span class=\"what\">{}</span>",
        globex.reasons[0].what
    )));
    assert!(globex_row.contains(&format!("Fix: {}", globex.reasons[0].fix)));
    let last = only_cycle(dir, "globex").await;
    assert_eq!(last.created.total(), 2);
    let refused = last.refused.total();
    assert!(globex_row.contains(&format!("2 created, 0 updated, {refused} refused")));
    assert!(globex_row.contains(&format!(
        "<title>cycle of {}: 2 created</title>",
        last.started.format("%Y-%m-%d %H:%M UTC")
    )));

    let default = row(&page, "default");
    assert!(default.contains("state-not_connected\">not connected</span>"));
    assert!(default.contains(&format!("since {}", since("default"))));
    assert!(default.contains("none in 7 days"));
    assert!(default.contains("no request accepted yet"));
    assert!(default.contains("aria-label=\"last 0 cycles: 0 created, 0 updated, 0 refused\""));
    assert!(!default.contains("<rect"));
    let initech = row(&page, "initech");
    assert!(initech.contains("state-not_connected\">not connected</span>"));
    assert!(initech.contains("since never checked"));
}

async fn every_column_sorts_both_ways_through_its_header_link(backend: Backend) {
    let o = Operator::new(backend).await;
    let dir = &o.app.state.directory;
    degraded_acme(&o).await;
    dir.clock().advance(Duration::from_secs(20 * 60));
    dir.create_tenant("globex").await.unwrap();
    let token = dir.issue_token("globex", None).await.unwrap().token;
    for i in 0..3 {
        let user = entra_user(&format!("g{i}@globex.test"));
        let r = scim(&o.app, "POST", "/scim/v2/Users", &token, Some(user)).await;
        assert_eq!(r.status, 201);
    }
    dir.clock().advance(Duration::from_secs(5 * 60));
    dir.check_all_health().await.unwrap();
    let s = o.session().await;
    // acme: degraded, 60 refusals, its cycle 25 minutes ago; globex: healthy, none refused, its
    // cycle 5 minutes ago; default: never connected, no cycle, no accepted request
    let cases = [
        ("state", "desc", ["acme", "globex", "default"]),
        ("state", "asc", ["default", "globex", "acme"]),
        ("tenant", "asc", ["acme", "default", "globex"]),
        ("tenant", "desc", ["globex", "default", "acme"]),
        ("last_cycle", "desc", ["globex", "acme", "default"]),
        ("last_cycle", "asc", ["acme", "globex", "default"]),
        ("refusals", "desc", ["acme", "default", "globex"]),
        ("refusals", "asc", ["default", "globex", "acme"]),
        ("silence", "desc", ["acme", "globex", "default"]),
        ("silence", "asc", ["globex", "acme", "default"]),
    ];
    let labels = [
        ("state", "State"),
        ("tenant", "Tenant"),
        ("last_cycle", "Last cycle"),
        ("refusals", "Refusals"),
        ("silence", "Silence"),
    ];
    for (sort, order, expected) in cases {
        let path = format!("/operator?sort={sort}&order={order}");
        let page = o.get(&s.cookie, &path).await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(tenants(&page), expected, "{path}");
        let html = text(&page);
        // the sorted column's header flips the order; the others sort their own first way
        let (aria, arrow, flipped) = if order == "asc" {
            ("ascending", "↑", "desc")
        } else {
            ("descending", "↓", "asc")
        };
        let label = labels.iter().find(|(c, _)| *c == sort).unwrap().1;
        let header = format!(
            "<th scope=\"col\" aria-sort=\"{aria}\"><a href=\"/operator?sort={sort}&order={flipped}\">{label} {arrow}</a></th>"
        );
        assert!(html.contains(&header), "{header}");
        assert_eq!(html.matches("aria-sort=").count(), 1);
        for (other, label) in labels.iter().filter(|(c, _)| *c != sort) {
            let first = if *other == "tenant" { "asc" } else { "desc" };
            let link = format!(
                "<th scope=\"col\"><a href=\"/operator?sort={other}&order={first}\">{label}</a></th>"
            );
            assert!(html.contains(&link), "{link}");
        }
    }
    let default = o.get(&s.cookie, "/operator?sort=silence").await;
    assert_eq!(
        tenants(&default),
        ["acme", "globex", "default"],
        "its first order"
    );
}

async fn an_unknown_sort_or_order_is_a_400_page(backend: Backend) {
    let o = Operator::new(backend).await;
    let s = o.session().await;
    let huge = "x".repeat(60_000);
    let cases = [
        (
            "/operator?sort=owner".to_owned(),
            "cannot sort by 'owner'; sort by one of state, tenant, last_cycle, refusals, silence",
        ),
        (
            "/operator?order=sideways".to_owned(),
            "no order 'sideways'; the order is asc or desc",
        ),
        (
            "/operator?sort=state&sort=tenant".to_owned(),
            "'sort' is given more than once; give it once",
        ),
        (
            "/operator?sort=%00state".to_owned(),
            "cannot sort by 'state'",
        ),
        (
            format!("/operator?sort={huge}"),
            "cannot sort by 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';",
        ),
        ("/operator?sort=%FF".to_owned(), "cannot sort by '\u{FFFD}'"),
    ];
    for (path, why) in cases {
        let page = o.get(&s.cookie, &path).await;
        assert_eq!(page.status, 400, "{}", &path[..path.len().min(80)]);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let shown = text(&page);
        assert!(shown.contains("Cannot sort like this"), "{shown}");
        assert!(shown.contains(why), "{why} in {shown}");
        assert!(shown.len() < 4_000, "a short page, not the value echoed");
    }
}

async fn six_hundred_tenants_are_all_listed_past_a_page_of_recorded_health(backend: Backend) {
    let o = Operator::new(backend).await;
    let dir = &o.app.state.directory;
    for n in 0..600 {
        dir.create_tenant(&format!("t{n:03}")).await.unwrap();
    }
    dir.check_all_health().await.unwrap();
    let s = o.session().await;
    let started = std::time::Instant::now();
    let page = o.get(&s.cookie, "/operator?sort=tenant&order=desc").await;
    let took = started.elapsed();
    assert_eq!(page.status, 200);
    let listed = tenants(&page);
    let mut expected: Vec<String> = (0..600).map(|n| format!("t{n:03}")).collect();
    expected.push("default".to_owned());
    expected.sort();
    expected.reverse();
    assert_eq!(listed, expected);
    assert!(
        text(&page)
            .contains("601 tenants: 0 credentials rejected, 0 at risk, 0 silent, 0 degraded")
    );
    println!("the operator page of 601 tenants took {took:?}");
}

crate::on_both_stores!(
    six_hundred_tenants_are_all_listed_past_a_page_of_recorded_health,
    a_degraded_and_a_rejected_tenant_show_their_reasons_counts_and_charts,
    every_column_sorts_both_ways_through_its_header_link,
    an_unknown_sort_or_order_is_a_400_page,
);
