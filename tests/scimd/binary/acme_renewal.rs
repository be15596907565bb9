//! ACME renewals against Debian's Pebble, with its real TLS-ALPN-01 validation and certificates
//! that live seconds (Pebble's `certificateValidityPeriod`), so that a renewal comes due within
//! the test: a certificate renewed when two thirds of its life have passed, the new one served;
//! a renewal that fails with Pebble stopped, the old certificate served on and the failure in
//! the log, in `scimd_acme_failures_total` and on the operator page; and scimd started while
//! the directory is down, serving Pebble's certificate once Pebble is up.

use std::time::{Duration, Instant, SystemTime};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::support::Backend;
use crate::support::acme::{Run, renew_at, section_showing};
use crate::support::pebble::{shown, validity};

crate::on_both_stores!(
    a_certificate_is_renewed_once_two_thirds_of_its_life_have_passed_and_the_new_one_is_served,
    a_renewal_that_fails_keeps_the_old_certificate_served_and_shows_in_the_log_metrics_and_page,
    scimd_starts_while_the_directory_is_down_and_serves_pebbles_certificate_once_it_is_up,
);

async fn a_certificate_is_renewed_once_two_thirds_of_its_life_have_passed_and_the_new_one_is_served(
    backend: Backend,
) {
    let run = Run::new(backend).await;
    let pebble = run.pebble(30).await;
    let scimd = run.scimd(&[]).await;
    let root = pebble.root(&run.ca).await;
    let first = run.next_served(&root, None, Duration::from_secs(60)).await;
    let first_life = validity(&first);
    // Pebble's life to the second, give or take one
    let seconds = first_life.1.duration_since(first_life.0).unwrap().as_secs();
    assert!(seconds.abs_diff(30) <= 1, "{first_life:?}");

    let renewed = run
        .next_served(&root, Some(&first), Duration::from_secs(45))
        .await;
    let seen = SystemTime::now();
    let life = validity(&renewed);
    // renewed when due, not before; and not left to expire
    assert!(
        seen + Duration::from_secs(1) >= renew_at(first_life),
        "renewed early: {life:?}"
    );
    assert!(
        life.0 + Duration::from_secs(1) >= renew_at(first_life),
        "{life:?} {first_life:?}"
    );
    assert!(
        life.1 > first_life.1 && seen < first_life.1,
        "{life:?} {first_life:?}"
    );
    assert_eq!(run.counters(&root).await, (2, 0));
    // and stored, so that a restart serves the renewed certificate
    let stored = std::fs::read(run.dir.join("acme").join("certificate.pem")).unwrap();
    let stored = CertificateDer::pem_slice_iter(&stored)
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(stored, renewed);
    assert_eq!(run.logged("ACME certificate obtained").len(), 2);
    assert!(run.logged("ACME: no certificate obtained").is_empty());

    let page = run.operator_page(&root).await;
    let shown_section = section_showing(
        &page,
        "serving",
        &[
            format!(
                "Serving a certificate valid until {} (from {}); its renewal is due at {}.",
                shown(life.1),
                shown(life.0),
                shown(renew_at(life))
            ),
            format!(
                "For localhost, from the ACME directory {}.",
                run.ports.directory()
            ),
        ],
    );
    assert!(!shown_section.contains("failure"), "{shown_section}");
    scimd.kill().await;
    pebble.stop().await;
    let _ = std::fs::remove_dir_all(&run.dir);
}

