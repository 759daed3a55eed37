#!/usr/bin/env bash
# The main job: build `rmf`, record a 5-second synthetic multimodal episode, print what is in it,
# and validate it.
set -euo pipefail
cd "$(dirname "$0")"
out=${1:-demo.rmf}
scripts/ensure-build-tools.sh
cargo build --release -q --bin rmf
./target/release/rmf demo --overwrite "$out" --seconds "${RMF_DEMO_SECONDS:-5}"
./target/release/rmf info "$out"
./target/release/rmf validate "$out"
