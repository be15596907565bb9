//! The operator page's "HTTPS certificate" section, shown when ACME provides the certificate:
//! the names and the directory, the certificate served (until when, when its renewal is due),
//! and the last failure — when, what, how many attempts in a row and when the next is, or that
//! a certificate was obtained since.

use std::time::SystemTime;

use chrono::{DateTime, Utc};

use crate::tls::acme::status::Snapshot;

/// The section, as the template shows it.
pub struct Certificate {
    /// `serving`, `failing` (a renewal is failing; the certificate served is the old one),
    /// `none` (none obtained yet) or `none_failing`.
    pub state: &'static str,
    pub names: String,
    pub directory: String,
    /// What is served, and until when.
    pub served: String,
    /// The last failure, if any.
    pub failure: Option<String>,
    /// Whether that failure is the state now (no certificate obtained since).
    pub failing: bool,
}

/// To the second, in UTC: certificates are read to the second.
fn when(at: SystemTime) -> String {
    DateTime::<Utc>::from(at)
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}

/// The section of `status`.
pub fn certificate(status: &Snapshot) -> Certificate {
    let failing = status.failing > 0;
    let state = match (&status.served, failing) {
        (Some(_), false) => "serving",
        (Some(_), true) => "failing",
        (None, false) => "none",
        (None, true) => "none_failing",
    };
    let served = match &status.served {
        Some(s) => format!(
            "Serving a certificate valid until {} (from {}); its renewal is due at {}.",
            when(s.not_after),
            when(s.not_before),
            when(s.renew_at)
        ),
        None => "No certificate yet: HTTPS handshakes are refused until the first one is \
                 obtained."
            .to_owned(),
    };
    let failure = status.failure.as_ref().map(|f| {
        if failing {
            let attempts = match status.failing {
                1 => "1 attempt".to_owned(),
                n => format!("{n} attempts in a row"),
            };
            let next = status
                .retry_at
                .map_or_else(String::new, |t| format!(" Next attempt at {}.", when(t)));
            let meanwhile = if status.served.is_some() {
                " The certificate above is served meanwhile."
            } else {
                ""
            };
            format!(
                "Failing: {attempts} failed, the last at {}: {}.{next}{meanwhile}",
                when(f.at),
                f.what
            )
        } else {
            let since = status.obtained.map_or_else(String::new, |t| {
                format!("; a certificate was obtained at {}", when(t))
            });
            format!("The last failure was at {}: {}{since}.", when(f.at), f.what)
        }
    });
    Certificate {
        state,
        names: status.domains.join(", "),
        directory: status.directory.clone(),
        served,
        failure,
        failing,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::tls::acme::status::{Failure, Served};

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn a_failing_renewal_says_when_what_how_often_and_that_the_old_certificate_is_served() {
        let status = Snapshot {
            domains: vec!["scim.example.com".into(), "b.example.com".into()],
            directory: "https://ca.test/dir".into(),
            served: Some(Served {
                not_before: at(0),
                not_after: at(90 * 86_400),
                renew_at: at(60 * 86_400),
            }),
            obtained: None,
            failure: Some(Failure {
                at: at(60 * 86_400 + 30),
                what: "order not placed: connection refused".into(),
            }),
            failing: 2,
            retry_at: Some(at(60 * 86_400 + 50)),
        };
        let shown = certificate(&status);
        assert_eq!(shown.state, "failing");
        assert!(shown.failing);
        assert_eq!(shown.names, "scim.example.com, b.example.com");
        assert_eq!(
            shown.served,
            "Serving a certificate valid until 1970-04-01 00:00:00 UTC (from 1970-01-01 \
             00:00:00 UTC); its renewal is due at 1970-03-02 00:00:00 UTC."
        );
        assert_eq!(
            shown.failure.as_deref(),
            Some(
                "Failing: 2 attempts in a row failed, the last at 1970-03-02 00:00:30 UTC: order \
                 not placed: connection refused. Next attempt at 1970-03-02 00:00:50 UTC. The \
                 certificate above is served meanwhile."
            )
        );
    }

    #[test]
    fn a_failure_followed_by_a_certificate_is_shown_as_past() {
        let status = Snapshot {
            domains: vec!["scim.example.com".into()],
            directory: "https://ca.test/dir".into(),
            served: None,
            obtained: Some(at(100)),
            failure: Some(Failure {
                at: at(40),
                what: "no answer".into(),
            }),
            failing: 0,
            retry_at: None,
        };
        let shown = certificate(&status);
        assert_eq!(shown.state, "none");
        assert!(!shown.failing);
        assert_eq!(
            shown.failure.as_deref(),
            Some(
                "The last failure was at 1970-01-01 00:00:40 UTC: no answer; a certificate was \
                 obtained at 1970-01-01 00:01:40 UTC."
            )
        );
        let none = certificate(&Snapshot {
            failing: 1,
            failure: Some(Failure {
                at: at(0),
                what: "down".into(),
            }),
            ..Snapshot::default()
        });
        assert_eq!(none.state, "none_failing");
        assert_eq!(
            none.failure.as_deref(),
            Some("Failing: 1 attempt failed, the last at 1970-01-01 00:00:00 UTC: down.")
        );
    }
}
