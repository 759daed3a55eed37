//! A local cache of bytes fetched from object stores, for training that reads the same episodes
//! every epoch: each fetched range is kept as a file under the cache directory, the least
//! recently used dropped first once the cache holds more than its size.
//!
//! Several processes (DataLoader workers) may share one directory: a range is written under a
//! temporary name and renamed into place, so a reader sees it whole or not at all; eviction by
//! one process of a file another is reading is harmless (the open file stays readable, a later
//! lookup misses and fetches again). Cached bytes go through the reader's CRC checks like
//! fetched ones.

use std::fs;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rmf_core::{RangeSource, Result, Tail};

/// A [`RangeSource`] that answers from `dir` when it can and keeps what it fetches there.
pub struct CachedSource {
    inner: Arc<dyn RangeSource>,
    /// `dir/<hash of the URL>`: this object's ranges, one file each (`<start>-<end>`).
    object_dir: PathBuf,
    root: PathBuf,
    max_bytes: u64,
    /// Bytes written since the cache was last trimmed.
    since_trim: AtomicU64,
}

impl CachedSource {
    /// Caches what `inner` fetches under `dir`, holding at most about `max_bytes`.
    pub fn new(inner: Arc<dyn RangeSource>, dir: &Path, max_bytes: u64) -> Self {
        let key = blake3::hash(inner.name().as_bytes()).to_hex();
        CachedSource {
            object_dir: dir.join(&key.as_str()[..32]),
            root: dir.to_path_buf(),
            inner,
            max_bytes,
            since_trim: AtomicU64::new(0),
        }
    }

    /// The cached file holding `r`, if any.
    fn lookup(&self, r: &Range<u64>) -> Option<bytes::Bytes> {
        for e in fs::read_dir(&self.object_dir).ok()?.flatten() {
            let name = e.file_name();
            let Some((a, b)) = name.to_str().and_then(|n| n.split_once('-')) else {
                continue;
            };
            let (Ok(a), Ok(b)) = (a.parse::<u64>(), b.parse::<u64>()) else {
                continue;
            };
            if a <= r.start && r.end <= b {
                let data = fs::read(e.path()).ok()?;
                if data.len() as u64 != b - a {
                    continue; // not ours, or damaged: fetch again
                }
                touch(&e.path());
                let from = (r.start - a) as usize;
                return Some(
                    bytes::Bytes::from(data).slice(from..from + (r.end - r.start) as usize),
                );
            }
        }
        None
    }

    fn keep(&self, name: &str, data: &[u8]) {
        // Best effort: a full disk or a read-only directory only costs the cache.
        let _ = fs::create_dir_all(&self.object_dir);
        let tmp = self.object_dir.join(format!(
            ".{name}.tmp-{}-{}",
            std::process::id(),
            self.since_trim.load(Ordering::Relaxed)
        ));
        let written = fs::File::create(&tmp).and_then(|mut f| f.write_all(data));
        if written.is_err() || fs::rename(&tmp, self.object_dir.join(name)).is_err() {
            let _ = fs::remove_file(&tmp);
            return;
        }
        let since = self
            .since_trim
            .fetch_add(data.len() as u64, Ordering::Relaxed)
            + data.len() as u64;
        if since > self.max_bytes / 16 {
            self.since_trim.store(0, Ordering::Relaxed);
            trim(&self.root, self.max_bytes);
        }
    }
}

impl RangeSource for CachedSource {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn read_tail(&self, n: u64) -> Result<Tail> {
        // The tail's file name carries the file length it was read from.
        if let Ok(dir) = fs::read_dir(&self.object_dir) {
            for e in dir.flatten() {
                let name = e.file_name();
                let Some(rest) = name.to_str().and_then(|s| s.strip_prefix("tail-")) else {
                    continue;
                };
                let Some((len, want)) = rest.split_once('-') else {
                    continue;
                };
                if want.parse::<u64>().ok() != Some(n) {
                    continue;
                }
                if let (Ok(file_len), Ok(data)) = (len.parse::<u64>(), fs::read(e.path())) {
                    if data.len() as u64 == n.min(file_len) {
                        touch(&e.path());
                        return Ok(Tail {
                            file_len,
                            bytes: data.into(),
                        });
                    }
                }
            }
        }
        let t = self.inner.read_tail(n)?;
        self.keep(&format!("tail-{}-{n}", t.file_len), &t.bytes);
        Ok(t)
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<bytes::Bytes>> {
        let mut out: Vec<Option<bytes::Bytes>> = ranges.iter().map(|r| self.lookup(r)).collect();
        let missing: Vec<Range<u64>> = ranges
            .iter()
            .zip(&out)
            .filter(|(_, hit)| hit.is_none())
            .map(|(r, _)| r.clone())
            .collect();
        if !missing.is_empty() {
            let mut fetched = self.inner.read_ranges(&missing)?.into_iter();
            for (r, slot) in ranges.iter().zip(out.iter_mut()) {
                if slot.is_none() {
                    let b = fetched.next().unwrap_or_default();
                    self.keep(&format!("{}-{}", r.start, r.end), &b);
                    *slot = Some(b);
                }
            }
        }
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    }
}

/// Marks a file as just used (its modification time orders eviction).
fn touch(path: &Path) {
    if let Ok(f) = fs::File::options().append(true).open(path) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
}

/// Deletes the least recently used files under `root` until it holds at most `max_bytes`.
fn trim(root: &Path, max_bytes: u64) {
    let mut files = Vec::new();
    let Ok(objects) = fs::read_dir(root) else {
        return;
    };
    for o in objects.flatten() {
        let Ok(entries) = fs::read_dir(o.path()) else {
            continue;
        };
        for e in entries.flatten() {
            if let Ok(m) = e.metadata() {
                let t = m.modified().unwrap_or(std::time::UNIX_EPOCH);
                files.push((t, m.len(), e.path()));
            }
        }
    }
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    files.sort();
    for (_, len, path) in files {
        if total <= max_bytes {
            break;
        }
        if fs::remove_file(&path).is_ok() {
            total = total.saturating_sub(len);
        }
    }
}
