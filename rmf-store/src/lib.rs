//! RMF episodes and datasets in object stores.
//!
//! Everything here takes a [`Location`]: a local path, or an `s3://`, `gs://`, `az://` or
//! `http(s)://` URL. Local files are memory-mapped as before; remote ones are read by range
//! requests through [`rmf_core::RangeSource`] (the tail when the episode opens, then the chunk
//! records a query needs), never downloaded whole unless something needs every byte.
//!
//! Credentials and endpoints come from each cloud's standard environment variables
//! (`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`, `GOOGLE_SERVICE_ACCOUNT`,
//! `AZURE_STORAGE_ACCOUNT_NAME`, ...) and from [`StoreOptions::with_option`], which overrides
//! them. Requests that fail for a passing reason (timeouts, 5xx, 429, resets, short bodies) are
//! retried with exponential back-off and jitter; then the error is [`rmf_core::Error::Remote`].
//!
//! Writing stays local (a recorder's crash safety does not depend on a network): [`copy`]
//! publishes finished files, and an object appears only once it is complete.

mod copy;
mod disk_cache;
mod location;
mod objects;
mod options;

#[cfg(feature = "cloud")]
mod cloud;

use std::sync::Arc;

use rmf_core::{EpisodeReader, MappedFile, RangeSource, ReadOptions, Result};

#[cfg(feature = "cloud")]
pub use cloud::ObjectSource;
pub use copy::{copy, CopyReport};
pub use disk_cache::CachedSource;
pub use location::{Location, SCHEMES};
pub use objects::{list, read_all, write_all, Listed, PART_BYTES};
pub use options::{
    StoreOptions, DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_BACKOFF,
    DEFAULT_MAX_IN_FLIGHT, DEFAULT_TIMEOUT,
};

/// The bytes of the file at `loc`: mapped when local, by range requests when remote (`size`,
/// when an index knows it, is checked against the store's).
pub fn source(
    loc: &Location,
    size: Option<u64>,
    opts: &StoreOptions,
) -> Result<Arc<dyn RangeSource>> {
    match loc {
        Location::Local(p) => Ok(Arc::new(MappedFile::open(p)?)),
        #[cfg(feature = "cloud")]
        Location::Remote(u) => {
            let remote: Arc<dyn RangeSource> = Arc::new(ObjectSource::new(u, size, opts)?);
            Ok(match &opts.cache {
                Some((dir, max)) => Arc::new(CachedSource::new(remote, dir, *max)),
                None => remote,
            })
        }
        #[cfg(not(feature = "cloud"))]
        Location::Remote(_) => {
            let _ = (size, opts);
            Err(loc.no_cloud())
        }
    }
}

/// Opens the episode at `loc` (see [`EpisodeReader::open_source`]).
pub fn open(loc: &Location, read: ReadOptions, store: &StoreOptions) -> Result<EpisodeReader> {
    EpisodeReader::open_source(source(loc, None, store)?, read)
}
