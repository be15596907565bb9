//! What several commands share: the help of the arguments they have in common, and `--since`.

/// The help of `--tenant`, the same in every command.
pub const TENANT: &str = "The tenant (its name, as `scimd tenant list` shows it)";

/// A point in time, for `--since`: a duration ago (`24h`, `7d`, as the settings take
/// durations) or an RFC 3339 time.
pub fn since(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&chrono::Utc));
    }
    let ago = scimd::config::duration(text)
        .map_err(|e| format!("{e}; or an RFC 3339 time (2025-01-31T08:00:00Z)"))?;
    Ok(chrono::Utc::now() - chrono::TimeDelta::from_std(ago).map_err(|e| e.to_string())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_duration_ago_or_a_time() {
        let day_ago = since("1d").unwrap();
        let elapsed = chrono::Utc::now() - day_ago;
        assert!((elapsed - chrono::TimeDelta::days(1)).num_seconds().abs() < 5);
        assert_eq!(
            since("2025-01-31T08:00:00Z").unwrap().to_rfc3339(),
            "2025-01-31T08:00:00+00:00"
        );
        let error = since("yesterday").unwrap_err();
        assert!(
            error.contains("30d") && error.contains("RFC 3339"),
            "{error}"
        );
        assert!(since("0s").is_err());
    }
}
