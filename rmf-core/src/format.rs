//! Bytes on disk: magic and version, record framing, CRC32C, trailer.
//!
//! This module knows nothing of streams or samples; see `spec/format.md` for the layout it
//! implements. All integers are little-endian.
//!
//! ```text
//! file    := header record* [footer-record trailer]
//! header  := magic[8] major:u16 minor:u16 reserved:u32
//! record  := kind:u8 flags:u8 reserved:u16 body_len:u64 header_crc:u32 body[body_len] body_crc:u32
//! trailer := footer_offset:u64 footer_len:u64 reserved:u32 trailer_crc:u32 end_magic[8]
//! ```

use crate::error::{Error, Result};

/// The first eight bytes of every RMF file. As in PNG, the high byte catches 7-bit transfers and
/// the CR LF / SUB / LF bytes catch line-ending conversion.
pub const MAGIC: [u8; 8] = *b"\x89RMF\r\n\x1a\n";
/// The last eight bytes of a finished RMF file.
pub const END_MAGIC: [u8; 8] = *b"RMF-END\n";
/// Major version written and read by this library. A reader refuses other major versions.
pub const MAJOR_VERSION: u16 = 1;
/// Minor version written by this library. Minor versions only add record kinds and JSON fields.
/// The writer stamps the lowest minor version whose features a file uses: 1 when it has
/// encrypted streams, else 0, so that files without them stay byte-identical to 1.0 files.
pub const MINOR_VERSION: u16 = 1;
/// Length of the file header.
pub const FILE_HEADER_LEN: usize = 16;
/// Length of a record header (kind, flags, reserved, body length, header CRC).
pub const RECORD_HEADER_LEN: usize = 16;
/// Bytes a record adds around its body (header plus body CRC).
pub const RECORD_OVERHEAD: usize = RECORD_HEADER_LEN + 4;
/// Length of the trailer at the end of a finished file.
pub const TRAILER_LEN: usize = 32;

/// The kinds of record. Readers skip kinds they do not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RecordKind {
    /// Episode metadata (JSON), first record of a file.
    Episode = 0x01,
    /// A stream declaration (id + JSON), before any chunk of that stream.
    Stream = 0x02,
    /// One stream's samples over a time window.
    Chunk = 0x03,
    /// Stream table, chunk index and statistics, written by `finish()`.
    Footer = 0x04,
    /// A chunk of an encrypted stream (1.1): cleartext header, then the sealed chunk body.
    SealedChunk = 0x05,
    /// The episode's wrapped data key (1.1, JSON), before any sealed chunk.
    Key = 0x06,
}

impl RecordKind {
    /// The kind for a record-kind byte, if this version knows it.
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0x01 => Some(RecordKind::Episode),
            0x02 => Some(RecordKind::Stream),
            0x03 => Some(RecordKind::Chunk),
            0x04 => Some(RecordKind::Footer),
            0x05 => Some(RecordKind::SealedChunk),
            0x06 => Some(RecordKind::Key),
            _ => None,
        }
    }

    /// A lower-case name for reports.
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Episode => "episode record",
            RecordKind::Stream => "stream record",
            RecordKind::Chunk => "chunk",
            RecordKind::Footer => "footer",
            RecordKind::SealedChunk => "sealed chunk",
            RecordKind::Key => "key record",
        }
    }
}

/// The file header of a file without 1.1 features (minor version 0).
pub fn file_header() -> [u8; FILE_HEADER_LEN] {
    file_header_minor(0)
}

/// The file header stamped with minor version `minor`.
pub fn file_header_minor(minor: u16) -> [u8; FILE_HEADER_LEN] {
    let mut h = [0u8; FILE_HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..10].copy_from_slice(&MAJOR_VERSION.to_le_bytes());
    h[10..12].copy_from_slice(&minor.to_le_bytes());
    h
}

