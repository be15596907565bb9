//! Alert e-mails: one message of one change of health, multipart plain text and HTML, and the
//! SMTP transport that sends it (lettre, with a timeout on every exchange, so that a server that
//! hangs fails the attempt rather than holding the notifier).

use std::time::Duration;

use chrono::SecondsFormat;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::domain::health::{Change, State};

/// Where e-mails come from and how they are sent.
#[derive(Clone)]
pub struct Mailer {
    pub transport: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
    pub timeout: Duration,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the transport holds the SMTP credentials
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

/// Why a message was not sent: the error, and whether trying again can change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub error: String,
    pub permanent: bool,
    pub after: Option<Duration>,
}

impl Mailer {
    /// The mailer of `url` (lettre's SMTP URL form) and `from`.
    pub fn new(url: &str, from: &str, timeout: Duration) -> Result<Self, String> {
        let from: Mailbox = from.parse().map_err(|e| {
            format!("SCIMD_SMTP_FROM '{from}' is not a mailbox such as scimd@example.com: {e}")
        })?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("SCIMD_SMTP_URL is not an SMTP URL such as smtp://host:25: {e}"))?
            .timeout(Some(timeout))
            .build();
        Ok(Self {
            transport,
            from,
            timeout,
        })
    }

    /// Sends `change` to `to` (`console`: the console's URL, for the link).
    pub async fn send(&self, change: &Change, to: &str, console: &str) -> Result<(), Failure> {
        let message = message(&self.from, change, to, console).map_err(|error| Failure {
            error,
            permanent: true,
            after: None,
        })?;
        // lettre's timeout bounds each exchange; this bounds the whole conversation
        let whole = self.timeout.saturating_mul(4);
        match tokio::time::timeout(whole, self.transport.send(message)).await {
            Err(_) => Err(Failure {
                error: format!("the SMTP server did not finish within {whole:?}"),
                permanent: false,
                after: None,
            }),
            Ok(Err(e)) => Err(Failure {
                permanent: e.is_permanent(),
                error: format!("SMTP: {}", crate::telemetry::chain(&e)),
                after: None,
            }),
            Ok(Ok(_)) => Ok(()),
        }
    }
}

/// What a state is called in a subject: "acme: provisioning degraded".
fn headline(state: State) -> &'static str {
    match state {
        State::NotConnected => "not connected",
        State::Healthy => "provisioning healthy again",
        State::Degraded => "provisioning degraded",
        State::Silent => "provisioning silent",
        State::AtRisk => "provisioning at risk of quarantine",
        State::CredentialsRejected => "credentials rejected",
    }
}

/// The subject of `change`'s message.
pub fn subject(change: &Change) -> String {
    format!("[scimd] {}: {}", change.tenant, headline(change.state))
}

/// The plain-text body of `change`'s message.
pub fn plain(change: &Change, console: &str) -> String {
    let since = change.at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let was = change.previous.map_or("unknown", State::as_str);
    let mut text = format!(
        "Tenant {} is {} since {since} (it was {was}).\n",
        change.tenant,
        change.state.as_str()
    );
    if change.state == State::Healthy {
        text.push_str("\nEntra's requests are accepted again: nothing to do.\n");
    }
    if !change.reasons.is_empty() {
        text.push_str("\nWhy:\n");
    }
    for r in &change.reasons {
        text.push_str(&format!(
            "\n- {} ({} times)\n  Fix: {}\n",
            r.what, r.count, r.fix
        ));
    }
    text.push_str(&format!("\nConsole: {console}\n"));
    text
}

/// The HTML body of `change`'s message: the plain text's content, escaped.
pub fn html(change: &Change, console: &str) -> String {
    let since = change.at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let was = change.previous.map_or("unknown", State::as_str);
    let mut page = format!(
        "<!DOCTYPE html><html><body><p>Tenant <strong>{}</strong> is <strong>{}</strong> \
         since {since} (it was {was}).</p>",
        escape(&change.tenant),
        change.state.as_str()
    );
    if change.state == State::Healthy {
        page.push_str("<p>Entra's requests are accepted again: nothing to do.</p>");
    }
    if !change.reasons.is_empty() {
        page.push_str("<h2>Why</h2><ul>");
        for r in &change.reasons {
            page.push_str(&format!(
                "<li><p>{} ({} times)</p><p>Fix: {}</p></li>",
                escape(&r.what),
                r.count,
                escape(&r.fix)
            ));
        }
        page.push_str("</ul>");
    }
    page.push_str(&format!(
        "<p><a href=\"{0}\">{0}</a></p></body></html>",
        escape(console)
    ));
    page
}

fn message(from: &Mailbox, change: &Change, to: &str, console: &str) -> Result<Message, String> {
    let to: Mailbox = to
        .parse()
        .map_err(|e| format!("'{to}' is not an e-mail address: {e}"))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject(change))
        .multipart(MultiPart::alternative_plain_html(
            plain(change, console),
            html(change, console),
        ))
        .map_err(|e| format!("cannot build the message: {e}"))
}

/// `text` safe in HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use uuid::Uuid;

    use super::*;
    use crate::domain::health::Reason;

    #[test]
    fn a_message_names_the_tenant_and_state_and_each_reason_with_its_fix_and_the_console() {
        let change = Change {
            seq: 1,
            id: Uuid::nil(),
            tenant: "acme".into(),
            previous: Some(State::Healthy),
            state: State::Degraded,
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            reasons: vec![Reason {
                kind: "no_role".into(),
                count: 60,
                status: Some(400),
                scim_type: Some("invalidValue".into()),
                attribute: Some("roles".into()),
                what: "60 users have no <role>".into(),
                fix: "assign a role".into(),
            }],
        };
        assert_eq!(subject(&change), "[scimd] acme: provisioning degraded");
        let text = plain(&change, "https://scim.test/admin");
        assert_eq!(
            text,
            "Tenant acme is degraded since 2023-11-14T22:13:20Z (it was healthy).\n\nWhy:\n\n\
             - 60 users have no <role> (60 times)\n  Fix: assign a role\n\n\
             Console: https://scim.test/admin\n"
        );
        let page = html(&change, "https://scim.test/admin");
        assert!(
            page.contains("60 users have no &lt;role&gt; (60 times)"),
            "{page}"
        );
        assert!(
            page.contains("<a href=\"https://scim.test/admin\">"),
            "{page}"
        );
    }
}
