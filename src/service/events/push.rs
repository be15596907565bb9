//! Push delivery of SETs (RFC 8935): one `POST` per SET, and what the receiver's answer
//! means. 2xx is delivered (202 is what RFC 8935 asks for); a 4xx whose body is an RFC 8935
//! error (`{"err": …, "description": …}`) means the receiver judged the SET and refused it,
//! which no retry changes; everything else — 5xx, 429 and 408 (honouring `Retry-After`), a
//! 4xx without an RFC 8935 body (a proxy, a wrong path, a key not yet rolled out), a redirect,
//! a timeout, a refused connection — is retried. Of the answer's body only the first 4 KiB
//! are read (`outbound`), however long or slow the receiver makes it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use serde_json::Value;

use super::set::MEDIA_TYPE;
use crate::domain::events::Outcome;
use crate::service::outbound;

/// The longest wait a receiver's `Retry-After` is honoured for.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// The longest wait between two attempts of one event, unless the receiver asks longer.
pub const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// The wait after a first failure.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// How much of a receiver's error body is kept.
const ERROR_CHARS: usize = 300;
/// How much of a receiver's body is read: enough for an RFC 8935 error and the start of
/// anything else, whatever it sends.
const BODY_BYTES: usize = 4096;
/// How long reading that much of the body may take once the answer's head came (the client's
/// timeout bounds the whole exchange too).
const BODY_TIME: Duration = Duration::from_secs(5);

/// The HTTP client of deliveries: no redirects followed, `timeout` per request.
pub fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("scimd/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the events' HTTP client: {e}"))
}

/// An answer of the receiver: its status and the start of its body, for the CLI's
/// `webhook test` and the delivery's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: Option<u16>,
    pub body: String,
    pub outcome: Outcome,
}

impl Answer {
    /// No answer: the push could not be made or was not answered; retried.
    pub fn none(error: String) -> Self {
        Answer {
            status: None,
            body: String::new(),
            outcome: Outcome::Retry {
                status: None,
                error,
                after: None,
            },
        }
    }
}

/// POSTs the signed SET `set` to `url`.
pub async fn push(http: &reqwest::Client, url: &str, set: String) -> Answer {
    let sent = http
        .post(url)
        .header(CONTENT_TYPE, MEDIA_TYPE)
        .header(ACCEPT, "application/json")
        .body(set)
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(e) => {
            let error = if e.is_timeout() {
                "the receiver did not answer in time".to_owned()
            } else if e.is_connect() {
                format!(
                    "cannot connect to the receiver: {}",
                    crate::telemetry::chain(&e)
                )
            } else {
                format!("the request failed: {}", crate::telemetry::chain(&e))
            };
            return Answer::none(error);
        }
    };
    let status = response.status().as_u16();
    let after = retry_after(response.headers(), Utc::now());
    // only the start of the body is read, whatever its length or pace: what is kept of it is
    // shorter still, and the receiver cannot make scimd hold more
    let read = outbound::read_body(response, BODY_BYTES, BODY_TIME).await;
    let body = String::from_utf8_lossy(&read.bytes).into_owned();
    let outcome = classify(status, &body, after);
    Answer {
        status: Some(status),
        body: cut(&body),
        outcome,
    }
}

/// What a status and body mean (RFC 8935 §2.2–2.4).
pub fn classify(status: u16, body: &str, after: Option<Duration>) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        408 | 429 => Outcome::Retry {
            status: Some(status),
            error: format!("HTTP {status}{}", described(body)),
            after,
        },
        400..=499 => match rfc8935_error(body) {
            Some(error) => Outcome::Dropped { status, error },
            None => Outcome::Retry {
                status: Some(status),
                error: format!(
                    "HTTP {status} without an RFC 8935 error body{}",
                    described(body)
                ),
                after,
            },
        },
        _ => Outcome::Retry {
            status: Some(status),
            error: format!("HTTP {status}{}", described(body)),
            after,
        },
    }
}

/// `err: description` of an RFC 8935 §2.3 error body.
fn rfc8935_error(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    let err = value.get("err")?.as_str()?;
    let description = value
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Some(cut(&if description.is_empty() {
        err.to_owned()
    } else {
        format!("{err}: {description}")
    }))
}

fn described(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        String::new()
    } else {
        format!(": {}", cut(body))
    }
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(ERROR_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3), at most [`MAX_RETRY_AFTER`].
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = DateTime::parse_from_rfc2822(value)
                .ok()?
                .with_timezone(&Utc);
            (at - now).to_std().unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// The wait before attempt `attempts + 1` of an event: doubling from one second up to
/// [`MAX_BACKOFF`], with jitter (half to all of it) so that receivers coming back are not hit
/// by every replica at once; the receiver's `Retry-After` instead when it gave one.
pub fn backoff(attempts: u32, after: Option<Duration>) -> Duration {
    if let Some(after) = after {
        return after;
    }
    let doubled = FIRST_BACKOFF.saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    let full = doubled.min(MAX_BACKOFF);
    let mut byte = [0u8; 1];
    let jitter = if getrandom::fill(&mut byte).is_ok() {
        f64::from(byte[0]) / 255.0
    } else {
        0.5
    };
    full.mul_f64(0.5 + jitter / 2.0)
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn answers_are_delivered_dropped_or_retried_as_rfc_8935_says() {
        assert_eq!(classify(202, "", None), Outcome::Delivered);
        assert_eq!(
            classify(
                400,
                r#"{"err":"invalid_key","description":"kid unknown"}"#,
                None
            ),
            Outcome::Dropped {
                status: 400,
                error: "invalid_key: kid unknown".into()
            }
        );
        let wait = Some(Duration::from_secs(7));
        assert!(matches!(
            classify(429, "", wait),
            Outcome::Retry { status: Some(429), after, .. } if after == wait
        ));
        assert!(matches!(
            classify(503, "down", None),
            Outcome::Retry {
                status: Some(503),
                ..
            }
        ));
        assert!(matches!(
            classify(404, "<html>not found</html>", None),
            Outcome::Retry {
                status: Some(404),
                ..
            }
        ));
        assert!(matches!(classify(302, "", None), Outcome::Retry { .. }));
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date_and_capped() {
        let now = DateTime::parse_from_rfc2822("Sun, 06 Nov 1994 08:49:37 GMT")
            .unwrap()
            .with_timezone(&Utc);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(120)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:50:37 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(60)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("999999"));
        assert_eq!(retry_after(&h, now), Some(MAX_RETRY_AFTER));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        for attempts in 1..40 {
            let full = FIRST_BACKOFF
                .saturating_mul(1u32 << (attempts - 1).min(20))
                .min(MAX_BACKOFF);
            let wait = backoff(attempts, None);
            assert!(
                wait >= full / 2 && wait <= full,
                "attempt {attempts}: {wait:?}"
            );
        }
        assert_eq!(
            backoff(3, Some(Duration::from_secs(9))),
            Duration::from_secs(9)
        );
    }
}