/// Checks the file header: magic first ("not RMF"), then the major version.
/// Returns the minor version.
pub fn check_file_header(data: &[u8], file: &str) -> Result<u16> {
    if data.len() < 8 || data[..8] != MAGIC {
        return Err(Error::NotRmf {
            file: file.to_string(),
            found: data[..data.len().min(8)].to_vec(),
            expected: MAGIC,
        });
    }
    let b = Bytes::new(data, file);
    let major = b.u16(8, "file header")?;
    b.slice(0, FILE_HEADER_LEN as u64, "file header")?;
    if major != MAJOR_VERSION {
        return Err(Error::UnsupportedVersion {
            file: file.to_string(),
            found: major,
            supported: MAJOR_VERSION,
        });
    }
    b.u16(10, "file header")
}

/// Appends a framed record (header, body, body CRC) to `out`.
pub fn write_record(out: &mut Vec<u8>, kind: RecordKind, body: &[u8]) {
    out.reserve(RECORD_OVERHEAD + body.len());
    let start = out.len();
    out.push(kind as u8);
    out.push(0); // flags
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    let header_crc = crc32c::crc32c(&out[start..start + 12]);
    out.extend_from_slice(&header_crc.to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&crc32c::crc32c(body).to_le_bytes());
}

/// A record found in the file.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Offset of the record header in the file.
    pub offset: u64,
    /// The kind byte (possibly one this version does not know).
    pub kind: u8,
    /// The body.
    pub body: &'a [u8],
}

impl Record<'_> {
    /// Total length of the record on disk.
    #[allow(clippy::len_without_is_empty)] // a record is never empty: it has a header
    pub fn len(&self) -> u64 {
        (RECORD_OVERHEAD + self.body.len()) as u64
    }

    /// Offset of the first body byte.
    pub fn body_offset(&self) -> u64 {
        self.offset + RECORD_HEADER_LEN as u64
    }
}

/// Reads the record header at `offset` and checks its CRC; returns the kind byte and the body
/// length, which is checked to fit in the file.
pub fn read_record_header(b: &Bytes<'_>, offset: u64) -> Result<(u8, u64)> {
    let (kind, body_len) = read_record_header_only(b, offset)?;
    let available = b.len().saturating_sub(offset + RECORD_HEADER_LEN as u64);
    if body_len > available.saturating_sub(4) {
        return Err(Error::Truncated {
            file: b.file.to_string(),
            what: "record body",
            offset: offset + RECORD_HEADER_LEN as u64,
            needed: body_len.saturating_add(4),
            available,
        });
    }
    Ok((kind, body_len))
}

/// The kind and body length of the record at `offset`, its header CRC checked, without
/// checking that the body is held (for a record's prefix fetched by a range request).
pub fn read_record_header_only(b: &Bytes<'_>, offset: u64) -> Result<(u8, u64)> {
    let head = b.slice(offset, RECORD_HEADER_LEN as u64, "record header")?;
    let stored = le_u32(&head[12..16]);
    let computed = crc32c::crc32c(&head[..12]);
    if stored != computed {
        return Err(Error::Checksum {
            file: b.file.to_string(),
            what: "record header",
            offset,
            stored,
            computed,
        });
    }
    Ok((head[0], le_u64(&head[4..12])))
}

/// Reads the whole record at `offset`, checking both CRCs.
pub fn read_record<'a>(b: &Bytes<'a>, offset: u64) -> Result<Record<'a>> {
    let (kind, body_len) = read_record_header(b, offset)?;
    let body_offset = offset + RECORD_HEADER_LEN as u64;
    let body = b.slice(body_offset, body_len, "record body")?;
    let stored = b.u32(body_offset + body_len, "record body checksum")?;
    let computed = crc32c::crc32c(body);
    if stored != computed {
        let what = RecordKind::from_byte(kind).map_or("record", RecordKind::name);
        return Err(Error::Checksum {
            file: b.file.to_string(),
            what,
            offset,
            stored,
            computed,
        });
    }
    Ok(Record { offset, kind, body })
}

