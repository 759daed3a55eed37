//! Appending samples: one method per stream kind, each checking the sample against the
//! stream's declaration and its time against the stream's last before buffering it.

use super::*;

impl EpisodeWriter {
    /// Writes one signal sample (`value` has the stream's element count, row-major).
    pub fn write_signal<T: Element>(&mut self, id: StreamId, t: i64, value: &[T]) -> Result<()> {
        self.write_signals(id, &[t], value)
    }

    /// Writes many signal samples: `values` holds `ts.len()` samples, row-major.
    pub fn write_signals<T: Element>(
        &mut self,
        id: StreamId,
        ts: &[i64],
        values: &[T],
    ) -> Result<()> {
        self.check_open()?;
        let s = self.stream(id)?;
        let width = s.info.signal_width();
        match &s.info.kind {
            StreamKind::Signal { dtype, .. } if *dtype == T::DTYPE => {}
            StreamKind::Signal { dtype, .. } => {
                return Err(mismatch(
                    &s.info,
                    format!("values are {}, the stream holds {dtype}", T::DTYPE),
                ))
            }
            k => {
                return Err(mismatch(
                    &s.info,
                    format!("write_signal on a {} stream", k.name()),
                ))
            }
        }
        if values.len() != ts.len() * width {
            return Err(mismatch(
                &s.info,
                format!(
                    "{} values for {} samples of {width} elements (shape {:?})",
                    values.len(),
                    ts.len(),
                    shape_of(&s.info)
                ),
            ));
        }
        crate::time::check_order(&s.info.name, s.last_t, ts)?;
        // Rows go in as runs that end where a flush rule fires, not one by one: a recorder
        // handing over a second of 1 kHz data pays the bookkeeping once per run.
        let row_bytes = 8 + width * T::DTYPE.size();
        let idx = id.0 as usize;
        let mut i = 0;
        while i < ts.len() {
            self.before_sample(id, ts[i])?;
            let st = &mut self.streams[idx];
            let was_empty = st.open.times().is_empty();
            let first = st.open.times().first().copied().unwrap_or(ts[i]);
            let rest = &ts[i..];
            let by_time =
                rest.partition_point(|&t| t.saturating_sub(first) < self.opts.chunk_duration_ns);
            let room = self
                .opts
                .chunk_bytes
                .saturating_sub(st.open.buffered_bytes());
            let by_bytes = room.div_ceil(row_bytes);
            let by_deadline = rest.partition_point(|&t| t < self.next_deadline) + 1;
            let n = by_time.min(by_bytes).min(by_deadline).clamp(1, rest.len());
            if let OpenChunk::Signal(b) = &mut st.open {
                let dtype = b.dtype();
                let v = b.values_mut::<T>().ok_or_else(|| Error::Mismatch {
                    stream: st.info.name.clone(),
                    detail: format!("internal: buffer holds {dtype}"),
                })?;
                v.extend_from_slice(&values[i * width..(i + n) * width]);
                b.t.extend_from_slice(&rest[..n]);
            }
            self.after_rows(id, n as u64, rest[n - 1], was_empty.then_some(first))?;
            i += n;
        }
        Ok(())
    }

    /// Writes one frame of raw pixels (row-major; `gray16` little-endian).
    pub fn write_frame(&mut self, id: StreamId, t: i64, pixels: &[u8]) -> Result<()> {
        self.check_open()?;
        let s = self.stream(id)?;
        if !matches!(s.info.kind, StreamKind::Frames { .. }) {
            return Err(mismatch(
                &s.info,
                format!("write_frame on a {} stream", s.info.kind.name()),
            ));
        }
        let want = s.info.frame_bytes();
        if pixels.len() != want {
            return Err(mismatch(
                &s.info,
                format!(
                    "frame of {} bytes, expected {want} ({})",
                    pixels.len(),
                    frame_desc(&s.info)
                ),
            ));
        }
        crate::time::check_order(&s.info.name, s.last_t, &[t])?;
        self.before_sample(id, t)?;
        let codec = self.opts.codec;
        let st = &mut self.streams[id.0 as usize];
        if let Some(worker) = &mut st.worker {
            worker.send_frame(t, pixels)?;
            st.sent_first.get_or_insert(t);
            st.sent_rows += 1;
        } else if let OpenChunk::Frames(b) = &mut st.open {
            b.push(t, pixels, &codec, &st.info)
                .map_err(|e| Error::Mismatch {
                    stream: st.info.name.clone(),
                    detail: e.0,
                })?;
        }
        self.after_sample(id, t)
    }

