//! How to reach a store: its settings (as `storage_options` in lance, deltalake and polars) and
//! how hard to try.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default requests in flight for one read (a sample's chunks, a copy's parts).
pub const DEFAULT_MAX_IN_FLIGHT: usize = 8;
/// Default attempts of one request, the first included: 5xx, 429, timeouts, connection resets
/// and short bodies are retried.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 6;
/// First back-off; each retry doubles it, up to [`DEFAULT_MAX_BACKOFF`], and sleeps a random
/// part of it ("full jitter"), so that many workers do not retry in step.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// Largest back-off.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A request that has not completed after this is cut off and retried.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Settings of object stores: [`StoreOptions::default`] reads everything from the environment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoreOptions {
    pub(crate) options: Vec<(String, String)>,
    pub(crate) max_in_flight: usize,
    pub(crate) max_attempts: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) timeout: Duration,
    pub(crate) cache: Option<(PathBuf, u64)>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            options: Vec::new(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            timeout: DEFAULT_TIMEOUT,
            cache: None,
        }
    }
}

impl StoreOptions {
    /// One store setting, as object_store names them (`aws_endpoint`, `aws_region`,
    /// `aws_access_key_id`, `allow_http`, `google_service_account`, `azure_storage_account_name`,
    /// ...). They override the environment (`AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`, ...).
    pub fn with_option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options
            .push((key.into().to_ascii_lowercase(), value.into()));
        self
    }

    /// Several settings (see [`StoreOptions::with_option`]).
    pub fn with_options<K: Into<String>, V: Into<String>>(
        mut self,
        options: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        for (k, v) in options {
            self = self.with_option(k, v);
        }
        self
    }

    /// Requests in flight at once for one read (default [`DEFAULT_MAX_IN_FLIGHT`]).
    pub fn with_max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// Attempts of one request, the first included (default [`DEFAULT_MAX_ATTEMPTS`]), and
    /// the first and largest back-off between them.
    pub fn with_retries(mut self, attempts: u32, initial: Duration, max: Duration) -> Self {
        self.max_attempts = attempts.max(1);
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Time after which a request is cut off and retried (default [`DEFAULT_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Keeps the bytes fetched from stores under `dir`, at most about `max_bytes` (least
    /// recently used dropped first), so that later epochs read them from local disk; several
    /// processes may share the directory.
    pub fn with_cache_dir(mut self, dir: impl AsRef<Path>, max_bytes: u64) -> Self {
        self.cache = Some((dir.as_ref().to_path_buf(), max_bytes));
        self
    }

    /// See [`StoreOptions::with_cache_dir`].
    pub fn cache_dir(&self) -> Option<(&Path, u64)> {
        self.cache.as_ref().map(|(d, n)| (d.as_path(), *n))
    }

    /// The store settings given.
    pub fn options(&self) -> &[(String, String)] {
        &self.options
    }
}
