#!/usr/bin/env bash
# Runs every fuzz target (fuzz/, what each does: fuzz/bodies.rs) for SECONDS each under a
# 2 GB memory limit; a crash, a panic, a leak of memory past the limit or a hang fails it, and
# the input that did it is left in fuzz/artifacts/TARGET/. ./test.sh runs it with the default.
#
#   scripts/fuzz.sh [SECONDS]        # default 15
#
# Seeds: the conformance files, testdata/hostile/ (the reproducers of issue 19) and
# fuzz/corpus/TARGET/. What the fuzzer finds goes to target/fuzz-corpus/TARGET/, not the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
command -v cargo-fuzz >/dev/null || cargo install -q cargo-fuzz --locked --version 0.13.2
# cargo fuzz passes the compiler unstable flags; a fresh machine has the stable toolchain only,
# which accepts them with this. No sanitizer (-s none): panics, aborts, the memory limit and
# hangs are what is looked for, and the sanitizers' runtime is not in a stable toolchain.
export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none --release
seeds() {
  case $1 in
    reader | records) echo testdata/conformance testdata/hostile ;;
    *) echo "fuzz/corpus/$1 testdata/hostile" ;;
  esac
}
for t in $(cargo fuzz list); do
  work=target/fuzz-corpus/$t
  mkdir -p "$work"
  echo "-- fuzz $t (${secs}s)"
  log=target/fuzz-$t.log
  # shellcheck disable=SC2046 # the seed directories are separate words
  if ! cargo fuzz run -s none --release "$t" "$work" $(seeds "$t") -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz target $t failed: the input is in fuzz/artifacts/$t/" >&2
    exit 1
  fi
  grep -E '^(Done|stat::number_of_executed_units)' "$log" || true
done
