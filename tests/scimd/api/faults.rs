//! PostgreSQL going away under load: while it is away every answer is 201 or 503 with
//! `Retry-After` (never a 500, never a dropped request), `/readyz` says so, and when it comes
//! back scimd serves again without a restart, with every acknowledged create kept.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use tokio::sync::Notify;

use crate::support::proxy::Proxy;
use crate::support::{Backend, TestApp, TestDb, open_store, pg, settings};
use scimd::domain::TenantId;
use scimd::scim::list::{ListQuery, Page, Paging};
use scimd::scim::schema::ResourceKind;
use scimd::store::{Resources, Tenants};

/// What the clients saw: answers by status, acknowledged user names, and whether each 503
/// carried `Retry-After`.
#[derive(Default)]
struct Seen {
    created: AtomicUsize,
    unavailable: AtomicUsize,
    acknowledged: std::sync::Mutex<Vec<String>>,
    unexpected: std::sync::Mutex<Vec<String>>,
    progress: Notify,
}

impl Seen {
    /// Waits (at most a minute) until `count` of `counter` reaches `at_least`.
    async fn until(&self, counter: &AtomicUsize, at_least: usize) {
        let waited = tokio::time::timeout(Duration::from_secs(60), async {
            while counter.load(Ordering::SeqCst) < at_least {
                let notified = self.progress.notified();
                if counter.load(Ordering::SeqCst) >= at_least {
                    break;
                }
                notified.await;
            }
        })
        .await;
        assert!(waited.is_ok(), "waited a minute for {at_least} answers");
    }
}

/// Creates users until `stop`, recording every answer.
async fn client(app: Arc<TestApp>, n: usize, seen: Arc<Seen>, stop: Arc<AtomicBool>) {
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        let name = format!("load-{n}-{i}");
        i += 1;
        let res = app.post("/scim/v2/Users", json!({"userName": name})).await;
        match res.status.as_u16() {
            201 => {
                seen.acknowledged.lock().unwrap().push(name);
                seen.created.fetch_add(1, Ordering::SeqCst);
            }
            503 if res.header("retry-after") == Some("5") => {
                seen.unavailable.fetch_add(1, Ordering::SeqCst);
            }
            other => seen.unexpected.lock().unwrap().push(format!(
                "{other} {:?}: {}",
                res.header("retry-after"),
                res.body
            )),
        }
        seen.progress.notify_waiters();
    }
}

async fn ready(app: &TestApp) -> StatusCode {
    app.send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgresql_going_away_under_load_gives_only_201_or_503_and_scimd_recovers_by_itself() {
    let db = TestDb::new(Backend::Postgres).await;
    let proxy = Proxy::to(pg::server_url().await).await;
    let mut config = settings(&format!(
        "postgres://postgres@{}/{}",
        proxy.address, db.name
    ));
    config.database.database_max_connections = 4;
    let direct_url = db.url.clone();
    let app = Arc::new(TestApp::configured(db, config).await);
    let (seen, stop) = (Arc::new(Seen::default()), Arc::new(AtomicBool::new(false)));
    let clients: Vec<_> = (0..6)
        .map(|n| tokio::spawn(client(app.clone(), n, seen.clone(), stop.clone())))
        .collect();

    seen.until(&seen.created, 30).await;
    proxy.cut();
    seen.until(&seen.unavailable, 10).await;
    assert_eq!(ready(&app).await, StatusCode::SERVICE_UNAVAILABLE);
    proxy.restore();
    let before = seen.created.load(Ordering::SeqCst);
    seen.until(&seen.created, before + 30).await;
    assert_eq!(ready(&app).await, StatusCode::OK);
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.await.unwrap();
    }

    let unexpected = seen.unexpected.lock().unwrap().clone();
    assert!(
        unexpected.is_empty(),
        "answers other than 201 or 503 + Retry-After: {unexpected:?}"
    );
    let acknowledged: BTreeSet<String> =
        seen.acknowledged.lock().unwrap().iter().cloned().collect();
    let stored = user_names(&direct_url).await;
    let lost: Vec<&String> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
}

/// Every user name stored in tenant `default`, read past scimd.
async fn user_names(url: &str) -> BTreeSet<String> {
    let store = open_store(url).await;
    let tenant: TenantId = store.tenant("default").await.unwrap().id;
    let mut names = BTreeSet::new();
    for start in (1..).step_by(1000) {
        let query = ListQuery {
            filter: None,
            sort: None,
            with_groups: false,
            paging: Paging::Index(Page {
                start_index: start,
                count: 1000,
            }),
            email_key: None,
        };
        let page = store
            .list(tenant, ResourceKind::User, &query)
            .await
            .unwrap();
        for r in &page.resources {
            names.insert(r.doc["userName"].as_str().unwrap().to_owned());
        }
        if page.resources.len() < 1000 {
            break;
        }
    }
    names
}
