//! Time alignment on one stream's timestamps: which rows give a stream's value at a reference
//! time (as-of, nearest, linear, each within a tolerance), and which rows make a window around
//! it (steps of the stream's own samples, or a span of seconds). Pure functions of the sorted
//! timestamps: no I/O, no values, so they are cheap to test against brute force.

/// How a stream is sampled at a reference time `t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Policy {
    /// The last sample at or before `t` (what a controller would have seen).
    AsOf,
    /// The sample closest to `t`, before or after; the earlier one on a tie.
    Nearest,
    /// Signals only: interpolated between the last sample at or before `t` and the first at
    /// or after it.
    Linear,
}

impl Policy {
    /// The name used in Python and JSON: `asof`, `nearest`, `linear`.
    pub fn name(self) -> &'static str {
        match self {
            Policy::AsOf => "asof",
            Policy::Nearest => "nearest",
            Policy::Linear => "linear",
        }
    }
}

/// The rows that give a value at one reference time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pick {
    /// This row's value.
    Row(usize),
    /// `lo`'s value times `1 - w` plus `hi`'s times `w` (linear, strictly between samples).
    Blend {
        /// The sample before.
        lo: usize,
        /// The sample after.
        hi: usize,
        /// Weight of `hi`, in (0, 1).
        w: f64,
    },
    /// No sample within the tolerance.
    Missing,
}

/// The last row with time at or before `t`, if any.
pub fn last_at_or_before(times: &[i64], t: i64) -> Option<usize> {
    times.partition_point(|&x| x <= t).checked_sub(1)
}

/// The first row with time at or after `t`, if any.
pub fn first_at_or_after(times: &[i64], t: i64) -> Option<usize> {
    let i = times.partition_point(|&x| x < t);
    (i < times.len()).then_some(i)
}

/// The row(s) giving the value at `t` under `policy`, or `Missing` when the sample(s) used lie
/// more than `tolerance_ns` from `t` (for `Linear`: either neighbour).
pub fn pick(times: &[i64], t: i64, policy: Policy, tolerance_ns: i64) -> Pick {
    let within = |i: usize| (times[i] as i128 - t as i128).abs() <= tolerance_ns as i128;
    match policy {
        Policy::AsOf => match last_at_or_before(times, t) {
            Some(i) if within(i) => Pick::Row(i),
            _ => Pick::Missing,
        },
        Policy::Nearest => {
            let before = last_at_or_before(times, t);
            let after = first_at_or_after(times, t);
            let best = match (before, after) {
                (Some(b), Some(a)) => {
                    let (db, da) = (t as i128 - times[b] as i128, times[a] as i128 - t as i128);
                    Some(if da < db { a } else { b })
                }
                (b, a) => b.or(a),
            };
            match best {
                Some(i) if within(i) => Pick::Row(i),
                _ => Pick::Missing,
            }
        }
        Policy::Linear => {
            let (Some(lo), Some(hi)) = (last_at_or_before(times, t), first_at_or_after(times, t))
            else {
                return Pick::Missing;
            };
            if !within(lo) || !within(hi) {
                return Pick::Missing;
            }
            if times[lo] == t {
                return Pick::Row(lo);
            }
            if times[hi] == t {
                return Pick::Row(hi);
            }
            let w = (t as f64 - times[lo] as f64) / (times[hi] as f64 - times[lo] as f64);
            Pick::Blend { lo, hi, w }
        }
    }
}

/// A window of a stream's samples around a reference time.
#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    /// Offsets in the stream's own samples: step 0 is the last sample at or before `t`, step
    /// `k` the `k`-th sample after it (negative: before it). `[-1, 0]` of a camera is the last
    /// two frames; `0..16` of an action stream the current action and the next 15.
    Steps(Vec<i64>),
    /// The samples within `(t + from, t + to]` seconds, as `len` slots ending at the last sample
    /// at or before `t + to`: fixed-size for stacking, with slots outside the span padded.
    Seconds {
        /// Start of the span relative to `t` (excluded), in seconds.
        from: f64,
        /// End of the span relative to `t` (included), in seconds.
        to: f64,
        /// Slots: the span times the stream's rate, rounded (see [`Window::seconds`]).
        len: usize,
    },
}

