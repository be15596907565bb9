//! HTTP-01 against Debian's Pebble, with its real validation: scimd with
//! `SCIMD_ACME_CHALLENGE=http-01` answers Pebble's request for the challenge's key authorization
//! on the plain listener of `SCIMD_HTTP_REDIRECT_LISTEN` (Pebble's `httpPort`) and serves the
//! certificate Pebble issues; once the order is over, the challenge's path is redirected to
//! HTTPS like every other request on that listener. Without that listener, `http-01` stops
//! the start.

use std::time::Duration;

use super::https::{refused_start, scratch};
use crate::support::Backend;
use crate::support::acme::Run;

crate::on_both_stores!(
    http_01_is_answered_on_the_redirect_listener_while_pending_and_redirected_like_the_rest_after,
);

async fn http_01_is_answered_on_the_redirect_listener_while_pending_and_redirected_like_the_rest_after(
    backend: Backend,
) {
    let run = Run::new(backend).await;
    let pebble = run.pebble(3600).await;
    let plain = format!("127.0.0.1:{}", run.ports.http);
    let extra = [
        ("SCIMD_HTTP_REDIRECT_LISTEN", plain.as_str()),
        ("SCIMD_ACME_CHALLENGE", "http-01"),
    ];
    let scimd = run.scimd(&extra).await;
    let root = pebble.root(&run.ca).await;
    // a certificate of Pebble's CA: Pebble fetched the key authorization over plain HTTP
    run.next_served(&root, None, Duration::from_secs(60)).await;
    assert_eq!(run.counters(&root).await, (1, 0));
    let answered = run.logged("ACME challenge answered");
    assert_eq!(answered.len(), 1, "{answered:?}");
    assert_eq!(answered[0]["challenge"], "http-01");
    assert_eq!(answered[0]["name"], "localhost");
    let token = answered[0]["token"].as_str().unwrap();
    assert!(token.len() >= 22, "{token}");

    // the order is over: its token is not answered any more, and every request is redirected
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let paths = [
        format!("/.well-known/acme-challenge/{token}"),
        "/.well-known/acme-challenge/unknown".to_owned(),
        "/scim/v2/Users?count=1".to_owned(),
    ];
    for path in paths {
        for method in [reqwest::Method::GET, reqwest::Method::POST] {
            let answer = client
                .request(method.clone(), format!("http://{plain}{path}"))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 308, "{method} {path}");
            assert_eq!(
                answer.headers()["location"],
                format!("https://127.0.0.1:{}{path}", run.ports.tls).as_str(),
                "{method} {path}"
            );
            assert_eq!(answer.text().await.unwrap(), "");
        }
    }
    scimd.kill().await;
    pebble.stop().await;
    let _ = std::fs::remove_dir_all(&run.dir);
}

#[tokio::test]
async fn http_01_without_the_redirect_listener_stops_the_start_before_anything_is_created() {
    let dir = scratch("scimd-http01-refused");
    let env = [
        ("SCIMD_ACME_DOMAINS", "scim.example.com"),
        ("SCIMD_ACME_CHALLENGE", "http-01"),
    ];
    let stderr = refused_start(&dir, &env).await;
    assert_eq!(
        stderr.trim(),
        "scimd: SCIMD_ACME_CHALLENGE=http-01 is answered on the plain listener: it needs \
         SCIMD_HTTP_REDIRECT_LISTEN",
    );
    assert!(!dir.join("scimd.db").exists());
    assert!(!dir.join("acme").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
