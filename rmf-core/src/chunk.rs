//! The body of a chunk record: a fixed header, kind-specific statistics, a buffer directory with
//! its own CRC, then the stored buffers, each with its own CRC.
//!
//! The directory CRC and per-buffer CRCs let a reader check exactly the bytes it uses: reading
//! one frame of a chunk touches the header, the directory, the timestamps and that frame's
//! payload, not the whole chunk (spec/chunks.md).

use std::cell::Cell;

use crate::error::{Error, Result};
use crate::format::{le_u32, le_u64, Bytes};
use rmf_codecs::column::{self as codec, Encoding};
use rmf_codecs::CodecError;
use rmf_codecs::{DType, Element};

/// Length of the fixed chunk header.
pub const CHUNK_HEADER_LEN: usize = 40;
/// Length of one buffer-directory entry.
pub const BUFFER_ENTRY_LEN: usize = 32;
/// Element-type code of an opaque byte buffer.
pub const BYTES_ELEMENT: u8 = 0;

/// The fixed fields of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkHeader {
    /// Stream the samples belong to.
    pub stream_id: u32,
    /// Smallest timestamp in the chunk.
    pub t_min: i64,
    /// Largest timestamp in the chunk.
    pub t_max: i64,
    /// Number of samples (rows).
    pub rows: u64,
}

/// A buffer ready to store.
#[derive(Debug, Clone)]
pub struct EncodedBuffer {
    /// How `data` encodes the buffer.
    pub encoding: Encoding,
    /// Element type code ([`DType::code`]) or [`BYTES_ELEMENT`].
    pub element: u8,
    /// Number of elements (bytes, for a byte buffer) once decoded.
    pub count: u64,
    /// The stored bytes.
    pub data: Vec<u8>,
}

impl EncodedBuffer {
    /// Encodes numbers.
    pub fn numbers<T: Element>(
        values: &[T],
        opts: &codec::CodecOptions,
    ) -> Result<Self, CodecError> {
        let (encoding, data) = codec::encode_numbers(values, opts)?;
        Ok(Self::new(encoding, T::DTYPE.code(), values.len(), data))
    }

    /// Encodes numbers, reusing a column's pco choices.
    pub fn numbers_hinted<T: Element>(
        values: &[T],
        opts: &codec::CodecOptions,
        hint: &mut codec::PcoHint,
    ) -> Result<Self, CodecError> {
        let (encoding, data) = codec::encode_numbers_hinted(values, opts, hint)?;
        Ok(Self::new(encoding, T::DTYPE.code(), values.len(), data))
    }

    /// Encodes timestamps (delta + zstd, or pco when smaller).
    pub fn times(
        t: &[i64],
        opts: &codec::CodecOptions,
        hint: &mut codec::PcoHint,
    ) -> Result<Self, CodecError> {
        let (encoding, data) = codec::encode_times(t, opts, hint)?;
        Ok(Self::new(encoding, DType::Int64.code(), t.len(), data))
    }

    /// Encodes bytes with zstd.
    pub fn bytes(bytes: &[u8], opts: &codec::CodecOptions) -> Result<Self, CodecError> {
        let (encoding, data) = codec::encode_bytes(bytes, opts)?;
        Ok(Self::new(encoding, BYTES_ELEMENT, bytes.len(), data))
    }

    fn new(encoding: Encoding, element: u8, count: usize, data: Vec<u8>) -> Self {
        EncodedBuffer {
            encoding,
            element,
            count: count as u64,
            data,
        }
    }

    /// Stores bytes as they are (they are compressed already).
    pub fn plain(bytes: Vec<u8>) -> Self {
        Self::new(Encoding::Plain, BYTES_ELEMENT, bytes.len(), bytes)
    }
}

/// Size in bytes of one element of a directory element code.
fn element_size(code: u8) -> Option<u64> {
    if code == BYTES_ELEMENT {
        return Some(1);
    }
    DType::from_code(code).map(|d| d.size() as u64)
}

