//! What an operator does to a subscription: a paused one queues its events and gets them in
//! order once resumed — paused while a delivery is in flight, it sends nothing after that
//! one; a removed one takes its queue with it; a rotated secret signs every SET of a change
//! after the rotation — even while a delivery is in flight, and queued ones when they go —
//! and the old secret none; a URL whose user-info hides its host is refused.

use std::time::Duration;

use scimd::domain::events::Kinds;

use super::{Events, Hook, WAIT};
use crate::support::Backend;
use crate::support::receiver::{Receiver, Script, eventually, try_verify};

/// How long the receiver holds a request: long enough to act while a delivery is in flight.
const IN_FLIGHT: Duration = Duration::from_secs(1);

/// A count that is 1 when no process holds `hook`'s lease.
fn idle(hook: &Hook) -> String {
    format!(
        "select count(*) from subscriptions where id = '{}' and leased_by is null",
        hook.id
    )
}

/// The resource ids of the SETs `receiver` got, verified with `hook`'s secret.
fn subjects(receiver: &Receiver, hook: &Hook) -> Vec<String> {
    receiver
        .received()
        .iter()
        .map(|r| {
            r.claims(&hook.secret)["sub_id"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn a_paused_subscription_queues_its_events_and_gets_them_in_order_when_resumed(
    backend: Backend,
) {
    let scimd = Events::start(backend).await;
    let (paused, other) = (Receiver::start().await, Receiver::start().await);
    paused.answer(Script::Delay(IN_FLIGHT, 202));
    let hook = scimd.subscribe(&paused, Kinds::ALL, false).await;
    let witness = scimd.subscribe(&other, Kinds::ALL, false).await;
    let (first, _) = scimd.create_user("p0@example.com").await;
    // paused while a delivery is in flight: that one completes, nothing after it goes
    paused.wait_for(1, WAIT).await;
    let state = scimd
        .state
        .directory
        .pause_webhook(&hook.id, true)
        .await
        .unwrap();
    assert!(state.paused);
    let mut ids = Vec::new();
    for name in ["p1@example.com", "p2@example.com", "p3@example.com"] {
        ids.push(scimd.create_user(name).await.0);
    }
    // the other subscription gets them: the dispatcher ran, and passed the paused one over
    other.wait_for(4, WAIT).await;
    assert_eq!(subjects(&other, &witness)[1..], ids);
    eventually(
        "the delivery in flight ends and the lease is let go",
        WAIT,
        async || {
            let s = scimd.webhook(&hook).await;
            s.delivered >= 1 && scimd.count(&idle(&hook)).await == 1
        },
    )
    .await;
    assert_eq!(
        subjects(&paused, &hook),
        [first],
        "nothing sent while paused"
    );
    let s = scimd.webhook(&hook).await;
    assert_eq!((s.paused, s.backlog, s.failed), (true, 3, 0));

    paused.answer(Script::Status(202));
    let resumed = scimd
        .state
        .directory
        .pause_webhook(&hook.id, false)
        .await
        .unwrap();
    assert!(!resumed.paused);
    assert_eq!(resumed.backlog, 3);
    paused.wait_for(4, WAIT).await;
    assert_eq!(subjects(&paused, &hook)[1..], ids, "in commit order");
    eventually("the four are recorded as delivered", WAIT, async || {
        let s = scimd.webhook(&hook).await;
        s.delivered == 4 && s.backlog == 0
    })
    .await;
    assert_eq!(paused.received().len(), 4);
}

async fn a_removed_subscription_takes_its_queue_with_it(backend: Backend) {
    let scimd = Events::start(backend).await;
    let (removed, other) = (Receiver::start().await, Receiver::start().await);
    let hook = scimd.subscribe(&removed, Kinds::ALL, false).await;
    let witness = scimd.subscribe(&other, Kinds::ALL, false).await;
    let dir = &scimd.state.directory;
    dir.pause_webhook(&hook.id, true).await.unwrap();
    scimd.create_user("r1@example.com").await;
    scimd.create_user("r2@example.com").await;
    eventually("two queued", WAIT, async || {
        scimd.webhook(&hook).await.backlog == 2
    })
    .await;
    let queued = format!(
        "select count(*) from deliveries where subscription_id = '{}'",
        hook.id
    );
    assert_eq!(scimd.count(&queued).await, 2);

    dir.remove_webhook(&hook.id).await.unwrap();
    assert_eq!(scimd.count(&queued).await, 0, "its queue went with it");
    let gone = dir.webhook(&hook.id).await.unwrap_err();
    assert!(gone.to_string().contains(&hook.id), "{gone}");
    assert!(dir.remove_webhook(&hook.id).await.is_err());
    let left: Vec<String> = dir
        .webhooks(Some("default"))
        .await
        .unwrap()
        .iter()
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(left, [witness.id.as_str()]);

    let (last, _) = scimd.create_user("r3@example.com").await;
    let got = other.wait_for(3, WAIT).await;
    assert_eq!(
        got[2].claims(&witness.secret)["sub_id"]["id"],
        last.as_str()
    );
    assert!(removed.received().is_empty(), "{:?}", removed.received());
    assert_eq!(scimd.count(&queued).await, 0);
}

async fn after_a_secret_rotation_sets_verify_with_the_new_secret_only(backend: Backend) {
    let scimd = Events::start(backend).await;
    let receiver = Receiver::start().await;
    receiver.answer(Script::Delay(IN_FLIGHT, 202));
    let hook = scimd.subscribe(&receiver, Kinds::ALL, false).await;
    let dir = &scimd.state.directory;
    let (before, _) = scimd.create_user("before@example.com").await;
    // rotated while the SET of `before` is in flight; the next change is signed anew
    receiver.wait_for(1, WAIT).await;
    let rotated = dir.rotate_webhook_secret(&hook.id).await.unwrap();
    assert_ne!(rotated.secret, hook.secret);
    assert!(rotated.secret.starts_with("whsec_"), "{}", rotated.secret);
    assert_eq!(rotated.subscription.id.to_string(), hook.id);
    let (after, _) = scimd.create_user("after@example.com").await;

    // one queued while paused, signed when it goes: with the secret of then
    receiver.wait_for(2, WAIT).await;
    dir.pause_webhook(&hook.id, true).await.unwrap();
    let (queued, _) = scimd.create_user("queued@example.com").await;
    let again = dir.rotate_webhook_secret(&hook.id).await.unwrap();
    dir.pause_webhook(&hook.id, false).await.unwrap();

    let got = receiver.wait_for(3, WAIT).await;
    let signed = [&hook.secret, &rotated.secret, &again.secret];
    for (i, (r, id)) in got.iter().zip([&before, &after, &queued]).enumerate() {
        assert_eq!(r.claims(signed[i])["sub_id"]["id"], id.as_str());
        for (j, other) in signed.iter().enumerate().filter(|(j, _)| *j != i) {
            let verified = try_verify(&r.body, other);
            assert!(
                verified.is_err(),
                "SET {i} verifies with secret {j}: {verified:?}"
            );
        }
    }
    eventually("three delivered", WAIT, async || {
        let s = scimd.webhook(&hook).await;
        s.delivered == 3 && s.backlog == 0
    })
    .await;
}

async fn a_webhook_url_with_user_info_is_refused_with_the_reason_and_nothing_is_stored(
    backend: Backend,
) {
    let scimd = Events::start(backend).await;
    let dir = &scimd.state.directory;
    for (url, shown, host) in [
        (
            "http://localhost:1@evil.example/x",
            "http://localhost:***@evil.example/x",
            "evil.example",
        ),
        (
            "https://user@example.com/events",
            "https://user@example.com/events",
            "example.com",
        ),
    ] {
        let refused = dir
            .add_webhook("default", url, Kinds::ALL, false)
            .await
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            format!(
                "webhook URL '{shown}': user-info (a name or password before '@') is not \
                 allowed: it hides the host, which here is '{host}'"
            )
        );
    }
    assert!(dir.webhooks(Some("default")).await.unwrap().is_empty());
    assert_eq!(scimd.count("select count(*) from subscriptions").await, 0);
}

crate::on_both_stores!(
    a_webhook_url_with_user_info_is_refused_with_the_reason_and_nothing_is_stored,
    a_paused_subscription_queues_its_events_and_gets_them_in_order_when_resumed,
    a_removed_subscription_takes_its_queue_with_it,
    after_a_secret_rotation_sets_verify_with_the_new_secret_only,
);
