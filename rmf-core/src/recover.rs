//! Recovery: scan a file's records from the start, keep every one whose checksums hold, and say
//! where and why the rest stopped. Used when a file has no usable footer (the writer crashed),
//! by `validate`, and by [`recover`] to write a complete file from a damaged one.

use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::chunk::ChunkView;
use crate::crypt::{sealed_header, KeyRecord};
use crate::error::{Error, Result};
use crate::footer::{
    decode_episode, decode_key, decode_stream, encode_episode, encode_footer, encode_key,
    encode_stream, ChunkEntry, Footer, SkippedStream, StreamEntry,
};
use crate::format::{
    check_file_header, file_header_minor, read_record, read_record_header, write_record, Bytes,
    RecordKind, Trailer, FILE_HEADER_LEN, RECORD_HEADER_LEN, TRAILER_LEN,
};
use crate::kind::{chunk_decoded_bytes, expected_stats_len};
use crate::schema::EpisodeMeta;

/// A stretch of the file that recovery could not use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// First byte of the stretch.
    pub offset: u64,
    /// Its length.
    pub length: u64,
    /// What was wrong, with expected and found values.
    pub reason: String,
}

/// What a scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The file.
    pub file: String,
    /// Its size.
    pub file_len: u64,
    /// Why the footer was not used (or "scan requested").
    pub why: String,
    /// Streams declared by intact stream records.
    pub streams: usize,
    /// Intact chunks kept.
    pub chunks: usize,
    /// Samples in the kept chunks.
    pub samples: u64,
    /// Records of kinds this version does not know, skipped.
    pub unknown_records: usize,
    /// Whether the episode record was intact (if not, placeholder metadata is used).
    pub episode_intact: bool,
    /// Streams of kinds this version cannot use, with their intact chunks: skipped, not damage
    /// (and not copied by `recover`).
    pub skipped_streams: Vec<String>,
    /// Every stretch that could not be used, in file order.
    pub damage: Vec<Damage>,
}

impl RecoveryReport {
    /// Bytes inside damaged stretches.
    pub fn damaged_bytes(&self) -> u64 {
        self.damage.iter().map(|d| d.length).sum()
    }
}

impl fmt::Display for RecoveryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {}", self.file, self.why)?;
        writeln!(
            f,
            "kept {} chunks ({} samples) of {} streams; {} damaged stretches, {} bytes of {}",
            self.chunks,
            self.samples,
            self.streams,
            self.damage.len(),
            self.damaged_bytes(),
            self.file_len
        )?;
        if !self.episode_intact {
            writeln!(
                f,
                "the episode record is damaged: metadata is a placeholder"
            )?;
        }
        for d in &self.damage {
            writeln!(
                f,
                "  bytes {}..{}: {}",
                d.offset,
                d.offset + d.length,
                d.reason
            )?;
        }
        Ok(())
    }
}

/// The records of a file, as far as they are intact.
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    pub episode: Option<EpisodeMeta>,
    pub streams: Vec<StreamEntry>,
    pub chunks: Vec<ChunkEntry>,
    pub damage: Vec<Damage>,
    pub unknown_records: usize,
    /// Offset and length of each intact record of an unknown kind, kept by `recover`.
    pub unknown: Vec<(u64, u64)>,
    /// Intact stream records this version cannot use (newer kinds or codecs).
    pub skipped: Vec<SkippedStream>,
    /// Intact chunks of those streams, skipped.
    pub skipped_chunks: usize,
    /// The first intact key record (the wrapped data key of encrypted streams).
    pub key: Option<KeyRecord>,
    /// Offset of an intact footer record, if one was met.
    pub footer_offset: Option<u64>,
    /// Whether the file ends with an intact trailer right after the last record.
    pub clean_end: bool,
}

impl Scan {
    pub(crate) fn report(&self, file: &str, file_len: u64, why: String) -> RecoveryReport {
        RecoveryReport {
            file: file.to_string(),
            file_len,
            why,
            streams: self.streams.len(),
            chunks: self.chunks.len(),
            samples: self.chunks.iter().map(|c| c.rows).sum(),
            unknown_records: self.unknown_records,
            episode_intact: self.episode.is_some(),
            skipped_streams: self
                .skipped
                .iter()
                .map(|k| format!("{:?} (id {}): {}", k.name, k.id, k.reason))
                .collect(),
            damage: self.damage.clone(),
        }
    }

