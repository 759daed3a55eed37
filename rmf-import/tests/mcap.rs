//! MCAP / ROS 2 import: bags written with the `mcap` crate's own writer, payloads with a
//! test-side CDR writer that follows the ROS 2 rules (4-byte encapsulation header, primitives
//! aligned to their size from the end of the header, strings with their NUL, sequences with a
//! u32 count and elements aligned only when there are some).
#![allow(clippy::unwrap_used)]

use rmf_testkit::fixtures as common;

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use rmf_core::*;
use rmf_import::mcap::{import_mcap, McapImportOptions, TimeSource};

/// A CDR payload being written (plain CDR, little-endian).
struct Cdr(Vec<u8>);

impl Cdr {
    fn new() -> Self {
        Cdr(vec![0x00, 0x01, 0x00, 0x00])
    }
    fn align(&mut self, n: usize) {
        while !(self.0.len() - 4).is_multiple_of(n) {
            self.0.push(0);
        }
    }
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn u32(mut self, v: u32) -> Self {
        self.align(4);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn i32(mut self, v: i32) -> Self {
        self.align(4);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn f64(mut self, v: f64) -> Self {
        self.align(8);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn f64s(mut self, vs: &[f64]) -> Self {
        for &v in vs {
            self = self.f64(v);
        }
        self
    }
    fn string(mut self, s: &str) -> Self {
        self = self.u32(s.len() as u32 + 1);
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
        self
    }
    fn bytes(mut self, b: &[u8]) -> Self {
        self = self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
        self
    }
    fn f64_seq(self, vs: &[f64]) -> Self {
        self.u32(vs.len() as u32).f64s(vs)
    }
    fn strings(mut self, ss: &[&str]) -> Self {
        self = self.u32(ss.len() as u32);
        for s in ss {
            self = self.string(s);
        }
        self
    }
    fn header(self, stamp_ns: i64, frame: &str) -> Self {
        self.i32((stamp_ns.div_euclid(1_000_000_000)) as i32)
            .u32(stamp_ns.rem_euclid(1_000_000_000) as u32)
            .string(frame)
    }
}

fn image_msg(t: i64, w: u32, h: u32, enc: &str, step: u32, data: &[u8]) -> Vec<u8> {
    Cdr::new()
        .header(t, "cam")
        .u32(h)
        .u32(w)
        .string(enc)
        .u8(0)
        .u32(step)
        .bytes(data)
        .0
}

fn joints_msg(t: i64, names: &[&str], pos: &[f64], vel: &[f64], eff: &[f64]) -> Vec<u8> {
    Cdr::new()
        .header(t, "base")
        .strings(names)
        .f64_seq(pos)
        .f64_seq(vel)
        .f64_seq(eff)
        .0
}

fn imu_msg(t: i64, v: &[f64; 10]) -> Vec<u8> {
    let cov = [0.5; 9];
    Cdr::new()
        .header(t, "imu")
        .f64s(&v[0..4])
        .f64s(&cov)
        .f64s(&v[4..7])
        .f64s(&cov)
        .f64s(&v[7..10])
        .f64s(&cov)
        .0
}

fn wrench_msg(t: i64, v: &[f64; 6]) -> Vec<u8> {
    Cdr::new().header(t, "tool").f64s(v).0
}

/// One message of a bag: topic, schema name, payload, log time.
struct Msg {
    topic: &'static str,
    schema: &'static str,
    data: Vec<u8>,
    log_time: u64,
}

fn msg(topic: &'static str, schema: &'static str, data: Vec<u8>, log_time: u64) -> Msg {
    Msg {
        topic,
        schema,
        data,
        log_time,
    }
}

fn msgdef(schema: &str) -> &'static str {
    match schema {
        "sensor_msgs/msg/Image" => "std_msgs/Header header\nuint32 height\nuint32 width\nstring encoding\nuint8 is_bigendian\nuint32 step\nuint8[] data\n",
        "sensor_msgs/msg/CompressedImage" => "std_msgs/Header header\nstring format\nuint8[] data\n",
        "sensor_msgs/msg/JointState" => "std_msgs/Header header\nstring[] name\nfloat64[] position\nfloat64[] velocity\nfloat64[] effort\n",
        "geometry_msgs/msg/WrenchStamped" => "std_msgs/Header header\ngeometry_msgs/Wrench wrench\n",
        "my_msgs/msg/Stamped" => "# a custom type\nstd_msgs/Header header\nuint8[] blob\n",
        _ => "uint8[] blob\n",
    }
}

/// Writes an MCAP file (zstd chunks, the writer's default) with one channel per topic.
fn write_bag(path: &Path, msgs: &[Msg]) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w = mcap::Writer::new(file).unwrap();
    let mut channels: BTreeMap<&str, u16> = BTreeMap::new();
    for (seq, m) in msgs.iter().enumerate() {
        let ch = match channels.get(m.topic) {
            Some(&c) => c,
            None => {
                let s = w
                    .add_schema(m.schema, "ros2msg", msgdef(m.schema).as_bytes())
                    .unwrap();
                let c = w.add_channel(s, m.topic, "cdr", &BTreeMap::new()).unwrap();
                channels.insert(m.topic, c);
                c
            }
        };
        let header = mcap::records::MessageHeader {
            channel_id: ch,
            sequence: seq as u32,
            log_time: m.log_time,
            publish_time: m.log_time,
        };
        w.write_to_known_channel(&header, &m.data).unwrap();
    }
    w.finish().unwrap();
}

const T0: i64 = 1_700_000_000_123_456_789;

/// A smooth, moving test picture (H.264 keeps it well above 35 dB).
fn picture(w: usize, h: usize, ch: usize, k: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(w * h * ch);
    for y in 0..h {
        for x in 0..w {
            let base = 30 + x * 2 + y + k * 3;
            let px = [base, 255 - base, 20 + (x + y * 2) / 2];
            v.extend(px[..ch].iter().map(|&c| c as u8));
        }
    }
    v
}

#[test]
fn images_rgb8_bgr8_mono16_and_jpeg() {
    let dir = common::tempdir();
    let bag = dir.path().join("cams.mcap");
    let out = dir.path().join("cams.rmf");
    let mut msgs = Vec::new();
    let (mut rgb, mut bgr_as_rgb, mut depth, mut jpeg_decoded) = (vec![], vec![], vec![], vec![]);
    let mut times = vec![];
    for k in 0..6usize {
        let t = T0 + k as i64 * 33_333_333;
        times.push(t);
        let log = (t + 5_000_000) as u64;
        // rgb8 64x48 -> H.264.
        let px = picture(64, 48, 3, k);
        msgs.push(msg(
            "/camera/color/image_raw",
            "sensor_msgs/msg/Image",
            image_msg(t, 64, 48, "rgb8", 64 * 3, &px),
            log,
        ));
        rgb.extend_from_slice(&px);
        // bgr8 31x21 (odd: not H.264, stored raw) with 5 bytes of padding per row.
        let (w, h, step) = (31usize, 21usize, 31 * 3 + 5);
        let mut data = vec![0u8; step * h];
        for y in 0..h {
            for x in 0..w {
                let (b, g, r) = ((x * 7 + k) as u8, (y * 9) as u8, (x + y * 3 + k) as u8);
                data[y * step + x * 3..y * step + x * 3 + 3].copy_from_slice(&[b, g, r]);
                bgr_as_rgb.extend_from_slice(&[r, g, b]);
            }
        }
        msgs.push(msg(
            "/camera/bgr",
            "sensor_msgs/msg/Image",
            image_msg(t, w as u32, h as u32, "bgr8", step as u32, &data),
            log,
        ));
        // 16UC1 depth 40x30 -> PNG, exact.
        let d: Vec<u16> = (0..40 * 30).map(|i| (i * 37 + k * 1000) as u16).collect();
        let bytes: Vec<u8> = d.iter().flat_map(|v| v.to_le_bytes()).collect();
        msgs.push(msg(
            "/camera/depth/image_rect_raw",
            "sensor_msgs/msg/Image",
            image_msg(t, 40, 30, "16UC1", 80, &bytes),
            log,
        ));
        depth.extend_from_slice(&bytes);
        // CompressedImage JPEG 64x48.
        let px = picture(64, 48, 3, k + 10);
        let mut jpg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpg, 95)
            .encode(&px, 64, 48, image::ExtendedColorType::Rgb8)
            .unwrap();
        jpeg_decoded.extend_from_slice(&image::load_from_memory(&jpg).unwrap().to_rgb8());
        let data = Cdr::new().header(t, "cam").string("jpeg").bytes(&jpg).0;
        msgs.push(msg(
            "/camera/color/image_raw/compressed",
            "sensor_msgs/msg/CompressedImage",
            data,
            log,
        ));
    }
    write_bag(&bag, &msgs);
    let report = import_mcap(&bag, &out, &McapImportOptions::default()).unwrap();
    assert_eq!(report.topics.len(), 4, "{report}");
    for t in &report.topics {
        assert_eq!((t.messages, t.imported), (6, 6), "{report}");
        assert_eq!(t.clock, Some(TimeSource::HeaderStamp));
    }
    let bgr_report = report.topic("/camera/bgr").unwrap();
    assert!(
        bgr_report
            .notes
            .iter()
            .any(|n| n.contains("not stored as h264")),
        "{report}"
    );

