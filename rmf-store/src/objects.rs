//! Whole objects: listing a dataset's files, reading a file whole (a dataset index), writing
//! one whole, and the store side of streamed copies. Every new file or object appears complete
//! or not at all.

use std::ops::Range;
use std::path::Path;

use rmf_core::{read_exact, Error, RangeSource, Result};

use crate::location::Location;
use crate::options::StoreOptions;

/// Objects larger than this are uploaded in parts of this size (S3's parts are 5 MiB at least).
pub const PART_BYTES: usize = 8 << 20;
/// Parts read (and, to a store, uploaded) at a time: 4 × 8 MiB in memory.
pub(crate) const PARTS_AT_ONCE: usize = 4;

/// One file found under a dataset's directory or prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Path relative to the directory, `/`-separated.
    pub rel: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modification, ns since the Unix epoch (0 when unknown).
    pub modified_ns: i64,
}

/// The files under `dir` (sub-folders included) whose names end with `suffix`, sorted.
pub fn list(dir: &Location, suffix: &str, opts: &StoreOptions) -> Result<Vec<Listed>> {
    let mut out = match dir {
        Location::Local(p) => {
            let mut out = Vec::new();
            walk(p, "", suffix, &mut out)?;
            out
        }
        #[cfg(feature = "cloud")]
        Location::Remote(u) => remote::list(u, suffix, opts)?,
        #[cfg(not(feature = "cloud"))]
        Location::Remote(_) => {
            let _ = opts;
            return Err(dir.no_cloud());
        }
    };
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

fn walk(dir: &Path, rel: &str, suffix: &str, out: &mut Vec<Listed>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, "list", e))?;
    for e in entries {
        let e = e.map_err(|e| Error::io(dir, "list", e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let child = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let meta = e.metadata().map_err(|e| Error::io(&path, "stat", e))?;
        if meta.is_dir() {
            walk(&path, &child, suffix, out)?;
        } else if name.ends_with(suffix) && !name.contains(".tmp-") {
            let modified_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i64);
            out.push(Listed {
                rel: child,
                size: meta.len(),
                modified_ns,
            });
        }
    }
    Ok(())
}

/// Every byte of the file at `loc` (a dataset index, a file to copy).
pub fn read_all(loc: &Location, opts: &StoreOptions) -> Result<bytes::Bytes> {
    match loc {
        Location::Local(p) => std::fs::read(p)
            .map(Into::into)
            .map_err(|e| Error::io(p, "read", e)),
        #[cfg(feature = "cloud")]
        Location::Remote(u) => remote::get_all(u, opts),
        #[cfg(not(feature = "cloud"))]
        Location::Remote(_) => {
            let _ = opts;
            Err(loc.no_cloud())
        }
    }
}

/// Writes `data` as the file at `loc`, replacing it: locally under a temporary name then
/// renamed; to a store in one request, or in parts when large (an unfinished upload is aborted
/// and never visible).
pub fn write_all(loc: &Location, data: bytes::Bytes, opts: &StoreOptions) -> Result<()> {
    match loc {
        Location::Local(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create directory", e))?;
            }
            rmf_core::place::write_new_file(p, true, |tmp| {
                use std::io::Write;
                let mut f = std::fs::File::create(tmp).map_err(|e| Error::io(tmp, "create", e))?;
                f.write_all(&data).map_err(|e| Error::io(tmp, "write", e))?;
                f.sync_all().map_err(|e| Error::io(tmp, "sync", e))
            })
        }
        #[cfg(feature = "cloud")]
        Location::Remote(u) => {
            let len = data.len() as u64;
            let src = rmf_core::InMemory::new(data, u.as_str());
            remote::put_streamed(u, len, &src, PARTS_AT_ONCE, opts).map(|_| ())
        }
        #[cfg(not(feature = "cloud"))]
        Location::Remote(_) => {
            let _ = (data, opts);
            Err(loc.no_cloud())
        }
    }
}

/// `src.read_ranges`, every body's length checked.
/// The ranges of the parts of a file of `len` bytes (none when it is empty).
pub(crate) fn parts(len: u64) -> Vec<Range<u64>> {
    let part = PART_BYTES as u64;
    (0..len.div_ceil(part))
        .map(|k| k * part..((k + 1) * part).min(len))
        .collect()
}

#[cfg(feature = "cloud")]
pub(crate) mod remote {
    use super::*;
    use crate::cloud::{block_on, jitter, retrying, store_for, Failure};
    use futures::TryStreamExt;
    use object_store::{ObjectStoreExt, PutPayload};

