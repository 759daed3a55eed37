//! The one error type of rmf-core.
//!
//! Every variant that comes from file bytes names the file and the byte offset, so that a user
//! (or `rmf validate`) can point at the damage; every variant that comes from a caller names the
//! stream and what was expected.

use std::path::PathBuf;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong reading or writing an RMF episode.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused an operation on a file.
    #[error("{}: {op}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done ("open", "write chunk", ...).
        op: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },

    /// The first bytes are not the RMF magic: this is some other kind of file.
    #[error("{file}: not an RMF file (first bytes {found:02x?}, expected {expected:02x?})")]
    NotRmf {
        /// The file.
        file: String,
        /// The bytes found at offset 0 (up to 8).
        found: Vec<u8>,
        /// The RMF magic.
        expected: [u8; 8],
    },

    /// An RMF file of a major version this library cannot read.
    #[error("{file}: RMF major version {found} is not supported (this reader knows version {supported})")]
    UnsupportedVersion {
        /// The file.
        file: String,
        /// The major version in the file header.
        found: u16,
        /// The major version this library reads and writes.
        supported: u16,
    },

    /// Fewer bytes than a structure needs.
    #[error(
        "{file}: truncated {what} at byte {offset}: needs {needed} bytes, {available} available"
    )]
    Truncated {
        /// The file.
        file: String,
        /// What was being read.
        what: &'static str,
        /// Where it starts.
        offset: u64,
        /// Bytes it needs.
        needed: u64,
        /// Bytes the file has from `offset` on.
        available: u64,
    },

    /// A stored CRC32C does not match the bytes it covers.
    #[error("{file}: checksum mismatch in {what} at byte {offset}: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// The file.
        file: String,
        /// What the checksum covers.
        what: &'static str,
        /// Where the covered bytes start.
        offset: u64,
        /// The stored checksum.
        stored: u32,
        /// The checksum of the bytes as they are.
        computed: u32,
    },

    /// Bytes that pass their checksum but break a rule of the format.
    #[error("{file}: malformed {what} at byte {offset}: {detail}")]
    Malformed {
        /// The file.
        file: String,
        /// The structure ("chunk", "footer", "stream record", ...).
        what: &'static str,
        /// Where the structure starts.
        offset: u64,
        /// What rule is broken, with expected and found values.
        detail: String,
    },

    /// A decoded chunk would exceed the reader's memory limit.
    #[error("{file}: chunk at byte {offset} claims {claimed} decoded bytes, over the reader's limit of {limit} (ReadOptions::max_chunk_bytes)")]
    TooLarge {
        /// The file.
        file: String,
        /// Where the chunk body starts (record offset + 16).
        offset: u64,
        /// Decoded bytes the chunk claims.
        claimed: u64,
        /// The configured limit.
        limit: u64,
    },

    /// No stream by that name (or id) in the episode.
    #[error("no stream named {name:?} in this episode (streams: {known})")]
    UnknownStream {
        /// The name asked for.
        name: String,
        /// The names the episode has, comma separated.
        known: String,
    },

    /// A stream of that name was declared already.
    #[error("stream {name:?} is declared twice")]
    DuplicateStream {
        /// The name.
        name: String,
    },

    /// A sample's timestamp is earlier than the stream's previous one.
    #[error("stream {stream:?}: time went backwards: {got} ns after {previous} ns (timestamps within a stream must not decrease)")]
    TimeWentBackwards {
        /// The stream.
        stream: String,
        /// The previous sample's time.
        previous: i64,
        /// The offending time.
        got: i64,
    },

    /// A write or read asked a stream for something its kind or declaration does not allow.
    #[error("stream {stream:?}: {detail}")]
    Mismatch {
        /// The stream.
        stream: String,
        /// What was expected and what was given.
        detail: String,
    },

    /// An argument that is wrong whatever the file says (a bad stream name, a zero rate, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// A compressor refused the data (should not happen; reported rather than hidden).
    #[error("encoding a chunk failed: {0}")]
    Encode(String),

    /// The writer hit an error before and refuses to write more (what it wrote so far is
    /// recoverable).
    #[error("{}: the writer failed earlier ({reason}); no more writes are accepted", path.display())]
    WriterFailed {
        /// The file.
        path: PathBuf,
        /// The first error.
        reason: String,
    },

    /// The writer was finished already.
    #[error("{}: the episode is finished; no more writes are accepted", path.display())]
    WriterFinished {
        /// The file.
        path: PathBuf,
    },

    /// No sample of a stream lies within the tolerance of a reference time.
    #[error("{file}: stream {stream:?}: {}", no_sample(policy, *t, *tolerance_ns, *nearest))]
    NoSampleNear {
        /// The episode file.
        file: String,
        /// The stream.
        stream: String,
        /// The alignment asked for: `"asof"`, `"nearest"` or `"linear"`.
        policy: &'static str,
        /// The reference time.
        t: i64,
        /// The tolerance used.
        tolerance_ns: i64,
        /// The time of the nearest sample, if the stream has any.
        nearest: Option<i64>,
    },

    /// A frame stream's encoder queue is full and the writer was told not to wait
    /// ([`crate::QueueFull::Error`]): the frame was not written.
    #[error("stream {stream:?}: the encoder is behind, {queued} frames are queued (the queue is full); this frame was not written")]
    EncoderBehind {
        /// The stream.
        stream: String,
        /// Frames waiting (the queue's capacity).
        queued: usize,
    },

    /// A stream is encrypted and the reader was opened without a key.
    #[error("{file}: stream {stream:?} is encrypted; open the file with its key (Python: key= or passphrase=; rmf: --key-file, or RMF_KEY / RMF_KEY_FILE / RMF_PASSPHRASE)")]
    Encrypted {
        /// The file.
        file: String,
        /// The stream.
        stream: String,
    },

    /// The key or passphrase given does not open the file's data key.
    #[error("{file}: wrong key: the file needs {needed}; {detail}")]
    WrongKey {
        /// The file.
        file: String,
        /// Which key the file needs (a key id, or "a passphrase").
        needed: String,
        /// What was given.
        detail: String,
    },

    /// Sealed bytes fail authentication: they were changed after they were written (or belong
    /// to another stream or file).
    #[error("{file}: stream {stream:?}: the sealed {what} at byte {offset} fails authentication (changed since it was written, or not this stream's)")]
    Authentication {
        /// The file.
        file: String,
        /// The stream.
        stream: String,
        /// `"chunk"` or `"chunk statistics"`.
        what: &'static str,
        /// Where the sealed bytes start.
        offset: u64,
    },

    /// This build of the library was compiled without a feature the operation needs (a frame
    /// codec, encryption).
    #[error("{what}: this build has no {feature} (rmf-core feature `{feature}`; the rmf command and the Python wheel have every feature)")]
    FeatureMissing {
        /// The feature's name.
        feature: &'static str,
        /// What needed it.
        what: String,
    },

    /// A read would decode more than its budget (the sum of the decoded sizes its chunks
    /// claim): refused before anything is decoded.
    #[error("reading stream {stream:?} would decode {claimed} bytes, over this read's budget of {budget} bytes (by default half the memory this process can still use; raise it with max_bytes / ReadOptions::with_max_read_bytes, or read a shorter time range or one chunk at a time)")]
    OverBudget {
        /// The stream.
        stream: String,
        /// Decoded bytes the chunks of the read claim.
        claimed: u64,
        /// The budget.
        budget: u64,
    },

    /// Memory for a size that came from a file could not be had: the operating system (or an
    /// address-space limit) refused it. Nothing was lost; the read failed.
    #[error("cannot allocate {bytes} bytes for {what}: out of memory")]
    OutOfMemory {
        /// What the memory was for.
        what: String,
        /// How much was asked for.
        bytes: u64,
    },

    /// A request to an object store failed, after retries when the failure was transient
    /// (timeouts, 5xx, 429, resets, short bodies).
    #[error("{url}: {op}{} failed{} after {attempts} attempt{}: {detail}",
        range.map(|(a, b)| format!(" of bytes {a}..{b}")).unwrap_or_default(),
        status.map(|s| format!(" with HTTP {s}")).unwrap_or_default(),
        if *attempts == 1 { "" } else { "s" })]
    Remote {
        /// The object's URL.
        url: String,
        /// What was asked: `get`, `put`, `list`, `head`, `delete`.
        op: &'static str,
        /// The byte range asked for, if a range.
        range: Option<(u64, u64)>,
        /// The last HTTP status, if the server answered.
        status: Option<u16>,
        /// Requests made, retries included.
        attempts: u32,
        /// What the store said.
        detail: String,
    },
}

