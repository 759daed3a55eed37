//! Where a reader's bytes come from. A local file is memory-mapped and read in place; a file in
//! an object store (the `rmf-store` crate) is read by range requests: its tail when it opens,
//! then the chunk records a query needs. The reader asks a [`RangeSource`] for byte ranges and
//! checks every byte it gets against the file's CRCs; what a range costs (a page fault, an HTTP
//! request) is the source's business.

use std::fs::File;
use std::ops::Range;
use std::path::Path;

use crate::error::{Error, Result};

/// The bytes of one file, by ranges: the shape of parquet's `ChunkReader` and lance's object
/// reader. Implementations must be safe to share between threads (a dataset samples from
/// several at once).
pub trait RangeSource: Send + Sync {
    /// The file's name in errors: a path or a URL.
    fn name(&self) -> &str;

    /// The whole file, when it is in memory or mapped. The reader then reads in place and never
    /// calls [`read_tail`](Self::read_tail) or [`read_ranges`](Self::read_ranges).
    fn as_slice(&self) -> Option<&[u8]> {
        None
    }

    /// The last `n` bytes (all of them when the file is shorter) and the file's length, in one
    /// request: opening a file costs this call and, when the footer is longer, one
    /// [`read_ranges`](Self::read_ranges).
    fn read_tail(&self, n: u64) -> Result<Tail>;

    /// The bytes of each range, in the order given; a source may fetch them in parallel. Each
    /// result must be exactly as long as its range: a short body is an error, never data.
    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<bytes::Bytes>>;

    /// Called each time the reader has read a few hundred KiB more: a memory-mapped file lets
    /// the kernel drop the pages it has mapped (see the reader's `RELEASE_PAGES_AFTER`).
    fn release_pages(&self) {}
}

/// The end of a file, as [`RangeSource::read_tail`] returns it.
#[derive(Debug, Clone)]
pub struct Tail {
    /// The file's length in bytes.
    pub file_len: u64,
    /// Its last bytes (at most `file_len`).
    pub bytes: bytes::Bytes,
}

/// A local file, memory-mapped.
pub struct MappedFile {
    name: String,
    /// `None` for an empty file (which cannot be mapped).
    map: Option<memmap2::Mmap>,
}

impl MappedFile {
    /// Maps the file at `path` read-only.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| Error::io(path, "open", e))?;
        let meta = file.metadata().map_err(|e| Error::io(path, "stat", e))?;
        if meta.is_dir() {
            // Mapping a directory fails with "No such device", which says nothing useful.
            return Err(Error::InvalidArgument(format!(
                "{} is a directory; an episode is one .rmf file (a directory of episodes is a \
                 dataset: `rmf.Dataset`, `rmf index`)",
                path.display()
            )));
        }
        let len = meta.len();
        let map = if len == 0 {
            None
        } else {
            // SAFETY: the map is read-only. RMF files are written append-only and never edited
            // in place, so the mapped bytes do not change under the reader; a file truncated by
            // another process while mapped is outside what this library supports (as for every
            // mmap-based reader).
            #[allow(unsafe_code)]
            let map =
                unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, "mmap", e))?;
            Some(map)
        };
        Ok(MappedFile {
            name: path.display().to_string(),
            map,
        })
    }

    fn data(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    /// Lets the operating system take back the pages of bytes `from..to` from this process's
    /// resident memory (they stay in the page cache, and are read again if touched). A scan of
    /// a file larger than memory calls it behind itself. Best effort: does nothing off Unix or
    /// on failure.
    pub(crate) fn release(&self, from: u64, to: u64) {
        #[cfg(unix)]
        if let Some(map) = &self.map {
            const PAGE: u64 = 4096;
            let start = from.div_ceil(PAGE) * PAGE;
            let end = to.min(map.len() as u64) / PAGE * PAGE;
            if end > start {
                // SAFETY: the map is a read-only, shared mapping of a file that this library
                // never writes while it is mapped (see `open`). MADV_DONTNEED on such a
                // mapping drops the process's references to the page-cache pages; a later
                // access faults them in again with the same bytes, so every slice of the map
                // keeps reading what it read before.
                #[allow(unsafe_code)]
                let _ = unsafe {
                    map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        start as usize,
                        (end - start) as usize,
                    )
                };
            }
        }
    }
}

