//! The invitation page in a real browser: `scimd admin invite` prints a link; headless
//! Chromium opens it, is refused two passwords that differ, sets one, and signs in to the
//! console with it; the link then says it was used, and shows nothing of the tenant.

use fantoccini::Locator;

use super::browser::{chromium, cli};
use super::console_browser::{click, fill, text, wait_for};
use crate::support::process::Scimd;

const PASSWORD: &str = "a long invited passphrase";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_admin_opens_the_link_sets_a_password_and_signs_in_in_a_browser() {
    let dir = std::env::temp_dir().join(format!("scimd-invite-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (scimd, _) = Scimd::start(&dir, &[]).await;
    let base = format!("http://{}", scimd.address);
    cli(&dir, &["tenant", "create", "contoso"], "").await;
    let invite = [
        "admin",
        "invite",
        "--tenant",
        "contoso",
        "--username",
        "grace",
        "--team-admin",
    ];
    let printed = cli(&dir, &invite, "").await;
    let link = printed
        .split_whitespace()
        .find(|w| w.contains("/admin/invitation/"))
        .unwrap_or_else(|| panic!("no link in {printed}"));
    // the link as printed names the server's address (SCIMD_PUBLIC_URL unset): its path here
    let path = &link[link.find("/admin/invitation/").unwrap()..];

    let (_driver, b) = chromium(1000, 800).await;
    b.goto(&format!("{base}{path}")).await.unwrap();
    let page = text(&b).await;
    assert!(
        page.contains("Set your password") && page.contains("contoso") && page.contains("grace"),
        "{page}"
    );
    fill(&b, "password", PASSWORD).await;
    fill(&b, "confirm", "another long passphrase").await;
    click(&b, "button[type=submit]").await;
    let page = text(&b).await;
    assert!(
        page.contains("Set your password"),
        "refused, asked again: {page}"
    );
    fill(&b, "password", PASSWORD).await;
    fill(&b, "confirm", PASSWORD).await;
    click(&b, "button[type=submit]").await;
    wait_for(&b, "Your password is set").await;

    b.find(Locator::LinkText("the console"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&b, "Sign in").await;
    fill(&b, "tenant", "contoso").await;
    fill(&b, "username", "grace").await;
    fill(&b, "password", PASSWORD).await;
    click(&b, "button[type=submit]").await;
    wait_for(&b, "Overview").await;

    // used: the link says so, and nothing of the tenant
    b.goto(&format!("{base}{path}")).await.unwrap();
    let page = text(&b).await;
    assert!(page.contains("was used or has expired"), "{page}");
    assert!(
        !page.contains("contoso") && !page.contains("grace"),
        "{page}"
    );
    b.close().await.unwrap();
    scimd.kill().await;
    std::fs::remove_dir_all(&dir).ok();
}
