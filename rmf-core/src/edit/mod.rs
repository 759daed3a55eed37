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
use crate::read::EpisodeReader;
mod cut;
mod rows;
mod streams;
mod transcode;

pub use cut::{event_times, merge, redact, split, trim, REDACTIONS_STREAM};
pub use streams::{drop_streams, relabel, rename_stream, Relabel};

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
    let reader = open_planned(input, output, plan, &opts)?;
    let streams = into_place(output, opts.overwrite(), |tmp| {
        write_to(&reader, tmp, meta, plan, added, opts)
    })?;
    report_of(output, reader.file_len(), streams)
}

/// [`rewrite`] into `stage`, a unique temporary path whose publishing is the caller's (a split
/// publishes its parts together): written there directly, without a temporary of its own, and
/// removed on failure.
pub(crate) fn rewrite_staged(
    input: &Path,
    stage: &Path,
    meta: EpisodeMeta,
    plan: &[StreamPlan],
    opts: WriteOptions,
) -> Result<RewriteReport> {
    let reader = open_planned(input, stage, plan, &opts)?;
    match write_to(&reader, stage, meta, plan, &[], opts) {
        Ok(streams) => report_of(stage, reader.file_len(), streams),
        Err(e) => {
            let _ = std::fs::remove_file(stage);
            Err(e)
        }
    }
}

/// The input of a rewrite into `output`, opened and checked against `plan`.
fn open_planned(
    input: &Path,
    output: &Path,
    plan: &[StreamPlan],
    opts: &WriteOptions,
) -> Result<EpisodeReader> {
    refuse_in_place(input, output)?;
    // The secret opens the input's encrypted streams (needed only to re-encode them; sealed
    // chunks copy as they are) or, for an input without any, encrypts the output's private
    // streams.
    let reader = open_for_edit(input, opts)?;
    check_plan(&reader, plan)?;
    Ok(reader)
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
    let b = Bytes::new(reader.file_bytes()?, reader.file_name());
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

/// Runs `write` on a temporary file beside `output`, then moves it into place (over an existing
/// file only with `replace`, [`WriteOptions::with_overwrite`]); on failure removes it, so that
/// no half-written output remains.
fn into_place<T>(
    output: &Path,
    replace: bool,
    write: impl FnOnce(&Path) -> Result<T>,
) -> Result<T> {
    write_new_file(output, replace, write)
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

/// The reader of `input` with the key of `opts`, if any.
fn open_for_edit(input: &Path, opts: &WriteOptions) -> Result<EpisodeReader> {
    EpisodeReader::open_with(input, opts.read_options())
}
