//! Kept-alive connections when an answer comes before the request's body was read (a wrong
//! token, a content type refused, a form that is not one): the rest of a small body is read,
//! and the next request on the connection is answered; a body too large to read for nothing,
//! or held back for `Expect: 100-continue`, gets `Connection: close` on its answer, so that no
//! client sends a request on a connection scimd is closing. Found by the hostile run
//! (`binary::hostile`): hyper closed such connections after the answer without saying so.

use crate::support::served::Served;
use crate::support::wire::Connection;
use crate::support::{Backend, TOKEN, TestDb};

/// A POST of `body` with `headers`, as it goes on the wire.
fn post(path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: scimd.test\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

const HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: scimd.test\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_left_unread_is_read_after_the_answer_or_the_answer_says_the_connection_closes() {
    let db = TestDb::new(Backend::Sqlite).await;
    let scimd = Served::start(&db).await;
    let mut connection = Connection::open(scimd.address).await.unwrap();
    let small = vec![b'x'; 60 * 1024];
    let refused = [
        post("/oauth/token", "Content-Type: text/plain\r\n", &small),
        post("/scim/v2/Users", "Authorization: Bearer wrong\r\n", &small),
        post(
            "/admin/sign-in",
            "Content-Type: application/json\r\n",
            &small,
        ),
        post(
            "/scim/v2/Users",
            &format!("Authorization: Bearer {TOKEN}\r\nContent-Type: text/plain\r\n"),
            &small,
        ),
    ];
    for request in &refused {
        let answer = connection.exchange(request, false).await.unwrap();
        assert!((400..500).contains(&answer.status), "{}", answer.text());
        assert!(!answer.closes, "{:?}", answer.headers);
        let health = connection.exchange(HEALTH, false).await.unwrap();
        assert_eq!(health.status, 200, "the next request on the connection");
    }
    assert_eq!(connection.answered, 8);

    let large = vec![b'x'; 200 * 1024];
    let held = "Authorization: Bearer wrong\r\nExpect: 100-continue\r\n";
    for request in [
        post("/scim/v2/Users", "Authorization: Bearer wrong\r\n", &large),
        post("/scim/v2/Users", held, b"{}"),
    ] {
        let mut connection = Connection::open(scimd.address).await.unwrap();
        let answer = connection.exchange(&request, false).await.unwrap();
        assert_eq!(answer.status, 401, "{}", answer.text());
        assert_eq!(
            answer.header("connection"),
            Some("close"),
            "{:?}",
            answer.headers
        );
    }
}
