//! Sharing: a derived dataset holding only what may leave, each episode carrying a provenance
//! record (source id, content hashes, what was dropped and why) that `verify_provenance`
//! checks against the source (spec/encryption.md, "Provenance").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::index::{find_episodes, relative};
use rmf_core::chunk::{BUFFER_ENTRY_LEN, CHUNK_HEADER_LEN};
use rmf_core::edit::{rewrite, StreamPlan};
use rmf_core::format::{read_record, Bytes, RecordKind};
use rmf_core::EpisodeReader;
use rmf_core::Progress;
use rmf_core::WriteOptions;
use rmf_core::{Error, Result};
use rmf_core::{Sensitivity, WriterInfo};
use rmf_store::{Location, StoreOptions};

/// The key of the provenance record in a shared episode's `extra` metadata.
pub const PROVENANCE_KEY: &str = "provenance";
/// The key of an episode's tags (a JSON array of strings) in its `extra` metadata, e.g.
/// `["licence:CC-BY-4.0", "consent:operator-voice=no"]`.
pub use rmf_core::TAGS_KEY;

/// What may leave: built with [`ShareOptions::new`] and its `with_` setters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareOptions {
    max_label: Sensitivity,
    drop_streams: Vec<String>,
    require_tags: Vec<String>,
    progress: Option<Progress>,
}

impl ShareOptions {
    /// Keeps streams labelled up to `max_label` (`Public` or `Internal`; private streams never
    /// leave).
    pub fn new(max_label: Sensitivity) -> Self {
        ShareOptions {
            max_label,
            drop_streams: Vec::new(),
            require_tags: Vec::new(),
            progress: None,
        }
    }

    /// Leaves these streams out whatever their label.
    pub fn with_drop_streams<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Self {
        self.drop_streams = names.into_iter().map(Into::into).collect();
        self
    }

    /// Leaves out episodes lacking any of these tags (exact strings of `extra.tags`).
    pub fn with_require_tags<S: Into<String>>(mut self, tags: impl IntoIterator<Item = S>) -> Self {
        self.require_tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// Tells `progress` the bytes of input episodes done.
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// The highest label kept.
    pub fn max_label(&self) -> Sensitivity {
        self.max_label
    }

    /// Streams left out whatever their label.
    pub fn drop_streams(&self) -> &[String] {
        &self.drop_streams
    }

    /// Tags an episode must carry.
    pub fn require_tags(&self) -> &[String] {
        &self.require_tags
    }
}

/// Where a shared episode came from, as stored in its metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The source episode's id.
    pub source_id: String,
    /// The source's episode content hash (64 hex digits).
    pub source_content_hash: String,
    /// Stream content hash of every kept stream, by name.
    pub streams: BTreeMap<String, String>,
    /// Streams left out, and why.
    pub dropped: Vec<DroppedStream>,
    /// The label limit applied.
    pub max_label: Sensitivity,
    /// The tags the episode had to carry.
    pub required_tags: Vec<String>,
    /// The library that made the copy.
    pub tool: WriterInfo,
}

/// A stream left out of a shared episode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DroppedStream {
    /// Its name in the source.
    pub stream: String,
    /// Why.
    pub reason: String,
}

/// What `share` did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShareReport {
    /// Episodes written: source, output, provenance.
    pub shared: Vec<(PathBuf, PathBuf, Provenance)>,
    /// Episodes left out (file relative to the input directory, reason).
    pub left_out: Vec<(String, String)>,
}

/// Content hashes of an episode (spec/encryption.md): one per stream and one for the whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentHashes {
    /// Episode content hash, 64 hex digits.
    pub episode: String,
    /// Stream content hashes by name.
    pub streams: BTreeMap<String, String>,
}