    pub(crate) fn into_footer(self) -> Footer {
        Footer {
            episode: self.episode.unwrap_or_else(placeholder_meta),
            streams: self.streams,
            chunks: self.chunks,
            skipped: self.skipped,
            key: self.key,
        }
    }
}

/// Metadata for a file whose episode record is lost: a nil id and an epoch start, so that it is
/// plain that nothing was invented.
fn placeholder_meta() -> EpisodeMeta {
    EpisodeMeta::new()
        .with_id(uuid::Uuid::nil())
        .with_start_time_unix_ns(0)
        .with_clock("unknown")
        .with_extra("rmf_recovery", "episode record lost")
}

/// Scans every record after the file header.
pub(crate) fn scan(b: &Bytes<'_>, max_chunk_bytes: u64) -> Result<Scan> {
    scan_releasing(b, max_chunk_bytes, &mut |_, _| {})
}

/// Bytes scanned between calls of the `release` of [`scan_releasing`].
const RELEASE_EVERY: u64 = 64 << 20;

/// [`scan`], telling `release` each stretch of the file it is done with (in order, in pieces
/// of about [`RELEASE_EVERY`]), so that a memory-mapped file's pages can be let go as the scan
/// goes: recovering a file larger than memory keeps a small resident set.
pub(crate) fn scan_releasing(
    b: &Bytes<'_>,
    max_chunk_bytes: u64,
    release: &mut dyn FnMut(u64, u64),
) -> Result<Scan> {
    check_file_header(b.data, b.file)?;
    let mut s = Scan {
        episode: None,
        streams: Vec::new(),
        chunks: Vec::new(),
        damage: Vec::new(),
        unknown_records: 0,
        unknown: Vec::new(),
        skipped: Vec::new(),
        skipped_chunks: 0,
        key: None,
        footer_offset: None,
        clean_end: false,
    };
    let mut by_id: HashMap<u32, usize> = HashMap::new();
    let mut last_t: HashMap<u32, i64> = HashMap::new();
    let len = b.len();
    let mut pos = FILE_HEADER_LEN as u64;
    let mut released = 0;
    while pos < len {
        if pos - released >= RELEASE_EVERY {
            release(released, pos);
            released = pos;
        }
        if len - pos == TRAILER_LEN as u64 && s.footer_offset.is_some() {
            if let Ok(Some(_)) = Trailer::read(b) {
                s.clean_end = true;
                break;
            }
        }
        let rec = match read_record_header(b, pos) {
            Ok(_) => match read_record(b, pos) {
                Ok(r) => r,
                Err(e) => {
                    // The header checksum held, so the length is right: skip just this record.
                    let (_, body_len) = read_record_header(b, pos)?;
                    let end = pos + RECORD_HEADER_LEN as u64 + body_len + 4;
                    s.damage.push(Damage {
                        offset: pos,
                        length: end - pos,
                        reason: e.to_string(),
                    });
                    pos = end;
                    continue;
                }
            },
            Err(e @ Error::Truncated { .. }) => {
                s.damage.push(Damage {
                    offset: pos,
                    length: len - pos,
                    reason: format!(
                        "{e} (the file ends inside this record: a crash while writing it?)"
                    ),
                });
                break;
            }
            Err(e) => {
                let next = resync(b, pos + 1);
                let end = next.unwrap_or(len);
                s.damage.push(Damage {
                    offset: pos,
                    length: end - pos,
                    reason: format!(
                        "{e}; {}",
                        match next {
                            Some(n) => format!("the next intact record starts at byte {n}"),
                            None => "no intact record follows".to_string(),
                        }
                    ),
                });
                match next {
                    Some(n) => {
                        pos = n;
                        continue;
                    }
                    None => break,
                }
            }
        };
        let next = pos + rec.len();
        let kept = match RecordKind::from_byte(rec.kind) {
            Some(RecordKind::Episode) => decode_episode(rec.body, b.file, pos).map(|m| {
                if s.episode.is_none() {
                    s.episode = Some(m);
                }
            }),
            Some(RecordKind::Stream) if unusable_stream(rec.body).is_some() => {
                if let Some(skip) = unusable_stream(rec.body) {
                    s.skipped.push(skip);
                }
                Ok(())
            }
            Some(RecordKind::Chunk | RecordKind::SealedChunk)
                if chunk_of_skipped(rec.body, &s.skipped) =>
            {
                s.skipped_chunks += 1;
                Ok(())
            }
            Some(RecordKind::Stream) => decode_stream(rec.body, b.file, pos).and_then(|e| {
                if by_id.contains_key(&e.id) || s.streams.iter().any(|x| x.info.name == e.info.name)
                {
                    return Err(malformed(
                        b,
                        "stream record",
                        pos,
                        format!(
                            "stream id {} or name {:?} declared twice",
                            e.id, e.info.name
                        ),
                    ));
                }
                by_id.insert(e.id, s.streams.len());
                s.streams.push(e);
                Ok(())
            }),
            Some(RecordKind::Chunk) => chunk_entry(
                b,
                pos,
                rec.body.len() as u64,
                &s.streams,
                &by_id,
                max_chunk_bytes,
            )
            .and_then(|c| index_chunk(&mut s, &mut last_t, b, c)),
            Some(RecordKind::SealedChunk) => {
                sealed_chunk_entry(b, pos, rec.body, &s.streams, &by_id)
                    .and_then(|c| index_chunk(&mut s, &mut last_t, b, c))
            }
            Some(RecordKind::Key) => decode_key(rec.body, b.file, pos).map(|k| {
                if s.key.is_none() {
                    s.key = Some(k);
                }
            }),
            Some(RecordKind::Footer) => {
                s.footer_offset = Some(pos);
                Ok(())
            }
            None => {
                s.unknown_records += 1;
                s.unknown.push((pos, rec.len()));
                Ok(())
            }
        };
        if let Err(e) = kept {
            s.damage.push(Damage {
                offset: pos,
                length: rec.len(),
                reason: e.to_string(),
            });
        }
        pos = next;
    }
    Ok(s)
}

