//! From buffered samples to chunk records in the file: when a stream's open chunk is flushed,
//! how encoded chunks (from the caller or a frame worker) are sealed when private, framed and
//! appended, and how edits copy chunk records unchanged.

use super::samples::mismatch;
use super::*;

impl EpisodeWriter {
    /// Bookkeeping after `rows` samples ending at `t`; `new_chunk_at` is the first time of the
    /// open chunk when these rows started it.
    pub(super) fn after_rows(
        &mut self,
        id: StreamId,
        rows: u64,
        t: i64,
        new_chunk_at: Option<i64>,
    ) -> Result<()> {
        let i = id.0 as usize;
        let duration = self.opts.chunk_duration_ns;
        let st = &mut self.streams[i];
        st.last_t = Some(t);
        st.samples += rows;
        if let Some(first) = new_chunk_at {
            self.next_deadline = self.next_deadline.min(first.saturating_add(duration));
        }
        // Flush before the next frame could push the decoded size past the cap.
        let next_frame = match st.info.kind {
            StreamKind::Frames { .. } => 8 + st.info.frame_bytes() as u64,
            _ => 0,
        };
        if st.open.buffered_bytes() >= self.opts.chunk_bytes
            || raw_bytes(&st.open, &st.info) + next_frame > MAX_CHUNK_DECODED_BYTES
        {
            self.flush_stream(i)?;
        }
        if t >= self.next_deadline {
            let mut next = i64::MAX;
            for j in 0..self.streams.len() {
                if let Some(first) = self.streams[j].open_first() {
                    if t.saturating_sub(first) >= duration {
                        self.flush_stream(j)?;
                    } else {
                        next = next.min(first.saturating_add(duration));
                    }
                }
            }
            self.next_deadline = next;
        }
        self.append_worker_chunks(false)
    }

    /// Appends the chunks that encoder threads finished; with `wait`, first waits for every
    /// flush asked of them.
    pub(super) fn append_worker_chunks(&mut self, wait: bool) -> Result<()> {
        let mut ready = Vec::new();
        for i in 0..self.streams.len() {
            if let Some(w) = &mut self.streams[i].worker {
                w.take_chunks(wait, &mut ready);
            }
            for c in ready.drain(..) {
                self.append_chunk(c)?;
            }
        }
        Ok(())
    }

    pub(super) fn flush_stream(&mut self, i: usize) -> Result<()> {
        let st = &mut self.streams[i];
        if let Some(worker) = &mut st.worker {
            if st.sent_rows > 0 {
                worker.request_flush();
                st.sent_first = None;
                st.sent_rows = 0;
            }
            return Ok(());
        }
        let ready = build_chunk(
            i as u32,
            &st.info,
            &st.open,
            &self.opts.codec,
            &mut st.hints,
        )?;
        st.open.clear();
        match ready {
            Some(c) => self.append_chunk(c),
            None => Ok(()),
        }
    }

    /// Appends a chunk copied from another file (its body, already naming stream `id`; a chunk
    /// record or a sealed one), with that file's index entry; returns the record's length. The
    /// stream must have no open chunk, and the chunk must come after the stream's samples so
    /// far.
    pub(crate) fn copy_chunk(
        &mut self,
        id: StreamId,
        entry: &ChunkEntry,
        kind: RecordKind,
        body: &[u8],
    ) -> Result<u64> {
        self.check_open()?;
        let s = self.stream(id)?;
        crate::time::check_order(&s.info.name, s.last_t, &[entry.t_min])?;
        if s.open_rows() > 0 {
            return Err(mismatch(
                &s.info,
                "copying a chunk into a stream with an open chunk".into(),
            ));
        }
        if kind == RecordKind::SealedChunk && s.info.encryption.is_none() {
            return Err(mismatch(
                &s.info,
                "copying a sealed chunk into a stream that is not encrypted".into(),
            ));
        }
        let mut record = Vec::new();
        write_record(&mut record, kind, body);
        let before = self.offset;
        self.append_chunk(ReadyChunk {
            record,
            entry: ChunkEntry {
                stream_id: id.0,
                ..entry.clone()
            },
        })?;
        let st = &mut self.streams[id.0 as usize];
        st.last_t = Some(entry.t_max);
        st.samples += entry.rows;
        Ok(self.offset - before)
    }

    /// Appends a chunk record and indexes it, sealing it first when its stream is encrypted.
    pub(super) fn append_chunk(&mut self, c: ReadyChunk) -> Result<()> {
        let c = self.seal_if_encrypted(c)?;
        let offset = self.offset;
        self.append(&c.record, "write chunk")?;
        if self.opts.fsync_chunks {
            if let Err(e) = self.file.sync_data() {
                let err = Error::io(&self.path, "sync chunk", e);
                self.state = State::Failed(err.to_string());
                return Err(err);
            }
        }
        self.index.push(ChunkEntry { offset, ..c.entry });
        Ok(())
    }

    /// The sealed form of a plain chunk record of an encrypted stream; other chunks as they are.
    fn seal_if_encrypted(&self, c: ReadyChunk) -> Result<ReadyChunk> {
        let st = &self.streams[c.entry.stream_id as usize];
        if c.record.first() != Some(&(RecordKind::Chunk as u8)) || st.info.encryption.is_none() {
            return Ok(c);
        }
        let Some(cipher) = &st.cipher else {
            return Err(Error::Encrypted {
                file: self.path.display().to_string(),
                stream: st.info.name.clone(),
            });
        };
        let header = ChunkHeader {
            stream_id: c.entry.stream_id,
            t_min: c.entry.t_min,
            t_max: c.entry.t_max,
            rows: c.entry.rows,
        };
        let body = &c.record[RECORD_HEADER_LEN..c.record.len() - 4];
        let sealed = cipher.seal_chunk(&header, body)?;
        let mut record = Vec::with_capacity(sealed.len() + RECORD_OVERHEAD);
        write_record(&mut record, RecordKind::SealedChunk, &sealed);
        Ok(ReadyChunk {
            entry: ChunkEntry {
                length: record.len() as u64,
                stats: cipher.seal_stats(&header, &c.entry.stats)?,
                ..c.entry
            },
            record,
        })
    }

    /// Appends bytes; on failure the writer refuses further writes, so the file never holds a
    /// record after a gap.
    pub(super) fn append(&mut self, bytes: &[u8], op: &'static str) -> Result<()> {
        if let Err(e) = self.file.write_all(bytes) {
            let err = Error::io(&self.path, op, e);
            self.state = State::Failed(err.to_string());
            return Err(err);
        }
        self.offset += bytes.len() as u64;
        Ok(())
    }
}