    let r = EpisodeReader::open(&out).unwrap();
    let codec_of = |name: &str| match r.stream(name).unwrap().kind {
        StreamKind::Frames {
            codec,
            pixel_format,
            ..
        } => (codec, pixel_format),
        _ => panic!("{name} is not frames"),
    };
    assert_eq!(
        codec_of("camera/color/image_raw"),
        (FrameCodec::H264, PixelFormat::Rgb8)
    );
    assert_eq!(codec_of("camera/bgr"), (FrameCodec::Raw, PixelFormat::Rgb8));
    assert_eq!(
        codec_of("camera/depth/image_rect_raw"),
        (FrameCodec::Png, PixelFormat::Gray16)
    );
    assert_eq!(
        r.stream("camera/depth/image_rect_raw").unwrap().units,
        vec!["mm".to_string()]
    );
    assert_eq!(
        r.stream("camera/bgr").unwrap().tags.get("frame_id"),
        Some(&"cam".to_string())
    );

    let (t, px) = r.frames_range("camera/bgr", i64::MIN, i64::MAX).unwrap();
    assert_eq!(t, times);
    assert_eq!(px, bgr_as_rgb);
    let (t, px) = r
        .frames_range("camera/depth/image_rect_raw", i64::MIN, i64::MAX)
        .unwrap();
    assert_eq!(t, times);
    assert_eq!(px, depth);
    let (t, px) = r
        .frames_range("camera/color/image_raw", i64::MIN, i64::MAX)
        .unwrap();
    assert_eq!(t, times);
    let p = common::psnr(&px, &rgb);
    assert!(p >= 35.0, "rgb8 through H.264: {p:.1} dB");
    let (t, px) = r
        .frames_range("camera/color/image_raw/compressed", i64::MIN, i64::MAX)
        .unwrap();
    assert_eq!(t, times);
    let p = common::psnr(&px, &jpeg_decoded);
    assert!(p >= 35.0, "JPEG through H.264: {p:.1} dB");

