//! Trim, split, merge and redact: exact values against what was written, every stream kind,
//! untouched chunks copied, failures leave no output.
#![allow(clippy::unwrap_used)]

use rmf_testkit::fixtures as common;

use common::{read_small, small_file, Written};
use rmf_core::edit::{event_times, merge, redact, split, trim, REDACTIONS_STREAM};
use rmf_core::*;

/// What `w` holds with `from <= t < to`.
fn keep(w: &Written, from: i64, to: i64) -> Written {
    let inside = |t: i64| t >= from && t < to;
    let pick = |ts: &[i64]| -> Vec<usize> { (0..ts.len()).filter(|&i| inside(ts[i])).collect() };
    let ft = pick(&w.ft_t);
    let counter = pick(&w.counter_t);
    let cam = pick(&w.cam_t);
    Written {
        ft_t: ft.iter().map(|&i| w.ft_t[i]).collect(),
        ft_v: ft
            .iter()
            .flat_map(|&i| w.ft_v[3 * i..3 * i + 3].to_vec())
            .collect(),
        counter_t: counter.iter().map(|&i| w.counter_t[i]).collect(),
        counter_v: counter.iter().map(|&i| w.counter_v[i]).collect(),
        cam_t: cam.iter().map(|&i| w.cam_t[i]).collect(),
        cam: cam
            .iter()
            .flat_map(|&i| w.cam[24 * i..24 * i + 24].to_vec())
            .collect(),
        mic: w.mic.iter().filter(|b| inside(b.t)).cloned().collect(),
        events: w
            .events
            .iter()
            .filter(|(t, _)| inside(*t))
            .cloned()
            .collect(),
    }
}

fn opts() -> WriteOptions {
    WriteOptions::default()
}

#[test]
fn trim_keeps_exactly_the_range_in_every_stream() {
    let (dir, path, w) = small_file();
    let out = dir.path().join("trim.rmf");
    // Inside chunks (50 ms each) and on no chunk edge, so some chunks are copied and the edge
    // ones rewritten.
    let (from, to) = (37_000_000, 163_500_000);
    let report = trim(&path, &out, from, to, opts()).unwrap();
    assert!(report.output_bytes < report.input_bytes);
    let r = EpisodeReader::open(&out).unwrap();
    assert_eq!(read_small(&r).unwrap(), keep(&w, from, to));
    let source = EpisodeReader::open(&path).unwrap();
    assert_ne!(r.meta().id, source.meta().id);
    assert_eq!(
        r.meta().extra["derived_from"]["source_id"],
        source.meta().id.to_string()
    );
    assert!(validate(&out).unwrap().is_ok());
    assert!(trim(&path, &dir.path().join("x.rmf"), 5, 5, opts()).is_err());
    assert!(!dir.path().join("x.rmf").exists());
}

#[test]
fn a_trim_beside_every_sample_is_an_error_naming_where_they_are() {
    // Issue 21: `rmf trim --from 1000 --to 1001` (seconds meant, nanoseconds read) wrote an
    // empty episode and exited 0. Here: ranges after the last sample and before the first.
    let (dir, path, _) = small_file();
    let out = dir.path().join("empty.rmf");
    for (from, to) in [(1_000_000_000_000, 1_000_000_000_001), (-10, -5)] {
        let e = trim(&path, &out, from, to, opts()).unwrap_err().to_string();
        assert!(
            e.contains("keeps nothing") && e.contains("nanoseconds"),
            "{e}"
        );
        assert!(!out.exists());
    }
}

#[test]
fn opening_a_directory_says_it_is_one() {
    let (dir, _, _) = small_file();
    let e = EpisodeReader::open(dir.path())
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(e.contains("is a directory"), "{e}");
}

