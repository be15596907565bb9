//! Durations as every setting and `--since` take them: a whole number with a unit, `90s`,
//! `10m`, `12h` or `30d`; a bare number is seconds, as the settings that used to be seconds
//! took it (`SCIMD_HEADER_TIMEOUT=30` still means 30 seconds).

use std::time::Duration;

use crate::service::oauth::ACCESS_TTL_RANGE;

/// The longest duration taken: 100 years. A longer one is a typing mistake, and `now` minus it
/// would fall outside the dates chrono holds (a retention or `--since` that far back).
pub const MAX_DURATION: Duration = Duration::from_secs(36_500 * 86_400);

/// The forms, for the messages that refuse a value.
const FORMS: &str =
    "use a whole number with s, m, h or d (90s, 10m, 12h, 30d); a bare number is seconds";

/// A number of seconds as [`duration`] reads it back, in the largest unit that divides it:
/// `30d`, `12h`, `10m`, `90s`.
pub fn period(secs: i64) -> String {
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

/// A duration of at least a second and at most [`MAX_DURATION`]: `90s`, `10m`, `12h`, `30d`,
/// or a bare number of seconds. No setting means anything by zero (a timeout of none, keeping
/// nothing), so zero is refused.
pub fn duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits);
    let unit_seconds: u64 = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("'{text}' is not a duration: {FORMS}")),
    };
    if number.is_empty() {
        return Err(format!("'{text}' is not a duration: {FORMS}"));
    }
    let too_long = || format!("'{text}' is too long: at most 36500d (100 years)");
    // only digits: the parse fails on overflow alone
    let n: u64 = number.parse().map_err(|_| too_long())?;
    let seconds = n
        .checked_mul(unit_seconds)
        .filter(|s| *s <= MAX_DURATION.as_secs())
        .ok_or_else(too_long)?;
    if seconds == 0 {
        return Err(format!("'{text}' is no time at all: use at least 1s"));
    }
    Ok(Duration::from_secs(seconds))
}

/// The lifetime of OAuth access tokens: a duration from 1 to 6 hours, as Microsoft's gallery
/// validation asks (60 to 360 minutes).
pub fn access_token_ttl(text: &str) -> Result<Duration, String> {
    let ttl = duration(text)?;
    if !ACCESS_TTL_RANGE.contains(&ttl.as_secs()) {
        return Err(format!(
            "'{text}' is outside 1h to 6h (3600 to 21600 seconds), the lifetimes Microsoft's \
             gallery validation accepts"
        ));
    }
    Ok(ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Result<Duration, String> {
        Ok(Duration::from_secs(n))
    }

    #[test]
    fn each_unit() {
        assert_eq!(duration("90s"), secs(90));
        assert_eq!(duration("10m"), secs(600));
        assert_eq!(duration("12h"), secs(43_200));
        assert_eq!(duration("30d"), secs(2_592_000));
        assert_eq!(duration(" 7d "), secs(604_800));
    }

    #[test]
    fn a_bare_integer_is_seconds() {
        assert_eq!(duration("30"), secs(30));
        assert_eq!(duration("3600"), secs(3_600));
        assert_eq!(duration("007"), secs(7));
    }

    #[test]
    fn zero_is_refused_in_every_unit() {
        for zero in ["0", "0s", "0m", "0h", "0d", "000"] {
            let error = duration(zero).unwrap_err();
            assert!(error.contains("at least 1s"), "{zero}: {error}");
        }
    }

    #[test]
    fn overflow_is_refused() {
        for long in [
            "18446744073709551616",  // u64::MAX + 1
            "18446744073709551615d", // fits u64, not in seconds
            "36501d",
            "3153600001",
        ] {
            let error = duration(long).unwrap_err();
            assert!(error.contains("too long"), "{long}: {error}");
        }
        assert_eq!(duration("36500d"), Ok(MAX_DURATION));
    }

    #[test]
    fn junk_is_refused_naming_the_forms() {
        for junk in [
            "", "s", "d", "ten", "10 m", "10M", "1.5h", "-5s", "+5s", "5w", "5ms", "1h30m",
        ] {
            let error = duration(junk).unwrap_err();
            assert!(
                error.contains("90s, 10m, 12h, 30d") && error.contains("bare number is seconds"),
                "{junk:?}: {error}"
            );
        }
    }

    #[test]
    fn the_access_token_ttl_keeps_its_bounds() {
        assert_eq!(access_token_ttl("3600"), secs(3_600));
        assert_eq!(access_token_ttl("1h"), secs(3_600));
        assert_eq!(access_token_ttl("6h"), secs(21_600));
        assert_eq!(access_token_ttl("90m"), secs(5_400));
        for outside in ["3599", "59m", "21601", "361m", "1d"] {
            let error = access_token_ttl(outside).unwrap_err();
            assert!(error.contains("1h to 6h"), "{outside}: {error}");
        }
        assert!(
            access_token_ttl("soon")
                .unwrap_err()
                .contains("not a duration")
        );
    }
}
