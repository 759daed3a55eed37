//! Opening an episode: the trailer and footer when they are intact (O(footer) bytes read),
//! else a scan of every record (recovery mode).

use super::*;
use crate::source::{InMemory, MappedFile};

impl EpisodeReader {
    /// Opens a file (memory-mapped) with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, ReadOptions::default())
    }

    /// Opens a file (memory-mapped).
    pub fn open_with(path: impl AsRef<Path>, opts: ReadOptions) -> Result<Self> {
        Self::open_source(Arc::new(MappedFile::open(path)?), opts)
    }

    /// Reads an episode held in memory; `name` names it in errors.
    pub fn from_bytes(bytes: Vec<u8>, name: impl Into<String>, opts: ReadOptions) -> Result<Self> {
        Self::open_source(Arc::new(InMemory::new(bytes, name)), opts)
    }

    /// Opens the file `source` reads: in place when it is in memory or mapped, else by range
    /// requests (one for the tail when the footer fits [`ReadOptions::with_tail_bytes`], two
    /// otherwise; a file without a usable footer is fetched whole and scanned).
    pub fn open_source(source: Arc<dyn RangeSource>, opts: ReadOptions) -> Result<Self> {
        let name = source.name().to_string();
        if let Some(data) = source.as_slice() {
            let b = Bytes::new(data, &name);
            check_file_header(b.data, &name)?;
            let (footer, recovery, read) = footer_or_scan(&b, &opts)?;
            let tail = recovery.is_none().then(|| footer_tail(&b)).flatten();
            let parts = Parts {
                footer,
                recovery,
                read,
                tail,
            };
            return Self::build(source.clone(), None, name, opts, parts);
        }
        let tail = source.read_tail(opts.tail_bytes.max((FILE_HEADER_LEN + TRAILER_LEN) as u64))?;
        let len = tail.file_len;
        let held = tail.bytes.len() as u64;
        if held > len || (held < len && held < (FILE_HEADER_LEN + TRAILER_LEN) as u64) {
            return Err(Error::Truncated {
                file: name,
                what: "tail read",
                offset: len.saturating_sub(held),
                needed: opts.tail_bytes.min(len),
                available: held,
            });
        }
        let (mut window, mut base) = (tail.bytes, len - held);
        if base == 0 {
            check_file_header(&window, &name)?;
        }
        // A footer longer than the tail read: fetch the rest of it (the second request).
        if let Ok(Some(t)) = Trailer::read(&Bytes::at(&window, &name, base)) {
            if t.footer_offset < base {
                // The footer's length comes from the file: bounded before it is fetched.
                if t.footer_len > opts.max_chunk_bytes {
                    return Err(Error::TooLarge {
                        file: name,
                        offset: t.footer_offset,
                        claimed: t.footer_len,
                        limit: opts.max_chunk_bytes,
                    });
                }
                let more = ranged::fetch_one(&*source, t.footer_offset..base)?;
                let mut joined = Vec::with_capacity((len - t.footer_offset) as usize);
                joined.extend_from_slice(&more);
                joined.extend_from_slice(&window);
                (window, base) = (joined.into(), t.footer_offset);
            }
        }
        let mut read = held.min(TRAILER_LEN as u64);
        let found = footer_of(&Bytes::at(&window, &name, base), &mut read);
        let tail = found
            .is_ok()
            .then(|| footer_tail(&Bytes::at(&window, &name, base)))
            .flatten();
        let (footer, recovery, read, whole) = match found {
            Ok(f) => (f, None, len - base, false),
            Err(why) => {
                // No usable footer: everything is needed for the scan.
                let all = if base == 0 {
                    window.clone()
                } else {
                    ranged::fetch_one(&*source, 0..len)?
                };
                let b = Bytes::new(&all, &name);
                check_file_header(&all, &name)?;
                let s = scan(&b, opts.max_chunk_bytes)?;
                let report = s.report(&name, len, why);
                (window, base) = (all, 0);
                (s.into_footer(), Some(report), len, true)
            }
        };
        let ranged = Ranged::new(len, window, base, whole || base == 0);
        let parts = Parts {
            footer,
            recovery,
            read,
            tail,
        };
        Self::build(source, Some(ranged), name, opts, parts)
    }

    fn build(
        src: Arc<dyn RangeSource>,
        ranged: Option<Ranged>,
        name: String,
        opts: ReadOptions,
        parts: Parts,
    ) -> Result<Self> {
        let Parts {
            footer,
            recovery,
            read,
            tail,
        } = parts;
        let opts_secret = opts.secret.clone();
        let max_kdf_cost = opts.max_kdf_cost;
        let name_for_key = name.clone();
        let mut reader = EpisodeReader {
            src,
            ranged,
            footer_tail: tail,
            name,
            meta: footer.episode,
            ids: HashMap::new(),
            by_name: HashMap::new(),
            streams: Vec::new(),
            per_stream: Vec::new(),
            chunks: Vec::new(),
            recovery,
            skipped: Vec::new(),
            opts,
            bytes_read: AtomicU64::new(read),
            source: NEXT_SOURCE.fetch_add(1, Ordering::Relaxed),
            data_key: match (&footer.key, &opts_secret) {
                (Some(record), Some(secret)) => Some(DataKey::unwrap(
                    record,
                    secret,
                    &name_for_key,
                    max_kdf_cost,
                )?),
                _ => None,
            },
            key: footer.key,
            ciphers: Vec::new(),
            plain_cache: Mutex::new(VecDeque::new()),
            touched_since_release: AtomicU64::new(0),
        };
        for s in footer.streams {
            reader.ids.insert(s.id, reader.streams.len());
            reader
                .by_name
                .insert(s.info.name.clone(), reader.streams.len());
            let cipher = match (&s.info.encryption, &reader.data_key) {
                (Some(enc), Some(dk)) => Some(dk.stream_cipher(enc)?),
                _ => None,
            };
            reader.ciphers.push(cipher);
            reader.streams.push(s.info);
            reader.per_stream.push(Vec::new());
        }
        reader.skipped = footer.skipped;
        // Chunks of skipped streams stay out of the index.
        let skipped_ids: Vec<u32> = reader.skipped.iter().map(|k| k.id).collect();
        let mut kept = Vec::with_capacity(footer.chunks.len());
        for c in footer.chunks {
            if !skipped_ids.contains(&c.stream_id) {
                kept.push(c);
            }
        }
        for (i, c) in kept.iter().enumerate() {
            if let Some(&s) = reader.ids.get(&c.stream_id) {
                reader.per_stream[s].push(i);
            }
        }
        reader.chunks = kept;
        for list in &mut reader.per_stream {
            list.sort_by_key(|&i| (reader.chunks[i].t_min, reader.chunks[i].offset));
        }
        Ok(reader)
    }
}

