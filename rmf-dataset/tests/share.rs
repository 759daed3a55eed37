//! `share`: only streams up to the allowed label leave, episodes without required tags stay,
//! and provenance hashes verify against the source and catch changed chunks.
#![allow(clippy::unwrap_used)]

use rmf_testkit::fixtures as common;

use std::path::Path;

use rmf_core::*;
use rmf_dataset::share::{share, verify_provenance, ShareOptions};

fn write_episode(path: &Path, tags: Option<&[&str]>, key: &Key) {
    let mut meta = EpisodeMeta::new().with_task("share me");
    if let Some(tags) = tags {
        meta = meta.with_extra("tags", serde_json::json!(tags));
    }
    let opts = WriteOptions::default()
        .with_chunk_duration_ns(50_000_000)
        .with_frame_queue(0)
        .with_secret(key.clone());
    let mut w = EpisodeWriter::create(path, meta, opts).unwrap();
    let joints = w
        .add_stream(
            StreamInfo::signal("joints", DType::Float32, &[2])
                .with_sensitivity(Sensitivity::Public),
        )
        .unwrap();
    let ft = w
        .add_stream(StreamInfo::signal("ft", DType::Float32, &[3])) // internal
        .unwrap();
    let cam = w
        .add_stream(
            StreamInfo::frames("cam/face", 16, 16, PixelFormat::Gray8)
                .with_sensitivity(Sensitivity::Private),
        )
        .unwrap();
    for i in 0..200i64 {
        let t = i * 1_000_000;
        w.write_signal(joints, t, &[i as f32, -(i as f32)]).unwrap();
        w.write_signal(ft, t, &[1.0f32, 2.0, i as f32]).unwrap();
        if i % 20 == 0 {
            w.write_frame(cam, t, &[i as u8; 256]).unwrap();
        }
    }
    w.finish().unwrap();
}

fn options(max: Sensitivity) -> ShareOptions {
    ShareOptions::new(max).with_require_tags(["licence:CC-BY-4.0"])
}

#[test]
fn share_keeps_only_allowed_streams_and_records_provenance() {
    let dir = common::tempdir();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("day1")).unwrap();
    let key = Key::generate().unwrap();
    write_episode(&src.join("day1/a.rmf"), Some(&["licence:CC-BY-4.0"]), &key);
    write_episode(&src.join("b.rmf"), None, &key);
    let out = dir.path().join("out");

    let report = share(&src, &out, &options(Sensitivity::Internal)).unwrap();
    assert_eq!(report.shared.len(), 1);
    assert_eq!(report.left_out.len(), 1);
    assert_eq!(report.left_out[0].0, "b.rmf");
    assert!(report.left_out[0].1.contains("licence:CC-BY-4.0"));
    let shared = out.join("day1/a.rmf");
    let r = EpisodeReader::open(&shared).unwrap();
    let names: Vec<&str> = r.streams().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["joints", "ft"]);
    assert!(
        r.key_record().is_none(),
        "no key record once nothing sealed is kept"
    );
    let p = rmf_dataset::share::provenance_of(&r).unwrap();
    assert_eq!(p.dropped.len(), 1);
    assert_eq!(p.dropped[0].stream, "cam/face");
    assert!(
        p.dropped[0].reason.contains("private"),
        "{}",
        p.dropped[0].reason
    );
    let source = EpisodeReader::open(src.join("day1/a.rmf")).unwrap();
    assert_eq!(p.source_id, source.meta().id.to_string());
    assert_ne!(r.meta().id, source.meta().id);
    // Values are the source's.
    assert_eq!(
        r.signal_range::<f32>("ft", 0, i64::MAX).unwrap(),
        source.signal_range::<f32>("ft", 0, i64::MAX).unwrap()
    );
    let check = verify_provenance(&shared, &src.join("day1/a.rmf")).unwrap();
    assert!(check.is_ok(), "{check}");
    assert_eq!(check.verified_streams, ["ft", "joints"]);

    // Public only: the internal stream stays behind too; also drop by name.
    let out2 = dir.path().join("out2");
    let opts = options(Sensitivity::Public).with_drop_streams(["joints"]);
    share(&src, &out2, &opts).unwrap();
    let r = EpisodeReader::open(out2.join("day1/a.rmf")).unwrap();
    assert!(r.streams().is_empty());
    let p = rmf_dataset::share::provenance_of(&r).unwrap();
    let reasons: Vec<(&str, &str)> = p
        .dropped
        .iter()
        .map(|d| (d.stream.as_str(), d.reason.as_str()))
        .collect();
    assert_eq!(reasons[0], ("joints", "dropped by name"));
    assert!(reasons[1]
        .1
        .contains("internal is above the allowed public"));

    // Private is never allowed out.
    assert!(share(&src, &dir.path().join("x"), &options(Sensitivity::Private)).is_err());
}

#[test]
fn provenance_detects_changed_chunks_and_another_source() {
    let dir = common::tempdir();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let key = Key::generate().unwrap();
    write_episode(&src.join("a.rmf"), Some(&["licence:CC-BY-4.0"]), &key);
    let out = dir.path().join("out");
    share(&src, &out, &options(Sensitivity::Internal)).unwrap();
    let shared = out.join("a.rmf");

    // Flip one byte of a chunk's last buffer of the shared file and fix the record checksum:
    // the stream's content hash must no longer match.
    let r = EpisodeReader::open(&shared).unwrap();
    let c = r.chunks()[1].clone();
    let mut bytes = std::fs::read(&shared).unwrap();
    let body = c.offset as usize + 16;
    let body_len = c.length as usize - 20;
    let at = body + body_len - 3; // inside the last buffer
    bytes[at] ^= 1;
    let crc = crc32c::crc32c(&bytes[body..body + body_len]);
    bytes[body + body_len..body + body_len + 4].copy_from_slice(&crc.to_le_bytes());
    let changed = dir.path().join("changed.rmf");
    std::fs::write(&changed, &bytes).unwrap();
    let check = verify_provenance(&changed, &src.join("a.rmf")).unwrap();
    assert!(!check.is_ok());
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.contains("changed after sharing")),
        "{check}"
    );

    // Another episode as the source.
    let other = dir.path().join("other.rmf");
    write_episode(&other, None, &key);
    let check = verify_provenance(&shared, &other).unwrap();
    assert!(check.problems.iter().any(|p| p.contains("id")), "{check}");
    assert!(
        check.problems.iter().any(|p| p.contains("content hash")),
        "{check}"
    );
}

#[test]
fn sealed_streams_never_leave_whatever_their_label() {
    let dir = common::tempdir();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let key = Key::generate().unwrap();
    let original = dir.path().join("a.rmf");
    write_episode(&original, Some(&["licence:CC-BY-4.0"]), &key);
    let changes = rmf_core::edit::Relabel {
        sensitivity: vec![("cam/face".into(), Sensitivity::Public)],
        ..Default::default()
    };
    rmf_core::edit::relabel(
        &original,
        &src.join("a.rmf"),
        &changes,
        WriteOptions::default(),
    )
    .unwrap();
    let out = dir.path().join("out");
    let report = share(&src, &out, &options(Sensitivity::Public)).unwrap();
    let p = &report.shared[0].2;
    assert!(!p.streams.contains_key("cam/face"));
    let d = p.dropped.iter().find(|d| d.stream == "cam/face").unwrap();
    assert_eq!(d.reason, "encrypted");
    assert!(EpisodeReader::open(out.join("a.rmf"))
        .unwrap()
        .key_record()
        .is_none());
}
