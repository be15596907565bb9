//! `scimd setup-link`: the link `create` prints once (on `SCIMD_PUBLIC_URL`) opens its tenant's
//! setup on a server of the same database; `list` shows the links newest first with their
//! state and never a URL; `revoke` closes one, and not another tenant's; a validity out of
//! bounds is refused and makes nothing; the audit trail names the operator.

use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{Backend, TestApp, TestDb};
use scimd::service::setup::SetupAccess;

crate::on_both_stores!(
    setup_link_commands_make_list_and_revoke_links_that_open_their_tenant_s_setup,
);

/// `scimd args` on the database at `url`, reached at https://scim.example.com.
fn scimd(url: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scimd"));
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("SCIMD_")) {
        command.env_remove(name);
    }
    command
        .args(args)
        .env("SCIMD_DATABASE_URL", url)
        .env("SCIMD_PUBLIC_URL", "https://scim.example.com")
        .env("USER", "ops-alice")
        .output()
        .expect("run scimd")
}

#[track_caller]
fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// What the setup page finds with the token of `url`.
async fn access(app: &TestApp, url: &str) -> SetupAccess {
    let token = url
        .strip_prefix("https://scim.example.com/setup/")
        .expect(url);
    let (found, _) = app
        .state
        .directory
        .setup_access(token, false, None)
        .await
        .unwrap();
    found
}

async fn setup_link_commands_make_list_and_revoke_links_that_open_their_tenant_s_setup(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let app = TestApp::on(db.replica()).await;
    succeeded(&scimd(&db.url, &["tenant", "create", "contoso"]));
    succeeded(&scimd(&db.url, &["tenant", "create", "fabrikam"]));
    let create = [
        "setup-link",
        "create",
        "--tenant",
        "contoso",
        "--expires",
        "3d",
        "--json",
    ];
    let first: Value = serde_json::from_str(&succeeded(&scimd(&db.url, &create))).unwrap();
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "url", "expires_at"], "{first}");
    let url = first["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with("https://scim.example.com/setup/scimd_setup_"),
        "{first}"
    );
    let id = first["id"].as_str().unwrap().to_owned();
    match access(&app, &url).await {
        SetupAccess::Open(open) => {
            assert_eq!(open.0.id.to_string(), id);
            assert_eq!(open.1.name, "contoso");
            let days = (open.0.expires - open.0.created).num_hours();
            assert_eq!(days, 72);
        }
        other => panic!("{other:?}"),
    }

    // without --json: a sentence with the expiry, then the URL alone on the last line
    let plain = succeeded(&scimd(&db.url, &create[..4]));
    let second = plain.lines().last().unwrap().trim().to_owned();
    assert!(plain.contains("shown once, valid until"), "{plain}");
    assert!(
        second.starts_with("https://scim.example.com/setup/scimd_setup_"),
        "{plain}"
    );
    assert_ne!(second, url);

    let revoked = succeeded(&scimd(
        &db.url,
        &["setup-link", "revoke", "--tenant", "contoso", &id],
    ));
    assert!(
        revoked.contains(&format!("revoked setup link {id}")),
        "{revoked}"
    );
    assert_eq!(
        access(&app, &url).await,
        SetupAccess::Gone { state: "revoked" }
    );
    assert!(matches!(access(&app, &second).await, SetupAccess::Open(_)));

    let list = ["setup-link", "list", "--tenant", "contoso"];
    let lines = succeeded(&scimd(&db.url, &list));
    let rows: Vec<Vec<&str>> = lines.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 2, "{lines}");
    assert_eq!(rows[1][..2], [id.as_str(), "revoked"], "{lines}");
    assert_eq!(rows[0][1], "active", "{lines}");
    assert!(
        rows[0][3] == "never used" && rows[0][4].ends_with("by cli ops-alice"),
        "{lines}"
    );
    let listed: Value = serde_json::from_str(&succeeded(&scimd(
        &db.url,
        &[&list[..], &["--json"]].concat(),
    )))
    .unwrap();
    let states: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["id"].as_str().unwrap(), l["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states[1], (id.as_str(), "revoked"));
    assert_eq!(states[0].1, "active");
    assert!(!listed.to_string().contains("scimd_setup_"), "{listed}");
    assert!(listed[1]["revoked_at"].is_string(), "{listed}");

    // another tenant's link, and a validity out of bounds: refused, nothing changes
    let foreign = scimd(
        &db.url,
        &["setup-link", "revoke", "--tenant", "fabrikam", states[0].0],
    );
    assert!(!foreign.status.success());
    assert!(
        String::from_utf8_lossy(&foreign.stderr).contains("tenant fabrikam has no setup link"),
        "{foreign:?}"
    );
    assert!(matches!(access(&app, &second).await, SetupAccess::Open(_)));
    let mut too_long = create;
    too_long[5] = "31d";
    let refused = scimd(&db.url, &too_long);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("expires_in"),
        "{refused:?}"
    );
    let count = app
        .state
        .directory
        .setup_links("contoso", None, 100)
        .await
        .unwrap()
        .len();
    assert_eq!(count, 2);

    let entries = app
        .state
        .directory
        .audit(&scimd::domain::audit::AuditFilter {
            tenant: Some("contoso".into()),
            before: None,
            limit: 10,
        })
        .await
        .unwrap();
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.actor.name.as_str()))
        .collect();
    // the revoked link's refused opening is audited under the link itself
    let link = format!("contoso/{id}");
    assert_eq!(
        actions,
        [
            ("setup_link.refused", link.as_str()),
            ("setup_link.revoke", "ops-alice"),
            ("setup_link.create", "ops-alice"),
            ("setup_link.create", "ops-alice"),
            ("tenant.create", "ops-alice"),
        ]
    );
}
