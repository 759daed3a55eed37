#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, Rust unit/integration/property/doc tests,
# and the conformance files' check. Used by README and by CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")"

scripts/ensure-build-tools.sh
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
jobs=${RMF_JOBS:-2}

# The Python test tools download and install while Rust builds (network, not the 2 cores):
# av (PyAV): a test decodes exported H.264 with FFmpeg, as the spec says other tools can, and
# the LeRobot importer and exporter read and write MP4 with it; h5py: the HDF5 importer;
# mcap + mcap-ros2-support: the ROS 2 project's own writer makes the MCAP import test's input;
# mypy: its stubtest checks rmf/_rmf.pyi against the native module that was built;
# moto[server]: the S3-compatible server the object-store tests start on loopback;
# ray[data]: rmf.ray's tests run a local Ray (2 CPUs) that the test starts.
python=${PYTHON:-python3}
mkdir -p target
(
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q pytest ruff av h5py mcap mcap-ros2-support mypy \
    "moto[server]==5.2.5" "ray[data]==2.60.0"
) > target/python-tools.log 2>&1 &
python_tools=$!

echo "== rustfmt"
cargo fmt --all -- --check

echo "== clippy (warnings are errors)"
cargo clippy --workspace --all-targets -j "$jobs" -- -D warnings

echo "== rustdoc (broken links and bad markup are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc -q --no-deps --workspace --exclude rmf-py --exclude rmf-benches -j "$jobs"

echo "== cargo test"
# rmf-py is a Python extension (a cdylib without libpython): pytest tests it below.
cargo test --workspace --exclude rmf-py -j "$jobs"

echo "== rmf-core without default features (what a signals-only recorder builds)"
# None of the codec, encryption, index or import crates may be in its tree ...
heavy=$(cargo tree -q -p rmf-core --no-default-features -e normal --prefix none \
  | grep -oE '^(openh264|image|jpeg-encoder|zune-jpeg|parquet|mcap|argon2|chacha20poly1305) ' || true)
if [ -n "$heavy" ]; then
  echo "rmf-core --no-default-features depends on: $heavy" >&2
  exit 1
fi
# ... and it passes clippy and its own tests (those of codecs and encryption need their features).
cargo clippy -p rmf-core --no-default-features --all-targets -j "$jobs" -- -D warnings
cargo test -p rmf-core --no-default-features -j "$jobs"

echo "== conformance files"
# `cargo test` built the examples and the `rmf` binary with the workspace's features; running
# them directly saves rebuilding the crates with rmf-testkit's features alone (minutes).
target/debug/examples/conformance_writer testdata --verify

echo "== Python: install rmf-py (maturin builds the wheel) into .venv, then pytest against it"
if ! wait "$python_tools"; then
  cat target/python-tools.log >&2
  echo "installing the Python test tools failed (above)" >&2
  exit 1
fi
# The wheel is built with the dev profile: its dependencies (opt-level 2, Cargo.toml) are the ones
# `cargo test` just built, so only rmf-py and pyo3 compile (seconds instead of the release
# profile's minutes with LTO); overflow checks stay on, which is stricter. Users get release wheels.
MATURIN_PEP517_ARGS="--profile dev" CARGO_BUILD_JOBS="$jobs" \
  .venv/bin/python -m pip install -q ./rmf-py
.venv/bin/ruff check rmf-py benches
.venv/bin/ruff format --check rmf-py benches
echo "== Python stubs: rmf/_rmf.pyi against the installed native module"
# Run from target/ so that stubtest's .mypy_cache stays out of the source tree.
(cd target && "$OLDPWD/.venv/bin/python" -m mypy.stubtest rmf._rmf)
.venv/bin/python -m mypy --strict --follow-imports=silent --cache-dir=/dev/null \
    rmf-py/python/rmf/_rmf.pyi rmf-py/python/rmf/_types.py
# target/debug/rmf and the conformance reader example were built by `cargo test` above.
# Run from the tests folder so that `import rmf` finds the installed package, not the source.
(cd rmf-py/tests && RMF_CLI="$PWD/../../target/debug/rmf" \
  RMF_CONFORMANCE_READER="$PWD/../../target/debug/examples/conformance_reader" \
  ../../.venv/bin/python -m pytest -q -p no:cacheprovider .)

echo "== fuzz: every target of fuzz/ for 15 s under 2 GB (scripts/fuzz.sh)"
# The saved inputs (seeds, testdata/hostile/) already ran in `cargo test` (fuzz_corpus.rs);
# this looks for new ones. Building the targets takes about 3 minutes on 2 cores.
scripts/fuzz.sh 15