impl Window {
    /// A span of seconds for a stream of nominal rate `rate_hz`: `round((to - from) * rate)`
    /// slots, at least one.
    pub fn seconds(from: f64, to: f64, rate_hz: f64) -> Self {
        let len = ((to - from) * rate_hz).round().max(1.0) as usize;
        Window::Seconds { from, to, len }
    }

    /// Slots in the window.
    pub fn len(&self) -> usize {
        match self {
            Window::Steps(s) => s.len(),
            Window::Seconds { len, .. } => *len,
        }
    }

    /// Whether the window has no slots.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The row of each slot at reference time `t`, `None` where the slot is padding (before
    /// the first or after the last sample, or outside a seconds span).
    pub fn rows(&self, times: &[i64], t: i64) -> Vec<Option<usize>> {
        let n = times.len() as i64;
        match self {
            Window::Steps(steps) => {
                // Step 0 is the last sample at or before t; without one, step 1 is the first.
                let anchor = times.partition_point(|&x| x <= t) as i64 - 1;
                steps
                    .iter()
                    .map(|&k| {
                        let i = anchor.saturating_add(k);
                        (0..n).contains(&i).then_some(i as usize)
                    })
                    .collect()
            }
            Window::Seconds { from, to, len } => {
                let end = t.saturating_add(secs_to_ns(*to));
                let start = t.saturating_add(secs_to_ns(*from));
                let last = times.partition_point(|&x| x <= end) as i64 - 1;
                (0..*len as i64)
                    .map(|k| {
                        let i = last - (*len as i64 - 1) + k;
                        ((0..n).contains(&i) && times[i as usize] > start).then_some(i as usize)
                    })
                    .collect()
            }
        }
    }
}

impl Window {
    /// The stream's sample nearest to a window at `t` that holds none (what its padding
    /// repeats, as LeRobot clamps a query to the episode): for steps, the row nearest to the
    /// slot closest to the samples; for seconds, the sample closest in time to the span (the
    /// earlier on a tie). `None` for a stream without samples.
    pub fn nearest_row(&self, times: &[i64], t: i64) -> Option<usize> {
        let last = times.len().checked_sub(1)? as i64;
        match self {
            Window::Steps(steps) => {
                let anchor = times.partition_point(|&x| x <= t) as i64 - 1;
                let clamped = |k: i64| anchor.saturating_add(k).clamp(0, last);
                let distance = |k: i64| anchor.saturating_add(k).abs_diff(clamped(k));
                let k = steps.iter().copied().min_by_key(|&k| distance(k))?;
                Some(clamped(k) as usize)
            }
            Window::Seconds { from, to, .. } => {
                let end = t.saturating_add(secs_to_ns(*to));
                let start = t.saturating_add(secs_to_ns(*from));
                let after = times.partition_point(|&x| x <= end);
                let before = after.checked_sub(1);
                match (before, times.get(after)) {
                    (Some(b), Some(&ta)) if ta.abs_diff(end) < times[b].abs_diff(start) => {
                        Some(after)
                    }
                    (Some(b), _) => Some(b),
                    (None, _) => Some(after),
                }
            }
        }
    }
}