    let meta = r.meta();
    assert_eq!(meta.start_time_unix_ns, T0);
    assert_eq!(meta.extra["imported_from"], "mcap");
    assert_eq!(meta.extra["source"], "cams.mcap");
    assert_eq!(meta.extra["time_source"], "header_stamp");
    assert!(validate(&out).unwrap().is_ok());
}

#[test]
fn unsupported_encoding_and_size_changes_are_reported() {
    let dir = common::tempdir();
    let bag = dir.path().join("b.mcap");
    let out = dir.path().join("b.rmf");
    let mut msgs = vec![
        msg(
            "/f32depth",
            "sensor_msgs/msg/Image",
            image_msg(T0, 2, 2, "32FC1", 8, &[0; 16]),
            1,
        ),
        msg(
            "/mono",
            "sensor_msgs/msg/Image",
            image_msg(T0, 4, 2, "mono8", 4, &[1, 2, 3, 4, 5, 6, 7, 8]),
            1,
        ),
        msg(
            "/mono",
            "sensor_msgs/msg/Image",
            image_msg(T0 + 1, 2, 2, "mono8", 2, &[1, 2, 3, 4]),
            2,
        ),
        msg(
            "/mono",
            "sensor_msgs/msg/Image",
            image_msg(T0 + 2, 4, 2, "mono8", 4, &[8, 7, 6, 5, 4, 3, 2, 1]),
            3,
        ),
    ];
    msgs.push(msg(
        "/audio",
        "audio_common_msgs/msg/AudioData",
        Cdr::new().bytes(&[1, 2, 3]).0,
        4,
    ));
    write_bag(&bag, &msgs);
    let report = import_mcap(&bag, &out, &McapImportOptions::default()).unwrap();
    // Audio without an AudioInfo topic has no format: its bytes are kept as raw events.
    let a = report.topic("/audio").unwrap();
    assert_eq!(a.streams, ["audio"]);
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("kept as raw events: no audio_common_msgs/AudioInfo")),
        "{report}"
    );
    let f = report.topic("/f32depth").unwrap();
    assert!(f.streams.is_empty());
    assert!(
        f.skipped.as_deref().unwrap().contains("\"32FC1\""),
        "{report}"
    );
    let m = report.topic("/mono").unwrap();
    assert_eq!((m.messages, m.imported), (3, 2));
    assert!(
        m.notes
            .iter()
            .any(|n| n.contains("1 messages skipped: image changed from 4x2 gray8 to 2x2 gray8")),
        "{report}"
    );
    let r = EpisodeReader::open(&out).unwrap();
    assert!(r.stream("f32depth").is_err());
    let (t, px) = r.frames_range("mono", i64::MIN, i64::MAX).unwrap();
    assert_eq!(t, vec![T0, T0 + 2]);
    assert_eq!(px, vec![1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1]);
}