/// Adds an intact chunk to the scan's index.
fn index_chunk(
    s: &mut Scan,
    last_t: &mut HashMap<u32, i64>,
    b: &Bytes<'_>,
    c: ChunkEntry,
) -> Result<()> {
    // Queries binary-search a stream's chunks by time: a chunk that starts before the previous
    // one of its stream ends cannot be indexed.
    if let Some(&prev) = last_t.get(&c.stream_id) {
        if c.t_min < prev {
            return Err(malformed(
                b,
                "chunk",
                c.offset,
                format!(
                    "starts at {} ns, before the previous chunk of its stream ends ({prev} ns)",
                    c.t_min
                ),
            ));
        }
    }
    last_t.insert(c.stream_id, c.t_max);
    s.chunks.push(c);
    Ok(())
}

/// A stream record whose JSON is well-formed but that this version cannot use (a newer kind,
/// codec or pixel format): skipped, not damage.
fn unusable_stream(body: &[u8]) -> Option<SkippedStream> {
    if body.len() < 4 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&body[4..]).ok()?;
    let mut v = v;
    if let Some(obj) = v.as_object_mut() {
        obj.insert("id".into(), crate::format::le_u32(body).into());
    }
    match crate::footer::stream_from_value(v) {
        Ok(Err(skip)) => Some(skip),
        _ => None,
    }
}

/// Whether a chunk body belongs to a skipped stream.
fn chunk_of_skipped(body: &[u8], skipped: &[SkippedStream]) -> bool {
    body.len() >= 4 && skipped.iter().any(|s| s.id == crate::format::le_u32(body))
}

fn malformed(b: &Bytes<'_>, what: &'static str, offset: u64, detail: String) -> Error {
    Error::Malformed {
        file: b.file.to_string(),
        what,
        offset,
        detail,
    }
}

/// Builds the index entry of an intact chunk record.
fn chunk_entry(
    b: &Bytes<'_>,
    pos: u64,
    body_len: u64,
    streams: &[StreamEntry],
    by_id: &HashMap<u32, usize>,
    max_chunk_bytes: u64,
) -> Result<ChunkEntry> {
    let view = ChunkView::parse(b, pos + RECORD_HEADER_LEN as u64, body_len, max_chunk_bytes)?;
    let h = view.header;
    let Some(&si) = by_id.get(&h.stream_id) else {
        return Err(malformed(
            b,
            "chunk",
            pos,
            format!(
                "stream id {} has no intact stream record before it",
                h.stream_id
            ),
        ));
    };
    let info = &streams[si].info;
    if h.rows == 0 {
        return Err(malformed(
            b,
            "chunk",
            pos,
            "a chunk has at least one row".into(),
        ));
    }
    let want = expected_stats_len(info, h.rows);
    if view.stats.len() != want {
        return Err(malformed(
            b,
            "chunk",
            pos,
            format!(
                "{} stats bytes, stream {:?} needs {want}",
                view.stats.len(),
                info.name
            ),
        ));
    }
    Ok(ChunkEntry {
        stream_id: h.stream_id,
        t_min: h.t_min,
        t_max: h.t_max,
        rows: h.rows,
        offset: pos,
        length: body_len + crate::format::RECORD_OVERHEAD as u64,
        decoded_bytes: chunk_decoded_bytes(info, &view),
        stats: view.stats.to_vec(),
    })
}