/// What opening found: the footer (or what a scan rebuilt), the recovery report, bytes read,
/// and the length of the footer record and trailer.
struct Parts {
    footer: Footer,
    recovery: Option<RecoveryReport>,
    read: u64,
    tail: Option<u64>,
}

/// Bytes from the footer record to the end of the file, from a valid trailer.
fn footer_tail(b: &Bytes<'_>) -> Option<u64> {
    let t = Trailer::read(b).ok()??;
    Some(b.len() - t.footer_offset)
}

/// The footer of a whole file, or the scan of its records when the footer is unusable; and the
/// bytes that took.
fn footer_or_scan(
    b: &Bytes<'_>,
    opts: &ReadOptions,
) -> Result<(Footer, Option<RecoveryReport>, u64)> {
    let mut read = FILE_HEADER_LEN as u64;
    match footer_of(b, &mut read) {
        Ok(f) => Ok((f, None, read)),
        Err(why) => {
            let s = scan(b, opts.max_chunk_bytes)?;
            let report = s.report(b.file, b.len(), why);
            Ok((s.into_footer(), Some(report), b.len()))
        }
    }
}

/// Reads the trailer and footer; the error string says why the footer cannot be used.
fn footer_of(b: &Bytes<'_>, read: &mut u64) -> std::result::Result<Footer, String> {
    let trailer = match Trailer::read(b) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return Err(
                "the file has no trailer: the writer did not finish (crash or kill?)".into(),
            )
        }
        Err(e) => return Err(format!("the trailer is damaged: {e}")),
    };
    *read += TRAILER_LEN as u64;
    let rec = read_record(b, trailer.footer_offset)
        .map_err(|e| format!("the footer is unusable: {e}"))?;
    *read += rec.len();
    if rec.kind != RecordKind::Footer as u8 || rec.len() != trailer.footer_len {
        return Err(format!(
            "the trailer points at a record of kind {} and {} bytes, not the footer",
            rec.kind,
            rec.len()
        ));
    }
    let footer = decode_footer(rec.body, b.file, rec.body_offset())
        .map_err(|e| format!("the footer is unusable: {e}"))?;
    check_footer(&footer, trailer.footer_offset)
        .map_err(|e| format!("the footer is inconsistent: {e}"))?;
    Ok(footer)
}

/// The footer's promises that the reader relies on without reading chunks.
fn check_footer(f: &Footer, footer_offset: u64) -> std::result::Result<(), String> {
    let mut ids = HashMap::new();
    let mut names = HashMap::new();
    for s in &f.streams {
        if ids.insert(s.id, &s.info).is_some() {
            return Err(format!("stream id {} appears twice", s.id));
        }
        if names.insert(s.info.name.as_str(), ()).is_some() {
            return Err(format!("stream name {:?} appears twice", s.info.name));
        }
    }
    let mut last_t: HashMap<u32, i64> = HashMap::new();
    for (i, c) in f.chunks.iter().enumerate() {
        if f.skipped.iter().any(|k| k.id == c.stream_id) {
            continue; // a stream of a newer kind: not indexed
        }
        if let Some(&prev) = last_t.get(&c.stream_id) {
            if c.t_min < prev {
                return Err(format!(
                    "chunk {i} starts at {} ns, before the previous chunk of its stream ends ({prev} ns)",
                    c.t_min
                ));
            }
        }
        last_t.insert(c.stream_id, c.t_max);
        let Some(info) = ids.get(&c.stream_id) else {
            return Err(format!(
                "chunk {i} names undeclared stream id {}",
                c.stream_id
            ));
        };
        let inside = c.offset >= FILE_HEADER_LEN as u64
            && c.length >= RECORD_OVERHEAD as u64
            && c.offset
                .checked_add(c.length)
                .is_some_and(|e| e <= footer_offset);
        if !inside {
            return Err(format!(
                "chunk {i} at {}+{} lies outside the chunk area",
                c.offset, c.length
            ));
        }
        if c.rows == 0 {
            return Err(format!("chunk {i} has no rows"));
        }
        let want = expected_stats_len(info, c.rows);
        // A sealed chunk's statistics are sealed (nonce and tag added), or absent.
        let sealed_ok = info.encryption.is_some()
            && (c.stats.is_empty() || c.stats.len() == want + NONCE_LEN + TAG_LEN);
        if c.stats.len() != want && !sealed_ok {
            return Err(format!(
                "chunk {i} has {} stats bytes, its stream needs {want}",
                c.stats.len()
            ));
        }
    }
    Ok(())
}