pub use rmf_core::time::secs_to_ns;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Brute force: scan every row.
    fn pick_slow(times: &[i64], t: i64, policy: Policy, tol: i64) -> Pick {
        let dist = |i: usize| (times[i] as i128 - t as i128).abs();
        let before = (0..times.len())
            .filter(|&i| times[i] <= t)
            .max_by_key(|&i| (times[i], i));
        let after = (0..times.len())
            .filter(|&i| times[i] >= t)
            .min_by_key(|&i| (times[i], i));
        let ok = |i: usize| dist(i) <= tol as i128;
        match policy {
            Policy::AsOf => before.filter(|&i| ok(i)).map_or(Pick::Missing, Pick::Row),
            Policy::Nearest => {
                let best = match (before, after) {
                    (Some(b), Some(a)) => Some(if dist(a) < dist(b) { a } else { b }),
                    (b, a) => b.or(a),
                };
                best.filter(|&i| ok(i)).map_or(Pick::Missing, Pick::Row)
            }
            Policy::Linear => match (before, after) {
                (Some(b), Some(a)) if ok(b) && ok(a) => {
                    if times[b] == t {
                        Pick::Row(b)
                    } else if times[a] == t {
                        Pick::Row(a)
                    } else {
                        let w = (t - times[b]) as f64 / (times[a] - times[b]) as f64;
                        Pick::Blend { lo: b, hi: a, w }
                    }
                }
                _ => Pick::Missing,
            },
        }
    }

    fn sorted_times() -> impl Strategy<Value = Vec<i64>> {
        prop::collection::vec(0i64..50, 0..40).prop_map(|gaps| {
            let mut t = 1000;
            gaps.into_iter()
                .map(|g| {
                    t += g; // gaps of 0 make repeated timestamps
                    t
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn pick_matches_brute_force(times in sorted_times(), t in 900i64..2200, tol in 0i64..60) {
            for policy in [Policy::AsOf, Policy::Nearest, Policy::Linear] {
                prop_assert_eq!(pick(&times, t, policy, tol), pick_slow(&times, t, policy, tol));
            }
        }

        #[test]
        fn step_windows_match_brute_force(times in sorted_times(), t in 900i64..2200,
                                          steps in prop::collection::vec(-5i64..6, 1..8)) {
            let rows = Window::Steps(steps.clone()).rows(&times, t);
            let anchor = (0..times.len()).filter(|&i| times[i] <= t).max().map_or(-1, |i| i as i64);
            for (k, r) in steps.iter().zip(rows) {
                let i = anchor + k;
                let want = (i >= 0 && i < times.len() as i64).then_some(i as usize);
                prop_assert_eq!(r, want);
            }
        }

        #[test]
        fn seconds_windows_hold_exactly_the_samples_of_their_span(
            times in sorted_times(), t in 900i64..2200, span in 1i64..40, len in 1usize..10) {
            let w = Window::Seconds { from: -(span as f64) * 1e-9, to: 0.0, len };
            let rows = w.rows(&times, t);
            prop_assert_eq!(rows.len(), len);
            let inside: Vec<usize> = (0..times.len())
                .filter(|&i| times[i] <= t && times[i] > t - span)
                .collect();
            let got: Vec<usize> = rows.iter().flatten().copied().collect();
            // The last `len` samples of the span, oldest first.
            let want = &inside[inside.len().saturating_sub(len)..];
            prop_assert_eq!(&got[..], want);
            // Padding comes first: real samples are the newest slots.
            let first_real = rows.iter().position(Option::is_some).unwrap_or(len);
            prop_assert!(rows[first_real..].iter().all(Option::is_some));
        }
    }

    #[test]
    fn a_window_without_samples_repeats_the_nearest_sample() {
        let times = [100, 200, 300];
        // The next 4 steps asked at the last sample: past the end, the last sample.
        assert_eq!(
            Window::Steps(vec![1, 2, 3, 4]).nearest_row(&times, 300),
            Some(2)
        );
        // Before the first sample: the first.
        assert_eq!(
            Window::Steps(vec![-3, -2]).nearest_row(&times, 100),
            Some(0)
        );
        let w = Window::seconds(0.0, 1e-7, 1e7); // (t, t + 100 ns]
        assert_eq!(w.nearest_row(&times, 300), Some(2));
        assert_eq!(w.nearest_row(&times, -50), Some(0));
        // In a gap, the sample closer in time to the span; on a tie the earlier one.
        let w = Window::seconds(0.0, 2e-8, 1e8); // (t, t + 20 ns]
        assert_eq!(w.nearest_row(&times, 170), Some(1));
        assert_eq!(w.nearest_row(&times, 110), Some(0));
        assert_eq!(w.nearest_row(&times, 140), Some(0));
        assert_eq!(w.nearest_row(&[], 140), None);
    }

    #[test]
    fn seconds_window_length_follows_the_rate() {
        assert_eq!(Window::seconds(-0.1, 0.0, 1000.0).len(), 100);
        assert_eq!(Window::seconds(-0.1, 0.0, 30.0).len(), 3);
        assert_eq!(Window::seconds(0.0, 0.001, 30.0).len(), 1);
    }
}