#[test]
fn joint_state_imu_and_wrench_are_signals() {
    let dir = common::tempdir();
    let bag = dir.path().join("arm.mcap");
    let out = dir.path().join("arm.rmf");
    let names = ["shoulder", "elbow", "wrist"];
    let mut msgs = Vec::new();
    let (mut jt, mut pos, mut vel) = (vec![], vec![], vec![]);
    let (mut it, mut imu) = (vec![], vec![]);
    let (mut wt, mut wrench) = (vec![], vec![]);
    for k in 0..20i64 {
        let t = T0 + k * 10_000_000;
        let log = (t + 1_000) as u64;
        if k == 7 {
            // The joint count changes for one message: skipped and reported.
            msgs.push(msg(
                "/joint_states",
                "sensor_msgs/msg/JointState",
                joints_msg(t, &names[..2], &[1.0, 2.0], &[], &[]),
                log,
            ));
        } else {
            let p = [k as f64 * 0.1, -(k as f64), 1.0 / (k as f64 + 3.0)];
            let v = [0.25, k as f64 * 1e-9, f64::MAX];
            msgs.push(msg(
                "/joint_states",
                "sensor_msgs/msg/JointState",
                joints_msg(t, &names, &p, &v, &[]),
                log,
            ));
            jt.push(t);
            pos.extend_from_slice(&p);
            vel.extend_from_slice(&v);
        }
        let i: [f64; 10] = std::array::from_fn(|j| k as f64 * 0.5 + j as f64 / 7.0);
        msgs.push(msg("/imu", "sensor_msgs/msg/Imu", imu_msg(t + 3, &i), log));
        it.push(t + 3);
        imu.extend_from_slice(&i);
        let w: [f64; 6] = std::array::from_fn(|j| (k * 6 + j as i64) as f64 * -0.125);
        msgs.push(msg(
            "/ft/wrench",
            "geometry_msgs/msg/WrenchStamped",
            wrench_msg(t + 7, &w),
            log,
        ));
        wt.push(t + 7);
        wrench.extend_from_slice(&w);
    }
    write_bag(&bag, &msgs);
    let report = import_mcap(&bag, &out, &McapImportOptions::default()).unwrap();
    let j = report.topic("joint_states").unwrap();
    assert_eq!(
        j.streams,
        vec!["joint_states/position", "joint_states/velocity"]
    );
    assert_eq!((j.messages, j.imported), (20, 19));
    assert!(
        j.notes
            .iter()
            .any(|n| n == "1 messages skipped: position: joint count changed from 3 to 2"),
        "{report}"
    );

    let r = EpisodeReader::open(&out).unwrap();
    assert!(r.stream("joint_states/effort").is_err());
    let p = r.stream("joint_states/position").unwrap();
    assert_eq!(p.names, names.to_vec());
    assert_eq!(
        p.kind,
        StreamKind::Signal {
            dtype: DType::Float64,
            shape: vec![3]
        }
    );
    assert_eq!(
        r.signal_range::<f64>("joint_states/position", i64::MIN, i64::MAX)
            .unwrap(),
        (jt.clone(), pos)
    );
    assert_eq!(
        r.signal_range::<f64>("joint_states/velocity", i64::MIN, i64::MAX)
            .unwrap(),
        (jt, vel)
    );
    assert_eq!(
        r.signal_range::<f64>("imu", i64::MIN, i64::MAX).unwrap(),
        (it, imu)
    );
    assert_eq!(
        r.stream("imu").unwrap().names,
        ["qx", "qy", "qz", "qw", "wx", "wy", "wz", "ax", "ay", "az"]
    );
    assert_eq!(
        r.signal_range::<f64>("ft/wrench", i64::MIN, i64::MAX)
            .unwrap(),
        (wt, wrench)
    );
    assert_eq!(
        r.stream("ft/wrench").unwrap().names,
        ["fx", "fy", "fz", "tx", "ty", "tz"]
    );
    assert!(validate(&out).unwrap().is_ok());
}

