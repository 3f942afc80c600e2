//! Wall-clock time as integer milliseconds, and its RFC 3339 form.

use chrono::{DateTime, SecondsFormat, Utc};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// `2026-11-27T22:48:17.123Z`.
pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// [`rfc3339`] written into `out` (`2026-12-01T10:00:00.000Z`), without a formatter: a few
/// events a step carry one.
pub fn write_rfc3339(out: &mut Vec<u8>, ms: i64) {
    // The years chrono writes as four digits; anything else goes the long way.
    if !(0..253_402_300_800_000).contains(&ms) {
        out.extend_from_slice(rfc3339(ms).as_bytes());
        return;
    }
    let (days, ms_of_day) = (ms / 86_400_000, ms % 86_400_000);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000,
    );
    // Each part with its width and the character after it.
    for (n, width, after) in [
        (year, 4, b'-'),
        (month, 2, b'-'),
        (day, 2, b'T'),
        (h, 2, b':'),
        (m, 2, b':'),
        (s, 2, b'.'),
        (milli, 3, b'Z'),
    ] {
        for k in (0..width).rev() {
            out.push(b'0' + (n / 10_i64.pow(k) % 10) as u8);
        }
        out.push(after);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_with_millis() {
        assert_eq!(super::rfc3339(1_000), "1970-01-01T00:00:01.000Z");
    }

    /// The quick writer writes what chrono writes, over leap days, month and year ends and
    /// every hour of a day, and outside its range.
    #[test]
    fn the_quick_writer_writes_what_chrono_writes() {
        let mut times: Vec<i64> = vec![0, 999, 951_782_400_000, 4_107_542_399_999, -1, -86_400_001];
        times.push(253_402_300_799_999);
        times.push(253_402_300_800_000);
        let mut t = 0_i64;
        while t < 4_200_000_000_000 {
            times.push(t);
            t += 86_399_999 * 7 + 3_600_017;
        }
        for ms in times {
            let mut out = Vec::new();
            super::write_rfc3339(&mut out, ms);
            assert_eq!(
                String::from_utf8(out).expect("text"),
                super::rfc3339(ms),
                "{ms}"
            );
        }
    }
}