/// Builds the index entry of an intact sealed chunk record from its cleartext header (its
/// contents cannot be checked without the key: its statistics stay empty, its decoded size 0).
fn sealed_chunk_entry(
    b: &Bytes<'_>,
    pos: u64,
    body: &[u8],
    streams: &[StreamEntry],
    by_id: &HashMap<u32, usize>,
) -> Result<ChunkEntry> {
    let h = sealed_header(body).ok_or_else(|| {
        malformed(
            b,
            "sealed chunk",
            pos,
            format!(
                "body of {} bytes is shorter than a sealed header and tag",
                body.len()
            ),
        )
    })?;
    match by_id.get(&h.stream_id).map(|&i| &streams[i].info) {
        Some(info) if info.encryption.is_some() => {}
        Some(info) => {
            return Err(malformed(
                b,
                "sealed chunk",
                pos,
                format!("stream {:?} is not declared encrypted", info.name),
            ))
        }
        None => {
            return Err(malformed(
                b,
                "sealed chunk",
                pos,
                format!(
                    "stream id {} has no intact stream record before it",
                    h.stream_id
                ),
            ))
        }
    }
    if h.rows == 0 || h.t_min > h.t_max {
        return Err(malformed(
            b,
            "sealed chunk",
            pos,
            format!("{} rows over {}..{} ns", h.rows, h.t_min, h.t_max),
        ));
    }
    Ok(ChunkEntry {
        stream_id: h.stream_id,
        t_min: h.t_min,
        t_max: h.t_max,
        rows: h.rows,
        offset: pos,
        length: body.len() as u64 + crate::format::RECORD_OVERHEAD as u64,
        decoded_bytes: 0,
        stats: Vec::new(),
    })
}

/// The first offset at or after `from` where an intact record of a known kind starts.
///
/// Linear in the bytes after `from`: each byte is looked at once as a possible record header,
/// and a body's checksum is computed only for a header whose claimed record holds no other
/// header: a header whose body would cross a later one is passed over for that later one (a
/// run of forged headers, each claiming the rest of the file, would otherwise cost a checksum
/// of the rest of the file each). Checked bodies do not overlap. The price: an intact record
/// whose body holds the verbatim bytes of another record header is not found by this search
/// (spec/format.md, Recovery).
fn resync(b: &Bytes<'_>, from: u64) -> Option<u64> {
    let len = b.len();
    let mut p = next_header(b, from, len)?;
    loop {
        let end = p + claimed_len(b, p);
        if let Some(q) = next_header(b, p + 1, end) {
            p = q;
            continue;
        }
        #[cfg(test)]
        tests::CHECKED.with(|c| c.set(c.get() + (end - p)));
        if read_record(b, p).is_ok() {
            return Some(p);
        }
        p = next_header(b, end, len)?;
    }
}

/// The first offset in `from..until` holding a record header of a known kind whose checksum
/// holds and whose claimed record ends inside the file.
fn next_header(b: &Bytes<'_>, from: u64, until: u64) -> Option<u64> {
    let data = b.data;
    let until = usize::try_from(until).unwrap_or(usize::MAX);
    let last = data
        .len()
        .checked_sub(crate::format::RECORD_OVERHEAD)?
        .min(until.checked_sub(1)?);
    let mut p = usize::try_from(from).ok()?;
    while p <= last {
        // Cheap filters before any checksum: a known kind, zero flags and reserved bytes.
        let head = &data[p..p + RECORD_HEADER_LEN];
        if RecordKind::from_byte(head[0]).is_some()
            && head[1..4] == [0, 0, 0]
            && read_record_header(b, p as u64).is_ok()
        {
            return Some(p as u64);
        }
        p += 1;
    }
    None
}

/// The whole length of the record whose header at `at` passed [`next_header`].
fn claimed_len(b: &Bytes<'_>, at: u64) -> u64 {
    read_record_header(b, at).map_or(0, |(_, body)| body + RECORD_HEADER_LEN as u64 + 4)
}

