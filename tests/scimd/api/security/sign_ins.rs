//! The sign-in throttle: an attempt is counted in the store before its password is checked, so
//! parallel guesses get no more checks than sequential ones; the count is per address (as a
//! trusted proxy reports it) at one account and at all accounts, never per account alone, so
//! failures from elsewhere cannot keep an admin out; replicas share the count.

use futures_util::future::join_all;

use super::{PASSWORD, console_sign_in, login_form, proxied_app, sign_in_with};
use crate::api::oauth::text;
use crate::support::{Backend, TestApp, execute_sql};

const ATTACKER: &str = "203.0.113.66";
const ADMIN_HOME: &str = "198.51.100.20";

async fn ninety_six_parallel_wrong_passwords_for_one_account_check_at_most_six(backend: Backend) {
    let app = proxied_app(backend).await;
    let dir = &app.state.directory;
    let before = dir.password_checks();
    // one login form, reused by every request (its CSRF cookie stays valid)
    let (csrf, cookie) = login_form(&app).await;
    let guesses = (0..96).map(|n| {
        let password = format!("guess number {n:03}");
        let (app, csrf, cookie) = (&app, &csrf, &cookie);
        async move {
            sign_in_with(app, ATTACKER, csrf, cookie, ("default", "alice", &password))
                .await
                .status
                .as_u16()
        }
    });
    let statuses = join_all(guesses).await;
    let checked = dir.password_checks() - before;
    let wrong = statuses.iter().filter(|s| **s == 401).count();
    let held = statuses.iter().filter(|s| **s == 429).count();
    assert!(checked <= 6, "{checked} passwords were checked");
    assert_eq!(wrong as u64, checked, "{statuses:?}");
    assert_eq!(wrong + held, 96, "every other guess is held: {statuses:?}");
    // the admin, from her own address, is not kept out
    let home = console_sign_in(&app, ADMIN_HOME, ("default", "alice", PASSWORD)).await;
    assert_eq!(home.status, 303, "{}", text(&home));
}

async fn failures_from_one_address_never_keep_the_admin_out_from_another(backend: Backend) {
    let app = proxied_app(backend).await;
    for _ in 0..30 {
        console_sign_in(&app, ATTACKER, ("default", "alice", "not her password")).await;
    }
    let from_attacker = console_sign_in(&app, ATTACKER, ("default", "alice", PASSWORD)).await;
    assert_eq!(
        from_attacker.status, 429,
        "the address is held at the account"
    );
    let wait: u64 = from_attacker
        .header("retry-after")
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    assert!(
        text(&from_attacker).contains("too many sign-in attempts from your address"),
        "{}",
        text(&from_attacker)
    );
    // past 20 attempts the address is held at every account
    let other_account = console_sign_in(&app, ATTACKER, ("default", "bob", PASSWORD)).await;
    assert_eq!(other_account.status, 429);
    let home = console_sign_in(&app, ADMIN_HOME, ("default", "alice", PASSWORD)).await;
    assert_eq!(home.status, 303, "{}", text(&home));
    // another address of the attacker's /64 is the same address
    for n in 0..6 {
        let address = format!("2001:db8:66:1::{n:x}");
        let answer = console_sign_in(&app, &address, ("default", "alice", "nope nope")).await;
        let expected = if n < 5 { 401 } else { 429 };
        assert_eq!(answer.status, expected, "attempt {n} from {address}");
    }
}

async fn a_success_starts_the_count_again_and_unknown_names_count_like_known_ones(
    backend: Backend,
) {
    let app = proxied_app(backend).await;
    for _ in 0..4 {
        let wrong = console_sign_in(&app, ATTACKER, ("default", "alice", "wrong")).await;
        assert_eq!(wrong.status, 401);
    }
    let right = console_sign_in(&app, ATTACKER, ("default", "alice", PASSWORD)).await;
    assert_eq!(right.status, 303);
    for _ in 0..5 {
        let wrong = console_sign_in(&app, ATTACKER, ("default", "alice", "wrong")).await;
        assert_eq!(wrong.status, 401, "the count started again");
    }
    // a tenant or a name that does not exist is counted as an account of its own
    let unknown = ("nowhere", "mallory", "whatever");
    for n in 0..6 {
        let answer = console_sign_in(&app, "192.0.2.5", unknown).await;
        assert_eq!(answer.status, if n < 5 { 401 } else { 429 }, "attempt {n}");
        assert!(
            n == 5 || text(&answer).contains("the tenant, user name or password is wrong"),
            "the same answer as a known name"
        );
    }
}

async fn replicas_share_one_count_and_an_ended_window_forgets_it(backend: Backend) {
    let a = proxied_app(backend).await;
    let mut config = crate::support::settings(&a.db.url);
    config.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    let b = TestApp::configured(a.db.replica(), config).await;
    for app in [&a, &a, &a, &b, &b] {
        let wrong = console_sign_in(app, ATTACKER, ("default", "alice", "wrong")).await;
        assert_eq!(wrong.status, 401);
    }
    let held = console_sign_in(&a, ATTACKER, ("default", "alice", PASSWORD)).await;
    assert_eq!(held.status, 429, "the other replica's failures count");
    // the window is over: attempts are counted afresh, and the old rows are pruned
    execute_sql(
        &a.db,
        &[format!(
            "update sign_in_attempts set window_start = {}",
            match backend {
                Backend::Postgres => "now() - interval '16 minutes'".to_owned(),
                Backend::Sqlite => format!(
                    "{}",
                    (chrono::Utc::now() - chrono::TimeDelta::minutes(16)).timestamp_millis()
                ),
            }
        )],
    )
    .await;
    let pruned = a.state.directory.prune_sign_in_attempts().await.unwrap();
    assert_eq!(pruned, 2, "the account and the address of the attacker");
    let again = console_sign_in(&b, ATTACKER, ("default", "alice", PASSWORD)).await;
    assert_eq!(again.status, 303);
}

crate::on_both_stores!(
    ninety_six_parallel_wrong_passwords_for_one_account_check_at_most_six,
    failures_from_one_address_never_keep_the_admin_out_from_another,
    a_success_starts_the_count_again_and_unknown_names_count_like_known_ones,
    replicas_share_one_count_and_an_ended_window_forgets_it,
);
