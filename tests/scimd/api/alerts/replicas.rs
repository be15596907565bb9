//! Two replicas on one database running the notifier at once: each change is fanned out once
//! and each message sent once, whichever replica leases it.

use super::{app, connected_acme, degrade};
use crate::support::ports::free_port;
use crate::support::smtp::SmtpSink;
use crate::support::{Backend, TestDb};

async fn two_replicas_notifying_at_once_send_each_message_once(backend: Backend) {
    let sink = SmtpSink::start(free_port());
    let db = TestDb::new(backend).await;
    let replica_db = db.replica();
    let first = app(db, sink.port, &[]).await;
    let second = app(replica_db, sink.port, &[]).await;
    let token = connected_acme(&first).await;
    let addresses: Vec<String> = (0..8).map(|i| format!("ops{i}@acme.test")).collect();
    first
        .state
        .directory
        .set_notify_addresses("acme", &addresses)
        .await
        .unwrap();
    degrade(&first, &token).await;

    let (a, b) = (
        first.state.directory.clone(),
        second.state.directory.clone(),
    );
    let (one, two) = tokio::join!(
        tokio::spawn(async move { a.notify_once().await.unwrap() }),
        tokio::spawn(async move { b.notify_once().await.unwrap() }),
    );
    let (one, two) = (one.unwrap(), two.unwrap());
    assert_eq!(one.sent + two.sent, 8, "{one:?} {two:?}");
    assert_eq!(one.failed + two.failed, 0);
    assert!(one.fanned_out + two.fanned_out >= 1, "{one:?} {two:?}");
    let mails = sink.wait_for(8);
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.rcpt_tos.clone()).collect();
    to.sort();
    let mut expected = addresses.clone();
    expected.sort();
    assert_eq!(to, expected, "each address once");
    // nothing is left for either replica
    assert_eq!(second.state.directory.notify_once().await.unwrap().sent, 0);
    assert_eq!(first.state.directory.notify_once().await.unwrap().sent, 0);
    assert_eq!(sink.mails().len(), 8);
}

crate::on_both_stores!(two_replicas_notifying_at_once_send_each_message_once);