/// A copy of a chunk body that names stream `id` instead (its directory checksum redone), for
/// copying chunks between files whose stream ids differ. `None` if the body is too short to
/// hold its own directory.
pub fn with_stream_id(body: &[u8], id: u32) -> Option<Vec<u8>> {
    let buffer_count = u16::from_le_bytes([*body.get(4)?, *body.get(5)?]) as usize;
    let stats_len = u32::from_le_bytes(body.get(8..12)?.try_into().ok()?) as usize;
    let dir_end = CHUNK_HEADER_LEN
        .checked_add(stats_len)?
        .checked_add(buffer_count.checked_mul(BUFFER_ENTRY_LEN)?)?;
    body.get(dir_end..dir_end.checked_add(4)?)?;
    let mut out = body.to_vec();
    out[..4].copy_from_slice(&id.to_le_bytes());
    let crc = crc32c::crc32c(&out[..dir_end]);
    out[dir_end..dir_end + 4].copy_from_slice(&crc.to_le_bytes());
    Some(out)
}

/// Lays out a chunk body.
pub fn build_chunk_body(header: &ChunkHeader, stats: &[u8], buffers: &[EncodedBuffer]) -> Vec<u8> {
    let dir_end = CHUNK_HEADER_LEN + stats.len() + buffers.len() * BUFFER_ENTRY_LEN;
    let total = dir_end + 4 + buffers.iter().map(|b| b.data.len()).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&header.stream_id.to_le_bytes());
    out.extend_from_slice(&(buffers.len() as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(stats.len() as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&header.t_min.to_le_bytes());
    out.extend_from_slice(&header.t_max.to_le_bytes());
    out.extend_from_slice(&header.rows.to_le_bytes());
    out.extend_from_slice(stats);
    let mut offset = (dir_end + 4) as u64;
    for b in buffers {
        out.push(b.encoding as u8);
        out.push(b.element);
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&crc32c::crc32c(&b.data).to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&(b.data.len() as u64).to_le_bytes());
        out.extend_from_slice(&b.count.to_le_bytes());
        offset += b.data.len() as u64;
    }
    let dir_crc = crc32c::crc32c(&out);
    out.extend_from_slice(&dir_crc.to_le_bytes());
    for b in buffers {
        out.extend_from_slice(&b.data);
    }
    out
}

/// One buffer-directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferEntry {
    /// Encoding.
    pub encoding: Encoding,
    /// Element code.
    pub element: u8,
    /// CRC32C of the stored bytes.
    pub crc: u32,
    /// Offset of the stored bytes from the start of the chunk body.
    pub offset: u64,
    /// Stored length.
    pub stored_len: u64,
    /// Decoded element count.
    pub count: u64,
}

impl BufferEntry {
    /// Decoded size in bytes.
    pub fn decoded_len(&self) -> u64 {
        // Checked in `ChunkView::parse`: the element code is known and the product fits.
        self.count * element_size(self.element).unwrap_or(1)
    }
}

/// A parsed chunk body: header and directory checked, buffers checked as they are used.
#[derive(Debug)]
pub struct ChunkView<'a> {
    /// The fixed fields.
    pub header: ChunkHeader,
    /// Kind-specific statistics bytes.
    pub stats: &'a [u8],
    /// The buffer directory.
    pub buffers: Vec<BufferEntry>,
    body: Bytes<'a>,
    /// File offset of the chunk body (for error messages).
    pub body_offset: u64,
    /// A process-unique id of the open file the chunk is read from, or 0 when unknown: with
    /// `body_offset` it names this chunk for as long as the reader is open, so decoders can
    /// continue where an earlier read of the same chunk stopped.
    pub source: u64,
    touched: Cell<u64>,
    max_decoded: u64,
}

impl<'a> ChunkView<'a> {
    /// Parses the header and directory of the chunk body that starts at `body_offset` of `file`
    /// and is `body_len` long. Checks the directory CRC and that every buffer lies inside the
    /// body; reads no buffer. `max_decoded` caps the decoded size the chunk may claim.
    pub fn parse(
        file: &Bytes<'a>,
        body_offset: u64,
        body_len: u64,
        max_decoded: u64,
    ) -> Result<Self> {
        file.slice(body_offset, body_len, "chunk body")?;
        Self::parse_held(file, body_offset, body_len, max_decoded)
    }

