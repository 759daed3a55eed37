//! What each fuzz target does with one input. Shared by the targets (`cargo fuzz run NAME`) and
//! by `rmf-import/tests/fuzz_corpus.rs`, which runs every saved input (the seeds in
//! `fuzz/corpus/NAME/`, the reproducers in `testdata/hostile/`) on every `cargo test`. The rule
//! for all: a value or a typed error, never a panic, never an allocation a length in the input
//! asked for beyond the documented limits.

use std::path::PathBuf;

use rmf_core::{validate_reader, EpisodeReader, ReadOptions};

/// Reader limits of the targets: small enough that an over-claiming input is refused quickly.
const MAX_CHUNK: u64 = 64 << 20;

/// What a target does with one input.
pub type Body = fn(&[u8]);

/// The targets, by name: the fuzz target of the same name runs the function.
pub const TARGETS: &[(&str, Body)] = &[
    ("reader", reader),
    ("records", records),
    ("mcap_import", mcap_import),
    ("wav_import", wav_import),
];

/// Opening (a scan when the file is unfinished), every query on every stream, validation.
pub fn reader(data: &[u8]) {
    let opts = ReadOptions::default()
        .with_max_chunk_bytes(MAX_CHUNK)
        .with_max_read_bytes(4 * MAX_CHUNK);
    let Ok(r) = EpisodeReader::from_bytes(data.to_vec(), "fuzz", opts) else {
        return;
    };
    let names: Vec<String> = r.streams().iter().map(|s| s.name.clone()).collect();
    for name in &names {
        let _ = r.read_all(name);
        let _ = r.at(name, 0);
        let _ = r.nearest(name, i64::MAX / 2);
        let _ = r.read_range(name, -1_000, 1_000_000_000);
        let _ = r.times(name);
        let _ = r.signal_bounds(name);
        if let Ok(it) = r.iter(name) {
            for b in it {
                let _ = b;
            }
        }
    }
    let _ = validate_reader(&r);
}

/// The JSON and binary records of the format on their own: episode, stream, key, footer.
pub fn records(data: &[u8]) {
    use rmf_core::footer::{decode_episode, decode_footer, decode_key, decode_stream};
    let _ = decode_episode(data, "fuzz", 0);
    let _ = decode_stream(data, "fuzz", 0);
    let _ = decode_key(data, "fuzz", 0);
    let _ = decode_footer(data, "fuzz", 0);
}

/// `rmf import-mcap`: the container and the CDR payloads of the message types it knows.
pub fn mcap_import(data: &[u8]) {
    let (input, output) = scratch("mcap");
    if std::fs::write(&input, data).is_err() {
        return;
    }
    let opts = rmf_import::McapImportOptions::default()
        .with_overwrite(true)
        .with_max_record_bytes(MAX_CHUNK);
    let _ = rmf_import::import_mcap(&input, &output, &opts);
}

/// `rmf import-wav`.
pub fn wav_import(data: &[u8]) {
    let (input, output) = scratch("wav");
    if std::fs::write(&input, data).is_err() {
        return;
    }
    let _ = rmf_import::wav::import(&input, &output, "audio", 0, 100, true);
}

/// An input and an output path in a directory of this process and thread.
fn scratch(ext: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "rmf-fuzz-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::create_dir_all(&dir);
    (dir.join(format!("in.{ext}")), dir.join("out.rmf"))
}
