//! Signing in to the operator page: the right password only, cookies flagged like the
//! console's (plain HTTP and behind TLS), CSRF on the sign-in and sign-out forms, sessions that
//! end when idle, at their lifetime, at sign-out, at a password change and when the account is
//! removed, the throttle, and no door between the operator page, the console and the API.

use axum::body::Body;
use axum::http::{Request, header};

use super::{HOME, OPERATOR, Operator, is_sign_in, tenants};
use crate::api::oauth::{field, text};
use crate::api::security::{PASSWORD, console_sign_in};
use crate::support::{Backend, cookie_pair};
use scimd::domain::audit::AuditFilter;

async fn only_the_right_password_signs_in_and_the_session_cookie_is_http_only_and_lax(
    backend: Backend,
) {
    let o = Operator::new(backend).await;
    let first = o
        .send(HOME, Request::get("/operator").body(Body::empty()).unwrap())
        .await;
    assert_eq!(first.status, 200);
    assert!(is_sign_in(&first), "{}", text(&first));
    assert_eq!(
        first.header("content-security-policy"),
        Some(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' ; \
             frame-ancestors 'none'; base-uri 'none'"
        )
    );
    assert_eq!(first.header("cache-control"), Some("no-store"));
    let csrf = field(&first, "csrf").unwrap();
    assert_eq!(
        first.header("set-cookie"),
        Some(
            format!("scimd_operator_login={csrf}; Path=/operator; HttpOnly; SameSite=Strict")
                .as_str()
        )
    );

    for (user, password) in [(OPERATOR, "not the password at all"), ("nobody", PASSWORD)] {
        let wrong = o.sign_in(HOME, user, password).await;
        assert_eq!(wrong.status, 401, "{user}");
        assert!(text(&wrong).contains("the user name or the password is wrong"));
        assert!(is_sign_in(&wrong));
        let sets: Vec<_> = wrong.headers.get_all("set-cookie").iter().collect();
        assert_eq!(sets.len(), 1, "only a new login cookie: {sets:?}");
        assert!(
            sets[0]
                .to_str()
                .unwrap()
                .starts_with("scimd_operator_login=")
        );
    }

    // the user name in any case, with spaces around it
    let ok = o.sign_in(HOME, " OLIVIA ", PASSWORD).await;
    assert_eq!(ok.status, 303, "{}", text(&ok));
    assert_eq!(ok.header("location"), Some("/operator"));
    let cookie = ok.header("set-cookie").unwrap();
    assert!(
        cookie.starts_with("scimd_operator=scimd_o_")
            && cookie.ends_with("; Path=/operator; HttpOnly; SameSite=Lax"),
        "{cookie}"
    );
    let page = o.get(&cookie_pair(cookie), "/operator").await;
    assert_eq!(page.status, 200);
    assert!(!is_sign_in(&page));
    assert!(text(&page).contains("Sign out olivia"));
    assert_eq!(tenants(&page), ["default"]);

    let audit = o
        .app
        .state
        .directory
        .audit(&AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let signed: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "operator_account.sign_in")
        .collect();
    assert_eq!(signed.len(), 1, "{audit:?}");
    assert_eq!(signed[0].actor.kind.as_str(), "operator_account");
    assert_eq!(signed[0].actor.name, OPERATOR);
    assert_eq!(signed[0].actor.address.as_deref(), Some(HOME));
    assert_eq!(signed[0].target.as_deref(), Some(OPERATOR));
    assert_eq!(signed[0].tenant, None);
}

