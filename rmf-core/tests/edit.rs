//! Edits write new files: dropped, renamed and relabelled streams keep every sample exactly,
//! the input is never modified, and refused edits leave nothing behind.
#![allow(clippy::unwrap_used)]

use rmf_testkit::fixtures as common;

use common::{read_small, small_file, tempdir};
use rmf_core::edit::*;
use rmf_core::*;

#[test]
fn drop_rename_and_relabel_keep_every_other_sample_exactly() {
    let (dir, path, written) = small_file();
    let before = std::fs::read(&path).unwrap();
    let (dropped, renamed, relabelled) = (
        dir.path().join("d.rmf"),
        dir.path().join("r.rmf"),
        dir.path().join("l.rmf"),
    );

    let r = drop_streams(
        &path,
        &dropped,
        &["mic".to_string()],
        WriteOptions::default(),
    )
    .unwrap();
    assert_eq!(
        r.streams
            .iter()
            .filter(|s| s.plan == StreamPlan::Drop)
            .count(),
        1
    );
    let d = EpisodeReader::open(&dropped).unwrap();
    assert!(d.stream("mic").is_err());
    let mut want = written.clone();
    want.mic.clear();
    assert_eq!(read_small(&d).unwrap(), want);

    rename_stream(&path, &renamed, "cam", "cam/front", WriteOptions::default()).unwrap();
    let n = EpisodeReader::open(&renamed).unwrap();
    assert!(n.stream("cam").is_err());
    assert_eq!(
        n.frames_range("cam/front", i64::MIN, i64::MAX).unwrap(),
        (written.cam_t.clone(), written.cam.clone())
    );

    let changes = Relabel {
        sensitivity: vec![("mic".into(), Sensitivity::Private)],
        tags: vec![("ft".into(), "site".into(), "lab-2".into())],
        meta: vec![
            ("task".into(), serde_json::json!("stack")),
            ("k".into(), serde_json::Value::Null),
            ("batch".into(), serde_json::json!(7)),
            ("tags".into(), serde_json::json!(["a", "old"])),
        ],
        add_tags: vec!["licence:CC-BY-4.0".into(), "a".into()],
        remove_tags: vec!["old".into()],
    };
    relabel(&path, &relabelled, &changes, WriteOptions::default()).unwrap();
    let l = EpisodeReader::open(&relabelled).unwrap();
    assert_eq!(l.stream("mic").unwrap().sensitivity, Sensitivity::Private);
    assert_eq!(l.stream("ft").unwrap().tags["site"], "lab-2");
    assert_eq!(l.meta().task, "stack");
    assert!(!l.meta().extra.contains_key("k"));
    assert_eq!(l.meta().extra["batch"], 7);
    // Tags: set by `meta`, then added once each and removed.
    assert_eq!(l.meta().tags(), ["a", "licence:CC-BY-4.0"]);
    assert_eq!(read_small(&l).unwrap(), written);
    for p in [&dropped, &renamed, &relabelled] {
        assert!(validate(p).unwrap().is_ok());
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the input is never modified"
    );
}

#[test]
fn refused_edits_leave_nothing_behind() {
    let (dir, path, _) = small_file();
    let out = dir.path().join("out.rmf");
    let e = rename_stream(&path, &out, "cam", "ft", WriteOptions::default()).unwrap_err();
    assert!(matches!(e, Error::DuplicateStream { .. }), "{e}");
    assert!(drop_streams(&path, &out, &["nope".into()], WriteOptions::default()).is_err());
    assert!(rename_stream(&path, &path, "cam", "x", WriteOptions::default()).is_err());
    let bad = Relabel {
        sensitivity: vec![("nope".into(), Sensitivity::Public)],
        ..Relabel::default()
    };
    assert!(relabel(&path, &out, &bad, WriteOptions::default()).is_err());
    let empty_tag = Relabel {
        add_tags: vec![" ".into()],
        ..Relabel::default()
    };
    assert!(relabel(&path, &out, &empty_tag, WriteOptions::default()).is_err());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    // A rewrite into a directory that does not exist fails cleanly too.
    let missing = tempdir().path().join("gone/out.rmf");
    assert!(drop_streams(&path, &missing, &[], WriteOptions::default()).is_err());
}
