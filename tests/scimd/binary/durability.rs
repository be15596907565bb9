//! An acknowledged write survives the process being killed (`kill -9`): the real binary, a
//! real socket, a real crash, on both stores.

use crate::support::process::Scimd;
use crate::support::{Backend, TOKEN, TestDb};

async fn an_acknowledged_create_survives_kill_9(backend: Backend) {
    let db = TestDb::new(backend).await;
    let env = [
        ("SCIMD_DATABASE_URL", db.url.as_str()),
        ("SCIMD_BOOTSTRAP_TOKEN", TOKEN),
        ("SCIMD_PUBLIC_URL", "http://scimd.test"),
    ];
    let dir = std::env::temp_dir();
    let (server, _) = Scimd::start(&dir, &env).await;
    let created = server
        .request("POST", "/scim/v2/Users", TOKEN, r#"{"userName":"durable"}"#)
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let created: serde_json::Value = serde_json::from_str(&created.body).unwrap();
    server.kill().await;

    let (restarted, _) = Scimd::start(&dir, &env).await;
    let path = format!("/scim/v2/Users/{}", created["id"].as_str().unwrap());
    let read = restarted.request("GET", &path, TOKEN, "").await;
    restarted.kill().await;
    assert_eq!(read.status, 200, "{}", read.body);
    let read: serde_json::Value = serde_json::from_str(&read.body).unwrap();
    assert_eq!(read, created, "the user as it was acknowledged");
}

crate::on_both_stores!(an_acknowledged_create_survives_kill_9);
