//! `transcode`: a new file with some frame streams re-encoded (say, a recording's fast H.264
//! turned into the densest setting overnight) and every other stream's chunks copied
//! byte for byte. The input is never modified: the output is written beside its final name,
//! synced, then renamed.

use std::path::{Path, PathBuf};

use crate::chunk::with_stream_id;
use crate::error::{Error, Result};
use crate::format::{read_record, Bytes, RecordKind};
use crate::read::EpisodeReader;
use crate::schema::{FrameCodec, PixelFormat, StreamInfo, StreamKind};
use crate::write::{EpisodeWriter, WriteOptions};

/// What to re-encode, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscodeOptions {
    /// The frame codec to use.
    pub codec: FrameCodec,
    /// JPEG quality (`jpeg` only).
    pub quality: Option<u8>,
    /// H.264 quantizer (`h264` only).
    pub qp: Option<u8>,
    /// H.264 keyframe interval (`h264` only).
    pub gop: Option<u32>,
    /// Frame streams to re-encode by name; empty: every frame stream the codec can hold.
    pub streams: Vec<String>,
    /// How the output is written (chunking, compression levels, encoder queues).
    pub write: WriteOptions,
}

impl TranscodeOptions {
    /// Re-encode every frame stream with `codec` at its default settings.
    pub fn new(codec: FrameCodec) -> Self {
        TranscodeOptions {
            codec,
            quality: None,
            qp: None,
            gop: None,
            streams: Vec::new(),
            write: WriteOptions::default(),
        }
    }
}

/// What happened to one stream.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscodedStream {
    /// The stream.
    pub name: String,
    /// `None` when its chunks were copied unchanged; else the codec it had.
    pub from: Option<FrameCodec>,
    /// Why it was copied unchanged (not a frame stream, not selected, the codec cannot hold
    /// its pixels).
    pub kept_because: Option<String>,
    /// Samples.
    pub samples: u64,
    /// Bytes of its chunk records in the input and in the output.
    pub bytes_before: u64,
    /// See `bytes_before`.
    pub bytes_after: u64,
}

/// What `transcode` wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscodeReport {
    /// The output file.
    pub output: PathBuf,
    /// File sizes.
    pub input_bytes: u64,
    /// See `input_bytes`.
    pub output_bytes: u64,
    /// Every stream, in declaration order.
    pub streams: Vec<TranscodedStream>,
}

/// Writes `output`: `input` with frame streams re-encoded as `opts` says. `progress` is called
/// with (frames re-encoded, frames to re-encode) as the work goes.
pub fn transcode(
    input: impl AsRef<Path>,
    output: impl AsRef<Path>,
    opts: &TranscodeOptions,
    mut progress: impl FnMut(u64, u64),
) -> Result<TranscodeReport> {
    let (input, output) = (input.as_ref(), output.as_ref());
    if std::fs::canonicalize(input)
        .ok()
        .is_some_and(|a| std::fs::canonicalize(output).ok() == Some(a))
    {
        return Err(Error::InvalidArgument(format!(
            "transcode writes a new file; output {} is the input",
            output.display()
        )));
    }
    let reader = EpisodeReader::open(input)?;
    for name in &opts.streams {
        reader.stream(name)?;
    }
    let plan: Vec<(StreamInfo, Option<String>)> = reader
        .streams()
        .iter()
        .map(|s| plan_stream(s, opts))
        .collect();
    let total: u64 = plan
        .iter()
        .filter(|(_, kept)| kept.is_none())
        .map(|(s, _)| reader.summary(&s.name).map_or(0, |x| x.count))
        .sum();

    let tmp = temporary_beside(output);
    let result = write_output(&reader, &tmp, &plan, opts, total, &mut progress);
    let streams = match result {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    std::fs::rename(&tmp, output).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(output, "rename the transcoded file into place", e)
    })?;
    let output_bytes = std::fs::metadata(output)
        .map_err(|e| Error::io(output, "stat", e))?
        .len();
    Ok(TranscodeReport {
        output: output.to_path_buf(),
        input_bytes: reader.file_len(),
        output_bytes,
        streams,
    })
}

