//! Fair shares between tenants (`http::admission`), through the whole application on both
//! stores: a tenant flooding scimd does not make a quiet tenant's request wait behind its
//! queue, and a tenant past `SCIMD_TENANT_MAX_IN_FLIGHT` is answered 429 with `Retry-After`
//! while another tenant is served; a tenant's own rate and ceiling (its rules) are kept the
//! same way; a body that arrives slowly takes no slot until it is there.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use scimd::domain::TenantId;
use scimd::service::PolicyChange;
use serde_json::json;
use tokio::sync::oneshot;

use super::guard::held_body;
use crate::support::{Backend, TOKEN, TestApp, TestDb, TestResponse, send, settings};

crate::on_both_stores!(
    a_quiet_tenant_is_served_before_the_queue_of_a_tenant_flooding_scimd,
    a_tenant_past_its_ceiling_is_answered_429_and_another_tenant_is_served,
    a_tenant_past_its_rate_is_answered_429_with_retry_after_and_another_tenant_is_not,
    a_tenant_s_own_ceiling_replaces_the_server_s,
    a_body_sent_slowly_holds_no_slot_while_it_arrives,
);

fn create(token: &str, body: Body) -> Request<Body> {
    Request::post("/scim/v2/Users")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/scim+json")
        .body(body)
        .unwrap()
}

fn lookup(token: &str, user_name: &str) -> Request<Body> {
    Request::get(format!(
        "/scim/v2/Users?filter=userName%20eq%20%22{user_name}%22"
    ))
    .header(header::AUTHORIZATION, format!("Bearer {token}"))
    .body(Body::empty())
    .unwrap()
}

