//! `transcode`: a new file with some frame streams re-encoded (say, a recording's fast H.264
//! turned into the densest setting overnight) and every other stream's chunks copied
//! byte for byte. The input is never modified: the output is written beside its final name,
//! synced, then renamed.

use std::path::{Path, PathBuf};

use crate::edit::{rewrite, StreamPlan};
use crate::error::Result;
use crate::read::EpisodeReader;
use crate::schema::{StreamInfo, StreamKind};
use crate::write::WriteOptions;
use rmf_codecs::{FrameCodec, PixelFormat};

/// What to re-encode, and how: `TranscodeOptions::new(FrameCodec::H264 { qp: 23, gop: 4 })`,
/// then the setters.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscodeOptions {
    codec: FrameCodec,
    streams: Vec<String>,
    write: WriteOptions,
}

impl TranscodeOptions {
    /// Re-encode every frame stream the codec can hold with `codec` (and its parameters).
    pub fn new(codec: FrameCodec) -> Self {
        TranscodeOptions {
            codec,
            streams: Vec::new(),
            write: WriteOptions::default(),
        }
    }

    /// Re-encode only these frame streams (by name); empty: every frame stream.
    pub fn with_streams<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.streams = names.into_iter().map(Into::into).collect();
        self
    }

    /// How the output is written (chunking, compression levels, encoder queues, progress).
    pub fn with_write(mut self, write: WriteOptions) -> Self {
        self.write = write;
        self
    }

    /// The codec frames are re-encoded with.
    pub fn codec(&self) -> FrameCodec {
        self.codec
    }

    /// The streams selected (empty: every frame stream).
    pub fn streams(&self) -> &[String] {
        &self.streams
    }

    /// How the output is written.
    pub fn write(&self) -> &WriteOptions {
        &self.write
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

/// Writes `output`: `input` with frame streams re-encoded as `opts` says; `opts.write.progress`
/// is told the bytes of input done.
pub fn transcode(
    input: impl AsRef<Path>,
    output: impl AsRef<Path>,
    opts: &TranscodeOptions,
) -> Result<TranscodeReport> {
    let (input, output) = (input.as_ref(), output.as_ref());
    // Opened as the rewrite opens it: with the writer's secret, so sealed streams are read.
    let reader = EpisodeReader::open_with(input, opts.write.read_options())?;
    for name in &opts.streams {
        reader.stream(name)?;
    }
    let plans: Vec<(StreamPlan, Option<String>)> = reader
        .streams()
        .iter()
        .map(|s| plan_stream(s, opts))
        .collect();
    let mut meta = reader.meta().clone();
    meta.extra.insert(
        "transcoded_from".into(),
        serde_json::json!({"file": reader.file_name(), "writer": reader.meta().writer}),
    );
    let old: Vec<StreamInfo> = reader.streams().to_vec();
    drop(reader);
    let plan: Vec<StreamPlan> = plans.iter().map(|(p, _)| p.clone()).collect();
    let r = rewrite(input, output, meta, &plan, opts.write.clone())?;
    let streams = r
        .streams
        .into_iter()
        .zip(plans)
        .zip(&old)
        .map(|((o, (_, why)), old)| TranscodedStream {
            name: o.name,
            from: match (&o.plan, &old.kind) {
                (StreamPlan::Reencode(_), StreamKind::Frames { codec, .. }) => Some(*codec),
                _ => None,
            },
            kept_because: why,
            samples: o.samples,
            bytes_before: o.bytes_before,
            bytes_after: o.bytes_after,
        })
        .collect();
    Ok(TranscodeReport {
        output: r.output,
        input_bytes: r.input_bytes,
        output_bytes: r.output_bytes,
        streams,
    })
}

/// What to do with a stream, and why it is copied unchanged, if it is.
fn plan_stream(s: &StreamInfo, opts: &TranscodeOptions) -> (StreamPlan, Option<String>) {
    let keep = |why: String| (StreamPlan::Copy(s.clone()), Some(why));
    let StreamKind::Frames { pixel_format, .. } = &s.kind else {
        return keep(format!("{} stream", s.kind.name()));
    };
    if !opts.streams.is_empty() && !opts.streams.contains(&s.name) {
        return keep("not selected".into());
    }
    let lossy = matches!(
        opts.codec,
        FrameCodec::Jpeg { .. } | FrameCodec::H264 { .. }
    );
    if lossy && *pixel_format == PixelFormat::Gray16 {
        return keep(format!(
            "{} cannot hold gray16 frames (depth stays lossless)",
            opts.codec.name()
        ));
    }
    let new = s.clone().with_codec(opts.codec);
    match new.validate() {
        Ok(()) => (StreamPlan::Reencode(new), None),
        Err(e) => keep(e.to_string()),
    }
}
