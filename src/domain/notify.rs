//! Alerts of a tenant's changes of health: the channels they go by, which changes each channel
//! sends, and one message of one change to one recipient as the notifier's outbox keeps it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::health::{Change, State};

/// How an alert is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// SMTP, to a tenant's notification addresses and its opted-in team admins.
    Email,
    /// The operator webhook (`SCIMD_ALERT_WEBHOOK_URL`): every change, as a signed SET.
    Webhook,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Email, Channel::Webhook];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// Whether a change is worth an e-mail: a change into a state that alerts, or back to
/// `healthy` from one (a recovery). A tenant's first record and a change to `not_connected`
/// send nothing; nor does `not_connected` → `healthy`, which is no news.
pub fn mailed(change: &Change) -> bool {
    let Some(previous) = change.previous else {
        return false;
    };
    change.state.alerting() || (change.state == State::Healthy && previous.alerting())
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Pending,
    Sent,
    /// Retried for `SCIMD_ALERT_RETRY_FOR`, then left; the last error is kept.
    GivenUp,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Pending => "pending",
            Delivery::Sent => "sent",
            Delivery::GivenUp => "given_up",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Delivery::Pending, Delivery::Sent, Delivery::GivenUp]
            .into_iter()
            .find(|d| d.as_str() == text)
    }
}

/// One message of one change to one recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: Uuid,
    pub change: Change,
    pub channel: Channel,
    /// An e-mail address, or the webhook's URL when the change was fanned out.
    pub recipient: String,
    pub state: Delivery,
    pub attempts: u32,
    /// When the change was fanned out: retries stop `SCIMD_ALERT_RETRY_FOR` after it.
    pub created: DateTime<Utc>,
    /// When it is next tried (while pending).
    pub next_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(previous: Option<State>, state: State) -> Change {
        Change {
            seq: 1,
            id: Uuid::nil(),
            tenant: "acme".into(),
            previous,
            state,
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            reasons: Vec::new(),
        }
    }

    #[test]
    fn alerting_states_and_recoveries_are_mailed_first_records_and_not_connected_are_not() {
        use State::*;
        assert!(mailed(&change(Some(Healthy), Degraded)));
        assert!(mailed(&change(Some(Degraded), CredentialsRejected)));
        assert!(mailed(&change(Some(NotConnected), Silent)));
        assert!(mailed(&change(Some(AtRisk), Healthy)), "a recovery");
        assert!(!mailed(&change(None, Degraded)), "a first record");
        assert!(!mailed(&change(Some(NotConnected), Healthy)));
        assert!(!mailed(&change(Some(Degraded), NotConnected)));
    }
}