/// An app whose SCIM requests share `slots` slots, `ceiling` per tenant, with a second tenant
/// `quiet` holding user `quiet-user`; the quiet tenant's token.
async fn app(backend: Backend, slots: u32, ceiling: u32) -> (TestApp, String) {
    let db = TestDb::new(backend).await;
    let mut config = settings(&db.url);
    config.admission_slots = Some(slots);
    config.tenant_max_in_flight = ceiling;
    let app = TestApp::configured(db, config).await;
    let dir = &app.state.directory;
    dir.create_tenant("quiet").await.unwrap();
    let token = dir.issue_token("quiet", None).await.unwrap().token;
    let made = send(
        &app.router,
        create(
            &token,
            Body::from(json!({"userName": "quiet-user"}).to_string()),
        ),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    (app, token)
}

async fn tenant_id(app: &TestApp, name: &str) -> TenantId {
    app.state.directory.tenant(name).await.unwrap().id
}

/// Waits until `tenant` has `served` requests served and `waiting` waiting.
async fn until(app: &TestApp, tenant: TenantId, served: usize, waiting: usize) {
    for _ in 0..2000 {
        if app.state.admission.in_flight(tenant) == (served, waiting) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!(
        "never {served} served and {waiting} waiting: {:?}",
        app.state.admission.in_flight(tenant)
    );
}

/// A create of the default tenant whose body is held until `finish`.
struct Held {
    answer: tokio::task::JoinHandle<TestResponse>,
    /// Told when the handler reads the body: the request was admitted.
    started: oneshot::Receiver<()>,
    admitted: bool,
    finish: Option<oneshot::Sender<()>>,
}

fn held_create(app: &TestApp, n: usize) -> Held {
    let (body, started, finish) = held_body(json!({"userName": format!("flood{n}")}).to_string());
    let router = app.router.clone();
    Held {
        answer: tokio::spawn(async move { send(&router, create(TOKEN, body)).await }),
        started,
        admitted: false,
        finish: Some(finish),
    }
}

/// Waits until one more of `creates` is admitted; which.
async fn next_admitted(creates: &mut [Held]) -> usize {
    for _ in 0..2000 {
        for (i, held) in creates.iter_mut().enumerate() {
            if !held.admitted && held.started.try_recv().is_ok() {
                held.admitted = true;
                return i;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("no create was admitted");
}

/// Lets create `i` end; its answer.
async fn finish(creates: &mut [Held], i: usize) -> TestResponse {
    let _ = creates[i].finish.take().unwrap().send(());
    (&mut creates[i].answer).await.unwrap()
}

async fn a_quiet_tenant_is_served_before_the_queue_of_a_tenant_flooding_scimd(backend: Backend) {
    let (app, quiet_token) = app(backend, 1, 64).await;
    let (flood, quiet) = (
        tenant_id(&app, "default").await,
        tenant_id(&app, "quiet").await,
    );
    // the flood takes the only slot, then queues five more creates
    let mut creates: Vec<Held> = (0..6).map(|n| held_create(&app, n)).collect();
    until(&app, flood, 1, 5).await;
    let router = app.router.clone();
    let quiet_lookup =
        tokio::spawn(async move { send(&router, lookup(&quiet_token, "quiet-user")).await });
    until(&app, quiet, 0, 1).await;

    // one create of the flood ends: the next turn is the flood's (it was waiting first) ...
    let first = next_admitted(&mut creates).await;
    assert_eq!(
        finish(&mut creates, first).await.status,
        StatusCode::CREATED
    );
    let second = next_admitted(&mut creates).await;
    assert_eq!(app.state.admission.in_flight(quiet), (0, 1));
    // ... and when that one ends, the quiet tenant's, before the four still waiting
    assert_eq!(
        finish(&mut creates, second).await.status,
        StatusCode::CREATED
    );
    let found = quiet_lookup.await.unwrap();
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert_eq!(found.body["totalResults"], 1);
    assert_eq!(found.body["Resources"][0]["userName"], "quiet-user");
    until(&app, flood, 1, 3).await;

    // the rest of the flood is served in turn, and every create is stored
    for _ in 0..4 {
        let next = next_admitted(&mut creates).await;
        assert_eq!(finish(&mut creates, next).await.status, StatusCode::CREATED);
    }
    let all = app
        .get("/scim/v2/Users?filter=userName%20sw%20%22flood%22")
        .await;
    assert_eq!(all.body["totalResults"], 6);
    assert_eq!(app.state.admission.in_flight(flood), (0, 0));
    assert_eq!(app.state.admission.in_flight(quiet), (0, 0));
}

async fn a_tenant_past_its_ceiling_is_answered_429_and_another_tenant_is_served(backend: Backend) {
    let (app, quiet_token) = app(backend, 8, 2).await;
    let flood = tenant_id(&app, "default").await;
    let mut held: Vec<Held> = (0..2).map(|n| held_create(&app, n)).collect();
    until(&app, flood, 2, 0).await;

    let refused = app
        .post("/scim/v2/Users", json!({"userName": "one-too-many"}))
        .await;
    assert_eq!(
        refused.assert_scim_error(429, None),
        "the tenant has 2 requests in flight, its most at once; retry after 1 s, or send fewer \
         requests at once"
    );
    assert_eq!(refused.header("retry-after"), Some("1"));
    let served = send(&app.router, lookup(&quiet_token, "quiet-user")).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.body["totalResults"], 1);

    for i in 0..2 {
        assert_eq!(finish(&mut held, i).await.status, StatusCode::CREATED);
    }
    // the refused create stored nothing; once the flood has drained, the tenant is served
    let none = app
        .get("/scim/v2/Users?filter=userName%20eq%20%22one-too-many%22")
        .await;
    assert_eq!(none.body["totalResults"], 0);
    let again = app
        .post("/scim/v2/Users", json!({"userName": "one-too-many"}))
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
}

async fn set_limits(app: &TestApp, rate: Option<Option<u32>>, ceiling: Option<Option<u32>>) {
    let change = PolicyChange {
        rate_limit: rate,
        max_in_flight: ceiling,
        ..PolicyChange::default()
    };
    app.state
        .directory
        .set_policy("default", &change)
        .await
        .unwrap();
}

async fn a_tenant_past_its_rate_is_answered_429_with_retry_after_and_another_tenant_is_not(
    backend: Backend,
) {
    let (app, quiet_token) = app(backend, 8, 32).await;
    set_limits(&app, Some(Some(1)), None).await;
    // a burst of twice the rate, then the rate: within ten creates at once, one is refused
    let mut served = 0;
    let refused = loop {
        let name = format!("fast{served}");
        let answer = app.post("/scim/v2/Users", json!({"userName": name})).await;
        if answer.status.as_u16() == 429 {
            break answer;
        }
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        served += 1;
        assert!(served < 10, "ten creates at once, none refused");
    };
    assert!(served >= 2, "the burst: {served}");
    assert_eq!(
        refused.assert_scim_error(429, None),
        "the tenant sends more than its rate of 1 requests per second; retry after 1 s"
    );
    assert_eq!(refused.header("retry-after"), Some("1"));
    for _ in 0..3 {
        let theirs = send(&app.router, lookup(&quiet_token, "quiet-user")).await;
        assert_eq!(theirs.status, StatusCode::OK, "another tenant has no rate");
    }
    // without the rate, the tenant is served again at once; the refused create stored nothing
    set_limits(&app, Some(None), None).await;
    let all = app
        .get("/scim/v2/Users?filter=userName%20sw%20%22fast%22")
        .await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.body["totalResults"], served);
}

async fn a_tenant_s_own_ceiling_replaces_the_server_s(backend: Backend) {
    let (app, _quiet_token) = app(backend, 8, 2).await;
    let flood = tenant_id(&app, "default").await;
    set_limits(&app, None, Some(Some(1))).await;
    let mut held: Vec<Held> = vec![held_create(&app, 0)];
    until(&app, flood, 1, 0).await;
    let refused = app.post("/scim/v2/Users", json!({"userName": "x1"})).await;
    assert_eq!(
        refused.assert_scim_error(429, None),
        "the tenant has 1 requests in flight, its most at once; retry after 1 s, or send fewer \
         requests at once"
    );
    // raised above the server's 2: three at once
    set_limits(&app, None, Some(Some(3))).await;
    held.push(held_create(&app, 1));
    held.push(held_create(&app, 2));
    until(&app, flood, 3, 0).await;
    let refused = app.post("/scim/v2/Users", json!({"userName": "x2"})).await;
    assert_eq!(refused.status.as_u16(), 429, "{}", refused.body);
    assert_eq!(refused.header("retry-after"), Some("1"));
    for i in 0..3 {
        assert_eq!(finish(&mut held, i).await.status, StatusCode::CREATED);
    }
    // back to the server's ceiling
    set_limits(&app, None, Some(None)).await;
    assert_eq!(
        app.state
            .directory
            .tenant("default")
            .await
            .unwrap()
            .policy
            .limits,
        scimd::domain::Limits::default()
    );
}

async fn a_body_sent_slowly_holds_no_slot_while_it_arrives(backend: Backend) {
    let (app, quiet_token) = app(backend, 1, 32).await;
    let slow = tenant_id(&app, "default").await;
    let json = json!({"userName": "slow-body"}).to_string();
    let length = json.len();
    let (body, started, finish) = held_body(json);
    let mut request = create(TOKEN, body);
    request
        .headers_mut()
        .insert(header::CONTENT_LENGTH, length.into());
    let router = app.router.clone();
    let answer = tokio::spawn(async move { send(&router, request).await });
    started.await.unwrap();
    // its body is being read: it holds no slot, and the only one serves another tenant
    assert_eq!(app.state.admission.in_flight(slow), (0, 0));
    let served = send(&app.router, lookup(&quiet_token, "quiet-user")).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.body["totalResults"], 1);
    let _ = finish.send(());
    let created = answer.await.unwrap();
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["userName"], "slow-body");
}
