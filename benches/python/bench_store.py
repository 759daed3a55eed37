"""Training samples from an object store (issue 15): the same ``rmf.Dataset`` samples read from
local disk and from an S3-compatible server (moto, on loopback) behind a proxy that adds
``--latency-ms`` to every request, one run.

A sample is the training sample of ``bench_dataset.py``: ``cam/front`` as of ``t`` (one frame of
that camera, ``t`` its time), ``cam/wrist`` nearest to ``t``, ``action`` steps 0..15,
``ft/wrist`` steps -99..0 and ``joints`` as of ``t``. Episodes: ``--episodes`` demo episodes of
``--seconds`` seconds (``rmf demo --codec jpeg``, the codec ``bench_dataset.py`` found fastest
to sample among the compressed ones), indexed locally and copied to the bucket with
``rmf.copy``, then indexed there with ``rmf.index``.

Measured, local and remote:

- opening: ``rmf.Dataset`` (requests: the index alone), and ``rmf.open`` of each episode
  (ms per episode, requests per episode);
- random samples/s in one process, after 4 untimed warm-up samples, and with 2 worker
  processes (fork pool, as a DataLoader with 2 workers; each opens its own files), taking
  samples one by one, or in batches of 16 through ``Dataset.__getitems__`` (what a DataLoader
  with ``batch_size=16`` calls), which fetches a batch's chunks at once;
- requests and bytes fetched per sample (from the proxy's log, in one process), against the
  compressed bytes of the chunks those samples decode.

Usage: ``python benches/python/bench_store.py [--episodes 8] [--seconds 10] [--samples 200]
[--latency-ms 20]``. Needs the rmf wheel, moto[server] and the ``rmf`` command (``RMF_CLI`` or
target/release/rmf).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile
import time

import rmf

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "rmf-py" / "tests"))
from dataset_readers import rmf_streams  # noqa: E402
from storeserver import Moto, Proxy, s3_environ  # noqa: E402

# The training sample of bench_dataset.py.
STREAMS = rmf_streams()

_DS: rmf.Dataset | None = None


def _init(root: str, opts: dict[str, str] | None) -> None:
    global _DS
    _DS = rmf.Dataset(root, "cam/front", STREAMS, storage_options=opts)


def _take(idx: list[int]) -> int:
    assert _DS is not None
    for i in idx:
        _DS[i]
    return len(idx)


def _take_batch(idx: list[int]) -> int:
    assert _DS is not None
    return len(_DS.__getitems__(idx))


def rate_one(root: str, opts: dict[str, str] | None, idx: list[int]) -> float:
    ds = rmf.Dataset(root, "cam/front", STREAMS, storage_options=opts)
    for i in idx[:4]:
        ds[i]
    t = time.perf_counter()
    for i in idx[4:]:
        ds[i]
    return (len(idx) - 4) / (time.perf_counter() - t)


def rate_workers(
    root: str, opts: dict[str, str] | None, idx: list[int], workers: int, batch: int = 0
) -> float:
    """Samples/s of `workers` processes taking 8 samples a task, one by one, or with `batch`,
    `batch` samples a task through `Dataset.__getitems__` (a DataLoader with that batch size)."""
    ctx = mp.get_context("fork")
    size = batch or 8
    chunks = [idx[k : k + size] for k in range(0, len(idx), size)]
    take = _take_batch if batch else _take
    with ctx.Pool(workers, initializer=_init, initargs=(root, opts)) as pool:
        pool.map(_take, [[i] for i in idx[: 2 * workers]])  # warm-up: each worker opens
        t = time.perf_counter()
        n = sum(pool.map(take, chunks))
        return n / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--episodes", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    cli = os.environ.get("RMF_CLI") or str(ROOT / "target/release/rmf")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="rmf-bench-store-"))
    moto = Moto()
    proxy = Proxy(moto.port)
    os.environ.update(s3_environ(moto.url, key="bench"))
    try:
        moto.create_bucket("bench")
        local = tmp / "data"
        local.mkdir()
        for k in range(a.episodes):
            subprocess.run(
                [
                    cli,
                    "demo",
                    str(local / f"ep{k:03}.rmf"),
                    "--seconds",
                    str(a.seconds),
                    "--seed",
                    str(k),
                    "--codec",
                    "jpeg",
                ],
                check=True,
                capture_output=True,
            )
        rmf.index(local)
        url = "s3://bench/data/"
        rmf.copy(local, url)
        rmf.index(url)
        via = {"aws_endpoint": proxy.url}
        proxy.faults.latency_s = a.latency_ms / 1000

        proxy.reset()
        proxy.faults.latency_s = a.latency_ms / 1000
        t = time.perf_counter()
        remote = rmf.Dataset(url, "cam/front", STREAMS, storage_options=via)
        ds_open_ms = (time.perf_counter() - t) * 1e3
        ds_requests = proxy.log.gets()
        localds = rmf.Dataset(local, "cam/front", STREAMS)
        n = len(localds)
        rng = random.Random(a.seed)
        idx = [rng.randrange(n) for _ in range(a.samples + 4)]

        files = sorted(local.glob("*.rmf"))
        t = time.perf_counter()
        for f in files:
            rmf.open(f)
        open_local_ms = (time.perf_counter() - t) * 1e3 / len(files)
        proxy.reset()
        proxy.faults.latency_s = a.latency_ms / 1000
        t = time.perf_counter()
        for f in files:
            rmf.open(f"{url}{f.name}", storage_options=via)
        open_remote_ms = (time.perf_counter() - t) * 1e3 / len(files)
        open_requests = proxy.log.gets() / len(files)

        # Requests and bytes per sample, in one process, from a fresh dataset.
        proxy.reset()
        proxy.faults.latency_s = a.latency_ms / 1000
        remote = rmf.Dataset(url, "cam/front", STREAMS, storage_options=via)
        t = time.perf_counter()
        for i in idx[4:]:
            remote[i]
        remote_one = (len(idx) - 4) / (time.perf_counter() - t)
        per_req = (proxy.log.gets() - 1) / (len(idx) - 4)
        per_bytes = proxy.log.body_bytes / (len(idx) - 4)

        local_one = rate_one(str(local), None, idx)
        local_two = rate_workers(str(local), None, idx, 2)
        remote_two = rate_workers(url, via, idx, 2)
        local_batch = rate_workers(str(local), None, idx, 2, batch=16)
        remote_batch = rate_workers(url, via, idx, 2, batch=16)
        size = sum(f.stat().st_size for f in files)
        print(
            f"episodes {len(files)} x {a.seconds} s, {size / 1e6:.1f} MB, {n} samples; "
            f"latency {a.latency_ms} ms per request; {a.samples} random samples"
        )
        print(f"dataset open: {ds_open_ms:.1f} ms, {ds_requests} request(s)")
        print(
            f"episode open: local {open_local_ms:.2f} ms, remote {open_remote_ms:.1f} ms, "
            f"{open_requests:.2f} requests each"
        )
        print(
            f"samples/s, 1 process: local {local_one:.1f}, remote {remote_one:.1f} "
            f"({remote_one / local_one:.0%} of local)"
        )
        print(
            f"samples/s, 2 workers: local {local_two:.1f}, remote {remote_two:.1f} "
            f"({remote_two / local_two:.0%} of local)"
        )
        print(
            f"samples/s, 2 workers, batches of 16 (__getitems__): local {local_batch:.1f}, "
            f"remote {remote_batch:.1f} ({remote_batch / local_batch:.0%} of local)"
        )
        print(
            f"per sample (1 process, cold episodes included): {per_req:.2f} requests, "
            f"{per_bytes / 1e3:.1f} kB fetched"
        )
    finally:
        proxy.close()
        moto.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
