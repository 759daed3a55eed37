//! Shared helpers of the integration tests: a small episode with every stream kind and
//! element type, and comparisons of what a reader returns with what was written.
#![allow(dead_code, missing_docs, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use rmf_core::*;

/// A temporary directory that lives as long as the value.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

/// What `write_small` wrote, to compare against.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub ft_t: Vec<i64>,
    pub ft_v: Vec<f32>,
    pub counter_t: Vec<i64>,
    pub counter_v: Vec<u16>,
    pub cam_t: Vec<i64>,
    pub cam: Vec<u8>,
    pub mic: Vec<AudioBlock<i16>>,
    pub events: Vec<(i64, Event)>,
}

/// A small episode of every kind, several chunks per stream (chunks of 50 ms).
pub fn write_small(path: &Path) -> Written {
    let opts = WriteOptions::default()
        .with_chunk_duration_ns(50_000_000)
        .with_overwrite(true);
    let meta = EpisodeMeta::new()
        .with_robot("test-arm")
        .with_task("round trip")
        .with_operator("op-1")
        .with_extra("k", 1);
    let mut w = EpisodeWriter::create(path, meta, opts).unwrap();
    let ft = w
        .add_stream(StreamInfo::signal("ft", DType::Float32, &[3]).with_rate(1000.0))
        .unwrap();
    let counter = w
        .add_stream(StreamInfo::signal("counter", DType::Uint16, &[]))
        .unwrap();
    let cam = w
        .add_stream(StreamInfo::frames("cam", 4, 3, PixelFormat::Gray16).with_rate(30.0))
        .unwrap();
    let mic = w
        .add_stream(StreamInfo::audio("mic", 8000, 2, DType::Int16))
        .unwrap();
    let ev = w.add_stream(StreamInfo::events("log")).unwrap();
    let mut out = Written {
        ft_t: vec![],
        ft_v: vec![],
        counter_t: vec![],
        counter_v: vec![],
        cam_t: vec![],
        cam: vec![],
        mic: vec![],
        events: vec![],
    };
    for i in 0..200i64 {
        let t = 1_000 + i * 1_000_000;
        let v = [i as f32 * 0.5, -(i as f32), (i as f32).sin()];
        w.write_signal(ft, t, &v).unwrap();
        out.ft_t.push(t);
        out.ft_v.extend_from_slice(&v);
        if i % 7 == 0 {
            w.write_signal(counter, t, &[i as u16 * 3]).unwrap();
            out.counter_t.push(t);
            out.counter_v.push(i as u16 * 3);
        }
        if i % 33 == 0 {
            let px: Vec<u8> = (0..24).map(|k| (k as i64 * 11 + i) as u8).collect();
            w.write_frame(cam, t + 5, &px).unwrap();
            out.cam_t.push(t + 5);
            out.cam.extend_from_slice(&px);
        }
        if i % 20 == 0 {
            let samples: Vec<i16> = (0..160 * 2)
                .map(|k| ((k as i64 * 37 + i * 1000) % 30000) as i16)
                .collect();
            w.write_audio(mic, t, &samples).unwrap();
            out.mic.push(AudioBlock { t, samples });
        }
        if i == 50 || i == 120 || i == 121 {
            let e = Event::new(if i == 50 { "takeover_start" } else { "note" })
                .with_operator("op-1")
                .with_text(format!("at {i}"))
                .with_payload(serde_json::json!({"i": i}));
            w.write_event(ev, t, &e).unwrap();
            out.events.push((t, e));
        }
    }
    w.finish().unwrap();
    out
}

