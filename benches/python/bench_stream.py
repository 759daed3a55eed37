"""The streaming loader against map-style sampling (issue 16), one run side by side.

The sample is ``bench_dataset.py``'s training sample (``cam/front`` as of ``t``, ``cam/wrist``
nearest, ``action`` steps 0..15, ``ft/wrist`` steps -99..0, ``joints`` as of ``t``) over
``--episodes`` demo episodes of ``--seconds`` seconds (``rmf demo --codec jpeg``).

Measured, each over the first ``--samples`` samples of an epoch's order:

- **map-style, 2 workers**: ``rmf.Dataset`` with a shuffled permutation of all indices (what
  ``DataLoader(shuffle=True)`` samples), taken by 2 worker processes (fork, as a DataLoader's
  workers), 8 samples per task;
- **streaming, 2 workers**: ``rmf.StreamingDataset`` with its defaults (block 64, buffer 1024,
  2 threads, 256 MiB ahead) and ``batch_size=32``, each worker process iterating its share
  (``worker=k, num_workers=2``), as the workers of a DataLoader with ``batch_size=32`` do;
- **1 process, 2 threads**: ``Dataset(batch_threads=2).__getitems__`` on batches of 16, against
  2 worker processes calling ``__getitems__`` with one thread each; with the peak RSS of each
  process (``ru_maxrss``);
- the streaming workers' peak RSS against their prefetch budget;
- with ``--store``: the same streaming run from moto's S3 server on loopback behind the test
  proxy adding ``--latency-ms`` per request, against its local rate.

Usage: ``python benches/python/bench_stream.py [--episodes 8] [--seconds 10] [--samples 1200]
[--store] [--latency-ms 20]``. Needs the rmf wheel and the ``rmf`` command (``RMF_CLI`` or
target/release/rmf); ``--store`` needs moto[server].
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import pathlib
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

from dataset_readers import rmf_streams

import rmf

ROOT = pathlib.Path(__file__).resolve().parents[2]

# The training sample of bench_dataset.py.
STREAMS = rmf_streams()

# The DataLoader batch size the streaming workers take their shares by.
BATCH = 32
# StreamingDataset's default prefetch budget, for the report.
PREFETCH_MIB = 256

_DS: rmf.Dataset | None = None


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _init(root: str, opts: dict[str, str] | None, threads: int) -> None:
    global _DS
    _DS = rmf.Dataset(root, "cam/front", STREAMS, storage_options=opts, batch_threads=threads)


def _take(idx: list[int]) -> tuple[int, float, int]:
    assert _DS is not None
    for i in idx:
        _DS[i]
    return len(idx), _rss_mb(), os.getpid()


def _take_batch(idx: list[int]) -> tuple[int, float, int]:
    assert _DS is not None
    return len(_DS.__getitems__(idx)), _rss_mb(), os.getpid()


def _peaks(got: list[tuple[int, float, int]]) -> float:
    """The processes' peak RSS added up (MB)."""
    peak: dict[int, float] = {}
    for _, rss, pid in got:
        peak[pid] = max(peak.get(pid, 0.0), rss)
    return sum(peak.values())


def map_style(root: str, opts: Any, idx: list[int], batch: int = 0) -> tuple[float, float]:
    """Samples/s of 2 worker processes over `idx`, and their combined peak RSS (MB)."""
    size = batch or 8
    tasks = [idx[k : k + size] for k in range(0, len(idx), size)]
    with mp.get_context("fork").Pool(2, initializer=_init, initargs=(root, opts, 1)) as pool:
        pool.map(_take, [[i] for i in idx[:4]], chunksize=1)  # warm-up: each worker opens
        t = time.perf_counter()
        got = pool.map(_take_batch if batch else _take, tasks, chunksize=1)
        rate = sum(n for n, _, _ in got) / (time.perf_counter() - t)
    return rate, _peaks(got)


def one_process(root: str, idx: list[int], batch: int) -> tuple[float, float]:
    """Samples/s of one process decoding batches on 2 threads, and its peak RSS (MB)."""
    with mp.get_context("fork").Pool(1, initializer=_init, initargs=(root, None, 2)) as pool:
        pool.map(_take, [idx[:4]])
        tasks = [idx[k : k + batch] for k in range(0, len(idx), batch)]
        t = time.perf_counter()
        got = pool.map(_take_batch, tasks, chunksize=1)
        rate = sum(n for n, _, _ in got) / (time.perf_counter() - t)
        return rate, _peaks(got)


