//! The console's Alerts page: a team admin sets the tenant's notification addresses (one per
//! line) and opts in with their own address; a form without the session's CSRF token is
//! refused; NUL bytes, a huge list, duplicates and non-addresses are refused on a readable page
//! that keeps what was typed, and change nothing.

use super::console::Console;
use crate::api::oauth::text;
use crate::support::Backend;

crate::on_both_stores!(
    a_team_admin_sets_the_tenants_addresses_and_opts_in_on_the_alerts_page,
    bad_addresses_and_forged_forms_are_refused_on_the_alerts_page_and_change_nothing,
);

async fn a_team_admin_sets_the_tenants_addresses_and_opts_in_on_the_alerts_page(backend: Backend) {
    let c = Console::new(backend).await;
    let b = c.browser("default", "alice").await;
    let empty = c.get(&b, "/admin/alerts").await;
    assert_eq!(empty.status, 200);
    assert!(text(&empty).contains("<h1>Alerts</h1>"), "{}", text(&empty));
    assert!(text(&empty).contains("aria-current=\"page\">Alerts</a>"));

    let list = "ops@default.test\r\n\r\n  oncall@default.test  \r\n";
    let saved = c
        .post(&b, "/admin/alerts", &[("csrf", &b.csrf), ("emails", list)])
        .await;
    assert_eq!(saved.status, 200, "{}", text(&saved));
    assert!(
        text(&saved).contains("Alerts are e-mailed to ops@default.test, oncall@default.test."),
        "{}",
        text(&saved)
    );
    let dir = &c.app.state.directory;
    assert_eq!(
        dir.notify_addresses("default").await.unwrap(),
        ["ops@default.test", "oncall@default.test"]
    );

    let mine = c
        .post(
            &b,
            "/admin/alerts/me",
            &[("csrf", &b.csrf), ("email", "alice@default.test")],
        )
        .await;
    assert_eq!(mine.status, 200, "{}", text(&mine));
    assert!(text(&mine).contains("Your alerts are e-mailed to alice@default.test."));
    assert!(text(&mine).contains("<td>alice</td><td>alice@default.test</td>"));
    assert_eq!(
        dir.admin_notify("default").await.unwrap(),
        vec![("alice".to_owned(), "alice@default.test".to_owned())]
    );
    let off = c
        .post(&b, "/admin/alerts/me", &[("csrf", &b.csrf), ("email", "")])
        .await;
    assert!(
        text(&off).contains("You receive no alerts."),
        "{}",
        text(&off)
    );
    assert!(dir.admin_notify("default").await.unwrap().is_empty());
}

async fn bad_addresses_and_forged_forms_are_refused_on_the_alerts_page_and_change_nothing(
    backend: Backend,
) {
    let c = Console::new(backend).await;
    let b = c.browser("default", "alice").await;
    let dir = &c.app.state.directory;
    dir.set_notify_addresses("default", &["ops@default.test".to_owned()])
        .await
        .unwrap();

    let forged = c
        .post(
            &b,
            "/admin/alerts",
            &[("csrf", "not-the-token"), ("emails", "x@evil.test")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let forged = c
        .post(&b, "/admin/alerts/me", &[("emails", "x@evil.test")])
        .await;
    assert_eq!(forged.status, 403);

    let huge: String = (0..20_000)
        .map(|i| format!("o{i}@default.test\n"))
        .collect();
    let cases = [
        ("ops\0@default.test", "control character"),
        ("not an address", "is not an e-mail address"),
        ("ops@default.test\nOPS@default.test", "given twice"),
        (
            huge.as_str(),
            "at most 20 notification addresses; 20000 were given",
        ),
    ];
    for (typed, says) in cases {
        let refused = c
            .post(&b, "/admin/alerts", &[("csrf", &b.csrf), ("emails", typed)])
            .await;
        assert_eq!(refused.status, 400, "{typed:.40}: {}", text(&refused));
        let page = text(&refused);
        assert!(
            page.contains("role=\"alert\"") && page.contains(says),
            "{page:.2000}"
        );
        assert!(
            page.contains("<h1>Alerts</h1>"),
            "the page, with what was typed"
        );
        assert_eq!(
            dir.notify_addresses("default").await.unwrap(),
            ["ops@default.test"]
        );
    }
    let mine = c
        .post(
            &b,
            "/admin/alerts/me",
            &[("csrf", &b.csrf), ("email", "me\0@x.test")],
        )
        .await;
    assert_eq!(mine.status, 400);
    assert!(text(&mine).contains("control character"), "{}", text(&mine));
    assert!(dir.admin_notify("default").await.unwrap().is_empty());
}