    /// [`ChunkView::parse`] of a body of which `file` holds only the start (a record's prefix
    /// fetched by a range request): the header and directory must be held; a buffer that is
    /// not is a [`Error::Truncated`] when read ([`ChunkView::holds`] tells beforehand).
    pub fn parse_held(
        file: &Bytes<'a>,
        body_offset: u64,
        body_len: u64,
        max_decoded: u64,
    ) -> Result<Self> {
        let held = file.len().saturating_sub(body_offset).min(body_len);
        let body_data = file.slice(body_offset, held, "chunk body")?;
        let body = Bytes::new(body_data, file.file);
        let malformed = |detail: String| Error::Malformed {
            file: file.file.to_string(),
            what: "chunk",
            offset: body_offset,
            detail,
        };
        let head = body.slice(0, CHUNK_HEADER_LEN as u64, "chunk header").map_err(|_| {
            malformed(format!("body of {body_len} bytes is shorter than the {CHUNK_HEADER_LEN}-byte chunk header"))
        })?;
        let stream_id = le_u32(&head[0..4]);
        let buffer_count = u16::from_le_bytes([head[4], head[5]]) as u64;
        let stats_len = le_u32(&head[8..12]) as u64;
        let header = ChunkHeader {
            stream_id,
            t_min: le_u64(&head[16..24]) as i64,
            t_max: le_u64(&head[24..32]) as i64,
            rows: le_u64(&head[32..40]),
        };
        let dir_start = CHUNK_HEADER_LEN as u64 + stats_len;
        let dir_end = dir_start + buffer_count * BUFFER_ENTRY_LEN as u64;
        if dir_end + 4 > body_len {
            return Err(malformed(format!(
                "stats ({stats_len} bytes) and directory ({buffer_count} buffers) need {} bytes, body has {body_len}",
                dir_end + 4
            )));
        }
        let stored_crc = le_u32(body.slice(dir_end, 4, "chunk directory checksum")?);
        let covered = body.slice(0, dir_end, "chunk directory")?;
        let computed = crc32c::crc32c(covered);
        if stored_crc != computed {
            return Err(Error::Checksum {
                file: file.file.to_string(),
                what: "chunk directory",
                offset: body_offset,
                stored: stored_crc,
                computed,
            });
        }
        if header.t_min > header.t_max {
            return Err(malformed(format!(
                "t_min {} > t_max {}",
                header.t_min, header.t_max
            )));
        }
        let stats = body.slice(CHUNK_HEADER_LEN as u64, stats_len, "chunk stats")?;
        let mut buffers = Vec::with_capacity(buffer_count as usize);
        let mut decoded_total: u64 = 0;
        for i in 0..buffer_count {
            let e = body.slice(
                dir_start + i * BUFFER_ENTRY_LEN as u64,
                BUFFER_ENTRY_LEN as u64,
                "chunk directory",
            )?;
            let encoding = Encoding::from_byte(e[0])
                .ok_or_else(|| malformed(format!("buffer {i}: unknown encoding {}", e[0])))?;
            let element = e[1];
            let size = element_size(element)
                .ok_or_else(|| malformed(format!("buffer {i}: unknown element type {element}")))?;
            let entry = BufferEntry {
                encoding,
                element,
                crc: le_u32(&e[4..8]),
                offset: le_u64(&e[8..16]),
                stored_len: le_u64(&e[16..24]),
                count: le_u64(&e[24..32]),
            };
            let in_body = entry.offset >= dir_end + 4
                && entry
                    .offset
                    .checked_add(entry.stored_len)
                    .is_some_and(|end| end <= body_len);
            if !in_body {
                return Err(malformed(format!(
                    "buffer {i} at {}+{} lies outside the body's data area ({}..{body_len})",
                    entry.offset,
                    entry.stored_len,
                    dir_end + 4
                )));
            }
            let decoded = entry.count.saturating_mul(size);
            decoded_total = decoded_total.saturating_add(decoded);
            if encoding == Encoding::Plain && decoded != entry.stored_len {
                return Err(malformed(format!(
                    "plain buffer {i} stores {} bytes for {} elements of {size} bytes",
                    entry.stored_len, entry.count
                )));
            }
            buffers.push(entry);
        }
        if decoded_total > max_decoded {
            return Err(Error::TooLarge {
                file: file.file.to_string(),
                offset: body_offset,
                claimed: decoded_total,
                limit: max_decoded,
            });
        }
        Ok(ChunkView {
            header,
            stats,
            buffers,
            body,
            body_offset,
            source: 0,
            touched: Cell::new(dir_end + 4),
            max_decoded,
        })
    }

