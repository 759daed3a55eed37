//! The `rmf` binary end to end: every command group run as a user runs it, checking output,
//! `--json` objects and exit codes (0 success, 1 a problem found, 2 an error).
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use rmf_core::{EpisodeReader, Sensitivity};

fn rmf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rmf"))
        .args(args)
        .env_remove("RMF_KEY")
        .env_remove("RMF_KEY_FILE")
        .env_remove("RMF_PASSPHRASE")
        .output()
        .unwrap()
}

/// Runs `rmf args` and returns stdout; fails the test unless it exits with `code`.
fn run(code: i32, args: &[&str]) -> String {
    let out = rmf(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "rmf {args:?}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(run(0, &all).trim()).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A short demo episode with raw cameras (fast to write and read in a debug build).
fn demo(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let v = json(&["demo", s(&path), "--seconds", "0.5", "--codec", "raw"]);
    assert_eq!(v["seconds"], 0.5);
    path
}

#[test]
fn demo_info_and_validate_describe_the_same_episode() {
    let dir = tempfile::tempdir().unwrap();
    let ep = demo(dir.path(), "a.rmf");
    let text = run(0, &["info", s(&ep)]);
    for want in [
        "cam/front",
        "ft/wrist",
        "interventions",
        "640x480 rgb8 raw",
        "finished",
    ] {
        assert!(text.contains(want), "{want:?} not in\n{text}");
    }
    let info = json(&["info", s(&ep)]);
    let streams = info["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 7);
    let r = EpisodeReader::open(&ep).unwrap();
    for st in streams {
        let name = st["name"].as_str().unwrap();
        assert_eq!(st["count"], r.stream(name).unwrap().summary().count);
    }
    let v = json(&["validate", s(&ep)]);
    assert_eq!(
        (v["ok"].clone(), v["streams"].clone()),
        (true.into(), 7.into())
    );
    assert!(run(0, &["validate", s(&ep)]).contains(": OK:"));
}

#[test]
fn a_damaged_file_fails_validation_and_recovers_its_intact_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let ep = demo(dir.path(), "a.rmf");
    let mut bytes = std::fs::read(&ep).unwrap();
    let chunks = EpisodeReader::open(&ep).unwrap().chunks().to_vec();
    // One byte inside the last chunk's body, then the file cut before its footer.
    let last = chunks.iter().max_by_key(|c| c.offset).unwrap();
    let flip = (last.offset + last.length / 2) as usize;
    bytes[flip] ^= 0x40;
    let damaged = dir.path().join("damaged.rmf");
    std::fs::write(&damaged, &bytes).unwrap();
    let out = rmf(&["validate", s(&damaged), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert!(!v["problems"].as_array().unwrap().is_empty());

    let cut = dir.path().join("cut.rmf");
    std::fs::write(&cut, &bytes[..(last.offset + last.length) as usize]).unwrap();
    let fixed = dir.path().join("fixed.rmf");
    let rep = json(&["recover", s(&cut), s(&fixed)]);
    assert_eq!(
        rep["chunks"],
        chunks.len() - 1,
        "every intact chunk is kept"
    );
    run(0, &["validate", s(&fixed)]);
}

#[test]
fn errors_exit_2_with_a_message_and_a_json_object() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.rmf");
    let out = rmf(&["info", s(&missing)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("rmf: error: ") && err.contains("missing.rmf"),
        "{err}"
    );

    // A bad key in the environment: named, with one "invalid argument" prefix, not two.
    let out = Command::new(env!("CARGO_BIN_EXE_rmf"))
        .args(["info", s(&missing)])
        .env("RMF_KEY", "not hex")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("RMF_KEY: "), "{err}");
    assert_eq!(err.matches("invalid argument").count(), 1, "{err}");

    let not_rmf = dir.path().join("not.rmf");
    std::fs::write(&not_rmf, b"hello, this is not an episode").unwrap();
    let out = rmf(&["info", s(&not_rmf), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["error"].as_str().unwrap().contains("not.rmf"), "{v}");

    // Usage errors (clap) and settings given to the wrong codec.
    assert_eq!(rmf(&["info"]).status.code(), Some(2));
    let out = rmf(&[
        "demo",
        s(&dir.path().join("x.rmf")),
        "--codec",
        "png",
        "--qp",
        "20",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("qp and gop are for the h264 codec only"));
    assert!(!dir.path().join("x.rmf").exists());
}

#[test]
fn every_command_refuses_to_replace_a_file_unless_told_to() {
    let dir = tempfile::tempdir().unwrap();
    let ep = demo(dir.path(), "a.rmf");
    let p = |n: &str| dir.path().join(n);
    let taken = p("taken.rmf");
    std::fs::write(&taken, b"keep me").unwrap();
    let (a, t) = (s(&ep), s(&taken));
    for args in [
        vec!["demo", t, "--seconds", "0.1", "--codec", "raw"],
        vec!["trim", a, t, "--from", "+0s", "--to", "+0.1s"],
        vec!["drop-stream", a, t, "--stream", "mic"],
        vec!["recover", a, t],
        vec!["transcode", a, t, "--codec", "png"],
    ] {
        let out = rmf(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("exists") && err.contains("--overwrite"),
            "{args:?}: {err}"
        );
        assert_eq!(std::fs::read(&taken).unwrap(), b"keep me", "{args:?}");
        // With --overwrite the same command replaces it with a whole episode.
        let mut again = args.clone();
        again.push("--overwrite");
        run(0, &again);
        assert!(EpisodeReader::open(&taken).is_ok(), "{again:?}");
        std::fs::write(&taken, b"keep me").unwrap();
    }
}

#[test]
fn info_bounds_its_event_list_and_aligns_long_names() {
    use rmf_core::{EpisodeMeta, EpisodeWriter, Event, StreamInfo, WriteOptions};
    let dir = tempfile::tempdir().unwrap();
    let ep = dir.path().join("many.rmf");
    let long = "robot/left_arm/wrist/force_torque_sensor/raw";
    let mut w = EpisodeWriter::create(&ep, EpisodeMeta::new(), WriteOptions::default()).unwrap();
    let ev = w.add_stream(StreamInfo::events("log")).unwrap();
    let sig = w
        .add_stream(StreamInfo::signal(long, rmf_core::DType::Float32, &[]))
        .unwrap();
    let blob = serde_json::json!({"data_base64": "QUJD".repeat(1000)});
    for k in 0..5000i64 {
        let e = Event::new(if k % 2 == 0 { "raw" } else { "note" }).with_payload(blob.clone());
        w.write_event(ev, k * 1_000, &e).unwrap();
    }
    w.write_signal(sig, 0, &[1.0f32]).unwrap();
    w.finish().unwrap();

    let text = run(0, &["info", s(&ep), "--events", "3"]);
    assert!(text.contains("events in \"log\": 5000"), "{text}");
    assert!(text.contains("by kind: note 2500, raw 2500"), "{text}");
    assert!(text.contains("... 4997 more (--events N"), "{text}");
    assert!(
        !text.contains(&"QUJD".repeat(100)),
        "a base64 payload was printed whole"
    );
    assert!(text.len() < 4000, "{} bytes of output", text.len());
    // Every row of the stream table has its kind column at the same place.
    let rows: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "streams")
        .skip(1)
        .take(3)
        .collect();
    let at = |l: &str, word: &str| l.find(word).unwrap();
    assert_eq!(at(rows[0], "kind"), at(rows[1], "events"), "{rows:#?}");
    assert_eq!(at(rows[0], "kind"), at(rows[2], "signal"), "{rows:#?}");
    let whole = run(0, &["info", s(&ep), "--events", "1", "--payloads"]);
    assert!(whole.contains(&"QUJD".repeat(1000)));
}

#[test]
fn stats_name_the_episodes_that_disagree_and_can_be_limited() {
    use rmf_core::{DType, EpisodeMeta, EpisodeWriter, StreamInfo, WriteOptions};
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, width: usize| {
        let path = dir.path().join(name);
        let mut w =
            EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default()).unwrap();
        let names: Vec<String> = ["fx", "fy", "fz"][..width]
            .iter()
            .map(|n| n.to_string())
            .collect();
        let ft = w
            .add_stream(StreamInfo::signal("ft", DType::Float32, &[width]).with_names(names))
            .unwrap();
        let j = w
            .add_stream(StreamInfo::signal("j", DType::Float32, &[]))
            .unwrap();
        for k in 0..10i64 {
            w.write_signal(ft, k, &vec![k as f32; width]).unwrap();
            w.write_signal(j, k, &[k as f32]).unwrap();
        }
        w.finish().unwrap();
    };
    write("a.rmf", 2);
    write("b.rmf", 3);
    let d = s(dir.path());
    let out = rmf(&["stats", d]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2 elements in 1 episodes (a.rmf)")
            && err.contains("3 elements in 1 episodes (b.rmf)")
            && err.contains("--stream"),
        "{err}"
    );
    let text = run(0, &["stats", d, "--stream", "j"]);
    assert!(text.contains("\nj\n") && !text.contains("\nft\n"), "{text}");
    let text = run(0, &["stats", d, "--episode", "a.rmf"]);
    assert!(text.contains("  fx ") && text.contains("  fy "), "{text}");
    let v = json(&["stats", d, "--episode", "b.rmf", "--stream", "ft"]);
    assert_eq!(
        v["streams"][0]["names"],
        serde_json::json!(["fx", "fy", "fz"])
    );
    assert_eq!(run(2, &["stats", d, "--stream", "nope"]), "");
}

#[test]
fn times_take_units_or_count_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let ep = demo(dir.path(), "a.rmf");
    let p = |n: &str| dir.path().join(n);
    // Nanoseconds or seconds? A bare number is refused, naming the forms that work.
    let out = rmf(&[
        "trim",
        s(&ep),
        s(&p("x.rmf")),
        "--from",
        "1000",
        "--to",
        "1001",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no unit") && err.contains("1000.2s") && err.contains("+1.5s"),
        "{err}"
    );
    assert!(!p("x.rmf").exists());
    // +0.1s..+0.3s is the same trim as the absolute times, in ns and in s.
    let (start, _) = EpisodeReader::open(&ep).unwrap().time_range().unwrap();
    json(&[
        "trim",
        s(&ep),
        s(&p("rel.rmf")),
        "--from",
        "+0.1s",
        "--to",
        "+300ms",
    ]);
    let to = start + 300_000_000;
    let (a, b) = (
        format!("{}ns", start + 100_000_000),
        format!("{}.{:09}s", to / 1_000_000_000, to % 1_000_000_000),
    );
    json(&["trim", s(&ep), s(&p("abs.rmf")), "--from", &a, "--to", &b]);
    let times = |n: &str| {
        let r = EpisodeReader::open(p(n)).unwrap();
        r.stream("ft/wrist").unwrap().times().unwrap()
    };
    assert_eq!(times("rel.rmf"), times("abs.rmf"));
    assert_eq!(
        times("rel.rmf").first().map(|t| t - start >= 100_000_000),
        Some(true)
    );
}

#[test]
fn edits_write_new_files_and_leave_the_input_alone() {
    let dir = tempfile::tempdir().unwrap();
    let ep = demo(dir.path(), "a.rmf");
    let before = std::fs::read(&ep).unwrap();
    let p = |n: &str| dir.path().join(n);

    let (start, _) = EpisodeReader::open(&ep).unwrap().time_range().unwrap();
    let (from, to, cut) = (
        start + 100_000_000,
        start + 300_000_000,
        start + 250_000_000,
    );
    let (from_arg, to_arg) = (format!("{from}ns"), format!("{to}ns"));
    let v = json(&[
        "trim",
        s(&ep),
        s(&p("t.rmf")),
        "--from",
        &from_arg,
        "--to",
        &to_arg,
    ]);
    assert_eq!(v["streams"], 7);
    let t = EpisodeReader::open(p("t.rmf")).unwrap();
    let times = t.stream("ft/wrist").unwrap().times().unwrap();
    assert!(
        (195..=200).contains(&times.len()),
        "1 kHz for 200 ms: {}",
        times.len()
    );
    assert!(times.iter().all(|&x| (from..to).contains(&x)));

    json(&["drop-stream", s(&ep), s(&p("d.rmf")), "--stream", "mic"]);
    assert!(EpisodeReader::open(p("d.rmf"))
        .unwrap()
        .stream("mic")
        .is_err());
    json(&[
        "rename-stream",
        s(&ep),
        s(&p("r.rmf")),
        "joints",
        "arm/joints",
    ]);
    assert!(EpisodeReader::open(p("r.rmf"))
        .unwrap()
        .stream("arm/joints")
        .is_ok());
    json(&[
        "relabel",
        s(&ep),
        s(&p("l.rmf")),
        "--sensitivity",
        "mic=private",
        "--add-tag",
        "licence:CC-BY-4.0",
    ]);
    let l = EpisodeReader::open(p("l.rmf")).unwrap();
    assert_eq!(l.stream("mic").unwrap().sensitivity, Sensitivity::Private);
    assert_eq!(l.meta().tags(), ["licence:CC-BY-4.0"]);

    let v = json(&["split", s(&ep), s(&p("parts")), "--at", &format!("{cut}ns")]);
    assert_eq!(v["parts"].as_array().unwrap().len(), 2);
    let v = json(&[
        "merge",
        s(&p("parts/a-part000.rmf")),
        s(&p("parts/a-part001.rmf")),
        "-o",
        s(&p("m.rmf")),
    ]);
    assert_eq!(v["streams"], 7);
    let m = EpisodeReader::open(p("m.rmf")).unwrap();
    let a = EpisodeReader::open(&ep).unwrap();
    assert_eq!(
        m.stream("ft/wrist").unwrap().times().unwrap(),
        a.stream("ft/wrist").unwrap().times().unwrap()
    );

    let v = json(&[
        "transcode",
        s(&ep),
        s(&p("png.rmf")),
        "--codec",
        "png",
        "--stream",
        "cam/front",
    ]);
    assert_eq!(v["streams"][0]["from"], "raw");
    let (_, px) = EpisodeReader::open(p("png.rmf"))
        .unwrap()
        .frames_range("cam/front", i64::MIN, i64::MAX)
        .unwrap();
    assert_eq!(
        px,
        a.frames_range("cam/front", i64::MIN, i64::MAX).unwrap().1,
        "png is lossless"
    );

    assert_eq!(
        std::fs::read(&ep).unwrap(),
        before,
        "the input is never edited"
    );
    // An existing output is refused.
    assert_eq!(
        rmf(&["drop-stream", s(&ep), s(&p("d.rmf")), "--stream", "mic"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn exports_hold_the_stream_values() {
    let dir = tempfile::tempdir().unwrap();
    let ep = demo(dir.path(), "a.rmf");
    let csv = dir.path().join("action.csv");
    let v = json(&["export", s(&ep), "--stream", "action", s(&csv)]);
    let r = EpisodeReader::open(&ep).unwrap();
    let (t, values) = r.signal_range::<f32>("action", i64::MIN, i64::MAX).unwrap();
    assert_eq!(v["rows"], t.len());
    let text = std::fs::read_to_string(&csv).unwrap();
    let first: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(first[0].parse::<i64>().unwrap(), t[0]);
    assert_eq!(first[1].parse::<f32>().unwrap(), values[0]);

    let frames = dir.path().join("frames");
    let v = json(&["export-frames", s(&ep), "--stream", "cam/wrist", s(&frames)]);
    let n = r.stream("cam/wrist").unwrap().summary().count as usize;
    assert_eq!(v["frames"], n);
    assert_eq!(
        std::fs::read_to_string(frames.join("timestamps.csv"))
            .unwrap()
            .lines()
            .count(),
        n + 1
    );
}

#[test]
fn datasets_index_stats_and_share_with_provenance() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for name in ["a.rmf", "b.rmf"] {
        let ep = demo(&data, name);
        let tagged = data.join(format!("t-{name}"));
        json(&[
            "relabel",
            s(&ep),
            s(&tagged),
            "--add-tag",
            "ok",
            "--sensitivity",
            "mic=private",
        ]);
        std::fs::remove_file(&ep).unwrap();
    }
    let v = json(&["index", s(&data)]);
    assert_eq!(v["episodes"], 2);
    let v = json(&["stats", s(&data)]);
    let ft = v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["stream"] == "ft/wrist")
        .unwrap();
    assert_eq!(ft["count"].as_array().unwrap().len(), 6);

    let out = dir.path().join("shared");
    let v = json(&[
        "share",
        s(&data),
        s(&out),
        "--max-label",
        "internal",
        "--require-tag",
        "ok",
    ]);
    assert_eq!(v["shared"].as_array().unwrap().len(), 2);
    let copy = out.join("t-a.rmf");
    assert!(
        EpisodeReader::open(&copy).unwrap().stream("mic").is_err(),
        "private stays"
    );
    let v = json(&["verify-provenance", s(&copy), s(&data.join("t-a.rmf"))]);
    assert_eq!(v["ok"], true);
    // Against another source: a mismatch, exit 1.
    let out = rmf(&["verify-provenance", s(&copy), s(&data.join("t-b.rmf"))]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn keygen_makes_a_key_that_opens_what_it_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.key");
    let v = json(&["keygen", s(&key)]);
    assert_eq!(v["key_id"].as_str().unwrap().len(), 16);
    assert_eq!(
        rmf(&["keygen", s(&key)]).status.code(),
        Some(2),
        "never overwrites a key"
    );
    let ep = demo(dir.path(), "a.rmf");
    let sealed = dir.path().join("sealed.rmf");
    json(&[
        "--key-file",
        s(&key),
        "relabel",
        s(&ep),
        s(&sealed),
        "--sensitivity",
        "ft/wrist=private",
    ]);
    let text = run(0, &["info", s(&sealed)]);
    assert!(text.contains("private (encrypted, no key)"), "{text}");
    let text = run(0, &["info", s(&sealed), "--key-file", s(&key)]);
    assert!(text.contains("private (encrypted)"), "{text}");
    let out = dir.path().join("ft.csv");
    assert_eq!(
        rmf(&["export", s(&sealed), "--stream", "ft/wrist", s(&out)])
            .status
            .code(),
        Some(2)
    );
    run(
        0,
        &[
            "export",
            s(&sealed),
            "--stream",
            "ft/wrist",
            s(&out),
            "--key-file",
            s(&key),
        ],
    );
}
