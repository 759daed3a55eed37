//! The conformance files in testdata/ are what this version writes, byte for byte; each reads
//! back as its JSON says; invalid files give the error classes listed; and testdata/README.md
//! lists every file (no unlisted, no missing).
#![allow(clippy::unwrap_used)]

use rmf_testkit::conformance as cases;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rmf_core::{EpisodeReader, ReadOptions};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

const REGENERATE: &str =
    "regenerate with `cargo run -p rmf-testkit --example conformance_writer -- testdata`";

#[test]
fn conformance_files_are_current_and_read_as_their_json_says() {
    for case in cases::cases() {
        let path = testdata()
            .join("conformance")
            .join(case.name)
            .with_extension("rmf");
        let committed = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; {REGENERATE}", path.display()));
        let fresh = cases::case_bytes(&case);
        assert!(
            committed == fresh,
            "{} differs from what this version writes; {REGENERATE}",
            path.display()
        );

        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path.with_extension("json")).unwrap())
                .unwrap();
        let r = EpisodeReader::open(&path).unwrap();
        assert_eq!(cases::canonical_json(&r), expected, "{}", path.display());
    }
}

#[test]
fn invalid_files_give_their_errors() {
    for inv in cases::invalid() {
        let path = testdata()
            .join("invalid")
            .join(inv.name)
            .with_extension("rmf");
        let committed = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; {REGENERATE}", path.display()));
        assert!(
            committed == (inv.bytes)(),
            "{} is outdated; {REGENERATE}",
            path.display()
        );
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path.with_extension("json")).unwrap())
                .unwrap();
        assert_eq!(expected, (inv.expect)(), "{}", path.display());
        assert_eq!(
            cases::invalid_json(committed),
            expected,
            "{}",
            path.display()
        );
    }
    // The reader agrees with the file-based open too.
    let e = EpisodeReader::open_with(
        testdata().join("invalid/not-rmf.rmf"),
        ReadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(cases::error_class(&e), "not_rmf");
}

#[test]
fn every_testdata_file_is_listed_in_the_readme() {
    let readme = std::fs::read_to_string(testdata().join("README.md")).unwrap();
    let mut on_disk = BTreeSet::new();
    for sub in ["conformance", "invalid"] {
        for e in std::fs::read_dir(testdata().join(sub)).unwrap() {
            on_disk.insert(format!(
                "{sub}/{}",
                e.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    let mut expected = BTreeSet::new();
    for c in cases::cases() {
        expected.insert(format!("conformance/{}.rmf", c.name));
        expected.insert(format!("conformance/{}.json", c.name));
    }
    for i in cases::invalid() {
        expected.insert(format!("invalid/{}.rmf", i.name));
        expected.insert(format!("invalid/{}.json", i.name));
    }
    assert_eq!(
        on_disk, expected,
        "files in testdata/ that no case makes, or cases whose files are missing"
    );
    for f in &on_disk {
        assert!(
            readme.contains(&format!("`{f}`")),
            "testdata/README.md does not list `{f}`"
        );
    }
}
