//! Normalization statistics of signal streams: per episode, computed once when the episode is
//! indexed and stored in the index, so that a dataset's statistics merge from them without
//! reading any episode again.
//!
//! Per element: count, mean and M2 (sum of squared deviations) merge exactly (Chan et al.'s
//! parallel update); min and max exactly; quantiles approximately, from each episode's
//! quantile function at 101 evenly spaced ranks (a mixture of the episodes' distributions,
//! solved by bisection): a merged quantile's rank is off by at most 1 % of the samples.
//! Only finite values count (NaN and infinities are skipped and counted apart).

/// Quantile function points stored per element: ranks 0 %, 1 %, ..., 100 %.
pub const QUANTILE_POINTS: usize = 101;

/// The quantiles a merged summary reports.
pub const REPORTED_QUANTILES: [f64; 5] = [0.01, 0.05, 0.5, 0.95, 0.99];

/// One episode's statistics of one signal stream, per element (row-major order of the shape).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamStats {
    /// The stream.
    pub stream: String,
    /// Finite values per element.
    pub count: Vec<u64>,
    /// Values skipped because they were NaN or infinite, per element.
    pub non_finite: Vec<u64>,
    /// Mean per element.
    pub mean: Vec<f64>,
    /// Sum of squared deviations from the mean, per element.
    pub m2: Vec<f64>,
    /// Minimum per element (NaN when count is 0).
    pub min: Vec<f64>,
    /// Maximum per element.
    pub max: Vec<f64>,
    /// Per element: the value at ranks 0, 1, ..., 100 % (linear interpolation between order
    /// statistics), or empty when count is 0.
    pub quantile_points: Vec<Vec<f64>>,
}

impl StreamStats {
    /// Statistics of `values` (row-major, `width` elements a sample).
    pub fn of(stream: &str, values: &[f64], width: usize) -> Self {
        let mut s = StreamStats {
            stream: stream.to_string(),
            count: vec![0; width],
            non_finite: vec![0; width],
            mean: vec![0.0; width],
            m2: vec![0.0; width],
            min: vec![f64::NAN; width],
            max: vec![f64::NAN; width],
            quantile_points: vec![Vec::new(); width],
        };
        let rows = values.len().checked_div(width).unwrap_or(0);
        let mut column = Vec::with_capacity(rows);
        for j in 0..width {
            column.clear();
            for r in 0..rows {
                let v = values[r * width + j];
                if v.is_finite() {
                    column.push(v);
                } else {
                    s.non_finite[j] += 1;
                }
            }
            let n = column.len();
            s.count[j] = n as u64;
            if n == 0 {
                continue;
            }
            // Welford's update: stable for long, offset signals.
            let (mut mean, mut m2) = (0.0, 0.0);
            for (k, &v) in column.iter().enumerate() {
                let d = v - mean;
                mean += d / (k + 1) as f64;
                m2 += d * (v - mean);
            }
            s.mean[j] = mean;
            s.m2[j] = m2;
            column.sort_unstable_by(f64::total_cmp);
            s.min[j] = column[0];
            s.max[j] = column[n - 1];
            s.quantile_points[j] = (0..QUANTILE_POINTS)
                .map(|p| sorted_quantile(&column, p as f64 / (QUANTILE_POINTS - 1) as f64))
                .collect();
        }
        s
    }
}

/// The `q` quantile of sorted values, interpolating linearly between order statistics
/// (numpy's default "linear" method).
pub fn sorted_quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let w = pos - lo as f64;
    sorted[lo] * (1.0 - w) + sorted[hi] * w
}

/// A dataset's statistics of one signal stream, merged from its episodes.
#[derive(Debug, Clone, PartialEq)]
pub struct MergedStats {
    /// The stream.
    pub stream: String,
    /// Finite values per element.
    pub count: Vec<u64>,
    /// Skipped NaN and infinite values per element.
    pub non_finite: Vec<u64>,
    /// Mean per element.
    pub mean: Vec<f64>,
    /// Population standard deviation per element.
    pub std: Vec<f64>,
    /// Minimum per element.
    pub min: Vec<f64>,
    /// Maximum per element.
    pub max: Vec<f64>,
    /// Per reported quantile ([`REPORTED_QUANTILES`]), per element.
    pub quantiles: Vec<(f64, Vec<f64>)>,
}

/// Merges episodes' statistics of one stream. `None` if `parts` is empty or their element
/// counts differ.
pub fn merge(parts: &[&StreamStats]) -> Option<MergedStats> {
    let first = parts.first()?;
    let width = first.count.len();
    if parts.iter().any(|p| p.count.len() != width) {
        return None;
    }
    let mut m = MergedStats {
        stream: first.stream.clone(),
        count: vec![0; width],
        non_finite: vec![0; width],
        mean: vec![0.0; width],
        std: vec![f64::NAN; width],
        min: vec![f64::NAN; width],
        max: vec![f64::NAN; width],
        quantiles: REPORTED_QUANTILES
            .iter()
            .map(|&q| (q, vec![f64::NAN; width]))
            .collect(),
    };
    for j in 0..width {
        let (mut n, mut mean, mut m2) = (0u64, 0.0f64, 0.0f64);
        for p in parts {
            m.non_finite[j] += p.non_finite[j];
            let nb = p.count[j];
            if nb == 0 {
                continue;
            }
            // Chan et al.: combine (n, mean, M2) of two parts exactly.
            let total = n + nb;
            let d = p.mean[j] - mean;
            mean += d * nb as f64 / total as f64;
            m2 += p.m2[j] + d * d * n as f64 * nb as f64 / total as f64;
            n = total;
            m.min[j] = m.min[j].min(p.min[j]);
            m.max[j] = m.max[j].max(p.max[j]);
        }
        m.count[j] = n;
        if n == 0 {
            continue;
        }
        m.mean[j] = mean;
        m.std[j] = (m2 / n as f64).sqrt();
        for (q, out) in &mut m.quantiles {
            out[j] = mixture_quantile(parts, j, *q, m.min[j], m.max[j], n);
        }
    }
    Some(m)
}

