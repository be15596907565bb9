//! A mail server that hangs or is down: SCIM requests are answered as fast as ever while the
//! notifier waits on it (sending is a background worker's, with a timeout); each failed attempt
//! is counted and retried with backoff, and delivered once the server is up; past
//! `SCIMD_ALERT_RETRY_FOR` the alert is given up, its last error kept.

use std::time::{Duration, Instant};

use tokio::net::TcpListener;

use super::{PROBE, app, connected_acme, degrade, metric, reject_credentials, scim};
use crate::support::ports::free_port;
use crate::support::smtp::SmtpSink;
use crate::support::{Backend, TestDb};
use scimd::domain::notify::Delivery;

async fn a_mail_server_that_hangs_or_is_down_slows_no_request_and_alerts_are_retried(
    backend: Backend,
) {
    let port = free_port();
    // a server that accepts connections and never says a word
    let hung = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let (accepted_tx, mut accepted) = tokio::sync::mpsc::unbounded_channel();
    let hang = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hung.accept().await {
            held.push(socket);
            let _ = accepted_tx.send(());
        }
    });
    let app = app(
        TestDb::new(backend).await,
        port,
        &["--smtp-timeout", "2s", "--alert-retry-for", "30m"],
    )
    .await;
    let dir = app.state.directory.clone();
    dir.clock().set(dir.now());
    let token = connected_acme(&app).await;
    dir.set_notify_addresses("acme", &["ops@acme.test".to_owned()])
        .await
        .unwrap();
    degrade(&app, &token).await;
    let failed_before = metric(
        &app,
        "scimd_notifications_failed_total",
        &["channel=\"email\""],
    )
    .await;

    let started = Instant::now();
    let notifier = tokio::spawn({
        let dir = dir.clone();
        async move { dir.notify_once().await.unwrap() }
    });
    accepted.recv().await.unwrap();
    for _ in 0..5 {
        let asked = Instant::now();
        assert_eq!(scim(&app, "GET", PROBE, &token).await.status, 200);
        assert!(
            asked.elapsed() < Duration::from_secs(1),
            "{:?}",
            asked.elapsed()
        );
    }
    assert!(
        !notifier.is_finished(),
        "the notifier waits on the mail server meanwhile"
    );
    let pass = notifier.await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((pass.sent, pass.failed, pass.given_up), (0, 1, 0));
    let row = dir.notifications("acme", 10).await.unwrap().remove(0);
    assert_eq!((row.state, row.attempts), (Delivery::Pending, 1));
    assert!(row.next_at > dir.now(), "retried later: {row:?}");
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("SMTP"),
        "{row:?}"
    );
    assert!(
        metric(
            &app,
            "scimd_notifications_failed_total",
            &["channel=\"email\""]
        )
        .await
            >= failed_before + 1.0
    );

    // the server comes up on the same port: nothing is sent before the backoff is over
    hang.abort();
    let _ = hang.await;
    let sink = SmtpSink::start(port);
    let early = dir.notify_once().await.unwrap();
    assert_eq!((early.sent, early.failed), (0, 0));
    let sent_before = metric(
        &app,
        "scimd_notifications_sent_total",
        &["channel=\"email\""],
    )
    .await;
    dir.clock().advance(Duration::from_secs(10 * 60));
    let pass = dir.notify_once().await.unwrap();
    assert_eq!((pass.sent, pass.failed), (1, 0));
    let mails = sink.wait_for(1);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject, "[scimd] acme: provisioning degraded");
    assert_eq!(mails[0].rcpt_tos, ["ops@acme.test"]);
    let row = dir.notifications("acme", 10).await.unwrap().remove(0);
    assert_eq!((row.state, row.attempts), (Delivery::Sent, 2));
    assert!(
        metric(
            &app,
            "scimd_notifications_sent_total",
            &["channel=\"email\""]
        )
        .await
            >= sent_before + 1.0
    );

    // the server goes away for good: retried until SCIMD_ALERT_RETRY_FOR, then given up
    drop(sink);
    reject_credentials(&app, &token).await;
    let given_up_before = metric(
        &app,
        "scimd_notifications_given_up_total",
        &["channel=\"email\""],
    )
    .await;
    let pass = dir.notify_once().await.unwrap();
    assert_eq!((pass.sent, pass.failed, pass.given_up), (0, 1, 0));
    dir.clock().advance(Duration::from_secs(31 * 60));
    let pass = dir.notify_once().await.unwrap();
    assert_eq!((pass.sent, pass.failed, pass.given_up), (0, 1, 1));
    let row = dir.notifications("acme", 10).await.unwrap().remove(0);
    assert_eq!((row.state, row.attempts), (Delivery::GivenUp, 2));
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("SMTP"),
        "{row:?}"
    );
    assert!(
        metric(
            &app,
            "scimd_notifications_given_up_total",
            &["channel=\"email\""]
        )
        .await
            >= given_up_before + 1.0
    );
    // given up is final
    dir.clock().advance(Duration::from_secs(3600));
    assert_eq!(dir.notify_once().await.unwrap().failed, 0);
}

crate::on_both_stores!(a_mail_server_that_hangs_or_is_down_slows_no_request_and_alerts_are_retried);
