//! Where `scimd serve` sends tenants' changes of health: an SMTP server (`SCIMD_SMTP_*`) for
//! e-mail, and the operator webhook (`SCIMD_ALERT_WEBHOOK_*`), and for how long it retries.

use std::time::Duration;

use clap::Args;

use super::{Secret, duration};

/// The notifier's settings, as given; `crate::service::notify` checks them together.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Alerts")]
pub struct Notify {
    /// The SMTP server alerts are e-mailed through, as lettre reads it:
    /// smtp://host:25 (plain; `?tls=required` for STARTTLS), smtps://user:password@host:465
    /// (TLS). Unset: no e-mail.
    #[arg(
        long,
        env = "SCIMD_SMTP_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub smtp_url: Option<Secret>,
    /// The sender of alert e-mails (required with SCIMD_SMTP_URL), e.g.
    /// "scimd <scimd@example.com>".
    #[arg(long, env = "SCIMD_SMTP_FROM", value_name = "MAILBOX")]
    pub smtp_from: Option<String>,
    /// How long one exchange with the SMTP server may take before the message counts as failed
    /// (and is retried).
    #[arg(
        long,
        env = "SCIMD_SMTP_TIMEOUT",
        value_name = "DURATION",
        default_value = "10s",
        value_parser = duration
    )]
    pub smtp_timeout: Duration,
    /// The operator webhook: every tenant's every change of health is POSTed to it as a signed
    /// SET (https, or http on a loopback address).
    #[arg(long, env = "SCIMD_ALERT_WEBHOOK_URL", value_name = "URL")]
    pub alert_webhook_url: Option<String>,
    /// The secret the operator webhook's SETs are signed with (HS256; required with the URL).
    #[arg(
        long,
        env = "SCIMD_ALERT_WEBHOOK_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub alert_webhook_secret: Option<Secret>,
    /// How long an alert is retried while its server fails; then it is given up, its last
    /// error kept.
    #[arg(
        long,
        env = "SCIMD_ALERT_RETRY_FOR",
        value_name = "DURATION",
        default_value = "1d",
        value_parser = duration
    )]
    pub alert_retry_for: Duration,
}
