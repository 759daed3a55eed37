//! Editing episodes, never in place: every edit writes a new file beside the output's name,
//! syncs it, and renames it into place, so a failed edit (a full disk, a kill) leaves the input
//! untouched and no half-written output. Streams are copied chunk for chunk (checksums checked,
//! bytes unchanged) unless the edit re-encodes them.
//!
//! Edits: [`drop_streams`], [`rename_stream`], [`relabel`], [`trim`], [`split`], [`merge`] and
//! [`redact`]; [`crate::edit::transcode`] and `rmf_dataset::share` use the same machinery
//! ([`rewrite`]).

use std::path::{Path, PathBuf};

use crate::chunk::with_stream_id;
use crate::crypt::sealed_with_stream_id;
use crate::error::{Error, Result};
use crate::format::{read_record, Bytes, RecordKind};
use crate::kind::Event;
use crate::place::{publish, refuse_existing, temporary_beside, write_new_file};
use crate::progress::report;
use crate::read::{EpisodeReader, ReadOptions};
mod rows;
mod transcode;

pub use rows::RowEdit;
use rows::{write_edited_chunk, ChunkEffect};
pub use transcode::{transcode, TranscodeOptions, TranscodeReport, TranscodedStream};

pub use crate::schema::TAGS_KEY;
use crate::schema::{EpisodeMeta, Sensitivity, StreamInfo};
use crate::write::{EpisodeWriter, StreamId, WriteOptions};

/// What happens to one stream of the input.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamPlan {
    /// Declared as given (name, labels and tags may differ; kind and its parameters must not),
    /// chunks copied byte for byte.
    Copy(StreamInfo),
    /// Declared as given, frames decoded and written again (frame streams only).
    Reencode(StreamInfo),
    /// Declared as given, rows of a time range kept or blanked: untouched chunks are copied,
    /// the chunks at the range's edges decoded and written again.
    Rows(StreamInfo, RowEdit),
    /// Left out.
    Drop,
}

/// A stream the output gets besides the input's, with its events (for edit logs).
#[derive(Debug, Clone, PartialEq)]
pub struct AddedEvents {
    /// The events stream's declaration.
    pub info: StreamInfo,
    /// Its events, in time order.
    pub events: Vec<(i64, Event)>,
}

/// What [`rewrite`] did to one stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamOutcome {
    /// The stream's name in the input.
    pub name: String,
    /// What was done.
    pub plan: StreamPlan,
    /// Samples.
    pub samples: u64,
    /// Bytes of its chunk records in the input.
    pub bytes_before: u64,
    /// In the output (0 when dropped).
    pub bytes_after: u64,
}

/// What [`rewrite`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct RewriteReport {
    /// The output file.
    pub output: PathBuf,
    /// File sizes.
    pub input_bytes: u64,
    /// See `input_bytes`.
    pub output_bytes: u64,
    /// Every input stream, in declaration order.
    pub streams: Vec<StreamOutcome>,
}

/// Writes `output` from `input`: episode metadata `meta`, and each input stream (in
/// declaration order) as `plan` says. `opts.progress` is told the bytes of input chunks done.
pub fn rewrite(
    input: &Path,
    output: &Path,
    meta: EpisodeMeta,
    plan: &[StreamPlan],
    opts: WriteOptions,
) -> Result<RewriteReport> {
    rewrite_with(input, output, meta, plan, &[], opts)
}

/// [`rewrite`], adding event streams `added` after the input's streams.
pub fn rewrite_with(
    input: &Path,
    output: &Path,
    meta: EpisodeMeta,
    plan: &[StreamPlan],
    added: &[AddedEvents],
    opts: WriteOptions,
) -> Result<RewriteReport> {
    refuse_in_place(input, output)?;
    // The secret opens the input's encrypted streams (needed only to re-encode them; sealed
    // chunks copy as they are) or, for an input without any, encrypts the output's private
    // streams.
    let reader = open_for_edit(input, &opts)?;
    check_plan(&reader, plan)?;
    let streams = into_place(output, |tmp| {
        write_to(&reader, tmp, meta, plan, added, opts)
    })?;
    report_of(output, reader.file_len(), streams)
}

fn check_plan(reader: &EpisodeReader, plan: &[StreamPlan]) -> Result<()> {
    if plan.len() != reader.streams().len() {
        return Err(Error::InvalidArgument(format!(
            "a rewrite plan needs one entry per stream: {} for {} streams",
            plan.len(),
            reader.streams().len()
        )));
    }
    Ok(())
}

