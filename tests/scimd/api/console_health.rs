//! The console's overview shows the tenant's provisioning health: a line while it is healthy
//! or not yet connected, and a banner with each reason's what and fix (escaped) when Entra's
//! cycle refuses too much or its credentials stop working; another tenant's state never shows.

use super::console::Console;
use crate::api::health::{PROBE, creates, scim};
use crate::api::oauth::text;
use crate::support::Backend;
use scimd::service::PolicyChange;

crate::on_both_stores!(
    the_overview_shows_the_tenant_s_health_and_a_banner_with_reasons_and_fixes_when_it_fails,
);

/// The `id="health-banner"` element of the overview.
fn banner(html: &str) -> &str {
    let start = html.find("id=\"health-banner\"").expect(html);
    let open = html[..start].rfind('<').unwrap();
    let tag = if html[open..].starts_with("<section") {
        "</section>"
    } else {
        "</p>"
    };
    let end = html[start..].find(tag).unwrap() + start;
    &html[open..end]
}

async fn the_overview_shows_the_tenant_s_health_and_a_banner_with_reasons_and_fixes_when_it_fails(
    backend: Backend,
) {
    let c = Console::new(backend).await;
    let dir = &c.app.state.directory;
    let b = c.browser("default", "alice").await;
    let page = c.get(&b, "/admin").await;
    assert_eq!(page.status, 200);
    let html = text(&page);
    let line = banner(&html);
    assert!(line.starts_with("<p"), "{line}");
    assert!(line.contains("Entra has not connected yet"), "{line}");

    let rules = PolicyChange {
        require_role: Some(true),
        ..Default::default()
    };
    dir.set_policy("default", &rules).await.unwrap();
    let token = dir
        .issue_token("default", Some("entra"))
        .await
        .unwrap()
        .token;
    assert_eq!(scim(&c.app, "GET", PROBE, &token, None).await.status, 200);
    let html = text(&c.get(&b, "/admin").await);
    assert!(banner(&html).contains("Provisioning is healthy"), "{html}");

    creates(&c.app, &token, 10, 60).await;
    let html = text(&c.get(&b, "/admin").await);
    let shown = banner(&html);
    assert!(shown.starts_with("<section"), "{shown}");
    assert!(shown.contains("health-degraded"), "{shown}");
    assert!(shown.contains("role=\"alert\""), "{shown}");
    assert!(shown.contains("Provisioning is degraded"), "{shown}");
    assert!(shown.contains("60 users have no role"), "{shown}");
    assert!(shown.contains("What to do: "), "{shown}");

    // the token revoked: the banner says the credentials no longer work
    let issued = dir.tokens("default").await.unwrap();
    let entra = issued
        .iter()
        .find(|t| t.label.as_deref() == Some("entra"))
        .unwrap();
    dir.revoke_token(entra.id).await.unwrap();
    dir.clock().advance(std::time::Duration::from_secs(1));
    for _ in 0..3 {
        assert_eq!(scim(&c.app, "GET", PROBE, &token, None).await.status, 401);
    }
    let html = text(&c.get(&b, "/admin").await);
    let shown = banner(&html);
    assert!(shown.contains("health-credentials_rejected"), "{shown}");
    assert!(
        shown.contains("3 requests were refused as not authenticated"),
        "{shown}"
    );

    // the other tenant's admin sees their own tenant, never this one's state
    let other = c.browser("other", "carol").await;
    let html = text(&c.get(&other, "/admin").await);
    let theirs = banner(&html);
    assert!(theirs.contains("Entra has not connected yet"), "{theirs}");
    assert!(!html.contains("refused as not authenticated"), "{html}");
}
