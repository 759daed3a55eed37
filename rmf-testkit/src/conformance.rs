//! The conformance cases: how each file in `testdata/` is made, and the canonical JSON of what a
//! reader must see in it. Shared by `examples/conformance_writer.rs`, `examples/conformance_reader.rs`
//! and `tests/conformance.rs`, so the files, the expectations and
//! the check cannot drift apart.
#![allow(dead_code)]

use std::path::Path;

use rmf_core::*;
use serde_json::{json, Map, Value};

/// Fixed metadata, so that the files are the same bytes every time.
fn meta(task: &str) -> EpisodeMeta {
    EpisodeMeta::new()
        .with_id(uuid::Uuid::from_u128(
            0x0123_4567_89ab_4def_8123_4567_89ab_cdef,
        ))
        .with_start_time_unix_ns(1_767_225_600_000_000_000) // 2026-01-01T00:00:00Z
        .with_robot("conformance-bot")
        .with_task(task)
        .with_operator("op-0")
}

fn opts() -> WriteOptions {
    // Frames encoded in the caller's thread: chunk order, and so every byte, is reproducible.
    WriteOptions::default()
        .with_overwrite(true)
        .with_frame_queue(0)
}

/// A valid case: its name, what it tests, and how to write it.
pub struct Case {
    /// The file's name without extension (`every-kind`).
    pub name: &'static str,
    /// What the file tests (its line in testdata/README.md).
    pub about: &'static str,
    /// Writes the file.
    pub write: fn(&Path) -> Result<()>,
    /// Bytes to keep of the written file (a truncated file), if not all.
    pub cut: Option<fn(u64) -> u64>,
}

/// Every valid conformance case, in the order testdata/README.md lists them.
pub fn cases() -> Vec<Case> {
    vec![
        Case { name: "empty", about: "an episode with metadata and no streams", write: write_empty, cut: None },
        Case { name: "signals-all-dtypes", about: "one signal stream per element type, scalar and [2, 2] shapes, extreme values, NaN and infinities", write: write_dtypes, cut: None },
        Case { name: "every-kind", about: "frames (rgb8, gray8, gray16), audio (int16 stereo, float32 mono), events with payloads, a signal; all four kinds in one file", write: write_every_kind, cut: None },
        Case { name: "frame-codecs", about: "PNG frames: rgb8, gray8 and gray16 (depth), decoded exactly", write: write_frame_codecs, cut: None },
        Case { name: "video-h264", about: "an H.264 gray8 camera (32x16, gop 4) over two chunks: keyframe flags, a keyframe at each chunk start; decoded bytes are exact", write: write_video_h264, cut: None },
        Case { name: "multi-chunk", about: "a 1 kHz signal and a 30 Hz camera split into many chunks (chunk duration 20 ms), with repeated timestamps across a chunk boundary", write: write_multi_chunk, cut: None },
        Case { name: "truncated", about: "multi-chunk cut in the middle of a chunk (a crash): no footer; a reader recovers every chunk before the cut", write: write_multi_chunk, cut: Some(|len| len * 3 / 5) },
    ]
}

/// An invalid file and the error class a reader must give.
pub struct Invalid {
    /// The file's name without extension.
    pub name: &'static str,
    /// What the file tests (its line in testdata/README.md).
    pub about: &'static str,
    /// The file's bytes.
    pub bytes: fn() -> Vec<u8>,
    /// What the reader must report: on open (`open_error`), or on reading a stream.
    pub expect: fn() -> Value,
}

/// Every invalid (damaged or hostile) case.
pub fn invalid() -> Vec<Invalid> {
    vec![
        Invalid {
            name: "not-rmf",
            about: "a Parquet file's first bytes: not an RMF file",
            bytes: || b"PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00\x12\x00\x00".to_vec(),
            expect: || json!({"open_error": "not_rmf"}),
        },
        Invalid {
            name: "future-major-version",
            about: "RMF magic with major version 2: a version this reader does not know",
            bytes: || {
                let mut h = rmf_core::format::file_header().to_vec();
                h[8] = 2;
                h
            },
            expect: || json!({"open_error": "unsupported_version"}),
        },
        Invalid {
            name: "short-header",
            about: "the magic and major version, then the file ends inside the header",
            bytes: || rmf_core::format::file_header()[..10].to_vec(),
            expect: || json!({"open_error": "truncated"}),
        },
        Invalid {
            name: "bad-chunk-checksum",
            about: "every-kind with one bit flipped inside the audio chunk's samples: the file opens, reading `mic` fails its buffer checksum",
            bytes: || {
                let mut b = written(write_every_kind);
                let r = EpisodeReader::from_bytes(b.clone(), "x", ReadOptions::default()).expect("valid");
                let s = r.streams().iter().position(|s| s.name == "mic").expect("mic") as u32;
                let c = r.chunks().iter().find(|c| c.stream_id == s).expect("a mic chunk").clone();
                let at = (c.offset + c.length - 8) as usize; // inside the last buffer
                b[at] ^= 0x08;
                b
            },
            expect: || json!({"open_error": null, "read_errors": {"mic": "checksum"}}),
        },
    ]
}

