//! `scimd webhook …` and `scimd events tail` as operators run them, beside a running
//! `scimd serve`: the secret printed once, the delivery state listed, a test event and its
//! answer (and exit status), an http URL off the loopback refused, pause and resume, a
//! dropped event shown with the receiver's error, a rotated secret, a removal — and a tail
//! that prints the events committed after it started.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::{Setup, WAIT, create_user, deactivate};
use crate::support::Backend;
use crate::support::receiver::{Receiver, Script, eventually, try_verify, verify};

/// The URI of a provisioning event (RFC 9967 §2.4).
fn prov(name: &str) -> String {
    format!("urn:ietf:params:scim:event:prov:{name}")
}

async fn the_webhook_commands_manage_a_subscription_and_show_its_deliveries(backend: Backend) {
    let setup = Setup::new(backend).await;
    let server = setup.serve(&[]).await;
    let receiver = Receiver::start().await;
    let url = receiver.url();

    let added: Value = serde_json::from_str(
        &setup
            .ok(&[
                "webhook", "add", "--tenant", "default", "--url", &url, "--json",
            ])
            .await,
    )
    .unwrap();
    let id = added["id"].as_str().unwrap().to_owned();
    let secret = added["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 30,
        "{secret}"
    );
    for (key, value) in [
        ("tenant", json!("default")),
        ("url", json!(url)),
        ("events", json!("all")),
        ("full", json!(false)),
        ("state", json!("active")),
        ("delivered", json!(0)),
        ("backlog", json!(0)),
        ("failed", json!(0)),
        ("lastError", Value::Null),
    ] {
        assert_eq!(added[key], value, "{key}: {added}");
    }
    // without --json, for a person: id and secret on lines of their own
    let dead = "http://127.0.0.1:1/events";
    let printed = setup
        .ok(&["webhook", "add", "--tenant", "default", "--url", dead])
        .await;
    let dead_id = printed
        .lines()
        .find_map(|l| l.strip_prefix("id:"))
        .unwrap_or_else(|| panic!("no id: {printed}"))
        .trim()
        .to_owned();
    assert!(printed.contains("secret: whsec_"), "{printed}");

    // an http URL off the loopback is refused, with the reason
    let refused = setup
        .run(&[
            "webhook",
            "add",
            "--tenant",
            "default",
            "--url",
            "http://app.example.com/events",
        ])
        .await;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("use https (http only on a loopback address)"),
        "{stderr}"
    );
    let listed = setup.ok(&["webhook", "list", "--json"]).await;
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(!listed.contains("whsec_"), "list shows no secret: {listed}");

    // a test event: the receiver's answer, and the exit status says whether it was accepted
    assert_eq!(
        setup.ok(&["webhook", "test", &id]).await.trim(),
        "HTTP 202: delivered"
    );
    let got = receiver.wait_for(1, WAIT).await;
    let test = verify(&got[0].body, &secret);
    assert!(
        test["events"]["urn:ietf:params:scim:event:misc:test"].is_object(),
        "{test}"
    );
    assert_eq!(test["aud"], url.as_str());
    let failed = setup.run(&["webhook", "test", &dead_id]).await;
    assert!(!failed.status.success(), "a dead receiver is a failure");
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert!(
        stdout.starts_with("no answer: failed (would be retried): cannot connect to the receiver"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("the receiver did not accept the test event"),
        "{stderr}"
    );

    // a change: delivered to the live receiver, retried for the dead one
    let first = create_user(&server, "w1@example.com").await;
    let got = receiver.wait_for_delivered(2, WAIT).await;
    assert_eq!(
        verify(&got[1].body, &secret)["sub_id"]["id"],
        first.as_str()
    );
    setup.settled(&id, 1).await;
    let live = setup.listed(&id).await;
    assert_eq!(
        (&live["state"], &live["failed"]),
        (&json!("active"), &json!(0))
    );
    assert!(live["lastSuccess"].is_string(), "{live}");
    eventually("the dead receiver's failure is listed", WAIT, async || {
        let s = setup.listed(&dead_id).await;
        s["lastError"]
            .as_str()
            .is_some_and(|e| e.starts_with("cannot connect to the receiver"))
    })
    .await;
    let stuck = setup.listed(&dead_id).await;
    assert_eq!(
        (&stuck["backlog"], &stuck["delivered"]),
        (&json!(1), &json!(0))
    );
    // when the next attempt is due (the state says "retrying at …" until then)
    assert!(stuck["retryAt"].is_string(), "{stuck}");
    assert!(stuck["lastErrorAt"].is_string(), "{stuck}");

    // paused: events queue; resumed: they go
    let paused = setup.ok(&["webhook", "pause", &id]).await;
    assert_eq!(
        paused.trim(),
        format!(
            "paused webhook {id}; events queue until it is resumed (those waiting longer than \
             SCIMD_EVENTS_RETRY_FOR are parked)"
        )
    );
    let second = create_user(&server, "w2@example.com").await;
    eventually("the paused webhook queues", WAIT, async || {
        setup.listed(&id).await["backlog"] == 1
    })
    .await;
    assert_eq!(setup.listed(&id).await["state"], "paused");
    let resumed = setup.ok(&["webhook", "resume", &id]).await;
    assert_eq!(
        resumed.trim(),
        format!("resumed webhook {id}; 1 event(s) waiting")
    );
    let got = receiver.wait_for_delivered(3, WAIT).await;
    assert_eq!(
        verify(&got[2].body, &secret)["sub_id"]["id"],
        second.as_str()
    );
    setup.settled(&id, 2).await;

    // refused with an RFC 8935 error: dropped, and shown with the receiver's error
    receiver.answer(Script::Refuse {
        err: "invalid_key".into(),
        description: "kid unknown".into(),
    });
    let third = create_user(&server, "w3@example.com").await;
    eventually("the refusal is recorded", WAIT, async || {
        setup.listed(&id).await["failed"] == 1
    })
    .await;
    let shown: Value =
        serde_json::from_str(&setup.ok(&["webhook", "show", &id, "--json"]).await).unwrap();
    assert_eq!(shown["lastError"], "invalid_key: kid unknown");
    assert_eq!(shown["backlog"], 0);
    let failures = shown["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{shown}");
    assert_eq!(failures[0]["state"], "dropped");
    assert_eq!(failures[0]["status"], 400);
    assert_eq!(failures[0]["attempts"], 1);
    assert_eq!(failures[0]["error"], "invalid_key: kid unknown");
    assert_eq!(failures[0]["resourceId"], third.as_str());
    let text = setup.ok(&["webhook", "show", &id]).await;
    assert!(
        text.contains("dropped") && text.contains("HTTP 400: invalid_key: kid unknown"),
        "{text}"
    );
    let retried = setup.ok(&["webhook", "retry", &id]).await;
    assert_eq!(retried.trim(), "0 parked event(s) queued again");

    // a new secret, printed once: the next event is signed with it alone
    receiver.answer(Script::Status(202));
    let rotated: Value =
        serde_json::from_str(&setup.ok(&["webhook", "rotate-secret", &id, "--json"]).await)
            .unwrap();
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    let fourth = create_user(&server, "w4@example.com").await;
    let got = receiver.wait_for_delivered(4, WAIT).await;
    assert_eq!(
        verify(&got[3].body, &new_secret)["sub_id"]["id"],
        fourth.as_str()
    );
    assert!(try_verify(&got[3].body, &secret).is_err());

    // removed, with its queue
    let removed = setup.ok(&["webhook", "remove", &dead_id]).await;
    assert_eq!(removed.trim(), format!("removed webhook {dead_id}"));
    let listed = setup.ok(&["webhook", "list", "--json"]).await;
    assert_eq!(listed.lines().count(), 1, "{listed}");
    let gone = setup.run(&["webhook", "show", &dead_id]).await;
    assert!(!gone.status.success());
    server.kill().await;
}

