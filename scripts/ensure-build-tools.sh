#!/usr/bin/env bash
# Installs the build tools the codecs want and the Rust toolchain does not bring: nasm, with
# which OpenH264 (the h264 frame codec, built from source by the `openh264` crate) uses its
# assembly, about 3x faster encoding than its plain C fallback. Without nasm everything still
# builds and works, only slower; this script then says so instead of failing.
set -u
command -v nasm >/dev/null 2>&1 && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "== installing nasm (OpenH264's assembly) with apt-get"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nasm; } >/dev/null 2>&1
fi
command -v nasm >/dev/null 2>&1 ||
  echo "note: nasm is not installed: OpenH264 builds in plain C (h264 encoding about 3x slower). Install it with your package manager (e.g. apt-get install nasm)." >&2
exit 0