async fn behind_a_trusted_proxy_over_tls_the_cookies_are_secure_and_host_prefixed(
    backend: Backend,
) {
    let o = Operator::new(backend).await;
    let get = Request::get("/operator/sign-in")
        .header("x-forwarded-proto", "https")
        .body(Body::empty())
        .unwrap();
    let form = o.send(HOME, get).await;
    let csrf = field(&form, "csrf").unwrap();
    let login = form.header("set-cookie").unwrap();
    assert_eq!(
        login,
        format!("__Host-scimd_operator_login={csrf}; Path=/; HttpOnly; SameSite=Strict; Secure")
    );
    let body = serde_urlencoded::to_string([
        ("username", OPERATOR),
        ("password", PASSWORD),
        ("csrf", &csrf),
    ])
    .unwrap();
    let post = |cookie: String| {
        Request::post("/operator/sign-in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("x-forwarded-proto", "https")
            .header(header::COOKIE, cookie)
            .body(Body::from(body.clone()))
            .unwrap()
    };
    // the plain-named login cookie is not the one of a TLS request
    let plain = o
        .send(HOME, post(format!("scimd_operator_login={csrf}")))
        .await;
    assert_eq!(plain.status, 403);
    let signed = o.send(HOME, post(cookie_pair(login))).await;
    assert_eq!(signed.status, 303, "{}", text(&signed));
    let session = signed.header("set-cookie").unwrap();
    assert!(
        session.starts_with("__Host-scimd_operator=scimd_o_")
            && session.ends_with("; Path=/; HttpOnly; SameSite=Lax; Secure"),
        "{session}"
    );
    let page = |cookie: String| {
        Request::get("/operator")
            .header("x-forwarded-proto", "https")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap()
    };
    let shown = o.send(HOME, page(cookie_pair(session))).await;
    assert!(!is_sign_in(&shown), "signed in");
    let unprefixed = cookie_pair(session).replace("__Host-", "");
    assert!(is_sign_in(&o.send(HOME, page(unprefixed)).await));
}

async fn a_sign_in_without_its_forms_csrf_cookie_is_refused_and_opens_no_session(backend: Backend) {
    let o = Operator::new(backend).await;
    let (csrf, cookie) = o.login_form().await;
    for (field, cookie) in [
        (csrf.as_str(), ""),
        ("", cookie.as_str()),
        ("forged", cookie.as_str()),
    ] {
        let refused = o
            .sign_in_with(HOME, (field, cookie), OPERATOR, PASSWORD)
            .await;
        assert_eq!(refused.status, 403);
        assert!(text(&refused).contains("the sign-in form expired or came from another page"));
        let set = refused.header("set-cookie").unwrap();
        assert!(
            set.starts_with("scimd_operator_login="),
            "no session: {set}"
        );
    }
}

async fn sign_out_needs_the_sessions_csrf_token_and_ends_the_session(backend: Backend) {
    let o = Operator::new(backend).await;
    let s = o.session().await;
    let forged = o
        .post(&s.cookie, "/operator/sign-out", &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status, 403);
    assert!(text(&forged).contains("the form came from another page or an old session"));
    assert!(
        !is_sign_in(&o.get(&s.cookie, "/operator").await),
        "still open"
    );
    let out = o
        .post(&s.cookie, "/operator/sign-out", &[("csrf", &s.csrf)])
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(out.header("location"), Some("/operator/sign-in"));
    assert_eq!(
        out.header("set-cookie"),
        Some("scimd_operator=; Path=/operator; HttpOnly; SameSite=Lax; Max-Age=0")
    );
    let after = o.get(&s.cookie, "/operator").await;
    assert!(is_sign_in(&after));
    assert!(text(&after).contains("your session has ended; sign in again"));
}

async fn a_password_change_or_the_accounts_removal_ends_its_sessions(backend: Backend) {
    let o = Operator::new(backend).await;
    let dir = &o.app.state.directory;
    let s = o.session().await;
    dir.set_operator_account_password(OPERATOR, "a brand new passphrase")
        .await
        .unwrap();
    assert!(is_sign_in(&o.get(&s.cookie, "/operator").await));
    let old = o.sign_in(HOME, OPERATOR, PASSWORD).await;
    assert_eq!(old.status, 401, "the old password is gone");
    let again = o.sign_in(HOME, OPERATOR, "a brand new passphrase").await;
    assert_eq!(again.status, 303);
    let cookie = cookie_pair(again.header("set-cookie").unwrap());
    assert!(!is_sign_in(&o.get(&cookie, "/operator").await));
    dir.remove_operator_account(OPERATOR).await.unwrap();
    assert!(is_sign_in(&o.get(&cookie, "/operator").await));
    let gone = o.sign_in(HOME, OPERATOR, "a brand new passphrase").await;
    assert_eq!(gone.status, 401);
    let actions: Vec<String> = dir
        .audit(&AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("operator_account."))
        .map(|e| format!("{} {}", e.action, e.target.unwrap_or_default()))
        .collect();
    assert_eq!(
        actions,
        [
            "operator_account.remove olivia",
            "operator_account.sign_in olivia",
            "operator_account.password olivia",
            "operator_account.sign_in olivia",
            "operator_account.add olivia",
        ]
    );
}

async fn too_many_attempts_from_one_address_are_held_while_another_address_signs_in(
    backend: Backend,
) {
    let o = Operator::new(backend).await;
    let attacker = "203.0.113.66";
    for _ in 0..5 {
        let wrong = o.sign_in(attacker, OPERATOR, "not her password").await;
        assert_eq!(wrong.status, 401);
    }
    let held = o.sign_in(attacker, OPERATOR, PASSWORD).await;
    assert_eq!(held.status, 429, "held even with the right password");
    let wait: u64 = held.header("retry-after").unwrap().parse().unwrap();
    assert!((800..=900).contains(&wait), "{wait}");
    assert!(text(&held).contains("too many sign-in attempts from your address"));
    let home = o.sign_in(HOME, OPERATOR, PASSWORD).await;
    assert_eq!(home.status, 303, "the operator is not kept out from home");
}

async fn a_console_session_or_an_operator_key_never_opens_the_page_nor_its_session_anything_else(
    backend: Backend,
) {
    let o = Operator::new(backend).await;
    let admin = console_sign_in(&o.app, HOME, ("default", "alice", PASSWORD)).await;
    assert_eq!(admin.status, 303);
    let console = cookie_pair(admin.header("set-cookie").unwrap());
    assert!(console.starts_with("scimd_session="));
    // the console's cookie, as it is and under the operator page's name
    let renamed = console.replace("scimd_session=", "scimd_operator=");
    for cookie in [console.as_str(), renamed.as_str()] {
        assert!(is_sign_in(&o.get(cookie, "/operator").await), "{cookie}");
    }
    let key = o
        .app
        .state
        .directory
        .add_operator_key("backend", false)
        .await
        .unwrap();
    let with_key = Request::get("/operator")
        .header(header::AUTHORIZATION, format!("Bearer {}", key.key))
        .body(Body::empty())
        .unwrap();
    assert!(is_sign_in(&o.send(HOME, with_key).await));

    let s = o.session().await;
    let token = s.cookie.trim_start_matches("scimd_operator=");
    let as_console = o.get(&format!("scimd_session={token}"), "/admin").await;
    assert_eq!(as_console.status, 200);
    assert!(text(&as_console).contains("action=\"/admin/sign-in\""));
    let as_key = Request::get("/api/v1/tenants")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(o.send(HOME, as_key).await.status, 401);
    let with_cookie = o.get(&s.cookie, "/api/v1/tenants").await;
    assert_eq!(with_cookie.status, 401);
}

async fn a_session_ends_after_thirty_idle_minutes_and_twelve_hours_after_sign_in(backend: Backend) {
    let o = Operator::new(backend).await;
    let clock = o.app.state.directory.clock();
    let minutes = |n: u64| std::time::Duration::from_secs(n * 60);
    let idle = o.session().await;
    clock.advance(minutes(29));
    assert!(
        !is_sign_in(&o.get(&idle.cookie, "/operator").await),
        "used within 30 minutes"
    );
    clock.advance(minutes(29));
    assert!(
        !is_sign_in(&o.get(&idle.cookie, "/operator").await),
        "each use keeps it open"
    );
    clock.advance(minutes(31));
    let ended = o.get(&idle.cookie, "/operator").await;
    assert!(is_sign_in(&ended));
    assert!(text(&ended).contains("your session has ended; sign in again"));

    let busy = o.session().await;
    // used every 29 minutes: open for 24 × 29 = 696 minutes, then past 12 hours
    for _ in 0..24 {
        clock.advance(minutes(29));
        assert!(!is_sign_in(&o.get(&busy.cookie, "/operator").await));
    }
    clock.advance(minutes(29));
    assert!(
        is_sign_in(&o.get(&busy.cookie, "/operator").await),
        "12 hours at most"
    );
}

crate::on_both_stores!(
    a_session_ends_after_thirty_idle_minutes_and_twelve_hours_after_sign_in,
    only_the_right_password_signs_in_and_the_session_cookie_is_http_only_and_lax,
    behind_a_trusted_proxy_over_tls_the_cookies_are_secure_and_host_prefixed,
    a_sign_in_without_its_forms_csrf_cookie_is_refused_and_opens_no_session,
    sign_out_needs_the_sessions_csrf_token_and_ends_the_session,
    a_password_change_or_the_accounts_removal_ends_its_sessions,
    too_many_attempts_from_one_address_are_held_while_another_address_signs_in,
    a_console_session_or_an_operator_key_never_opens_the_page_nor_its_session_anything_else,
);