async fn events_tail_prints_the_events_committed_after_it_started(backend: Backend) {
    let setup = Setup::new(backend).await;
    let server = setup.serve(&[]).await;
    create_user(&server, "earlier@example.com").await;

    let mut tail = setup
        .command(&["events", "tail", "--tenant", "default", "--json"])
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(tail.stdout.take().unwrap()).lines();
    let mut stderr = BufReader::new(tail.stderr.take().unwrap()).lines();
    let started = tokio::time::timeout(WAIT, stderr.next_line())
        .await
        .expect("events tail said nothing within 30 s")
        .unwrap()
        .unwrap_or_default();
    assert_eq!(
        started,
        "waiting for events of tenant default (Ctrl-C to stop)"
    );

    let id = create_user(&server, "later@example.com").await;
    deactivate(&server, &id).await;
    let mut lines = Vec::new();
    for _ in 0..2 {
        let line = tokio::time::timeout(WAIT, stdout.next_line())
            .await
            .expect("events tail printed no event within 30 s")
            .unwrap()
            .expect("events tail ended");
        lines.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    for event in &lines {
        assert_eq!(event["sub_id"]["id"], id.as_str(), "{event}");
        assert_eq!(event["sub_id"]["externalId"], "ext-later@example.com");
        assert!(event.get("aud").is_none(), "{event}");
        let jti = event["jti"].as_str().unwrap();
        assert_eq!(jti.len(), 32, "{jti}");
        assert!(event["txn"].is_string());
    }
    assert_ne!(lines[0]["jti"], lines[1]["jti"]);
    let create = &lines[0]["events"][prov("create:notice")];
    assert_eq!(create["version"], "W/\"1\"");
    assert!(
        create["attributes"]
            .as_array()
            .unwrap()
            .contains(&json!("userName"))
    );
    assert_eq!(
        lines[1]["events"],
        json!({prov("patch:notice"): {"attributes": ["active"], "version": "W/\"2\""},
               prov("deactivate"): {}})
    );
    // nothing else: the user created before the tail started is not printed
    let more = tokio::time::timeout(Duration::from_millis(1500), stdout.next_line()).await;
    assert!(more.is_err(), "an unexpected line: {more:?}");
    tail.kill().await.unwrap();
    server.kill().await;
}

crate::on_both_stores!(
    the_webhook_commands_manage_a_subscription_and_show_its_deliveries,
    events_tail_prints_the_events_committed_after_it_started,
);