impl From<rmf_codecs::InvalidName> for Error {
    fn from(e: rmf_codecs::InvalidName) -> Self {
        Error::InvalidArgument(e.0)
    }
}

/// The message of [`Error::NoSampleNear`]: what was missing, and what would accept it. An
/// as-of sample at an episode's start (the first camera frame before the first joint sample)
/// is the common case: its nearest sample comes after `t`, where as-of never looks.
fn no_sample(policy: &str, t: i64, tolerance_ns: i64, nearest: Option<i64>) -> String {
    let Some(n) = nearest else {
        return format!("no sample for {policy} at t = {t} ns: the stream is empty");
    };
    let away = (n as i128 - t as i128).abs();
    if n > t && policy == "asof" {
        format!(
            "no sample at or before t = {t} ns within {tolerance_ns} ns ({policy} looks back; the \
             first sample after it is at {n} ns, {away} ns later). `pad=True` (Missing::Pad) \
             pads such samples with a mask; `nearest()` takes the later sample"
        )
    } else {
        format!(
            "no sample within {tolerance_ns} ns of t = {t} ns for {policy} (nearest: {n} ns, \
             {away} ns away). A larger tolerance accepts it; `pad=True` (Missing::Pad) pads \
             such samples with a mask"
        )
    }
}

impl Error {
    /// An operating-system error on `path` while doing `op`.
    pub fn io(path: impl Into<PathBuf>, op: &'static str, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            op,
            source,
        }
    }

    /// The byte offset in the file that the error points at, when it comes from file bytes.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Error::Truncated { offset, .. }
            | Error::Checksum { offset, .. }
            | Error::Malformed { offset, .. }
            | Error::TooLarge { offset, .. }
            | Error::Authentication { offset, .. } => Some(*offset),
            Error::NotRmf { .. } | Error::UnsupportedVersion { .. } => Some(0),
            _ => None,
        }
    }

    /// True when the error says the file's bytes are damaged or not RMF (as opposed to a
    /// caller's mistake or an operating-system error).
    pub fn is_data_error(&self) -> bool {
        matches!(
            self,
            Error::NotRmf { .. }
                | Error::UnsupportedVersion { .. }
                | Error::Truncated { .. }
                | Error::Checksum { .. }
                | Error::Malformed { .. }
                | Error::TooLarge { .. }
                | Error::Authentication { .. }
        )
    }
}
