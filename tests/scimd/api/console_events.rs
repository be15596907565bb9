//! The Connection page's webhooks: each subscription of the admin's tenant with its delivery
//! state after real deliveries to a local receiver, its dropped deliveries, a test event with
//! the receiver's answer, pause and resume through the page's forms (with the session's CSRF
//! token only), never a secret, and never another tenant's webhook nor the application's pull
//! consumer — not shown, not acted on.

use std::time::Duration;

use axum::http::Method;
use scimd::domain::events::Kinds;
use scimd::service::Directory;

use super::console::Console;
use crate::api::oauth::text;
use crate::support::receiver::{Receiver, Script};
use crate::support::{Backend, entra_user};

const WAIT: Duration = Duration::from_secs(15);

/// Delivers events in the test's process until dropped.
struct Dispatcher(tokio::task::JoinHandle<()>);

impl Dispatcher {
    fn start(dir: &Directory) -> Self {
        Self(tokio::spawn(dir.clone().dispatch_events()))
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Waits until the webhook `id` has recorded `delivered` deliveries and `failed` failures.
async fn settled(dir: &Directory, id: &str, delivered: u64, failed: u64) {
    let done = tokio::time::timeout(WAIT, async {
        loop {
            let s = dir.webhook(id).await.unwrap();
            if s.delivered >= delivered && s.failed >= failed && s.backlog == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let s = dir.webhook(id).await.unwrap();
    assert!(
        done.is_ok(),
        "webhook {id}: {s:?}, expected {delivered} delivered and {failed} failed"
    );
}

async fn the_connection_page_shows_each_webhook_with_its_delivery_state(backend: Backend) {
    let c = Console::new(backend).await;
    let dir = &c.app.state.directory;
    let b = c.browser("default", "alice").await;
    let empty = text(&c.get(&b, "/admin/connection").await);
    assert!(
        empty.contains("scimd webhook add --tenant default --url https://…"),
        "{empty}"
    );

    let receiver = Receiver::start().await;
    let issued = dir
        .add_webhook("default", &receiver.url(), Kinds::ALL, false)
        .await
        .unwrap();
    let id = issued.subscription.id.to_string();
    let elsewhere = Receiver::start().await;
    dir.add_webhook("other", &elsewhere.url(), Kinds::CREATE, true)
        .await
        .unwrap();
    let before = text(&c.get(&b, "/admin/connection").await);
    assert!(before.contains("never"), "no success yet: {before}");

    let _dispatcher = Dispatcher::start(dir);
    let created = c
        .app
        .call(
            Method::POST,
            "/scim/v2/Users",
            Some(entra_user("alice@example.com")),
        )
        .await;
    assert_eq!(created.status, 201);
    receiver.wait_for_delivered(1, WAIT).await;
    settled(dir, &id, 1, 0).await;

    let page = c.get(&b, "/admin/connection").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = text(&page);
    assert!(html.contains("Events to the application (webhooks)"));
    let row = html
        .split(&format!("<tr id=\"webhook-{id}\">"))
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    let cells: Vec<&str> = row
        .split("<td")
        .skip(1)
        .map(|cell| cell.split_once('>').unwrap().1)
        .map(|cell| cell.split("</td>").next().unwrap())
        .collect();
    assert_eq!(cells[0], format!("<code>{}</code>", receiver.url()));
    assert_eq!(
        cells[1..6],
        ["all (notice)", "active", "1", "0", "0"],
        "{row}"
    );
    assert_ne!(cells[6], "never", "{row}");
    assert_eq!(cells[7], "none", "{row}");
    assert!(row.contains("Pause</button>") && !row.contains("Retry parked"));
    assert!(!html.contains(&issued.secret) && !html.contains("whsec_"));
    assert!(
        !html.contains(&elsewhere.url()),
        "another tenant's webhook is not shown"
    );

    let tested = c
        .post(
            &b,
            &format!("/admin/webhooks/{id}/test"),
            &[("csrf", &b.csrf)],
        )
        .await;
    assert_eq!(tested.status, 200);
    assert!(
        text(&tested).contains(&format!(
            "Test event to {}: HTTP 202, delivered.",
            receiver.url()
        )),
        "{}",
        text(&tested)
    );

    receiver.answer(Script::Refuse {
        err: "invalid_key".into(),
        description: "kid unknown".into(),
    });
    let refused = text(
        &c.post(
            &b,
            &format!("/admin/webhooks/{id}/test"),
            &[("csrf", &b.csrf)],
        )
        .await,
    );
    assert!(
        refused.contains("role=\"alert\">Test event to")
            && refused.contains("HTTP 400, refused (would be dropped): invalid_key: kid unknown."),
        "{refused}"
    );
    let bob = c
        .app
        .call(
            Method::POST,
            "/scim/v2/Users",
            Some(entra_user("bob@example.com")),
        )
        .await;
    let bob = bob.body["id"].as_str().unwrap().to_owned();
    settled(dir, &id, 1, 1).await;
    let html = text(&c.get(&b, "/admin/connection").await);
    assert!(
        html.contains(&format!(
            "Latest failed deliveries to <code>{}",
            receiver.url()
        )),
        "{html}"
    );
    let failure = html.split("<tr class=\"refused\">").nth(1).unwrap();
    assert!(
        failure.starts_with("<td>2")
            && failure.contains(&format!("<td>User {bob}</td><td>dropped</td><td>1</td><td>400</td><td>invalid_key: kid unknown</td>")),
        "{failure}"
    );
    assert!(html.contains("<span class=\"bad\">invalid_key: kid unknown</span>"));
    assert!(html.contains("Retry parked</button>"));
    let retried = text(
        &c.post(
            &b,
            &format!("/admin/webhooks/{id}/retry"),
            &[("csrf", &b.csrf)],
        )
        .await,
    );
    assert!(
        retried.contains(&format!(
            "0 parked event(s) to {} queued again.",
            receiver.url()
        )),
        "dropped events stay dropped: {retried}"
    );
}

async fn pause_and_resume_go_through_the_form_and_a_forged_form_changes_nothing(backend: Backend) {
    let c = Console::new(backend).await;
    let dir = &c.app.state.directory;
    let receiver = Receiver::start().await;
    let id = dir
        .add_webhook("default", &receiver.url(), Kinds::ALL, true)
        .await
        .unwrap()
        .subscription
        .id
        .to_string();
    let b = c.browser("default", "alice").await;
    for action in ["pause", "test", "retry"] {
        for csrf in ["", "forged"] {
            let answer = c
                .post(
                    &b,
                    &format!("/admin/webhooks/{id}/{action}"),
                    &[("csrf", csrf)],
                )
                .await;
            assert_eq!(answer.status, 403, "{action}");
            assert!(text(&answer).contains("the form came from another page"));
        }
    }
    assert!(!dir.webhook(&id).await.unwrap().paused);
    assert!(receiver.received().is_empty(), "no test event was sent");

    let paused = c
        .post(
            &b,
            &format!("/admin/webhooks/{id}/pause"),
            &[("csrf", &b.csrf)],
        )
        .await;
    assert_eq!(paused.status, 200);
    let html = text(&paused);
    assert!(
        html.contains(&format!(
            "Events to {} are paused: they wait until the webhook is resumed.",
            receiver.url()
        )),
        "{html}"
    );
    assert!(
        html.contains("<td>all (full)</td><td>paused</td>"),
        "{html}"
    );
    assert!(html.contains(&format!("action=\"/admin/webhooks/{id}/resume\"")));
    assert!(dir.webhook(&id).await.unwrap().paused);

    let forged = c
        .post(
            &b,
            &format!("/admin/webhooks/{id}/resume"),
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(dir.webhook(&id).await.unwrap().paused, "still paused");

    let resumed = text(
        &c.post(
            &b,
            &format!("/admin/webhooks/{id}/resume"),
            &[("csrf", &b.csrf)],
        )
        .await,
    );
    assert!(
        resumed.contains("are resumed: 0 waiting to be delivered."),
        "{resumed}"
    );
    assert!(resumed.contains("<td>all (full)</td><td>active</td>"));
    assert!(!dir.webhook(&id).await.unwrap().paused);
}

async fn another_tenants_webhook_is_neither_shown_nor_acted_on(backend: Backend) {
    let c = Console::new(backend).await;
    let dir = &c.app.state.directory;
    let receiver = Receiver::start().await;
    let theirs = dir
        .add_webhook("other", &receiver.url(), Kinds::ALL, false)
        .await
        .unwrap()
        .subscription
        .id;
    // the application's pull consumer of alice's own tenant is no webhook of the console either
    let consumer = dir
        .add_consumer("default", Kinds::ALL, false)
        .await
        .unwrap()
        .subscription
        .id;
    let alice = c.browser("default", "alice").await;
    let page = text(&c.get(&alice, "/admin/connection").await);
    assert!(!page.contains(&receiver.url()) && !page.contains(&theirs.to_string()));
    assert!(!page.contains(&consumer.to_string()), "{page}");
    let ids = [
        theirs.to_string(),
        consumer.to_string(),
        uuid::Uuid::new_v4().to_string(),
        "not-a-uuid".to_owned(),
    ];
    for id in &ids {
        for action in ["pause", "resume", "test", "retry"] {
            let answer = c
                .post(
                    &alice,
                    &format!("/admin/webhooks/{id}/{action}"),
                    &[("csrf", &alice.csrf)],
                )
                .await;
            assert_eq!(answer.status, 404, "{action} {id}");
            assert!(
                text(&answer).contains(&format!("no webhook with id {id}")),
                "{}",
                text(&answer)
            );
        }
    }
    assert!(!dir.webhook(&theirs.to_string()).await.unwrap().paused);
    assert!(!dir.webhook(&consumer.to_string()).await.unwrap().paused);
    assert!(
        receiver.received().is_empty(),
        "no test event went to another tenant's receiver"
    );
    let carol = c.browser("other", "carol").await;
    let paused = c
        .post(
            &carol,
            &format!("/admin/webhooks/{theirs}/pause"),
            &[("csrf", &carol.csrf)],
        )
        .await;
    assert_eq!(paused.status, 200, "their own admin may");
    assert!(dir.webhook(&theirs.to_string()).await.unwrap().paused);
}

crate::on_both_stores!(
    the_connection_page_shows_each_webhook_with_its_delivery_state,
    pause_and_resume_go_through_the_form_and_a_forged_form_changes_nothing,
    another_tenants_webhook_is_neither_shown_nor_acted_on,
);
