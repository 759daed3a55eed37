//! Damaged and hostile files: truncation at every byte, flipped bytes, hostile lengths.
//! The rule: every intact chunk is kept, everything else is a typed error, never a panic and
//! never a wrong value.
#![allow(clippy::unwrap_used)]

use rmf_testkit::fixtures as common;

use common::*;
use rmf_core::format::{write_record, RecordKind, FILE_HEADER_LEN};
use rmf_core::*;

#[test]
fn truncation_at_every_byte_recovers_every_chunk_written_before_the_cut() {
    let (_dir, path, written) = small_file();
    let full = std::fs::read(&path).unwrap();
    let original = EpisodeReader::open(&path).unwrap();
    let index = original.chunks().to_vec();
    assert!(index.len() >= 15, "the file should have many chunks");

    for cut in 0..full.len() {
        let bytes = full[..cut].to_vec();
        let r = match EpisodeReader::from_bytes(bytes, format!("cut{cut}"), ReadOptions::default())
        {
            Ok(r) => r,
            Err(e) => {
                assert!(cut < FILE_HEADER_LEN, "cut at {cut}: {e}");
                assert!(
                    matches!(e, Error::NotRmf { .. } | Error::Truncated { .. }),
                    "cut at {cut}: {e}"
                );
                continue;
            }
        };
        let report = r.recovery().expect("a cut file has no trailer");
        let expected: Vec<&ChunkEntry> = index
            .iter()
            .filter(|c| c.offset + c.length <= cut as u64)
            .collect();
        let got: Vec<&ChunkEntry> = r.chunks().iter().collect();
        assert_eq!(got, expected, "cut at {cut}");
        assert_eq!(report.chunks, expected.len());
        // What was kept reads back as written.
        for (i, c) in r.chunks().iter().enumerate() {
            let batch = r.read_chunk(i).unwrap();
            assert_eq!(batch.num_rows() as u64, c.rows);
        }
        if r.streams().len() == 5 {
            let got = read_small(&r).unwrap();
            assert!(written.ft_t.starts_with(&got.ft_t), "cut at {cut}");
            assert!(written.ft_v.starts_with(&got.ft_v), "cut at {cut}");
            assert!(written.cam.starts_with(&got.cam), "cut at {cut}");
            assert!(written.mic.starts_with(&got.mic), "cut at {cut}");
            assert!(written.events.starts_with(&got.events), "cut at {cut}");
        }
    }
}

