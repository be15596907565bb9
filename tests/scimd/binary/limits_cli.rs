//! `scimd tenant set --rate-limit` and `--max-in-flight` as operators run them: the tenant's
//! share set and shown by `tenant list`, cleared with `--no-rate-limit` and
//! `--default-max-in-flight`, and values that are not a rate or a count refused with a message
//! and a failing exit status, changing nothing.

use super::events::Setup;
use crate::support::Backend;

crate::on_both_stores!(a_tenant_s_rate_and_ceiling_are_set_shown_cleared_and_bad_values_refused);

/// The rules `tenant list` shows for `acme`.
async fn acme(setup: &Setup) -> String {
    let listed = setup.ok(&["tenant", "list"]).await;
    listed
        .lines()
        .find(|l| l.contains("\tacme\t"))
        .unwrap_or_else(|| panic!("no acme in {listed}"))
        .to_owned()
}

async fn a_tenant_s_rate_and_ceiling_are_set_shown_cleared_and_bad_values_refused(
    backend: Backend,
) {
    let setup = Setup::new(backend).await;
    setup.ok(&["tenant", "create", "acme"]).await;
    let share = "; rate 200/s; at most 64 requests in flight";
    let flags = ["--rate-limit", "200/s", "--max-in-flight", "64"];
    let set = setup
        .ok(&[
            "tenant", "set", "acme", flags[0], flags[1], flags[2], flags[3],
        ])
        .await;
    assert!(set.contains(share), "{set}");
    assert!(acme(&setup).await.contains(share));

    let refusals: [(&[&str], &str); 5] = [
        (
            &["--rate-limit", "fast"],
            "'fast' is not a rate: use 1/s to 100000/s",
        ),
        (&["--rate-limit", "0/s"], "'0/s' is not a rate"),
        (&["--rate-limit", "200/m"], "'200/m' is not a rate"),
        (&["--max-in-flight", "0"], "--max-in-flight"),
        (
            &["--rate-limit", "5", "--no-rate-limit"],
            "cannot be used with",
        ),
    ];
    for (flags, says) in refusals {
        let mut args = vec!["tenant", "set", "acme", "--require-role"];
        args.extend(flags);
        let out = setup.run(&args).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let line = acme(&setup).await;
    assert!(line.contains(share), "{line}");
    assert!(!line.contains("role required"), "nothing changed: {line}");

    let cleared = setup
        .ok(&[
            "tenant",
            "set",
            "acme",
            "--no-rate-limit",
            "--default-max-in-flight",
        ])
        .await;
    assert!(!cleared.contains("; rate "), "{cleared}");
    assert!(!acme(&setup).await.contains("requests in flight"));
}
