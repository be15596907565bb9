//! What makes a tenant's provisioning health alert: what `scimd serve` and `scimd health`
//! read besides the database (`scimd serve` adds how often it checks).

use std::time::Duration;

use chrono::TimeDelta;
use clap::Args;

use super::{CycleGap, duration};
use crate::domain::health::Thresholds;

/// The health check's thresholds and pace.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Health and alerts")]
pub struct AlertThresholds {
    /// The share of a cycle's changes refused that makes a tenant `degraded` (0 < ratio ≤ 1).
    #[arg(
        long,
        env = "SCIMD_ALERT_FAILURE_RATIO",
        value_name = "RATIO",
        default_value = "0.1",
        value_parser = ratio
    )]
    pub alert_failure_ratio: f64,
    /// The fewest changes a cycle must have before its share of refusals counts.
    #[arg(
        long,
        env = "SCIMD_ALERT_MIN_REQUESTS",
        value_name = "COUNT",
        default_value = "50",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub alert_min_requests: u64,
    /// How long a tenant that was active may send nothing before it is `silent` (Entra sends a
    /// cycle about every 40 minutes).
    #[arg(
        long,
        env = "SCIMD_ALERT_SILENCE",
        value_name = "DURATION",
        default_value = "2h",
        value_parser = duration
    )]
    pub alert_silence: Duration,
    #[command(flatten)]
    pub cycles: CycleGap,
}

impl AlertThresholds {
    /// The settings the directory checks health with, every `interval`.
    pub fn settings(&self, interval: Duration) -> crate::service::HealthSettings {
        let delta = |d: Duration| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
        crate::service::HealthSettings {
            thresholds: Thresholds {
                failure_ratio: self.alert_failure_ratio,
                min_requests: self.alert_min_requests,
                silence: delta(self.alert_silence),
            },
            gap: delta(self.cycles.cycle_gap),
            interval,
        }
    }
}

fn ratio(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number such as 0.1"))?;
    if value > 0.0 && value <= 1.0 {
        Ok(value)
    } else {
        Err(format!(
            "{value} is not a share above 0 and at most 1 (0.1 is 10 %)"
        ))
    }
}

/// A duration of at least a second.
pub fn interval(text: &str) -> Result<Duration, String> {
    let d = duration(text)?;
    if d.is_zero() {
        return Err("the interval must be at least 1s".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ratio_is_a_share_above_zero_and_at_most_one() {
        assert_eq!(ratio("0.25"), Ok(0.25));
        assert_eq!(ratio("1"), Ok(1.0));
        assert!(ratio("0").is_err() && ratio("1.5").is_err() && ratio("ten").is_err());
        assert!(ratio("NaN").is_err(), "NaN is no share");
    }
}