    /// Writes one block of interleaved audio samples stamped with its first sample's time.
    pub fn write_audio<T: Element>(&mut self, id: StreamId, t: i64, samples: &[T]) -> Result<()> {
        self.check_open()?;
        let s = self.stream(id)?;
        let channels = match &s.info.kind {
            StreamKind::Audio {
                dtype, channels, ..
            } if *dtype == T::DTYPE => *channels as usize,
            StreamKind::Audio { dtype, .. } => {
                return Err(mismatch(
                    &s.info,
                    format!("samples are {}, the stream holds {dtype}", T::DTYPE),
                ))
            }
            k => {
                return Err(mismatch(
                    &s.info,
                    format!("write_audio on a {} stream", k.name()),
                ))
            }
        };
        if samples.is_empty()
            || !samples.len().is_multiple_of(channels)
            || samples.len() / channels > u32::MAX as usize
        {
            return Err(mismatch(
                &s.info,
                format!("a block of {} samples is not a whole, non-zero number of {channels}-channel frames", samples.len()),
            ));
        }
        crate::time::check_order(&s.info.name, s.last_t, &[t])?;
        self.before_sample(id, t)?;
        let st = &mut self.streams[id.0 as usize];
        if let OpenChunk::Audio(b) = &mut st.open {
            let dtype = b.dtype();
            let v = b.samples_mut::<T>().ok_or_else(|| Error::Mismatch {
                stream: st.info.name.clone(),
                detail: format!("internal: buffer holds {dtype}"),
            })?;
            v.extend_from_slice(samples);
            b.push_block(t, (samples.len() / channels) as u32);
        }
        self.after_sample(id, t)
    }

    /// Writes one event.
    pub fn write_event(&mut self, id: StreamId, t: i64, event: &Event) -> Result<()> {
        self.check_open()?;
        let s = self.stream(id)?;
        if !matches!(s.info.kind, StreamKind::Events) {
            return Err(mismatch(
                &s.info,
                format!("write_event on a {} stream", s.info.kind.name()),
            ));
        }
        let longest = [&event.kind, &event.operator, &event.text]
            .iter()
            .map(|x| x.len())
            .max()
            .unwrap_or(0);
        if longest > u32::MAX as usize {
            return Err(mismatch(
                &s.info,
                "an event string is longer than 4 GiB".into(),
            ));
        }
        if event.kind.is_empty() {
            return Err(mismatch(
                &s.info,
                "an event needs a kind (e.g. \"note\")".into(),
            ));
        }
        crate::time::check_order(&s.info.name, s.last_t, &[t])?;
        self.before_sample(id, t)?;
        if let OpenChunk::Events(b) = &mut self.streams[id.0 as usize].open {
            b.push(t, event);
        }
        self.after_sample(id, t)?;
        if self.opts.flush_events {
            self.flush_stream(id.0 as usize)?;
        }
        Ok(())
    }
}

pub(super) fn mismatch(info: &StreamInfo, detail: String) -> Error {
    Error::Mismatch {
        stream: info.name.clone(),
        detail,
    }
}

fn shape_of(info: &StreamInfo) -> Vec<usize> {
    match &info.kind {
        StreamKind::Signal { shape, .. } => shape.clone(),
        _ => Vec::new(),
    }
}

fn frame_desc(info: &StreamInfo) -> String {
    match &info.kind {
        StreamKind::Frames {
            width,
            height,
            pixel_format,
            ..
        } => format!("{width}x{height} {}", pixel_format.name()),
        _ => String::new(),
    }
}