/// Bytes of the input chunks that a rewrite along `plan` reads: its progress total.
fn planned_bytes(reader: &EpisodeReader, plan: &[StreamPlan]) -> u64 {
    reader
        .chunks()
        .iter()
        .filter(|c| {
            match reader
                .stream_index_of_id(c.stream_id)
                .and_then(|k| plan.get(k))
            {
                Some(StreamPlan::Copy(_) | StreamPlan::Reencode(_)) => true,
                Some(StreamPlan::Rows(_, edit)) => {
                    edit.effect(c.t_min, c.t_max) != ChunkEffect::Skip
                }
                Some(StreamPlan::Drop) | None => false,
            }
        })
        .map(|c| c.length)
        .sum()
}

#[allow(clippy::too_many_arguments)] // the parts of one rewrite, passed on from rewrite_with
fn write_to(
    reader: &EpisodeReader,
    tmp: &Path,
    meta: EpisodeMeta,
    plan: &[StreamPlan],
    added: &[AddedEvents],
    opts: WriteOptions,
) -> Result<Vec<StreamOutcome>> {
    let total = planned_bytes(reader, plan);
    let progress = opts.progress.clone();
    let tell = |done: u64| report(progress.as_ref(), done, total);
    let opts = opts.with_overwrite(false);
    let keeps_sealed = plan
        .iter()
        .any(|p| p.info().is_some_and(|i| i.encryption.is_some()));
    let mut w = match reader.key_record() {
        // An encrypted input keeps its data key, so its sealed chunks copy byte for byte.
        Some(record) if keeps_sealed => EpisodeWriter::create_with_key(
            tmp,
            meta,
            opts,
            Some((record.clone(), reader.data_key().cloned())),
        )?,
        _ => EpisodeWriter::create(tmp, meta, opts)?,
    };
    let mut ids = Vec::with_capacity(plan.len());
    for (old, p) in reader.streams().iter().zip(plan) {
        ids.push(match p {
            StreamPlan::Copy(info) => {
                if info.kind != old.kind {
                    return Err(Error::InvalidArgument(format!(
                        "stream {:?}: a copied stream keeps its kind and parameters",
                        old.name
                    )));
                }
                Some(w.add_stream(info.clone())?)
            }
            StreamPlan::Reencode(info) | StreamPlan::Rows(info, _) => {
                Some(w.add_stream(info.clone())?)
            }
            StreamPlan::Drop => None,
        });
    }
    let b = Bytes::new(reader.file_bytes(), reader.file_name());
    let mut outcomes = Vec::with_capacity(plan.len());
    let mut done = 0u64;
    for (k, (old, p)) in reader.streams().iter().zip(plan).enumerate() {
        let chunks: Vec<usize> = (0..reader.chunks().len())
            .filter(|&i| reader.stream_index_of_id(reader.chunks()[i].stream_id) == Some(k))
            .collect();
        let bytes_before: u64 = chunks.iter().map(|&i| reader.chunks()[i].length).sum();
        let mut bytes_after = 0;
        match (p, ids[k]) {
            (StreamPlan::Copy(_), Some(id)) => {
                for &i in &chunks {
                    bytes_after += copy_chunk(reader, &b, &mut w, id, i)?;
                    done += reader.chunks()[i].length;
                    tell(done);
                }
            }
            (StreamPlan::Rows(info, edit), Some(id)) => {
                for &i in &chunks {
                    let c = &reader.chunks()[i];
                    match edit.effect(c.t_min, c.t_max) {
                        ChunkEffect::Copy => {
                            copy_chunk(reader, &b, &mut w, id, i)?;
                        }
                        ChunkEffect::Skip => continue,
                        ChunkEffect::Rewrite => {
                            write_edited_chunk(reader, &mut w, id, i, info, *edit)?;
                            // The next copied chunk must not meet an open one.
                            w.flush()?;
                        }
                    }
                    done += c.length;
                    tell(done);
                }
            }
            (StreamPlan::Reencode(info), Some(id)) => {
                for &i in &chunks {
                    let (ts, pixels) = reader.chunk_frames(i)?;
                    let frame = info.frame_bytes();
                    let length = reader.chunks()[i].length;
                    for (j, &t) in ts.iter().enumerate() {
                        w.write_frame(id, t, &pixels[j * frame..(j + 1) * frame])?;
                        // Re-encoding is the slow part: report it frame by frame.
                        tell(done + length * (j as u64 + 1) / ts.len() as u64);
                    }
                    done += length;
                }
            }
            _ => {}
        }
        outcomes.push(StreamOutcome {
            name: old.name.clone(),
            plan: p.clone(),
            samples: chunks.iter().map(|&i| reader.chunks()[i].rows).sum(),
            bytes_before,
            bytes_after,
        });
    }
    for a in added {
        let id = w.add_stream(a.info.clone())?;
        for (t, e) in &a.events {
            w.write_event(id, *t, e)?;
        }
    }
    w.finish()?;
    // Bytes of re-encoded streams, now that their chunks are all written.
    let out = EpisodeReader::open(tmp)?;
    for (o, id) in outcomes.iter_mut().zip(&ids) {
        if let (StreamPlan::Reencode(_) | StreamPlan::Rows(..), Some(id)) = (&o.plan, id) {
            o.bytes_after = out
                .chunks()
                .iter()
                .filter(|c| c.stream_id == id.get())
                .map(|c| c.length)
                .sum();
        }
    }
    Ok(outcomes)
}

