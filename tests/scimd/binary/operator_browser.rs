//! The operator page in a real browser: headless Chromium signs operator account olivia (made
//! with `scimd operator-account add`) in to `scimd serve`, whose health loop has checked three
//! tenants — one degraded by refused creates, one whose token was revoked, one never connected —
//! and sees them worst first with their reasons and charts, sorts by a column's header both
//! ways, and at phone width reads the table without scrolling sideways. A screenshot is written
//! for the book (`docs/src/screenshots/operator-health.png` is a copy).

use std::process::{Output, Stdio};
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::browser::chromium;
use super::console_browser::{click, text, wait_for};
use crate::support::process::Scimd;
use crate::support::{Backend, TestDb, entra_user};

const PASSWORD: &str = "correct horse battery staple";
const PROBE: &str = "/scim/v2/Users?filter=userName%20eq%20%22nobody%22";

/// `scimd args` on `db`, `stdin` on its input; it must succeed.
async fn cli(dir: &std::path::Path, db: &TestDb, args: &[&str], stdin: &str) -> Output {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(args)
        .current_dir(dir)
        .env("SCIMD_DATABASE_URL", &db.url)
        .env("SCIMD_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success(), "scimd {args:?}: {out:?}");
    out
}

/// A tenant and its token: the token, and its id (as `scimd token issue` tells it).
async fn tenant(dir: &std::path::Path, db: &TestDb, name: &str) -> (String, String) {
    cli(dir, db, &["tenant", "create", name], "").await;
    let issued = cli(dir, db, &["token", "issue", "--tenant", name], "").await;
    let token = String::from_utf8(issued.stdout).unwrap().trim().to_owned();
    let told = String::from_utf8(issued.stderr).unwrap();
    let id = told.split_whitespace().nth(2).unwrap().to_owned();
    (token, id)
}

/// The tenants of the table, in their order.
async fn order(b: &Client) -> Vec<String> {
    let mut names = Vec::new();
    for row in b.find_all(Locator::Css("tr.tenant-row")).await.unwrap() {
        names.push(row.attr("data-tenant").await.unwrap().unwrap());
    }
    names
}

async fn a_support_engineer_signs_in_sees_who_needs_a_call_and_sorts_the_tenants(backend: Backend) {
    let dir =
        std::env::temp_dir().join(format!("scimd-operator-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = TestDb::new(backend).await;
    let env = [
        ("SCIMD_DATABASE_URL", db.url.as_str()),
        ("SCIMD_HEALTH_INTERVAL", "1s"),
    ];
    let (scimd, _) = Scimd::start(&dir, &env).await;
    let added = cli(&dir, &db, &["operator-account", "add", "olivia"], PASSWORD).await;
    assert_eq!(
        String::from_utf8(added.stdout).unwrap(),
        "added operator account olivia\n"
    );

    let (contoso, _) = tenant(&dir, &db, "contoso").await;
    cli(
        &dir,
        &db,
        &["tenant", "set", "contoso", "--require-role"],
        "",
    )
    .await;
    assert_eq!(scimd.request("GET", PROBE, &contoso, "").await.status, 200);
    for i in 0..70 {
        let mut user = entra_user(&format!("u{i}@contoso.test"));
        if i < 10 {
            user["roles"] = json!([{"value": "member"}]);
        }
        let r = scimd
            .request("POST", "/scim/v2/Users", &contoso, &user.to_string())
            .await;
        assert_eq!(r.status, if i < 10 { 201 } else { 400 }, "{}", r.body);
    }
    let (fabrikam, id) = tenant(&dir, &db, "fabrikam").await;
    for i in 0..4 {
        let user = entra_user(&format!("f{i}@fabrikam.test")).to_string();
        let r = scimd
            .request("POST", "/scim/v2/Users", &fabrikam, &user)
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    cli(&dir, &db, &["token", "revoke", &id], "").await;
    // the server hears of the revocation at once on SQLite, within moments on PostgreSQL
    // (its token cache is told over LISTEN/NOTIFY): the first refusal, then 19 more
    let refused = tokio::time::timeout(Duration::from_secs(10), async {
        while scimd.request("GET", PROBE, &fabrikam, "").await.status != 401 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(
        refused.is_ok(),
        "the revoked token was still accepted after 10 s"
    );
    for _ in 0..19 {
        assert_eq!(scimd.request("GET", PROBE, &fabrikam, "").await.status, 401);
    }
    cli(&dir, &db, &["tenant", "create", "northwind"], "").await;

    let (_driver, b) = chromium(1100, 900).await;
    b.goto(&format!("http://{}/operator", scimd.address))
        .await
        .unwrap();
    wait_for(&b, "scimd operator page").await;
    b.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys("olivia")
        .await
        .unwrap();
    b.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    click(&b, "button[type=submit]").await;
    wait_for(&b, "Tenants' health").await;
    // the health loop checks every second; the page has no script: reload until it has
    let summary = "4 tenants: 1 credentials rejected, 0 at risk, 0 silent, 1 degraded";
    let checked = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if text(&b).await.contains(summary) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            b.refresh().await.unwrap();
        }
    })
    .await;
    assert!(checked.is_ok(), "{}", text(&b).await);
    // worst first, then by name (the bootstrap tenant `default` and northwind never connected)
    assert_eq!(
        order(&b).await,
        ["fabrikam", "contoso", "default", "northwind"]
    );
    let page = text(&b).await;
    assert!(page.contains("60 users have no role"), "{page}");
    assert!(page.contains("10 created, 0 updated, 60 refused"), "{page}");
    assert!(page.contains("4 created, 0 updated"), "{page}");
    let bar = b
        .find(Locator::Css(
            "tr[data-tenant=contoso] svg rect.refused title",
        ))
        .await
        .unwrap()
        .html(true)
        .await
        .unwrap();
    assert!(bar.ends_with(": 60 refused"), "{bar}");
    shot(&b, "operator-health.png").await;

    click(&b, "th a[href='/operator?sort=tenant&order=asc']").await;
    wait_for(&b, "Tenant ↑").await;
    assert_eq!(
        order(&b).await,
        ["contoso", "default", "fabrikam", "northwind"]
    );
    click(&b, "th a[href='/operator?sort=tenant&order=desc']").await;
    wait_for(&b, "Tenant ↓").await;
    assert_eq!(
        order(&b).await,
        ["northwind", "fabrikam", "default", "contoso"]
    );

    b.set_window_size(412, 860).await.unwrap();
    b.goto(&format!("http://{}/operator", scimd.address))
        .await
        .unwrap();
    wait_for(&b, summary).await;
    let widths = "return [document.documentElement.scrollWidth, window.innerWidth]";
    let widths = b.execute(widths, vec![]).await.unwrap();
    assert!(
        widths[0].as_u64() <= widths[1].as_u64(),
        "sideways at phone width: {widths}"
    );
    // the sort links stay at hand when the headers fold away
    click(&b, "nav.sorts a[href='/operator?sort=refusals&order=desc']").await;
    wait_for(&b, "Refusals ↓").await;
    assert_eq!(order(&b).await[0], "contoso");
    shot(&b, "operator-health-phone.png").await;
    scimd.kill().await;
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

crate::on_both_stores!(a_support_engineer_signs_in_sees_who_needs_a_call_and_sorts_the_tenants);
