//! `scimd operator-account …` as an operator runs it on a database: an account added with a
//! password read from standard input signs in to the operator page of a server on the same
//! database, `list` shows names and dates (never a password), `password` ends the account's
//! sessions, `remove` ends them and the account; each change is in the audit trail; `scimd
//! --help` lists the command under its task.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::support::{Backend, TestApp, TestDb};
use scimd::domain::audit::AuditFilter;

crate::on_both_stores!(an_operator_account_made_by_the_command_signs_in_until_it_is_removed);

const PASSWORD: &str = "correct horse battery staple";

/// `scimd args` on the database at `url` as the operator `ops-alice`, `stdin` on its input.
fn scimd(url: &str, args: &[&str], stdin: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scimd"));
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("SCIMD_")) {
        command.env_remove(name);
    }
    let mut child = command
        .args(args)
        .env("SCIMD_DATABASE_URL", url)
        .env("USER", "ops-alice")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run scimd");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().expect("scimd's output")
}

#[track_caller]
fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[track_caller]
fn failed(output: &Output) -> String {
    assert!(!output.status.success(), "{output:?}");
    String::from_utf8(output.stderr.clone()).unwrap()
}

async fn an_operator_account_made_by_the_command_signs_in_until_it_is_removed(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::on(db.replica()).await;
    let dir = &app.state.directory;
    let url = &db.url;
    let added = succeeded(&scimd(
        url,
        &["operator-account", "add", "olivia"],
        &format!("{PASSWORD}\n"),
    ));
    assert_eq!(added, "added operator account olivia\n");
    let short = failed(&scimd(
        url,
        &["operator-account", "add", "oscar"],
        "too short\n",
    ));
    assert!(
        short.contains("password: use at least 12 characters"),
        "{short}"
    );
    let taken = failed(&scimd(
        url,
        &["operator-account", "add", "OLIVIA"],
        &format!("{PASSWORD}\n"),
    ));
    assert!(
        taken.contains("an operator account is already called 'OLIVIA'"),
        "{taken}"
    );

    let list = succeeded(&scimd(url, &["operator-account", "list", "--json"], ""));
    let accounts: Vec<Value> = list
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(accounts.len(), 1, "{list}");
    assert_eq!(accounts[0]["username"], "olivia");
    assert!(accounts[0]["id"].is_string() && accounts[0]["created"].is_string());
    assert!(!list.contains("argon2"), "never a password hash: {list}");
    let plain = succeeded(&scimd(url, &["operator-account", "list"], ""));
    assert!(plain.starts_with("olivia\t"), "{plain}");

    let token = dir
        .operator_sign_in("Olivia", PASSWORD, None)
        .await
        .ok()
        .unwrap();
    assert!(dir.operator_session(&token).await.unwrap().is_some());
    let changed = succeeded(&scimd(
        url,
        &["operator-account", "password", "olivia"],
        "another long passphrase\n",
    ));
    assert_eq!(
        changed,
        "set the password of operator account olivia; its sessions ended\n"
    );
    assert!(dir.operator_session(&token).await.unwrap().is_none());
    let token = dir
        .operator_sign_in("olivia", "another long passphrase", None)
        .await
        .ok()
        .unwrap();
    let removed = succeeded(&scimd(url, &["operator-account", "remove", "olivia"], ""));
    assert_eq!(
        removed,
        "removed operator account olivia; its sessions ended\n"
    );
    assert!(dir.operator_session(&token).await.unwrap().is_none());
    assert_eq!(
        succeeded(&scimd(url, &["operator-account", "list"], "")),
        ""
    );
    let gone = failed(&scimd(url, &["operator-account", "remove", "olivia"], ""));
    assert!(
        gone.contains("no operator account called 'olivia'"),
        "{gone}"
    );

    let trail: Vec<String> = dir
        .audit(&AuditFilter {
            limit: 20,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("operator_account."))
        .map(|e| {
            format!(
                "{} {} {} {}",
                e.actor.kind.as_str(),
                e.actor.name,
                e.action,
                e.target.unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        trail,
        [
            "cli ops-alice operator_account.remove olivia",
            "operator_account olivia operator_account.sign_in olivia",
            "cli ops-alice operator_account.password olivia",
            "operator_account olivia operator_account.sign_in olivia",
            "cli ops-alice operator_account.add olivia",
        ]
    );

    let help = succeeded(&scimd(url, &["--help"], ""));
    let task = help.find("Watching every tenant:").expect("the task");
    assert!(
        help[task..].contains("operator-account  Manage operator accounts, the application's team at the operator page"),
        "{help}"
    );
}
