//! The operator webhook (`SCIMD_ALERT_WEBHOOK_URL`): every change of every tenant's health,
//! POSTed as a Security Event Token signed like the events' (HS256 with
//! `SCIMD_ALERT_WEBHOOK_SECRET`, `application/secevent+jwt`, `events::set`), through the
//! events' HTTP client and answer rules (`events::push`: no redirects, a timeout, at most 4 KiB
//! of the answer read).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::email::Failure;
use crate::domain::events::Outcome;
use crate::domain::health::{Change, State};
use crate::service::events::{push, set};

/// The event URI of a change of health in the SET's `events`.
pub const HEALTH_EVENT: &str = "urn:scimd:event:health:change";
/// The `kid` of the operator webhook's SETs.
pub const KID: &str = "scimd-alerts";

/// The operator webhook: where, the secret, the client.
#[derive(Clone)]
pub struct Hook {
    pub url: String,
    pub secret: String,
    pub http: reqwest::Client,
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook").field("url", &self.url).finish()
    }
}

/// The claims of `change` for the webhook at `aud`, sent at `now` by `iss`; `console` is the
/// console's URL. The `jti` is the change's id: the same on every retry.
pub fn claims(change: &Change, iss: &str, aud: &str, console: &str, now: DateTime<Utc>) -> Value {
    json!({
        "iss": iss,
        "aud": aud,
        "iat": now.timestamp(),
        "toe": change.at.timestamp_millis() as f64 / 1000.0,
        "jti": change.id.to_string(),
        "sub_id": {"format": "opaque", "id": change.tenant},
        "events": {
            HEALTH_EVENT: {
                "tenant": change.tenant,
                "previous": change.previous.map(State::as_str),
                "state": change.state.as_str(),
                "at": change.at.to_rfc3339_opts(SecondsFormat::Millis, true),
                "reasons": change.reasons,
                "console": console,
            }
        },
    })
}

impl Hook {
    /// POSTs `claims`, signed, to the webhook.
    pub async fn send(&self, claims: &Value) -> Result<(), Failure> {
        let token = set::sign_with_kid(claims, KID, &self.secret).map_err(|error| Failure {
            error,
            permanent: true,
            after: None,
        })?;
        let answer = push::push(&self.http, &self.url, token).await;
        match answer.outcome {
            Outcome::Delivered => Ok(()),
            Outcome::Dropped { error, .. } => Err(Failure {
                error: format!("the webhook refused the alert: {error}"),
                permanent: true,
                after: None,
            }),
            Outcome::Retry { error, after, .. } => Err(Failure {
                error,
                permanent: false,
                after,
            }),
        }
    }
}
