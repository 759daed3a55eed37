//! Full validation: every record checksum, the footer against what the records say, every chunk
//! decoded, time order and statistics checked. Reports every problem with its stream, chunk and
//! byte offset instead of stopping at the first.

use std::fmt;
use std::path::Path;

use arrow_array::{Array, FixedSizeListArray, PrimitiveArray};

use crate::error::Result;
use crate::footer::ChunkEntry;
use crate::format::{read_record, Bytes};
use crate::kind::signal_stats;
use crate::read::{EpisodeReader, ReadOptions};
use crate::recover::scan;
use crate::schema::StreamKind;
use rmf_codecs::with_dtype;
use rmf_codecs::Element;

/// One thing wrong with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte offset the problem is at, when it has one.
    pub offset: Option<u64>,
    /// Stream concerned, when known.
    pub stream: Option<String>,
    /// Index of the chunk concerned in the chunk index, when known.
    pub chunk: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(o) = self.offset {
            write!(f, "byte {o}: ")?;
        }
        if let Some(s) = &self.stream {
            write!(f, "stream {s:?}: ")?;
        }
        if let Some(c) = self.chunk {
            write!(f, "chunk {c}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// The result of [`validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationReport {
    /// The file.
    pub file: String,
    /// Whether the file has an intact footer and trailer.
    pub finished: bool,
    /// Streams.
    pub streams: usize,
    /// Chunks decoded.
    pub chunks_checked: usize,
    /// Samples decoded.
    pub samples: u64,
    /// Chunks of encrypted streams checked by their record checksum only: the reader had no
    /// key, so their contents were not decrypted.
    pub sealed_unopened: usize,
    /// Everything wrong, in file order where it has one.
    pub problems: Vec<Problem>,
}

impl ValidationReport {
    /// True when nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.is_ok() { "OK" } else { "INVALID" };
        writeln!(
            f,
            "{}: {verdict}: {} streams, {} chunks, {} samples checked, {}",
            self.file,
            self.streams,
            self.chunks_checked,
            self.samples,
            if self.finished {
                "finished"
            } else {
                "not finished (no usable footer)"
            }
        )?;
        if self.sealed_unopened > 0 {
            writeln!(
                f,
                "  {} chunks of encrypted streams checked by checksum only (no key given)",
                self.sealed_unopened
            )?;
        }
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

/// Checks a file completely. Returns `Err` only when it cannot be read at all (I/O, not RMF, an
/// unknown major version); everything else is a [`Problem`] in the report.
pub fn validate(path: impl AsRef<Path>) -> Result<ValidationReport> {
    validate_with(path, ReadOptions::default())
}

/// [`validate`] with reader options, e.g. the key that opens encrypted streams so that their
/// chunks are decrypted, authenticated and decoded too.
pub fn validate_with(path: impl AsRef<Path>, opts: ReadOptions) -> Result<ValidationReport> {
    let reader = EpisodeReader::open_with(path, opts)?;
    validate_reader(&reader)
}

/// [`validate`] for an open reader. A reader of a remote file fetches the whole file first
/// (every byte is checked); `Err` when that fails.
pub fn validate_reader(reader: &EpisodeReader) -> Result<ValidationReport> {
    let data = reader.file_bytes()?;
    let mut problems = Vec::new();
    let name = reader.file_name();
    let finished = reader.recovery().is_none();
    if let Some(r) = reader.recovery() {
        problems.push(Problem {
            offset: None,
            stream: None,
            chunk: None,
            message: r.why.clone(),
        });
    }

    // Every record's checksums, and the footer against the records.
    let b = Bytes::new(data, name);
    // The reader's own chunk limit: a chunk over it is damage to this reader, as the scan that
    // opened an unfinished file found.
    match scan(&b, reader.read_options().max_chunk_bytes()) {
        Err(e) => problems.push(Problem {
            offset: e.offset(),
            stream: None,
            chunk: None,
            message: e.to_string(),
        }),
        Ok(s) => {
            for d in &s.damage {
                problems.push(Problem {
                    offset: Some(d.offset),
                    stream: None,
                    chunk: None,
                    message: format!("{} damaged bytes: {}", d.length, d.reason),
                });
            }
            if !finished {
                // A finished file lists these in its footer; an unfinished one only here.
                for k in &s.skipped {
                    problems.push(Problem {
                        offset: None,
                        stream: Some(k.name.clone()),
                        chunk: None,
                        message: format!("stream {:?} (id {}) skipped: {}", k.name, k.id, k.reason),
                    });
                }
            }
            if finished {
                // A scan cannot see inside sealed chunks: their statistics and decoded size
                // are compared once the chunks are opened, below.
                let same = |a: &ChunkEntry, b: &ChunkEntry| {
                    a == b
                        || (a.decoded_bytes == 0
                            && a.stats.is_empty()
                            && ChunkEntry {
                                decoded_bytes: b.decoded_bytes,
                                stats: b.stats.clone(),
                                ..a.clone()
                            } == *b)
                };
                let chunks = reader.chunks();
                if s.chunks.len() != chunks.len()
                    || s.chunks.iter().zip(chunks).any(|(a, b)| !same(a, b))
                {
                    problems.push(Problem {
                        offset: None,
                        stream: None,
                        chunk: None,
                        message: format!(
                            "the footer's chunk index ({} chunks) differs from the chunk records in the file ({} intact)",
                            reader.chunks().len(),
                            s.chunks.len()
                        ),
                    });
                }
                let scanned: Vec<_> = s.streams.iter().map(|e| &e.info).collect();
                let footer: Vec<_> = reader.streams().iter().collect();
                if scanned != footer {
                    problems.push(Problem {
                        offset: None,
                        stream: None,
                        chunk: None,
                        message: "the footer's stream table differs from the stream records".into(),
                    });
                }
                if !s.clean_end {
                    problems.push(Problem {
                        offset: None,
                        stream: None,
                        chunk: None,
                        message: "bytes between the footer and the trailer, or no footer record where the trailer points".into(),
                    });
                }
            }
        }
    }

    // Every chunk decoded; order and statistics.
    let mut samples = 0;
    let mut sealed_unopened = 0;
    let b = Bytes::new(data, reader.file_name());
    let mut last_t: Vec<Option<i64>> = vec![None; reader.streams().len()];
    for (i, c) in reader.chunks().iter().enumerate() {
        let Some(si) = reader.stream_index_of_id(c.stream_id) else {
            problems.push(Problem {
                offset: Some(c.offset),
                stream: None,
                chunk: Some(i),
                message: format!("undeclared stream id {}", c.stream_id),
            });
            continue;
        };
        let info = &reader.streams()[si];
        let problem = |message: String| Problem {
            offset: Some(c.offset),
            stream: Some(info.name.clone()),
            chunk: Some(i),
            message,
        };
        if let Some(prev) = last_t[si] {
            if c.t_min < prev {
                problems.push(problem(format!(
                    "starts at {} ns, before the previous chunk of the stream ends ({prev} ns)",
                    c.t_min
                )));
            }
        }
        last_t[si] = Some(c.t_max);
        if !reader.is_readable(&info.name).unwrap_or(false) {
            sealed_unopened += 1;
            if let Err(e) = read_record(&b, c.offset) {
                problems.push(Problem {
                    offset: e.offset().or(Some(c.offset)),
                    ..problem(e.to_string())
                });
            }
            continue;
        }
        match reader.read_chunk(i) {
            Err(e) => problems.push(Problem {
                offset: e.offset().or(Some(c.offset)),
                ..problem(e.to_string())
            }),
            Ok(batch) => {
                samples += batch.num_rows() as u64;
                if let StreamKind::Signal { dtype, .. } = &info.kind {
                    let width = info.signal_width();
                    let stats = batch
                        .column(1)
                        .as_any()
                        .downcast_ref::<FixedSizeListArray>()
                        .map(|l| with_dtype!(dtype, T => recompute::<T>(l, width)));
                    let stored = reader.chunk_stats(i);
                    if stats.as_deref() != stored.as_deref().ok() {
                        problems.push(problem(
                            "statistics in the index do not match the samples".into(),
                        ));
                    }
                }
            }
        }
    }
    Ok(ValidationReport {
        file: name.to_string(),
        finished,
        streams: reader.streams().len(),
        chunks_checked: reader.chunks().len(),
        samples,
        sealed_unopened,
        problems,
    })
}

fn recompute<T: Element>(list: &FixedSizeListArray, width: usize) -> Vec<u8> {
    match list
        .values()
        .as_any()
        .downcast_ref::<PrimitiveArray<T::Arrow>>()
    {
        Some(values) => signal_stats::<T>(values.values(), width),
        None => Vec::new(),
    }
}
