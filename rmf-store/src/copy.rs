//! Whole objects: listing a dataset, reading its index, publishing files, copying episodes and
//! datasets between local disk and stores. Every new file or object appears complete or not at
//! all.

use std::path::Path;

use rmf_core::{Error, Result};

use crate::location::Location;
use crate::options::StoreOptions;

/// Objects larger than this are uploaded in parts of this size (S3's parts are 5 MiB at least).
pub const PART_BYTES: usize = 8 << 20;

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
        Location::Remote(u) => remote::put(u, data, opts),
        #[cfg(not(feature = "cloud"))]
        Location::Remote(_) => {
            let _ = (data, opts);
            Err(loc.no_cloud())
        }
    }
}

/// What [`copy`] copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Each file: where from, where to, and its size.
    pub files: Vec<(String, String, u64)>,
}

impl CopyReport {
    /// Bytes copied.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.2).sum()
    }
}

/// Copies a file, or a directory (a local directory, or a URL ending in `/`) with everything
/// under it, from `src` to `dst`, between local disk and stores in any direction. A file copied
/// into a directory (`dst` ending in `/`, or an existing local directory) keeps its name.
///
/// Each copy is verified before the next starts: its size, and its bytes' CRC32C read back
/// (a whole local file, or the last 64 KiB of an object, which hold an episode's footer and
/// trailer; the store checked the upload's own checksums). A failed copy leaves nothing under
/// the destination name.
pub fn copy(src: &Location, dst: &Location, opts: &StoreOptions) -> Result<CopyReport> {
    let is_dir = match src {
        Location::Local(p) => p.is_dir(),
        Location::Remote(u) => u.ends_with('/'),
    };
    let mut report = CopyReport::default();
    if is_dir {
        for f in list(src, "", opts)? {
            let (from, to) = (src.join(&f.rel), dst.join(&f.rel));
            report.files.push(copy_file(&from, &to, opts)?);
        }
        return Ok(report);
    }
    let into_dir = match dst {
        Location::Local(p) => p.is_dir() || p.to_string_lossy().ends_with('/'),
        Location::Remote(u) => u.ends_with('/'),
    };
    let to = if into_dir {
        dst.join(&src.file_name())
    } else {
        dst.clone()
    };
    report.files.push(copy_file(src, &to, opts)?);
    Ok(report)
}

fn copy_file(src: &Location, dst: &Location, opts: &StoreOptions) -> Result<(String, String, u64)> {
    let data = read_all(src, opts)?;
    let n = data.len() as u64;
    write_all(dst, data.clone(), opts)?;
    verify(dst, &data, opts)?;
    Ok((src.to_string(), dst.to_string(), n))
}

/// The copy at `dst` against the `data` written (see [`copy`]).
fn verify(dst: &Location, data: &[u8], opts: &StoreOptions) -> Result<()> {
    let (len, got, tail): (u64, bytes::Bytes, &[u8]) = match dst {
        Location::Local(_) => (data.len() as u64, read_all(dst, opts)?, data),
        Location::Remote(_) => {
            let src = crate::source(dst, None, opts)?;
            let t = src.read_tail(64 << 10)?;
            let from = data.len().saturating_sub(t.bytes.len());
            (t.file_len, t.bytes, &data[from..])
        }
    };
    if len != data.len() as u64 || crc32c::crc32c(&got) != crc32c::crc32c(tail) {
        return Err(Error::Remote {
            url: dst.to_string(),
            op: "verify",
            range: None,
            status: None,
            attempts: 1,
            detail: format!(
                "the copy is {len} bytes and its bytes read back differ from the {} written",
                data.len()
            ),
        });
    }
    Ok(())
}

#[cfg(feature = "cloud")]
mod remote {
    use futures::TryStreamExt;
    use object_store::{ObjectStoreExt, PutPayload, WriteMultipart};

    use super::*;
    use crate::cloud::{block_on, retrying, store_for, Failure};

    pub(super) fn list(url: &str, suffix: &str, opts: &StoreOptions) -> Result<Vec<Listed>> {
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

    pub(super) fn get_all(url: &str, opts: &StoreOptions) -> Result<bytes::Bytes> {
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

    pub(super) fn put(url: &str, data: bytes::Bytes, opts: &StoreOptions) -> Result<()> {
        let (store, path) = store_for(url, opts)?;
        block_on(retrying(opts, url, "put", None, || {
            let (store, path, data) = (store.clone(), path.clone(), data.clone());
            async move {
                if data.len() <= PART_BYTES {
                    store
                        .put(&path, PutPayload::from_bytes(data))
                        .await
                        .map_err(|e| Failure::of(&e))?;
                    return Ok(());
                }
                let upload = store
                    .put_multipart(&path)
                    .await
                    .map_err(|e| Failure::of(&e))?;
                let mut w = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
                for part in data.chunks(PART_BYTES) {
                    if let Err(e) = w.wait_for_capacity(4).await {
                        let _ = w.abort().await;
                        return Err(Failure::of(&e));
                    }
                    w.write(part);
                }
                w.finish().await.map_err(|e| Failure::of(&e))?;
                Ok(())
            }
        }))?
    }
}