/// Writes a case to a temporary file and returns its bytes.
pub fn written(write: fn(&Path) -> Result<()>) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!(
        "rmf-conformance-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("case.rmf");
    write(&path).expect("writing a conformance case");
    let bytes = std::fs::read(&path).expect("reading it back");
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}

/// The bytes of a valid case.
pub fn case_bytes(case: &Case) -> Vec<u8> {
    let mut b = written(case.write);
    if let Some(cut) = case.cut {
        let keep = cut(b.len() as u64) as usize;
        b.truncate(keep);
    }
    b
}

fn write_empty(path: &Path) -> Result<()> {
    EpisodeWriter::create(
        path,
        meta("nothing happened").with_extra("note", "empty episode"),
        opts(),
    )?
    .finish()?;
    Ok(())
}

fn write_dtypes(path: &Path) -> Result<()> {
    let mut w = EpisodeWriter::create(path, meta("every element type"), opts())?;
    macro_rules! ints {
        ($($t:ty),*) => {$({
            let d = <$t as Element>::DTYPE;
            let scalar = w.add_stream(StreamInfo::signal(format!("{d}/scalar"), d, &[]))?;
            w.write_signals(scalar, &[-5, 0, 0, 7], &[<$t>::MIN, 0 as $t, <$t>::MAX, 1 as $t])?;
            let grid = w.add_stream(StreamInfo::signal(format!("{d}/grid"), d, &[2, 2]).with_names(["a", "b", "c", "d"]))?;
            w.write_signals(grid, &[10, 20], &[1 as $t, 2 as $t, 3 as $t, 4 as $t, <$t>::MAX, <$t>::MIN, 0 as $t, 9 as $t])?;
        })*};
    }
    ints!(u8, u16, u32, u64, i8, i16, i32, i64);
    let f =
        w.add_stream(StreamInfo::signal("float32/scalar", DType::Float32, &[]).with_units(["m"]))?;
    w.write_signals(
        f,
        &[0, 1, 2, 3, 4, 5],
        &[
            1.5f32,
            -0.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MIN_POSITIVE,
        ],
    )?;
    let d = w.add_stream(StreamInfo::signal("float64/grid", DType::Float64, &[2, 2]))?;
    w.write_signals(
        d,
        &[100, 200],
        &[
            0.1f64,
            -2.5e300,
            f64::MAX,
            f64::EPSILON,
            1.0,
            2.0,
            3.0,
            f64::NAN,
        ],
    )?;
    w.finish()?;
    Ok(())
}

fn write_every_kind(path: &Path) -> Result<()> {
    let mut w = EpisodeWriter::create(
        path,
        meta("one of each").with_extra("site", "bench-1"),
        opts(),
    )?;
    let rgb = w.add_stream(
        StreamInfo::frames("cam/rgb", 3, 2, PixelFormat::Rgb8)
            .with_rate(30.0)
            .with_sensitivity(Sensitivity::Private),
    )?;
    let gray = w.add_stream(StreamInfo::frames("cam/gray", 2, 2, PixelFormat::Gray8))?;
    let depth = w.add_stream(
        StreamInfo::frames("cam/depth", 2, 1, PixelFormat::Gray16).with_units(["mm"]),
    )?;
    let mic =
        w.add_stream(StreamInfo::audio("mic", 16_000, 2, DType::Int16).with_tag("device", "usb"))?;
    let mono = w.add_stream(StreamInfo::audio("mic/mono", 8_000, 1, DType::Float32))?;
    let ev =
        w.add_stream(StreamInfo::events("interventions").with_sensitivity(Sensitivity::Public))?;
    let ft = w.add_stream(
        StreamInfo::signal("ft", DType::Float32, &[6])
            .with_rate(1000.0)
            .with_names(["fx", "fy", "fz", "tx", "ty", "tz"]),
    )?;
    for i in 0..3u8 {
        let t = i as i64 * 33_333_333;
        w.write_frame(
            rgb,
            t,
            &[
                i,
                10,
                20,
                30,
                40,
                50,
                60,
                70,
                80,
                90,
                100,
                110 + i,
                120,
                130,
                140,
                150,
                160,
                170,
            ],
        )?;
        w.write_frame(gray, t + 1, &[i, 255, 0, 128])?;
        w.write_frame(depth, t + 2, &[0x10, 0x27, 0xff, i])?; // 10000 mm, then 0x??ff
    }
    w.write_audio(mic, 0, &[1i16, -1, 2, -2, 3, -3, i16::MAX, i16::MIN])?;
    w.write_audio(mic, 250_000, &[7i16, 8])?;
    w.write_audio(mono, 5, &[0.25f32, -0.5, 1.0])?;
    w.write_event(
        ev,
        10_000_000,
        &Event::new("takeover_start")
            .with_operator("op-0")
            .with_text("slip")
            .with_payload(json!({"reason": "slip", "grip": 0.4})),
    )?;
    w.write_event(
        ev,
        20_000_000,
        &Event::new("takeover_end").with_operator("op-0"),
    )?;
    w.write_event(ev, 20_000_000, &Event::new("note").with_text("ünïcødé ✓"))?;
    for i in 0..5i64 {
        w.write_signal(ft, i * 1_000_000, &[i as f32, 0.5, -9.81, 0.0, 0.01, -0.01])?;
    }
    w.finish()?;
    Ok(())
}

