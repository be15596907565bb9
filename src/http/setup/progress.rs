//! The setup page's progress section as it shows it: the connection's steps, in the words of
//! the identity provider the admin chose, and the first cycle's causes and unkept attributes.

use chrono::{DateTime, Utc};

use super::Opened;
use super::providers::Provider;
use crate::domain::setup::{Cause, Progress};
use crate::service::setup::ignored_by_urn;

/// One step of the connection, as the page shows it.
pub(super) struct Step {
    pub(super) id: &'static str,
    pub(super) title: &'static str,
    pub(super) done: bool,
    /// When it happened.
    pub(super) at: Option<String>,
    /// What it found, or what to do while it waits.
    pub(super) detail: String,
}

/// Attributes sent under an extension URN no schema of the tenant defines.
pub(super) struct Unkept {
    pub(super) urn: String,
    pub(super) names: String,
}

/// The progress section: refreshed in place by the script, or with the page.
pub(super) struct ProgressView {
    /// Where the script reads the section again.
    pub(super) path: String,
    /// Whether a step still waits (the page refreshes while one does).
    pub(super) waiting: bool,
    pub(super) steps: Vec<Step>,
    pub(super) causes: Vec<Cause>,
    pub(super) unkept: Vec<Unkept>,
    /// Attributes without a URN: kept only once the provider sends them under one.
    pub(super) bare: Vec<String>,
    /// A credential that no longer works.
    pub(super) credentials: Option<String>,
    pub(super) csrf: String,
    pub(super) idp: &'static str,
    pub(super) schema_action: String,
    pub(super) logs: &'static str,
}

pub(super) fn at(t: DateTime<Utc>) -> String {
    crate::service::setup::expires_text(t)
}

/// The progress as the page shows it, in the provider's words.
pub(super) fn view(
    progress: Progress,
    provider: Provider,
    opened: &Opened,
    credentials: Option<String>,
) -> ProgressView {
    let connected = progress.connected.as_ref();
    let mut steps = vec![Step {
        id: "step-test-connection",
        title: "Test Connection",
        done: connected.is_some(),
        at: connected.map(|c| at(c.at)),
        detail: match connected {
            Some(c) => {
                let with = match c.credential.split(' ').next() {
                    Some("oauth") => "through Authorize (OAuth)",
                    Some("entra") => "with a token Entra signed",
                    _ => "with a Secret Token",
                };
                format!("Your identity provider reached the application {with}.")
            }
            None => provider.before_test.to_owned(),
        },
    }];
    steps.push(Step {
        id: "step-first-user",
        title: "First user",
        done: progress.first_user.is_some(),
        at: progress.first_user.map(at),
        detail: match (progress.first_user, connected) {
            (Some(_), _) => "The first user was created.".to_owned(),
            (None, Some(_)) => provider.before_first_user.to_owned(),
            (None, None) => "Waits for the connection.".to_owned(),
        },
    });
    let (cycle_done, cycle_at, cycle_detail) = match &progress.first_cycle {
        Some((c, ended)) => {
            let counts = format!(
                "{} created, {} updated, {} disabled, {} deleted, {} refused",
                c.created.total(),
                c.updated.total(),
                c.disabled.total(),
                c.deleted.total(),
                c.refused.total()
            );
            if *ended {
                (
                    true,
                    Some(at(c.last)),
                    format!("The first cycle ended: {counts}."),
                )
            } else {
                (
                    false,
                    None,
                    format!("{} So far: {counts}.", provider.during_first_cycle),
                )
            }
        }
        None => (
            false,
            None,
            "Starts with the first user or group the provider sends.".to_owned(),
        ),
    };
    steps.push(Step {
        id: "step-first-cycle",
        title: "First cycle",
        done: cycle_done,
        at: cycle_at,
        detail: cycle_detail,
    });
    let waiting = steps.iter().any(|s| !s.done);
    let unkept = ignored_by_urn(&progress.ignored)
        .into_iter()
        .map(|(urn, names)| Unkept {
            urn,
            names: names.join(", "),
        })
        .collect();
    let bare = progress
        .ignored
        .iter()
        .filter(|(n, _)| !n.starts_with("urn:"))
        .map(|(n, c)| format!("{n} ({c})"))
        .collect();
    let path = opened.path();
    ProgressView {
        path: format!("{path}/progress?idp={}", provider.key),
        waiting,
        steps,
        causes: progress.causes,
        unkept,
        bare,
        credentials,
        csrf: opened.csrf.clone(),
        idp: provider.key,
        schema_action: format!("{path}/schema"),
        logs: provider.logs,
    }
}