/// Reads everything `write_small` wrote and checks it equals `w`; returns an error from the
/// reader instead of panicking when the file cannot give it.
pub fn read_small(r: &EpisodeReader) -> Result<Written> {
    let (ft_t, ft_v) = r.signal_range::<f32>("ft", i64::MIN, i64::MAX)?;
    let (counter_t, counter_v) = r.signal_range::<u16>("counter", i64::MIN, i64::MAX)?;
    let (cam_t, cam) = r.frames_range("cam", i64::MIN, i64::MAX)?;
    // A file edited without its audio stream reads as no audio.
    let mic = match r.stream("mic") {
        Ok(_) => r.audio_range::<i16>("mic", i64::MIN, i64::MAX)?,
        Err(_) => Vec::new(),
    };
    let events = r.events_range("log", i64::MIN, i64::MAX)?;
    Ok(Written {
        ft_t,
        ft_v,
        counter_t,
        counter_v,
        cam_t,
        cam,
        mic,
        events,
    })
}

pub fn small_file() -> (tempfile::TempDir, PathBuf, Written) {
    let dir = tempdir();
    let path = dir.path().join("small.rmf");
    let w = write_small(&path);
    (dir, path, w)
}

/// PSNR in dB of two 8-bit images (or frame sequences) of the same size.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-12)).log10()
}

/// A file served as if it were remote: no slice of it is handed out, every read is a counted
/// "request", and a test can flip a byte on the wire or cut a body short.
pub struct RemoteLike {
    name: String,
    data: Vec<u8>,
    pub requests: std::sync::atomic::AtomicU64,
    pub bytes: std::sync::atomic::AtomicU64,
    /// File offset of a byte to flip in every response that holds it.
    pub flip: Option<u64>,
    /// Return bodies one byte short.
    pub short: bool,
}

impl RemoteLike {
    pub fn new(data: Vec<u8>, name: &str) -> Self {
        RemoteLike {
            name: name.to_string(),
            data,
            requests: Default::default(),
            bytes: Default::default(),
            flip: None,
            short: false,
        }
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn serve(&self, start: u64, end: u64) -> Vec<u8> {
        use std::sync::atomic::Ordering::Relaxed;
        self.requests.fetch_add(1, Relaxed);
        let mut v = self.data[start as usize..end as usize].to_vec();
        if let Some(f) = self.flip {
            if (start..end).contains(&f) {
                v[(f - start) as usize] ^= 0x40;
            }
        }
        if self.short {
            v.pop();
        }
        self.bytes.fetch_add(v.len() as u64, Relaxed);
        v
    }
}

impl RangeSource for RemoteLike {
    fn name(&self) -> &str {
        &self.name
    }

    fn read_tail(&self, n: u64) -> Result<Tail> {
        let len = self.data.len() as u64;
        Ok(Tail {
            file_len: len,
            bytes: self.serve(len.saturating_sub(n), len).into(),
        })
    }

    fn read_ranges(&self, ranges: &[std::ops::Range<u64>]) -> Result<Vec<bytes::Bytes>> {
        Ok(ranges
            .iter()
            .map(|r| {
                self.serve(r.start, r.end.min(self.data.len() as u64))
                    .into()
            })
            .collect())
    }
}

/// A file built to make recovery's resynchronisation slow (issue 19): the RMF file header,
/// 16 damaged bytes, then up to `len` bytes holding a forged chunk-record header every 32
/// bytes, each with a correct header checksum and claiming a body to the end of the file.
pub fn forged_headers(len: usize) -> Vec<u8> {
    use rmf_core::format::{file_header_minor, RecordKind, RECORD_HEADER_LEN};
    let mut data = file_header_minor(0).to_vec();
    data.extend_from_slice(&[0xaa; 16]);
    let first = data.len();
    data.resize(len.max(first + 64), 0x55);
    let total = data.len();
    let mut p = first;
    while p + RECORD_HEADER_LEN + 4 <= total {
        let body = (total - p - RECORD_HEADER_LEN - 4) as u64;
        let mut h = [0u8; RECORD_HEADER_LEN];
        h[0] = RecordKind::Chunk as u8;
        h[4..12].copy_from_slice(&body.to_le_bytes());
        let crc = crc32c::crc32c(&h[..12]);
        h[12..16].copy_from_slice(&crc.to_le_bytes());
        data[p..p + RECORD_HEADER_LEN].copy_from_slice(&h);
        p += 32;
    }
    data
}