/// Writes into `out_dir` a copy of every episode under `in_dir` that carries the required tags,
/// keeping only streams labelled at most `max_label` and not dropped by name. The directory
/// layout is kept; each copy gets a new id and a provenance record. Encrypted streams are
/// private, so they never leave; nothing needs a key.
pub fn share(in_dir: &Path, out_dir: &Path, opts: &ShareOptions) -> Result<ShareReport> {
    if opts.max_label == Sensitivity::Private {
        return Err(Error::InvalidArgument(
            "--max-label is public or internal: private data does not leave".into(),
        ));
    }
    let same = std::fs::canonicalize(in_dir).ok();
    if same.is_some() && same == std::fs::canonicalize(out_dir).ok() {
        return Err(Error::InvalidArgument(
            "the shared dataset needs its own directory".into(),
        ));
    }
    let mut files = Vec::new();
    find_episodes(in_dir, &mut files)?;
    files.sort();
    let sizes: Vec<u64> = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .collect();
    let total = sizes.iter().sum();
    let mut done = 0;
    let mut report = ShareReport::default();
    for (file, size) in files.into_iter().zip(sizes) {
        let rel = relative(in_dir, &file);
        let out = out_dir.join(&rel);
        let write = match &opts.progress {
            Some(p) => WriteOptions::default().with_progress(p.part(done, total)),
            None => WriteOptions::default(),
        };
        match share_episode(&file, &out, opts, write)? {
            Ok(p) => report.shared.push((file, out, p)),
            Err(reason) => report.left_out.push((rel, reason)),
        }
        done += size;
        if let Some(p) = &opts.progress {
            p.report(done, total);
        }
    }
    Ok(report)
}

/// Shares one episode; `Ok(Err(reason))` when it is left out.
fn share_episode(
    input: &Path,
    output: &Path,
    opts: &ShareOptions,
    write: WriteOptions,
) -> Result<std::result::Result<Provenance, String>> {
    let reader = match EpisodeReader::open(input) {
        Ok(r) => r,
        Err(e) => return Ok(Err(format!("unreadable: {e}"))),
    };
    if reader.recovery().is_some() {
        return Ok(Err("not finished (run `rmf recover` first)".into()));
    }
    let tags = reader.meta().tags();
    let missing: Vec<&String> = opts
        .require_tags
        .iter()
        .filter(|t| !tags.contains(t))
        .collect();
    if !missing.is_empty() {
        return Ok(Err(format!("lacks required tags {missing:?}")));
    }
    let hashes = content_hashes(&reader)?;
    let mut plan = Vec::new();
    let mut dropped = Vec::new();
    let mut kept = BTreeMap::new();
    for s in reader.streams() {
        let reason = if s.sensitivity > opts.max_label {
            Some(format!(
                "sensitivity {} is above the allowed {}",
                s.sensitivity.name(),
                opts.max_label.name()
            ))
        } else if s.encryption.is_some() {
            // Whatever its label now (a relabel keeps a stream sealed), an encrypted stream was
            // private when written; its key does not leave either.
            Some("encrypted".to_string())
        } else if opts.drop_streams.contains(&s.name) {
            Some("dropped by name".to_string())
        } else {
            None
        };
        match reason {
            Some(reason) => {
                dropped.push(DroppedStream {
                    stream: s.name.clone(),
                    reason,
                });
                plan.push(StreamPlan::Drop);
            }
            None => {
                kept.insert(s.name.clone(), hashes.streams[&s.name].clone());
                plan.push(StreamPlan::Copy(s.clone()));
            }
        }
    }
    let provenance = Provenance {
        source_id: reader.meta().id.to_string(),
        source_content_hash: hashes.episode,
        streams: kept,
        dropped,
        max_label: opts.max_label,
        required_tags: opts.require_tags.clone(),
        tool: WriterInfo::default(),
    };
    let record = serde_json::to_value(&provenance)
        .map_err(|e| Error::Encode(format!("provenance record: {e}")))?;
    let meta = reader
        .meta()
        .clone()
        .with_id(uuid::Uuid::new_v4())
        .with_extra(PROVENANCE_KEY, record);
    if let Some(dir) = output.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create directory", e))?;
    }
    rewrite(input, output, meta, &plan, write)?;
    Ok(Ok(provenance))
}

