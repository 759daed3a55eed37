//! Per-chunk statistics from the index: signal minima and maxima without reading a chunk.

use super::*;

impl EpisodeReader {
    /// Per-element minimum and maximum of a signal stream over the whole episode, from the
    /// chunk statistics in the index (no chunk is read). `None` for other kinds or no samples.
    pub fn signal_bounds(&self, name: &str) -> Result<Option<(Vec<f64>, Vec<f64>)>> {
        let s = self.stream_index(name)?;
        let info = &self.streams[s];
        let StreamKind::Signal { dtype, .. } = &info.kind else {
            return Ok(None);
        };
        let width = info.signal_width();
        let mut bounds: Option<(Vec<f64>, Vec<f64>)> = None;
        for &i in &self.per_stream[s] {
            let stats = self.chunk_stats(i)?;
            let Some((lo, hi)) = stats_as_f64(&stats, *dtype, width) else {
                continue;
            };
            bounds = Some(match bounds {
                None => (lo, hi),
                Some((mut a, mut b)) => {
                    for j in 0..width {
                        a[j] = nan_min(a[j], lo[j]);
                        b[j] = nan_max(b[j], hi[j]);
                    }
                    (a, b)
                }
            });
        }
        Ok(bounds)
    }

    /// The statistics of chunk `i` (spec/chunks.md), opened when its stream is encrypted.
    pub fn chunk_stats(&self, i: usize) -> Result<Cow<'_, [u8]>> {
        let c = self.chunk_entry(i)?;
        let s = self.stream_position_of(c)?;
        if self.streams[s].encryption.is_none() {
            return Ok(Cow::Borrowed(&c.stats));
        }
        let cipher = self.cipher(s)?;
        if c.stats.is_empty() {
            // A recovered file keeps no statistics of sealed chunks: they are in the chunk.
            return self.with_chunk(i, |view| Ok(Cow::Owned(view.stats.to_vec())));
        }
        let header = ChunkHeader {
            stream_id: c.stream_id,
            t_min: c.t_min,
            t_max: c.t_max,
            rows: c.rows,
        };
        cipher
            .open_stats(
                &header,
                &c.stats,
                &self.name,
                &self.streams[s].name,
                c.offset,
            )
            .map(Cow::Owned)
    }
}

/// Decodes signal statistics bytes to f64 (for display and merging).
pub(crate) fn stats_as_f64(
    stats: &[u8],
    dtype: DType,
    width: usize,
) -> Option<(Vec<f64>, Vec<f64>)> {
    if stats.len() != 2 * width * dtype.size() {
        return None;
    }
    with_dtype!(dtype, T => {
        let vals: Vec<T> = bytemuck::pod_collect_to_vec(stats);
        let f: Vec<f64> = vals.iter().map(|v| rmf_codecs::Element::to_f64(*v)).collect();
        Some((f[..width].to_vec(), f[width..].to_vec()))
    })
}

fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() {
        b
    } else if b.is_nan() {
        a
    } else {
        a.min(b)
    }
}

fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() {
        b
    } else if b.is_nan() {
        a
    } else {
        a.max(b)
    }
}
