//! Who receives which alert: one e-mail per change of state to each of the tenant's
//! notification addresses and to its team admin who opted in (not to one who did not, and a
//! member cannot opt in), for `degraded`, `credentials_rejected` and the recovery, none for
//! the first record; and every change, signed, to the operator webhook.

use std::time::Duration;

use super::{PROBE, app, check, connected_acme, degrade, reject_credentials, scim};
use crate::support::ports::free_port;
use crate::support::receiver::Receiver;
use crate::support::smtp::{Mail, SmtpSink};
use crate::support::{Backend, TestDb};
use scimd::domain::health::State;
use scimd::domain::notify::{Channel, Delivery};

const SECRET: &str = "alert-webhook-secret-0123456789";
const HEALTH_EVENT: &str = "urn:scimd:event:health:change";

/// The messages of one change: one per recipient, all alike but for the recipient; sorted by
/// recipient.
fn one_change(mails: &[Mail]) -> Vec<String> {
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.rcpt_tos.clone()).collect();
    to.sort();
    for m in mails {
        assert_eq!(m.rcpt_tos.len(), 1, "{m:?}");
        assert_eq!(m.subject, mails[0].subject);
        assert_eq!(m.text, mails[0].text);
        assert_eq!(m.from, "scimd <scimd@scimd.test>");
        assert_eq!(m.content_type, "multipart/alternative");
    }
    to
}