#[test]
fn split_then_merge_gives_back_the_episode() {
    let (dir, path, w) = small_file();
    let parts_dir = dir.path().join("parts");
    let r = EpisodeReader::open(&path).unwrap();
    let at = event_times(&r, "note").unwrap();
    assert_eq!(at.len(), 2);
    // At the notes and at a time inside a chunk.
    let mut cuts = at.clone();
    cuts.push(80_000_123);
    let reports = split(&path, &parts_dir, &cuts, opts()).unwrap();
    assert_eq!(reports.len(), 4);
    let mut bounds = vec![i64::MIN];
    let mut sorted = cuts.clone();
    sorted.sort();
    bounds.extend(sorted);
    bounds.push(i64::MAX);
    for (rep, b) in reports.iter().zip(bounds.windows(2)) {
        let part = EpisodeReader::open(&rep.output).unwrap();
        assert_eq!(
            read_small(&part).unwrap(),
            keep(&w, b[0], b[1]),
            "{}",
            rep.output.display()
        );
    }
    let merged = dir.path().join("merged.rmf");
    // Given out of order: merge orders by first sample.
    let mut files: Vec<_> = reports.iter().map(|r| r.output.clone()).collect();
    files.reverse();
    merge(&files, &merged, WriteOptions::default()).unwrap();
    let m = EpisodeReader::open(&merged).unwrap();
    assert_eq!(read_small(&m).unwrap(), w);
    assert_eq!(m.meta().extra["merged_from"].as_array().unwrap().len(), 4);
    assert!(validate(&merged).unwrap().is_ok());

    // Overlapping episodes cannot be merged; nothing is left behind.
    let bad = dir.path().join("bad.rmf");
    let err = merge(&[path.clone(), path.clone()], &bad, WriteOptions::default()).unwrap_err();
    assert!(err.to_string().contains("overlap"), "{err}");
    assert!(!bad.exists());
    assert_eq!(
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".tmp-")
            })
            .count(),
        0
    );
}

#[test]
fn redact_blanks_one_stream_in_a_range_and_logs_it() {
    let (dir, path, w) = small_file();
    let once = dir.path().join("once.rmf");
    let (from, to) = (30_000_000, 100_000_000);
    redact(&path, &once, "cam", from, to, "a person walked by", opts()).unwrap();
    let r = EpisodeReader::open(&once).unwrap();
    let (t, px) = r.frames_range("cam", i64::MIN, i64::MAX).unwrap();
    assert_eq!(t, w.cam_t);
    for (i, &ti) in t.iter().enumerate() {
        let got = &px[24 * i..24 * i + 24];
        if ti >= from && ti < to {
            assert!(got.iter().all(|&b| b == 0), "frame at {ti} not blank");
        } else {
            assert_eq!(got, &w.cam[24 * i..24 * i + 24]);
        }
    }
    // Other streams are untouched.
    let all = read_small(&r).unwrap();
    assert_eq!((all.ft_t, all.ft_v), (w.ft_t.clone(), w.ft_v.clone()));
    assert_eq!(all.events, w.events);
    assert_eq!(r.meta().id, EpisodeReader::open(&path).unwrap().meta().id);

    // A second redaction, of a signal, earlier in time: NaN in range, logged in time order.
    let twice = dir.path().join("twice.rmf");
    redact(
        &once,
        &twice,
        "ft",
        10_000_000,
        20_000_000,
        "sensor glitch",
        opts(),
    )
    .unwrap();
    let r = EpisodeReader::open(&twice).unwrap();
    let (t, v) = r.signal_range::<f32>("ft", i64::MIN, i64::MAX).unwrap();
    for (i, &ti) in t.iter().enumerate() {
        let row = &v[3 * i..3 * i + 3];
        if (10_000_000..20_000_000).contains(&ti) {
            assert!(row.iter().all(|x| x.is_nan()));
        } else {
            assert_eq!(row, &w.ft_v[3 * i..3 * i + 3]);
        }
    }
    let log = r
        .events_range(REDACTIONS_STREAM, i64::MIN, i64::MAX)
        .unwrap();
    let kinds: Vec<(i64, &str)> = log.iter().map(|(t, e)| (*t, e.kind.as_str())).collect();
    assert_eq!(
        kinds,
        [(10_000_000, "redaction"), (30_000_000, "redaction")]
    );
    assert_eq!(log[1].1.payload["stream"], "cam");
    assert!(log[0].1.text.contains("sensor glitch"));

    // Unknown stream: an error and no output.
    let none = dir.path().join("none.rmf");
    assert!(redact(&path, &none, "nope", 0, 1, "", opts()).is_err());
    assert!(!none.exists());
}