#[test]
fn header_stamp_or_log_time() {
    let dir = common::tempdir();
    let bag = dir.path().join("w.mcap");
    let msgs: Vec<Msg> = (0..5)
        .map(|k| {
            msg(
                "/wrench",
                "geometry_msgs/msg/WrenchStamped",
                wrench_msg(T0 + k * 1000, &[k as f64; 6]),
                (T0 + 500_000_000 + k * 2_000_003) as u64,
            )
        })
        .collect();
    write_bag(&bag, &msgs);
    let stamps: Vec<i64> = (0..5).map(|k| T0 + k * 1000).collect();
    let logs: Vec<i64> = (0..5).map(|k| T0 + 500_000_000 + k * 2_000_003).collect();

    let a = dir.path().join("stamp.rmf");
    import_mcap(&bag, &a, &McapImportOptions::default()).unwrap();
    let r = EpisodeReader::open(&a).unwrap();
    assert_eq!(r.times("wrench").unwrap(), stamps);
    assert_eq!(r.meta().start_time_unix_ns, stamps[0]);

    let b = dir.path().join("log.rmf");
    let report = import_mcap(
        &bag,
        &b,
        &McapImportOptions::default().with_time_source(TimeSource::LogTime),
    )
    .unwrap();
    assert_eq!(
        report.topic("/wrench").unwrap().clock,
        Some(TimeSource::LogTime)
    );
    let r = EpisodeReader::open(&b).unwrap();
    assert_eq!(r.times("wrench").unwrap(), logs);
    assert_eq!(r.meta().extra["time_source"], "log_time");
    assert_eq!(r.meta().start_time_unix_ns, logs[0]);

    // An existing output is refused unless overwriting.
    let err = import_mcap(&bag, &b, &McapImportOptions::default()).unwrap_err();
    assert!(err.to_string().contains("exists"), "{err}");
    import_mcap(&bag, &b, &McapImportOptions::default().with_overwrite(true)).unwrap();
    assert_eq!(
        EpisodeReader::open(&b).unwrap().times("wrench").unwrap(),
        stamps
    );
}

