//! Every saved fuzz input, run through its target's body on every `cargo test` (the fuzzer
//! itself runs in `./test.sh` for a short budget): the seeds and finds in `fuzz/corpus/NAME/`,
//! the conformance files, and the reproducers of `testdata/hostile/` through every target.
#![allow(clippy::unwrap_used)]

#[path = "../../fuzz/bodies.rs"]
mod bodies;

use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_none_or(|e| e != "md" && e != "json"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_saved_input_ends_in_a_value_or_an_error() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let hostile = files(&root.join("testdata/hostile"));
    assert!(hostile.len() >= 2, "{hostile:?}");
    let mut ran = 0;
    for (name, body) in bodies::TARGETS {
        let mut inputs = files(&root.join("fuzz/corpus").join(name));
        inputs.extend(hostile.iter().cloned());
        if matches!(*name, "reader" | "records") {
            inputs.extend(files(&root.join("testdata/conformance")));
        }
        for input in inputs {
            let data = std::fs::read(&input).unwrap();
            body(&data);
            ran += 1;
        }
    }
    assert!(ran > 10, "{ran}");
}
