//! The setup page in a real browser: headless Chromium opens the setup link a first start of
//! `scimd serve` prints, keeps Entra (the default), generates the Secret Token, and — while
//! Entra's Test Connection probe and then its first users arrive with that token — sees the
//! steps turn done without anyone reloading the page (the page's own script), the token still
//! on screen, and the refusals grouped by cause with their fix. The same at phone width, and
//! Okta's steps in Okta's words. Screenshots are written for the book
//! (`docs/src/screenshots/setup-*.png` are copies).

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::json;

use super::browser::chromium;
use super::console_browser::{click, text, wait_for};
use crate::support::process::Scimd;
use crate::support::{Backend, TestDb, encode, entra_user};

async fn a_customers_admin_connects_entra_on_the_setup_page_and_watches_it_happen(
    backend: Backend,
) {
    let (dir, db, scimd, link) = first_start(backend).await;
    let require_role = ["tenant", "set", "default", "--require-role"];
    let _ = cli_on(&dir, &db, &require_role).await;

    let (_driver, b) = chromium(1100, 900).await;
    b.goto(&link).await.unwrap();
    wait_for(&b, "Set up provisioning").await;
    let page = text(&b).await;
    assert!(
        page.contains(&format!("http://{}/scim/v2", scimd.address)),
        "{page}"
    );
    assert_eq!(class(&b, "step-test-connection").await, "step waiting");
    let tab = b
        .find(Locator::Css("nav.tabs a[aria-current=page]"))
        .await
        .unwrap();
    assert_eq!(tab.text().await.unwrap(), "Microsoft Entra ID");
    assert!(page.contains("click Test Connection"), "{page}");
    let authorize = format!("Authorization URL http://{}/oauth/authorize", scimd.address);
    assert!(page.contains(&authorize), "{page}");
    shot(&b, "setup-entra-start.png").await;

    click(&b, "#generate-token").await;
    wait_for(&b, "copy it now").await;
    let token = b
        .find(Locator::Id("secret-token"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(token.starts_with("scimd_"), "{token}");

    // Entra's Test Connection: a lookup of a random userName
    let probe = format!(
        "/scim/v2/Users?filter={}",
        encode(&format!("userName eq \"{}\"", uuid::Uuid::new_v4()))
    );
    assert_eq!(scimd.request("GET", &probe, &token, "").await.status, 200);
    wait_class(&b, "step-test-connection", "step done").await;
    let still = b
        .find(Locator::Id("secret-token"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        still, token,
        "the token shown once is still on screen: nothing reloaded the page"
    );
    shot_at(&b, "progress", "setup-entra-connected.png").await;

    // the initial cycle: users with a role, users with Default Access (no role), a repeat
    let with_role = |name: &str| {
        let mut u = entra_user(name);
        u["externalId"] = json!(name);
        u["roles"] = json!([{"value": "member", "primary": true}]);
        u
    };
    for name in ["ada@contoso.test", "grace@contoso.test"] {
        let r = scimd
            .request(
                "POST",
                "/scim/v2/Users",
                &token,
                &with_role(name).to_string(),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    for name in [
        "no.role.1@contoso.test",
        "no.role.2@contoso.test",
        "no.role.3@contoso.test",
    ] {
        let mut u = entra_user(name);
        u["externalId"] = json!(name);
        let r = scimd
            .request("POST", "/scim/v2/Users", &token, &u.to_string())
            .await;
        assert_eq!(r.status, 400, "{}", r.body);
    }
    let again = with_role("ada@contoso.test").to_string();
    assert_eq!(
        scimd
            .request("POST", "/scim/v2/Users", &token, &again)
            .await
            .status,
        409
    );
    wait_class(&b, "step-first-user", "step done").await;
    wait_for(&b, "3 users have no role (Default Access)").await;
    let problems = b
        .find(Locator::Id("problems"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(problems.contains("Select a role"), "{problems}");
    assert!(
        problems.contains("the matching attribute userName repeats: 1 user shares"),
        "{problems}"
    );
    let step = b
        .find(Locator::Id("step-first-cycle"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        step.contains("So far: 2 created, 0 updated, 0 disabled, 0 deleted, 4 refused"),
        "{step}"
    );
    shot_at(&b, "progress", "setup-entra-refusals.png").await;

    b.set_window_size(412, 860).await.unwrap();
    b.refresh().await.unwrap();
    wait_for(&b, "Set up provisioning").await;
    let widths = "return [document.documentElement.scrollWidth, window.innerWidth]";
    let widths = b.execute(widths, vec![]).await.unwrap();
    assert!(
        widths[0].as_u64() <= widths[1].as_u64(),
        "sideways at phone width: {widths}"
    );
    shot(&b, "setup-entra-phone.png").await;

    b.find(Locator::LinkText("Okta"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&b, "Connect Okta").await;
    let okta = text(&b).await;
    assert!(okta.contains("SCIM connector base URL"), "{okta}");
    assert!(okta.contains("Okta's SCIM connector base URL"), "{okta}");
    assert!(!okta.contains("Or: Authorize"), "Authorize is Entra's");
    shot(&b, "setup-okta-phone.png").await;
    b.set_window_size(1100, 900).await.unwrap();
    shot_at(&b, "steps", "setup-okta.png").await;

    b.close().await.unwrap();
    scimd.kill().await;
    std::fs::remove_dir_all(&dir).ok();
}

/// Okta's create body (its "SCIM 2.0 protocol reference", "Create the User"), with the
/// password Okta adds when Sync Password is on.
fn okta_user(user_name: &str, password: Option<&str>) -> serde_json::Value {
    let mut body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Okta", "familyName": "User"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Okta User",
        "locale": "en-US",
        "externalId": format!("00u{}", user_name.len()),
        "groups": [],
        "active": true
    });
    if let Some(password) = password {
        body["password"] = json!(password);
    }
    body
}

async fn an_okta_admin_connects_on_the_setup_page_and_learns_to_turn_off_sync_password(
    backend: Backend,
) {
    let (dir, _db, scimd, link) = first_start(backend).await;
    let (_driver, b) = chromium(1100, 900).await;
    b.goto(&format!("{link}?idp=okta")).await.unwrap();
    wait_for(&b, "Connect Okta").await;
    assert!(text(&b).await.contains("Test Connector Configuration"));
    click(&b, "#generate-token").await;
    wait_for(&b, "copy it now").await;
    let token = b
        .find(Locator::Id("secret-token"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let tab = b
        .find(Locator::Css("nav.tabs a[aria-current=page]"))
        .await
        .unwrap();
    assert_eq!(
        tab.text().await.unwrap(),
        "Okta",
        "the provider stays chosen"
    );

    // Okta's Test Connector Configuration, then its lookup and create of each person
    let lookup = |name: &str| {
        format!(
            "/scim/v2/Users?filter={}&startIndex=1&count=100",
            encode(&format!("userName eq \"{name}\""))
        )
    };
    assert_eq!(
        scimd
            .request("GET", &lookup("probe@okta.test"), &token, "")
            .await
            .status,
        200
    );
    wait_class(&b, "step-test-connection", "step done").await;
    let step = b
        .find(Locator::Id("step-first-user"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        step.contains("Provisioning > To App"),
        "Okta's words: {step}"
    );

    let made = scimd
        .request(
            "POST",
            "/scim/v2/Users",
            &token,
            &okta_user("kim@okta.test", None).to_string(),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let id = serde_json::from_str::<serde_json::Value>(&made.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for name in ["lee@okta.test", "max@okta.test"] {
        let with_password = okta_user(name, Some("Sync-Password-1")).to_string();
        let refused = scimd
            .request("POST", "/scim/v2/Users", &token, &with_password)
            .await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert!(
            refused.body.contains("turn off Sync Password"),
            "{}",
            refused.body
        );
        assert!(!refused.body.contains("Sync-Password-1"), "never echoed");
    }
    // Okta deactivates by PATCH, never DELETE
    let deactivate = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]});
    let patched = scimd
        .request(
            "PATCH",
            &format!("/scim/v2/Users/{id}"),
            &token,
            &deactivate.to_string(),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    wait_class(&b, "step-first-user", "step done").await;
    wait_for(
        &b,
        "2 users carry a password, which the application does not keep",
    )
    .await;
    let problems = b
        .find(Locator::Id("problems"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(problems.contains("turn off Sync Password"), "{problems}");
    let step = b
        .find(Locator::Id("step-first-cycle"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        step.contains("So far: 1 created, 0 updated, 1 disabled, 0 deleted, 2 refused"),
        "{step}"
    );
    shot_at(&b, "progress", "setup-okta-refusals.png").await;
    b.close().await.unwrap();
    scimd.kill().await;
    std::fs::remove_dir_all(&dir).ok();
}

/// `scimd serve` started for the first time on a database of its own, and the setup link it
/// printed.
async fn first_start(backend: Backend) -> (std::path::PathBuf, TestDb, Scimd, String) {
    let dir = std::env::temp_dir().join(format!("scimd-setup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = TestDb::new(backend).await;
    let env = [("SCIMD_DATABASE_URL", db.url.as_str())];
    let (scimd, printed) = Scimd::start(&dir, &env).await;
    let link = printed
        .iter()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Setup link:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("a first start prints a setup link: {printed:?}"));
    (dir, db, scimd, link)
}

/// `scimd <args>` against the test's database.
async fn cli_on(dir: &std::path::Path, db: &TestDb, args: &[&str]) -> String {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(args)
        .current_dir(dir)
        .env("SCIMD_DATABASE_URL", &db.url)
        .env("SCIMD_LOG", "warn")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "scimd {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

async fn class(b: &Client, id: &str) -> String {
    b.find(Locator::Id(id))
        .await
        .unwrap()
        .attr("class")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Waits until the element `id` has exactly `class`, without navigating: the page's script
/// refreshes its progress every few seconds.
async fn wait_class(b: &Client, id: &str, wanted: &str) {
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Ok(e) = b.find(Locator::Id(id)).await {
                if e.attr("class").await.ok().flatten().as_deref() == Some(wanted) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(
        found.is_ok(),
        "#{id} never became '{wanted}': {}",
        text(b).await
    );
}

/// A screenshot of the page scrolled to the element `at` (the book's copies are of these).
async fn shot_at(b: &Client, at: &str, name: &str) {
    let scroll = format!("document.getElementById('{at}').scrollIntoView()");
    b.execute(&scroll, vec![]).await.unwrap();
    shot(b, name).await;
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

crate::on_both_stores!(
    a_customers_admin_connects_entra_on_the_setup_page_and_watches_it_happen,
    an_okta_admin_connects_on_the_setup_page_and_learns_to_turn_off_sync_password,
);
