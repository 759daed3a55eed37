//! The episode clock and its rules (spec/format.md, timestamps): every sample carries one int64
//! nanosecond time on one clock shared by all streams; within a stream times never decrease
//! (equal times are allowed); nothing is resampled on write. Readers' time queries (as-of,
//! nearest, ranges) and the dataset layer's alignment are built on these rules.

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