fn write_frame_codecs(path: &Path) -> Result<()> {
    let mut w = EpisodeWriter::create(path, meta("png frames"), opts())?;
    let png =
        |name: &str, wd, h, pf| StreamInfo::frames(name, wd, h, pf).with_codec(FrameCodec::Png);
    let rgb = w.add_stream(png("cam/rgb", 3, 2, PixelFormat::Rgb8))?;
    let gray = w.add_stream(png("cam/gray", 2, 2, PixelFormat::Gray8))?;
    let depth = w.add_stream(png("cam/depth", 2, 1, PixelFormat::Gray16).with_units(["mm"]))?;
    for i in 0..2u8 {
        let t = i as i64 * 50_000_000;
        w.write_frame(
            rgb,
            t,
            &[
                i, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255, 9, 8, 7, 6, 5, i,
            ],
        )?;
        w.write_frame(gray, t, &[0, 255, i, 128])?;
        w.write_frame(depth, t, &[0x10, 0x27, 0xff, i])?;
    }
    w.finish()?;
    Ok(())
}

fn write_video_h264(path: &Path) -> Result<()> {
    let mut w = EpisodeWriter::create(
        path,
        meta("h264 frames"),
        opts().with_chunk_duration_ns(200_000_000),
    )?;
    let cam = w.add_stream(
        StreamInfo::frames("cam/gray", 32, 16, PixelFormat::Gray8)
            .with_codec(FrameCodec::H264 { qp: 30, gop: 4 })
            .with_rate(30.0),
    )?;
    for i in 0..10u32 {
        // A diagonal ramp moving right two pixels a frame, with a bright square.
        let frame: Vec<u8> = (0..16u32)
            .flat_map(|y| (0..32u32).map(move |x| (x, y)))
            .map(|(x, y)| {
                let square = (8..14).contains(&y) && (4 + 2 * i..10 + 2 * i).contains(&x);
                if square {
                    230
                } else {
                    ((x + 2 * i) * 6 + y * 3) as u8
                }
            })
            .collect();
        w.write_frame(cam, i as i64 * 33_333_333, &frame)?;
    }
    w.finish()?;
    Ok(())
}

fn write_multi_chunk(path: &Path) -> Result<()> {
    let mut w = EpisodeWriter::create(
        path,
        meta("many chunks"),
        opts().with_chunk_duration_ns(20_000_000),
    )?;
    let s = w.add_stream(StreamInfo::signal("joints", DType::Float32, &[2]).with_rate(1000.0))?;
    let cam = w.add_stream(StreamInfo::frames("cam", 2, 2, PixelFormat::Gray8).with_rate(30.0))?;
    for i in 0..100i64 {
        // Samples 39 and 40 share a time, and 40 starts a new chunk.
        let t = if i == 40 { 39_000_000 } else { i * 1_000_000 };
        w.write_signal(s, t, &[i as f32 * 0.125, -(i as f32)])?;
        if i % 33 == 0 {
            w.write_frame(cam, t, &[i as u8, 1, 2, 3])?;
        }
    }
    w.finish()?;
    Ok(())
}