/// The value where the count-weighted mixture of the parts' quantile functions reaches rank `q`.
fn mixture_quantile(parts: &[&StreamStats], j: usize, q: f64, lo: f64, hi: f64, n: u64) -> f64 {
    let cdf = |v: f64| -> f64 {
        parts
            .iter()
            .filter(|p| p.count[j] > 0)
            .map(|p| p.count[j] as f64 * piecewise_cdf(&p.quantile_points[j], v))
            .sum::<f64>()
            / n as f64
    };
    let (mut a, mut b) = (lo, hi);
    for _ in 0..100 {
        let mid = 0.5 * (a + b);
        if mid <= a || mid >= b {
            break;
        }
        if cdf(mid) < q {
            a = mid;
        } else {
            b = mid;
        }
    }
    // Bisection approaches the quantile from above; where it is a jump of the distribution
    // (repeated values: quantized sensors), the jump's own value is the answer.
    let jump = parts
        .iter()
        .flat_map(|p| p.quantile_points[j].iter().copied())
        .filter(|&v| v <= b)
        .fold(f64::NEG_INFINITY, f64::max);
    if jump.is_finite() && cdf(jump) >= q {
        jump
    } else {
        b
    }
}

/// The fraction of values at or below `v`, from quantile function points at evenly spaced
/// ranks, interpolated linearly (flat stretches jump at their end).
fn piecewise_cdf(points: &[f64], v: f64) -> f64 {
    let k = points.len();
    if k == 0 {
        return 0.0;
    }
    if v < points[0] {
        return 0.0;
    }
    if v >= points[k - 1] {
        return 1.0;
    }
    let i = points.partition_point(|&p| p <= v); // points[i - 1] <= v < points[i]
    let (p0, p1) = (points[i - 1], points[i]);
    let step = 1.0 / (k - 1) as f64;
    ((i - 1) as f64 + (v - p0) / (p1 - p0)) * step
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fractions of values below and up to `v`: `v` is a q-quantile when q lies between.
    fn ranks(sorted: &[f64], v: f64) -> (f64, f64) {
        let n = sorted.len() as f64;
        (
            sorted.partition_point(|&x| x < v) as f64 / n,
            sorted.partition_point(|&x| x <= v) as f64 / n,
        )
    }

    #[test]
    fn merged_statistics_equal_statistics_of_the_concatenated_data() {
        let mut rng = 9u64;
        let mut next = || {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (rng >> 11) as f64 / (1u64 << 53) as f64
        };
        // Three episodes of a 3-element signal with different offsets, spreads and lengths,
        // one with a NaN; element 2 is a quantized reading with many ties.
        let mut parts = Vec::new();
        let mut all: Vec<Vec<f64>> = vec![Vec::new(), Vec::new(), Vec::new()];
        for (e, (n, off, spread)) in [
            (500, 1e6, 1.0),
            (1300, 1e6 + 3.0, 0.2),
            (77, 1e6 - 2.0, 5.0),
        ]
        .into_iter()
        .enumerate()
        {
            let mut v = Vec::new();
            for r in 0..n {
                let x = off + spread * (next() - 0.5);
                let y = if e == 1 && r == 5 {
                    f64::NAN
                } else {
                    -(next() * next()) * 100.0
                };
                let z = (next() * 4.0).floor();
                v.extend([x, y, z]);
                all[0].push(x);
                all[2].push(z);
                if y.is_finite() {
                    all[1].push(y);
                }
            }
            parts.push(StreamStats::of("s", &v, 3));
        }
        let m = merge(&parts.iter().collect::<Vec<_>>()).unwrap();
        for j in 0..3 {
            let xs = &mut all[j];
            let n = xs.len() as f64;
            let mean = xs.iter().sum::<f64>() / n;
            let std = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
            assert_eq!(m.count[j], xs.len() as u64);
            assert!(
                (m.mean[j] - mean).abs() < 1e-9 * mean.abs().max(1.0),
                "{} {}",
                m.mean[j],
                mean
            );
            assert!((m.std[j] - std).abs() < 1e-6 * std, "{} {}", m.std[j], std);
            xs.sort_by(f64::total_cmp);
            assert_eq!((m.min[j], m.max[j]), (xs[0], xs[xs.len() - 1]));
            for (q, v) in &m.quantiles {
                let (below, upto) = ranks(xs, v[j]);
                assert!(
                    below - 0.011 <= *q && *q <= upto + 0.011,
                    "element {j} q {q}: {below}..{upto}"
                );
            }
        }
        assert_eq!(m.non_finite, [0, 1, 0]);
        // One part merges to itself.
        let one = merge(&[&parts[0]]).unwrap();
        assert_eq!(one.mean, parts[0].mean);
    }
}