/// Copies chunk `i` of `reader` into stream `id` of `w` byte for byte (through the record's
/// checksums: a damaged chunk is an error, not a copy); returns the record's length.
fn copy_chunk(
    reader: &EpisodeReader,
    b: &Bytes<'_>,
    w: &mut EpisodeWriter,
    id: StreamId,
    i: usize,
) -> Result<u64> {
    let entry = &reader.chunks()[i];
    let rec = read_record(b, entry.offset)?;
    let kind = match RecordKind::from_byte(rec.kind) {
        Some(k @ (RecordKind::Chunk | RecordKind::SealedChunk)) => k,
        _ => {
            return Err(Error::Malformed {
                file: reader.file_name().to_string(),
                what: "chunk index",
                offset: entry.offset,
                detail: format!("points at a record of kind {}", rec.kind),
            })
        }
    };
    let body = if id.get() == entry.stream_id {
        Some(rec.body.to_vec())
    } else if kind == RecordKind::SealedChunk {
        sealed_with_stream_id(rec.body, id.get())
    } else {
        with_stream_id(rec.body, id.get())
    };
    let body = body.ok_or_else(|| Error::Malformed {
        file: reader.file_name().to_string(),
        what: kind.name(),
        offset: entry.offset,
        detail: "too short for its header".into(),
    })?;
    w.copy_chunk(id, entry, kind, &body)
}

impl StreamPlan {
    /// The output declaration, unless the stream is dropped.
    pub fn info(&self) -> Option<&StreamInfo> {
        match self {
            StreamPlan::Copy(i) | StreamPlan::Reencode(i) | StreamPlan::Rows(i, _) => Some(i),
            StreamPlan::Drop => None,
        }
    }
}

/// Refuses an output that is the input (an edit is never in place).
fn refuse_in_place(input: &Path, output: &Path) -> Result<()> {
    if std::fs::canonicalize(input)
        .ok()
        .is_some_and(|a| std::fs::canonicalize(output).ok() == Some(a))
    {
        return Err(Error::InvalidArgument(format!(
            "edits write a new file; output {} is the input",
            output.display()
        )));
    }
    Ok(())
}

/// The report of an edit that wrote `output` from `input_bytes` of input.
fn report_of(
    output: &Path,
    input_bytes: u64,
    streams: Vec<StreamOutcome>,
) -> Result<RewriteReport> {
    let output_bytes = std::fs::metadata(output)
        .map_err(|e| Error::io(output, "stat", e))?
        .len();
    Ok(RewriteReport {
        output: output.to_path_buf(),
        input_bytes,
        output_bytes,
        streams,
    })
}

/// Runs `write` on a temporary file beside `output`, then moves it into place (never over an
/// existing file); on failure removes it, so that no half-written output remains.
fn into_place<T>(output: &Path, write: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    write_new_file(output, false, write)
}

/// The input's streams, each copied as it is.
fn copy_all(reader: &EpisodeReader) -> Vec<StreamPlan> {
    reader
        .streams()
        .iter()
        .cloned()
        .map(StreamPlan::Copy)
        .collect()
}

