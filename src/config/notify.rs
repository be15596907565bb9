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

impl Notify {
    /// The notifier's settings, checked together; `root` is the URL scimd is reached at.
    pub fn settings(&self, root: String) -> Result<crate::service::notify::NotifySettings, String> {
        crate::service::notify::NotifySettings::new(
            (
                self.smtp_url.as_ref().map(Secret::expose),
                self.smtp_from.as_deref(),
            ),
            (
                self.alert_webhook_url.as_deref(),
                self.alert_webhook_secret.as_ref().map(Secret::expose),
            ),
            self.smtp_timeout,
            self.alert_retry_for,
            root,
        )
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::service::notify::NotifySettings;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        notify: Notify,
    }

    fn settings(args: &[&str]) -> Result<NotifySettings, String> {
        let mut all = vec!["scimd"];
        all.extend_from_slice(args);
        Flags::parse_from(all)
            .notify
            .settings("https://scim.test".into())
    }

    #[test]
    fn the_sender_and_the_secret_are_required_with_their_urls_and_urls_are_checked() {
        let none = settings(&[]).unwrap();
        assert!(none.mailer.is_none() && none.hook.is_none());
        assert_eq!(none.retry_for, Duration::from_secs(86_400));
        let smtp = [
            "--smtp-url",
            "smtp://127.0.0.1:2525",
            "--smtp-from",
            "scimd@scim.test",
        ];
        assert!(settings(&smtp).unwrap().mailer.is_some());
        let err = settings(&smtp[..2]).unwrap_err();
        assert!(err.contains("needs SCIMD_SMTP_FROM"), "{err}");
        let err = settings(&["--smtp-url", "ftp://x", "--smtp-from", "a@b.test"]).unwrap_err();
        assert!(err.contains("not an SMTP URL"), "{err}");
        let err = settings(&["--smtp-url", "smtp://x", "--smtp-from", "nobody"]).unwrap_err();
        assert!(err.contains("SCIMD_SMTP_FROM 'nobody'"), "{err}");
        let secret = "0123456789abcdef-secret";
        let hook = |url: &'static str| {
            settings(&["--alert-webhook-url", url, "--alert-webhook-secret", secret])
        };
        assert!(hook("https://ops.example/alerts").unwrap().hook.is_some());
        assert!(hook("http://127.0.0.1:9000/alerts").unwrap().hook.is_some());
        let err = hook("http://ops.example/alerts").unwrap_err();
        assert!(err.contains("use https"), "{err}");
        let err = settings(&["--alert-webhook-url", "https://ops.example/a"]).unwrap_err();
        assert!(err.contains("needs SCIMD_ALERT_WEBHOOK_SECRET"), "{err}");
        let short = [
            "--alert-webhook-url",
            "https://o.example",
            "--alert-webhook-secret",
            "x",
        ];
        assert!(settings(&short).unwrap_err().contains("at least 16"));
    }
}
