//! Time in reports: `Timestamp` (a wall-clock instant written as RFC 3339 UTC) and durations
//! written as whole milliseconds. Both stay typed until they are written.

use std::{
    fmt,
    str::FromStr,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// A wall-clock instant, written as RFC 3339 UTC with seconds (`2026-11-29T09:30:00Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(SystemTime);

impl Timestamp {
    /// Now.
    pub fn now() -> Self {
        Self(SystemTime::now())
    }

    /// The instant.
    pub fn system_time(self) -> SystemTime {
        self.0
    }

    /// Whole seconds since the Unix epoch (negative before it).
    pub fn unix_secs(self) -> i64 {
        match self.0.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(e) => -(e.duration().as_secs_f64().ceil() as i64),
        }
    }

    /// The instant `secs` whole seconds after the Unix epoch.
    pub fn from_unix_secs(secs: i64) -> Self {
        let d = Duration::from_secs(secs.unsigned_abs());
        Self(if secs >= 0 {
            UNIX_EPOCH + d
        } else {
            UNIX_EPOCH - d
        })
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        Self(t)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.unix_secs();
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }
}

impl FromStr for Timestamp {
    type Err = String;
    /// Reads `YYYY-MM-DDTHH:MM:SS[.frac]Z`; a fraction of a second is dropped.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid time {s:?}: expected RFC 3339 UTC like 2026-11-29T09:30:00Z");
        let b = s.as_bytes();
        let shape_ok = b.len() >= 20
            && b[4] == b'-'
            && b[7] == b'-'
            && (b[10] == b'T' || b[10] == b't')
            && b[13] == b':'
            && b[16] == b':'
            && (b[b.len() - 1] == b'Z' || b[b.len() - 1] == b'z')
            && (b.len() == 20
                || (b[19] == b'.'
                    && b[20..b.len() - 1].iter().all(u8::is_ascii_digit)
                    && b.len() > 21));
        if !shape_ok {
            return Err(bad());
        }
        let n = |r: std::ops::Range<usize>| -> Result<i64, String> {
            let t = &s[r];
            if t.bytes().all(|c| c.is_ascii_digit()) {
                t.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
        let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
            return Err(bad());
        }
        // Howard Hinnant's days_from_civil.
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Ok(Self::from_unix_secs(
            days * 86_400 + hh * 3600 + mm * 60 + ss,
        ))
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with = "millis")]`: a `Duration` as whole milliseconds.
pub mod millis {
    use std::time::Duration;

    /// Writes whole milliseconds.
    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    /// Reads whole milliseconds.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        <u64 as serde::Deserialize>::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        let at = |s| Timestamp::from(UNIX_EPOCH + Duration::from_secs(s)).to_string();
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(1_795_858_200), "2026-11-28T09:30:00Z");
        assert_eq!(at(951_827_696), "2000-02-29T12:34:56Z");
    }

    #[test]
    fn reads_back_what_it_writes() {
        for secs in [0, 951_827_696, 1_795_858_200, 4_102_444_799] {
            let t = Timestamp::from_unix_secs(secs);
            assert_eq!(t.to_string().parse::<Timestamp>(), Ok(t));
        }
        assert_eq!(
            "2026-11-28T09:30:00.250Z".parse::<Timestamp>(),
            Ok(Timestamp::from_unix_secs(1_795_858_200))
        );
        for bad in [
            "T",
            "",
            "2026-11-28 09:30:00Z",
            "2026-13-28T09:30:00Z",
            "2026-11-28T09:30:00+01:00",
            "2026-11-28T09:30:00.Z",
        ] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad:?} accepted");
        }
    }
}