/// Runs an edit that re-encodes nothing, once `reader` (of `input`) has served to plan it.
fn copy_edit(
    reader: EpisodeReader,
    input: &Path,
    output: &Path,
    meta: EpisodeMeta,
    plan: &[StreamPlan],
    opts: WriteOptions,
) -> Result<RewriteReport> {
    drop(reader);
    rewrite(input, output, meta, plan, opts)
}

/// Checks that every name is a stream of the episode.
fn check_names(reader: &EpisodeReader, names: &[String]) -> Result<()> {
    for n in names {
        reader.stream(n)?;
    }
    Ok(())
}

/// `output`: `input` without the streams `names`. With a secret in `opts`, private streams
/// stored in the clear are encrypted on the way (as by every edit).
pub fn drop_streams(
    input: &Path,
    output: &Path,
    names: &[String],
    opts: WriteOptions,
) -> Result<RewriteReport> {
    let reader = EpisodeReader::open(input)?;
    check_names(&reader, names)?;
    let plan: Vec<StreamPlan> = copy_all(&reader)
        .into_iter()
        .zip(reader.streams())
        .map(|(p, s)| {
            if names.contains(&s.name) {
                StreamPlan::Drop
            } else {
                p
            }
        })
        .collect();
    let meta = reader.meta().clone();
    copy_edit(reader, input, output, meta, &plan, opts)
}

/// `output`: `input` with stream `from` named `to`.
pub fn rename_stream(
    input: &Path,
    output: &Path,
    from: &str,
    to: &str,
    opts: WriteOptions,
) -> Result<RewriteReport> {
    let reader = EpisodeReader::open(input)?;
    check_names(&reader, &[from.to_string()])?;
    if reader.stream(to).is_ok() {
        return Err(Error::DuplicateStream {
            name: to.to_string(),
        });
    }
    let plan: Vec<StreamPlan> = reader
        .streams()
        .iter()
        .map(|s| {
            let mut s = s.clone();
            if s.name == from {
                s.name = to.to_string();
            }
            s.validate().map(|()| StreamPlan::Copy(s))
        })
        .collect::<Result<_>>()?;
    let meta = reader.meta().clone();
    copy_edit(reader, input, output, meta, &plan, opts)
}

/// Label and metadata changes for [`relabel`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Relabel {
    /// New sensitivity labels: (stream, label).
    pub sensitivity: Vec<(String, Sensitivity)>,
    /// Tags to set on streams: (stream, key, value); an empty value removes the tag.
    pub tags: Vec<(String, String, String)>,
    /// Episode metadata to set: `robot`, `task`, `operator` set those fields; any other key
    /// goes to the free key/values (`extra`), where JSON `null` removes it.
    pub meta: Vec<(String, serde_json::Value)>,
    /// Episode tags to add to `extra.tags` (after `meta`; kept once, in order).
    pub add_tags: Vec<String>,
    /// Episode tags to remove from `extra.tags`.
    pub remove_tags: Vec<String>,
}

/// `output`: `input` with new sensitivity labels, tags and metadata; samples copied unchanged,
/// except that with a secret in `opts` a stream labelled private (now or before) that is stored
/// in the clear is encrypted (sealed streams stay sealed whatever their new label).
pub fn relabel(
    input: &Path,
    output: &Path,
    changes: &Relabel,
    opts: WriteOptions,
) -> Result<RewriteReport> {
    let reader = EpisodeReader::open(input)?;
    let names: Vec<String> = changes
        .sensitivity
        .iter()
        .map(|(s, _)| s.clone())
        .chain(changes.tags.iter().map(|(s, ..)| s.clone()))
        .collect();
    check_names(&reader, &names)?;
    let plan: Vec<StreamPlan> = reader
        .streams()
        .iter()
        .map(|s| {
            let mut s = s.clone();
            for (name, label) in &changes.sensitivity {
                if *name == s.name {
                    s.sensitivity = *label;
                }
            }
            for (name, k, v) in &changes.tags {
                if *name == s.name {
                    if v.is_empty() {
                        s.tags.remove(k);
                    } else {
                        s.tags.insert(k.clone(), v.clone());
                    }
                }
            }
            StreamPlan::Copy(s)
        })
        .collect();
    let mut meta = reader.meta().clone();
    for (k, v) in &changes.meta {
        let text = || match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match k.as_str() {
            "robot" => meta.robot = text(),
            "task" => meta.task = text(),
            "operator" => meta.operator = text(),
            _ if v.is_null() => {
                meta.extra.remove(k);
            }
            _ => {
                meta.extra.insert(k.clone(), v.clone());
            }
        }
    }
    if !changes.add_tags.is_empty() || !changes.remove_tags.is_empty() {
        edit_tags(&mut meta, &changes.add_tags, &changes.remove_tags)?;
    }
    copy_edit(reader, input, output, meta, &plan, opts)
}