    pub(crate) fn list(url: &str, suffix: &str, opts: &StoreOptions) -> Result<Vec<Listed>> {
        let (store, prefix) = store_for(url, opts)?;
        block_on(retrying(opts, url, "list", None, || {
            let (store, prefix) = (store.clone(), prefix.clone());
            async move {
                let metas: Vec<_> = store
                    .list(Some(&prefix))
                    .try_collect()
                    .await
                    .map_err(|e| Failure::of(&e))?;
                let base = prefix.as_ref().trim_end_matches('/').to_string();
                Ok(metas
                    .into_iter()
                    .filter_map(|m| {
                        let key = m.location.as_ref();
                        let rel = key.strip_prefix(&base)?.trim_start_matches('/');
                        (rel.ends_with(suffix) && !rel.is_empty()).then(|| Listed {
                            rel: rel.to_string(),
                            size: m.size,
                            modified_ns: m.last_modified.timestamp_nanos_opt().unwrap_or(0),
                        })
                    })
                    .collect())
            }
        }))?
    }

    pub(crate) fn get_all(url: &str, opts: &StoreOptions) -> Result<bytes::Bytes> {
        let (store, path) = store_for(url, opts)?;
        block_on(retrying(opts, url, "get", None, || {
            let (store, path) = (store.clone(), path.clone());
            async move {
                let got = store.get(&path).await.map_err(|e| Failure::of(&e))?;
                let size = got.meta.size;
                let b = got.bytes().await.map_err(|e| Failure::of(&e))?;
                if b.len() as u64 != size {
                    return Err(Failure::short(b.len(), size));
                }
                Ok(b)
            }
        }))?
    }

    pub(crate) fn put(url: &str, data: bytes::Bytes, opts: &StoreOptions) -> Result<()> {
        let (store, path) = store_for(url, opts)?;
        block_on(retrying(opts, url, "put", None, || {
            let (store, path, data) = (store.clone(), path.clone(), data.clone());
            async move {
                store
                    .put(&path, PutPayload::from_bytes(data))
                    .await
                    .map_err(|e| Failure::of(&e))?;
                Ok(())
            }
        }))?
    }

    /// The object's size (a HEAD request).
    pub(crate) fn size(url: &str, opts: &StoreOptions) -> Result<u64> {
        let (store, path) = store_for(url, opts)?;
        block_on(retrying(opts, url, "head", None, || {
            let (store, path) = (store.clone(), path.clone());
            async move {
                let meta = store.head(&path).await.map_err(|e| Failure::of(&e))?;
                Ok(meta.size)
            }
        }))?
    }

    /// Removes the object (a copy that failed its verification).
    pub(crate) fn delete(url: &str, opts: &StoreOptions) -> Result<()> {
        let (store, path) = store_for(url, opts)?;
        block_on(retrying(opts, url, "delete", None, || {
            let (store, path) = (store.clone(), path.clone());
            async move {
                store.delete(&path).await.map_err(|e| Failure::of(&e))?;
                Ok(())
            }
        }))?
    }

    /// Uploads the `len` bytes of `src` as the object at `url`, `group` parts of
    /// [`PART_BYTES`] read and in flight at a time, and returns their CRC32C. A file of one
    /// part is one PUT. A larger one is a multipart upload, visible only once complete; a
    /// failed part aborts it and the upload starts again (a store numbers parts as they are
    /// sent, so one part cannot be sent again alone), up to the attempts of `opts`.
    pub(crate) fn put_streamed(
        url: &str,
        len: u64,
        src: &dyn RangeSource,
        group: usize,
        opts: &StoreOptions,
    ) -> Result<u32> {
        let parts = parts(len);
        if parts.len() <= 1 {
            let data = read_exact(src, &parts)?.pop().unwrap_or_default();
            let crc = crc32c::crc32c(&data);
            put(url, data, opts)?;
            return Ok(crc);
        }
        let (store, path) = store_for(url, opts)?;
        let mut backoff = opts.initial_backoff;
        let mut tries = 0u32;
        loop {
            tries += 1;
            let mut upload = block_on(retrying(opts, url, "put", None, || {
                let (store, path) = (store.clone(), path.clone());
                async move {
                    store
                        .put_multipart(&path)
                        .await
                        .map_err(|e| Failure::of(&e))
                }
            }))??;
            let mut crc = 0u32;
            let mut failed = None;
            for batch in parts.chunks(group.max(1)) {
                let bodies = match read_exact(src, batch) {
                    Ok(b) => b,
                    Err(e) => {
                        let _ = block_on(upload.abort());
                        return Err(e);
                    }
                };
                let sent: Vec<_> = bodies
                    .into_iter()
                    .map(|b| {
                        crc = crc32c::crc32c_append(crc, &b);
                        upload.put_part(PutPayload::from_bytes(b))
                    })
                    .collect();
                if let Err(e) = block_on(futures::future::try_join_all(sent))? {
                    failed = Some((Failure::of(&e), batch[0].start));
                    break;
                }
            }
            let failure = match failed {
                None => match block_on(upload.complete())? {
                    Ok(_) => return Ok(crc),
                    Err(e) => (Failure::of(&e), 0),
                },
                Some(f) => {
                    let _ = block_on(upload.abort());
                    f
                }
            };
            let (failure, at) = failure;
            if !failure.transient() || tries >= opts.max_attempts {
                return Err(failure.into_error(url, "put", Some((at, len)), tries));
            }
            std::thread::sleep(jitter(backoff));
            backoff = (backoff * 2).min(opts.max_backoff);
        }
    }
}
