"""Samples/s of the plainest training loop, ``for i in picks: ds[i]``, each reader in a fresh
interpreter (so that nothing else the process allocated before changes how the allocator
behaves), on datasets that ``bench_dataset.py --workdir DIR`` made:

    .venv/bin/python benches/python/bench_dataset.py --workdir /tmp/bd --quick   # 2 x 4 s
    .venv/bin/python benches/python/bench_dataset.py --workdir /tmp/bdf          # 4 x 15 s
    .venv/bin/python benches/python/bench_loop.py /tmp/bd /tmp/bdf

The samples are those of ``bench_dataset.py`` (both cameras, 16 actions, 100 force samples,
joints); each sample is dropped before the next is drawn, as a loop that trains on it does.
"""

import argparse
import json
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
READERS = ("rmf-h264", "rmf-h264-gop2", "rmf-jpeg")


def child(root: str, samples: int, seed: int) -> None:
    sys.path.insert(0, str(HERE))
    import random

    import bench_dataset

    import rmf

    ds = rmf.Dataset(root, reference="cam/front", streams=bench_dataset.rmf_streams())
    rng = random.Random(seed)
    picks = [rng.randrange(len(ds)) for _ in range(samples)]
    for i in picks[:4]:  # warm-up
        ds[i]
    start = time.perf_counter()
    for i in picks:
        ds[i]
    print(json.dumps({"samples_per_s": samples / (time.perf_counter() - start)}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("workdirs", nargs="+", type=pathlib.Path)
    p.add_argument("--samples", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child, args.samples, args.seed)
        return
    print("| data | reader | samples/s, plain loop, fresh interpreter |")
    print("|---|---|---:|")
    for work in args.workdirs:
        for reader in READERS:
            root = work / reader
            if not root.is_dir():
                continue
            cmd = [sys.executable, __file__, str(work), "--child", str(root)]
            cmd += ["--samples", str(args.samples), "--seed", str(args.seed)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            rate = json.loads(out.strip().splitlines()[-1])["samples_per_s"]
            print(f"| {work} | {reader} | {rate:.0f} |")


if __name__ == "__main__":
    main()