async fn a_renewal_that_fails_keeps_the_old_certificate_served_and_shows_in_the_log_metrics_and_page(
    backend: Backend,
) {
    let run = Run::new(backend).await;
    let pebble = run.pebble(60).await;
    let scimd = run.scimd(&[]).await;
    let root = pebble.root(&run.ca).await;
    let first = run.next_served(&root, None, Duration::from_secs(60)).await;
    let life = validity(&first);
    // signed in now: after the failure, only quick reads before the retry 10 s later
    let session = run.sign_in(&root).await;
    pebble.stop().await;

    // the renewal comes due 40 s into the certificate's life and fails at once
    let due = renew_at(life);
    let started = Instant::now();
    while run.counters(&root).await.1 == 0 {
        let late = SystemTime::now().duration_since(due).unwrap_or_default();
        assert!(
            late < Duration::from_secs(10),
            "no failure counted {started:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let failed_by = SystemTime::now();
    assert!(
        failed_by + Duration::from_secs(1) >= due,
        "a renewal before it was due"
    );
    assert_eq!(run.counters(&root).await, (1, 1));
    // the old certificate, still valid, served on
    assert!(failed_by < life.1);
    assert_eq!(run.served(&root).await.unwrap(), first);

    let failures = run.logged("ACME: no certificate obtained");
    assert_eq!(failures.len(), 1, "{failures:?}");
    let failure = &failures[0];
    assert_eq!(failure["level"], "ERROR");
    assert_eq!(failure["serving_previous"], true);
    assert_eq!(failure["retry_in_seconds"], 10);
    let error = failure["error"].as_str().unwrap();
    let directory = run.ports.directory();
    assert!(
        error.starts_with(&format!("the ACME directory {directory}: ")),
        "{error}"
    );

    let page = run.page(&root, &session).await;
    section_showing(
        &page,
        "failing",
        &[
            format!("Serving a certificate valid until {}", shown(life.1)),
            "<p class=\"failure bad\">Failing: 1 attempt failed, the last at ".to_owned(),
            format!(": {error}. Next attempt at "),
            ". The certificate above is served meanwhile.</p>".to_owned(),
        ],
    );
    scimd.kill().await;
    let _ = std::fs::remove_dir_all(&run.dir);
}

async fn scimd_starts_while_the_directory_is_down_and_serves_pebbles_certificate_once_it_is_up(
    backend: Backend,
) {
    let run = Run::new(backend).await;
    let scimd = run.scimd(&[]).await;
    // started and listening; the first attempt fails at once, and is logged
    let started = Instant::now();
    while run.logged("ACME: no certificate obtained").is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no failure logged"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let failure = &run.logged("ACME: no certificate obtained")[0];
    assert_eq!(failure["serving_previous"], false);
    assert_eq!(failure["retry_in_seconds"], 10);
    // no certificate yet: the handshake is refused (whatever the client trusts)
    assert!(run.served(&run.ca.pem()).await.is_err());

    let pebble = run.pebble(3600).await;
    let root = pebble.root(&run.ca).await;
    // the retry 10 s after the failure gets Pebble's certificate (or, when Pebble was slower
    // to start than that on a loaded machine, the one 20 s after the next failure)
    let served = run.next_served(&root, None, Duration::from_secs(45)).await;
    let life = validity(&served);
    let seconds = life.1.duration_since(life.0).unwrap().as_secs();
    assert!(seconds.abs_diff(3600) <= 1, "{life:?}");
    let failures = run.logged("ACME: no certificate obtained");
    let obtained = run.logged("ACME certificate obtained");
    assert_eq!(obtained.len(), 1);
    // timed by scimd's own log, not by this test's clock, which starts once the CLI is done
    let paused = logged_at(&obtained[0]) - logged_at(failures.last().unwrap());
    assert!(
        paused >= chrono::Duration::seconds(10),
        "obtained {paused} after the failure"
    );
    assert_eq!(run.counters(&root).await, (1, failures.len() as u64));

    let page = run.operator_page(&root).await;
    section_showing(
        &page,
        "serving",
        &[
            format!("Serving a certificate valid until {}", shown(life.1)),
            "<p class=\"failure\">The last failure was at ".to_owned(),
            "; a certificate was obtained at ".to_owned(),
        ],
    );
    scimd.kill().await;
    pebble.stop().await;
    let _ = std::fs::remove_dir_all(&run.dir);
}

/// When a line of scimd's JSON log was written.
fn logged_at(line: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    line["timestamp"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no timestamp in {line}"))
}
