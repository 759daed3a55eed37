//! MCAP files built to break the importer (issue 19): each must end in an error that names the
//! file, leave no output, and neither panic nor allocate what a length in it claims.
#![allow(clippy::unwrap_used)]

use rmf_testkit::fixtures as common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rmf_import::mcap::{import_mcap, McapImportOptions};

const MAGIC: &[u8] = b"\x89MCAP0\r\n";

/// The reproducers in `testdata/hostile/` (see its README).
fn hostile(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/hostile")
        .join(name)
}

/// Imports `bag` into a fresh directory: the error, and whether an output file was left.
fn import_err(bag: &Path, opts: &McapImportOptions) -> (String, bool) {
    let dir = common::tempdir();
    let out = dir.path().join("out.rmf");
    let e = import_mcap(bag, &out, opts).unwrap_err().to_string();
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    (e, !left.is_empty())
}

/// A bag of `n` messages on one topic of an unknown type (kept as raw events), zstd chunks of
/// about `chunk` bytes.
fn small_bag(path: &Path, n: u64, chunk: u64) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let opts = mcap::WriteOptions::new().chunk_size(Some(chunk));
    let mut w = opts.create(file).unwrap();
    let s = w
        .add_schema("my_msgs/msg/Blob", "ros2msg", b"uint8[] blob\n")
        .unwrap();
    let c = w.add_channel(s, "/blob", "cdr", &BTreeMap::new()).unwrap();
    for i in 0..n {
        let header = mcap::records::MessageHeader {
            channel_id: c,
            sequence: i as u32,
            log_time: 1_000 + i * 10,
            publish_time: 1_000 + i * 10,
        };
        let body: Vec<u8> = (0..64).map(|k| (i as u8).wrapping_mul(k)).collect();
        w.write_to_known_channel(&header, &body).unwrap();
    }
    w.finish().unwrap();
}

/// The byte offset of the first top-level record with `opcode`.
fn first_record(data: &[u8], opcode: u8) -> usize {
    let mut at = MAGIC.len();
    while data[at] != opcode {
        let len = u64::from_le_bytes(data[at + 1..at + 9].try_into().unwrap());
        at += 9 + len as usize;
    }
    at
}

#[test]
fn a_record_length_of_2_pow_64_is_an_error_not_a_panic() {
    // 17 bytes: the magic, then a record of opcode 0x89... whose length is 2^64-1. mcap 0.26's
    // MessageStream panicked on it (linear_reader.rs:543).
    let bag = hostile("mcap-record-length-max.mcap");
    assert_eq!(std::fs::metadata(&bag).unwrap().len(), 17);
    let (e, left) = import_err(&bag, &McapImportOptions::default());
    assert!(e.contains("mcap-record-length-max.mcap: read MCAP"), "{e}");
    assert!(!left, "an output was left behind");
}

#[test]
fn a_string_longer_than_its_record_is_an_error_before_any_allocation() {
    // 33 bytes: a Header record of 16 bytes whose profile string claims 0xf0000000 bytes.
    // mcap's parser reserved the 4 GB before reading; here the length is checked first.
    let bag = hostile("mcap-string-length.mcap");
    assert_eq!(std::fs::metadata(&bag).unwrap().len(), 33);
    let (e, left) = import_err(&bag, &McapImportOptions::default());
    assert!(e.contains("read MCAP"), "{e}");
    assert!(!left);

    // The same lie inside a Channel record, which the import parses.
    let dir = common::tempdir();
    let path = dir.path().join("channel.mcap");
    let mut data = MAGIC.to_vec();
    let mut body = vec![1, 0, 0, 0]; // id 1, schema 0
    body.extend_from_slice(&0xf000_0000u32.to_le_bytes()); // topic: claims 4 GB
    body.extend_from_slice(b"/x");
    data.push(0x04);
    data.extend_from_slice(&(body.len() as u64).to_le_bytes());
    data.extend_from_slice(&body);
    std::fs::write(&path, &data).unwrap();
    let (e, left) = import_err(&path, &McapImportOptions::default());
    assert!(
        e.contains(
            "Channel record: a field at byte 8 of the record claims 4026531840 bytes, 2 are left"
        ),
        "{e}"
    );
    assert!(!left);
}

#[test]
fn a_chunk_claiming_2_pow_38_bytes_is_refused_before_allocating() {
    let dir = common::tempdir();
    let path = dir.path().join("bomb.mcap");
    small_bag(&path, 20, 4096);
    let mut data = std::fs::read(&path).unwrap();
    // A Chunk record's body starts with start time, end time, then the uncompressed size.
    let chunk = first_record(&data, 0x06);
    let size_at = chunk + 9 + 16;
    data[size_at..size_at + 8].copy_from_slice(&(1u64 << 38).to_le_bytes());
    std::fs::write(&path, &data).unwrap();
    // mcap's MessageStream asked for 274,877,906,944 bytes at once and aborted the process.
    let (e, left) = import_err(&path, &McapImportOptions::default());
    assert!(e.contains("274877906944"), "{e}");
    assert!(!left);
}

#[test]
fn the_record_limit_is_an_option() {
    let dir = common::tempdir();
    let path = dir.path().join("ok.mcap");
    small_bag(&path, 200, 8192);
    let out = dir.path().join("ok.rmf");
    let report = import_mcap(&path, &out, &McapImportOptions::default()).unwrap();
    assert_eq!(report.topics[0].imported, 200);

    let small = McapImportOptions::default().with_max_record_bytes(1000);
    let (e, left) = import_err(&path, &small);
    assert!(
        e.contains("too large") || e.contains("Too large") || e.contains("exceeds"),
        "{e}"
    );
    assert!(!left);
}

#[test]
fn every_cut_and_many_flipped_bytes_end_in_a_result() {
    // A truncation keeps the messages before it (or is an error); a flipped byte is an error or
    // an import, but never a panic.
    let dir = common::tempdir();
    let path = dir.path().join("small.mcap");
    small_bag(&path, 12, 300);
    let data = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.mcap");
    let out = dir.path().join("cut.rmf");
    let opts = McapImportOptions::default().with_overwrite(true);
    let mut kept = Vec::new();
    for len in (0..data.len()).step_by(3) {
        std::fs::write(&cut, &data[..len]).unwrap();
        if let Ok(r) = import_mcap(&cut, &out, &opts) {
            kept.push(r.topics.first().map_or(0, |t| t.imported));
        }
    }
    // Later cuts keep at least as many messages, and some cut keeps some.
    assert!(kept.windows(2).all(|w| w[0] <= w[1]), "{kept:?}");
    assert!(kept.last().is_some_and(|&n| n > 0), "{kept:?}");
    for at in (MAGIC.len()..data.len()).step_by(5) {
        let mut bad = data.clone();
        bad[at] ^= 0x5a;
        std::fs::write(&cut, &bad).unwrap();
        let _ = import_mcap(&cut, &out, &opts);
    }
}