/// The content hashes of an open episode: every chunk record is read (through its checksums),
/// none is decoded or decrypted.
pub fn content_hashes(reader: &EpisodeReader) -> Result<ContentHashes> {
    let b = Bytes::new(reader.file_bytes()?, reader.file_name());
    let mut per_stream: Vec<Vec<usize>> = vec![Vec::new(); reader.streams().len()];
    for (i, c) in reader.chunks().iter().enumerate() {
        if let Some(s) = reader.stream_index_of_id(c.stream_id) {
            per_stream[s].push(i);
        }
    }
    let mut streams = BTreeMap::new();
    let mut episode = blake3::Hasher::new();
    for (s, list) in reader.streams().iter().zip(&mut per_stream) {
        list.sort_by_key(|&i| (reader.chunks()[i].t_min, reader.chunks()[i].offset));
        let mut h = blake3::Hasher::new();
        for &i in list.iter() {
            let offset = reader.chunks()[i].offset;
            let rec = read_record(&b, offset)?;
            h.update(&[rec.kind]);
            h.update(chunk_digest(rec.kind, rec.body).as_bytes());
        }
        let hash = h.finalize();
        episode.update(&(s.name.len() as u32).to_le_bytes());
        episode.update(s.name.as_bytes());
        episode.update(hash.as_bytes());
        streams.insert(s.name.clone(), hash.to_hex().to_string());
    }
    Ok(ContentHashes {
        episode: episode.finalize().to_hex().to_string(),
        streams,
    })
}

/// BLAKE3 of a chunk body with its stream id (and a plain chunk's directory checksum, which
/// covers the id) zeroed: the same for a chunk copied under another stream id.
fn chunk_digest(kind: u8, body: &[u8]) -> blake3::Hash {
    let mut h = blake3::Hasher::new();
    h.update(&[0u8; 4]);
    let rest = body.get(4..).unwrap_or(&[]);
    let dir_crc_at = (kind == RecordKind::Chunk as u8)
        .then(|| {
            let buffers = u16::from_le_bytes(body.get(4..6)?.try_into().ok()?) as usize;
            let stats = u32::from_le_bytes(body.get(8..12)?.try_into().ok()?) as usize;
            let at = CHUNK_HEADER_LEN + stats + buffers * BUFFER_ENTRY_LEN;
            (at + 4 <= body.len()).then_some(at)
        })
        .flatten();
    match dir_crc_at {
        Some(at) => {
            h.update(&rest[..at - 4]);
            h.update(&[0u8; 4]);
            h.update(&body[at + 4..]);
        }
        None => {
            h.update(rest);
        }
    }
    h.finalize()
}

/// The result of [`verify_provenance`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenanceCheck {
    /// The shared episode.
    pub shared: String,
    /// The source it was checked against.
    pub source: String,
    /// Kept streams whose hashes match the record and the source.
    pub verified_streams: Vec<String>,
    /// Everything that does not match.
    pub problems: Vec<String>,
}

impl ProvenanceCheck {
    /// True when every hash matches.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl std::fmt::Display for ProvenanceCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verdict = if self.is_ok() { "OK" } else { "MISMATCH" };
        writeln!(
            f,
            "{}: {verdict}: provenance against {} ({} streams verified)",
            self.shared,
            self.source,
            self.verified_streams.len()
        )?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

/// The provenance record of a shared episode.
pub fn provenance_of(reader: &EpisodeReader) -> Result<Provenance> {
    let v = reader.meta().extra.get(PROVENANCE_KEY).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{}: no provenance record (extra.{PROVENANCE_KEY}): not made by `rmf share`",
            reader.file_name()
        ))
    })?;
    serde_json::from_value(v.clone()).map_err(|e| Error::Malformed {
        file: reader.file_name().to_string(),
        what: "provenance record",
        offset: 0,
        detail: e.to_string(),
    })
}