async fn each_change_of_state_is_one_email_to_every_address_and_opted_in_team_admin(
    backend: Backend,
) {
    let sink = SmtpSink::start(free_port());
    let receiver = Receiver::start().await;
    let hook = receiver.url();
    let extra = [
        "--alert-webhook-url",
        hook.as_str(),
        "--alert-webhook-secret",
        SECRET,
    ];
    let app = app(TestDb::new(backend).await, sink.port, &extra).await;
    let dir = &app.state.directory;
    let token = connected_acme(&app).await;
    let addresses = vec!["ops@acme.test".to_owned(), "oncall@acme.test".to_owned()];
    assert_eq!(
        dir.set_notify_addresses("acme", &addresses).await.unwrap(),
        addresses
    );
    let password = "a long enough password 123";
    dir.add_admin("acme", "lead", password, true).await.unwrap();
    dir.add_admin("acme", "deputy", password, true)
        .await
        .unwrap();
    dir.add_admin("acme", "member", password, false)
        .await
        .unwrap();
    dir.set_admin_notify("acme", "lead", Some("lead@acme.test"))
        .await
        .unwrap();
    let refused = dir
        .set_admin_notify("acme", "member", Some("member@acme.test"))
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("only team admins receive alerts"),
        "{refused}"
    );
    assert_eq!(
        dir.admin_notify("acme").await.unwrap(),
        vec![("lead".to_owned(), "lead@acme.test".to_owned())]
    );

    // the first record (healthy) is e-mailed to no one, but goes to the operator webhook
    let first = dir.notify_once().await.unwrap();
    assert_eq!((first.fanned_out, first.sent, first.failed), (1, 1, 0));
    assert!(sink.mails().is_empty(), "{:?}", sink.mails());

    degrade(&app, &token).await;
    let pass = dir.notify_once().await.unwrap();
    assert_eq!((pass.fanned_out, pass.sent, pass.failed), (1, 4, 0));
    let mails = sink.wait_for(3);
    assert_eq!(
        one_change(&mails),
        ["lead@acme.test", "oncall@acme.test", "ops@acme.test"]
    );
    let degraded = &dir.health_history("acme", 1).await.unwrap()[0];
    let m = &mails[0];
    assert_eq!(m.subject, "[scimd] acme: provisioning degraded");
    let since = degraded
        .at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert!(
        m.text.starts_with(&format!(
            "Tenant acme is degraded since {since} (it was healthy).\n"
        )),
        "{since}: {}",
        m.text
    );
    let reason = &degraded.reasons[0];
    assert_eq!((reason.kind.as_str(), reason.count), ("no_role", 60));
    assert!(
        m.text.contains(&format!(
            "- {} (60 times)\n  Fix: {}\n",
            reason.what, reason.fix
        )),
        "{}",
        m.text
    );
    assert!(
        m.text.ends_with("Console: http://scimd.test/admin\n"),
        "{}",
        m.text
    );
    assert!(m.html.contains("(60 times)") && m.html.contains("href=\"http://scimd.test/admin\""));
    // each change is sent once, however often the notifier runs
    dir.notify_once().await.unwrap();
    assert_eq!(sink.mails().len(), 3);

    reject_credentials(&app, &token).await;
    dir.notify_once().await.unwrap();
    let mails = sink.wait_for(6);
    assert_eq!(mails.len(), 6);
    let rejected = &mails[3..];
    assert_eq!(
        one_change(rejected),
        ["lead@acme.test", "oncall@acme.test", "ops@acme.test"]
    );
    assert_eq!(rejected[0].subject, "[scimd] acme: credentials rejected");
    assert!(
        rejected[0].text.contains("(20 times)"),
        "{}",
        rejected[0].text
    );

    // a new token after Entra's cycle gap: healthy again, and a recovery message
    let fresh = dir.issue_token("acme", Some("entra-2")).await.unwrap();
    dir.clock().advance(Duration::from_secs(11 * 60));
    assert_eq!(scim(&app, "GET", PROBE, &fresh.token).await.status, 200);
    assert_eq!(check(&app).await, State::Healthy);
    dir.notify_once().await.unwrap();
    let mails = sink.wait_for(9);
    assert_eq!(mails.len(), 9);
    let recovered = &mails[6..];
    assert_eq!(
        one_change(recovered),
        ["lead@acme.test", "oncall@acme.test", "ops@acme.test"]
    );
    assert_eq!(
        recovered[0].subject,
        "[scimd] acme: provisioning healthy again"
    );
    assert!(
        recovered[0].text.contains("(it was credentials_rejected)")
            && recovered[0].text.contains("nothing to do"),
        "{}",
        recovered[0].text
    );

    // the operator webhook got every change, in order, each a SET signed with its secret
    let received = receiver.received();
    let states: Vec<(serde_json::Value, serde_json::Value)> = received
        .iter()
        .map(|r| {
            assert_eq!(r.header("content-type"), Some("application/secevent+jwt"));
            let claims = r.claims(SECRET);
            assert_eq!(claims["iss"], "http://scimd.test");
            assert_eq!(claims["aud"], hook.as_str());
            assert_eq!(
                claims["sub_id"],
                serde_json::json!({"format": "opaque", "id": "acme"})
            );
            let event = &claims["events"][HEALTH_EVENT];
            assert_eq!(event["tenant"], "acme");
            assert_eq!(event["console"], "http://scimd.test/admin");
            (event["previous"].clone(), event["state"].clone())
        })
        .collect();
    let s = |t: &str| serde_json::Value::from(t);
    assert_eq!(
        states,
        [
            (serde_json::Value::Null, s("healthy")),
            (s("healthy"), s("degraded")),
            (s("degraded"), s("credentials_rejected")),
            (s("credentials_rejected"), s("healthy")),
        ]
    );
    let degraded_set = received[1].claims(SECRET);
    assert_eq!(degraded_set["jti"], degraded.id.to_string());
    assert_eq!(
        degraded_set["events"][HEALTH_EVENT]["reasons"][0]["count"],
        60
    );
    assert!(
        crate::support::receiver::try_verify(&received[1].body, "another-secret-0123456789")
            .is_err(),
        "a SET must not verify with another secret"
    );

    // what the outbox kept: every row sent, none pending
    let rows = dir.notifications("acme", 100).await.unwrap();
    assert_eq!(rows.len(), 3 * 3 + 4);
    assert!(
        rows.iter()
            .all(|r| r.state == Delivery::Sent && r.attempts == 1)
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.channel == Channel::Webhook)
            .count(),
        4
    );
}

crate::on_both_stores!(each_change_of_state_is_one_email_to_every_address_and_opted_in_team_admin);
