//! Every importer and reader command over hostile files under an address-space limit
//! (`ulimit -v`): each ends with exit code 0, 1 or 2, never 101 (a panic) or 134 (an abort on
//! a failed allocation), and an import that fails leaves no output (issue 19).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rmf_testkit::fixtures::forged_headers;

/// The address-space limit, in KiB: room for the binary, its threads' stacks and a few
/// hundred MB of data, well under what the files claim.
const LIMIT_KIB: u64 = 1_500_000;

/// Runs `rmf args` under the limit and returns its exit code (None: killed by a signal).
fn limited(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {LIMIT_KIB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_rmf"))
        .args(args)
        .env("MALLOC_ARENA_MAX", "2")
        .env_remove("RMF_KEY")
        .env_remove("RMF_KEY_FILE")
        .env_remove("RMF_PASSPHRASE")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), text)
}

fn hostile(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/hostile")
        .join(name)
}

fn ok_code(code: Option<i32>) -> bool {
    matches!(code, Some(0..=2))
}

#[test]
fn hostile_files_end_in_an_exit_code_not_a_crash() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.rmf");
    let o = out.to_str().unwrap();
    for name in [
        "mcap-record-length-max.mcap",
        "mcap-string-length.mcap",
        "mcap-chunk-claims-2e38.mcap",
    ] {
        let bag = hostile(name);
        let (code, err) = limited(&["import-mcap", bag.to_str().unwrap(), o]);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains(name), "{err}");
        assert!(!out.exists(), "{name} left an output");
        for cmd in ["info", "validate"] {
            let (code, err) = limited(&[cmd, bag.to_str().unwrap()]);
            assert!(ok_code(code), "{cmd} {name}: {code:?} {err}");
        }
    }

    // A forged record header every 32 bytes: 13 s to recover 4 MB before the fix.
    let rmf = dir.path().join("forged.rmf");
    std::fs::write(&rmf, forged_headers(4 << 20)).unwrap();
    let r = rmf.to_str().unwrap();
    for args in [vec!["info", r], vec!["validate", r], vec!["recover", r, o]] {
        let (code, err) = limited(&args);
        assert!(ok_code(code), "{args:?}: {code:?} {err}");
    }
}
