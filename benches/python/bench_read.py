"""Python read benchmarks, each measured against the same work done from Rust in the same run.

1. Per-call cost of ``Stream.at()`` on a one-hour 1 kHz 6-axis float32 signal, Python against
   ``EpisodeReader::at`` from Rust (``benches/examples/at_latency.rs``) on the same file.
2. Sequential frame reads of the demo episode's 640x480 camera: frames/s through ``at()`` one
   frame at a time, and through one ``read()`` of the whole stream.

    cargo build --release -p rmf-cli -p rmf-benches --examples
    .venv/bin/python benches/python/bench_read.py
"""

import argparse
import pathlib
import subprocess
import tempfile
import time

import numpy as np

import rmf

ROOT = pathlib.Path(__file__).resolve().parents[2]


def one_hour_signal(path: pathlib.Path) -> None:
    rng = np.random.default_rng(0)
    with rmf.EpisodeWriter(path, overwrite=True) as w:
        w.add_signal("ft", dtype="float32", shape=(6,), rate_hz=1000)
        for minute in range(60):
            ts = (np.arange(60_000, dtype=np.int64) + minute * 60_000) * 1_000_000
            w.write_many("ft", ts, rng.normal(size=(60_000, 6)).astype(np.float32))


def python_at_us(stream: rmf.Stream, calls: int) -> float:
    rng = np.random.default_rng(1)
    times = rng.integers(stream.start_ns, stream.end_ns, size=calls)
    start = time.perf_counter()
    for t in times:
        stream.at(int(t))
    return (time.perf_counter() - start) * 1e6 / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--target", default=ROOT / "target" / "release", type=pathlib.Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        hour = d / "hour.rmf"
        one_hour_signal(hour)
        s = rmf.open(hour)["ft"]
        py_us = python_at_us(s, args.calls)
        out = subprocess.run(
            [
                str(args.target / "examples" / "at_latency"),
                str(hour),
                "ft",
                str(args.calls),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        rust_us = float(out.stdout.split()[0])
        print(f"at() on a one-hour 1 kHz 6-axis signal ({args.calls} random times):")
        print(
            f"  python {py_us:8.1f} us/call   rust {rust_us:8.1f} us/call   "
            f"ratio {py_us / rust_us:.2f}x"
        )

        demo = d / "demo.rmf"
        subprocess.run(
            [str(args.target / "rmf"), "demo", str(demo)],
            check=True,
            capture_output=True,
        )
        cam = rmf.open(demo)["cam/front"]
        times = cam.times()
        start = time.perf_counter()
        for t in times:
            cam.at(int(t))
        one_by_one = len(times) / (time.perf_counter() - start)
        bulk = []
        for _ in range(3):  # a fresh 139 MB array each time: how fast depends on fresh pages
            start = time.perf_counter()
            _, frames = cam.read()
            bulk.append(len(frames) / (time.perf_counter() - start))
            del frames
        codec = cam.info["codec"]
        print(
            f"sequential 640x480 RGB frames ({len(times)} frames, {codec}, `rmf demo`'s default):"
        )
        print(
            f"  at() one by one {one_by_one:8.0f} frames/s   read() all, 3 times: "
            + ", ".join(f"{b:.0f}" for b in bulk)
            + " frames/s"
        )


if __name__ == "__main__":
    main()