/// Writes a complete, finished copy of `input` to `output` holding every intact record, and
/// returns what was kept and lost. The copy is written to a temporary file beside `output`,
/// synced, then renamed, so `output` is never half-written; an existing `output` is refused
/// ([`recover_with`] replaces it when asked). `input` is not modified.
///
/// Chunks are held to the reader's default limit ([`crate::DEFAULT_MAX_CHUNK_BYTES`]), so that
/// the recovered file reads and validates with default settings; [`recover_with_limit`] sets
/// another. The input is memory-mapped and the output written record by record: memory stays
/// small whatever the file's size.
pub fn recover(input: impl AsRef<Path>, output: impl AsRef<Path>) -> Result<RecoveryReport> {
    recover_with_limit(input, output, crate::DEFAULT_MAX_CHUNK_BYTES)
}

/// [`recover`] with the writer's settings of an edit: [`crate::WriteOptions::with_overwrite`]
/// replaces an existing `output` (without it, as everywhere, an existing file is refused).
pub fn recover_with(
    input: impl AsRef<Path>,
    output: impl AsRef<Path>,
    opts: &crate::WriteOptions,
) -> Result<RecoveryReport> {
    recover_into(
        input.as_ref(),
        output.as_ref(),
        crate::DEFAULT_MAX_CHUNK_BYTES,
        opts.overwrite(),
    )
}

/// [`recover`], keeping chunks that decode to at most `max_chunk_bytes` (a chunk over it is
/// reported as damage, naming the limit; read such a file with
/// [`crate::ReadOptions::with_max_chunk_bytes`] and recover it with the same limit).
pub fn recover_with_limit(
    input: impl AsRef<Path>,
    output: impl AsRef<Path>,
    max_chunk_bytes: u64,
) -> Result<RecoveryReport> {
    recover_into(input.as_ref(), output.as_ref(), max_chunk_bytes, false)
}

fn recover_into(
    input: &Path,
    output: &Path,
    max_chunk_bytes: u64,
    replace: bool,
) -> Result<RecoveryReport> {
    if fs::canonicalize(input)
        .ok()
        .is_some_and(|a| fs::canonicalize(output).ok() == Some(a))
    {
        return Err(Error::InvalidArgument(format!(
            "recover writes a new file; output {} is the input",
            output.display()
        )));
    }
    let mapped = crate::source::MappedFile::open(input)?;
    let data = crate::source::RangeSource::as_slice(&mapped).unwrap_or(&[]);
    let name = input.display().to_string();
    let b = Bytes::new(data, &name);
    let mut release = |from: u64, to: u64| mapped.release(from, to);
    let s = scan_releasing(&b, max_chunk_bytes, &mut release)?;
    let why = if s.clean_end && s.damage.is_empty() {
        "intact file, copied".to_string()
    } else {
        "scanned for intact records".to_string()
    };
    let report = s.report(&name, b.len(), why);
    crate::place::write_new_file(output, replace, |tmp| {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(tmp)
            .map_err(|e| Error::io(output, "create recovered file", e))?;
        let mut out = Out {
            w: std::io::BufWriter::new(file),
            at: 0,
            path: output,
        };
        write_recovered(&b, s, &mut out, &mut release)?;
        let file = out
            .w
            .into_inner()
            .map_err(|e| Error::io(output, "write recovered file", e.into_error()))?;
        file.sync_all()
            .map_err(|e| Error::io(output, "sync recovered file", e))
    })?;
    Ok(report)
}

/// The recovered file being written, and how many bytes it has.
struct Out<'p> {
    w: std::io::BufWriter<File>,
    at: u64,
    path: &'p Path,
}

impl Out<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.w
            .write_all(bytes)
            .map_err(|e| Error::io(self.path, "write recovered file", e))?;
        self.at += bytes.len() as u64;
        Ok(())
    }

    fn record(&mut self, kind: RecordKind, body: &[u8]) -> Result<()> {
        let mut rec = Vec::new();
        write_record(&mut rec, kind, body);
        self.put(&rec)
    }
}

