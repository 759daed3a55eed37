//! Object stores through the `object_store` crate: one client per store and process, requests
//! retried with exponential back-off and jitter, and every failure an [`Error::Remote`] naming
//! the URL, the byte range, the HTTP status and the attempts.

use std::collections::HashMap;
use std::future::Future;
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, ObjectStoreScheme};
use rmf_core::{Error, RangeSource, Result, Tail};

use crate::options::StoreOptions;

/// The runtime that runs object_store's futures for this process. A process forked after it
/// was made (a DataLoader worker) gets its own: a runtime's threads do not survive a fork.
fn runtime() -> Result<Arc<tokio::runtime::Runtime>> {
    static RT: Mutex<Option<(u32, Arc<tokio::runtime::Runtime>)>> = Mutex::new(None);
    let mut g = RT.lock().unwrap_or_else(|p| p.into_inner());
    let pid = std::process::id();
    if let Some((p, rt)) = g.as_ref() {
        if *p == pid {
            return Ok(rt.clone());
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("rmf-store")
        .enable_all()
        .build()
        .map_err(|e| Error::io("object store runtime", "start", e))?;
    let rt = Arc::new(rt);
    if let Some((_, old)) = g.replace((pid, rt.clone())) {
        // The parent's runtime: its threads are gone in this process; never drop it here
        // (dropping would wait for them).
        std::mem::forget(old);
    }
    Ok(rt)
}

/// Runs `f` to completion from blocking code (also when called inside another runtime).
pub(crate) fn block_on<T: Send>(f: impl Future<Output = T> + Send) -> Result<T> {
    let rt = runtime()?;
    if tokio::runtime::Handle::try_current().is_ok() {
        return Ok(std::thread::scope(|s| {
            s.spawn(|| rt.block_on(f))
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        }));
    }
    Ok(rt.block_on(f))
}

/// The client of the store `url` is in, and the object's path in it. Clients are shared by
/// every object of a store (their connection pools with them), per process.
pub(crate) fn store_for(url: &str, opts: &StoreOptions) -> Result<(Arc<dyn ObjectStore>, ObjPath)> {
    type Clients = HashMap<(u32, String, StoreOptions), Arc<dyn ObjectStore>>;
    static CLIENTS: Mutex<Option<Clients>> = Mutex::new(None);
    let bad = |detail: String| Error::InvalidArgument(format!("{url}: {detail}"));
    // HTTPS uses rustls with ring; a provider installed earlier by the application stays.
    // (Deprecated for lacking post-quantum key exchange; the clouds' endpoints do not need it.)
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let parsed = url::Url::parse(url).map_err(|e| bad(format!("not a URL: {e}")))?;
    let (scheme, path) = ObjectStoreScheme::parse(&parsed)
        .map_err(|e| bad(format!("not an object store URL: {e}")))?;
    let root = format!(
        "{}://{}",
        parsed.scheme(),
        &parsed[url::Position::BeforeUsername..url::Position::AfterPort]
    );
    let key = (std::process::id(), root.clone(), opts.clone());
    let mut g = CLIENTS.lock().unwrap_or_else(|p| p.into_inner());
    let clients = g.get_or_insert_with(HashMap::new);
    if let Some(s) = clients.get(&key) {
        return Ok((s.clone(), path));
    }
    let store = build(scheme, &root, opts).map_err(|e| bad(e.to_string()))?;
    clients.insert(key, store.clone());
    Ok((store, path))
}

/// A client for the store at `root`: the cloud's environment variables, then the options given.
/// object_store's own retries are off: ours ([`retrying`]) count attempts and see statuses.
fn build(
    scheme: ObjectStoreScheme,
    root: &str,
    opts: &StoreOptions,
) -> std::result::Result<Arc<dyn ObjectStore>, object_store::Error> {
    use object_store::{ClientConfigKey, RetryConfig};
    let no_retry = RetryConfig {
        max_retries: 0,
        ..RetryConfig::default()
    };
    let timeout = format!("{}ms", opts.timeout.as_millis());
    macro_rules! configured {
        ($builder:expr) => {{
            let mut b = $builder
                .with_url(root)
                .with_retry(no_retry)
                .with_config("timeout".parse()?, timeout.as_str());
            for (k, v) in &opts.options {
                b = b.with_config(k.parse()?, v.as_str());
            }
            Arc::new(b.build()?) as Arc<dyn ObjectStore>
        }};
    }
    Ok(match scheme {
        ObjectStoreScheme::AmazonS3 => configured!(object_store::aws::AmazonS3Builder::from_env()),
        ObjectStoreScheme::GoogleCloudStorage => {
            configured!(object_store::gcp::GoogleCloudStorageBuilder::from_env())
        }
        ObjectStoreScheme::MicrosoftAzure => {
            configured!(object_store::azure::MicrosoftAzureBuilder::from_env())
        }
        ObjectStoreScheme::Http => {
            let mut b = object_store::http::HttpBuilder::new()
                .with_url(root)
                .with_retry(no_retry)
                .with_config(ClientConfigKey::Timeout, timeout.as_str());
            for (k, v) in &opts.options {
                b = b.with_config(k.parse()?, v.as_str());
            }
            Arc::new(b.build()?)
        }
        other => {
            return Err(object_store::Error::NotSupported {
                source: format!("{other:?} URLs are read as local paths").into(),
            })
        }
    })
}

/// Why one attempt failed.
pub(crate) struct Failure {
    status: Option<u16>,
    detail: String,
    transient: bool,
}

impl Failure {
    pub(crate) fn of(e: &object_store::Error) -> Failure {
        use object_store::Error as E;
        let (status, transient) = match e {
            E::NotFound { .. } => (Some(404), false),
            E::PermissionDenied { .. } => (Some(403), false),
            E::Unauthenticated { .. } => (Some(401), false),
            E::Precondition { .. } => (Some(412), false),
            E::AlreadyExists { .. } => (Some(409), false),
            E::NotModified { .. } => (Some(304), false),
            E::Generic { .. } => {
                let status = status_in(&e.to_string());
                // No status: a timeout, a reset connection, a body cut short.
                (
                    status,
                    status.is_none_or(|s| s >= 500 || s == 429 || s == 408),
                )
            }
            _ => (None, false),
        };
        Failure {
            status,
            detail: brief(&e.to_string()),
            transient,
        }
    }

    pub(crate) fn short(got: usize, want: u64) -> Failure {
        Failure {
            status: None,
            detail: format!("the body ended after {got} of {want} bytes"),
            transient: true,
        }
    }

    /// Whether another attempt may succeed.
    pub(crate) fn transient(&self) -> bool {
        self.transient
    }

    /// The error after `attempts` tries of `op` on `url`.
    pub(crate) fn into_error(
        self,
        url: &str,
        op: &'static str,
        range: Option<(u64, u64)>,
        attempts: u32,
    ) -> Error {
        Error::Remote {
            url: url.to_string(),
            op,
            range,
            status: self.status,
            attempts,
            detail: self.detail,
        }
    }

    fn timeout(after: Duration) -> Failure {
        Failure {
            status: None,
            detail: format!("no answer within {after:?}"),
            transient: true,
        }
    }
}

/// An error message without the XML error document some stores append (its code is kept).
fn brief(message: &str) -> String {
    match message.find("<?xml") {
        Some(at) => {
            let code = message
                .split("<Code>")
                .nth(1)
                .and_then(|c| c.split("</Code>").next())
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            format!("{}{code}", message[..at].trim_end_matches([':', ' ']))
        }
        None => message.to_string(),
    }
}

/// The HTTP status in an object_store error message ("... status code: 503 ...").
fn status_in(message: &str) -> Option<u16> {
    let at = message.find("status code: ")? + "status code: ".len();
    message.get(at..at + 3)?.parse().ok()
}

/// Runs `attempt` until it succeeds, fails for good, or has been tried `max_attempts` times;
/// between tries sleeps a random part of an exponentially growing back-off.
pub(crate) async fn retrying<T, F, Fut>(
    opts: &StoreOptions,
    url: &str,
    op: &'static str,
    range: Option<(u64, u64)>,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::result::Result<T, Failure>>,
{
    let mut backoff = opts.initial_backoff;
    let mut tries = 0u32;
    loop {
        tries += 1;
        let failure = match tokio::time::timeout(opts.timeout, attempt()).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(f)) => f,
            Err(_) => Failure::timeout(opts.timeout),
        };
        if !failure.transient || tries >= opts.max_attempts {
            return Err(failure.into_error(url, op, range, tries));
        }
        tokio::time::sleep(jitter(backoff)).await;
        backoff = (backoff * 2).min(opts.max_backoff);
    }
}

/// A uniformly random duration in `[0, d]` ("full jitter").
pub(crate) fn jitter(d: Duration) -> Duration {
    let mut b = [0u8; 8];
    let r = getrandom::fill(&mut b).map_or(u64::MAX / 2, |_| u64::from_le_bytes(b));
    d.mul_f64(r as f64 / u64::MAX as f64)
}

/// One object, read by range requests: the [`RangeSource`] of remote episodes.
pub struct ObjectSource {
    url: String,
    store: Arc<dyn ObjectStore>,
    path: ObjPath,
    /// The object's size, when an index already knows it.
    size: Option<u64>,
    opts: StoreOptions,
}

impl std::fmt::Debug for ObjectSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectSource")
            .field("url", &self.url)
            .finish()
    }
}

