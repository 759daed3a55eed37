//! Editing episodes, never in place: every edit writes a new file beside the output's name,
//! syncs it, and renames it into place, so a failed edit (a full disk, a kill) leaves the input
//! untouched and no half-written output. Streams are copied chunk for chunk (checksums checked,
//! bytes unchanged) unless the edit re-encodes them.
//!
//! Edits: [`drop_streams`], [`rename_stream`], [`relabel`]; [`crate::transcode`] re-encodes
//! frame streams with the same machinery ([`rewrite`]).

use std::path::{Path, PathBuf};

use crate::chunk::with_stream_id;
use crate::crypt::sealed_with_stream_id;
use crate::error::{Error, Result};
use crate::format::{read_record, Bytes, RecordKind};
use crate::read::{EpisodeReader, ReadOptions};
use crate::schema::{EpisodeMeta, Sensitivity, StreamInfo};
use crate::write::{EpisodeWriter, WriteOptions};

/// What happens to one stream of the input.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamPlan {
    /// Declared as given (name, labels and tags may differ; kind and its parameters must not),
    /// chunks copied byte for byte.
    Copy(StreamInfo),
    /// Declared as given, frames decoded and written again (frame streams only).
    Reencode(StreamInfo),
    /// Left out.
    Drop,
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
/// declaration order) as `plan` says. `progress` gets (frames re-encoded, frames to re-encode).
pub fn rewrite(
    input: &Path,
    output: &Path,
    meta: EpisodeMeta,
    plan: &[StreamPlan],
    opts: WriteOptions,
    mut progress: impl FnMut(u64, u64),
) -> Result<RewriteReport> {
    refuse_in_place(input, output)?;
    // The secret opens the input's encrypted streams (needed only to re-encode them; sealed
    // chunks copy as they are) or, for an input without any, encrypts the output's private
    // streams.
    let read_opts = ReadOptions {
        secret: opts.secret.clone(),
        ..ReadOptions::default()
    };
    let reader = EpisodeReader::open_with(input, read_opts)?;
    if plan.len() != reader.streams().len() {
        return Err(Error::InvalidArgument(format!(
            "a rewrite plan needs one entry per stream: {} for {} streams",
            plan.len(),
            reader.streams().len()
        )));
    }
    let total: u64 = reader
        .streams()
        .iter()
        .zip(plan)
        .filter(|(_, p)| matches!(p, StreamPlan::Reencode(_)))
        .map(|(s, _)| reader.summary(&s.name).map_or(0, |x| x.count))
        .sum();
    let tmp = temporary_beside(output);
    let written =
        write_to(&reader, &tmp, meta, plan, opts, total, &mut progress).and_then(|streams| {
            std::fs::rename(&tmp, output)
                .map_err(|e| Error::io(output, "rename the new file into place", e))?;
            Ok(streams)
        });
    let streams = match written {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    let output_bytes = std::fs::metadata(output)
        .map_err(|e| Error::io(output, "stat", e))?
        .len();
    Ok(RewriteReport {
        output: output.to_path_buf(),
        input_bytes: reader.file_len(),
        output_bytes,
        streams,
    })
}

fn write_to(
    reader: &EpisodeReader,
    tmp: &Path,
    meta: EpisodeMeta,
    plan: &[StreamPlan],
    opts: WriteOptions,
    total: u64,
    progress: &mut impl FnMut(u64, u64),
) -> Result<Vec<StreamOutcome>> {
    let opts = opts.with_overwrite(false);
    let keeps_sealed = plan.iter().any(|p| match p {
        StreamPlan::Copy(info) | StreamPlan::Reencode(info) => info.encryption.is_some(),
        StreamPlan::Drop => false,
    });
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
            StreamPlan::Reencode(info) => Some(w.add_stream(info.clone())?),
            StreamPlan::Drop => None,
        });
    }
    let b = Bytes::new(reader.data(), reader.file_name());
    let mut outcomes = Vec::with_capacity(plan.len());
    let mut done = 0u64;
    for (k, (old, p)) in reader.streams().iter().zip(plan).enumerate() {
        let chunks: Vec<usize> = (0..reader.chunks().len())
            .filter(|&i| reader.stream_position(reader.chunks()[i].stream_id) == Some(k))
            .collect();
        let bytes_before: u64 = chunks.iter().map(|&i| reader.chunks()[i].length).sum();
        let mut bytes_after = 0;
        match (p, ids[k]) {
            (StreamPlan::Copy(_), Some(id)) => {
                for &i in &chunks {
                    let entry = &reader.chunks()[i];
                    // Through the record's checksums: a damaged chunk is an error, not a copy.
                    let rec = read_record(&b, entry.offset)?;
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
                    bytes_after += w.copy_chunk(id, entry, kind, &body)?;
                }
            }
            (StreamPlan::Reencode(info), Some(id)) => {
                for &i in &chunks {
                    let (ts, pixels) = reader.chunk_frames(i)?;
                    let frame = info.frame_bytes();
                    for (j, &t) in ts.iter().enumerate() {
                        w.write_frame(id, t, &pixels[j * frame..(j + 1) * frame])?;
                        done += 1;
                        progress(done, total);
                    }
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
    w.finish()?;
    // Bytes of re-encoded streams, now that their chunks are all written.
    let out = EpisodeReader::open(tmp)?;
    for (o, id) in outcomes.iter_mut().zip(&ids) {
        if let (StreamPlan::Reencode(_), Some(id)) = (&o.plan, id) {
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

fn temporary_beside(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
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
) -> Result<RewriteReport> {
    drop(reader);
    rewrite(
        input,
        output,
        meta,
        plan,
        WriteOptions::default(),
        |_, _| {},
    )
}

/// Checks that every name is a stream of the episode.
fn check_names(reader: &EpisodeReader, names: &[String]) -> Result<()> {
    for n in names {
        reader.stream(n)?;
    }
    Ok(())
}

/// `output`: `input` without the streams `names`.
pub fn drop_streams(input: &Path, output: &Path, names: &[String]) -> Result<RewriteReport> {
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
    copy_edit(reader, input, output, meta, &plan)
}

/// `output`: `input` with stream `from` named `to`.
pub fn rename_stream(input: &Path, output: &Path, from: &str, to: &str) -> Result<RewriteReport> {
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
    copy_edit(reader, input, output, meta, &plan)
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
}

/// `output`: `input` with new sensitivity labels, tags and metadata; samples copied unchanged.
pub fn relabel(input: &Path, output: &Path, changes: &Relabel) -> Result<RewriteReport> {
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
    copy_edit(reader, input, output, meta, &plan)
}