/// Writes the records the scan kept: header, episode, key, streams, then the chunks and
/// unknown records in file order (copied as they are), then a new footer and trailer.
fn write_recovered(
    b: &Bytes<'_>,
    s: Scan,
    out: &mut Out<'_>,
    release: &mut dyn FnMut(u64, u64),
) -> Result<()> {
    let minor = if s.key.is_some() { 1 } else { 0 };
    out.put(&file_header_minor(minor))?;
    let episode = s.episode.clone().unwrap_or_else(placeholder_meta);
    out.record(RecordKind::Episode, &encode_episode(&episode))?;
    if let Some(key) = &s.key {
        out.record(RecordKind::Key, &encode_key(key))?;
    }
    for st in &s.streams {
        out.record(RecordKind::Stream, &encode_stream(st.id, &st.info))?;
    }
    // Chunks and records of unknown kinds (from a newer minor version) keep their file order.
    let mut order: Vec<(u64, Option<&ChunkEntry>, u64)> = s
        .chunks
        .iter()
        .map(|c| (c.offset, Some(c), c.length))
        .collect();
    order.extend(s.unknown.iter().map(|&(offset, len)| (offset, None, len)));
    order.sort_by_key(|&(offset, ..)| offset);
    let mut chunks = Vec::with_capacity(s.chunks.len());
    let mut released = 0;
    for (old_offset, chunk, len) in order {
        let offset = out.at;
        out.put(b.slice(old_offset, len, "record")?)?;
        if old_offset + len - released >= RELEASE_EVERY {
            release(released, old_offset + len);
            released = old_offset + len;
        }
        if let Some(c) = chunk {
            chunks.push(ChunkEntry {
                offset,
                ..c.clone()
            });
        }
    }
    let footer = Footer {
        episode,
        streams: s.streams,
        chunks,
        skipped: Vec::new(),
        key: s.key.clone(),
    };
    let footer_offset = out.at;
    out.record(RecordKind::Footer, &encode_footer(&footer))?;
    let trailer = Trailer {
        footer_offset,
        footer_len: out.at - footer_offset,
    };
    out.put(&trailer.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{file_header_minor, write_record};
    use std::cell::Cell;

    thread_local! {
        /// Record bytes whose checksum `resync` computed.
        pub(super) static CHECKED: Cell<u64> = const { Cell::new(0) };
    }

    /// The file header, 16 damaged bytes, `forged` headers 32 bytes apart each claiming a body
    /// to the end of the file, then (with `real`) an intact record, then filler. Returns the
    /// file, where the damage starts and where the intact record starts.
    fn forged_file(forged: usize, real: bool) -> (Vec<u8>, u64, u64) {
        let mut data = file_header_minor(0).to_vec();
        let damage = data.len() as u64;
        data.extend_from_slice(&[0xaa; 16]);
        let first = data.len();
        data.resize(first + forged * 32, 0x55);
        let real_at = data.len() as u64;
        if real {
            write_record(
                &mut data,
                RecordKind::Episode,
                &encode_episode(&placeholder_meta()),
            );
        }
        data.extend_from_slice(&[0x55; 4096]);
        let total = data.len();
        for p in (0..forged).map(|i| first + i * 32) {
            let body = (total - p - RECORD_HEADER_LEN - 4) as u64;
            let mut h = [0u8; RECORD_HEADER_LEN];
            h[0] = RecordKind::Chunk as u8;
            h[4..12].copy_from_slice(&body.to_le_bytes());
            let crc = crc32c::crc32c(&h[..12]);
            h[12..16].copy_from_slice(&crc.to_le_bytes());
            data[p..p + RECORD_HEADER_LEN].copy_from_slice(&h);
        }
        (data, damage, real_at)
    }

    #[test]
    fn resync_past_forged_headers_checks_each_byte_once() {
        // Before: every forged header's body was checksummed, 2,000 bodies of up to 68 KB
        // (70 MB of checksums for a 68 KB file; quadratic in the file's size).
        for real in [true, false] {
            let (data, damage, real_at) = forged_file(2000, real);
            let b = Bytes::new(&data, "forged");
            CHECKED.with(|c| c.set(0));
            let found = resync(&b, damage + 1);
            assert_eq!(found, real.then_some(real_at));
            let checked = CHECKED.with(Cell::get);
            assert!(checked <= data.len() as u64, "{checked} bytes checksummed");
        }
    }

    #[test]
    fn recovery_keeps_the_record_after_forged_headers() {
        let (data, _, real_at) = forged_file(300, true);
        let s = scan(&Bytes::new(&data, "forged"), u64::MAX).unwrap();
        assert!(s.episode.is_some(), "{:?}", s.damage);
        assert_eq!(s.damage[0].offset + s.damage[0].length, real_at);
    }
}