    /// Whether buffer `i`'s stored bytes are held (always, unless the view was made by
    /// [`ChunkView::parse_held`] from a prefix).
    pub fn holds(&self, i: usize) -> bool {
        self.buffers.get(i).is_some_and(|e| {
            e.offset
                .checked_add(e.stored_len)
                .is_some_and(|end| end <= self.body.len())
        })
    }

    /// Bytes of the chunk body read so far through this view.
    pub fn bytes_touched(&self) -> u64 {
        self.touched.get()
    }

    /// Sum of the decoded sizes of all buffers.
    pub fn decoded_len(&self) -> u64 {
        self.buffers.iter().map(BufferEntry::decoded_len).sum()
    }

    fn entry(&self, i: usize) -> Result<&BufferEntry> {
        self.buffers.get(i).ok_or_else(|| Error::Malformed {
            file: self.body.file.to_string(),
            what: "chunk",
            offset: self.body_offset,
            detail: format!(
                "has {} buffers, the stream kind needs buffer {i}",
                self.buffers.len()
            ),
        })
    }

    /// The stored bytes of buffer `i`, checked against their CRC.
    pub fn stored(&self, i: usize) -> Result<(&BufferEntry, &'a [u8])> {
        let e = self.entry(i)?;
        let data = self.body.slice(e.offset, e.stored_len, "chunk buffer")?;
        self.touched.set(self.touched.get() + e.stored_len);
        let computed = crc32c::crc32c(data);
        if computed != e.crc {
            return Err(Error::Checksum {
                file: self.body.file.to_string(),
                what: "chunk buffer",
                offset: self.body_offset + e.offset,
                stored: e.crc,
                computed,
            });
        }
        Ok((e, data))
    }

    fn codec_error(&self, i: usize, e: CodecError) -> Error {
        let offset = self.buffers.get(i).map_or(0, |b| b.offset);
        Error::Malformed {
            file: self.body.file.to_string(),
            what: "chunk buffer",
            offset: self.body_offset + offset,
            detail: format!("buffer {i}: {}", e.0),
        }
    }

    /// Decodes buffer `i` as `T` numbers, checking its type and that it holds `count` of them.
    pub fn numbers<T: Element>(&self, i: usize, count: u64) -> Result<Vec<T>> {
        let (e, data) = self.stored(i)?;
        if e.element != T::DTYPE.code() || e.count != count {
            let found = DType::from_code(e.element).map_or("bytes", DType::name);
            return Err(self.codec_error(
                i,
                CodecError(format!(
                    "holds {} {found} values, expected {count} {}",
                    e.count,
                    T::DTYPE
                )),
            ));
        }
        codec::decode_numbers(e.encoding, data, count as usize).map_err(|c| self.codec_error(i, c))
    }

    /// Decodes byte buffer `i`.
    pub fn bytes(&self, i: usize) -> Result<Vec<u8>> {
        let (e, data) = self.stored(i)?;
        if e.element != BYTES_ELEMENT {
            return Err(self.codec_error(i, CodecError("expected a byte buffer".into())));
        }
        codec::decode_bytes(e.encoding, data, e.count as usize).map_err(|c| self.codec_error(i, c))
    }

