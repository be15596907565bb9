//! Receivers whose answer never ends (a `Content-Length` of 10 GB, or chunks for ever): a
//! test event and a delivery end as soon as the start of the body is read — the status
//! recorded, only the cut body kept — and scimd stops reading there, closing the connection,
//! so that no receiver can make it hold more than a few KiB.

use std::time::Duration;

use scimd::domain::events::{Kinds, Outcome};
use scimd::service::events::Answer;

use super::{Events, Hook, WAIT};
use crate::support::Backend;
use crate::support::endless::{Endless, Framing};

/// `SCIMD_EVENTS_TIMEOUT`'s default: how long one delivery may take.
const EVENTS_TIMEOUT: Duration = Duration::from_secs(10);

/// The start of an endless body as scimd keeps it: 300 characters and an ellipsis.
fn kept() -> String {
    format!("{}…", "x".repeat(300))
}

/// Subscribes the endless host to tenant `default`'s events.
async fn subscribe(scimd: &Events, host: &Endless) -> Hook {
    let issued = scimd
        .state
        .directory
        .add_webhook("default", &host.url("/events"), Kinds::ALL, false)
        .await
        .unwrap();
    Hook {
        id: issued.subscription.id.to_string(),
        secret: issued.secret,
    }
}

async fn a_webhook_test_answered_200_with_an_endless_body_keeps_only_its_start(backend: Backend) {
    let scimd = Events::start(backend).await;
    let host = Endless::start(200, Framing::Length(10_000_000_000)).await;
    let hook = subscribe(&scimd, &host).await;

    let answer = tokio::time::timeout(EVENTS_TIMEOUT, scimd.state.directory.test_webhook(&hook.id))
        .await
        .expect("the test event ends within the events timeout")
        .unwrap();

    assert_eq!(
        answer,
        Answer {
            status: Some(200),
            body: kept(),
            outcome: Outcome::Delivered,
        }
    );
    let closed = host.closed(1, WAIT).await;
    assert_eq!(closed.len(), 1, "one connection, closed by scimd");
    let s = scimd.webhook(&hook).await;
    assert_eq!((s.delivered, s.failed, s.backlog), (0, 0, 0));
    assert_eq!(s.last_error, None, "a test event records nothing");
}

async fn a_delivery_answered_500_with_an_endless_body_is_recorded_cut_and_retried(
    backend: Backend,
) {
    let scimd = Events::start(backend).await;
    let host = Endless::start(500, Framing::Chunked).await;
    let hook = subscribe(&scimd, &host).await;
    scimd.create_user("endless@example.com").await;

    // the first attempt's connection is closed by scimd once the start of the body is read
    host.closed(1, WAIT).await;
    let error = format!("HTTP 500: {}", kept());
    // the failure is recorded, then the lease released with the time of the retry
    crate::support::receiver::eventually("the failure is recorded", WAIT, async || {
        let s = scimd.webhook(&hook).await;
        s.last_error.as_deref() == Some(error.as_str()) && s.retry_at.is_some()
    })
    .await;
    let s = scimd.webhook(&hook).await;
    assert_eq!((s.delivered, s.failed, s.backlog), (0, 0, 1));
    assert!(
        scimd.failures(&hook).await.is_empty(),
        "neither dropped nor parked"
    );
}

crate::on_both_stores!(
    a_webhook_test_answered_200_with_an_endless_body_keeps_only_its_start,
    a_delivery_answered_500_with_an_endless_body_is_recorded_cut_and_retried,
);
