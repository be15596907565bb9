//! Replicas: two `scimd serve` processes on one PostgreSQL database share a subscription's
//! deliveries through its lease — every event once, in order per resource, whichever replica
//! took the request — and a replica killed (`kill -9`) in the middle of a delivery loses no
//! event: once its lease lapses another process delivers everything, again with the same
//! `jti` for the one that was in flight.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::Value;

use super::{Setup, WAIT, create_user, deactivate};
use crate::support::receiver::{Receiver, Script};
use crate::support::{Backend, TOKEN};

/// How long a lease outlives a killed process at most (30 s), and a margin.
const AFTER_LEASE: Duration = Duration::from_secs(60);

/// The short kind of each event URI of a SET (`create`, `patch`, `deactivate`, `delete`).
fn kinds(claims: &Value) -> Vec<String> {
    claims["events"]
        .as_object()
        .unwrap()
        .keys()
        .map(|uri| {
            let rest = uri
                .strip_prefix("urn:ietf:params:scim:event:prov:")
                .unwrap();
            rest.split(':').next().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_on_one_postgresql_database_deliver_every_event_once_in_order() {
    let setup = Setup::new(Backend::Postgres).await;
    let first = setup.serve(&[]).await;
    let second = setup.serve(&[]).await;
    let receiver = Receiver::start().await;
    let (id, secret) = setup.add_webhook(&receiver.url(), &[]).await;
    let servers = [&first, &second];

    // each user created on one replica, deactivated on the other, some deleted on the first
    let mut users = Vec::new();
    for i in 0..8 {
        users.push(create_user(servers[i % 2], &format!("replica{i}@example.com")).await);
    }
    for (i, user) in users.iter().enumerate() {
        deactivate(servers[(i + 1) % 2], user).await;
    }
    for user in &users[..4] {
        let reply = first
            .request("DELETE", &format!("/scim/v2/Users/{user}"), TOKEN, "")
            .await;
        assert_eq!(reply.status, 204, "{}", reply.body);
    }
    let events = 8 + 8 + 4;

    receiver.wait_for_delivered(events, WAIT).await;
    setup.settled(&id, events as u64).await;
    let got = receiver.received();
    assert_eq!(got.len(), events, "each event exactly once");
    let jtis: HashSet<String> = got.iter().map(|r| r.jti()).collect();
    assert_eq!(jtis.len(), events);
    let mut per_user: HashMap<String, Vec<Vec<String>>> = HashMap::new();
    for r in &got {
        assert_eq!(r.answered, Some(202));
        let claims = r.claims(&secret);
        let user = claims["sub_id"]["id"].as_str().unwrap().to_owned();
        per_user.entry(user).or_default().push(kinds(&claims));
    }
    let create = vec!["create".to_owned()];
    let disable = vec!["patch".to_owned(), "deactivate".to_owned()];
    let delete = vec!["delete".to_owned()];
    for (i, user) in users.iter().enumerate() {
        let mut expected = vec![create.clone(), disable.clone()];
        if i < 4 {
            expected.push(delete.clone());
        }
        assert_eq!(per_user[user], expected, "user {i} ({user})");
    }
    let listed = setup.listed(&id).await;
    assert_eq!(
        (&listed["failed"], &listed["lastError"]),
        (&0.into(), &Value::Null)
    );
    first.kill().await;
    second.kill().await;
}

async fn a_process_killed_mid_delivery_loses_no_event(backend: Backend) {
    let setup = Setup::new(backend).await;
    let first = setup.serve(&[]).await;
    let receiver = Receiver::start().await;
    receiver.answer(Script::Hang);
    let (id, secret) = setup.add_webhook(&receiver.url(), &[]).await;
    let mut users = Vec::new();
    for i in 0..3 {
        users.push(create_user(&first, &format!("killed{i}@example.com")).await);
    }
    // the first process holds the lease and the first event's request is in flight
    let held = receiver.wait_for(1, WAIT).await;
    assert_eq!(held[0].claims(&secret)["sub_id"]["id"], users[0].as_str());

    let second = setup.serve(&[]).await;
    first.kill_now().await;
    drop(first);
    receiver.answer(Script::Status(202));
    let got = receiver.wait_for_delivered(3, AFTER_LEASE).await;
    let order: Vec<Value> = got
        .iter()
        .map(|r| r.claims(&secret)["sub_id"]["id"].clone())
        .collect();
    assert_eq!(order, users, "nothing lost, in commit order");
    assert_eq!(got[0].jti(), held[0].jti(), "the redelivery keeps the jti");
    let waited = got[0].at - held[0].at;
    assert!(
        waited >= Duration::from_secs(25),
        "redelivered after {waited:?}, while the killed process's lease (30 s) was live"
    );
    // duplicates only of the event in flight, with its jti
    let all = receiver.received();
    let jtis: HashSet<String> = all.iter().map(|r| r.jti()).collect();
    assert_eq!(
        jtis.len(),
        3,
        "{:?}",
        all.iter().map(|r| r.jti()).collect::<Vec<_>>()
    );
    assert_eq!(all.len(), 4, "the held request, then each event once");
    setup.settled(&id, 3).await;
    second.kill().await;
}

crate::on_both_stores!(a_process_killed_mid_delivery_loses_no_event);
