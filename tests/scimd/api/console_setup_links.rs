//! Setup links on the console's Connection page: a team admin makes one (its URL shown once),
//! sees it listed with its state, expiry and last use, and revokes it; a form without the
//! session's CSRF token changes nothing; an admin of another tenant cannot revoke it.

use super::console::{Browser, Console};
use crate::api::oauth::text;
use crate::support::{Backend, TestResponse};
use scimd::service::setup::SetupAccess;

crate::on_both_stores!(
    a_setup_link_made_in_the_console_is_shown_once_listed_and_revoked,
    setup_link_forms_without_the_session_s_csrf_token_change_nothing,
    an_admin_of_another_tenant_cannot_revoke_this_tenant_s_setup_link,
);

/// What the setup page finds with the token of `url`.
async fn access(c: &Console, url: &str) -> SetupAccess {
    let token = url.rsplit_once("/setup/").expect(url).1;
    let (found, _) = c
        .app
        .state
        .directory
        .setup_access(token, false, None)
        .await
        .unwrap();
    found
}

/// Makes a link valid for `expires` in the console; the answer and the URL it shows.
async fn make(c: &Console, b: &Browser, expires: &str) -> (TestResponse, String) {
    let made = c
        .post(
            b,
            "/admin/setup-links",
            &[("csrf", &b.csrf), ("expires", expires)],
        )
        .await;
    assert_eq!(made.status, 200, "{}", text(&made));
    let html = text(&made);
    let url = html
        .split("<code class=\"copy\">")
        .nth(1)
        .expect(&html)
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    (made, url)
}

async fn a_setup_link_made_in_the_console_is_shown_once_listed_and_revoked(backend: Backend) {
    let c = Console::new(backend).await;
    let alice = c.browser("default", "alice").await;
    let page = text(&c.get(&alice, "/admin/connection").await);
    assert!(page.contains("<h2>Setup links</h2>"), "{page}");
    for option in [
        "<option value=\"1d\">1 day</option>",
        "<option value=\"7d\" selected>7 days</option>",
        "<option value=\"30d\">30 days</option>",
    ] {
        assert!(page.contains(option), "{option}: {page}");
    }
    let (made, url) = make(&c, &alice, "30d").await;
    let shown = text(&made);
    assert!(shown.contains("shown this once"), "{shown}");
    assert!(shown.contains("Valid until"), "{shown}");
    assert!(
        url.starts_with("http://scimd.test/setup/scimd_setup_"),
        "{url}"
    );
    let id = match access(&c, &url).await {
        SetupAccess::Open(open) => {
            assert_eq!(open.1.name, "default");
            assert_eq!((open.0.expires - open.0.created).num_days(), 30);
            assert_eq!(open.0.created_by, "console default/alice");
            open.0.id.to_string()
        }
        other => panic!("{other:?}"),
    };
    let page = text(&c.get(&alice, "/admin/connection").await);
    assert!(!page.contains("scimd_setup_"), "never shown again: {page}");
    let row = page
        .split(&format!("<tr id=\"setup-link-{id}\">"))
        .nth(1)
        .expect(&page)
        .split("</tr>")
        .next()
        .unwrap()
        .to_owned();
    for cell in [
        "<td>console default/alice</td>",
        "<td>never</td>",
        "<td>active</td>",
    ] {
        assert!(row.contains(cell), "{cell}: {row}");
    }
    let revoke = format!("/admin/setup-links/{id}/revoke");
    assert!(row.contains(&revoke), "{row}");

    let revoked = c.post(&alice, &revoke, &[("csrf", &alice.csrf)]).await;
    assert_eq!(revoked.status, 200);
    let page = text(&revoked);
    assert!(
        page.contains(&format!("Setup link {id} is revoked")),
        "{page}"
    );
    assert_eq!(
        access(&c, &url).await,
        SetupAccess::Gone { state: "revoked" }
    );
    let row = page
        .split(&format!("<tr id=\"setup-link-{id}\">"))
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(
        row.contains("<td>revoked</td>") && !row.contains(&revoke),
        "{row}"
    );

    let entries = c
        .app
        .state
        .directory
        .audit(&scimd::domain::audit::AuditFilter {
            tenant: Some("default".into()),
            before: None,
            limit: 10,
        })
        .await
        .unwrap();
    let actions: Vec<(&str, &str, &str)> = entries
        .iter()
        .filter(|e| e.action.starts_with("setup_link.") && e.action != "setup_link.refused")
        .map(|e| {
            (
                e.action.as_str(),
                e.actor.kind.as_str(),
                e.actor.name.as_str(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("setup_link.revoke", "console", "default/alice"),
            ("setup_link.create", "console", "default/alice"),
        ]
    );
}

async fn setup_link_forms_without_the_session_s_csrf_token_change_nothing(backend: Backend) {
    let c = Console::new(backend).await;
    let alice = c.browser("default", "alice").await;
    let (_, url) = make(&c, &alice, "1d").await;
    let dir = &c.app.state.directory;
    let id = dir.setup_links("default", None, 10).await.unwrap()[0].id;
    for csrf in ["", "forged"] {
        let create = c
            .post(
                &alice,
                "/admin/setup-links",
                &[("csrf", csrf), ("expires", "7d")],
            )
            .await;
        let revoke = c
            .post(
                &alice,
                &format!("/admin/setup-links/{id}/revoke"),
                &[("csrf", csrf)],
            )
            .await;
        for refused in [&create, &revoke] {
            assert_eq!(refused.status, 403);
            assert!(text(refused).contains("the form came from another page"));
        }
    }
    let links = dir.setup_links("default", None, 10).await.unwrap();
    assert_eq!(links.len(), 1);
    assert!(matches!(access(&c, &url).await, SetupAccess::Open(_)));
}

async fn an_admin_of_another_tenant_cannot_revoke_this_tenant_s_setup_link(backend: Backend) {
    let c = Console::new(backend).await;
    let alice = c.browser("default", "alice").await;
    let (_, url) = make(&c, &alice, "7d").await;
    let dir = &c.app.state.directory;
    let id = dir.setup_links("default", None, 10).await.unwrap()[0].id;
    let carol = c.browser("other", "carol").await;
    let page = text(&c.get(&carol, "/admin/connection").await);
    assert!(!page.contains(&id.to_string()), "{page}");
    for target in [id.to_string(), "not-a-uuid".into(), "%00".into()] {
        let refused = c
            .post(
                &carol,
                &format!("/admin/setup-links/{target}/revoke"),
                &[("csrf", &carol.csrf)],
            )
            .await;
        assert_eq!(refused.status, 404, "{target}: {}", text(&refused));
    }
    assert!(matches!(access(&c, &url).await, SetupAccess::Open(_)));
    // a validity the form does not offer, out of bounds, is refused and makes nothing
    for bad in ["31d", "forever", "7d\u{0}"] {
        let refused = c
            .post(
                &carol,
                "/admin/setup-links",
                &[("csrf", &carol.csrf), ("expires", bad)],
            )
            .await;
        assert_eq!(refused.status, 400, "{bad}: {}", text(&refused));
        assert!(text(&refused).contains("between 1h and 30d"));
    }
    assert!(dir.setup_links("other", None, 10).await.unwrap().is_empty());
}