/// Adds and removes episode tags (`extra.tags`, a list of strings). A malformed list or an empty
/// tag is an error rather than something to overwrite; an unchanged list is left as it is.
fn edit_tags(meta: &mut EpisodeMeta, add: &[String], remove: &[String]) -> Result<()> {
    if let Some(t) = add.iter().chain(remove).find(|t| t.trim().is_empty()) {
        return Err(Error::InvalidArgument(format!(
            "episode tag {t:?} is empty"
        )));
    }
    let key = TAGS_KEY;
    let old: Vec<String> = match meta.extra.get(key) {
        None => Vec::new(),
        Some(v) => serde_json::from_value(v.clone()).map_err(|_| {
            Error::InvalidArgument(format!(
                "extra.{key} is {v}, not a list of strings: fix it with --meta {key}=[...]"
            ))
        })?,
    };
    let mut tags = old.clone();
    for t in add {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    tags.retain(|t| !remove.contains(t));
    if tags != old {
        meta.extra.insert(key.into(), serde_json::json!(tags));
    }
    Ok(())
}

/// The metadata of a new episode made from `source` by `edit`: a new id, and the source's id
/// and the edit under `extra.derived_from`.
fn derived_meta(source: &EpisodeMeta, edit: serde_json::Value) -> EpisodeMeta {
    let mut record = serde_json::json!({"source_id": source.id.to_string()});
    if let (Some(r), serde_json::Value::Object(e)) = (record.as_object_mut(), edit) {
        r.extend(e);
    }
    source
        .clone()
        .with_id(uuid::Uuid::new_v4())
        .with_extra("derived_from", record)
}

/// Every stream of `reader`, keeping the rows of `from <= t < to`.
fn keep_range(reader: &EpisodeReader, from: i64, to: i64) -> Vec<StreamPlan> {
    let edit = RowEdit::Keep { from, to };
    reader
        .streams()
        .iter()
        .map(|s| StreamPlan::Rows(s.clone(), edit))
        .collect()
}

fn check_range(edit: &str, from: i64, to: i64) -> Result<()> {
    if from >= to {
        return Err(Error::InvalidArgument(format!(
            "{edit} needs from < to, got {from} ns and {to} ns"
        )));
    }
    Ok(())
}

/// The reader of `input` with the key of `opts`, if any.
fn open_for_edit(input: &Path, opts: &WriteOptions) -> Result<EpisodeReader> {
    EpisodeReader::open_with(
        input,
        ReadOptions {
            secret: opts.secret.clone(),
            ..ReadOptions::default()
        },
    )
}

/// `output`: a new episode with the samples of `input` with `from <= t < to`, every stream.
/// Chunks inside the range are copied; the two at its edges are decoded and written again
/// (re-encoded, for video). Encrypted streams cut inside a chunk need the key in `opts`.
pub fn trim(
    input: &Path,
    output: &Path,
    from: i64,
    to: i64,
    opts: WriteOptions,
) -> Result<RewriteReport> {
    check_range("trim", from, to)?;
    let reader = open_for_edit(input, &opts)?;
    let plan = keep_range(&reader, from, to);
    let meta = derived_meta(
        reader.meta(),
        serde_json::json!({"edit": "trim", "from_ns": from, "to_ns": to}),
    );
    drop(reader);
    rewrite(input, output, meta, &plan, opts)
}

/// Splits `input` at the times `at` into episodes written to `out_dir` as
/// `<stem>-part000.rmf`, `<stem>-part001.rmf`, ...: part k holds the samples between the k-th
/// and (k+1)-th split time. Parts holding no time of the episode are not written. Every part
/// is written under a temporary name and moved into place only once all are complete, so a
/// split that fails leaves no parts (a kill while they are moved can leave the first ones).
/// Returns the files written with their reports.
pub fn split(
    input: &Path,
    out_dir: &Path,
    at: &[i64],
    opts: WriteOptions,
) -> Result<Vec<RewriteReport>> {
    let reader = open_for_edit(input, &opts)?;
    let Some((first, last)) = reader.time_range() else {
        return Err(Error::InvalidArgument(format!(
            "{}: the episode has no samples to split",
            input.display()
        )));
    };
    let mut cuts: Vec<i64> = at.to_vec();
    cuts.sort_unstable();
    cuts.dedup();
    let mut bounds = vec![i64::MIN];
    bounds.extend(cuts);
    bounds.push(i64::MAX);
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "episode".into());
    let mut parts = Vec::new();
    for (part, w) in bounds.windows(2).enumerate() {
        let (from, to) = (w[0], w[1]);
        if to <= first || from > last || from == to {
            continue;
        }
        let plan = keep_range(&reader, from, to);
        let meta = derived_meta(
            reader.meta(),
            serde_json::json!({"edit": "split", "part": part, "from_ns": from, "to_ns": to}),
        );
        let output = out_dir.join(format!("{stem}-part{part:03}.rmf"));
        refuse_existing(&output)?;
        parts.push((output, meta, plan));
    }
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, "create directory", e))?;
    let total: u64 = parts
        .iter()
        .map(|(_, _, p)| planned_bytes(&reader, p))
        .sum();
    let mut staged: Vec<(PathBuf, RewriteReport)> = Vec::new();
    let mut done = 0;
    let written = parts.into_iter().try_for_each(|(output, meta, plan)| {
        let mut opts = opts.clone();
        opts.progress = opts.progress.map(|p| p.part(done, total));
        done += planned_bytes(&reader, &plan);
        let stage = temporary_beside(&output);
        let report = rewrite(input, &stage, meta, &plan, opts)?;
        staged.push((output, report));
        Ok(())
    });
    let mut published = 0;
    let all = written.and_then(|()| {
        staged.iter_mut().try_for_each(|(output, report)| {
            publish(&report.output, output, false)?;
            report.output = output.clone();
            published += 1;
            Ok(())
        })
    });
    if let Err(e) = all {
        // Only what this split made: published parts and the staged rest.
        for (k, (output, report)) in staged.iter().enumerate() {
            let _ = std::fs::remove_file(if k < published {
                output
            } else {
                &report.output
            });
        }
        return Err(e);
    }
    Ok(staged.into_iter().map(|(_, r)| r).collect())
}

