//! `rmf import-wav` and `rmf export-wav`: WAV files in and out of audio streams, sample-exact on
//! the episode clock. Sample `i` of an imported file is at `start_ns + floor(i * 1e9 / rate)`;
//! each block is stamped with the time of its first sample, so export can check that blocks
//! follow each other without gaps or overlaps (half a sample period of tolerance).

use std::path::Path;

use rmf_core::{
    DType, EpisodeMeta, EpisodeReader, EpisodeWriter, Error, Progress, Result, StreamInfo,
    StreamKind, WriteOptions,
};

fn wav_error(path: &Path, e: hound::Error) -> Error {
    match e {
        hound::Error::IoError(io) => Error::Io {
            path: path.to_path_buf(),
            op: "WAV",
            source: io,
        },
        other => Error::InvalidArgument(format!("{}: {other}", path.display())),
    }
}

/// Time of sample `i` after `start_ns` at `rate` Hz (exact integer arithmetic).
fn sample_time(start_ns: i64, i: u64, rate: u32) -> i64 {
    start_ns.saturating_add((i as i128 * 1_000_000_000 / rate as i128) as i64)
}

/// What an import wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// Sample frames (one sample per channel).
    pub frames: u64,
    /// Interleaved channels.
    pub channels: u16,
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// `int16` or `float32`.
    pub dtype: DType,
    /// Audio blocks written.
    pub blocks: u64,
}

/// Reads `wav` into a new episode `out` with one audio stream `stream`.
pub fn import(
    wav: &Path,
    out: &Path,
    stream: &str,
    start_ns: i64,
    block_ms: u32,
    overwrite: bool,
) -> Result<Imported> {
    let mut reader = hound::WavReader::open(wav).map_err(|e| wav_error(wav, e))?;
    let file_len = std::fs::metadata(wav).map_or(0, |m| m.len());
    let spec = reader.spec();
    let dtype = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, 16) => DType::Int16,
        (hound::SampleFormat::Float, 32) => DType::Float32,
        (fmt, bits) => {
            return Err(Error::InvalidArgument(format!(
                "{}: {bits}-bit {} samples; RMF audio holds 16-bit integer or 32-bit float PCM (convert first, e.g. `sox in.wav -b 16 out.wav`)",
                wav.display(),
                if fmt == hound::SampleFormat::Int { "integer" } else { "float" }
            )))
        }
    };
    if block_ms == 0 {
        return Err(Error::InvalidArgument("--block-ms must be positive".into()));
    }
    // The clock is the WAV's sample counter from `start_ns`, not a robot clock.
    let meta = EpisodeMeta::new()
        .with_clock("wav_samples")
        .with_task(format!("audio imported from {}", wav.display()))
        .with_extra("source", wav.display().to_string());
    // Written beside `out` and moved into place when complete: a failure leaves no half file.
    let (frames, blocks) = rmf_core::place::write_new_file(out, overwrite, |tmp| {
        let mut w = EpisodeWriter::create(tmp, meta, WriteOptions::default())?;
        let info = StreamInfo::audio(stream, spec.sample_rate, spec.channels, dtype)
            .with_tag("source", wav.display().to_string());
        let id = w.add_stream(info)?;
        let ch = spec.channels as usize;
        let block_frames = ((spec.sample_rate as u64 * block_ms as u64) / 1000).max(1) as usize;
        // The rate and channel count come from the file's header: room is set aside for no
        // more samples than the file can hold (2 bytes each at least).
        let room = block_frames
            .saturating_mul(ch)
            .min(usize::try_from(file_len / 2).unwrap_or(usize::MAX));
        let mut frames = 0u64;
        let mut blocks = 0u64;
        macro_rules! pump {
            ($t:ty) => {{
                let mut samples = reader.samples::<$t>();
                let mut block: Vec<$t> = Vec::with_capacity(room);
                loop {
                    block.clear();
                    for s in samples.by_ref().take(block_frames.saturating_mul(ch)) {
                        block.push(s.map_err(|e| wav_error(wav, e))?);
                    }
                    let n = block.len() / ch;
                    if n == 0 {
                        break;
                    }
                    block.truncate(n * ch);
                    w.write_audio(id, sample_time(start_ns, frames, spec.sample_rate), &block)?;
                    frames += n as u64;
                    blocks += 1;
                }
            }};
        }
        match dtype {
            DType::Int16 => pump!(i16),
            _ => pump!(f32),
        }
        w.finish()?;
        Ok((frames, blocks))
    })?;
    Ok(Imported {
        frames,
        channels: spec.channels,
        sample_rate: spec.sample_rate,
        dtype,
        blocks,
    })
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    /// Sample frames written (silence included).
    pub frames: u64,
    /// Time of the first sample written, if any.
    pub first_ns: Option<i64>,
    /// Frames of silence written for gaps (`fill_gaps`).
    pub filled_frames: u64,
}

