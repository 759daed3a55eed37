//! Times on the command line: a number with its unit (`1000.2s`, `250ms`, `20us`, `123ns`), on
//! the episode clock, or counted from the episode's first sample with a leading `+` (`+1.5s`).
//! A bare number is refused: `rmf info` prints seconds and the files hold nanoseconds, so a
//! unit-less time is ambiguous (a trim of `--from 1000 --to 1001` once kept nothing).

use std::str::FromStr;

use rmf_core::{EpisodeReader, Error};

/// A time given on the command line; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Nanoseconds on the episode clock.
    At(i64),
    /// Nanoseconds after the episode's first sample.
    FromStart(i64),
}

const UNITS: &str = "write it with a unit: 1000.2s, 250ms, 20us or 123ns (a leading + counts \
                     from the episode's first sample: +1.5s)";

impl FromStr for When {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let (relative, body) = match t.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let split = body
            .find(|c: char| c.is_alphabetic())
            .ok_or_else(|| format!("{s:?} has no unit: {UNITS}"))?;
        let (number, unit) = body.split_at(split);
        let per_unit: i128 = match unit {
            "s" => 1_000_000_000,
            "ms" => 1_000_000,
            "us" | "µs" => 1_000,
            "ns" => 1,
            _ => return Err(format!("{s:?}: unknown unit {unit:?}; {UNITS}")),
        };
        let ns = decimal_times(number, per_unit).ok_or_else(|| {
            format!("{s:?} is not a time on the episode clock (whole nanoseconds within ±292 years); {UNITS}")
        })?;
        if relative && ns < 0 {
            return Err(format!(
                "{s:?}: a time after the episode's start cannot be negative"
            ));
        }
        Ok(if relative {
            When::FromStart(ns)
        } else {
            When::At(ns)
        })
    }
}

/// `number` (optionally signed, with an optional fraction) times `per_unit`, exactly; `None`
/// unless that is a whole number of nanoseconds that fits an i64.
fn decimal_times(number: &str, per_unit: i128) -> Option<i64> {
    let (negative, digits) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    // At most 19 digits each side: beyond that the value cannot fit (or be whole ns) anyway.
    if whole.len() > 19 || fraction.len() > 19 {
        return None;
    }
    let whole: i128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let scale = 10i128.pow(fraction.len() as u32);
    let fraction: i128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    let scaled = fraction * per_unit;
    if scaled % scale != 0 {
        return None; // finer than a nanosecond
    }
    let ns = whole * per_unit + scaled / scale;
    i64::try_from(if negative { -ns } else { ns }).ok()
}

impl When {
    /// Nanoseconds on the episode clock; `start` is the episode's first sample (asked only for
    /// a relative time).
    pub fn resolve(self, start: impl FnOnce() -> Result<i64, Error>) -> Result<i64, Error> {
        match self {
            When::At(t) => Ok(t),
            When::FromStart(d) => start()?.checked_add(d).ok_or_else(|| {
                Error::InvalidArgument(format!("+{d} ns after the episode's start overflows"))
            }),
        }
    }
}

/// The first sample's time of `reader`'s episode (what `+1.5s` counts from).
pub fn episode_start(reader: &EpisodeReader) -> Result<i64, Error> {
    reader.time_range().map(|(t0, _)| t0).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{}: the episode has no samples, so a time after its start (+...) means nothing",
            reader.file_name()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_need_a_unit_and_are_exact() {
        assert_eq!("1000.2s".parse(), Ok(When::At(1_000_200_000_000)));
        assert_eq!("250ms".parse(), Ok(When::At(250_000_000)));
        assert_eq!("20us".parse(), Ok(When::At(20_000)));
        assert_eq!("123ns".parse(), Ok(When::At(123)));
        assert_eq!("-1.5s".parse(), Ok(When::At(-1_500_000_000)));
        assert_eq!("+1.5s".parse(), Ok(When::FromStart(1_500_000_000)));
        assert_eq!(".5ms".parse(), Ok(When::At(500_000)));
        assert_eq!("9223372036.854775807s".parse(), Ok(When::At(i64::MAX)));
        for bad in [
            "1000",
            "1000 ",
            "1.5",
            "1.5ns",
            "1e3s",
            "ten s",
            "1.2.3s",
            "s",
            ".s",
            "5h",
            "+-1s",
            "9223372037s",
            "",
        ] {
            assert!(bad.parse::<When>().is_err(), "{bad:?} was accepted");
        }
        let e = "1000".parse::<When>().unwrap_err();
        assert!(e.contains("no unit") && e.contains("1000.2s"), "{e}");
    }

    #[test]
    fn relative_times_count_from_the_start() {
        let at = |w: When| w.resolve(|| Ok(5_000)).unwrap();
        assert_eq!(at(When::FromStart(250)), 5_250);
        assert_eq!(at(When::At(250)), 250);
        assert!(When::FromStart(i64::MAX).resolve(|| Ok(1)).is_err());
    }
}
