//! Inputs shared by the RMF benchmarks: real IMU logs from `testdata/sensors`, realistic synthetic
//! force/torque, as (timestamps, row-major values), and the demo's camera frames.

use std::path::{Path, PathBuf};

/// A signal as a recorder would hand it over.
pub struct SignalData {
    /// What it is.
    pub name: String,
    /// Timestamps, ns.
    pub t: Vec<i64>,
    /// Row-major values.
    pub values: Vec<f32>,
    /// Elements per sample.
    pub width: usize,
    /// Nominal rate, Hz.
    pub rate_hz: f64,
}

impl SignalData {
    /// Bytes of the raw input: 8 per timestamp plus the values.
    pub fn raw_bytes(&self) -> usize {
        self.t.len() * 8 + self.values.len() * 4
    }
}

/// `testdata/sensors` in the repository: small real recordings with their licences.
pub fn sensor_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/sensors")
}

/// An x-IMU3 CSV log: first column time in seconds, the rest sensor columns.
pub fn imu_csv(file: &str, rate_hz: f64) -> Option<SignalData> {
    let text = std::fs::read_to_string(sensor_data().join("imu_xio").join(file)).ok()?;
    let mut t = Vec::new();
    let mut values = Vec::new();
    let mut width = 0;
    for line in text.lines().skip(1) {
        let cols: Vec<f64> = line
            .split(',')
            .filter_map(|c| c.trim().parse().ok())
            .collect();
        if cols.len() < 2 {
            continue;
        }
        width = cols.len() - 1;
        t.push((cols[0] * 1e9).round() as i64);
        values.extend(cols[1..].iter().map(|&v| v as f32));
    }
    Some(SignalData {
        name: file.to_string(),
        t,
        values,
        width,
        rate_hz,
    })
}

/// 1 kHz 6-axis force/torque: slow motion plus continuous sensor noise, timestamps with
/// +-20 us jitter, `seconds` long.
pub fn synthetic_ft(seconds: usize) -> SignalData {
    let n = seconds * 1000;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let mut t = Vec::with_capacity(n);
    let mut values = Vec::with_capacity(n * 6);
    for i in 0..n {
        let s = i as f64 * 1e-3;
        t.push(i as i64 * 1_000_000 + (uniform() * 40_000.0) as i64);
        for a in 0..6 {
            let f = 0.2 + 0.5 * a as f64;
            let amp = [12.0, 8.0, 20.0, 0.6, 0.5, 0.2][a];
            let noise =
                (uniform() + uniform() + uniform()) * [0.1, 0.1, 0.1, 0.004, 0.004, 0.004][a];
            values.push((amp * (std::f64::consts::TAU * f * s).sin() + noise) as f32);
        }
    }
    SignalData {
        name: "synthetic F/T 1 kHz".into(),
        t,
        values,
        width: 6,
        rate_hz: 1000.0,
    }
}

/// `seconds` of the demo's 640x480 RGB camera at 30 fps (a textured scene with sensor noise, as
/// `rmf demo` records), decoded to pixels.
pub fn demo_frames(seconds: f64) -> Vec<Vec<u8>> {
    use rmf_testkit::demo::{record_demo, DemoOptions};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("demo.rmf");
    let demo = DemoOptions {
        seconds,
        ..DemoOptions::default()
    };
    let opts = rmf_core::WriteOptions::default().with_overwrite(true);
    record_demo(&path, &demo, opts).expect("demo");
    let r = rmf_core::EpisodeReader::open(&path).expect("open");
    let (_, px) = r
        .frames_range("cam/front", i64::MIN, i64::MAX)
        .expect("frames");
    px.chunks_exact(640 * 480 * 3).map(<[u8]>::to_vec).collect()
}