#[test]
#[cfg(feature = "encryption")]
fn redact_an_encrypted_stream_needs_its_key_and_stays_sealed() {
    let dir = common::tempdir();
    let path = dir.path().join("e.rmf");
    let key = Key::generate().unwrap();
    let mut w = EpisodeWriter::create(
        &path,
        EpisodeMeta::new(),
        WriteOptions::default()
            .with_secret(key.clone())
            .with_chunk_duration_ns(50_000_000),
    )
    .unwrap();
    let s = w
        .add_stream(
            StreamInfo::signal("ft", DType::Float64, &[1]).with_sensitivity(Sensitivity::Private),
        )
        .unwrap();
    for i in 0..100i64 {
        w.write_signal(s, i * 1_000_000, &[i as f64]).unwrap();
    }
    w.finish().unwrap();
    let out = dir.path().join("r.rmf");
    let err = redact(
        &path,
        &out,
        "ft",
        20_000_000,
        30_000_000,
        "x",
        WriteOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Encrypted { .. }), "{err}");
    assert!(!out.exists());
    redact(
        &path,
        &out,
        "ft",
        20_000_000,
        30_000_000,
        "x",
        WriteOptions::default().with_secret(key.clone()),
    )
    .unwrap();
    assert!(matches!(
        EpisodeReader::open(&out).unwrap().read_all("ft"),
        Err(Error::Encrypted { .. })
    ));
    let r = EpisodeReader::open_with(&out, ReadOptions::default().with_secret(key)).unwrap();
    let (_, v) = r.signal_range::<f64>("ft", i64::MIN, i64::MAX).unwrap();
    for (i, x) in v.iter().enumerate() {
        if (20..30).contains(&i) {
            assert!(x.is_nan());
        } else {
            assert_eq!(*x, i as f64);
        }
    }
}

/// The names in `dir`, sorted.
fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_split_refuses_an_existing_part_before_writing_any() {
    // (A split failing after some parts are complete is tested with a full disk and a kill in
    // rmf-py/tests/test_edits.py.)
    let (dir, path, _) = small_file();
    let parts = dir.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    std::fs::write(parts.join("small-part001.rmf"), b"mine").unwrap();
    let err = split(&path, &parts, &[60_000_000, 120_000_000], opts()).unwrap_err();
    assert!(err.to_string().contains("small-part001.rmf"), "{err}");
    assert_eq!(names_in(&parts), vec!["small-part001.rmf".to_string()]);
    assert_eq!(
        std::fs::read(parts.join("small-part001.rmf")).unwrap(),
        b"mine"
    );
}

#[test]
fn edits_report_progress_in_bytes_of_input_up_to_the_total() {
    let (dir, path, _) = small_file();
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = calls.clone();
    let with_progress = opts().with_progress(Progress::new(move |done, total| {
        seen.lock().unwrap().push((done, total))
    }));
    let r = EpisodeReader::open(&path).unwrap();
    let input: u64 = r.chunks().iter().map(|c| c.length).sum();

    // A split reports one progress over all its parts.
    let parts = dir.path().join("parts");
    split(&path, &parts, &[100_000_000], with_progress.clone()).unwrap();
    let split_calls = std::mem::take(&mut *calls.lock().unwrap());
    let (done, total) = *split_calls.last().unwrap();
    assert_eq!(done, total);
    // Chunks across the cut are read by both parts.
    assert!(total >= input && total < 2 * input, "{total} for {input}");
    assert!(split_calls.iter().all(|&(d, t)| t == total && d <= t));
    assert!(split_calls.windows(2).all(|w| w[0].0 <= w[1].0));

    let files: Vec<_> = names_in(&parts).iter().map(|n| parts.join(n)).collect();
    merge(&files, &dir.path().join("m.rmf"), with_progress.clone()).unwrap();
    let merge_calls = std::mem::take(&mut *calls.lock().unwrap());
    let part_chunks: u64 = files
        .iter()
        .map(|f| {
            let r = EpisodeReader::open(f).unwrap();
            r.chunks().iter().map(|c| c.length).sum::<u64>()
        })
        .sum();
    assert_eq!(*merge_calls.last().unwrap(), (part_chunks, part_chunks));
    assert!(merge_calls.iter().all(|&(d, t)| d <= t));
}
