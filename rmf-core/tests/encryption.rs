//! Encrypted private streams: round trips with a key and a passphrase, what a reader without
//! the key sees, wrong keys, tampering, no plaintext anywhere in the file, recovery and edits.
#![allow(clippy::unwrap_used)]

use rmf_testkit::fixtures as common;

use std::path::Path;

use rmf_core::edit::{drop_streams, relabel, Relabel};
use rmf_core::*;

const SECRET_NOTE: &str = "operator said the part number is ZX-4471-SECRET";
const W: u32 = 64;
const H: u32 = 48;

/// Noise frames: incompressible, so their bytes appear as they are in an unencrypted file.
fn noise_frame(seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..(W * H) as usize)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The private force values: large, distinctive numbers whose min and max land in the footer
/// statistics of an unencrypted file.
fn force(i: i64) -> [f32; 3] {
    [
        12_345.678 + i as f32,
        -9_876.5 - i as f32,
        4_242.25 + (i % 7) as f32,
    ]
}

struct Written {
    force_t: Vec<i64>,
    force_v: Vec<f32>,
    joints_v: Vec<f64>,
    frames: Vec<Vec<u8>>,
}

fn write(path: &Path, secret: Option<Secret>) -> Written {
    let opts = WriteOptions::default()
        .with_chunk_duration_ns(100_000_000)
        .with_frame_queue(0)
        .with_overwrite(true);
    let opts = match secret {
        Some(s) => opts.with_secret(s),
        None => opts,
    };
    let mut w = EpisodeWriter::create(path, EpisodeMeta::new().with_task("encrypt"), opts).unwrap();
    let joints = w
        .add_stream(
            StreamInfo::signal("joints", DType::Float64, &[2])
                .with_sensitivity(Sensitivity::Public),
        )
        .unwrap();
    let ft = w
        .add_stream(
            StreamInfo::signal("ft/wrist", DType::Float32, &[3])
                .with_sensitivity(Sensitivity::Private),
        )
        .unwrap();
    let cam = w
        .add_stream(
            StreamInfo::frames("cam/face", W, H, PixelFormat::Gray8)
                .with_sensitivity(Sensitivity::Private),
        )
        .unwrap();
    let notes = w
        .add_stream(StreamInfo::events("notes").with_sensitivity(Sensitivity::Private))
        .unwrap();
    let mut out = Written {
        force_t: Vec::new(),
        force_v: Vec::new(),
        joints_v: Vec::new(),
        frames: Vec::new(),
    };
    for i in 0..300i64 {
        let t = i * 1_000_000;
        let v = force(i);
        w.write_signal(ft, t, &v).unwrap();
        out.force_t.push(t);
        out.force_v.extend_from_slice(&v);
        if i % 10 == 0 {
            let j = [i as f64 * 0.5, -(i as f64)];
            w.write_signal(joints, t, &j).unwrap();
            out.joints_v.extend_from_slice(&j);
        }
        if i % 30 == 0 {
            let f = noise_frame(i as u64);
            w.write_frame(cam, t, &f).unwrap();
            out.frames.push(f);
        }
    }
    w.write_event(
        notes,
        150_000_000,
        &Event::new("note").with_text(SECRET_NOTE),
    )
    .unwrap();
    w.finish().unwrap();
    out
}

fn open(path: &Path, secret: Option<Secret>) -> Result<EpisodeReader> {
    let opts = match secret {
        Some(s) => ReadOptions::default().with_secret(s),
        None => ReadOptions::default(),
    };
    EpisodeReader::open_with(path, opts)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn check_private(r: &EpisodeReader, want: &Written) {
    let (t, v) = r.signal_range::<f32>("ft/wrist", 0, i64::MAX).unwrap();
    assert_eq!(t, want.force_t);
    assert_eq!(v, want.force_v);
    let frames = r.frames_range("cam/face", 0, i64::MAX).unwrap().1;
    assert_eq!(frames, want.frames.concat());
    let events = r.events_range("notes", 0, i64::MAX).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1.text, SECRET_NOTE);
    // Random access: one frame in the middle, one force sample.
    assert_eq!(
        r.frame_at("cam/face", 95_000_000).unwrap().unwrap().1,
        want.frames[3]
    );
    assert_eq!(
        r.signal_at::<f32>("ft/wrist", 123_000_000)
            .unwrap()
            .unwrap()
            .1,
        force(123).to_vec()
    );
}