/// The times of every event of kind `kind` in the episode's event streams, in order (to split
/// at takeovers, say).
pub fn event_times(reader: &EpisodeReader, kind: &str) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    for s in reader.streams() {
        if matches!(s.kind, crate::StreamKind::Events) {
            for (t, e) in reader.events_range(&s.name, i64::MIN, i64::MAX)? {
                if e.kind == kind {
                    out.push(t);
                }
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// The events stream that logs redactions.
pub const REDACTIONS_STREAM: &str = "rmf/redactions";

/// `output`: `input` with the samples of stream `stream` in `from <= t < to` blanked (black
/// frames, silent audio, NaN or zero signal values, event text and payload removed), and the
/// redaction logged as a `redaction` event (at `from`) in the events stream
/// [`REDACTIONS_STREAM`]. Other streams and untouched chunks are copied byte for byte. The
/// episode keeps its id. An encrypted stream needs its key in `opts`.
pub fn redact(
    input: &Path,
    output: &Path,
    stream: &str,
    from: i64,
    to: i64,
    reason: &str,
    opts: WriteOptions,
) -> Result<RewriteReport> {
    check_range("redact", from, to)?;
    let reader = open_for_edit(input, &opts)?;
    check_names(&reader, &[stream.to_string()])?;
    if stream == REDACTIONS_STREAM {
        return Err(Error::InvalidArgument(
            "the redaction log itself cannot be redacted".into(),
        ));
    }
    let mut log = Vec::new();
    let mut log_info = StreamInfo::events(REDACTIONS_STREAM);
    let mut plan = Vec::new();
    for s in reader.streams() {
        plan.push(if s.name == stream {
            StreamPlan::Rows(s.clone(), RowEdit::Blank { from, to })
        } else if s.name == REDACTIONS_STREAM {
            // Written again below with the new entry in time order.
            log = reader.events_range(&s.name, i64::MIN, i64::MAX)?;
            log_info = s.clone();
            StreamPlan::Drop
        } else {
            StreamPlan::Copy(s.clone())
        });
    }
    let event = Event::new("redaction")
        .with_text(format!(
            "{stream} blanked from {from} ns to {to} ns: {reason}"
        ))
        .with_payload(serde_json::json!({
            "stream": stream, "from_ns": from, "to_ns": to, "reason": reason,
        }));
    log.push((from, event));
    log.sort_by_key(|(t, _)| *t);
    let meta = reader.meta().clone();
    drop(reader);
    rewrite_with(
        input,
        output,
        meta,
        &plan,
        &[AddedEvents {
            info: log_info,
            events: log,
        }],
        opts,
    )
}

/// Joins episodes with the same streams (names and kinds) into one at `output`, in order of
/// their first sample: every chunk is copied byte for byte, so the episodes must not overlap
/// in time on any stream. The result gets a new id, the first episode's metadata and
/// `extra.merged_from` (the ids, in order). Encrypted episodes merge only when they share their
/// data key (parts of one episode), since sealed chunks are copied, never decrypted.
pub fn merge(inputs: &[PathBuf], output: &Path, opts: WriteOptions) -> Result<RewriteReport> {
    if inputs.len() < 2 {
        return Err(Error::InvalidArgument(
            "merge needs at least two episodes".into(),
        ));
    }
    for input in inputs {
        refuse_in_place(input, output)?;
    }
    let mut readers: Vec<EpisodeReader> = inputs
        .iter()
        .map(EpisodeReader::open)
        .collect::<Result<_>>()?;
    readers.sort_by_key(|r| r.time_range().map_or(i64::MAX, |(a, _)| a));
    let first = &readers[0];
    for r in &readers {
        // Sealed chunks copy as they are only under the same data key and stream salts: parts
        // of one episode (split, trim) can be merged back, independent recordings cannot.
        if r.key_record() != first.key_record() {
            return Err(Error::InvalidArgument(format!(
                "{} and {} are encrypted under different data keys: they cannot be merged",
                first.file_name(),
                r.file_name()
            )));
        }
        let same = r.streams().len() == first.streams().len()
            && r.streams()
                .iter()
                .zip(first.streams())
                .all(|(a, b)| a.name == b.name && a.kind == b.kind && a.encryption == b.encryption);
        if !same {
            return Err(Error::InvalidArgument(format!(
                "{} and {} do not have the same streams (names and kinds, in order)",
                first.file_name(),
                r.file_name()
            )));
        }
    }
    let ids: Vec<String> = readers.iter().map(|r| r.meta().id.to_string()).collect();
    let meta = first
        .meta()
        .clone()
        .with_id(uuid::Uuid::new_v4())
        .with_extra("merged_from", serde_json::json!(ids));
    let total: u64 = readers
        .iter()
        .flat_map(|r| r.chunks())
        .map(|c| c.length)
        .sum();
    let mut done = 0;
    let progress = opts.progress.clone();
    let streams = into_place(output, |tmp| {
        let key = first.key_record().map(|k| (k.clone(), None));
        let mut w = EpisodeWriter::create_with_key(tmp, meta, opts.with_overwrite(false), key)?;
        let mut outcomes = Vec::new();
        for (k, info) in first.streams().iter().enumerate() {
            let id = w.add_stream(info.clone())?;
            let mut outcome = StreamOutcome {
                name: info.name.clone(),
                plan: StreamPlan::Copy(info.clone()),
                samples: 0,
                bytes_before: 0,
                bytes_after: 0,
            };
            for r in &readers {
                let b = Bytes::new(r.file_bytes(), r.file_name());
                let mut chunks: Vec<usize> = (0..r.chunks().len())
                    .filter(|&i| r.stream_index_of_id(r.chunks()[i].stream_id) == Some(k))
                    .collect();
                chunks.sort_by_key(|&i| (r.chunks()[i].t_min, r.chunks()[i].offset));
                for i in chunks {
                    let c = &r.chunks()[i];
                    outcome.samples += c.rows;
                    outcome.bytes_before += c.length;
                    outcome.bytes_after += copy_chunk(r, &b, &mut w, id, i).map_err(|e| match e {
                        Error::TimeWentBackwards { stream, previous, got } => Error::InvalidArgument(format!(
                            "stream {stream:?}: {} starts at {got} ns, before the previous episode's samples end ({previous} ns): episodes to merge must not overlap",
                            r.file_name()
                        )),
                        other => other,
                    })?;
                    done += c.length;
                    report(progress.as_ref(), done, total);
                }
            }
            outcomes.push(outcome);
        }
        w.finish()?;
        Ok(outcomes)
    })?;
    report_of(
        output,
        readers.iter().map(EpisodeReader::file_len).sum(),
        streams,
    )
}
