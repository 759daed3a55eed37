//! Files from a newer minor version: a stream of a kind this version does not know is skipped
//! with its chunks, and everything else reads as usual (with or without the footer).
#![allow(clippy::unwrap_used)]

use rmf_testkit::fixtures as common;

use rmf_core::chunk::{build_chunk_body, ChunkHeader, EncodedBuffer};
use rmf_core::codec::CodecOptions;
use rmf_core::footer::{encode_footer_parts, ChunkEntry, StreamEntry};
use rmf_core::format::{write_record, RecordKind, Trailer};
use rmf_core::*;

/// `small` plus a "pointcloud" stream (id 9) with one chunk, and a footer that lists both.
fn with_future_stream() -> (Vec<u8>, u64, common::Written) {
    let (_dir, path, written) = common::small_file();
    let r = EpisodeReader::open(&path).unwrap();
    let full = std::fs::read(&path).unwrap();
    let records_end = r
        .chunks()
        .iter()
        .map(|c| c.offset + c.length)
        .max()
        .unwrap();
    let mut bytes = full[..records_end as usize].to_vec();

    let json =
        br#"{"name":"lidar","kind":"pointcloud","points_per_scan":1000,"sensitivity":"internal"}"#;
    let mut body = 9u32.to_le_bytes().to_vec();
    body.extend_from_slice(json);
    write_record(&mut bytes, RecordKind::Stream, &body);

    let opts = CodecOptions::default();
    let chunk_offset = bytes.len() as u64;
    let header = ChunkHeader {
        stream_id: 9,
        t_min: 5,
        t_max: 5,
        rows: 1,
    };
    let body = build_chunk_body(
        &header,
        &[],
        &[
            EncodedBuffer::numbers(&[5i64], &opts).unwrap(),
            EncodedBuffer::bytes(b"xyz", &opts).unwrap(),
        ],
    );
    write_record(&mut bytes, RecordKind::Chunk, &body);
    let chunk_len = bytes.len() as u64 - chunk_offset;
    let records_with_future = bytes.len() as u64;

    let mut streams: Vec<serde_json::Value> = r
        .streams()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            serde_json::to_value(StreamEntry {
                id: i as u32,
                info: s.clone(),
            })
            .unwrap()
        })
        .collect();
    let mut lidar: serde_json::Value = serde_json::from_slice(json).unwrap();
    lidar["id"] = 9.into();
    streams.push(lidar);
    let footer_json =
        serde_json::to_vec(&serde_json::json!({"episode": r.meta(), "streams": streams})).unwrap();
    let mut chunks: Vec<ChunkEntry> = r.chunks().to_vec();
    chunks.push(ChunkEntry {
        stream_id: 9,
        t_min: 5,
        t_max: 5,
        rows: 1,
        offset: chunk_offset,
        length: chunk_len,
        decoded_bytes: 11,
        stats: vec![],
    });
    let footer_offset = bytes.len() as u64;
    write_record(
        &mut bytes,
        RecordKind::Footer,
        &encode_footer_parts(&footer_json, &chunks),
    );
    let trailer = Trailer {
        footer_offset,
        footer_len: bytes.len() as u64 - footer_offset,
    };
    bytes.extend_from_slice(&trailer.to_bytes());
    (bytes, records_with_future, written)
}

#[test]
fn a_stream_of_an_unknown_kind_is_skipped_and_the_rest_reads() {
    let (bytes, _, written) = with_future_stream();
    let r = EpisodeReader::from_bytes(bytes, "future", ReadOptions::default()).unwrap();
    assert!(r.recovery().is_none(), "the footer must stay usable");
    assert_eq!(r.skipped_streams().len(), 1);
    assert_eq!(r.skipped_streams()[0].name, "lidar");
    assert!(r.stream("lidar").is_err());
    assert_eq!(common::read_small(&r).unwrap(), written);
    let v = validate_reader(&r).expect("validate");
    assert!(v.is_ok(), "{v}");
}

#[test]
fn without_a_footer_the_scan_skips_the_stream_too() {
    let (bytes, records_end, written) = with_future_stream();
    let r = EpisodeReader::from_bytes(
        bytes[..records_end as usize].to_vec(),
        "future-cut",
        ReadOptions::default(),
    )
    .unwrap();
    let report = r.recovery().unwrap();
    assert!(report.damage.is_empty(), "{report}");
    assert_eq!(report.skipped_streams.len(), 1, "{report}");
    assert_eq!(common::read_small(&r).unwrap(), written);
}