/// A JSON number for an element, with non-finite floats as strings ("NaN", "inf", "-inf").
fn number(v: f64, is_float: bool, raw: Value) -> Value {
    if !is_float {
        return raw;
    }
    if v.is_nan() {
        json!("NaN")
    } else if v.is_infinite() {
        json!(if v > 0.0 { "inf" } else { "-inf" })
    } else {
        raw
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The error class of an error, as named in the conformance files.
pub fn error_class(e: &Error) -> &'static str {
    match e {
        Error::NotRmf { .. } => "not_rmf",
        Error::UnsupportedVersion { .. } => "unsupported_version",
        Error::Truncated { .. } => "truncated",
        Error::Checksum { .. } => "checksum",
        Error::Malformed { .. } => "malformed",
        Error::TooLarge { .. } => "too_large",
        _ => "other",
    }
}

/// Samples of one stream as canonical JSON rows.
fn samples(r: &EpisodeReader, info: &StreamInfo) -> Result<Vec<Value>> {
    let name = info.name.as_str();
    let rows = match &info.kind {
        StreamKind::Signal { dtype, .. } => {
            let is_float = matches!(dtype, DType::Float32 | DType::Float64);
            rmf_core::with_dtype!(dtype, T => {
                let (ts, vs) = r.signal_range::<T>(name, i64::MIN, i64::MAX)?;
                let width = info.signal_width();
                ts.iter()
                    .enumerate()
                    .map(|(i, t)| {
                        let value: Vec<Value> = vs[i * width..(i + 1) * width]
                            .iter()
                            .map(|v| number(Element::to_f64(*v), is_float, json!(v)))
                            .collect();
                        json!({"t": t, "value": value})
                    })
                    .collect()
            })
        }
        StreamKind::Frames { .. } => {
            let (ts, px) = r.frames_range(name, i64::MIN, i64::MAX)?;
            let n = info.frame_bytes();
            ts.iter().enumerate().map(|(i, t)| json!({"t": t, "frame_hex": hex(&px[i * n..(i + 1) * n])})).collect()
        }
        StreamKind::Audio { dtype: DType::Int16, .. } => r
            .audio_range::<i16>(name, i64::MIN, i64::MAX)?
            .into_iter()
            .map(|b| json!({"t": b.t, "samples": b.samples}))
            .collect(),
        StreamKind::Audio { .. } => r
            .audio_range::<f32>(name, i64::MIN, i64::MAX)?
            .into_iter()
            .map(|b| json!({"t": b.t, "samples": b.samples}))
            .collect(),
        StreamKind::Events => r
            .events_range(name, i64::MIN, i64::MAX)?
            .into_iter()
            .map(|(t, e)| json!({"t": t, "kind": e.kind, "operator": e.operator, "text": e.text, "payload": e.payload}))
            .collect(),
        other => {
            return Err(rmf_core::Error::InvalidArgument(format!(
                "stream {name:?}: no canonical form for {} streams",
                other.name()
            )))
        }
    };
    Ok(rows)
}

/// What a reader must see in a file: metadata, streams, chunk index, every sample, and for an
/// unfinished file what recovery kept. The shape is documented in testdata/README.md.
pub fn canonical_json(r: &EpisodeReader) -> Value {
    let streams: Vec<Value> = r
        .streams()
        .iter()
        .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
        .collect();
    let chunks: Vec<Value> = r
        .chunks()
        .iter()
        .map(|c| {
            let stream = r.stream_of(c).map(|s| s.name.clone());
            json!({"stream": stream, "t_min": c.t_min, "t_max": c.t_max, "rows": c.rows, "offset": c.offset, "length": c.length})
        })
        .collect();
    let mut data = Map::new();
    let mut read_errors = Map::new();
    for s in r.streams() {
        match samples(r, s) {
            Ok(rows) => {
                data.insert(s.name.clone(), Value::Array(rows));
            }
            Err(e) => {
                read_errors.insert(s.name.clone(), json!(error_class(&e)));
            }
        }
    }
    let recovery = r.recovery().map(|rep| {
        json!({
            "chunks": rep.chunks,
            "damage": rep.damage.iter().map(|d| json!({"offset": d.offset, "length": d.length})).collect::<Vec<_>>(),
        })
    });
    let mut out = json!({
        "finished": r.recovery().is_none(),
        "episode": r.meta(),
        "streams": streams,
        "chunks": chunks,
        "samples": data,
        "recovery": recovery,
    });
    if !read_errors.is_empty() {
        out["read_errors"] = Value::Object(read_errors);
    }
    out
}

/// What a reader must report for an invalid file.
pub fn invalid_json(bytes: Vec<u8>) -> Value {
    match EpisodeReader::from_bytes(bytes, "invalid", ReadOptions::default()) {
        Err(e) => json!({"open_error": error_class(&e)}),
        Ok(r) => {
            let c = canonical_json(&r);
            json!({"open_error": null, "read_errors": c.get("read_errors").cloned().unwrap_or(json!({}))})
        }
    }
}
