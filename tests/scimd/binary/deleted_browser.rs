//! The console's Deleted users page in a real browser: a team admin chooses to retain deleted
//! users for 14 days, sees a user Entra deleted listed, restores it with a click, and the user
//! answers SCIM again with its id — against `scimd serve` on SQLite.

use fantoccini::Locator;
use serde_json::Value;

use super::browser::{chromium, cli};
use super::console_browser::{click, fill, text, wait_for};
use crate::support::entra_user;
use crate::support::process::Scimd;

const TOKEN: &str = "deleted-browser-token-0123456789";
const PASSWORD: &str = "correct horse battery staple";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_admin_retains_deleted_users_and_restores_one_in_a_browser() {
    let dir = std::env::temp_dir().join(format!("scimd-deleted-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (scimd, _) = Scimd::start(&dir, &[("SCIMD_BOOTSTRAP_TOKEN", TOKEN)]).await;
    let admin = [
        "admin",
        "add",
        "--tenant",
        "default",
        "--username",
        "ops",
        "--team-admin",
    ];
    cli(&dir, &admin, PASSWORD).await;

    let (_driver, b) = chromium(1100, 900).await;
    let base = format!("http://{}", scimd.address);
    b.goto(&format!("{base}/admin")).await.unwrap();
    fill(&b, "tenant", "default").await;
    fill(&b, "username", "ops").await;
    fill(&b, "password", PASSWORD).await;
    click(&b, "button[type=submit]").await;
    wait_for(&b, "Overview").await;
    b.find(Locator::LinkText("Deleted users"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&b, "When Entra deletes a user").await;
    click(&b, "input[name=on_delete][value=retain]").await;
    fill(&b, "retain_for", "14d").await;
    click(&b, "form[action='/admin/deleted'] button[type=submit]").await;
    wait_for(&b, "A user Entra deletes is retained for 14d").await;

    let created = scimd
        .request(
            "POST",
            "/scim/v2/Users",
            TOKEN,
            &entra_user("ralf@contoso.com").to_string(),
        )
        .await;
    assert_eq!(created.status, 201);
    let id = serde_json::from_str::<Value>(&created.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/scim/v2/Users/{id}");
    assert_eq!(scimd.request("DELETE", &path, TOKEN, "").await.status, 204);
    assert_eq!(scimd.request("GET", &path, TOKEN, "").await.status, 404);

    b.goto(&format!("{base}/admin/deleted")).await.unwrap();
    wait_for(&b, "ralf@contoso.com").await;
    click(
        &b,
        &format!("form[action='/admin/deleted/{id}/restore'] button"),
    )
    .await;
    wait_for(
        &b,
        &format!("ralf@contoso.com is restored, with its id {id}."),
    )
    .await;
    let page = text(&b).await;
    assert!(page.contains("None."), "{page}");
    b.close().await.unwrap();
    let back = scimd.request("GET", &path, TOKEN, "").await;
    assert_eq!(back.status, 200);
    scimd.kill().await;
    std::fs::remove_dir_all(&dir).ok();
}
