//! Delivery against receivers that fail: a failing receiver holds its queue in order and gets
//! it all once it recovers; `Retry-After` is honoured; an RFC 8935 refusal is dropped, not
//! retried; an event failing for longer than `SCIMD_EVENTS_RETRY_FOR` is parked (and queued
//! again on request) while the next ones flow; a receiver that hangs holds up neither another
//! subscription nor the SCIM requests.

use std::time::{Duration, Instant};

use scimd::domain::events::Kinds;

use super::{Events, Hook, WAIT};
use crate::support::Backend;
use crate::support::receiver::{Received, Receiver, Script, delivered, eventually};

/// The resource id the SET of `r` is about, verified with `hook`'s secret.
fn subject(r: &Received, hook: &Hook) -> String {
    r.claims(&hook.secret)["sub_id"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_receiver_answering_503_gets_every_queued_event_in_order_once_it_answers_202(
    backend: Backend,
) {
    let scimd = Events::start(backend).await;
    let receiver = Receiver::start().await;
    receiver.answer(Script::Status(503));
    let hook = scimd.subscribe(&receiver, Kinds::ALL, false).await;
    let mut ids = Vec::new();
    for name in ["u1@example.com", "u2@example.com", "u3@example.com"] {
        ids.push(scimd.create_user(name).await.0);
    }
    let failing = receiver.wait_for(2, WAIT).await;
    let head = failing[0].jti();
    assert_eq!(subject(&failing[0], &hook), ids[0]);
    eventually("the failure is recorded", WAIT, async || {
        let s = scimd.webhook(&hook).await;
        s.last_error.as_deref() == Some("HTTP 503") && s.retry_at.is_some()
    })
    .await;
    let s = scimd.webhook(&hook).await;
    assert_eq!((s.delivered, s.failed, s.backlog), (0, 0, 3));

    receiver.answer(Script::Status(202));
    let got = receiver.wait_for_delivered(3, WAIT).await;
    let order: Vec<String> = got.iter().map(|r| subject(r, &hook)).collect();
    assert_eq!(order, ids, "in commit order");
    assert_eq!(got[0].jti(), head, "a retry keeps the jti");
    let all = receiver.received();
    let refused: Vec<&Received> = all.iter().filter(|r| r.answered == Some(503)).collect();
    assert!(
        refused.iter().all(|r| r.jti() == head),
        "nothing overtakes the failing event: {:?}",
        all.iter()
            .map(|r| (r.jti(), r.answered))
            .collect::<Vec<_>>()
    );
    eventually("three delivered", WAIT, async || {
        let s = scimd.webhook(&hook).await;
        s.delivered == 3 && s.backlog == 0
    })
    .await;
    let s = scimd.webhook(&hook).await;
    assert_eq!(s.failed, 0);
    assert_eq!(receiver.received().len(), refused.len() + 3);
}

async fn a_429_with_retry_after_is_retried_no_sooner_than_asked(backend: Backend) {
    let scimd = Events::start(backend).await;
    let receiver = Receiver::start().await;
    receiver.answer(Script::RetryAfter(429, "2".into()));
    let hook = scimd.subscribe(&receiver, Kinds::ALL, false).await;
    let (id, _) = scimd.create_user("slow@example.com").await;
    let first = receiver.wait_for(1, WAIT).await;
    receiver.answer(Script::Status(202));
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(got[0].answered, Some(429));
    assert_eq!(got[1].answered, Some(202));
    assert_eq!(got[1].jti(), first[0].jti());
    assert_eq!(subject(&got[1], &hook), id);
    let waited = got[1].at - got[0].at;
    assert!(
        waited >= Duration::from_secs(2),
        "retried after {waited:?}, though the receiver asked for 2 s"
    );
    eventually("delivered", WAIT, async || {
        scimd.webhook(&hook).await.delivered == 1
    })
    .await;
    let s = scimd.webhook(&hook).await;
    assert_eq!(s.last_error.as_deref(), Some("HTTP 429"));
    assert_eq!((s.failed, s.backlog), (0, 0));
}

async fn an_rfc_8935_refusal_is_dropped_not_retried_and_the_next_event_goes(backend: Backend) {
    let scimd = Events::start(backend).await;
    let receiver = Receiver::start().await;
    receiver.answer(Script::Refuse {
        err: "invalid_request".into(),
        description: "the subject is unknown here".into(),
    });
    let hook = scimd.subscribe(&receiver, Kinds::ALL, false).await;
    let (refused, _) = scimd.create_user("refused@example.com").await;
    let first = receiver.wait_for(1, WAIT).await;
    assert_eq!(subject(&first[0], &hook), refused);
    receiver.answer(Script::Status(202));
    let (next, _) = scimd.create_user("next@example.com").await;
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(got[1].answered, Some(202));
    assert_eq!(
        subject(&got[1], &hook),
        next,
        "the refused event is not retried; the next one goes"
    );
    eventually("the next one is recorded as delivered", WAIT, async || {
        scimd.webhook(&hook).await.delivered == 1
    })
    .await;
    assert_eq!(receiver.received().len(), 2, "exactly one attempt each");

    let error = "invalid_request: the subject is unknown here";
    let s = scimd.webhook(&hook).await;
    assert_eq!((s.delivered, s.failed, s.backlog), (1, 1, 0));
    assert_eq!(s.last_error.as_deref(), Some(error));
    let failures = scimd.failures(&hook).await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    let f = &failures[0];
    assert_eq!(f.state, "dropped");
    assert_eq!(f.attempts, 1);
    assert_eq!(f.last_status, Some(400));
    assert_eq!(f.last_error.as_deref(), Some(error));
    assert_eq!(f.resource_type, "User");
    assert_eq!(f.resource_id.to_string(), refused);
    assert!(f.failed_at.is_some());
}

async fn an_event_failing_longer_than_retry_for_is_parked_and_the_next_ones_flow(backend: Backend) {
    let scimd = Events::configured(backend, |c| {
        c.events_retry_for = Duration::from_secs(2);
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.answer(Script::Status(500));
    let hook = scimd.subscribe(&receiver, Kinds::ALL, false).await;
    let (parked, _) = scimd.create_user("parked@example.com").await;
    eventually("the failing event is parked", WAIT, async || {
        !scimd.failures(&hook).await.is_empty()
    })
    .await;
    let failures = scimd.failures(&hook).await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    let f = &failures[0];
    assert_eq!(f.state, "parked");
    assert_eq!(f.resource_id.to_string(), parked);
    assert_eq!(f.last_status, Some(500));
    assert_eq!(f.last_error.as_deref(), Some("HTTP 500"));
    let attempts = receiver.received();
    assert_eq!(f.attempts as usize, attempts.len(), "{attempts:?}");
    assert!(attempts.len() >= 2, "{attempts:?}");
    let head = attempts[0].jti();
    assert!(attempts.iter().all(|r| r.jti() == head));
    let tried = attempts[attempts.len() - 1].at - attempts[0].at;
    assert!(
        tried >= Duration::from_secs(2) - Duration::from_millis(200),
        "parked after {tried:?} of retries, before SCIMD_EVENTS_RETRY_FOR (2 s)"
    );
    let s = scimd.webhook(&hook).await;
    assert_eq!((s.failed, s.backlog, s.delivered), (1, 0, 0));

    // the receiver recovers: the next event goes, the parked one stays parked
    receiver.answer(Script::Status(202));
    let (next, _) = scimd.create_user("next@example.com").await;
    let got = receiver.wait_for_delivered(1, WAIT).await;
    assert_eq!(subject(&got[0], &hook), next);
    eventually("the next one is recorded", WAIT, async || {
        scimd.webhook(&hook).await.delivered == 1
    })
    .await;
    assert_eq!(receiver.received().len(), attempts.len() + 1);

    // queued again on request: delivered, with the jti it had
    let requeued = scimd.state.directory.retry_parked(&hook.id).await.unwrap();
    assert_eq!(requeued, 1);
    let got = receiver.wait_for_delivered(2, WAIT).await;
    assert_eq!(subject(&got[1], &hook), parked);
    assert_eq!(got[1].jti(), head);
    eventually("both delivered", WAIT, async || {
        let s = scimd.webhook(&hook).await;
        s.delivered == 2 && s.backlog == 0
    })
    .await;
    assert!(scimd.failures(&hook).await.is_empty());
    assert_eq!(
        scimd.state.directory.retry_parked(&hook.id).await.unwrap(),
        0
    );
}

async fn a_hanging_receiver_holds_up_neither_another_subscription_nor_scim_requests(
    backend: Backend,
) {
    let scimd = Events::configured(backend, |c| {
        c.delivery.events_timeout = Duration::from_secs(2);
    })
    .await;
    let (hanging, prompt) = (Receiver::start().await, Receiver::start().await);
    hanging.answer(Script::Hang);
    let stuck = scimd.subscribe(&hanging, Kinds::ALL, false).await;
    let fine = scimd.subscribe(&prompt, Kinds::ALL, false).await;
    let (first, _) = scimd.create_user("h0@example.com").await;
    hanging.wait_for(1, WAIT).await;

    // while the first subscription's receiver holds a request open
    let mut ids = vec![first];
    let mut created_at = vec![Instant::now()];
    for i in 1..6 {
        let started = Instant::now();
        let (id, _) = scimd.create_user(&format!("h{i}@example.com")).await;
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(1),
            "create {i} took {took:?} while a receiver hangs"
        );
        ids.push(id);
        created_at.push(started);
    }
    let got = prompt.wait_for(6, WAIT).await;
    let order: Vec<String> = got.iter().map(|r| subject(r, &fine)).collect();
    assert_eq!(order, ids);
    for (i, (r, at)) in got.iter().zip(&created_at).enumerate().skip(1) {
        let lag = r.at - *at;
        assert!(
            lag < Duration::from_secs(5),
            "event {i} reached the other receiver {lag:?} after its request"
        );
    }

    // the hanging one times out, is retried, and once it answers gets all six in order
    eventually("the timeout is recorded", WAIT, async || {
        scimd.webhook(&stuck).await.last_error.as_deref()
            == Some("the receiver did not answer in time")
    })
    .await;
    assert!(
        delivered(&hanging.received()).is_empty(),
        "{:?}",
        hanging.received()
    );
    hanging.answer(Script::Status(202));
    let got = hanging.wait_for_delivered(6, WAIT).await;
    let order: Vec<String> = got.iter().map(|r| subject(r, &stuck)).collect();
    assert_eq!(order, ids);
    eventually("six delivered to each", WAIT, async || {
        scimd.webhook(&stuck).await.delivered == 6 && scimd.webhook(&fine).await.delivered == 6
    })
    .await;
}

crate::on_both_stores!(
    a_receiver_answering_503_gets_every_queued_event_in_order_once_it_answers_202,
    a_429_with_retry_after_is_retried_no_sooner_than_asked,
    an_rfc_8935_refusal_is_dropped_not_retried_and_the_next_event_goes,
    an_event_failing_longer_than_retry_for_is_parked_and_the_next_ones_flow,
    a_hanging_receiver_holds_up_neither_another_subscription_nor_scim_requests,
);