/// The stream as it will be declared in the output, and why it is copied unchanged, if it is.
fn plan_stream(s: &StreamInfo, opts: &TranscodeOptions) -> (StreamInfo, Option<String>) {
    let StreamKind::Frames { pixel_format, .. } = &s.kind else {
        return (s.clone(), Some(format!("{} stream", s.kind.name())));
    };
    if !opts.streams.is_empty() && !opts.streams.contains(&s.name) {
        return (s.clone(), Some("not selected".into()));
    }
    let lossy = matches!(opts.codec, FrameCodec::Jpeg | FrameCodec::H264);
    if lossy && *pixel_format == PixelFormat::Gray16 {
        return (
            s.clone(),
            Some(format!(
                "{} cannot hold gray16 frames (depth stays lossless)",
                opts.codec.name()
            )),
        );
    }
    let new = s
        .clone()
        .with_codec(opts.codec, opts.quality)
        .with_video(opts.qp, opts.gop);
    match new.validate() {
        Ok(()) => (new, None),
        Err(e) => (s.clone(), Some(e.to_string())),
    }
}

fn write_output(
    reader: &EpisodeReader,
    tmp: &Path,
    plan: &[(StreamInfo, Option<String>)],
    opts: &TranscodeOptions,
    total: u64,
    progress: &mut impl FnMut(u64, u64),
) -> Result<Vec<TranscodedStream>> {
    let mut meta = reader.meta().clone();
    meta.extra.insert(
        "transcoded_from".into(),
        serde_json::json!({"file": reader.file_name(), "writer": reader.meta().writer}),
    );
    let mut w = EpisodeWriter::create(tmp, meta, opts.write.clone().with_overwrite(false))?;
    let ids = plan
        .iter()
        .map(|(info, _)| w.add_stream(info.clone()))
        .collect::<Result<Vec<_>>>()?;
    let mut report = Vec::with_capacity(plan.len());
    let mut done = 0u64;
    for (k, (info, kept)) in plan.iter().enumerate() {
        let old = &reader.streams()[k];
        let chunks: Vec<usize> = (0..reader.chunks().len())
            .filter(|&i| reader.stream_position(reader.chunks()[i].stream_id) == Some(k))
            .collect();
        let bytes_before: u64 = chunks.iter().map(|&i| reader.chunks()[i].length).sum();
        let mut bytes_after = 0;
        if kept.is_some() {
            let b = Bytes::new(reader.data(), reader.file_name());
            for &i in &chunks {
                let entry = &reader.chunks()[i];
                // Read through the record's checksums: a damaged chunk is an error, not a copy.
                let rec = read_record(&b, entry.offset)?;
                if rec.kind != RecordKind::Chunk as u8 {
                    return Err(Error::Malformed {
                        file: reader.file_name().to_string(),
                        what: "chunk index",
                        offset: entry.offset,
                        detail: format!("points at a record of kind {}", rec.kind),
                    });
                }
                let body = if ids[k].get() == entry.stream_id {
                    rec.body.to_vec()
                } else {
                    with_stream_id(rec.body, ids[k].get()).ok_or_else(|| Error::Malformed {
                        file: reader.file_name().to_string(),
                        what: "chunk",
                        offset: entry.offset,
                        detail: "too short for its directory".into(),
                    })?
                };
                bytes_after += w.copy_chunk(ids[k], entry, &body)?;
            }
        } else {
            for &i in &chunks {
                let (ts, pixels) = reader.chunk_frames(i)?;
                let frame = info.frame_bytes();
                for (j, &t) in ts.iter().enumerate() {
                    w.write_frame(ids[k], t, &pixels[j * frame..(j + 1) * frame])?;
                    done += 1;
                    progress(done, total);
                }
            }
        }
        report.push(TranscodedStream {
            name: info.name.clone(),
            from: match (&old.kind, kept) {
                (StreamKind::Frames { codec, .. }, None) => Some(*codec),
                _ => None,
            },
            kept_because: kept.clone(),
            samples: chunks.iter().map(|&i| reader.chunks()[i].rows).sum(),
            bytes_before,
            bytes_after,
        });
    }
    w.finish()?;
    // Bytes of re-encoded streams, now that their chunks are all written.
    let out = EpisodeReader::open(tmp)?;
    for (k, r) in report.iter_mut().enumerate() {
        if r.from.is_some() {
            r.bytes_after = out
                .chunks()
                .iter()
                .filter(|c| c.stream_id == ids[k].get())
                .map(|c| c.length)
                .sum();
        }
    }
    Ok(report)
}

fn temporary_beside(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}