impl RangeSource for MappedFile {
    fn name(&self) -> &str {
        &self.name
    }

    fn as_slice(&self) -> Option<&[u8]> {
        Some(self.data())
    }

    fn read_tail(&self, n: u64) -> Result<Tail> {
        tail_of(self.data())(n)
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<bytes::Bytes>> {
        ranges_of(self.data(), &self.name, ranges)
    }

    fn release_pages(&self) {
        #[cfg(unix)]
        if let Some(map) = &self.map {
            // SAFETY: the map is read-only and file-backed, and RMF files are not modified in
            // place: dropping its pages loses nothing, and the next access faults them in again
            // from the page cache or the file, with the same bytes.
            #[allow(unsafe_code)]
            let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }
}

/// A file held in memory.
pub struct InMemory {
    name: String,
    bytes: bytes::Bytes,
}

impl InMemory {
    /// Wraps `bytes`, naming them `name` in errors.
    pub fn new(bytes: impl Into<bytes::Bytes>, name: impl Into<String>) -> Self {
        InMemory {
            name: name.into(),
            bytes: bytes.into(),
        }
    }
}

impl RangeSource for InMemory {
    fn name(&self) -> &str {
        &self.name
    }

    fn as_slice(&self) -> Option<&[u8]> {
        Some(&self.bytes)
    }

    fn read_tail(&self, n: u64) -> Result<Tail> {
        tail_of(&self.bytes)(n)
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<bytes::Bytes>> {
        ranges_of(&self.bytes, &self.name, ranges)
    }
}

fn tail_of(data: &[u8]) -> impl Fn(u64) -> Result<Tail> + '_ {
    move |n| {
        let len = data.len() as u64;
        let start = len.saturating_sub(n) as usize;
        Ok(Tail {
            file_len: len,
            bytes: bytes::Bytes::copy_from_slice(&data[start..]),
        })
    }
}

fn ranges_of(data: &[u8], name: &str, ranges: &[Range<u64>]) -> Result<Vec<bytes::Bytes>> {
    let len = data.len() as u64;
    ranges
        .iter()
        .map(|r| {
            if r.start > r.end || r.end > len {
                return Err(Error::Truncated {
                    file: name.to_string(),
                    what: "byte range",
                    offset: r.start,
                    needed: r.end.saturating_sub(r.start),
                    available: len.saturating_sub(r.start),
                });
            }
            // Both fit in usize: they are bounded by the slice length.
            Ok(bytes::Bytes::copy_from_slice(
                &data[r.start as usize..r.end as usize],
            ))
        })
        .collect()
}

/// `source.read_ranges`, with the number of bodies and every body's length checked against
/// the ranges asked for (a short body is [`Error::Truncated`]).
pub fn read_exact(source: &dyn RangeSource, ranges: &[Range<u64>]) -> Result<Vec<bytes::Bytes>> {
    let bodies = source.read_ranges(ranges)?;
    if bodies.len() != ranges.len() {
        return Err(Error::Malformed {
            file: source.name().to_string(),
            what: "range request",
            offset: ranges.first().map_or(0, |r| r.start),
            detail: format!(
                "{} ranges asked for, {} returned",
                ranges.len(),
                bodies.len()
            ),
        });
    }
    for (r, b) in ranges.iter().zip(&bodies) {
        let want = r.end - r.start;
        if b.len() as u64 != want {
            return Err(Error::Truncated {
                file: source.name().to_string(),
                what: "range request",
                offset: r.start,
                needed: want,
                available: b.len() as u64,
            });
        }
    }
    Ok(bodies)
}