#[test]
fn stamps_that_go_backwards_are_sorted() {
    let dir = common::tempdir();
    let bag = dir.path().join("o.mcap");
    let out = dir.path().join("o.rmf");
    let order = [3i64, 1, 2, 5, 4, 4, 0];
    let mut msgs = Vec::new();
    for (i, &k) in order.iter().enumerate() {
        let v = [k as f64, i as f64, 0.0, 0.0, 0.0, 0.0];
        msgs.push(msg(
            "/wrench",
            "geometry_msgs/msg/WrenchStamped",
            wrench_msg(T0 + k * 1_000_000, &v),
            (T0 + i as i64 * 10_000_000) as u64,
        ));
        // An in-order topic alongside.
        msgs.push(msg(
            "/joint_states",
            "sensor_msgs/msg/JointState",
            joints_msg(T0 + i as i64, &["a"], &[i as f64], &[], &[]),
            (T0 + i as i64 * 10_000_000) as u64,
        ));
    }
    write_bag(&bag, &msgs);
    let report = import_mcap(&bag, &out, &McapImportOptions::default()).unwrap();
    let w = report.topic("/wrench").unwrap();
    assert!(w.sorted, "{report}");
    assert!(
        w.notes.iter().any(|n| n.contains("went backwards 5 times")),
        "{report}"
    );
    assert!(!report.topic("/joint_states").unwrap().sorted);
    assert_eq!(report.start_time_ns, Some(T0));

    let r = EpisodeReader::open(&out).unwrap();
    let (t, v) = r.signal_range::<f64>("wrench", i64::MIN, i64::MAX).unwrap();
    // Sorted by stamp; equal stamps keep their order in the file.
    let mut expected: Vec<(i64, usize)> = order.iter().copied().zip(0..).collect();
    expected.sort();
    assert_eq!(
        t,
        expected
            .iter()
            .map(|&(k, _)| T0 + k * 1_000_000)
            .collect::<Vec<_>>()
    );
    let firsts: Vec<(f64, f64)> = v.chunks(6).map(|c| (c[0], c[1])).collect();
    assert_eq!(
        firsts,
        expected
            .iter()
            .map(|&(k, i)| (k as f64, i as f64))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        r.signal_range::<f64>("joint_states/position", i64::MIN, i64::MAX)
            .unwrap(),
        (
            (0..7).map(|i| T0 + i).collect(),
            (0..7).map(|i| i as f64).collect()
        )
    );
    assert!(validate(&out).unwrap().is_ok());
}

#[test]
fn unknown_topics_are_raw_events_or_skipped() {
    let dir = common::tempdir();
    let bag = dir.path().join("u.mcap");
    let mut msgs = Vec::new();
    let blobs: Vec<Vec<u8>> = (0..4u8).map(|k| vec![0, 1, 0, 0, k, 255, k * 3]).collect();
    for (k, b) in blobs.iter().enumerate() {
        msgs.push(msg(
            "/diagnostics/blob",
            "my_msgs/msg/Blob",
            b.clone(),
            (T0 + k as i64 * 100) as u64,
        ));
        // A custom type that starts with a header: stamped by its header.
        let stamped = Cdr::new()
            .header(T0 - 1000 + k as i64, "x")
            .bytes(&[k as u8])
            .0;
        msgs.push(msg(
            "/custom",
            "my_msgs/msg/Stamped",
            stamped,
            (T0 + k as i64 * 100) as u64,
        ));
        msgs.push(msg(
            "/wrench",
            "geometry_msgs/msg/WrenchStamped",
            wrench_msg(T0 + k as i64, &[1.0; 6]),
            (T0 + k as i64 * 100) as u64,
        ));
    }
    write_bag(&bag, &msgs);

    let kept = dir.path().join("kept.rmf");
    let report = import_mcap(&bag, &kept, &McapImportOptions::default()).unwrap();
    let blob = report.topic("/diagnostics/blob").unwrap();
    assert_eq!(blob.streams, vec!["diagnostics/blob"]);
    assert_eq!(blob.clock, Some(TimeSource::LogTime));
    assert_eq!(
        report.topic("/custom").unwrap().clock,
        Some(TimeSource::HeaderStamp)
    );
    let r = EpisodeReader::open(&kept).unwrap();
    let events = r
        .events_range("diagnostics/blob", i64::MIN, i64::MAX)
        .unwrap();
    assert_eq!(events.len(), 4);
    for (k, (t, e)) in events.iter().enumerate() {
        assert_eq!(*t, T0 + k as i64 * 100);
        assert_eq!(e.kind, "raw");
        assert_eq!(e.payload["schema"], "my_msgs/msg/Blob");
        assert_eq!(e.payload["encoding"], "cdr");
        let data = base64::engine::general_purpose::STANDARD
            .decode(e.payload["data_base64"].as_str().unwrap())
            .unwrap();
        assert_eq!(data, blobs[k]);
    }
    let custom = r.times("custom").unwrap();
    assert_eq!(custom, (0..4).map(|k| T0 - 1000 + k).collect::<Vec<_>>());
    assert_eq!(r.meta().start_time_unix_ns, T0 - 1000);

    let skipped = dir.path().join("skipped.rmf");
    let report = import_mcap(
        &bag,
        &skipped,
        &McapImportOptions::default().with_keep_unknown(false),
    )
    .unwrap();
    let blob = report.topic("/diagnostics/blob").unwrap();
    assert!(blob.streams.is_empty());
    assert!(
        blob.skipped.as_deref().unwrap().contains("--skip-unknown"),
        "{report}"
    );
    let r = EpisodeReader::open(&skipped).unwrap();
    let names: Vec<&str> = r.streams().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["wrench"]);

    // A topic filter imports only what it names.
    let one = dir.path().join("one.rmf");
    let report = import_mcap(
        &bag,
        &one,
        &McapImportOptions::default().with_topic("custom"),
    )
    .unwrap();
    assert_eq!(report.streams(), vec!["custom"]);
    assert_eq!(
        report.topic("/wrench").unwrap().skipped.as_deref(),
        Some("not selected (--topic)")
    );
    let err = import_mcap(
        &bag,
        &dir.path().join("none.rmf"),
        &McapImportOptions::default().with_topic("/nope"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("\"/nope\""), "{err}");
}

