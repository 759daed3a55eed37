//! `rmf import-wav` / `export-wav`: sample-exact round trips (a real float WAV, a synthetic int16
//! stereo one), episode-clock placement, gaps, unsupported formats; and the CLI's error lines.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rmf_core::{DType, EpisodeMeta, EpisodeReader, EpisodeWriter, StreamInfo, WriteOptions};

fn rmf(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rmf"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = rmf(args);
    assert!(
        out.status.success(),
        "rmf {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn real_wav() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/sensors/audio_crazyflie/propellers_52000.wav")
}

#[test]
fn a_real_float_wav_round_trips_sample_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (ep, back) = (dir.path().join("a.rmf"), dir.path().join("back.wav"));
    let src = real_wav();
    let text = ok(&["import-wav", s(&src), s(&ep), "--start", "1s"]);
    assert!(text.contains("44100 Hz float32"), "{text}");
    let text = ok(&["export-wav", s(&ep), s(&back)]);
    assert!(text.contains("first sample at 1000000000 ns"), "{text}");

    let mut a = hound::WavReader::open(&src).unwrap();
    let mut b = hound::WavReader::open(&back).unwrap();
    assert_eq!(a.spec(), b.spec());
    let xa: Vec<u32> = a.samples::<f32>().map(|x| x.unwrap().to_bits()).collect();
    let xb: Vec<u32> = b.samples::<f32>().map(|x| x.unwrap().to_bits()).collect();
    assert!(xa.len() > 200_000 && xa == xb, "samples differ");

    // On the episode clock, block k starts at start + first_index / rate.
    let r = EpisodeReader::open(&ep).unwrap();
    assert_eq!(r.meta().clock, "wav_samples");
    let blocks = r.audio_range::<f32>("mic", i64::MIN, i64::MAX).unwrap();
    assert_eq!(blocks[0].t, 1_000_000_000);
    assert_eq!(blocks[1].t, 1_000_000_000 + 882 * 1_000_000_000 / 44_100);
}

#[test]
fn int16_stereo_round_trips_and_ranges_cut_at_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let (src, ep, back) = (
        dir.path().join("s.wav"),
        dir.path().join("s.rmf"),
        dir.path().join("b.wav"),
    );
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&src, spec).unwrap();
    let samples: Vec<i16> = (0..8000 * 2)
        .map(|i| ((i * 37) % 65536 - 32768) as i16)
        .collect();
    for &x in &samples {
        w.write_sample(x).unwrap();
    }
    w.finalize().unwrap();
    ok(&[
        "import-wav",
        s(&src),
        s(&ep),
        "--stream",
        "left_right",
        "--block-ms",
        "100",
    ]);
    ok(&["export-wav", s(&ep), s(&back), "--stream", "left_right"]);
    let got: Vec<i16> = hound::WavReader::open(&back)
        .unwrap()
        .samples::<i16>()
        .map(|x| x.unwrap())
        .collect();
    assert_eq!(got, samples);

    // Blocks starting in [0.2 s, 0.5 s): three 100 ms blocks.
    ok(&[
        "export-wav",
        s(&ep),
        s(&back),
        "--from",
        "+200ms",
        "--to",
        "500000000ns",
        "--overwrite", // the whole-stream export above wrote `back`
    ]);
    let got: Vec<i16> = hound::WavReader::open(&back)
        .unwrap()
        .samples::<i16>()
        .map(|x| x.unwrap())
        .collect();
    assert_eq!(got, samples[2 * 1600..5 * 1600]);
}

#[test]
fn gaps_fail_unless_filled_and_bad_inputs_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let ep = dir.path().join("gap.rmf");
    let mut w = EpisodeWriter::create(&ep, EpisodeMeta::new(), WriteOptions::default()).unwrap();
    let id = w
        .add_stream(StreamInfo::audio("mic", 1000, 1, DType::Int16))
        .unwrap();
    w.write_audio(id, 0, &[1i16, 2, 3]).unwrap(); // 0, 1, 2 ms
    w.write_audio(id, 5_000_000, &[4i16, 5]).unwrap(); // 5, 6 ms: samples at 3 and 4 ms missing
    w.finish().unwrap();
    let wav = dir.path().join("gap.wav");
    let out = rmf(&["export-wav", s(&ep), s(&wav)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("2 samples missing before the block at 5000000 ns"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!wav.exists(), "a failed export must leave no file");

    let text = ok(&["export-wav", s(&ep), s(&wav), "--fill-gaps"]);
    assert!(text.contains("2 frames of silence"), "{text}");
    let got: Vec<i16> = hound::WavReader::open(&wav)
        .unwrap()
        .samples::<i16>()
        .map(|x| x.unwrap())
        .collect();
    assert_eq!(got, [1, 2, 3, 0, 0, 4, 5]);

    // A 24-bit WAV is refused with a hint; a missing file is one line too.
    let w24 = dir.path().join("24.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&w24, spec).unwrap();
    w.write_sample(5i32).unwrap();
    w.finalize().unwrap();
    let out = rmf(&["import-wav", s(&w24), s(&dir.path().join("x.rmf"))]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        out.status.code() == Some(2) && err.contains("24-bit integer samples"),
        "{err}"
    );
    let out = rmf(&["info", s(&dir.path().join("missing.rmf"))]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("rmf: error:") && err.lines().count() == 1,
        "{err}"
    );
}
