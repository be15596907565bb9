//! The operator webhook's answers: a 503 is a failed attempt, retried after the backoff and
//! counted; a 202 sends it; an RFC 8935 refusal gives the alert up at once, its error kept. No
//! e-mail is configured here: the webhook alone gets every change.

use std::time::Duration;

use super::{check, connected_acme, degrade, metric, reject_credentials};
use crate::support::receiver::{Receiver, Script};
use crate::support::{Backend, METRICS_TOKEN, TOKEN, TestApp, TestDb};
use clap::Parser;
use scimd::domain::notify::{Channel, Delivery};

const SECRET: &str = "alert-webhook-secret-0123456789";

async fn the_operator_webhook_is_retried_on_503_and_given_up_on_a_refusal(backend: Backend) {
    let receiver = Receiver::start().await;
    let hook = receiver.url();
    let db = TestDb::new(backend).await;
    let config = scimd::config::Config::parse_from([
        "scimd",
        "--database-url",
        db.url.as_str(),
        "--bootstrap-token",
        TOKEN,
        "--metrics-token",
        METRICS_TOKEN,
        "--public-url",
        "http://scimd.test",
        "--alert-webhook-url",
        hook.as_str(),
        "--alert-webhook-secret",
        SECRET,
    ]);
    let app = TestApp::configured(db, config).await;
    let dir = app.state.directory.clone();
    dir.clock().set(dir.now());
    receiver.answer(Script::Status(503));
    let failed_before = metric(
        &app,
        "scimd_notifications_failed_total",
        &["channel=\"webhook\""],
    )
    .await;
    let token = connected_acme(&app).await;
    let pass = dir.notify_once().await.unwrap();
    assert_eq!((pass.fanned_out, pass.sent, pass.failed), (1, 0, 1));
    assert!(
        metric(
            &app,
            "scimd_notifications_failed_total",
            &["channel=\"webhook\""]
        )
        .await
            >= failed_before + 1.0
    );
    let row = dir.notifications("acme", 10).await.unwrap().remove(0);
    assert_eq!(
        (row.channel, row.state, row.attempts),
        (Channel::Webhook, Delivery::Pending, 1)
    );
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("HTTP 503"),
        "{row:?}"
    );
    // not before its backoff
    receiver.answer(Script::Status(202));
    assert_eq!(dir.notify_once().await.unwrap().sent, 0);
    dir.clock().advance(Duration::from_secs(60));
    assert_eq!(dir.notify_once().await.unwrap().sent, 1);
    assert_eq!(
        receiver.received().len(),
        2,
        "one failed attempt, one delivery"
    );
    let jtis: Vec<String> = receiver.received().iter().map(|r| r.jti()).collect();
    assert_eq!(jtis[0], jtis[1], "a retry is the same SET");

    receiver.answer(Script::Refuse {
        err: "invalid_request".into(),
        description: "not for us".into(),
    });
    degrade(&app, &token).await;
    let pass = dir.notify_once().await.unwrap();
    assert_eq!((pass.sent, pass.failed, pass.given_up), (0, 1, 1));
    let row = dir.notifications("acme", 10).await.unwrap().remove(0);
    assert_eq!((row.state, row.attempts), (Delivery::GivenUp, 1));
    assert_eq!(
        row.last_error.as_deref(),
        Some("the webhook refused the alert: invalid_request: not for us")
    );
    receiver.answer(Script::Status(202));
    reject_credentials(&app, &token).await;
    assert_eq!(
        check(&app).await,
        scimd::domain::health::State::CredentialsRejected
    );
    assert_eq!(dir.notify_once().await.unwrap().sent, 1);
}

crate::on_both_stores!(the_operator_webhook_is_retried_on_503_and_given_up_on_a_refusal);
