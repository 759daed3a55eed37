//! A synthetic but realistic episode: a 7-joint arm picks up a cube while two cameras, a wrist
//! force/torque sensor, joint encoders, the policy's actions, a microphone and the operator's
//! interventions are recorded, each at its own rate and with its own timing jitter.
//!
//! Used by `rmf demo`, the benchmarks and the tests. The data is deterministic for a seed (its
//! own small generator, so that files do not change when a dependency does).

use std::f64::consts::TAU;
use std::path::Path;

use rmf_core::{
    DType, EpisodeMeta, EpisodeWriter, Error, Event, FrameCodec, PixelFormat, Result, Sensitivity,
    StreamId, StreamInfo, WriteOptions, WriteSummary,
};

/// Where the demo's clock starts: 1000 s after the robot booted.
pub const DEMO_T0_NS: i64 = 1_000_000_000_000;

/// What to record.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Length of the episode.
    pub seconds: f64,
    /// Seed of the synthetic data.
    pub seed: u64,
    /// Camera width.
    pub width: u32,
    /// Camera height.
    pub height: u32,
    /// How the cameras are stored (with the codec's parameters).
    pub frame_codec: FrameCodec,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            seconds: 5.0,
            seed: 7,
            width: 640,
            height: 480,
            frame_codec: FrameCodec::Raw,
        }
    }
}

/// SplitMix64: small, fast, and fixed forever (unlike a library generator's stream).
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    /// Roughly normal (sum of uniforms), sigma 1.
    fn normal(&mut self) -> f64 {
        (self.unit() + self.unit() + self.unit()) * 1.0
    }
}

/// The arm's joint angles at time `s` seconds into the episode.
fn joints_at(s: f64) -> [f64; 7] {
    let mut q = [0.0; 7];
    for (j, qj) in q.iter_mut().enumerate() {
        let f = 0.11 + 0.037 * j as f64;
        *qj = 0.6 * (TAU * f * s + j as f64).sin() + 0.2 * (TAU * 0.5 * f * s).cos();
    }
    q
}

/// Streams of the demo episode.
pub fn demo_streams(opts: &DemoOptions) -> Vec<StreamInfo> {
    let axes = ["fx", "fy", "fz", "tx", "ty", "tz"];
    let joint_names: Vec<String> = (0..2)
        .flat_map(|k| (0..7).map(move |j| format!("{}/j{j}", ["pos", "vel"][k])))
        .collect();
    vec![
        StreamInfo::frames("cam/front", opts.width, opts.height, PixelFormat::Rgb8)
            .with_codec(opts.frame_codec)
            .with_rate(30.0)
            .with_tag("sensor", "scene camera"),
        StreamInfo::frames("cam/wrist", opts.width, opts.height, PixelFormat::Rgb8)
            .with_codec(opts.frame_codec)
            .with_rate(30.0)
            .with_tag("sensor", "wrist camera"),
        StreamInfo::signal("ft/wrist", DType::Float32, &[6])
            .with_rate(1000.0)
            .with_names(axes)
            .with_units(["N", "N", "N", "N*m", "N*m", "N*m"]),
        StreamInfo::signal("joints", DType::Float32, &[2, 7])
            .with_rate(100.0)
            .with_names(joint_names)
            .with_units((0..14).map(|i| if i < 7 { "rad" } else { "rad/s" })),
        StreamInfo::signal("action", DType::Float32, &[8])
            .with_rate(30.0)
            .with_names(
                (0..7)
                    .map(|j| format!("target/j{j}"))
                    .chain(["gripper".to_string()]),
            )
            .with_units((0..8).map(|i| if i < 7 { "rad" } else { "1" })),
        StreamInfo::audio("mic", 16_000, 1, DType::Int16).with_rate(50.0),
        StreamInfo::events("interventions").with_sensitivity(Sensitivity::Internal),
    ]
}

