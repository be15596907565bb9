//! The command line: what `scimd serve --help` shows, and what it must not.

use std::process::Command;

#[test]
fn help_shows_the_settings_but_not_the_secrets_in_their_variables() {
    let output = Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(["serve", "--help"])
        .env(
            "SCIMD_DATABASE_URL",
            "postgres://scimd:hunter2-secret@db:5432/scimd",
        )
        .env("SCIMD_BOOTSTRAP_TOKEN", "bootstrap-secret-0123456789")
        .output()
        .expect("run scimd serve --help");
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(help.contains("SCIMD_DATABASE_URL"), "{help}");
    assert!(help.contains("SCIMD_BOOTSTRAP_TOKEN"), "{help}");
    assert!(!help.contains("hunter2-secret"), "{help}");
    assert!(!help.contains("bootstrap-secret"), "{help}");
}
