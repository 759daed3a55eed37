//! Local copies: streamed in parts, verified, published whole (the store side is tested from
//! Python against an S3-compatible server: rmf-py/tests/test_object_store.py).

use rmf_store::{copy, Location, StoreOptions, PART_BYTES};

#[test]
fn a_file_of_several_parts_and_a_tree_copy_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("in");
    std::fs::create_dir_all(src.join("sub")).expect("mkdir");
    // Two and a half parts of bytes that differ part to part.
    let n = PART_BYTES * 5 / 2;
    let data: Vec<u8> = (0..n).map(|i| ((i % 251) ^ (i / 4093)) as u8).collect();
    std::fs::write(src.join("big.bin"), &data).expect("write");
    std::fs::write(src.join("sub/empty.rmf"), b"").expect("write");
    let opts = StoreOptions::default();

    let one = dir.path().join("one.bin");
    let r = copy(
        &Location::Local(src.join("big.bin")),
        &Location::Local(one.clone()),
        &opts,
    )
    .expect("copy");
    assert_eq!(r.bytes(), n as u64);
    assert!(std::fs::read(&one).expect("read") == data);

    let out = dir.path().join("out");
    let r = copy(&Location::Local(src), &Location::Local(out.clone()), &opts).expect("copy");
    assert_eq!(r.files.len(), 2);
    assert!(std::fs::read(out.join("big.bin")).expect("read") == data);
    assert_eq!(std::fs::read(out.join("sub/empty.rmf")).expect("read"), b"");
    // No temporary file is left beside the copies.
    let names: Vec<String> = std::fs::read_dir(&out)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
}

#[test]
fn a_missing_source_is_an_error_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dst = dir.path().join("copy.rmf");
    let e = copy(
        &Location::Local(dir.path().join("none.rmf")),
        &Location::Local(dst.clone()),
        &StoreOptions::default(),
    )
    .expect_err("no source");
    assert!(e.to_string().contains("none.rmf"), "{e}");
    assert!(!dst.exists());
}