/// Records the demo episode to `path`.
pub fn record_demo(
    path: impl AsRef<Path>,
    opts: &DemoOptions,
    write: WriteOptions,
) -> Result<WriteSummary> {
    let meta = EpisodeMeta::new()
        .with_robot("rmf-demo-arm (7-dof, parallel gripper)")
        .with_task("pick up the red cube and place it in the bin")
        .with_operator("op-7")
        .with_extra("site", "lab-1")
        .with_extra("synthetic", true)
        .with_extra("seed", opts.seed);
    let mut w = EpisodeWriter::create(path, meta, write)?;
    let ids: Vec<StreamId> = demo_streams(opts)
        .into_iter()
        .map(|s| w.add_stream(s))
        .collect::<Result<_>>()?;
    let [cam_front, cam_wrist, ft, joints, action, mic, events] = ids[..] else {
        return Err(Error::InvalidArgument("demo stream table changed".into()));
    };
    let mut rng = Rng(opts.seed);
    let end = DEMO_T0_NS + (opts.seconds.max(0.0) * 1e9) as i64;
    let secs = |t: i64| (t - DEMO_T0_NS) as f64 * 1e-9;

    // Next due time of each periodic stream (ns); jitter is added when a sample is taken.
    let periods = [
        33_333_333i64,
        33_333_333,
        1_000_000,
        10_000_000,
        33_333_333,
        20_000_000,
    ];
    let offsets = [0i64, 3_000_000, 0, 0, 16_000_000, 0];
    let mut next: Vec<i64> = offsets.iter().map(|o| DEMO_T0_NS + o).collect();
    let mut n: Vec<i64> = vec![0; periods.len()];
    let plan = intervention_plan(opts.seconds);
    let mut next_event = 0;
    let mut frame = vec![0u8; opts.width as usize * opts.height as usize * 3];
    let scenes = [
        Scene::new(opts.width, opts.height, false),
        Scene::new(opts.width, opts.height, true),
    ];
    let mut audio_phase = 0.0f64;

    loop {
        let (k, &due) = next
            .iter()
            .enumerate()
            .min_by_key(|(_, &t)| t)
            .unwrap_or((0, &i64::MAX));
        if due >= end {
            break;
        }
        while next_event < plan.len() && plan[next_event].0 <= due {
            let (t, e) = &plan[next_event];
            w.write_event(events, *t, e)?;
            next_event += 1;
        }
        let s = secs(due);
        match k {
            0 | 1 => {
                let t = due + (rng.unit() * 800_000.0) as i64; // exposure timing jitter
                scenes[k].render(&mut frame, s, &mut rng);
                w.write_frame(if k == 0 { cam_front } else { cam_wrist }, t, &frame)?;
            }
            2 => {
                let q = joints_at(s);
                let grip = gripper_closed(s, opts.seconds);
                let load = if grip { 4.9 } else { 0.0 };
                let mut v = [0f32; 6];
                for (a, x) in v.iter_mut().enumerate() {
                    let base = match a {
                        0 => 2.0 * q[0].sin(),
                        1 => 1.5 * q[1].cos(),
                        2 => -9.8 * 0.35 - load,
                        3 => 0.12 * q[3].sin(),
                        4 => 0.10 * q[4].cos() + 0.03 * load,
                        _ => 0.02 * q[5].sin(),
                    };
                    let sigma = if a < 3 { 0.05 } else { 0.002 };
                    *x = (base + sigma * rng.normal()) as f32;
                }
                w.write_signal(ft, due + (rng.unit() * 20_000.0) as i64, &v)?;
            }
            3 => {
                let q = joints_at(s);
                let qn = joints_at(s + 1e-3);
                let mut v = [0f32; 14];
                for j in 0..7 {
                    v[j] = (q[j] + 1e-4 * rng.normal()) as f32;
                    v[7 + j] = ((qn[j] - q[j]) / 1e-3 + 1e-3 * rng.normal()) as f32;
                }
                w.write_signal(joints, due, &v)?;
            }
            4 => {
                let target = joints_at(s + 0.1);
                let mut v = [0f32; 8];
                for j in 0..7 {
                    v[j] = target[j] as f32;
                }
                v[7] = if gripper_closed(s + 0.1, opts.seconds) {
                    1.0
                } else {
                    0.0
                };
                w.write_signal(action, due, &v)?;
            }
            _ => {
                let q = joints_at(s);
                let speed: f64 = q.iter().map(|x| x.abs()).sum::<f64>() / 7.0;
                let block: Vec<i16> = (0..320)
                    .map(|_| {
                        audio_phase += TAU * 120.0 / 16_000.0;
                        let hum = (0.25 + 0.5 * speed)
                            * (audio_phase.sin() + 0.4 * (3.0 * audio_phase).sin());
                        ((hum * 0.3 + 0.02 * rng.normal()) * 32767.0).clamp(-32768.0, 32767.0)
                            as i16
                    })
                    .collect();
                w.write_audio(mic, due, &block)?;
            }
        }
        n[k] += 1;
        next[k] = DEMO_T0_NS + offsets[k] + n[k] * periods[k];
    }
    for (t, e) in &plan[next_event..] {
        if *t < end {
            w.write_event(events, *t, e)?;
        }
    }
    w.finish()
}