/// The trailer of a finished file: where the footer record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    /// Offset of the footer record.
    pub footer_offset: u64,
    /// Total length of the footer record (header, body, CRC).
    pub footer_len: u64,
}

impl Trailer {
    /// The 32 trailer bytes.
    pub fn to_bytes(self) -> [u8; TRAILER_LEN] {
        let mut t = [0u8; TRAILER_LEN];
        t[0..8].copy_from_slice(&self.footer_offset.to_le_bytes());
        t[8..16].copy_from_slice(&self.footer_len.to_le_bytes());
        let crc = crc32c::crc32c(&t[0..20]);
        t[20..24].copy_from_slice(&crc.to_le_bytes());
        t[24..32].copy_from_slice(&END_MAGIC);
        t
    }

    /// Reads the trailer at the end of the file. `Ok(None)` when the file does not end with the
    /// end magic (an unfinished file); an error when it does but the trailer is damaged.
    pub fn read(b: &Bytes<'_>) -> Result<Option<Trailer>> {
        let len = b.len();
        if len < (FILE_HEADER_LEN + TRAILER_LEN) as u64 {
            return Ok(None);
        }
        let offset = len - TRAILER_LEN as u64;
        let t = b.slice(offset, TRAILER_LEN as u64, "trailer")?;
        if t[24..32] != END_MAGIC {
            return Ok(None);
        }
        let stored = le_u32(&t[20..24]);
        let computed = crc32c::crc32c(&t[0..20]);
        if stored != computed {
            return Err(Error::Checksum {
                file: b.file.to_string(),
                what: "trailer",
                offset,
                stored,
                computed,
            });
        }
        let trailer = Trailer {
            footer_offset: le_u64(&t[0..8]),
            footer_len: le_u64(&t[8..16]),
        };
        let fits = trailer
            .footer_offset
            .checked_add(trailer.footer_len)
            .is_some_and(|end| end == offset)
            && trailer.footer_offset >= FILE_HEADER_LEN as u64;
        if !fits {
            return Err(Error::Malformed {
                file: b.file.to_string(),
                what: "trailer",
                offset,
                detail: format!(
                    "footer at {} with length {} does not end where the trailer starts ({offset})",
                    trailer.footer_offset, trailer.footer_len
                ),
            });
        }
        Ok(Some(trailer))
    }
}

/// A byte slice that knows its file's name, so that every out-of-bounds read becomes a
/// [`Error::Truncated`] naming the file and offset instead of a panic.
///
/// The slice may be a window of the file (a tail or a record fetched by a range request): it
/// then starts at file offset `base`, and every offset given to it is a file offset, so that
/// errors name the same byte as for a whole file.
#[derive(Debug, Clone, Copy)]
pub struct Bytes<'a> {
    /// The bytes, from file offset `base` on.
    pub data: &'a [u8],
    /// The file's name for error messages.
    pub file: &'a str,
    base: u64,
}

impl<'a> Bytes<'a> {
    /// Wraps a whole file's `data`, naming it `file` in errors.
    pub fn new(data: &'a [u8], file: &'a str) -> Self {
        Bytes {
            data,
            file,
            base: 0,
        }
    }

    /// Wraps the bytes of `file` that start at file offset `base`.
    pub fn at(data: &'a [u8], file: &'a str, base: u64) -> Self {
        Bytes { data, file, base }
    }

    /// File offset of the first byte held.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// File offset just past the last byte held (the file's length for a whole file).
    pub fn len(&self) -> u64 {
        self.base + self.data.len() as u64
    }