/// Imports a bag holding one good message and then `payload` on `topic`; the error, if any.
fn import_damaged(
    dir: &Path,
    topic: &'static str,
    schema: &'static str,
    payload: Vec<u8>,
) -> Option<Error> {
    let bag = dir.join("bad.mcap");
    let out = dir.join("bad.rmf");
    let good = match schema {
        "sensor_msgs/msg/JointState" => joints_msg(T0, &["a", "b"], &[1.0, 2.0], &[3.0, 4.0], &[]),
        "sensor_msgs/msg/Imu" => imu_msg(T0, &[1.0; 10]),
        "geometry_msgs/msg/WrenchStamped" => wrench_msg(T0, &[1.0; 6]),
        "sensor_msgs/msg/CompressedImage" => {
            let mut png = Vec::new();
            image::DynamicImage::ImageLuma8(image::GrayImage::new(4, 4))
                .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .unwrap();
            Cdr::new().header(T0, "c").string("png").bytes(&png).0
        }
        _ => image_msg(T0, 2, 2, "mono8", 2, &[1, 2, 3, 4]),
    };
    write_bag(
        &bag,
        &[msg(topic, schema, good, 1), msg(topic, schema, payload, 2)],
    );
    let result = import_mcap(
        &bag,
        &out,
        &McapImportOptions::default().with_overwrite(true),
    );
    match result {
        Ok(_) => None,
        Err(e) => {
            assert!(!out.exists(), "a failed import leaves no output");
            Some(e)
        }
    }
}