/// Writes audio stream `stream` (the episode's only audio stream when `None`) of `r` to
/// `wav`, blocks starting in `[t0, t1)`. Gaps between blocks are an error unless `fill_gaps`,
/// which writes silence for them; overlaps are always an error.
#[allow(clippy::too_many_arguments)] // the command line's options, one each
pub fn export(
    r: &EpisodeReader,
    stream: Option<&str>,
    wav: &Path,
    t0: i64,
    t1: i64,
    fill_gaps: bool,
    overwrite: bool,
    progress: Option<&Progress>,
) -> Result<Exported> {
    let name = match stream {
        Some(s) => s.to_string(),
        None => {
            let audio: Vec<&StreamInfo> = r
                .streams()
                .iter()
                .filter(|s| matches!(s.kind, StreamKind::Audio { .. }))
                .collect();
            match audio.as_slice() {
                [one] => one.name.clone(),
                _ => {
                    return Err(Error::InvalidArgument(format!(
                        "{} has {} audio streams: name one with --stream",
                        r.file_name(),
                        audio.len()
                    )))
                }
            }
        }
    };
    let StreamKind::Audio {
        sample_rate,
        channels,
        dtype,
    } = r.stream(&name)?.kind.clone()
    else {
        return Err(Error::Mismatch {
            stream: name,
            detail: "not an audio stream".into(),
        });
    };
    let spec = hound::WavSpec {
        channels,
        sample_rate,
        bits_per_sample: if dtype == DType::Int16 { 16 } else { 32 },
        sample_format: if dtype == DType::Int16 {
            hound::SampleFormat::Int
        } else {
            hound::SampleFormat::Float
        },
    };
    // Written beside the target and moved into place: a failed export leaves no half file, and
    // an existing file is replaced only when asked.
    rmf_core::place::write_new_file(wav, overwrite, |tmp| {
        write_wav(r, &name, tmp, spec, dtype, (t0, t1, fill_gaps), progress)
    })
}

#[allow(clippy::too_many_arguments)]
fn write_wav(
    r: &EpisodeReader,
    name: &str,
    wav: &Path,
    spec: hound::WavSpec,
    dtype: DType,
    (t0, t1, fill_gaps): (i64, i64, bool),
    progress: Option<&Progress>,
) -> Result<Exported> {
    let (sample_rate, channels) = (spec.sample_rate, spec.channels);
    let name = name.to_string();
    let mut out = hound::WavWriter::create(wav, spec).map_err(|e| wav_error(wav, e))?;
    let ch = channels as usize;
    let mut done = Exported {
        frames: 0,
        first_ns: None,
        filled_frames: 0,
    };
    let period = 1e9 / sample_rate as f64;
    macro_rules! pump {
        ($t:ty) => {{
            let blocks = r.audio_range::<$t>(&name, t0, t1)?;
            let size = std::mem::size_of::<$t>() as u64;
            let total: u64 = blocks.iter().map(|b| b.samples.len() as u64 * size).sum();
            let mut written = 0u64;
            for b in blocks {
                let first = *done.first_ns.get_or_insert(b.t);
                let expected = sample_time(first, done.frames, sample_rate);
                let late = (b.t - expected) as f64 / period;
                if late <= -0.5 {
                    return Err(Error::Mismatch {
                        stream: name.clone(),
                        detail: format!("the block at {} ns overlaps the previous one by {:.1} samples: a WAV file cannot hold it", b.t, -late),
                    });
                }
                if late >= 0.5 {
                    let missing = late.round() as u64;
                    if !fill_gaps {
                        return Err(Error::Mismatch {
                            stream: name.clone(),
                            detail: format!("{missing} samples missing before the block at {} ns (pass --fill-gaps to write silence)", b.t),
                        });
                    }
                    for _ in 0..missing * ch as u64 {
                        out.write_sample(<$t>::default()).map_err(|e| wav_error(wav, e))?;
                    }
                    done.frames += missing;
                    done.filled_frames += missing;
                }
                for &s in &b.samples {
                    out.write_sample(s).map_err(|e| wav_error(wav, e))?;
                }
                done.frames += (b.samples.len() / ch) as u64;
                written += b.samples.len() as u64 * size;
                if let Some(p) = progress {
                    p.report(written, total);
                }
            }
        }};
    }
    match dtype {
        DType::Int16 => pump!(i16),
        _ => pump!(f32),
    }
    out.finalize().map_err(|e| wav_error(wav, e))?;
    Ok(done)
}