    /// True when no bytes are held.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// `len` bytes from file offset `offset`, or a `Truncated` error (also for bytes before
    /// the window, which a caller reading a window must not ask for).
    pub fn slice(&self, offset: u64, len: u64, what: &'static str) -> Result<&'a [u8]> {
        let available = self.len().saturating_sub(offset);
        if len > available || offset < self.base {
            return Err(Error::Truncated {
                file: self.file.to_string(),
                what,
                offset,
                needed: len,
                available: if offset < self.base { 0 } else { available },
            });
        }
        // Both fit in usize: they are bounded by the slice length.
        let start = (offset - self.base) as usize;
        Ok(&self.data[start..start + len as usize])
    }

    /// Little-endian u16 at `offset`.
    pub fn u16(&self, offset: u64, what: &'static str) -> Result<u16> {
        let s = self.slice(offset, 2, what)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }

    /// Little-endian u32 at `offset`.
    pub fn u32(&self, offset: u64, what: &'static str) -> Result<u32> {
        Ok(le_u32(self.slice(offset, 4, what)?))
    }

    /// Little-endian u64 at `offset`.
    pub fn u64(&self, offset: u64, what: &'static str) -> Result<u64> {
        Ok(le_u64(self.slice(offset, 8, what)?))
    }

    /// Little-endian i64 at `offset`.
    pub fn i64(&self, offset: u64, what: &'static str) -> Result<i64> {
        Ok(le_u64(self.slice(offset, 8, what)?) as i64)
    }
}

/// Little-endian u32 from the first 4 bytes of `s` (callers pass slices of at least 4 bytes).
pub(crate) fn le_u32(s: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&s[..4]);
    u32::from_le_bytes(a)
}

/// Little-endian u64 from the first 8 bytes of `s` (callers pass slices of at least 8 bytes).
pub(crate) fn le_u64(s: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&s[..8]);
    u64::from_le_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trip_and_crc_detection() {
        let mut out = Vec::new();
        write_record(&mut out, RecordKind::Stream, b"hello");
        let b = Bytes::new(&out, "mem");
        let r = read_record(&b, 0).unwrap();
        assert_eq!(r.kind, RecordKind::Stream as u8);
        assert_eq!(r.body, b"hello");
        assert_eq!(r.len(), out.len() as u64);

        let mut bad = out.clone();
        bad[RECORD_HEADER_LEN + 1] ^= 1;
        let err = read_record(&Bytes::new(&bad, "mem"), 0).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Checksum {
                    what: "stream record",
                    offset: 0,
                    ..
                }
            ),
            "{err}"
        );

        let mut bad = out.clone();
        bad[5] ^= 1; // body length
        let err = read_record(&Bytes::new(&bad, "mem"), 0).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Checksum {
                    what: "record header",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn truncated_body_is_reported_not_read() {
        let mut out = Vec::new();
        write_record(&mut out, RecordKind::Chunk, &[7u8; 100]);
        out.truncate(60);
        let err = read_record(&Bytes::new(&out, "mem"), 0).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Truncated {
                    what: "record body",
                    offset: 16,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn header_errors_distinguish_foreign_files_from_new_versions() {
        let err = check_file_header(b"PAR1....", "x").unwrap_err();
        assert!(matches!(err, Error::NotRmf { .. }));
        let mut h = file_header();
        h[8] = 9;
        let err = check_file_header(&h, "x").unwrap_err();
        assert!(matches!(err, Error::UnsupportedVersion { found: 9, .. }));
        assert_eq!(
            check_file_header(&file_header_minor(MINOR_VERSION), "x").unwrap(),
            MINOR_VERSION
        );
    }

    #[test]
    fn trailer_round_trip() {
        let mut file = file_header().to_vec();
        file.extend_from_slice(&[0u8; 40]);
        let t = Trailer {
            footer_offset: 16,
            footer_len: 40,
        };
        file.extend_from_slice(&t.to_bytes());
        assert_eq!(Trailer::read(&Bytes::new(&file, "x")).unwrap(), Some(t));
        let n = file.len();
        file[n - 20] ^= 1;
        assert!(Trailer::read(&Bytes::new(&file, "x")).is_err());
    }
}