/// Checks a shared episode against its source: the source is the one recorded (id and episode
/// content hash), and every stream of the shared episode is a kept stream whose chunks are
/// byte for byte the source's.
pub fn verify_provenance(shared: &Path, source: &Path) -> Result<ProvenanceCheck> {
    let s = EpisodeReader::open(shared)?;
    let src = EpisodeReader::open(source)?;
    let p = provenance_of(&s)?;
    let mut problems = Vec::new();
    if src.meta().id.to_string() != p.source_id {
        problems.push(format!(
            "the source's id is {}, the record names {}",
            src.meta().id,
            p.source_id
        ));
    }
    let src_hashes = content_hashes(&src)?;
    if src_hashes.episode != p.source_content_hash {
        problems.push(format!(
            "the source's content hash is {}, the record says {} (the source changed, or is another episode)",
            src_hashes.episode, p.source_content_hash
        ));
    }
    let shared_hashes = content_hashes(&s)?;
    let mut verified = Vec::new();
    for (name, hash) in &shared_hashes.streams {
        match (p.streams.get(name), src_hashes.streams.get(name)) {
            (None, _) => problems.push(format!(
                "stream {name:?} is in the shared episode but not in the provenance record"
            )),
            (Some(recorded), _) if recorded != hash => problems.push(format!(
                "stream {name:?}: its chunks hash to {hash}, the record says {recorded} (changed after sharing)"
            )),
            (Some(_), None) => problems.push(format!("stream {name:?} is not in the source")),
            (Some(_), Some(from_source)) if from_source != hash => problems.push(format!(
                "stream {name:?}: differs from the source's ({from_source})"
            )),
            _ => verified.push(name.clone()),
        }
    }
    for name in p.streams.keys() {
        if !shared_hashes.streams.contains_key(name) {
            problems.push(format!(
                "stream {name:?} is in the provenance record but missing from the shared episode"
            ));
        }
    }
    Ok(ProvenanceCheck {
        shared: shared.display().to_string(),
        source: source.display().to_string(),
        verified_streams: verified,
        problems,
    })
}

/// [`share`] between local directories and object-store prefixes (`rmf share s3://a/ gs://b/`).
/// A remote input is copied to a local staging directory first (sharing reads every chunk
/// anyway), and a remote output is published from one with [`rmf_store::copy`] once every
/// episode is written and verified, so a failed share leaves no partial episode in the store.
/// Paths in the report name the locations given.
pub fn share_at(
    input: &Location,
    output: &Location,
    opts: &ShareOptions,
    store: &StoreOptions,
) -> Result<ShareReport> {
    if let (Some(i), Some(o)) = (input.local(), output.local()) {
        return share(i, o, opts);
    }
    let staging = Staging::new()?;
    let in_dir = match input.local() {
        Some(p) => p.to_path_buf(),
        None => {
            let d = staging.0.join("in");
            rmf_store::copy(&dir_url(input), &Location::Local(d.clone()), store)?;
            d
        }
    };
    let out_dir = match output.local() {
        Some(p) => p.to_path_buf(),
        None => staging.0.join("out"),
    };
    let mut report = share(&in_dir, &out_dir, opts)?;
    if output.is_remote() {
        rmf_store::copy(&Location::Local(out_dir.clone()), &dir_url(output), store)?;
    }
    let rename = |p: &Path, dir: &Path, loc: &Location| -> PathBuf {
        match (loc, p.strip_prefix(dir)) {
            (Location::Remote(_), Ok(rel)) => {
                let rel: Vec<_> = rel.iter().map(|c| c.to_string_lossy()).collect();
                PathBuf::from(loc.join(&rel.join("/")).to_string())
            }
            _ => p.to_path_buf(),
        }
    };
    for (src, out, _) in &mut report.shared {
        *src = rename(src, &in_dir, input);
        *out = rename(out, &out_dir, output);
    }
    Ok(report)
}

/// A URL as a prefix (ending in `/`), so that copies take everything under it.
fn dir_url(loc: &Location) -> Location {
    match loc {
        Location::Remote(u) if !u.ends_with('/') => Location::Remote(format!("{u}/")),
        other => other.clone(),
    }
}

/// A temporary directory, removed when dropped.
struct Staging(PathBuf);

impl Staging {
    fn new() -> Result<Self> {
        let d = std::env::temp_dir().join(format!(
            "rmf-share-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&d).map_err(|e| Error::io(&d, "create directory", e))?;
        Ok(Staging(d))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
