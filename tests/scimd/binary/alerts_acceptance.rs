//! Issue 25's acceptance, with the real binary, a real SMTP server and the default check
//! interval: with `SCIMD_SMTP_URL` and a notification address set, 60 refused and 10 accepted
//! creates put the tenant in `degraded` in `scimd health --tenant T --json`, and a message
//! naming the tenant and the top refusal reaches the address within 60 s; 20 requests with a
//! revoked token put it in `credentials_rejected`, with a second message.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::events::Setup;
use crate::api::health::PROBE;
use crate::support::ports::free_port;
use crate::support::process::Scimd;
use crate::support::smtp::{Mail, SmtpSink};
use crate::support::{Backend, entra_user};

crate::on_both_stores!(refused_creates_and_a_revoked_token_each_mail_the_tenant_s_address);

/// The tenant's health as `scimd health --tenant acme --json` prints it.
async fn health(setup: &Setup) -> Value {
    let printed = setup.ok(&["health", "--tenant", "acme", "--json"]).await;
    serde_json::from_str(printed.trim()).expect(&printed)
}

/// The messages to `to`, once there are `count` of them (at most 60 s: the done-when).
async fn mails_to(sink: &SmtpSink, to: &str, count: usize) -> Vec<Mail> {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let mails: Vec<Mail> = sink
            .mails()
            .into_iter()
            .filter(|m| m.rcpt_tos.iter().any(|r| r == to))
            .collect();
        if mails.len() >= count || Instant::now() > until {
            return mails;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn create(server: &Scimd, token: &str, i: usize, role: bool) -> u16 {
    let mut user = entra_user(&format!("u{i}@acme.test"));
    user["externalId"] = json!(format!("u{i}"));
    if role {
        user["roles"] = json!([{"value": "member"}]);
    }
    let body = user.to_string();
    server
        .request("POST", "/scim/v2/Users", token, &body)
        .await
        .status
}

async fn refused_creates_and_a_revoked_token_each_mail_the_tenant_s_address(backend: Backend) {
    let sink = SmtpSink::start(free_port());
    let setup = Setup::new(backend).await;
    setup.ok(&["tenant", "create", "acme"]).await;
    let set = ["tenant", "set", "acme", "--require-role"];
    setup.ok(&set).await;
    let notify = ["tenant", "set", "acme", "--notify-email", "ops@acme.test"];
    setup.ok(&notify).await;
    let issued = setup.run(&["token", "issue", "--tenant", "acme"]).await;
    assert!(issued.status.success(), "{issued:?}");
    let token = String::from_utf8(issued.stdout).unwrap().trim().to_owned();
    let told = String::from_utf8(issued.stderr).unwrap();
    let id = told.split_whitespace().nth(2).expect(&told).to_owned();
    let smtp = format!("smtp://127.0.0.1:{}", sink.port);
    let server = setup
        .serve(&[
            ("SCIMD_SMTP_URL", smtp.as_str()),
            ("SCIMD_SMTP_FROM", "scimd@app.test"),
        ])
        .await;

    assert_eq!(server.request("GET", PROBE, &token, "").await.status, 200);
    for i in 0..70 {
        let status = create(&server, &token, i, i < 10).await;
        assert_eq!(status, if i < 10 { 201 } else { 400 });
    }
    let degraded = health(&setup).await;
    assert_eq!(degraded["state"], "degraded", "{degraded}");
    assert_eq!(degraded["reasons"][0]["kind"], "no_role", "{degraded}");
    assert_eq!(degraded["reasons"][0]["count"], 60, "{degraded}");

    let first = mails_to(&sink, "ops@acme.test", 1).await;
    assert_eq!(first.len(), 1, "one message within 60 s: {first:?}");
    assert_eq!(first[0].subject, "[scimd] acme: provisioning degraded");
    assert_eq!(first[0].from, "scimd@app.test");
    assert!(
        first[0].text.contains("60 users have no role"),
        "{}",
        first[0].text
    );
    assert!(
        first[0].html.contains("60 users have no role"),
        "{}",
        first[0].html
    );

    setup.ok(&["token", "revoke", &id]).await;
    // the server hears of it at once on SQLite, within moments on PostgreSQL (LISTEN/NOTIFY)
    let until = Instant::now() + Duration::from_secs(10);
    while server.request("GET", PROBE, &token, "").await.status != 401 {
        assert!(
            Instant::now() < until,
            "the revoked token was still accepted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..19 {
        assert_eq!(server.request("GET", PROBE, &token, "").await.status, 401);
    }
    let rejected = health(&setup).await;
    assert_eq!(rejected["state"], "credentials_rejected", "{rejected}");
    assert_eq!(rejected["reasons"][0]["count"], 20, "{rejected}");

    let both = mails_to(&sink, "ops@acme.test", 2).await;
    assert_eq!(both.len(), 2, "a second message within 60 s: {both:?}");
    assert_eq!(both[1].subject, "[scimd] acme: credentials rejected");
    assert!(
        both[1]
            .text
            .contains("20 requests were refused as not authenticated"),
        "{}",
        both[1].text
    );
}
