//! An acknowledged write survives the process being killed (`kill -9`) in the middle of a
//! load: the real binary, real sockets, a real crash, on both stores.

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::support::process::Scimd;
use crate::support::{Backend, TOKEN, TestDb};

/// Creates users until the server is gone; records `(id, userName)` of every 201.
async fn client(
    server: Arc<Scimd>,
    n: usize,
    acknowledged: Arc<Mutex<Vec<(String, String)>>>,
    progress: Arc<Notify>,
) {
    for i in 0.. {
        let name = format!("durable-{n}-{i}");
        let body = serde_json::json!({"userName": name}).to_string();
        let Ok(reply) = server
            .try_request("POST", "/scim/v2/Users", TOKEN, &body)
            .await
        else {
            return;
        };
        if reply.status == 0 {
            return; // the connection ended before an answer
        }
        assert_eq!(reply.status, 201, "{}", reply.body);
        let created: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        acknowledged.lock().unwrap().push((id, name));
        progress.notify_waiters();
    }
}

async fn every_create_acknowledged_before_a_kill_9_under_load_is_kept(backend: Backend) {
    let db = TestDb::new(backend).await;
    let env = [
        ("SCIMD_DATABASE_URL", db.url.as_str()),
        ("SCIMD_BOOTSTRAP_TOKEN", TOKEN),
    ];
    let dir = std::env::temp_dir();
    let (server, _) = Scimd::start(&dir, &env).await;
    let server = Arc::new(server);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let progress = Arc::new(Notify::new());
    let clients: Vec<_> = (0..4)
        .map(|n| {
            tokio::spawn(client(
                server.clone(),
                n,
                acknowledged.clone(),
                progress.clone(),
            ))
        })
        .collect();
    let enough = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while acknowledged.lock().unwrap().len() < 50 {
            progress.notified().await;
        }
    })
    .await;
    assert!(enough.is_ok(), "50 creates took more than a minute");
    // SIGKILL while the clients keep writing: no shutdown, no flush
    server.kill_now().await;
    for c in clients {
        c.await.unwrap();
    }

    let (restarted, _) = Scimd::start(&dir, &env).await;
    let acknowledged = acknowledged.lock().unwrap().clone();
    for (id, name) in &acknowledged {
        let read = restarted
            .request("GET", &format!("/scim/v2/Users/{id}"), TOKEN, "")
            .await;
        assert_eq!(
            read.status, 200,
            "{name} was acknowledged but is gone: {}",
            read.body
        );
        let user: serde_json::Value = serde_json::from_str(&read.body).unwrap();
        assert_eq!(user["userName"], name.as_str());
    }
    restarted.kill().await;
}

crate::on_both_stores!(every_create_acknowledged_before_a_kill_9_under_load_is_kept);
