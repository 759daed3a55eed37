//! Edits in time: trim, split, merge, and redact (blank a stretch of one stream). Chunks inside
//! the kept ranges are copied; chunks cut by an edge are decoded and written again.

use super::*;

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
    // A range beside the episode (seconds given as nanoseconds, say) would write an empty
    // episode: say where the samples are instead.
    let chunks = reader.chunks();
    // The last sample before `to` of each stream (one chunk's times); a stream that cannot
    // say (sealed, no key) counts as holding some.
    let holds = |name: &str| {
        reader
            .find_at(name, to - 1)
            .map_or(true, |r| r.is_some_and(|r| r.t >= from))
    };
    if !chunks.is_empty() && !reader.streams().iter().any(|s| holds(&s.name)) {
        let lo = chunks.iter().map(|c| c.t_min).min().unwrap_or(0);
        let hi = chunks.iter().map(|c| c.t_max).max().unwrap_or(0);
        return Err(Error::InvalidArgument(format!(
            "trim {from}..{to} ns keeps nothing: the samples of {} lie in {lo}..={hi} ns \
             (times are nanoseconds on the episode's clock)",
            input.display()
        )));
    }
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
        if !opts.overwrite() {
            refuse_existing(&output)?;
        }
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
        // One temporary name per part (`rewrite_staged` adds none of its own).
        let stage = temporary_beside(&output);
        let report = rewrite_staged(input, &stage, meta, &plan, opts)?;
        staged.push((output, report));
        Ok(())
    });
    let mut published = 0;
    let replace = opts.overwrite();
    let all = written.and_then(|()| {
        staged.iter_mut().try_for_each(|(output, report)| {
            publish(&report.output, output, replace)?;
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
    let streams = into_place(output, opts.overwrite(), |tmp| {
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
                let b = Bytes::new(r.file_bytes()?, r.file_name());
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
