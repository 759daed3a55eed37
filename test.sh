#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, Rust unit/integration/property/doc tests,
# and the conformance files' check. Used by README and by CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")"

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
jobs=${RMF_JOBS:-2}

echo "== rustfmt"
cargo fmt --all -- --check

echo "== clippy (warnings are errors)"
cargo clippy --workspace --all-targets -j "$jobs" -- -D warnings

echo "== cargo test"
cargo test --workspace -j "$jobs"

echo "== conformance files"
cargo run -q -p rmf-core --example conformance_writer -- testdata --verify
