//! The admin console in a real browser: headless Chromium signs a team admin in, opens the last
//! cycle and sees the refused request with its reason, searches a user, revokes a token, and
//! pauses and resumes the application's webhook after its events were delivered — against
//! `scimd serve` with a directory Entra's requests filled. Screenshots of the overview
//! and the cycle are written for the book (`docs/src/screenshots/console-*.png` are copies).

use std::time::Duration;

use fantoccini::{Client, Locator};

use super::browser::{chromium, cli};
use crate::support::entra_user;
use crate::support::process::Scimd;
use crate::support::receiver::Receiver;

const TOKEN: &str = "console-browser-token-0123456789";
const PASSWORD: &str = "correct horse battery staple";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_admin_finds_the_last_cycle_searches_a_user_and_revokes_a_token_in_a_browser() {
    let dir = std::env::temp_dir().join(format!("scimd-console-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (scimd, _) = Scimd::start(&dir, &[("SCIMD_BOOTSTRAP_TOKEN", TOKEN)]).await;
    let receiver = Receiver::start().await;
    let hook = receiver.url();
    let add = ["webhook", "add", "--tenant", "default", "--url", &hook];
    assert!(cli(&dir, &add, "").await.contains("secret: whsec_"));
    for name in ["alice@example.com", "bob@example.com", "alice@example.com"] {
        let body = entra_user(name).to_string();
        scimd.request("POST", "/scim/v2/Users", TOKEN, &body).await;
    }
    cli(
        &dir,
        &[
            "admin",
            "add",
            "--tenant",
            "default",
            "--username",
            "ops",
            "--team-admin",
        ],
        PASSWORD,
    )
    .await;
    let spare = cli(
        &dir,
        &["token", "issue", "--tenant", "default", "--label", "spare"],
        "",
    )
    .await;
    let spare = spare.trim().to_owned();
    assert_eq!(
        scimd
            .request("GET", "/scim/v2/Users", &spare, "")
            .await
            .status,
        200
    );

    let (_driver, b) = chromium(1100, 900).await;
    let base = format!("http://{}", scimd.address);
    b.goto(&format!("{base}/admin")).await.unwrap();
    fill(&b, "tenant", "default").await;
    fill(&b, "username", "ops").await;
    fill(&b, "password", PASSWORD).await;
    b.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&b, "Overview").await;
    let body = text(&b).await;
    assert!(body.contains(&format!("{base}/scim/v2")), "{body}");
    assert!(
        body.contains("1 refused") || body.contains("1 / 0 refused"),
        "{body}"
    );
    shot(&b, "console-overview.png").await;

    b.find(Locator::LinkText("Cycles"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&b, "Provisioning cycles").await;
    b.find(Locator::Css("table a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&b, "Cycle started").await;
    let cycle = text(&b).await;
    assert!(
        cycle.contains("uniqueness: userName: the value is taken"),
        "{cycle}"
    );
    assert!(cycle.contains("2 / 0 created"), "{cycle}");
    shot(&b, "console-cycle.png").await;

    b.find(Locator::LinkText("Directory"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&b, "Directory").await;
    fill(&b, "filter", "userName eq \"bob@example.com\"").await;
    b.find(Locator::Css("form.filters button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&b, "1 found").await;
    b.find(Locator::LinkText("bob@example.com"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&b, "User bob@example.com").await;

    b.find(Locator::LinkText("Connection"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&b, "Secret tokens").await;
    b.find(Locator::Css("button[aria-label='Revoke token spare']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&b, "Token 'spare' is revoked").await;

    receiver
        .wait_for_delivered(2, Duration::from_secs(15))
        .await;
    b.goto(&format!("{base}/admin/connection#webhooks"))
        .await
        .unwrap();
    wait_for(&b, "Events to the application (webhooks)").await;
    let row = Locator::Css("tr[id^='webhook-']");
    let webhook = words(&b, row).await;
    assert!(
        webhook.contains(&hook) && webhook.contains("all (notice) active 2 0 0"),
        "{webhook}"
    );
    shot(&b, "console-connection.png").await;
    click(&b, &format!("button[aria-label='Pause events to {hook}']")).await;
    wait_for(&b, "are paused").await;
    let webhook = words(&b, row).await;
    assert!(webhook.contains("all (notice) paused"), "{webhook}");
    click(&b, &format!("button[aria-label='Resume events to {hook}']")).await;
    wait_for(&b, "are resumed: 0 waiting").await;
    let webhook = words(&b, row).await;
    assert!(webhook.contains("all (notice) active"), "{webhook}");
    b.set_window_size(412, 860).await.unwrap();
    b.goto(&format!("{base}/admin/connection#webhooks"))
        .await
        .unwrap();
    wait_for(&b, "Events to the application (webhooks)").await;
    shot(&b, "console-connection-phone.png").await;
    let widths = "return [document.documentElement.scrollWidth, window.innerWidth]";
    let widths = b.execute(widths, vec![]).await.unwrap();
    assert!(
        widths[0].as_u64() <= widths[1].as_u64(),
        "sideways: {widths}"
    );
    b.close().await.unwrap();
    assert_eq!(
        scimd
            .request("GET", "/scim/v2/Users", &spare, "")
            .await
            .status,
        401
    );
    assert_eq!(
        scimd
            .request("GET", "/scim/v2/Users", TOKEN, "")
            .await
            .status,
        200
    );
    scimd.kill().await;
    std::fs::remove_dir_all(&dir).ok();
}

/// The text of the element `at`, its words separated by one space.
async fn words(b: &Client, at: Locator<'_>) -> String {
    let text = b.find(at).await.unwrap().text().await.unwrap();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(super) async fn click(b: &Client, css: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

pub(super) async fn fill(b: &Client, id: &str, value: &str) {
    let input = b.find(Locator::Id(id)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

/// The page's text; read again when the page changed under the read (a stale element).
pub(super) async fn text(b: &Client) -> String {
    let mut last = None;
    for _ in 0..20 {
        match b.find(Locator::Css("body")).await {
            Ok(body) => match body.text().await {
                Ok(text) => return text,
                Err(e) => last = Some(e),
            },
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page's text could not be read: {last:?}")
}

/// Waits until the page shows `words`.
pub(super) async fn wait_for(b: &Client, words: &str) {
    let found = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            if let Ok(body) = b.find(Locator::Css("body")).await {
                if body.text().await.is_ok_and(|t| t.contains(words)) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let body = text(b).await;
    assert!(found.is_ok(), "the page never showed '{words}': {body}");
}

async fn shot(b: &Client, name: &str) {
    let png = b.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name),
        png,
    )
    .unwrap();
}
