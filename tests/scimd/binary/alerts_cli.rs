//! `scimd tenant set --notify-email` and `scimd admin notify` as operators run them: addresses
//! set, replaced, shown by `tenant list` and cleared; what is not an address, a list longer than
//! 20 or the same address twice refused with a message and exit status 1, changing nothing; a
//! member (not a team admin) cannot opt in; and `scimd serve` refusing to start with an alert
//! setting that cannot work.

use super::events::Setup;
use crate::support::Backend;

async fn notification_addresses_are_set_listed_cleared_and_bad_ones_refused(backend: Backend) {
    let setup = Setup::new(backend).await;
    setup.ok(&["tenant", "create", "acme"]).await;
    let set = setup
        .ok(&[
            "tenant",
            "set",
            "acme",
            "--notify-email",
            "ops@acme.test",
            "--notify-email",
            "oncall@acme.test",
        ])
        .await;
    assert!(
        set.trim_end()
            .ends_with("; alerts e-mailed to ops@acme.test,oncall@acme.test"),
        "{set}"
    );
    let listed = setup.ok(&["tenant", "list"]).await;
    let acme = listed.lines().find(|l| l.contains("\tacme\t")).unwrap();
    assert!(
        acme.ends_with("; alerts e-mailed to ops@acme.test,oncall@acme.test"),
        "{listed}"
    );

    let mut too_many = vec!["tenant", "set", "acme", "--require-role"];
    let addresses: Vec<String> = (0..21).map(|i| format!("o{i}@acme.test")).collect();
    for a in &addresses {
        too_many.extend(["--notify-email", a.as_str()]);
    }
    let nul = "ops\u{1}@acme.test";
    let refusals: [(Vec<&str>, &str); 4] = [
        (
            vec!["tenant", "set", "acme", "--notify-email", "ops"],
            "'ops' is not an e-mail address",
        ),
        (
            vec!["tenant", "set", "acme", "--notify-email", nul],
            "control character",
        ),
        (
            vec![
                "tenant",
                "set",
                "acme",
                "--notify-email",
                "a@acme.test",
                "--notify-email",
                "A@acme.test",
            ],
            "given twice",
        ),
        (too_many, "at most 20 notification addresses; 21 were given"),
    ];
    for (args, says) in refusals {
        let out = setup.run(&args).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    // nothing changed, not even the rule given with the refused list
    let listed = setup.ok(&["tenant", "list"]).await;
    let acme = listed.lines().find(|l| l.contains("\tacme\t")).unwrap();
    assert!(
        acme.ends_with("; alerts e-mailed to ops@acme.test,oncall@acme.test"),
        "{listed}"
    );
    assert!(!acme.contains("role required"), "{acme}");

    let cleared = setup
        .ok(&["tenant", "set", "acme", "--no-notify-email"])
        .await;
    assert!(
        cleared
            .trim_end()
            .ends_with("; alerts e-mailed to no address"),
        "{cleared}"
    );

    // a member cannot opt in; a team admin can, and out again
    let mut add = setup.command(&["admin", "add", "--tenant", "acme", "--username", "bob"]);
    add.stdin(std::process::Stdio::piped());
    let mut child = add.spawn().unwrap();
    use tokio::io::AsyncWriteExt;
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"a long enough password 1\n")
        .await
        .unwrap();
    drop(stdin);
    assert!(child.wait_with_output().await.unwrap().status.success());
    let notify = ["admin", "notify", "--tenant", "acme", "--username", "bob"];
    let out = setup
        .run(&[&notify[..], &["--email", "bob@acme.test"]].concat())
        .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("only team admins receive alerts"),
        "{stderr}"
    );
    setup
        .ok(&[
            "admin",
            "set",
            "--tenant",
            "acme",
            "--username",
            "bob",
            "--team-admin",
        ])
        .await;
    let on = setup
        .ok(&[&notify[..], &["--email", "bob@acme.test"]].concat())
        .await;
    assert_eq!(
        on.trim(),
        "admin bob of tenant acme: alerts to bob@acme.test"
    );
    let off = setup.ok(&[&notify[..], &["--off"]].concat()).await;
    assert_eq!(off.trim(), "admin bob of tenant acme: no alerts");
}

/// `scimd serve` with `env` must stop at once, saying `says`.
async fn refused_at_start(setup: &Setup, env: &[(&str, &str)], says: &str) {
    let mut serve = setup.command(&["serve", "--listen", "127.0.0.1:0"]);
    serve.envs(env.iter().copied());
    let out = tokio::time::timeout(super::events::WAIT, serve.output())
        .await
        .expect("serve stops")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{env:?}: {stderr}");
    assert!(stderr.contains(says), "{env:?}: {stderr}");
}

async fn serve_refuses_alert_settings_that_cannot_work(backend: Backend) {
    let setup = Setup::new(backend).await;
    let secret = ("SCIMD_ALERT_WEBHOOK_SECRET", "0123456789abcdef-secret");
    let cases: [(Vec<(&str, &str)>, &str); 5] = [
        (
            vec![
                ("SCIMD_ALERT_WEBHOOK_URL", "http://ops.example/alerts"),
                secret,
            ],
            "use https (http only on a loopback address)",
        ),
        (
            vec![("SCIMD_ALERT_WEBHOOK_URL", "https://ops.example/alerts")],
            "SCIMD_ALERT_WEBHOOK_URL needs SCIMD_ALERT_WEBHOOK_SECRET",
        ),
        (
            vec![("SCIMD_SMTP_URL", "smtp://127.0.0.1:2525")],
            "SCIMD_SMTP_URL needs SCIMD_SMTP_FROM",
        ),
        (
            vec![
                ("SCIMD_SMTP_URL", "imap://mail.example"),
                ("SCIMD_SMTP_FROM", "a@b.test"),
            ],
            "SCIMD_SMTP_URL is not an SMTP URL",
        ),
        (
            vec![
                ("SCIMD_SMTP_URL", "smtp://127.0.0.1:2525"),
                ("SCIMD_SMTP_FROM", "scimd"),
            ],
            "SCIMD_SMTP_FROM 'scimd' is not a mailbox",
        ),
    ];
    for (env, says) in cases {
        refused_at_start(&setup, &env, says).await;
    }
}

crate::on_both_stores!(
    notification_addresses_are_set_listed_cleared_and_bad_ones_refused,
    serve_refuses_alert_settings_that_cannot_work,
);
