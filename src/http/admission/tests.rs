//! The admission's rules on their own: turns between tenants, the ceiling, and requests that
//! give up waiting.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use uuid::Uuid;

use super::*;

fn tenant() -> TenantId {
    TenantId(Uuid::new_v4())
}

/// Waits until `n` requests of `tenant` wait.
async fn until_waiting(admission: &Admission, tenant: TenantId, n: usize) {
    for _ in 0..1000 {
        if admission.in_flight(tenant).1 == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!(
        "{n} requests never waited: {:?}",
        admission.in_flight(tenant)
    );
}

/// Starts a request of `tenant` that reports `label` once admitted and holds its slot until
/// told to go on.
fn request(
    admission: &Admission,
    tenant: TenantId,
    label: &'static str,
    served: mpsc::UnboundedSender<&'static str>,
    go_on: Arc<tokio::sync::Semaphore>,
) -> tokio::task::JoinHandle<()> {
    let admission = admission.clone();
    tokio::spawn(async move {
        let _slot = admission.enter(tenant, "t", None).await.unwrap();
        served.send(label).unwrap();
        go_on.acquire().await.unwrap().forget();
    })
}

#[tokio::test]
async fn a_quiet_tenant_is_served_next_however_many_requests_a_busy_one_has_waiting() {
    let admission = Admission::new(1, 64);
    let (busy, quiet) = (tenant(), tenant());
    let holding = admission.enter(busy, "busy", None).await.unwrap();
    let (served, mut order) = mpsc::unbounded_channel();
    let go_on = Arc::new(tokio::sync::Semaphore::new(0));
    let mut tasks = Vec::new();
    for _ in 0..5 {
        tasks.push(request(
            &admission,
            busy,
            "busy",
            served.clone(),
            go_on.clone(),
        ));
    }
    until_waiting(&admission, busy, 5).await;
    tasks.push(request(
        &admission,
        quiet,
        "quiet",
        served.clone(),
        go_on.clone(),
    ));
    until_waiting(&admission, quiet, 1).await;
    drop(holding);
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(order.recv().await.unwrap());
        go_on.add_permits(1);
    }
    assert_eq!(seen, ["busy", "quiet", "busy", "busy", "busy", "busy"]);
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(admission.in_flight(busy), (0, 0));
    assert_eq!(admission.state().free, 1);
    assert!(admission.state().lanes.is_empty());
}

#[tokio::test]
async fn a_tenant_past_its_ceiling_is_refused_and_another_tenant_is_not() {
    let admission = Admission::new(8, 2);
    let (busy, other) = (tenant(), tenant());
    let first = admission.enter(busy, "busy", None).await.unwrap();
    let second = admission.enter(busy, "busy", None).await.unwrap();
    assert_eq!(
        admission.enter(busy, "busy", None).await.unwrap_err(),
        TooMany(2)
    );
    let theirs = admission.enter(other, "other", None).await.unwrap();
    drop(first);
    let third = admission.enter(busy, "busy", None).await.unwrap();
    assert_eq!(admission.in_flight(busy), (2, 0));
    drop((second, third, theirs));
    assert_eq!(admission.state().free, 8);
    assert!(admission.state().lanes.is_empty());
}

#[tokio::test]
async fn waiting_requests_count_towards_the_ceiling() {
    let admission = Admission::new(1, 2);
    let busy = tenant();
    let holding = admission.enter(busy, "busy", None).await.unwrap();
    let waiter = {
        let admission = admission.clone();
        tokio::spawn(async move { admission.enter(busy, "busy", None).await.map(drop) })
    };
    until_waiting(&admission, busy, 1).await;
    assert_eq!(
        admission.enter(busy, "busy", None).await.unwrap_err(),
        TooMany(2)
    );
    drop(holding);
    waiter.await.unwrap().unwrap();
    assert_eq!(admission.state().free, 1);
}

#[tokio::test]
async fn a_request_that_gives_up_waiting_loses_its_place_and_no_slot() {
    let admission = Admission::new(1, 4);
    let (busy, quiet) = (tenant(), tenant());
    let holding = admission.enter(busy, "busy", None).await.unwrap();
    // gives up before its turn
    let gave_up = tokio::time::timeout(
        Duration::from_millis(20),
        admission.enter(quiet, "quiet", None),
    )
    .await;
    assert!(gave_up.is_err());
    // its place does not count towards the ceiling once it is gone
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let admission = admission.clone();
            tokio::spawn(async move { admission.enter(quiet, "quiet", None).await.map(drop) })
        })
        .collect();
    until_waiting(&admission, quiet, 4).await;
    drop(holding);
    for waiter in waiters {
        waiter.await.unwrap().unwrap();
    }
    assert_eq!(admission.state().free, 1);
    assert!(admission.state().lanes.is_empty());
}

#[tokio::test]
async fn a_slot_handed_to_a_request_that_is_gone_comes_back() {
    let admission = Admission::new(1, 4);
    let (busy, quiet) = (tenant(), tenant());
    let holding = admission.enter(busy, "busy", None).await.unwrap();
    let waiting = {
        let admission = admission.clone();
        tokio::spawn(async move {
            let _never = admission.enter(quiet, "quiet", None).await;
            unreachable!("aborted before its turn");
        })
    };
    until_waiting(&admission, quiet, 1).await;
    waiting.abort();
    let _ = waiting.await;
    drop(holding);
    assert_eq!(admission.state().free, 1);
    let again = admission.enter(quiet, "quiet", None).await.unwrap();
    assert_eq!(admission.in_flight(quiet), (1, 0));
    drop(again);
    assert!(admission.state().lanes.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousands_of_parallel_requests_of_many_tenants_leave_every_slot_free() {
    let admission = Admission::new(3, 16);
    let tenants: Vec<TenantId> = (0..7).map(|_| tenant()).collect();
    let mut tasks = Vec::new();
    for i in 0..2000 {
        let (admission, tenant) = (admission.clone(), tenants[i % tenants.len()]);
        tasks.push(tokio::spawn(async move {
            let entered = if i % 5 == 0 {
                // some give up
                tokio::time::timeout(
                    Duration::from_micros(50),
                    admission.enter(tenant, "t", None),
                )
                .await
                .ok()
            } else {
                Some(admission.enter(tenant, "t", None).await)
            };
            if let Some(Ok(slot)) = entered {
                tokio::task::yield_now().await;
                drop(slot);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let state = admission.state();
    assert_eq!(state.free, 3);
    assert!(state.lanes.is_empty(), "{:?}", state.lanes.len());
    assert!(state.turns.is_empty());
}