#[test]
fn round_trip_with_key_and_what_a_reader_without_it_sees() {
    let dir = common::tempdir();
    let path = dir.path().join("enc.rmf");
    let key = Key::generate().unwrap();
    let want = write(&path, Some(key.clone().into()));

    let r = open(&path, Some(key.clone().into())).unwrap();
    check_private(&r, &want);
    assert_eq!(r.key_record().unwrap().key_id, key.id());
    let (lo, hi) = r.signal_bounds("ft/wrist").unwrap().unwrap();
    assert_eq!(lo[0], 12_345.678f32 as f64);
    assert_eq!(hi[0], (12_345.678f32 + 299.0) as f64);

    // Without the key: metadata, the index and public streams read; private streams refuse.
    let r = open(&path, None).unwrap();
    assert_eq!(r.streams().len(), 4);
    assert_eq!(r.meta().task, "encrypt");
    assert_eq!(r.summary("ft/wrist").unwrap().count, 300);
    let (_, j) = r.signal_range::<f64>("joints", 0, i64::MAX).unwrap();
    assert_eq!(j, want.joints_v);
    for name in ["ft/wrist", "cam/face", "notes"] {
        assert!(!r.is_readable(name).unwrap());
        let err = r.read_all(name).unwrap_err();
        assert!(matches!(err, Error::Encrypted { .. }), "{name}: {err}");
        assert!(err.to_string().contains(name), "{err}");
    }
    assert!(matches!(
        r.signal_bounds("ft/wrist"),
        Err(Error::Encrypted { .. })
    ));
    let report = validate(&path).unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(report.sealed_unopened > 0);
    let report = validate_with(&path, ReadOptions::default().with_secret(key)).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.sealed_unopened, 0);

    // A wrong key fails at open, naming the key the file needs.
    let wrong = Key::generate().unwrap();
    let err = open(&path, Some(wrong.into())).unwrap_err();
    assert!(matches!(err, Error::WrongKey { .. }), "{err}");
    assert!(
        err.to_string().contains(&r.key_record().unwrap().key_id),
        "{err}"
    );
    let err = open(&path, Some(Secret::passphrase("x"))).unwrap_err();
    assert!(matches!(err, Error::WrongKey { .. }), "{err}");
}

#[test]
fn passphrase_round_trip() {
    let dir = common::tempdir();
    let path = dir.path().join("pass.rmf");
    let want = write(
        &path,
        Some(Secret::passphrase("correct horse battery staple")),
    );
    let r = open(
        &path,
        Some(Secret::passphrase("correct horse battery staple")),
    )
    .unwrap();
    check_private(&r, &want);
    assert!(matches!(
        open(&path, Some(Secret::passphrase("wrong horse"))),
        Err(Error::WrongKey { .. })
    ));
    // Issue 19: the Argon2id cost a reader spends is capped before any is spent.
    let writer_cost = u64::from(crypt::ARGON2_M_KIB) * u64::from(crypt::ARGON2_T);
    assert!(DEFAULT_MAX_KDF_COST >= writer_cost);
    let capped = ReadOptions::default()
        .with_secret(Secret::passphrase("correct horse battery staple"))
        .with_max_kdf_cost(writer_cost - 1);
    match EpisodeReader::open_with(&path, capped) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("with_max_kdf_cost"), "{m}"),
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn no_plaintext_of_private_streams_in_the_file() {
    let dir = common::tempdir();
    let plain = dir.path().join("plain.rmf");
    let enc = dir.path().join("enc.rmf");
    let want = write(&plain, None);
    write(&enc, Some(Key::generate().unwrap().into()));
    let plain_bytes = std::fs::read(&plain).unwrap();
    let enc_bytes = std::fs::read(&enc).unwrap();

    // Needles: a slice of a noise frame, the note's text, and the footer statistics (min of
    // the first force axis, max of the second).
    let frame_piece = &want.frames[2][1000..1064];
    let min_stat = 12_345.678f32.to_le_bytes();
    let needles: [(&str, &[u8]); 3] = [
        ("frame bytes", frame_piece),
        ("note text", SECRET_NOTE.as_bytes()),
        ("force statistics", &min_stat),
    ];
    for (what, needle) in needles {
        // The test would be empty if the needle were not there in the clear.
        assert!(
            contains(&plain_bytes, needle),
            "{what} not in the unencrypted control file"
        );
        assert!(
            !contains(&enc_bytes, needle),
            "{what} found in the encrypted file"
        );
    }
    // Public streams stay in the clear (same statistics bytes as the control).
    let r = open(&enc, None).unwrap();
    assert!(r.signal_bounds("joints").unwrap().is_some());
}

