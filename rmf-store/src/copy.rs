//! Copying episodes and datasets between local disk and stores, in any direction: streamed in
//! parts (memory stays at a few parts whatever the file's size), published whole, and read
//! back and compared before the next file starts.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use rmf_core::{read_exact, Error, MappedFile, RangeSource, Result};

use crate::location::Location;
use crate::objects::{list, parts, PARTS_AT_ONCE, PART_BYTES};
use crate::options::StoreOptions;

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
/// Files are streamed in parts of [`PART_BYTES`], a few at a time. Each copy is verified
/// before the next starts: its size, and the CRC32C of all its bytes read back from the
/// destination against the CRC32C of the bytes read from the source (a copy to a store reads
/// the object back once more: the price of knowing). A copy that fails, or fails its
/// verification, leaves nothing under the destination name: a local file is written under a
/// temporary name and renamed once verified; an object appears when its upload completes and
/// is deleted if it then reads back differently.
pub fn copy(src: &Location, dst: &Location, opts: &StoreOptions) -> Result<CopyReport> {
    // Copies do not go through the chunk cache (each byte is read once).
    let opts = &StoreOptions {
        cache: None,
        ..opts.clone()
    };
    let is_dir = match src {
        Location::Local(p) => p.is_dir(),
        Location::Remote(u) => u.ends_with('/'),
    };
    let mut report = CopyReport::default();
    if is_dir {
        for f in list(src, "", opts)? {
            let (from, to) = (src.join(&f.rel), dst.join(&f.rel));
            report
                .files
                .push(copy_file(&from, Some(f.size), &to, opts)?);
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
    report.files.push(copy_file(src, None, &to, opts)?);
    Ok(report)
}

fn copy_file(
    src: &Location,
    size: Option<u64>,
    dst: &Location,
    opts: &StoreOptions,
) -> Result<(String, String, u64)> {
    let (source, len) = open_source(src, size, opts)?;
    match dst {
        Location::Local(p) => copy_to_file(&*source, len, p)?,
        #[cfg(feature = "cloud")]
        Location::Remote(u) => {
            let crc = crate::objects::remote::put_streamed(u, len, &*source, PARTS_AT_ONCE, opts)?;
            if let Err(e) = verify_object(u, len, crc, opts) {
                // Nothing may stay under the name; the verification error is the one to report.
                let _ = crate::objects::remote::delete(u, opts);
                return Err(e);
            }
        }
        #[cfg(not(feature = "cloud"))]
        Location::Remote(_) => return Err(dst.no_cloud()),
    }
    Ok((src.to_string(), dst.to_string(), len))
}

/// The file at `loc` as a range source, and its length.
fn open_source(
    loc: &Location,
    size: Option<u64>,
    opts: &StoreOptions,
) -> Result<(Arc<dyn RangeSource>, u64)> {
    match loc {
        Location::Local(p) => {
            let m = MappedFile::open(p)?;
            let len = m.as_slice().map_or(0, |s| s.len() as u64);
            Ok((Arc::new(m), len))
        }
        #[cfg(feature = "cloud")]
        Location::Remote(u) => {
            let len = match size {
                Some(n) => n,
                None => crate::objects::remote::size(u, opts)?,
            };
            Ok((crate::source(loc, Some(len), opts)?, len))
        }
        #[cfg(not(feature = "cloud"))]
        Location::Remote(_) => {
            let _ = (size, opts);
            Err(loc.no_cloud())
        }
    }
}

/// Writes the `len` bytes of `src` to the local file `dst` under a temporary name, syncs it,
/// reads it back and compares, then renames it into place.
fn copy_to_file(src: &dyn RangeSource, len: u64, dst: &Path) -> Result<()> {
    if let Some(dir) = dst.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create directory", e))?;
    }
    rmf_core::place::write_new_file(dst, true, |tmp| {
        let mut f = std::fs::File::create(tmp).map_err(|e| Error::io(tmp, "create", e))?;
        let mut crc = 0u32;
        for batch in parts(len).chunks(PARTS_AT_ONCE) {
            for b in read_exact(src, batch)? {
                crc = crc32c::crc32c_append(crc, &b);
                f.write_all(&b).map_err(|e| Error::io(tmp, "write", e))?;
            }
        }
        f.sync_all().map_err(|e| Error::io(tmp, "sync", e))?;
        drop(f);
        let (got_len, got) = file_crc(tmp)?;
        if (got_len, got) != (len, crc) {
            return Err(mismatch(&dst.display().to_string(), len, got_len));
        }
        Ok(())
    })
}

/// The length and CRC32C of a local file, read in parts.
fn file_crc(path: &Path) -> Result<(u64, u32)> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, "open", e))?;
    let mut buf = vec![0u8; PART_BYTES];
    let (mut n, mut crc) = (0u64, 0u32);
    loop {
        let got = f.read(&mut buf).map_err(|e| Error::io(path, "read", e))?;
        if got == 0 {
            return Ok((n, crc));
        }
        crc = crc32c::crc32c_append(crc, &buf[..got]);
        n += got as u64;
    }
}

/// The object at `url` read back whole, in parts, against the length and CRC32C sent.
#[cfg(feature = "cloud")]
fn verify_object(url: &str, len: u64, crc: u32, opts: &StoreOptions) -> Result<()> {
    let got_len = crate::objects::remote::size(url, opts)?;
    if got_len != len {
        return Err(mismatch(url, len, got_len));
    }
    let back = crate::source(&Location::Remote(url.to_string()), Some(len), opts)?;
    let mut got = 0u32;
    for batch in parts(len).chunks(PARTS_AT_ONCE) {
        for b in read_exact(&*back, batch)? {
            got = crc32c::crc32c_append(got, &b);
        }
    }
    if got != crc {
        return Err(mismatch(url, len, got_len));
    }
    Ok(())
}

fn mismatch(dst: &str, len: u64, got_len: u64) -> Error {
    Error::Remote {
        url: dst.to_string(),
        op: "verify",
        range: None,
        status: None,
        attempts: 1,
        detail: if got_len == len {
            format!("the {len} bytes read back differ from those written (CRC32C)")
        } else {
            format!("the copy is {got_len} bytes, {len} were written")
        },
    }
}