#[test]
fn recover_writes_a_valid_file_with_every_intact_chunk() {
    let (dir, path, written) = small_file();
    let full = std::fs::read(&path).unwrap();
    let original = EpisodeReader::open(&path).unwrap();

    // An intact file recovers to the same bytes.
    let out = dir.path().join("same.rmf");
    let report = recover(&path, &out).unwrap();
    assert!(report.damage.is_empty(), "{report}");
    assert!(
        std::fs::read(&out).unwrap() == full,
        "recovering an intact file changed its bytes"
    );

    // A cut in the middle of the last third: a finished file with the chunks before the cut.
    let cut = full.len() * 2 / 3;
    let cut_path = dir.path().join("cut.rmf");
    std::fs::write(&cut_path, &full[..cut]).unwrap();
    let fixed = dir.path().join("fixed.rmf");
    let report = recover(&cut_path, &fixed).unwrap();
    assert_eq!(report.damage.len(), 1, "{report}");
    let v = validate(&fixed).unwrap();
    assert!(v.is_ok(), "{v}");
    let r = EpisodeReader::open(&fixed).unwrap();
    assert!(r.recovery().is_none());
    let kept = original
        .chunks()
        .iter()
        .filter(|c| c.offset + c.length <= cut as u64)
        .count();
    assert_eq!(r.chunks().len(), kept);
    let got = read_small(&r).unwrap();
    assert!(written.ft_v.starts_with(&got.ft_v) && !got.ft_v.is_empty());
    assert_eq!(r.meta(), original.meta());

    // Recovering onto the input is refused.
    assert!(matches!(
        recover(&cut_path, &cut_path),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn a_damaged_chunk_in_the_middle_loses_only_that_chunk() {
    let (dir, path, _) = small_file();
    let mut bytes = std::fs::read(&path).unwrap();
    let original = EpisodeReader::open(&path).unwrap();
    let victim = original.chunks()[4].clone();
    // Damage the body and the record header's length of one chunk.
    bytes[(victim.offset + victim.length / 2) as usize] ^= 0xff;
    bytes[(victim.offset + 5) as usize] ^= 0x40;
    let cut_path = dir.path().join("damaged.rmf");
    std::fs::write(&cut_path, &bytes).unwrap();

    // The footer is intact, so the reader uses it; the damaged chunk errors on read.
    let r = EpisodeReader::open(&cut_path).unwrap();
    assert!(r.recovery().is_none());
    let e = r.read_chunk(4).unwrap_err();
    assert!(
        e.is_data_error() && e.offset() == Some(victim.offset),
        "{e}"
    );
    let v = validate(&cut_path).unwrap();
    assert!(!v.is_ok());
    assert!(
        v.problems.iter().any(|p| p.offset == Some(victim.offset)),
        "{v}"
    );

    // Recovery resynchronises after the damage and keeps every other chunk.
    let fixed = dir.path().join("fixed.rmf");
    let report = recover(&cut_path, &fixed).unwrap();
    assert_eq!(report.damage.len(), 1, "{report}");
    assert_eq!(report.damage[0].offset, victim.offset);
    let r = EpisodeReader::open(&fixed).unwrap();
    assert_eq!(r.chunks().len(), original.chunks().len() - 1);
    assert!(validate(&fixed).unwrap().is_ok());
}

#[test]
fn every_flipped_byte_is_an_error_or_the_right_value_never_a_panic() {
    let (_dir, path, written) = small_file();
    let full = std::fs::read(&path).unwrap();
    let mut errors = 0;
    for i in 0..full.len() {
        let mut bytes = full.clone();
        bytes[i] ^= 1 << (i % 8);
        let Ok(r) = EpisodeReader::from_bytes(bytes, "flip", ReadOptions::default()) else {
            errors += 1;
            continue;
        };
        match read_small(&r) {
            Ok(got) => assert_eq!(got, written, "flip at byte {i} changed a value silently"),
            Err(e) => {
                assert!(e.is_data_error(), "flip at {i}: not a data error: {e}");
                errors += 1;
            }
        }
        let _ = validate_reader(&r);
    }
    // Flips inside chunks must be noticed when those chunks are read.
    assert!(
        errors > full.len() / 2,
        "only {errors} of {} flips noticed",
        full.len()
    );
}

#[test]
fn hostile_lengths_do_not_allocate_unbounded_memory() {
    // A valid header and episode, then a chunk record whose buffers claim 2^60 elements.
    let mut file = rmf_core::format::file_header().to_vec();
    write_record(
        &mut file,
        RecordKind::Episode,
        &rmf_core::footer::encode_episode(&EpisodeMeta::new()),
    );
    let info = StreamInfo::signal("s", DType::Float64, &[1]);
    write_record(
        &mut file,
        RecordKind::Stream,
        &rmf_core::footer::encode_stream(0, &info),
    );
    let header = rmf_core::chunk::ChunkHeader {
        stream_id: 0,
        t_min: 0,
        t_max: 0,
        rows: 1 << 60,
    };
    let opts = rmf_core::codec::CodecOptions::default();
    let mut t = rmf_core::chunk::EncodedBuffer::numbers(&[0i64], &opts).unwrap();
    t.count = 1 << 60;
    let mut v = rmf_core::chunk::EncodedBuffer::numbers(&[0f64], &opts).unwrap();
    v.count = 1 << 60;
    let stats = [0u8; 16];
    let body = rmf_core::chunk::build_chunk_body(&header, &stats, &[t, v]);
    write_record(&mut file, RecordKind::Chunk, &body);

    let r = EpisodeReader::from_bytes(file.clone(), "hostile", ReadOptions::default()).unwrap();
    let report = r.recovery().unwrap();
    assert_eq!(report.chunks, 0);
    assert!(
        report.damage[0].reason.contains("over the reader's limit"),
        "{report}"
    );

    // A footer claiming 2^58 chunks is refused before any allocation, and the file is scanned.
    let footer_start = file.len() as u64;
    let mut footer = Vec::new();
    let json = br#"{"episode":{"id":"00000000-0000-0000-0000-000000000000","start_time_unix_ns":0,"clock":"c"},"streams":[]}"#;
    footer.extend_from_slice(&(json.len() as u32).to_le_bytes());
    footer.extend_from_slice(json);
    footer.extend_from_slice(&(1u64 << 58).to_le_bytes());
    let mut rec = Vec::new();
    write_record(&mut rec, RecordKind::Footer, &footer);
    file.extend_from_slice(&rec);
    let trailer = rmf_core::format::Trailer {
        footer_offset: footer_start,
        footer_len: rec.len() as u64,
    };
    file.extend_from_slice(&trailer.to_bytes());
    let r = EpisodeReader::from_bytes(file, "hostile-footer", ReadOptions::default()).unwrap();
    let report = r.recovery().expect("the footer must be refused");
    assert!(report.why.contains("chunk count"), "{report}");
}

#[test]
fn frames_claiming_huge_output_are_refused() {
    let dir = tempdir();
    let path = dir.path().join("zeros.rmf");
    let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default()).unwrap();
    let cam = w
        .add_stream(StreamInfo::frames("cam", 1024, 1024, PixelFormat::Rgb8))
        .unwrap();
    for i in 0..8 {
        w.write_frame(cam, i, &vec![0u8; 1024 * 1024 * 3]).unwrap(); // compresses ~30000x
    }
    w.finish().unwrap();
    let small_limit = ReadOptions::default().with_max_chunk_bytes(4 << 20);
    let r = EpisodeReader::open_with(&path, small_limit).unwrap();
    assert!(matches!(r.read_all("cam"), Err(Error::TooLarge { .. })));
    // One frame at a time fits.
    assert!(r.frame_at("cam", 3).unwrap().is_some());
}

#[test]
fn foreign_and_future_files_get_distinct_errors() {
    let e = EpisodeReader::from_bytes(
        b"PAR1 not an rmf file".to_vec(),
        "x.parquet",
        ReadOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::NotRmf { .. }), "{e}");
    let mut h = rmf_core::format::file_header().to_vec();
    h[8] = 2;
    let e = EpisodeReader::from_bytes(h, "future.rmf", ReadOptions::default()).unwrap_err();
    assert!(
        matches!(e, Error::UnsupportedVersion { found: 2, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("future.rmf"));
}

#[test]
fn unknown_record_kinds_are_skipped() {
    let (_dir, path, written) = small_file();
    let full = std::fs::read(&path).unwrap();
    let original = EpisodeReader::open(&path).unwrap();
    // Insert an unknown record before the second chunk and drop the footer: a scan must skip it.
    let at = original.chunks()[1].offset as usize;
    let mut bytes = full[..at].to_vec();
    write_record_raw(&mut bytes, 0x7e, b"from a newer minor version");
    let last = original.chunks().last().unwrap();
    bytes.extend_from_slice(&full[at..(last.offset + last.length) as usize]);
    let r = EpisodeReader::from_bytes(bytes.clone(), "unknown", ReadOptions::default()).unwrap();
    let report = r.recovery().unwrap();
    assert_eq!(report.unknown_records, 1);
    assert!(report.damage.is_empty(), "{report}");
    assert_eq!(read_small(&r).unwrap(), written);

    // recover keeps the unknown record, in its place among the chunks.
    let dir = tempdir();
    let (cut, fixed) = (dir.path().join("cut.rmf"), dir.path().join("fixed.rmf"));
    std::fs::write(&cut, &bytes).unwrap();
    recover(&cut, &fixed).unwrap();
    let out = std::fs::read(&fixed).unwrap();
    let marker = b"from a newer minor version";
    assert!(
        out.windows(marker.len()).any(|w| w == marker),
        "the unknown record was dropped"
    );
    let r = EpisodeReader::open(&fixed).unwrap();
    assert_eq!(read_small(&r).unwrap(), written);
    assert!(validate(&fixed).unwrap().is_ok());
}

/// A record of any kind byte, framed as the spec says.
fn write_record_raw(out: &mut Vec<u8>, kind: u8, body: &[u8]) {
    let start = out.len();
    write_record(out, RecordKind::Episode, body);
    out[start] = kind;
    let crc = crc32c_of(&out[start..start + 12]);
    out[start + 12..start + 16].copy_from_slice(&crc.to_le_bytes());
}

fn crc32c_of(b: &[u8]) -> u32 {
    // CRC32C (Castagnoli), bitwise: an independent implementation of the spec's checksum.
    let mut crc = !0u32;
    for &x in b {
        crc ^= x as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn a_chunk_that_overlaps_its_stream_is_refused_not_indexed() {
    let (_dir, path, written) = small_file();
    let full = std::fs::read(&path).unwrap();
    let original = EpisodeReader::open(&path).unwrap();
    let last = original.chunks().last().unwrap().clone();
    let first = original.chunks()[0].clone();
    // The records up to the footer, then the first chunk again: it starts before its stream's
    // previous chunk ends.
    let mut bytes = full[..(last.offset + last.length) as usize].to_vec();
    bytes.extend_from_slice(&full[first.offset as usize..(first.offset + first.length) as usize]);
    let r = EpisodeReader::from_bytes(bytes, "overlap", ReadOptions::default()).unwrap();
    let report = r.recovery().unwrap();
    assert_eq!(report.damage.len(), 1, "{report}");
    assert!(
        report.damage[0]
            .reason
            .contains("before the previous chunk"),
        "{report}"
    );
    assert_eq!(read_small(&r).unwrap(), written);

    // A file of 12..15 bytes is a truncated header, not an empty episode.
    let short = rmf_core::format::file_header()[..13].to_vec();
    let e = EpisodeReader::from_bytes(short, "short", ReadOptions::default()).unwrap_err();
    assert!(matches!(e, Error::Truncated { .. }), "{e}");
}

#[test]
fn the_writer_keeps_chunks_within_the_default_read_limit() {
    // Black 1024x1024 frames compress ~30000x: by buffered bytes alone, four seconds of them
    // would make a 700 MiB chunk. The writer caps the decoded size instead.
    let dir = tempdir();
    let path = dir.path().join("black.rmf");
    let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default()).unwrap();
    let cam = w
        .add_stream(StreamInfo::frames("cam", 1024, 1024, PixelFormat::Rgb8))
        .unwrap();
    let black = vec![0u8; 1024 * 1024 * 3];
    for i in 0..240 {
        w.write_frame(cam, i * 10_000_000, &black).unwrap();
    }
    w.finish().unwrap();
    let r = EpisodeReader::open(&path).unwrap();
    assert!(r.chunks().len() >= 3);
    for c in r.chunks() {
        assert!(c.decoded_bytes <= MAX_CHUNK_DECODED_BYTES, "{c:?}");
    }
    assert!(r.iter("cam").unwrap().all(|b| b.is_ok()));
}

#[test]
fn a_read_over_its_budget_is_refused_before_decoding() {
    let (_dir, path, _) = small_file();
    let plain = EpisodeReader::open(&path).unwrap();
    let name = plain.streams()[0].name.clone();
    let claimed = plain
        .check_read_budget(&name, i64::MIN, i64::MAX, None)
        .unwrap();
    assert!(claimed > 0);
    let tight = ReadOptions::default().with_max_read_bytes(claimed - 1);
    let r = EpisodeReader::open_with(&path, tight).unwrap();
    match r.read_all(&name) {
        Err(Error::OverBudget {
            claimed: c, budget, ..
        }) => {
            assert_eq!((c, budget), (claimed, claimed - 1));
        }
        other => panic!("{other:?}"),
    }
    let exact = ReadOptions::default().with_max_read_bytes(claimed);
    let r = EpisodeReader::open_with(&path, exact).unwrap();
    assert_eq!(r.read_all(&name).unwrap(), plain.read_all(&name).unwrap());
}

#[test]
fn recover_and_validate_hold_chunks_to_the_reader_limit() {
    // Issue 19: recover applied no limit and wrote a "finished" file that validate rejected;
    // validate of an unfinished file left out the chunks its reader's scan had refused.
    let (dir, path, _) = small_file();
    let full = std::fs::read(&path).unwrap();
    let biggest = EpisodeReader::open(&path)
        .unwrap()
        .chunks()
        .iter()
        .map(|c| c.decoded_bytes)
        .max()
        .unwrap();
    let limit = biggest - 1;
    let cut = dir.path().join("cut.rmf");
    std::fs::write(&cut, &full[..full.len() - 10]).unwrap();
    let opts = ReadOptions::default().with_max_chunk_bytes(limit);

    let v = validate_with(&cut, opts.clone()).unwrap();
    assert!(!v.finished);
    assert!(
        v.problems
            .iter()
            .any(|p| p.message.contains("max_chunk_bytes")),
        "{:?}",
        v.problems
    );

    let out = dir.path().join("recovered.rmf");
    let report = recover_with_limit(&cut, &out, limit).unwrap();
    assert!(
        report
            .damage
            .iter()
            .any(|d| d.reason.contains("max_chunk_bytes")),
        "{report:?}"
    );
    let v = validate_with(&out, opts).unwrap();
    assert!(v.finished && v.problems.is_empty(), "{:?}", v.problems);
}