/// Offset of the first sealed chunk record of the file.
fn first_sealed(r: &EpisodeReader, stream: &str) -> u64 {
    let id = r.streams().iter().position(|s| s.name == stream).unwrap();
    let pos_of = |c: &ChunkEntry| r.streams().iter().position(|s| Some(s) == r.stream_of(c));
    r.chunks()
        .iter()
        .find(|c| pos_of(c) == Some(id))
        .unwrap()
        .offset
}

/// Flips one byte of a record body at `at` (relative to the body) and fixes the body CRC, so
/// that only the authentication can notice.
fn tamper(path: &Path, record: u64, at: usize, fix_crc: bool) {
    let mut bytes = std::fs::read(path).unwrap();
    let body_len = u64::from_le_bytes(
        bytes[record as usize + 4..record as usize + 12]
            .try_into()
            .unwrap(),
    ) as usize;
    let body = record as usize + 16;
    bytes[body + at] ^= 0x40;
    if fix_crc {
        let crc = crc32c::crc32c(&bytes[body..body + body_len]);
        bytes[body + body_len..body + body_len + 4].copy_from_slice(&crc.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn tampering_is_detected() {
    let dir = common::tempdir();
    let path = dir.path().join("t.rmf");
    let key = Key::generate().unwrap();
    write(&path, Some(key.clone().into()));
    let offset = first_sealed(&open(&path, None).unwrap(), "ft/wrist");
    let original = std::fs::read(&path).unwrap();

    // At the ciphertext, the nonce and the cleartext row count; with the CRC fixed, only the
    // authentication can tell.
    for (at, what) in [(100usize, "ciphertext"), (40, "nonce"), (24, "rows")] {
        std::fs::write(&path, &original).unwrap();
        tamper(&path, offset, at, true);
        let r = open(&path, Some(key.clone().into())).unwrap();
        let err = r.read_all("ft/wrist").unwrap_err();
        if what == "rows" {
            // The cleartext header also disagrees with the index; either error is right, but it
            // must be an error.
            assert!(err.is_data_error(), "{what}: {err}");
        } else {
            assert!(matches!(err, Error::Authentication { .. }), "{what}: {err}");
            assert!(err.to_string().contains("ft/wrist"), "{err}");
        }
    }
    // Without fixing the CRC, the record checksum catches it first.
    std::fs::write(&path, &original).unwrap();
    tamper(&path, offset, 100, false);
    let r = open(&path, Some(key.into())).unwrap();
    assert!(matches!(
        r.read_all("ft/wrist"),
        Err(Error::Checksum { .. })
    ));
}

#[test]
fn crash_recovery_and_edits_keep_encrypted_streams() {
    let dir = common::tempdir();
    let path = dir.path().join("full.rmf");
    let key = Key::generate().unwrap();
    let want = write(&path, Some(key.clone().into()));

    // A crash: cut the file before its footer. Sealed chunks are found by the scan.
    let r = open(&path, None).unwrap();
    let last_chunk_end = r
        .chunks()
        .iter()
        .map(|c| c.offset + c.length)
        .max()
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.rmf");
    std::fs::write(&cut, &bytes[..last_chunk_end as usize]).unwrap();
    let r = open(&cut, Some(key.clone().into())).unwrap();
    assert!(r.recovery().is_some());
    check_private(&r, &want);
    let fixed = dir.path().join("fixed.rmf");
    recover(&cut, &fixed).unwrap();
    let r = open(&fixed, Some(key.clone().into())).unwrap();
    assert!(r.recovery().is_none());
    check_private(&r, &want);
    assert!(
        validate_with(&fixed, ReadOptions::default().with_secret(key.clone()))
            .unwrap()
            .is_ok()
    );

    // Dropping the public stream renumbers the others; sealed chunks copy without the key.
    let dropped = dir.path().join("dropped.rmf");
    drop_streams(
        &path,
        &dropped,
        &["joints".to_string()],
        WriteOptions::default(),
    )
    .unwrap();
    let r = open(&dropped, Some(key.clone().into())).unwrap();
    assert_eq!(r.streams().len(), 3);
    check_private(&r, &want);
    assert!(matches!(
        open(&dropped, None).unwrap().read_all("ft/wrist"),
        Err(Error::Encrypted { .. })
    ));

    // Relabelling leaves sealed chunks sealed.
    let relabelled = dir.path().join("relabelled.rmf");
    let changes = Relabel {
        sensitivity: vec![("ft/wrist".into(), Sensitivity::Internal)],
        ..Relabel::default()
    };
    relabel(&path, &relabelled, &changes, WriteOptions::default()).unwrap();
    let r = open(&relabelled, None).unwrap();
    assert!(!r.is_readable("ft/wrist").unwrap());
    check_private(&open(&relabelled, Some(key.into())).unwrap(), &want);
}

#[test]
fn files_without_encryption_are_unchanged_version_1_0() {
    let dir = common::tempdir();
    let path = dir.path().join("p.rmf");
    write(&path, None);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[10..12], &0u16.to_le_bytes(), "minor version 0");
    let enc = dir.path().join("e.rmf");
    write(&enc, Some(Key::generate().unwrap().into()));
    assert_eq!(&std::fs::read(&enc).unwrap()[10..12], &1u16.to_le_bytes());
    let r = open(&path, None).unwrap();
    assert!(r.key_record().is_none());
    assert!(r.streams().iter().all(|s| s.encryption.is_none()));
}

#[test]
fn edits_with_a_key_encrypt_and_parts_merge_back() {
    let dir = common::tempdir();
    let plain = dir.path().join("plain.rmf");
    let want = write(&plain, None);
    let key = Key::generate().unwrap();

    // A plain file relabelled with a key: the newly private stream is sealed on the way.
    let relabelled = dir.path().join("relabelled.rmf");
    let changes = Relabel {
        sensitivity: vec![("joints".into(), Sensitivity::Private)],
        ..Relabel::default()
    };
    relabel(
        &plain,
        &relabelled,
        &changes,
        WriteOptions::default().with_secret(key.clone()),
    )
    .unwrap();
    let r = open(&relabelled, None).unwrap();
    for name in ["joints", "ft/wrist", "cam/face", "notes"] {
        assert!(!r.is_readable(name).unwrap(), "{name} should be sealed");
    }
    let r = open(&relabelled, Some(key.clone().into())).unwrap();
    check_private(&r, &want);
    assert_eq!(
        r.signal_range::<f64>("joints", 0, i64::MAX).unwrap().1,
        want.joints_v
    );
    // An edit never replaces a file.
    assert!(relabel(&plain, &relabelled, &changes, WriteOptions::default()).is_err());

    // Split parts share the data key, so they merge back without it.
    let parts = rmf_core::edit::split(
        &relabelled,
        &dir.path().join("parts"),
        &[100_000_000],
        WriteOptions::default().with_secret(key.clone()),
    )
    .unwrap();
    let merged = dir.path().join("merged.rmf");
    let files: Vec<_> = parts.iter().map(|p| p.output.clone()).collect();
    rmf_core::edit::merge(&files, &merged, WriteOptions::default()).unwrap();
    check_private(&open(&merged, Some(key.into())).unwrap(), &want);
    // Episodes under different keys do not merge.
    let other = dir.path().join("other.rmf");
    write(&other, Some(Key::generate().unwrap().into()));
    let err = rmf_core::edit::merge(
        &[merged.clone(), other],
        &dir.path().join("x.rmf"),
        WriteOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("different data keys"), "{err}");
}
