//! Hostile input at the operator page: NUL characters and huge values in the sign-in form,
//! parallel sign-ins (the throttle counts every guess; honest sign-ins each get a session of
//! their own), and `X-Forwarded-*` headers forged by a client that is no trusted proxy, which
//! neither make its cookies `Secure` nor move it out of the throttle.

use axum::body::Body;
use axum::http::{Request, header};
use futures_util::future::join_all;

use super::{HOME, OPERATOR, Operator, is_sign_in};
use crate::api::oauth::{field, text};
use crate::api::security::{PASSWORD, from_peer};
use crate::support::{Backend, TestResponse, cookie_pair};

async fn nul_characters_and_huge_values_in_the_sign_in_form_are_refused_without_a_5xx(
    backend: Backend,
) {
    let o = Operator::new(backend).await;
    let huge = "é".repeat(30_000);
    let cases: [(&str, &str); 5] = [
        ("oli\0via", PASSWORD),
        ("\0", PASSWORD),
        (OPERATOR, "correct horse\0battery staple"),
        (&huge, PASSWORD),
        (OPERATOR, &huge),
    ];
    for (n, (user, password)) in cases.into_iter().enumerate() {
        // each from an address of its own, so that the throttle holds none of them
        let client = format!("192.0.2.{}", n + 1);
        let refused = o.sign_in(&client, user, password).await;
        assert_eq!(refused.status, 401, "case {n}: {}", text(&refused));
        assert!(text(&refused).contains("the user name or the password is wrong"));
        assert!(is_sign_in(&refused));
        let shown = refused.body.as_str().unwrap();
        assert!(!shown.contains('\0'), "case {n}: a NUL is not shown again");
        assert!(
            shown.len() < 10_000,
            "case {n}: the name is shown at most 1024 characters"
        );
    }
    let (csrf, cookie) = o.login_form().await;
    let nul_csrf = o
        .sign_in_with(HOME, (&format!("{csrf}\0"), &cookie), OPERATOR, PASSWORD)
        .await;
    assert_eq!(nul_csrf.status, 403);
    let not_a_form = Request::post("/operator/sign-in")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"username\": \"olivia\"}"))
        .unwrap();
    let refused = o.send(HOME, not_a_form).await;
    assert_eq!(refused.status, 415);
    assert!(text(&refused).contains("Cannot read this request"));
    let ok = o.sign_in(HOME, OPERATOR, PASSWORD).await;
    assert_eq!(ok.status, 303, "the account still signs in");
}

async fn parallel_guesses_get_five_checks_and_parallel_sign_ins_their_own_sessions(
    backend: Backend,
) {
    let o = Operator::new(backend).await;
    let dir = &o.app.state.directory;
    let before = dir.password_checks();
    let (csrf, cookie) = o.login_form().await;
    let guesses = (0..12).map(|n| {
        let (o, csrf, cookie) = (&o, &csrf, &cookie);
        async move {
            let password = format!("guess number {n:03}");
            o.sign_in_with("203.0.113.66", (csrf, cookie), OPERATOR, &password)
                .await
                .status
                .as_u16()
        }
    });
    let mut statuses = join_all(guesses).await;
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 401, 429, 429, 429, 429, 429, 429, 429]
    );
    assert_eq!(dir.password_checks() - before, 5);

    let honest = (0..4).map(|n| {
        let o = &o;
        async move {
            o.sign_in(&format!("198.51.100.{}", 50 + n), OPERATOR, PASSWORD)
                .await
        }
    });
    let signed: Vec<TestResponse> = join_all(honest).await;
    let mut sessions: Vec<String> = signed
        .iter()
        .map(|r| {
            assert_eq!(r.status, 303, "{}", text(r));
            cookie_pair(r.header("set-cookie").unwrap())
        })
        .collect();
    for cookie in &sessions {
        assert!(!is_sign_in(&o.get(cookie, "/operator").await), "{cookie}");
    }
    sessions.sort();
    sessions.dedup();
    assert_eq!(sessions.len(), 4, "a session each");
}

async fn forged_forwarded_headers_neither_secure_the_cookies_nor_escape_the_throttle(
    backend: Backend,
) {
    let o = Operator::new(backend).await;
    // a client that is not the trusted proxy, claiming TLS and other addresses
    let peer = "198.51.100.9:5555";
    let forged = |req: axum::http::request::Builder, n: u32| {
        req.header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "evil.example")
            .header("x-forwarded-for", format!("192.0.2.{n}"))
    };
    let form = o
        .app
        .send(from_peer(
            forged(Request::get("/operator/sign-in"), 1)
                .body(Body::empty())
                .unwrap(),
            peer,
        ))
        .await;
    let set = form.header("set-cookie").unwrap();
    assert!(
        set.starts_with("scimd_operator_login=")
            && set.ends_with("; Path=/operator; HttpOnly; SameSite=Strict"),
        "{set}"
    );
    let csrf = field(&form, "csrf").unwrap();
    let attempt = |n: u32, password: &str| {
        let body = serde_urlencoded::to_string([
            ("username", OPERATOR),
            ("password", password),
            ("csrf", &csrf),
        ])
        .unwrap();
        let req = forged(Request::post("/operator/sign-in"), n)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookie_pair(set))
            .body(Body::from(body))
            .unwrap();
        o.app.send(from_peer(req, peer))
    };
    for n in 0..5 {
        assert_eq!(attempt(n, "not her password").await.status, 401);
    }
    let held = attempt(99, PASSWORD).await;
    assert_eq!(
        held.status, 429,
        "counted by the peer's address, not the forged one"
    );
    let audit_before = o
        .app
        .state
        .directory
        .audit(&scimd::domain::audit::AuditFilter {
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        audit_before
            .iter()
            .all(|e| e.action != "operator_account.sign_in")
    );
}

crate::on_both_stores!(
    nul_characters_and_huge_values_in_the_sign_in_form_are_refused_without_a_5xx,
    parallel_guesses_get_five_checks_and_parallel_sign_ins_their_own_sessions,
    forged_forwarded_headers_neither_secure_the_cookies_nor_escape_the_throttle,
);