fn gripper_closed(s: f64, seconds: f64) -> bool {
    s > 0.3 * seconds && s < 0.8 * seconds
}

/// The operator's interventions: when, and what they said.
fn intervention_plan(seconds: f64) -> Vec<(i64, Event)> {
    let at = |f: f64| DEMO_T0_NS + (f * seconds * 1e9) as i64;
    vec![
        (
            at(0.2),
            Event::new("note")
                .with_operator("op-7")
                .with_text("approach looks good"),
        ),
        (
            at(0.4),
            Event::new("takeover_start")
                .with_operator("op-7")
                .with_text("gripper slipping")
                .with_payload(serde_json::json!({"reason": "slip", "device": "spacemouse"})),
        ),
        (at(0.55), Event::new("takeover_end").with_operator("op-7")),
        (
            at(0.9),
            Event::new("note")
                .with_operator("op-7")
                .with_text("placed in bin")
                .with_payload(serde_json::json!({"success": true})),
        ),
    ]
}

/// A camera's view of the demo cell. The static background (a plastered wall with a shelf and
/// a wooden table, textured and shaded) is drawn once, wider than the image so that the wrist
/// camera can pan over it; each frame copies it, draws the cube and the arm, and adds sensor
/// noise. Texture and noise matter: flat colours would compress like no real camera does.
struct Scene {
    width: usize,
    height: usize,
    wrist: bool,
    horizon: usize,
    /// Background pixels, `bg_width` wide.
    background: Vec<u8>,
    bg_width: usize,
}

impl Scene {
    fn new(width: u32, height: u32, wrist: bool) -> Self {
        let (w, h) = (width as usize, height as usize);
        let scale = w as f64 / 640.0;
        let pan = (100.0 * scale).ceil() as usize;
        let bg_width = w + 2 * pan;
        let horizon = if wrist { h / 3 } else { h / 2 };
        let mut background = vec![0u8; bg_width * h * 3];
        for y in 0..h {
            for x in 0..bg_width {
                let (fx, fy) = (x as f64 / scale, y as f64 / scale);
                let rgb = if y < horizon {
                    // Plaster: soft light falling off downwards, fine grain, a shelf.
                    let light = 1.0 - 0.25 * y as f64 / horizon.max(1) as f64;
                    let grain = 6.0 * value_noise(fx * 0.35, fy * 0.35, 1)
                        + 4.0 * value_noise(fx * 0.05, fy * 0.05, 2);
                    let shelf =
                        (fy - 0.35 * horizon as f64 / scale).abs() < 5.0 && (fx % 420.0) < 300.0;
                    if shelf {
                        [95.0 + grain, 80.0 + grain, 62.0 + grain]
                    } else {
                        [
                            205.0 * light + grain,
                            196.0 * light + grain,
                            178.0 * light + grain,
                        ]
                    }
                } else {
                    // Wood: rings bent by low-frequency noise, darker with distance.
                    let depth = (y - horizon) as f64 / (h - horizon).max(1) as f64;
                    let rings = (fx * 0.09 + 6.0 * value_noise(fx * 0.01, fy * 0.03, 3)).sin();
                    let fibre = 5.0 * value_noise(fx * 0.6, fy * 0.08, 4);
                    let base = 0.75 + 0.25 * depth + 0.08 * rings;
                    [
                        150.0 * base + fibre,
                        108.0 * base + fibre,
                        72.0 * base + fibre,
                    ]
                };
                let i = (y * bg_width + x) * 3;
                for c in 0..3 {
                    background[i + c] = rgb[c].clamp(0.0, 255.0) as u8;
                }
            }
        }
        Scene {
            width: w,
            height: h,
            wrist,
            horizon,
            background,
            bg_width,
        }
    }

