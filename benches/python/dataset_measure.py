"""``bench_dataset.py``'s measures: samples/s of the readers in one process and in worker
pools, wrong source frames, the peak RSS of a reader's fresh interpreter (its ``--rss-child``
mode), and runs of the lerobot package itself (``lerobot_package.py``)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import multiprocessing
import pathlib
import resource
import subprocess
import time

import numpy as np

# Sibling modules (this folder is on sys.path when the script runs).
from dataset_readers import FPS, FrameTimestampError, make_reader
from dataset_rmf_copies import Truth


@dataclasses.dataclass
class Row:
    reader: str
    kind: str
    root: pathlib.Path
    bytes_per_episode: float
    camera_bytes_per_episode: float
    one_process: float = math.nan
    workers: float = math.nan
    workers_sent: float = math.nan
    rss_mib: float = math.nan
    wrong: int = 0
    wrong_front: int = 0
    wrong_wrist: int = 0
    errors: int = 0
    checked: int = 0
    rounds: list[float] = dataclasses.field(default_factory=list)  # 1 process, per round
    memory: dict = dataclasses.field(default_factory=dict)  # of the RSS child, KiB


def check(row: Row, truth: Truth, i: int, sample) -> None:
    """Counts wrong source frames of one sample (and errors)."""
    row.checked += 1
    if isinstance(sample, Exception):
        row.errors += 1
        return
    e, k = truth.locate(i)
    t = int(truth.front_t[e][k])
    want_wrist = truth.nearest_wrist(e, t)
    if row.kind == "rmf":
        front_ok = int(sample["cam/front_t"]) == t
        wrist_ok = int(sample["cam/wrist_t"]) == int(truth.wrist_t[e][want_wrist])
    else:
        front_pos = round(sample["observation.images.front_loaded_ts"] * FPS)
        wrist_pos = round(sample["observation.images.wrist_loaded_ts"] * FPS)
        front_ok = front_pos == k
        wrist_ok = min(wrist_pos, len(truth.wrist_t[e]) - 1) == want_wrist
    row.wrong_front += not front_ok
    row.wrong_wrist += not wrist_ok
    row.wrong += not (front_ok and wrist_ok)


_POOL_READER = None  # set before the pool forks


def _pool_get(i: int):
    """A worker's sample, sent back whole (pickled through the pool's pipe)."""
    try:
        return i, _POOL_READER[i]
    except FrameTimestampError as e:
        return i, e


def _pool_get_kept(i: int):
    """A worker's sample, kept in the worker: only its keys go back."""
    try:
        return i, list(_POOL_READER[i])
    except FrameTimestampError as e:
        return i, e


def measure(rows: list[Row], truth: Truth, picks, warm, args) -> None:
    """Samples/s of every reader, in one process and with worker pools. The machine is shared,
    so the readers take turns: ``--rounds`` rounds, each giving every reader and mode the next
    block of the random samples; a rate is all its samples over all its time."""
    global _POOL_READER
    ctx = multiprocessing.get_context("fork")
    pools = []
    for r in rows:  # forked before any reader is used in this process
        _POOL_READER = make_reader(r.kind, r.root)
        pools.append(ctx.Pool(args.workers))
    _POOL_READER = None
    readers = [make_reader(r.kind, r.root) for r in rows]
    warm = [int(i) for i in warm]
    for reader, pool in zip(readers, pools):
        for i in warm:
            reader[i]
        for get in (_pool_get_kept, _pool_get):
            list(pool.imap(get, warm, chunksize=1))
    spent = {(k, m): 0.0 for k in range(len(rows)) for m in range(3)}
    try:
        for block in np.array_split(np.asarray(picks), args.rounds):
            block = [int(i) for i in block]
            for k, (r, reader) in enumerate(zip(rows, readers)):
                start = time.perf_counter()
                for i in block:
                    try:
                        sample = reader[i]
                    except FrameTimestampError as err:
                        sample = err
                    check(r, truth, i, sample)
                took = time.perf_counter() - start
                spent[k, 0] += took
                r.rounds.append(len(block) / took)
            for m, get in ((1, _pool_get_kept), (2, _pool_get)):
                for k, pool in enumerate(pools):
                    start = time.perf_counter()
                    for _ in pool.imap(get, block, chunksize=args.chunk):
                        pass
                    spent[k, m] += time.perf_counter() - start
    finally:
        for pool in pools:
            pool.terminate()
            pool.join()
    n = len(picks)
    for k, r in enumerate(rows):
        r.one_process, r.workers, r.workers_sent = (n / spent[k, m] for m in range(3))


def rss_child_main(args) -> None:
    if args.rss_child != "baseline":
        reader = make_reader(args.rss_child, pathlib.Path(args.rss_root))
        picks = np.random.default_rng(args.seed).integers(0, args.rss_total, size=args.rss_samples)
        for i in picks:
            with contextlib.suppress(FrameTimestampError):
                reader[int(i)]
    print(json.dumps(memory_kib()))


def memory_kib() -> dict:
    """This process's peak RSS: VmHWM, the high-water mark of its own address space (and its
    RssAnon and RssFile now). ``getrusage().ru_maxrss`` is not used: on Linux it keeps the
    parent's peak across fork and exec, so a child of a large benchmark process reports at least
    the parent's RSS."""
    fields = {"VmHWM:": "peak", "RssAnon:": "anon", "RssFile:": "file"}
    out = {}
    with contextlib.suppress(OSError):
        for line in pathlib.Path("/proc/self/status").read_text().splitlines():
            key = line.split(" ", 1)[0].split("\t", 1)[0]
            if key in fields:
                out[fields[key]] = int(line.split()[1])
    if "peak" not in out:
        out["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out


def run_lerobot_package(args, root: pathlib.Path, picks, warm) -> dict | str:
    """One run of ``lerobot_package.py`` on the same copy and samples: its JSON, or why it did
    not run."""
    cmd = [args.lerobot_python, str(pathlib.Path(__file__).with_name("lerobot_package.py"))]
    cmd += [str(root), "--picks", ",".join(str(int(i)) for i in picks)]
    cmd += ["--warm", ",".join(str(int(i)) for i in warm)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return done.stderr.strip()[-300:]
    return json.loads(done.stdout.strip().splitlines()[-1])
