//! Data out to other tools: `rmf export` (Parquet or CSV tables), `rmf export-frames` (image
//! files or an H.264 stream) and `rmf export-wav`.

use crate::commands::ExitCode;
use std::io::Write as _;
use std::path::PathBuf;

use rmf_core::codecs::frame;
use rmf_core::{Error, FrameCodec, FrameSpec, StreamKind};
use rmf_dataset::export::{export_stream_with, TableFormat};

use super::when::{episode_start, When};
use super::{io_error, CliResult};
use crate::context::Ctx;

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The episode.
    file: PathBuf,
    /// The stream.
    #[arg(long)]
    stream: String,
    /// The table file to write (must not exist).
    out: PathBuf,
    /// parquet or csv (default: from OUT's extension).
    #[arg(long)]
    format: Option<String>,
}

#[derive(clap::Args)]
pub struct ExportFramesArgs {
    /// The episode.
    file: PathBuf,
    /// The frame stream.
    #[arg(long)]
    stream: String,
    /// The output directory (created; must not hold files of a previous export).
    outdir: PathBuf,
}

#[derive(clap::Args)]
pub struct ExportWavArgs {
    /// The episode.
    file: PathBuf,
    /// The WAV file to write.
    wav: PathBuf,
    /// The audio stream (default: the episode's only one).
    #[arg(long)]
    stream: Option<String>,
    /// Export blocks starting at or after this time (`1000.2s`, `250ms`, `123ns`, or `+1.5s`
    /// after the episode's first sample); default: the first block.
    #[arg(long, allow_hyphen_values = true, value_name = "TIME")]
    from: Option<When>,
    /// Export blocks starting before this time (as --from); default: through the last block.
    #[arg(long, allow_hyphen_values = true, value_name = "TIME")]
    to: Option<When>,
    /// Write silence for gaps between blocks instead of failing.
    #[arg(long)]
    fill_gaps: bool,
}

pub fn table(ctx: &Ctx, a: ExportArgs) -> CliResult {
    let format = match a.format.as_deref() {
        Some("parquet") => TableFormat::Parquet,
        Some("csv") => TableFormat::Csv,
        Some(other) => {
            return Err(Error::InvalidArgument(format!(
                "--format must be parquet or csv, not {other:?}"
            )))
        }
        None => TableFormat::from_path(&a.out).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{}: say --format parquet or csv (the extension does not)",
                a.out.display()
            ))
        })?,
    };
    let r = ctx.open(&a.file)?;
    let rows = export_stream_with(&r, &a.stream, &a.out, format, ctx.overwrite())?;
    ctx.say(
        format!(
            "exported {rows} rows of {:?} to {}",
            a.stream,
            a.out.display()
        ),
        serde_json::json!({"output": a.out, "stream": a.stream, "rows": rows}),
    );
    Ok(ExitCode::SUCCESS)
}

pub fn frames(ctx: &Ctx, a: ExportFramesArgs) -> CliResult {
    let (stream, outdir) = (a.stream.as_str(), a.outdir.as_path());
    let r = ctx.open(&a.file)?;
    let info = r.stream(stream)?;
    let StreamKind::Frames { codec, .. } = info.kind else {
        return Err(Error::InvalidArgument(format!(
            "stream {stream:?} is a {} stream, not frames",
            info.kind.name()
        )));
    };
    let io = |what| io_error(outdir, what);
    std::fs::create_dir_all(outdir).map_err(io("create the output directory"))?;
    let frames = r.stored_frames(stream)?;
    let total: u64 = frames.iter().map(|(_, f)| f.len() as u64).sum();
    let (progress, mut written) = (ctx.progress(), 0u64);
    let mut csv = String::from("frame,file,t\n");
    if codec.is_video() {
        let path = outdir.join("frames.h264");
        let mut f = std::fs::File::create_new(&path).map_err(io("create frames.h264"))?;
        for (i, (t, unit)) in frames.iter().enumerate() {
            f.write_all(unit).map_err(io("write frames.h264"))?;
            csv.push_str(&format!("{i},frames.h264,{t}\n"));
            written += unit.len() as u64;
            progress.report(written, total);
        }
        f.sync_all().map_err(io("sync frames.h264"))?;
    } else {
        let ext = match codec {
            FrameCodec::Jpeg { .. } => "jpg",
            _ => "png",
        };
        let spec = info
            .frame_spec()
            .ok_or_else(|| Error::InvalidArgument(format!("stream {stream:?} holds no frames")))?;
        let as_png = FrameSpec {
            codec: FrameCodec::Png,
            ..spec
        };
        for (i, (t, stored)) in frames.iter().enumerate() {
            let name = format!("{i:06}.{ext}");
            let bytes = match codec {
                FrameCodec::Raw => {
                    let pixels = frame::decode(&spec, stored)
                        .map_err(|e| Error::Encode(format!("frame {i}: {}", e.0)))?;
                    frame::encode(&as_png, &pixels, &Default::default())
                        .map_err(|e| Error::Encode(format!("frame {i}: {}", e.0)))?
                }
                _ => stored.clone(),
            };
            std::fs::File::create_new(outdir.join(&name))
                .and_then(|mut f| f.write_all(&bytes))
                .map_err(io("write a frame file"))?;
            csv.push_str(&format!("{i},{name},{t}\n"));
            written += stored.len() as u64;
            progress.report(written, total);
        }
    }
    std::fs::write(outdir.join("timestamps.csv"), csv).map_err(io("write timestamps.csv"))?;
    ctx.say(
        format!(
            "exported {} frames of {stream:?} ({}) to {}",
            frames.len(),
            codec.name(),
            outdir.display()
        ),
        serde_json::json!({
            "output": outdir, "stream": stream, "codec": codec.name(), "frames": frames.len(),
        }),
    );
    Ok(ExitCode::SUCCESS)
}

pub fn wav(ctx: &Ctx, a: ExportWavArgs) -> CliResult {
    let r = ctx.open(&a.file)?;
    let on_clock = |w: Option<When>, none: i64| match w {
        Some(w) => w.resolve(|| episode_start(&r)),
        None => Ok(none),
    };
    let (from, to) = (on_clock(a.from, i64::MIN)?, on_clock(a.to, i64::MAX)?);
    let e = rmf_import::wav::export(
        &r,
        a.stream.as_deref(),
        &a.wav,
        from,
        to,
        a.fill_gaps,
        ctx.overwrite(),
        Some(&ctx.progress()),
    )?;
    let first = e.first_ns.map_or("-".to_string(), |t| format!("{t} ns"));
    ctx.say(
        format!(
            "wrote {} frames to {} (first sample at {first}; {} frames of silence filled)",
            e.frames,
            a.wav.display(),
            e.filled_frames
        ),
        serde_json::json!({
            "output": a.wav, "frames": e.frames, "first_ns": e.first_ns,
            "filled_frames": e.filled_frames,
        }),
    );
    Ok(ExitCode::SUCCESS)
}