impl ObjectSource {
    /// The object at `url`; `size` when known (saves nothing today, checked against what the
    /// store says).
    pub fn new(url: &str, size: Option<u64>, opts: &StoreOptions) -> Result<Self> {
        let (store, path) = store_for(url, opts)?;
        Ok(ObjectSource {
            url: url.to_string(),
            store,
            path,
            size,
            opts: opts.clone(),
        })
    }

    async fn get(&self, r: Range<u64>) -> Result<bytes::Bytes> {
        let want = r.end - r.start;
        retrying(
            &self.opts,
            &self.url,
            "get",
            Some((r.start, r.end)),
            || async {
                let b = self
                    .store
                    .get_range(&self.path, r.clone())
                    .await
                    .map_err(|e| Failure::of(&e))?;
                if b.len() as u64 != want {
                    return Err(Failure::short(b.len(), want));
                }
                Ok(b)
            },
        )
        .await
    }
}

impl RangeSource for ObjectSource {
    fn name(&self) -> &str {
        &self.url
    }

    fn read_tail(&self, n: u64) -> Result<Tail> {
        block_on(async {
            retrying(&self.opts, &self.url, "get", None, || async {
                let o = GetOptions {
                    range: Some(GetRange::Suffix(n)),
                    ..GetOptions::default()
                };
                let got = self
                    .store
                    .get_opts(&self.path, o)
                    .await
                    .map_err(|e| Failure::of(&e))?;
                let (size, range) = (got.meta.size, got.range.clone());
                let bytes = got.bytes().await.map_err(|e| Failure::of(&e))?;
                let want = n.min(size);
                if bytes.len() as u64 != want || range.end != size {
                    return Err(Failure::short(bytes.len(), want));
                }
                Ok(Tail {
                    file_len: size,
                    bytes,
                })
            })
            .await
        })?
        .and_then(|t| match self.size {
            Some(s) if s != t.file_len => Err(Error::Remote {
                url: self.url.clone(),
                op: "get",
                range: None,
                status: None,
                attempts: 1,
                detail: format!(
                    "the object is {} bytes, the dataset index says {s}: it changed since it was indexed",
                    t.file_len
                ),
            }),
            _ => Ok(t),
        })
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<bytes::Bytes>> {
        block_on(async {
            futures::stream::iter(ranges.iter().cloned())
                .map(|r| self.get(r))
                .buffered(self.opts.max_in_flight)
                .try_collect()
                .await
        })?
    }
}
