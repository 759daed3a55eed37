//! Getting at one chunk's bytes: its record (in place, or fetched by a range request) checked
//! against its CRCs, decrypted when sealed (with a small cache of decrypted bodies), and mapped
//! pages released as reading moves on.

use super::*;

impl EpisodeReader {
    /// The cipher of encrypted stream `s`, or why there is none.
    pub(super) fn cipher(&self, s: usize) -> Result<&StreamCipher> {
        self.ciphers[s].as_ref().ok_or_else(|| Error::Encrypted {
            file: self.name.clone(),
            stream: self.streams[s].name.clone(),
        })
    }

    /// The decrypted body of the sealed chunk record at `offset` with body length `body_len`.
    pub(super) fn open_sealed(&self, s: usize, offset: u64, body_len: u64) -> Result<Arc<Vec<u8>>> {
        let cipher = self.cipher(s)?;
        let cached = self
            .plain_cache
            .lock()
            .ok()
            .and_then(|c| c.iter().find(|(o, _)| *o == offset).map(|(_, p)| p.clone()));
        if let Some(plain) = cached {
            return Ok(plain);
        }
        let w = self.window(offset, body_len + RECORD_OVERHEAD as u64)?;
        let b = w.bytes(&self.name);
        let body_offset = offset + RECORD_HEADER_LEN as u64;
        let body = b.slice(body_offset, body_len + 4, "sealed chunk")?;
        let (body, crc) = body.split_at(body_len as usize);
        let (stored, computed) = (crate::format::le_u32(crc), crc32c::crc32c(body));
        if stored != computed {
            return Err(Error::Checksum {
                file: self.name.clone(),
                what: "sealed chunk",
                offset: body_offset,
                stored,
                computed,
            });
        }
        let plain =
            Arc::new(cipher.open_chunk(body, &self.name, &self.streams[s].name, body_offset)?);
        if let Ok(mut cache) = self.plain_cache.lock() {
            if cache.len() >= PLAIN_CACHE_CHUNKS {
                cache.pop_front();
            }
            cache.push_back((offset, plain.clone()));
        }
        Ok(plain)
    }

    /// Decrypts chunk `i` of encrypted stream `s` into the plaintext cache.
    pub(super) fn decrypt_ahead(&self, s: usize, i: usize) -> Result<()> {
        let c = self.chunk_entry(i)?;
        let w = self.window(c.offset, c.length)?;
        let (_, body_len) = read_record_header(&w.bytes(&self.name), c.offset)?;
        self.open_sealed(s, c.offset, body_len).map(|_| ())
    }

    /// Parses chunk `i` and runs `f` on it, counting the bytes it touched. A sealed chunk is
    /// decrypted (and authenticated) whole first.
    pub(super) fn with_chunk<R>(
        &self,
        i: usize,
        f: impl FnOnce(&ChunkView<'_>) -> Result<R>,
    ) -> Result<R> {
        let c = self.chunk_entry(i)?;
        let s = self.stream_position_of(c)?;
        let sealed = self.streams[s].encryption.is_some();
        let w = self.window(c.offset, c.length)?;
        let b = w.bytes(&self.name);
        let body_len = self.record_of(&b, c, sealed, read_record_header)?;
        let body_offset = c.offset + RECORD_HEADER_LEN as u64;
        let plain;
        let mut view = if sealed {
            plain = self.open_sealed(s, c.offset, body_len)?;
            let pb = Bytes::new(&plain, &self.name);
            let mut v = ChunkView::parse(&pb, 0, plain.len() as u64, self.opts.max_chunk_bytes)?;
            v.body_offset = body_offset;
            v
        } else {
            ChunkView::parse(&b, body_offset, body_len, self.opts.max_chunk_bytes)?
        };
        view.source = self.source;
        self.check_view(&view, c, sealed)?;
        let result = f(&view);
        let touched = if sealed {
            c.length
        } else {
            RECORD_HEADER_LEN as u64 + view.bytes_touched()
        };
        self.bytes_read.fetch_add(touched, Ordering::Relaxed);
        self.release_pages_if_due(touched);
        result
    }

    /// The body length of chunk `c`'s record in `b`, its header checked (by `read`) and
    /// compared with the index.
    pub(super) fn record_of(
        &self,
        b: &Bytes<'_>,
        c: &ChunkEntry,
        sealed: bool,
        read: fn(&Bytes<'_>, u64) -> Result<(u8, u64)>,
    ) -> Result<u64> {
        let (kind, body_len) = read(b, c.offset)?;
        let want = if sealed {
            RecordKind::SealedChunk
        } else {
            RecordKind::Chunk
        };
        if kind != want as u8 || body_len.saturating_add(RECORD_OVERHEAD as u64) != c.length {
            return Err(Error::Malformed {
                file: self.name.clone(),
                what: "chunk index",
                offset: c.offset,
                detail: format!(
                    "the index points at a record of kind {kind} and {} bytes, expected a {} of {} bytes",
                    body_len.saturating_add(RECORD_OVERHEAD as u64),
                    want.name(),
                    c.length
                ),
            });
        }
        Ok(body_len)
    }

    /// The chunk header against the index entry `c`.
    pub(super) fn check_view(
        &self,
        view: &ChunkView<'_>,
        c: &ChunkEntry,
        sealed: bool,
    ) -> Result<()> {
        let h = view.header;
        if (h.stream_id != c.stream_id && !sealed)
            || h.rows != c.rows
            || h.t_min != c.t_min
            || h.t_max != c.t_max
        {
            return Err(view.malformed(format!(
                "chunk header (stream {}, {} rows, {}..{}) disagrees with the index (stream {}, {} rows, {}..{})",
                h.stream_id, h.rows, h.t_min, h.t_max, c.stream_id, c.rows, c.t_min, c.t_max
            )));
        }
        Ok(())
    }

    /// Tells the source to release pages once [`RELEASE_PAGES_AFTER`] bytes were touched (a
    /// mapped file lets the kernel drop this process's mapping of them, see there).
    pub(super) fn release_pages_if_due(&self, touched: u64) {
        let since = self
            .touched_since_release
            .fetch_add(touched, Ordering::Relaxed)
            + touched;
        if since < RELEASE_PAGES_AFTER {
            return;
        }
        self.touched_since_release.store(0, Ordering::Relaxed);
        self.src.release_pages();
    }
}