#[test]
fn damaged_payloads_are_errors_naming_topic_and_message() {
    let dir = common::tempdir();
    let full = joints_msg(T0 + 1, &["a", "b"], &[1.0, 2.0], &[3.0, 4.0], &[5.0, 6.0]);
    // Every truncation of a JointState payload is an error naming the topic and message.
    for len in 0..full.len() {
        let e = import_damaged(
            dir.path(),
            "/joint_states",
            "sensor_msgs/msg/JointState",
            full[..len].to_vec(),
        )
        .unwrap_or_else(|| panic!("truncated to {len} bytes was accepted"));
        let text = e.to_string();
        assert!(matches!(e, Error::Malformed { .. }), "{text}");
        assert!(text.contains("bad.mcap"), "{text}");
        assert!(text.contains("topic \"/joint_states\""), "{text}");
        assert!(text.contains("message 1 of the topic"), "{text}");
    }
    // A hostile name count, a bad encapsulation header, a string without its NUL.
    let mut hostile = Cdr::new().header(T0, "b").0;
    hostile.extend_from_slice(&u32::MAX.to_le_bytes());
    let e = import_damaged(dir.path(), "/js", "sensor_msgs/msg/JointState", hostile).unwrap();
    assert!(e.to_string().contains("name needs"), "{e}");
    let mut be = wrench_msg(T0, &[0.0; 6]);
    be[1] = 0;
    let e = import_damaged(dir.path(), "/w", "geometry_msgs/msg/WrenchStamped", be).unwrap();
    assert!(
        e.to_string().contains("big-endian CDR is not supported"),
        "{e}"
    );
    let mut nul = wrench_msg(T0, &[0.0; 6]);
    nul[20] = b'x'; // the NUL of frame_id "tool" (length at 12..16, bytes 16..21)
    let e = import_damaged(dir.path(), "/w", "geometry_msgs/msg/WrenchStamped", nul).unwrap();
    assert!(e.to_string().contains("does not end with NUL"), "{e}");
    // Image data shorter than its rows, and a compressed image that does not decode.
    let short = image_msg(T0, 4, 4, "mono8", 4, &[0; 15]);
    let e = import_damaged(dir.path(), "/img", "sensor_msgs/msg/Image", short).unwrap();
    assert!(e.to_string().contains("16 needed"), "{e}");
    let junk = Cdr::new()
        .header(T0, "c")
        .string("jpeg")
        .bytes(b"not a jpeg")
        .0;
    let e = import_damaged(dir.path(), "/c", "sensor_msgs/msg/CompressedImage", junk).unwrap();
    assert!(e.to_string().contains("does not decode"), "{e}");

    // Garbage after a valid header: an error or an import, never a panic.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..200 {
        let len = 4 + (round * 7) % 120;
        let mut g = vec![0u8, 1, 0, 0];
        for _ in 4..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            g.push(seed as u8);
        }
        let schema = [
            "sensor_msgs/msg/JointState",
            "sensor_msgs/msg/Imu",
            "geometry_msgs/msg/WrenchStamped",
            "sensor_msgs/msg/Image",
            "sensor_msgs/msg/CompressedImage",
        ][round % 5];
        if let Some(e) = import_damaged(dir.path(), "/g", schema, g) {
            assert!(e.to_string().contains("topic \"/g\", message 1"), "{e}");
        }
    }
}

#[test]
fn progress_covers_both_passes_in_order() {
    use std::sync::{Arc, Mutex};
    let dir = common::tempdir();
    let bag = dir.path().join("long.mcap");
    let msgs: Vec<Msg> = (0..1000i64)
        .map(|k| {
            let t = T0 + k * 1_000_000;
            msg(
                "/ft",
                "geometry_msgs/msg/WrenchStamped",
                wrench_msg(t, &[k as f64; 6]),
                t as u64,
            )
        })
        .collect();
    write_bag(&bag, &msgs);
    let len = std::fs::metadata(&bag).unwrap().len();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let opts = McapImportOptions::default().with_progress(Progress::new(move |done, total| {
        sink.lock().unwrap().push((done, total))
    }));
    import_mcap(&bag, &dir.path().join("long.rmf"), &opts).unwrap();
    let seen = seen.lock().unwrap();
    assert!(seen.iter().all(|&(_, total)| total == len));
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "{seen:?}");
    // The scan (pass 1) reports within the first half, the writing pass the rest.
    assert!(seen.iter().any(|&(d, _)| d > 0 && d < len / 2), "{seen:?}");
    assert!(
        seen.iter().any(|&(d, _)| d > len / 2 && d < len),
        "{seen:?}"
    );
    assert_eq!(seen.last().map(|&(d, _)| d), Some(len));
}

#[test]
fn not_an_mcap_file_is_an_error() {
    let dir = common::tempdir();
    let bag = dir.path().join("x.mcap");
    std::fs::write(&bag, b"definitely not an mcap file").unwrap();
    let e = import_mcap(
        &bag,
        &dir.path().join("x.rmf"),
        &McapImportOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("x.mcap: read MCAP"), "{e}");
    assert!(!dir.path().join("x.rmf").exists());
}
