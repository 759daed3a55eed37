"""``bench_dataset.py``'s data: the raw demo episodes every copy is encoded from, the RMF
copies made from them by ``rmf transcode``, and the real clocks of the episodes (``Truth``)."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import shlex
import subprocess

import numpy as np

# Sibling modules (this folder is on sys.path when the script runs).
from dataset_readers import rmf_streams


def run_jobs(cmds: list[list[str]], jobs: int = 2) -> None:
    """Runs commands, ``jobs`` at a time; any failure raises."""
    running: list[subprocess.Popen] = []
    for cmd in [*cmds, None]:
        while running and (cmd is None or len(running) >= jobs):
            p = running.pop(0)
            if p.wait() != 0:
                raise RuntimeError(f"failed: {shlex.join(p.args)}")
        if cmd is not None:
            running.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL))


# The RMF copies: directory key, label, and `rmf transcode` arguments.
RMF_COPIES = [
    ("h264", "RMF h264 (recording default: qp 22, gop 8)", ["h264"]),
    ("h264-q23-gop4", "RMF h264 qp 23, gop 4", ["h264", "--qp", "23", "--gop", "4"]),
    ("h264-gop2", "RMF h264 qp 22, gop 2", ["h264", "--gop", "2"]),
    ("jpeg", "RMF jpeg q90", ["jpeg"]),
    ("raw-fast", "RMF raw, zstd -1", ["raw", "--zstd-level", "-1"]),
]


def check_workdir(args, work: pathlib.Path, presets: list[int]) -> None:
    """Writes the data settings into ``work`` and refuses a workdir made with others: its files
    would be reused as if they were these."""
    stamp = work / "settings.json"
    want = {
        "episodes": args.episodes,
        "seconds": args.seconds,
        "source": "rmf demo --codec raw",
        "rmf_copies": [extra for _, _, extra in RMF_COPIES],
        "av1_presets": presets,
    }
    if stamp.exists():
        have = json.loads(stamp.read_text())
        if have != want:
            raise SystemExit(f"{work} holds data made with other settings ({have}); use another")
    elif any(work.iterdir()):
        raise SystemExit(f"{work} holds files this bench did not stamp; use an empty directory")
    stamp.write_text(json.dumps(want, indent=1))


def make_rmf_copies(args, work: pathlib.Path) -> tuple[pathlib.Path, dict[str, pathlib.Path]]:
    """The raw source episodes (not indexed) and the indexed RMF copies."""
    import rmf

    rmf_bin = str(args.target / "rmf")
    src = work / "raw"
    dirs = {key: work / f"rmf-{key}" for key, _, _ in RMF_COPIES}
    names = [f"ep{k:03d}.rmf" for k in range(args.episodes)]
    for d in [src, *dirs.values()]:
        d.mkdir(parents=True, exist_ok=True)
    cmds = [
        [rmf_bin, "demo", str(src / n), "--seconds", str(args.seconds), "--seed", str(k)]
        + ["--codec", "raw"]
        for k, n in enumerate(names)
        if not (src / n).exists()
    ]
    run_jobs(cmds)
    cmds = []
    for n in names:
        for key, _, extra in RMF_COPIES:
            if not (dirs[key] / n).exists():
                cmds.append(
                    [rmf_bin, "transcode", str(src / n), str(dirs[key] / n), "--codec", *extra]
                )
    run_jobs(cmds)
    for d in dirs.values():
        rmf.index(d)
    return src, dirs


@dataclasses.dataclass
class Truth:
    """The real clocks of the episodes, in sample order."""

    files: list[pathlib.Path]
    front_t: list[np.ndarray]
    wrist_t: list[np.ndarray]
    starts: np.ndarray  # first sample of each episode

    @property
    def total(self) -> int:
        return int(self.starts[-1] + len(self.front_t[-1]))

    def locate(self, i: int) -> tuple[int, int]:
        e = int(np.searchsorted(self.starts, i, side="right") - 1)
        return e, i - int(self.starts[e])

    def nearest_wrist(self, e: int, t: int) -> int:
        w = self.wrist_t[e]
        hi = int(np.searchsorted(w, t, side="left"))  # first with w >= t
        if hi == 0:
            return 0
        if hi == len(w):
            return len(w) - 1
        return hi if w[hi] - t < t - w[hi - 1] else hi - 1  # a tie goes to the earlier


def load_truth(h264: pathlib.Path, raw: pathlib.Path) -> Truth:
    """Real clocks in the sample order of the dataset at ``h264``; ``files``: the raw sources
    (same names and timestamps)."""
    import pyarrow.parquet as pq

    import rmf

    ds = rmf.Dataset(h264, reference="cam/front", streams=rmf_streams())
    index = pq.read_table(h264 / "episodes.parquet").to_pylist()
    file_of = {r["id"]: raw / r["file"] for r in index}
    files = [file_of[i] for i in ds.episode_ids]
    front, wrist = [], []
    for f in files:
        ep = rmf.open(f)
        front.append(ep["cam/front"].times())
        wrist.append(ep["cam/wrist"].times())
    starts = np.concatenate([[0], np.cumsum([len(t) for t in front])[:-1]]).astype(np.int64)
    truth = Truth(files, front, wrist, starts)
    assert truth.total == len(ds), (truth.total, len(ds))
    return truth
