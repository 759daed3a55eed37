//! Typed reads for Rust callers who do not want Arrow: the same queries as the Arrow ones,
//! returned as plain vectors.

use arrow_array::{Array, Int64Array, ListArray, PrimitiveArray, RecordBatch, StringArray};

use crate::error::{Error, Result};
use crate::kind::{AudioBlock, Event};
use crate::read::EpisodeReader;
use crate::schema::StreamKind;
use rmf_codecs::Element;

fn column<'a, A: 'static>(batch: &'a RecordBatch, i: usize, stream: &str) -> Result<&'a A> {
    batch
        .column(i)
        .as_any()
        .downcast_ref::<A>()
        .ok_or_else(|| Error::Mismatch {
            stream: stream.to_string(),
            detail: format!("column {i} has Arrow type {}", batch.column(i).data_type()),
        })
}

fn times(batch: &RecordBatch, stream: &str) -> Result<Vec<i64>> {
    Ok(column::<Int64Array>(batch, 0, stream)?.values().to_vec())
}

impl EpisodeReader {
    fn check_kind(&self, name: &str, want: &str, dtype: Option<crate::DType>) -> Result<()> {
        let info = self.stream(name)?;
        let (kind, d) = match &info.kind {
            StreamKind::Signal { dtype, .. } => ("signal", Some(*dtype)),
            StreamKind::Audio { dtype, .. } => ("audio", Some(*dtype)),
            k => (k.name(), None),
        };
        if kind != want || (dtype.is_some() && d != dtype) {
            return Err(Error::Mismatch {
                stream: name.to_string(),
                detail: format!(
                    "asked for {want}{} samples, the stream holds {kind}{}",
                    dtype.map(|d| format!(" {d}")).unwrap_or_default(),
                    d.map(|d| format!(" {d}")).unwrap_or_default()
                ),
            });
        }
        Ok(())
    }

    /// Signal samples with `t0 <= t < t1`: timestamps, and values row-major. Decodes straight
    /// into the returned vectors (no Arrow arrays in between).
    pub fn signal_range<T: Element>(
        &self,
        name: &str,
        t0: i64,
        t1: i64,
    ) -> Result<(Vec<i64>, Vec<T>)> {
        self.signal_range_within(name, t0, t1, None)
    }

    /// [`Self::signal_range`] with this read's budget (`None`: the reader's,
    /// [`ReadOptions::max_read_bytes`](crate::ReadOptions::max_read_bytes)).
    pub fn signal_range_within<T: Element>(
        &self,
        name: &str,
        t0: i64,
        t1: i64,
        budget: Option<u64>,
    ) -> Result<(Vec<i64>, Vec<T>)> {
        self.check_kind(name, "signal", Some(T::DTYPE))?;
        let (s, range) = self.half_open(name, t0, t1)?;
        let Some(range) = range else {
            return Ok((Vec::new(), Vec::new()));
        };
        self.gather_within(s, range, budget)?
            .into_signal::<T>()
            .ok_or_else(|| Error::Mismatch {
                stream: name.to_string(),
                detail: format!("signal values are not {}", T::DTYPE),
            })
    }

    /// The last signal sample at or before `t`: its time and value.
    pub fn signal_at<T: Element>(&self, name: &str, t: i64) -> Result<Option<(i64, Vec<T>)>> {
        self.check_kind(name, "signal", Some(T::DTYPE))?;
        let Some(r) = self.find_at(name, t)? else {
            return Ok(None);
        };
        let (ts, v) = self.signal_range::<T>(name, r.t, r.t.saturating_add(1))?;
        // Several samples may share the time; the as-of sample is the last of them.
        let width = self.stream(name)?.signal_width();
        let last = ts.len().checked_sub(1).ok_or_else(|| Error::Mismatch {
            stream: name.to_string(),
            detail: format!("no sample at {} ns although the index points there", r.t),
        })?;
        Ok(Some((ts[last], v[last * width..].to_vec())))
    }

    /// The last frame at or before `t`: its time and raw pixels.
    pub fn frame_at(&self, name: &str, t: i64) -> Result<Option<(i64, Vec<u8>)>> {
        self.check_kind(name, "frames", None)?;
        let Some(r) = self.find_at(name, t)? else {
            return Ok(None);
        };
        Ok(Some((r.t, self.read_frame_ref(name, r)?)))
    }

    /// Every frame of a frame stream as stored, undecoded, in time order with its time: for
    /// `h264` the access units (concatenated, an H.264 elementary stream that ffmpeg reads),
    /// for `jpeg`/`png` image files, for `raw` zstd frames. Each is checked against its CRC.
    pub fn stored_frames(&self, name: &str) -> Result<Vec<(i64, Vec<u8>)>> {
        self.check_kind(name, "frames", None)?;
        self.stored_frames_of(name)
    }

    /// Frames with `t0 <= t < t1`: timestamps and the frames' pixels back to back. Decodes
    /// straight into the returned vector.
    pub fn frames_range(&self, name: &str, t0: i64, t1: i64) -> Result<(Vec<i64>, Vec<u8>)> {
        self.frames_range_within(name, t0, t1, None)
    }

    /// [`Self::frames_range`] with this read's budget (`None`: the reader's,
    /// [`ReadOptions::max_read_bytes`](crate::ReadOptions::max_read_bytes)).
    pub fn frames_range_within(
        &self,
        name: &str,
        t0: i64,
        t1: i64,
        budget: Option<u64>,
    ) -> Result<(Vec<i64>, Vec<u8>)> {
        self.check_kind(name, "frames", None)?;
        let (s, range) = self.half_open(name, t0, t1)?;
        let Some(range) = range else {
            return Ok((Vec::new(), Vec::new()));
        };
        self.gather_within(s, range, budget)?
            .into_frames()
            .ok_or_else(|| Error::Mismatch {
                stream: name.to_string(),
                detail: "not a frame stream".into(),
            })
    }

    /// Audio blocks that start in `t0 <= t < t1`.
    pub fn audio_range<T: Element>(
        &self,
        name: &str,
        t0: i64,
        t1: i64,
    ) -> Result<Vec<AudioBlock<T>>> {
        self.check_kind(name, "audio", Some(T::DTYPE))?;
        audio_of(&self.read_range(name, t0, t1)?, name)
    }

    /// Events with `t0 <= t < t1`.
    pub fn events_range(&self, name: &str, t0: i64, t1: i64) -> Result<Vec<(i64, Event)>> {
        self.check_kind(name, "events", None)?;
        events_of(&self.read_range(name, t0, t1)?, name)
    }
}

/// The audio blocks of a batch of audio stream `name`.
pub(crate) fn audio_of<T: Element>(batch: &RecordBatch, name: &str) -> Result<Vec<AudioBlock<T>>> {
    let ts = times(batch, name)?;
    let lists = column::<ListArray>(batch, 1, name)?;
    let mut out = Vec::with_capacity(ts.len());
    for (i, t) in ts.into_iter().enumerate() {
        let block = lists.value(i);
        let samples = block
            .as_any()
            .downcast_ref::<PrimitiveArray<T::Arrow>>()
            .ok_or_else(|| Error::Mismatch {
                stream: name.to_string(),
                detail: "audio samples have an unexpected Arrow type".into(),
            })?;
        out.push(AudioBlock {
            t,
            samples: samples.values().to_vec(),
        });
    }
    Ok(out)
}

/// The events of a batch of event stream `name`.
pub(crate) fn events_of(batch: &RecordBatch, name: &str) -> Result<Vec<(i64, Event)>> {
    let ts = times(batch, name)?;
    let cols: Vec<&StringArray> = (1..5)
        .map(|i| column::<StringArray>(batch, i, name))
        .collect::<Result<_>>()?;
    ts.into_iter()
        .enumerate()
        .map(|(i, t)| {
            let payload = serde_json::from_str(cols[3].value(i)).map_err(|e| Error::Mismatch {
                stream: name.to_string(),
                detail: format!("event at {t} ns has a payload that is not JSON: {e}"),
            })?;
            Ok((
                t,
                Event {
                    kind: cols[0].value(i).to_string(),
                    operator: cols[1].value(i).to_string(),
                    text: cols[2].value(i).to_string(),
                    payload,
                },
            ))
        })
        .collect()
}
