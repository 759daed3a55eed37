//! Edits of the rows of one stream within a time range, for [`crate::edit`]: keep only the rows
//! of a range (trim, split) or blank them (redact). A chunk the range does not touch is copied
//! byte for byte; only chunks that straddle an edge are decoded and written again.

use crate::error::{Error, Result};
use crate::kind::Event;
use crate::read::typed::{audio_of, events_of};
use crate::read::EpisodeReader;
use crate::schema::{StreamInfo, StreamKind};
use crate::write::{EpisodeWriter, StreamId};
use rmf_codecs::with_dtype;
use rmf_codecs::DType;

/// What to do with the rows of a stream whose time is in `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowEdit {
    /// Keep these rows, drop the others.
    Keep {
        /// First time kept.
        from: i64,
        /// First time after the kept range.
        to: i64,
    },
    /// Blank these rows (black frames, silent audio, NaN or zero signal values, event text and
    /// payload removed), keep the others as they are.
    Blank {
        /// First time blanked.
        from: i64,
        /// First time after the blanked range.
        to: i64,
    },
}

/// What a row edit does to a whole chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkEffect {
    /// Untouched: copy it as it is.
    Copy,
    /// Every row goes: skip it.
    Skip,
    /// Some rows change: decode and write them again.
    Rewrite,
}

impl RowEdit {
    fn range(self) -> (i64, i64) {
        match self {
            RowEdit::Keep { from, to } | RowEdit::Blank { from, to } => (from, to),
        }
    }

    /// The effect on a chunk spanning `t_min..=t_max`.
    pub(crate) fn effect(self, t_min: i64, t_max: i64) -> ChunkEffect {
        let (from, to) = self.range();
        let inside = t_min >= from && t_max < to;
        let outside = t_max < from || t_min >= to;
        match (self, inside, outside) {
            (RowEdit::Keep { .. }, true, _) => ChunkEffect::Copy,
            (RowEdit::Keep { .. }, _, true) => ChunkEffect::Skip,
            (RowEdit::Blank { .. }, _, true) => ChunkEffect::Copy,
            _ => ChunkEffect::Rewrite,
        }
    }

    /// Whether the row at `t` is in the range.
    fn covers(self, t: i64) -> bool {
        let (from, to) = self.range();
        t >= from && t < to
    }

    fn blanks(self) -> bool {
        matches!(self, RowEdit::Blank { .. })
    }
}

/// The bytes of one blank signal element: NaN for floats (no value), zero for integers.
fn blank_element(dtype: DType) -> Vec<u8> {
    match dtype {
        DType::Float32 => f32::NAN.to_le_bytes().to_vec(),
        DType::Float64 => f64::NAN.to_le_bytes().to_vec(),
        other => vec![0; other.size()],
    }
}

/// Decodes chunk `i` of `reader` (a chunk of stream `info`) and writes its rows, edited, to
/// stream `id` of `w`.
pub(crate) fn write_edited_chunk(
    reader: &EpisodeReader,
    w: &mut EpisodeWriter,
    id: StreamId,
    i: usize,
    info: &StreamInfo,
    edit: RowEdit,
) -> Result<()> {
    let name = info.name.as_str();
    let keep = |t: i64| edit.blanks() || edit.covers(t);
    let blank = |t: i64| edit.blanks() && edit.covers(t);
    match &info.kind {
        StreamKind::Signal { .. } | StreamKind::Frames { .. } => {
            let (ts, bytes) = reader
                .decode_chunk(i)?
                .into_row_bytes()
                .ok_or_else(|| mismatch(name))?;
            let row = if ts.is_empty() {
                0
            } else {
                bytes.len() / ts.len()
            };
            let blank_row = match &info.kind {
                StreamKind::Signal { dtype, .. } => {
                    blank_element(*dtype).repeat(info.signal_width())
                }
                _ => vec![0; row],
            };
            let mut kept_t = Vec::with_capacity(ts.len());
            let mut kept = Vec::with_capacity(bytes.len());
            for (j, &t) in ts.iter().enumerate() {
                if keep(t) {
                    kept_t.push(t);
                    let src = if blank(t) {
                        &blank_row[..]
                    } else {
                        &bytes[j * row..(j + 1) * row]
                    };
                    kept.extend_from_slice(src);
                }
            }
            match &info.kind {
                StreamKind::Signal { dtype, .. } => with_dtype!(*dtype, T => {
                    let values: Vec<T> = bytemuck::pod_collect_to_vec(&kept);
                    w.write_signals::<T>(id, &kept_t, &values)
                }),
                _ => {
                    for (j, &t) in kept_t.iter().enumerate() {
                        w.write_frame(id, t, &kept[j * row..(j + 1) * row])?;
                    }
                    Ok(())
                }
            }
        }
        StreamKind::Audio { dtype, .. } => {
            let batch = reader.read_chunk(i)?;
            with_dtype!(*dtype, T => {
                for block in audio_of::<T>(&batch, name)? {
                    if !keep(block.t) {
                        continue;
                    }
                    if blank(block.t) {
                        let silence = vec![<T as bytemuck::Zeroable>::zeroed(); block.samples.len()];
                        w.write_audio(id, block.t, &silence)?;
                    } else {
                        w.write_audio(id, block.t, &block.samples)?;
                    }
                }
                Ok(())
            })
        }
        StreamKind::Events => {
            let batch = reader.read_chunk(i)?;
            for (t, e) in events_of(&batch, name)? {
                if !keep(t) {
                    continue;
                }
                let e = if blank(t) {
                    Event {
                        kind: e.kind,
                        operator: e.operator,
                        text: "[redacted]".into(),
                        payload: serde_json::Value::Null,
                    }
                } else {
                    e
                };
                w.write_event(id, t, &e)?;
            }
            Ok(())
        }
    }
}

fn mismatch(name: &str) -> Error {
    Error::Mismatch {
        stream: name.to_string(),
        detail: "the chunk's rows do not match the stream's kind".into(),
    }
}