def _stream_worker(args: tuple[str, Any, int, int, int]) -> tuple[int, float, float]:
    root, opts, worker, workers, limit = args
    ds = rmf.StreamingDataset(
        root,
        "cam/front",
        STREAMS,
        storage_options=opts,
        worker=worker,
        num_workers=workers,
        batch_size=BATCH,
    )
    it = iter(ds)
    for _ in range(4):  # warm-up: open, start the threads
        next(it)
    t = time.perf_counter()
    n = 0
    for _ in it:
        n += 1
        if n >= limit:
            break
    return n, time.perf_counter() - t, _rss_mb()


def streaming(root: str, opts: Any, samples: int) -> tuple[float, float]:
    """Samples/s of 2 streaming workers (each its share), and the larger worker peak RSS."""
    with mp.get_context("fork").Pool(2) as pool:
        got = pool.map(
            _stream_worker, [(root, opts, k, 2, samples // 2) for k in range(2)], chunksize=1
        )
    # The workers run at once: the rate is the samples over the slower one's time.
    return sum(n for n, _, _ in got) / max(s for _, s, _ in got), max(r for _, _, r in got)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--episodes", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--samples", type=int, default=1200)
    ap.add_argument("--store", action="store_true")
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    cli = os.environ.get("RMF_CLI") or str(ROOT / "target/release/rmf")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="rmf-bench-stream-"))
    try:
        local = tmp / "data"
        local.mkdir()
        for k in range(a.episodes):
            subprocess.run(
                [cli, "demo", str(local / f"ep{k:03}.rmf"), "--seconds", str(a.seconds)]
                + ["--seed", str(k), "--codec", "jpeg"],
                check=True,
                capture_output=True,
            )
        rmf.index(local)
        n = len(rmf.Dataset(local, "cam/front", STREAMS))
        perm = list(range(n))
        random.Random(a.seed).shuffle(perm)
        idx = perm[: a.samples]
        map_rate, map_rss = map_style(str(local), None, idx)
        stream_rate, stream_rss = streaming(str(local), None, a.samples)
        batch_two, batch_two_rss = map_style(str(local), None, idx, batch=16)
        batch_one, batch_one_rss = one_process(str(local), idx, 16)
        size = sum(f.stat().st_size for f in local.glob("*.rmf"))
        print(
            f"episodes {a.episodes} x {a.seconds} s, {size / 1e6:.1f} MB, {n} samples; "
            f"{a.samples} samples per measurement"
        )
        print(f"map-style random, 2 workers: {map_rate:.1f} samples/s")
        print(
            f"streaming, 2 workers: {stream_rate:.1f} samples/s "
            f"({stream_rate / map_rate:.2f}x map-style); worker peak RSS {stream_rss:.0f} MB "
            f"(prefetch budget {PREFETCH_MIB} MiB)"
        )
        print(
            f"batches of 16: 2 workers {batch_two:.1f} samples/s, {batch_two_rss:.0f} MB RSS "
            f"together; 1 process with 2 threads {batch_one:.1f} samples/s "
            f"({batch_one / batch_two:.2f}x), {batch_one_rss:.0f} MB RSS "
            f"({batch_one_rss / batch_two_rss:.0%})"
        )
        if a.store:
            remote_streaming(local, a, stream_rate)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def remote_streaming(local: pathlib.Path, a: argparse.Namespace, local_rate: float) -> None:
    sys.path.insert(0, str(ROOT / "rmf-py" / "tests"))
    from storeserver import Moto, Proxy, s3_environ

    moto = Moto()
    proxy = Proxy(moto.port)
    os.environ.update(s3_environ(moto.url, key="bench"))
    try:
        moto.create_bucket("bench")
        url = "s3://bench/data/"
        rmf.copy(local, url)
        rmf.index(url)
        proxy.faults.latency_s = a.latency_ms / 1000
        via = {"aws_endpoint": proxy.url}
        rate, rss = streaming(url, via, a.samples)
        print(
            f"streaming from S3 + {a.latency_ms:g} ms, 2 workers: {rate:.1f} samples/s "
            f"({rate / local_rate:.0%} of local); worker peak RSS {rss:.0f} MB; "
            f"{proxy.log.gets()} requests, {proxy.log.body_bytes / 1e6:.1f} MB"
        )
    finally:
        proxy.close()
        moto.close()


if __name__ == "__main__":
    main()