    /// The stored bytes of a plain byte buffer without copying, or its decoded bytes.
    pub fn plain_bytes(&self, i: usize) -> Result<&'a [u8]> {
        let (e, data) = self.stored(i)?;
        if e.element != BYTES_ELEMENT || e.encoding != Encoding::Plain {
            return Err(self.codec_error(
                i,
                CodecError(format!(
                    "expected a plain byte buffer, found {}",
                    e.encoding.name()
                )),
            ));
        }
        Ok(data)
    }

    /// A plain byte buffer without checking its whole-buffer CRC and without counting it as
    /// read: for buffers whose parts carry their own CRCs (frame payloads), which the caller
    /// checks and counts with [`ChunkView::touch`] as it uses them.
    pub fn plain_bytes_unchecked(&self, i: usize) -> Result<&'a [u8]> {
        let e = *self.entry(i)?;
        if e.element != BYTES_ELEMENT || e.encoding != Encoding::Plain {
            return Err(self.codec_error(
                i,
                CodecError(format!(
                    "expected a plain byte buffer, found {}",
                    e.encoding.name()
                )),
            ));
        }
        self.body.slice(e.offset, e.stored_len, "chunk buffer")
    }

    /// Refuses to produce `bytes` of output beyond the reader's limit (frames decompress to
    /// more than their buffers claim).
    pub fn check_output(&self, bytes: u64) -> Result<()> {
        if bytes > self.max_decoded {
            return Err(Error::TooLarge {
                file: self.body.file.to_string(),
                offset: self.body_offset,
                claimed: bytes,
                limit: self.max_decoded,
            });
        }
        Ok(())
    }

    /// Counts `n` more bytes as read.
    pub fn touch(&self, n: u64) {
        self.touched.set(self.touched.get() + n);
    }

    /// A checksum error for part of buffer `i` starting `offset` bytes into it.
    pub fn checksum_error(
        &self,
        what: &'static str,
        i: usize,
        offset: u64,
        stored: u32,
        computed: u32,
    ) -> Error {
        let base = self.buffers.get(i).map_or(0, |b| b.offset);
        Error::Checksum {
            file: self.body.file.to_string(),
            what,
            offset: self.body_offset + base + offset,
            stored,
            computed,
        }
    }

    /// The same error constructor for kind-level checks.
    pub fn malformed(&self, detail: String) -> Error {
        Error::Malformed {
            file: self.body.file.to_string(),
            what: "chunk",
            offset: self.body_offset,
            detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmf_codecs::column::CodecOptions;

    fn sample() -> Vec<u8> {
        let opts = CodecOptions::default();
        let t: Vec<i64> = (0..100).map(|i| 1_000 + i * 10).collect();
        let buffers = vec![
            EncodedBuffer::numbers(&t, &opts).unwrap(),
            EncodedBuffer::bytes(&[9u8; 300], &opts).unwrap(),
        ];
        let header = ChunkHeader {
            stream_id: 3,
            t_min: 1_000,
            t_max: 1_990,
            rows: 100,
        };
        build_chunk_body(&header, &[1, 2, 3, 4], &buffers)
    }

    #[test]
    fn body_round_trip() {
        let body = sample();
        let b = Bytes::new(&body, "mem");
        let v = ChunkView::parse(&b, 0, body.len() as u64, u64::MAX).unwrap();
        assert_eq!(v.header.stream_id, 3);
        assert_eq!(v.stats, &[1, 2, 3, 4]);
        let t: Vec<i64> = v.numbers(0, 100).unwrap();
        assert_eq!(t[99], 1_990);
        assert_eq!(v.bytes(1).unwrap(), vec![9u8; 300]);
        assert!(v.numbers::<f32>(0, 100).is_err());
        assert!(v.numbers::<i64>(0, 99).is_err());
    }

    #[test]
    fn every_flipped_byte_is_caught_where_it_is_used() {
        let body = sample();
        for i in 0..body.len() {
            let mut bad = body.clone();
            bad[i] ^= 0x10;
            let b = Bytes::new(&bad, "mem");
            let result = ChunkView::parse(&b, 0, bad.len() as u64, u64::MAX).and_then(|v| {
                let t: Vec<i64> = v.numbers(0, 100)?;
                let bytes = v.bytes(1)?;
                Ok((t, bytes))
            });
            assert!(result.is_err(), "flip at {i} went unnoticed");
        }
    }

    #[test]
    fn hostile_counts_are_refused_before_allocating() {
        let opts = CodecOptions::default();
        let mut buf = EncodedBuffer::bytes(&[0u8; 10], &opts).unwrap();
        buf.count = u64::MAX / 2;
        let header = ChunkHeader {
            stream_id: 0,
            t_min: 0,
            t_max: 0,
            rows: 1,
        };
        let body = build_chunk_body(&header, &[], &[buf]);
        let b = Bytes::new(&body, "mem");
        let err = ChunkView::parse(&b, 0, body.len() as u64, 1 << 30).unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    }
}