    /// Draws the frame at `s` seconds into `buf`.
    fn render(&self, buf: &mut [u8], s: f64, rng: &mut Rng) {
        let (w, h, horizon) = (self.width, self.height, self.horizon);
        let scale = w as f64 / 640.0;
        let shift = if self.wrist {
            80.0 * (TAU * 0.2 * s).sin()
        } else {
            0.0
        };
        // The wrist camera moves with the arm: the background slides the other way.
        let pan = (self.bg_width - w) / 2;
        let x0 = (pan as f64 - shift * 0.5).clamp(0.0, (self.bg_width - w) as f64) as usize;
        for y in 0..h {
            let src = &self.background[(y * self.bg_width + x0) * 3..][..w * 3];
            buf[y * w * 3..(y + 1) * w * 3].copy_from_slice(src);
        }
        let q = joints_at(s);
        // The cube, lit from above: a lighter top face.
        let cx = (420.0 * scale + shift) as i64;
        let cy = (horizon as f64 + 60.0 * scale) as i64;
        let side = (40.0 * scale) as i64;
        fill_rect(
            buf,
            w,
            h,
            cx - side / 2,
            cy - side / 2,
            side,
            side,
            [200, 30, 35],
        );
        fill_rect(
            buf,
            w,
            h,
            cx - side / 2,
            cy - side / 2,
            side,
            side / 5,
            [235, 70, 70],
        );
        // The arm: base, three links.
        let mut x = 200.0 * scale + shift;
        let mut y = horizon as f64 + 120.0 * scale;
        let mut angle = -1.2;
        for (j, len) in [110.0, 90.0, 60.0].iter().enumerate() {
            angle += q[j] * 0.8;
            let nx = x + len * scale * angle.cos();
            let ny = y + len * scale * angle.sin();
            let steps = (len * scale / 3.0) as usize;
            let r = (6.0 * scale).max(1.0) as i64;
            for i in 0..=steps {
                let f = i as f64 / steps.max(1) as f64;
                let px = (x + (nx - x) * f) as i64;
                let py = (y + (ny - y) * f) as i64;
                fill_rect(
                    buf,
                    w,
                    h,
                    px - r,
                    py - r,
                    2 * r,
                    2 * r,
                    [60, 60 + 40 * j as u8, 70],
                );
            }
            x = nx;
            y = ny;
        }
        // Sensor noise, roughly Gaussian with sigma 1.4: a binomial(8, 1/2) - 4 per byte.
        for chunk in buf.chunks_mut(8) {
            let bits = rng.next_u64();
            for (k, v) in chunk.iter_mut().enumerate() {
                let d = ((bits >> (8 * k)) & 0xff).count_ones() as i16 - 4;
                *v = (*v as i16 + d).clamp(0, 255) as u8;
            }
        }
    }
}

/// Smooth 2-D value noise in [-1, 1]: a fixed hash on the integer grid, interpolated.
fn value_noise(x: f64, y: f64, seed: u64) -> f64 {
    let hash = |i: i64, j: i64| {
        let mut z = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (j as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            ^ seed.wrapping_mul(0x1656_67B1_9E37_79F9);
        z = (z ^ (z >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let (xi, yi) = (x.floor() as i64, y.floor() as i64);
    let (fx, fy) = (x - x.floor(), y - y.floor());
    let (sx, sy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
    let top = hash(xi, yi) + (hash(xi + 1, yi) - hash(xi, yi)) * sx;
    let bottom = hash(xi, yi + 1) + (hash(xi + 1, yi + 1) - hash(xi, yi + 1)) * sx;
    top + (bottom - top) * sy
}

#[allow(clippy::too_many_arguments)]
fn fill_rect(buf: &mut [u8], w: usize, h: usize, x: i64, y: i64, rw: i64, rh: i64, c: [u8; 3]) {
    let x0 = x.clamp(0, w as i64) as usize;
    let x1 = (x + rw).clamp(0, w as i64) as usize;
    let y0 = y.clamp(0, h as i64) as usize;
    let y1 = (y + rh).clamp(0, h as i64) as usize;
    for yy in y0..y1 {
        for px in buf[(yy * w + x0) * 3..(yy * w + x1) * 3].chunks_exact_mut(3) {
            px.copy_from_slice(&c);
        }
    }
}
