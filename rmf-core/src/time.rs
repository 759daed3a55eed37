//! The episode clock and its rules (spec/format.md, timestamps): every sample carries one int64
//! nanosecond time on one clock shared by all streams; within a stream times never decrease
//! (equal times are allowed); nothing is resampled on write. Readers' time queries (as-of,
//! nearest, ranges) and the dataset layer's alignment are built on these rules.

use std::ops::{Bound, RangeBounds, RangeInclusive};

use crate::error::{Error, Result};

/// A time on the episode clock, in nanoseconds.
pub type Nanos = i64;

/// Seconds to the nearest nanosecond, saturating at the ends of the clock.
pub fn secs_to_ns(secs: f64) -> Nanos {
    (secs * 1e9).round().clamp(i64::MIN as f64, i64::MAX as f64) as Nanos
}

/// Checks that `ts` continues a stream whose last time was `last` without going backwards.
pub(crate) fn check_order(stream: &str, last: Option<Nanos>, ts: &[Nanos]) -> Result<()> {
    let mut prev = last;
    for &t in ts {
        if let Some(p) = prev {
            if t < p {
                return Err(Error::TimeWentBackwards {
                    stream: stream.to_string(),
                    previous: p,
                    got: t,
                });
            }
        }
        prev = Some(t);
    }
    Ok(())
}

/// The times of the clock that `range` covers, as an inclusive range, or `None` when it covers
/// none. `a..b` is `a <= t < b`, `a..=b` is `a <= t <= b`, `..` is the whole clock.
pub fn covered(range: impl RangeBounds<Nanos>) -> Option<RangeInclusive<Nanos>> {
    let lo = match range.start_bound() {
        Bound::Included(&a) => a,
        Bound::Excluded(&a) => a.checked_add(1)?,
        Bound::Unbounded => Nanos::MIN,
    };
    let hi = match range.end_bound() {
        Bound::Included(&b) => b,
        Bound::Excluded(&b) => b.checked_sub(1)?,
        Bound::Unbounded => Nanos::MAX,
    };
    (lo <= hi).then_some(lo..=hi)
}

/// `t0 <= t < t1` as the readers' `*_range(name, t0, t1)` take it, where `t1 = i64::MAX` reads
/// to the end, a sample at `i64::MAX` included.
pub(crate) fn half_open(t0: Nanos, t1: Nanos) -> Option<RangeInclusive<Nanos>> {
    if t1 == Nanos::MAX {
        covered(t0..=t1)
    } else {
        covered(t0..t1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_what_rust_ranges_mean() {
        assert_eq!(covered(10..20), Some(10..=19));
        assert_eq!(covered(10..=20), Some(10..=20));
        assert_eq!(covered(..), Some(Nanos::MIN..=Nanos::MAX));
        assert_eq!(covered(..0), Some(Nanos::MIN..=-1));
        assert_eq!(covered(10..10), None);
        assert_eq!(covered((Bound::Included(10), Bound::Excluded(5))), None);
        assert_eq!(covered(..Nanos::MIN), None);
        assert_eq!(
            covered((Bound::Excluded(Nanos::MAX), Bound::Unbounded)),
            None
        );
        assert_eq!(half_open(0, Nanos::MAX), Some(0..=Nanos::MAX));
        assert_eq!(half_open(5, 5), None);
        assert_eq!(half_open(5, 7), Some(5..=6));
    }
}
