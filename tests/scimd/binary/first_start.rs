//! The embedded default: `scimd` with no configuration at all serves SCIM on a SQLite file,
//! prints the Entra connection details once, and reuses file and token on the next start.

use crate::support::process::Scimd;

#[tokio::test]
async fn a_first_start_without_configuration_prints_the_connection_details_once() {
    let dir = std::env::temp_dir().join(format!(
        "scimd-first-start-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();

    let (first, printed) = Scimd::start(&dir, &[]).await;
    let value = |label: &str| {
        printed
            .iter()
            .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("scimd printed no {label} {printed:?}"))
    };
    let token = value("Secret Token:");
    assert_eq!(
        value("Tenant URL:"),
        format!("http://{}/scim/v2", first.address)
    );
    assert!(token.starts_with("scimd_"), "{token}");
    let users = first.request("GET", "/scim/v2/Users", &token, "").await;
    assert_eq!(users.status, 200, "{}", users.body);
    // the newcomer's first click: the guided setup page of tenant default
    let link = value("Setup link:");
    let setup = link
        .strip_prefix(&format!("http://{}", first.address))
        .unwrap_or_else(|| panic!("a link to this scimd: {link}"));
    assert!(setup.starts_with("/setup/scimd_setup_"), "{setup}");
    let page = first.request("GET", setup, "", "").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(&format!(
            "<code id=\"tenant-url\">http://{}/scim/v2</code>",
            first.address
        )),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("id=\"step-test-connection\" class=\"step done\""),
        "the request above was the first with the tenant's token: {}",
        page.body
    );
    assert!(
        printed
            .iter()
            .any(|l| l.contains(&format!("The console is at http://{}/admin", first.address))),
        "{printed:?}"
    );
    // token hashes and personal data: readable by the owner only, WAL included
    for file in ["scimd.db", "scimd.db-wal"] {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.join(file)).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
    }
    first.kill().await;
    assert!(
        dir.join("scimd.db").is_file(),
        "the store is scimd.db in the working directory"
    );

    let (second, printed) = Scimd::start(&dir, &[]).await;
    let users = second.request("GET", "/scim/v2/Users", &token, "").await;
    assert_eq!(users.status, 200, "the same token works again");
    let after = second.kill().await;
    assert!(
        !printed
            .iter()
            .chain(&after)
            .any(|l| l.contains("Secret Token") || l.contains("Setup link")),
        "shown once: {printed:?} {after:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
