"""Training samples per second (issue 4): ``rmf.Dataset`` against LeRobot v3's reader, one run.

Every reader serves the same samples of the same episodes. A sample is one ``cam/front`` frame
time ``t`` of one episode, with:

- ``cam/front`` as of ``t`` (that frame) and ``cam/wrist`` nearest to ``t`` (640x480 RGB, 30 fps);
- ``action``: the next 16 actions (30 Hz, float32[8]), steps 0..15;
- ``ft/wrist``: the last 100 force/torque samples (1 kHz, float32[6]), steps -99..0;
- ``joints``: as of ``t`` (100 Hz, float32[2, 7]).

Data: ``--episodes`` demo episodes recorded with lossless cameras (``rmf demo --seconds S --seed K
--codec raw``: the camera's own pixels, as a recorder gets them). Every copy below is encoded
from those same pixels, once, as each format would store a recording:

- RMF, each its own indexed directory (``rmf.index``), made by ``rmf transcode``: H.264 at the
  recording default (qp 22, gop 8: what ``rmf demo`` writes), H.264 qp 23 gop 4 (a setting for
  training sets: keyframes twice as often), H.264 qp 22 gop 2, JPEG q90 (the fastest
  compressed frame codec to decode) and raw frames at zstd level -1 (the fastest frame codec
  of all, stored almost as they are: about 0.9 MB a frame);
- LeRobot v3's layout, built from the frames and signals of the raw files: ``meta/info.json``
  (fps 30, features), ``meta/tasks.parquet``,
  ``meta/episodes/chunk-000/file-000.parquet`` (lengths, ``dataset_from_index`` /
  ``dataset_to_index``, per camera ``videos/<key>/from_timestamp`` / ``to_timestamp``),
  ``meta/stats.json`` (numeric features only), ``data/chunk-000/file-000.parquet`` (one row per
  ``cam/front`` frame: ``timestamp`` = frame_index / fps as float32, ``frame_index``,
  ``episode_index``, ``index``, ``task_index``, ``action`` float32[8], ``observation.state``
  float32[14], ``observation.force`` float32[6]) and
  ``videos/observation.images.{front,wrist}/chunk-000/file-000.mp4``: each episode encoded as
  ``lerobot.datasets.video_utils.encode_video_frames`` does (libsvtav1, crf 30, g 2, yuv420p,
  ``preset`` 12 when none is given, which lerobot 0.4.x passes; ``--av1-presets`` adds others,
  8 by default: SVT-AV1's own default, which ``bench_media.py`` measured), then the episodes
  concatenated into one MP4 per camera by stream copy through FFmpeg's concat demuxer, as
  ``concatenate_video_files`` does, ``from_timestamp`` being the sum of the previous episodes'
  video durations (``get_video_duration_in_s``).

LeRobot forces every stream onto the dataset's one fps, so the conversion puts on row ``k`` of
an episode: ``cam/front`` frame ``k`` (row time ``k / 30``, not its real time); the ``k``-th
``cam/wrist`` frame (a camera's frames are stored in order, one per row; the last one repeats
if the wrist camera has fewer frames); ``action``, ``joints`` (flattened to 14) and
``ft/wrist`` as of the real time of ``cam/front`` frame ``k`` (the first sample when there is
none yet). The 1 kHz force therefore becomes a 30 fps column and "the last 100 force samples"
cannot be reproduced: LeRobot's sample takes the last 100 rows of that column
(``delta_timestamps`` -99/30 .. 0 s: 3.3 s of force sampled at 30 fps, not 100 ms at 1 kHz), so
it reads as many values but not the same ones.

LeRobot's reader is reproduced without torch (lerobot needs torch, torchvision and torchcodec):
``LeRobotDataset.__getitem__`` reads the row of the Arrow table (``hf_dataset[idx]``, which
formats through Python objects), the ``delta_timestamps`` rows of ``action`` and
``observation.force`` clamped to the episode with their ``_is_pad`` masks, then for each camera
decodes the frame at ``from_timestamp + timestamp`` as ``decode_video_frames_torchcodec`` does:
frame index ``round(ts * average_fps)``, the decoder kept open per video file
(``VideoDecoderCache``), one FFmpeg thread, seek to the keyframe before that frame and decode
forward (PyAV, the AV1 decoder FFmpeg picks), conversion to RGB by swscale with one thread
(FFmpeg's default, as torchcodec uses it; PyAV's own default would start a thread per CPU), and
the tolerance check (``tolerance_s`` = 1e-4: a sample whose decoded frame time differs by that
much or more raises ``FrameTimestampError``; counted under "errors"). Frames are returned as
uint8 HxWx3 like RMF's: lerobot's conversion to float32 CHW / 255 is not done (it would only
slow LeRobot down).

Measured per reader, on the same random samples (``--seed``) of the same episodes:

- samples/s in one process (after 4 untimed warm-up samples). The machine may be shared, so
  the readers take turns: ``--rounds`` rounds, each giving every reader and mode the next block
  of the random samples (the per-round rates are printed to show the noise);
- samples/s with 2 worker processes (``multiprocessing`` fork pool, as a DataLoader with 2
  workers: each worker opens its own files; ``--chunk`` samples per task, like a batch), twice:
  samples kept in the workers (only their keys go back: the readers' own throughput), and whole
  samples pickled back to the main process through the pool's pipe (a DataLoader hands tensors
  over in shared memory instead, which costs less; the cost is the same for every reader);
- peak RSS: a fresh interpreter per reader reads ``--rss-samples`` samples and reports its
  ``VmHWM`` (``ru_maxrss`` keeps the parent's peak across fork and exec on Linux), minus that of
  a fresh interpreter that imported numpy and pyarrow only. Memory-mapped file pages a reader
  touched count (RMF maps its episode files; PyAV reads through buffers);
- wrong source frame: the share of samples where a camera frame is not the right source frame:
  ``cam/front`` frame ``k`` itself, and the ``cam/wrist`` frame nearest to ``t`` on the real
  clocks (the raw files' timestamps, which every copy keeps). RMF returns each frame's real time
  (``cam/wrist_t``); LeRobot's source frame is known from the decoded frame's position in the
  video. On ``rmf demo`` data the ``k``-th wrist frame is always the nearest one (the demo's
  wrist camera runs 1.5 to 4.5 ms after the front one and drops no frame), so
  LeRobot's row-by-row layout gets it right too: it goes wrong only where the cameras drift
  apart or drop frames.

    cargo build --release -p rmf-cli       # if target/release/rmf is missing
    .venv/bin/pip install -r benches/python/requirements-bench.txt
    .venv/bin/python benches/python/bench_dataset.py [--episodes 4] [--samples 400] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import multiprocessing
import os
import pathlib
import platform
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa

# The sibling benchmark's helper (this folder is on sys.path when the script runs).
from bench_media import captured_fd2, cpu_model

ROOT = pathlib.Path(__file__).resolve().parents[2]
FPS = 30
CAMERAS = {"cam/front": "observation.images.front", "cam/wrist": "observation.images.wrist"}
ACTION_STEPS = list(range(0, 16))
FORCE_STEPS = list(range(-99, 1))
TOLERANCE_S = 1e-4  # LeRobotDataset's default tolerance_s
TASK = "pick up the red cube and place it in the bin"

# lerobot.datasets.video_utils.encode_video_frames (lerobot 0.4.x): crf 30, g 2, yuv420p, and
# preset 12 when the caller gives none.
AV1_CODEC = "libsvtav1"
AV1_PIX_FMT = "yuv420p"
LEROBOT_PRESET = 12

# Goals of issue 4.
GOAL_VS_LEROBOT = 4.0
GOAL_FASTEST_VS_LEROBOT = 10.0
GOAL_FASTEST_VS_MCAP_LANCE = 2.0
MCAP_LANCE_JPEG_SAMPLES_S = 330.0  # best of the MCAP+JPEG / Lance+JPEG readers, measured elsewhere
GOAL_RSS_MIB = 100.0


def rmf_streams():
    import rmf

    return {
        "cam/front": rmf.asof(),
        "cam/wrist": rmf.nearest(),
        "action": rmf.window(steps=ACTION_STEPS),
        "ft/wrist": rmf.window(steps=FORCE_STEPS),
        "joints": rmf.asof(pad=True),
    }


# ----------------------------------------------------------------------------- readers


class RmfReader:
    """``rmf.Dataset`` as is (it reopens its files in each process)."""

    def __init__(self, root: pathlib.Path):
        self.root = root
        self._ds = None

    def __getitem__(self, i: int) -> dict:
        if self._ds is None:
            import rmf

            self._ds = rmf.Dataset(self.root, reference="cam/front", streams=rmf_streams())
        return self._ds[i]


class FrameTimestampError(ValueError):
    """lerobot.datasets.video_utils.FrameTimestampError."""


class LeRobotReader:
    """``LeRobotDataset.__getitem__`` with ``delta_timestamps`` for ``action`` (0..15 frames)
    and ``observation.force`` (-99..0 frames), reproduced with pyarrow and PyAV."""

    def __init__(self, root: pathlib.Path):
        self.root = root
        self._pid = -1

    def _open(self) -> None:
        if self._pid == os.getpid():
            return
        import pyarrow.parquet as pq

        info = json.loads((self.root / "meta" / "info.json").read_text())
        self.fps = info["fps"]
        self.video_path = info["video_path"]
        self.video_keys = [k for k, f in info["features"].items() if f["dtype"] == "video"]
        # load_nested_dataset: every data file, memory-mapped Arrow.
        files = sorted((self.root / "data").glob("chunk-*/file-*.parquet"))
        self.table = pa.concat_tables(pq.read_table(f, memory_map=True) for f in files)
        self.episodes = pq.read_table(self.root / "meta" / "episodes").to_pylist()
        self.tasks = pq.read_table(self.root / "meta" / "tasks.parquet").column("task").to_pylist()
        self.delta_indices = {"action": ACTION_STEPS, "observation.force": FORCE_STEPS}
        self.decoders: dict[str, tuple] = {}  # VideoDecoderCache: one decoder per video file
        self._pid = os.getpid()

    def _decoder(self, path: pathlib.Path):
        key = str(path)
        if key not in self.decoders:
            import av

            container = av.open(key)
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1
            self.decoders[key] = (container, stream, float(stream.average_rate))
        return self.decoders[key]

    def _decode_at(self, path: pathlib.Path, ts: float) -> tuple[np.ndarray, float]:
        """torchcodec ``get_frames_at`` (seek_mode approximate): the frame shown at frame index
        ``round(ts * average_fps)``, decoded from the keyframe before it."""
        container, stream, avg_fps = self._decoder(path)
        index = round(ts * avg_fps)
        target = round(index / avg_fps / stream.time_base)
        container.seek(target, stream=stream, backward=True, any_frame=False)
        shown = None
        for frame in container.decode(stream):
            if frame.pts > target and shown is not None:
                break
            shown = frame
            if frame.pts >= target:
                break
        if shown is None:
            raise FrameTimestampError(f"no frame at {ts} s in {path}")
        # One swscale thread: FFmpeg's default, which torchcodec keeps (PyAV's default is auto).
        rgb = shown.to_ndarray(format="rgb24", threads=1)
        return rgb, float(shown.pts * stream.time_base)

    def __getitem__(self, idx: int) -> dict:
        self._open()
        row = self.table.slice(idx, 1).to_pylist()[0]  # hf_dataset[idx]: Python objects
        item = {
            k: np.asarray(v, np.float32 if isinstance(v, list) else None) for k, v in row.items()
        }
        ep_idx = int(item["episode_index"])
        abs_idx = int(item["index"])
        ep = self.episodes[ep_idx]
        start, end = ep["dataset_from_index"], ep["dataset_to_index"]
        for key, deltas in self.delta_indices.items():
            query = [max(start, min(end - 1, abs_idx + d)) for d in deltas]
            item[key] = np.asarray(self.table.column(key).take(query).to_pylist(), np.float32)
            item[f"{key}_is_pad"] = np.array([not start <= abs_idx + d < end for d in deltas])
        current_ts = float(item["timestamp"])
        for key in self.video_keys:
            shifted = ep[f"videos/{key}/from_timestamp"] + current_ts
            path = self.root / self.video_path.format(
                video_key=key,
                chunk_index=ep[f"videos/{key}/chunk_index"],
                file_index=ep[f"videos/{key}/file_index"],
            )
            frame, loaded = self._decode_at(path, shifted)
            if not abs(loaded - shifted) < TOLERANCE_S:
                raise FrameTimestampError(
                    f"{key}: query {shifted:.6f} s, loaded {loaded:.6f} s ({TOLERANCE_S=})"
                )
            item[key] = frame
            item[f"{key}_loaded_ts"] = loaded - ep[f"videos/{key}/from_timestamp"]
        item["task"] = self.tasks[int(item["task_index"])]
        return item


def make_reader(kind: str, root: pathlib.Path):
    return RmfReader(root) if kind == "rmf" else LeRobotReader(root)


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


# ----------------------------------------------------------------------------- data


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


def camera_frames(path: pathlib.Path, stream: str, n: int) -> np.ndarray:
    """A camera's frames in order, as many as ``cam/front`` has (the last one repeated)."""
    import rmf

    _, frames = rmf.open(path)[stream].read()
    if len(frames) < n:
        frames = np.concatenate([frames, np.repeat(frames[-1:], n - len(frames), axis=0)])
    return frames[:n]


def encode_av1_job(job: tuple) -> float:
    """``encode_video_frames`` with frames from the RMF file instead of PNG files and one encoder
    thread; returns the encode time."""
    import av

    rmf_path, stream_name, n, preset, out, log = job
    frames = camera_frames(rmf_path, stream_name, n)
    h, w = frames.shape[1:3]
    options = {"g": "2", "crf": "30", "preset": str(preset)}
    start = time.perf_counter()
    with captured_fd2(log), av.open(str(out), "w") as container:
        stream = container.add_stream(AV1_CODEC, FPS, options=options)
        stream.pix_fmt = AV1_PIX_FMT
        stream.width = w
        stream.height = h
        stream.codec_context.thread_count = 1
        for f in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        container.mux(stream.encode())
    return time.perf_counter() - start


def video_duration_s(path: pathlib.Path) -> float:
    """lerobot's get_video_duration_in_s."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        if s.duration is not None:
            return float(s.duration * s.time_base)
        return float(c.duration / av.time_base)


def concatenate_videos(inputs: list[pathlib.Path], output: pathlib.Path) -> None:
    """lerobot's concatenate_video_files: FFmpeg's concat demuxer, packets copied."""
    import av

    output.parent.mkdir(parents=True, exist_ok=True)
    listing = output.with_suffix(".ffconcat")
    listing.write_text(
        "ffconcat version 1.0\n" + "".join(f"file '{p.resolve()}'\n" for p in inputs)
    )
    src = av.open(str(listing), mode="r", format="concat", options={"safe": "0"})
    dst = av.open(str(output), mode="w", options={"movflags": "faststart"})
    mapping = {}
    for s in src.streams:
        if s.type == "video":
            mapping[s.index] = dst.add_stream_from_template(template=s, opaque=True)
            mapping[s.index].time_base = s.time_base
    for packet in src.demux():
        if packet.stream.index not in mapping or packet.dts is None:
            continue
        packet.stream = mapping[packet.stream.index]
        dst.mux(packet)
    src.close()
    dst.close()
    listing.unlink()


def asof_rows(ts: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The value as of each time of ``at`` (the first one when there is none yet)."""
    rows = np.searchsorted(ts, at, side="right") - 1
    return values[np.maximum(rows, 0)]


def feature_stats(values: np.ndarray) -> dict:
    v = values.reshape(len(values), -1).astype(np.float64)
    return {
        "min": v.min(0).tolist(),
        "max": v.max(0).tolist(),
        "mean": v.mean(0).tolist(),
        "std": v.std(0).tolist(),
        "count": [len(v)],
    }


def build_lerobot(truth: Truth, root: pathlib.Path, presets: list[int], pool) -> dict:
    """One LeRobot v3 dataset per AV1 preset, ``root / f"preset-{p}"``; returns encode info."""
    import pyarrow.parquet as pq

    import rmf

    tmp = root / "episode-videos"
    tmp.mkdir(parents=True, exist_ok=True)
    jobs = []
    for preset in presets:
        for e, f in enumerate(truth.files):
            for cam, key in CAMERAS.items():
                out = tmp / f"p{preset}-{key}-{e:03d}.mp4"
                jobs.append((f, cam, len(truth.front_t[e]), preset, out, tmp / "svt.log"))
    todo = [j for j in jobs if not j[4].exists()]
    encode_s = sum(pool.map(encode_av1_job, todo, chunksize=1)) if todo else 0.0

    # Rows: the same for every preset.
    cols: dict[str, list] = {k: [] for k in ("action", "observation.state", "observation.force")}
    scalars: dict[str, list] = {k: [] for k in ("timestamp", "frame_index", "episode_index")}
    for e, f in enumerate(truth.files):
        ep = rmf.open(f)
        t = truth.front_t[e]
        n = len(t)
        for col, name in (
            ("action", "action"),
            ("observation.state", "joints"),
            ("observation.force", "ft/wrist"),
        ):
            ts, values = ep[name].read()
            cols[col].append(asof_rows(ts, values.reshape(len(values), -1), t))
        scalars["timestamp"].append((np.arange(n) / FPS).astype(np.float32))
        scalars["frame_index"].append(np.arange(n, dtype=np.int64))
        scalars["episode_index"].append(np.full(n, e, np.int64))
    data = {k: np.concatenate(v) for k, v in {**cols, **scalars}.items()}
    total = len(data["timestamp"])
    data["index"] = np.arange(total, dtype=np.int64)
    data["task_index"] = np.zeros(total, np.int64)

    def fixed(a: np.ndarray) -> pa.Array:
        a = np.ascontiguousarray(a, np.float32)
        return pa.FixedSizeListArray.from_arrays(pa.array(a.reshape(-1)), a.shape[1])

    table = pa.table(
        {
            "action": fixed(data["action"]),
            "observation.state": fixed(data["observation.state"]),
            "observation.force": fixed(data["observation.force"]),
            "timestamp": pa.array(data["timestamp"]),
            "frame_index": pa.array(data["frame_index"]),
            "episode_index": pa.array(data["episode_index"]),
            "index": pa.array(data["index"]),
            "task_index": pa.array(data["task_index"]),
        }
    )

    made = {}
    for preset in presets:
        ds = root / f"preset-{preset}"
        (ds / "data" / "chunk-000").mkdir(parents=True, exist_ok=True)
        (ds / "meta" / "episodes" / "chunk-000").mkdir(parents=True, exist_ok=True)
        pq.write_table(table, ds / "data" / "chunk-000" / "file-000.parquet")
        pq.write_table(pa.table({"task_index": [0], "task": [TASK]}), ds / "meta" / "tasks.parquet")
        episodes = []
        cursor = 0
        offset = {key: 0.0 for key in CAMERAS.values()}
        for e in range(len(truth.files)):
            n = len(truth.front_t[e])
            row = {
                "episode_index": e,
                "tasks": [TASK],
                "length": n,
                "data/chunk_index": 0,
                "data/file_index": 0,
                "dataset_from_index": cursor,
                "dataset_to_index": cursor + n,
                "meta/episodes/chunk_index": 0,
                "meta/episodes/file_index": 0,
            }
            for key in CAMERAS.values():
                duration = video_duration_s(tmp / f"p{preset}-{key}-{e:03d}.mp4")
                row[f"videos/{key}/chunk_index"] = 0
                row[f"videos/{key}/file_index"] = 0
                row[f"videos/{key}/from_timestamp"] = offset[key]
                row[f"videos/{key}/to_timestamp"] = offset[key] + duration
                offset[key] += duration
            episodes.append(row)
            cursor += n
        pq.write_table(
            pa.Table.from_pylist(episodes),
            ds / "meta" / "episodes" / "chunk-000" / "file-000.parquet",
        )
        for key in CAMERAS.values():
            concatenate_videos(
                [tmp / f"p{preset}-{key}-{e:03d}.mp4" for e in range(len(truth.files))],
                ds / "videos" / key / "chunk-000" / "file-000.mp4",
            )
        video_info = {
            "dtype": "video",
            "shape": [480, 640, 3],
            "names": ["height", "width", "channels"],
            "info": {
                "video.height": 480,
                "video.width": 640,
                "video.codec": "av1",
                "video.pix_fmt": AV1_PIX_FMT,
                "video.is_depth_map": False,
                "video.fps": FPS,
                "video.channels": 3,
                "has_audio": False,
            },
        }
        features = {
            "action": {"dtype": "float32", "shape": [8], "names": None},
            "observation.state": {"dtype": "float32", "shape": [14], "names": None},
            "observation.force": {"dtype": "float32", "shape": [6], "names": None},
            **{key: video_info for key in CAMERAS.values()},
            "timestamp": {"dtype": "float32", "shape": [1], "names": None},
            "frame_index": {"dtype": "int64", "shape": [1], "names": None},
            "episode_index": {"dtype": "int64", "shape": [1], "names": None},
            "index": {"dtype": "int64", "shape": [1], "names": None},
            "task_index": {"dtype": "int64", "shape": [1], "names": None},
        }
        info = {
            "codebase_version": "v3.0",
            "robot_type": "rmf-demo-arm",
            "total_episodes": len(truth.files),
            "total_frames": total,
            "total_tasks": 1,
            "chunks_size": 1000,
            "data_files_size_in_mb": 100,
            "video_files_size_in_mb": 200,
            "fps": FPS,
            "splits": {"train": f"0:{len(truth.files)}"},
            "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
            "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
            "features": features,
        }
        (ds / "meta" / "info.json").write_text(json.dumps(info, indent=4))
        stats = {k: feature_stats(data[k]) for k in ("action", "observation.state")}
        stats["observation.force"] = feature_stats(data["observation.force"])
        (ds / "meta" / "stats.json").write_text(json.dumps(stats, indent=4))
        made[preset] = ds
    return {"encode_s": encode_s, "dirs": made, "log": tmp / "svt.log"}


# ----------------------------------------------------------------------------- measures


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


def child_rss(args, kind: str, root: pathlib.Path | None) -> dict:
    """Memory of a fresh interpreter running this file in ``--rss-child`` mode (KiB): ``peak``
    (VmHWM) and, at its end, ``anon`` (RssAnon) and ``file`` (RssFile: mapped files, libraries
    included)."""
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--rss-child", kind]
    if root is not None:
        cmd += ["--rss-root", str(root)]
    cmd += ["--rss-samples", str(args.rss_samples), "--seed", str(args.seed)]
    cmd += ["--rss-total", str(args.rss_total)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


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


# ----------------------------------------------------------------------------- report


def dir_bytes(root: pathlib.Path, pattern: str = "**/*") -> int:
    return sum(p.stat().st_size for p in root.glob(pattern) if p.is_file())


def rmf_camera_bytes(files: list[pathlib.Path], target: pathlib.Path) -> int:
    total = 0
    for f in files:
        out = subprocess.run(
            [str(target / "rmf"), "info", str(f), "--json"], check=True, capture_output=True
        ).stdout
        total += sum(s["stored_bytes"] for s in json.loads(out)["streams"] if s["kind"] == "frames")
    return total


def svt_version(log: pathlib.Path) -> str:
    with contextlib.suppress(OSError):
        m = re.search(r"SVT-AV1 Encoder Lib (\S+)", log.read_text(errors="replace"))
        if m:
            return m.group(1)
    return "?"


def print_header(args, started_load: tuple[float, float, float]) -> None:
    import av

    import rmf

    libs = ", ".join(f"{k} {'.'.join(map(str, v))}" for k, v in av.library_versions.items())
    print("# Training samples/s: rmf.Dataset against LeRobot v3's reader (issue 4)\n")
    print(f"- command: `{shlex.join([sys.executable, *sys.argv])}` (cwd {os.getcwd()})")
    print(
        f"- machine: nproc {len(os.sched_getaffinity(0))} ({os.cpu_count()} CPUs), {cpu_model()}, "
        f"{platform.system()} {platform.release()}; load average at start "
        f"{' / '.join(f'{x:.2f}' for x in started_load)} (a shared machine)"
    )
    print(
        f"- python {platform.python_version()}, numpy {np.__version__}, pyarrow {pa.__version__}, "
        f"rmf {rmf.__version__}, PyAV {av.__version__} (FFmpeg {libs})"
    )


def fmt(v: float, digits: int = 0) -> str:
    return "—" if math.isnan(v) else f"{v:,.{digits}f}"


def print_table(rows: list[Row], args) -> None:
    w = args.workers
    print(
        "\n| reader | bytes/episode | of which cameras | samples/s (1 process) "
        f"| samples/s ({w} workers) | samples/s ({w} workers, samples pickled back) "
        "| peak RSS above baseline (MiB) | wrong source frame % | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        wrong = 100.0 * r.wrong / max(1, r.checked - r.errors)
        cells = [
            r.reader,
            f"{r.bytes_per_episode / 1e6:.2f} MB",
            f"{r.camera_bytes_per_episode / 1e6:.2f} MB",
            fmt(r.one_process, 1),
            fmt(r.workers, 1),
            fmt(r.workers_sent, 1),
            fmt(r.rss_mib, 1),
            f"{wrong:.1f}",
            f"{r.errors} of {r.checked}",
        ]
        print("| " + " | ".join(cells) + " |")
    print(
        "\nMemory of each reader's fresh interpreter after its samples (file pages count in RSS: "
        "the episode files RMF maps, shared libraries):\n"
    )
    for r in rows:
        print(f"- {r.reader}: {mem_split(r.memory)}")
    print("\nSamples/s in one process, round by round (the spread shows the machine's noise):\n")
    for r in rows:
        print(f"- {r.reader}: {', '.join(f'{v:.0f}' for v in r.rounds)}")


def mem_split(m: dict) -> str:
    if "anon" not in m:
        return "no /proc breakdown"
    return (
        f"anonymous {m['anon'] / 1024:.1f} MiB + file-backed {m['file'] / 1024:.1f} MiB at the end"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def print_goals(rows: list[Row]) -> None:
    rmf_rows = [r for r in rows if r.kind == "rmf"]
    lerobot = [r for r in rows if r.kind == "lerobot"]
    modes = (("1 process", "one_process"), ("2 workers", "workers"))
    print(
        "\n## Goals of issue 4 against the reproduction of LeRobot's reader\n\n"
        "(The issue states its goals against the lerobot package; with --lerobot-python they are "
        "checked against it above. The reproduction skips the package's per-sample Python and "
        "torch work, so it is the harder yardstick.)\n"
    )
    for le in lerobot:
        ok = [r for r in rmf_rows if r.bytes_per_episode <= le.bytes_per_episode]
        if not ok:
            print(f"- no RMF copy has no more bytes/episode than {le.reader}")
            continue
        for label, attr in modes:
            best = max(ok, key=lambda r: getattr(r, attr))
            ratio = getattr(best, attr) / getattr(le, attr)
            print(
                f"- at no more bytes/episode than {le.reader} "
                f"({le.bytes_per_episode / 1e6:.2f} MB), at least {GOAL_VS_LEROBOT:.0f}x its "
                f"samples/s ({label}): best is {best.reader}, {ratio:.2f}x: "
                f"{verdict(ratio >= GOAL_VS_LEROBOT)}"
            )
    for fastest in fast_codecs(rows):
        want = GOAL_FASTEST_VS_MCAP_LANCE * MCAP_LANCE_JPEG_SAMPLES_S
        for label, attr in modes:
            v = getattr(fastest, attr)
            vs = "; ".join(
                f"{v / getattr(le, attr):.1f}x {le.reader} (goal {GOAL_FASTEST_VS_LEROBOT:.0f}x: "
                f"{verdict(v >= GOAL_FASTEST_VS_LEROBOT * getattr(le, attr))})"
                for le in lerobot
            )
            print(
                f"- fast frame codec ({fastest.reader}, {label}): {v:.0f} samples/s; goal at "
                f"least {want:.0f}/s (2x the ~{MCAP_LANCE_JPEG_SAMPLES_S:.0f}/s of the best "
                f"MCAP+JPEG / Lance+JPEG reader, measured elsewhere, not in this run): "
                f"{verdict(v >= want)}; {vs}"
            )
    for r in rows:
        print(
            f"- {r.reader}: right source frame in {r.checked - r.errors - r.wrong} of "
            f"{r.checked - r.errors} samples (wrong cam/front {r.wrong_front}, wrong cam/wrist "
            f"{r.wrong_wrist}; errors {r.errors}); peak RSS {fmt(r.rss_mib, 1)} MiB above "
            f"baseline (goal at most {GOAL_RSS_MIB:.0f}: {verdict(r.rss_mib <= GOAL_RSS_MIB)})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=15, help="per episode")
    parser.add_argument("--samples", type=int, default=400, help="random samples per measure")
    parser.add_argument("--rss-samples", type=int, default=300, help="samples read per RSS run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=8, help="samples per worker task")
    parser.add_argument("--rounds", type=int, default=5, help="turns the readers take")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--av1-presets",
        default=f"{LEROBOT_PRESET},8",
        help="SVT-AV1 presets of the LeRobot copies (12: lerobot's; 8: SVT-AV1's default)",
    )
    parser.add_argument("--quick", action="store_true", help="2 episodes of 4 s, 64 samples")
    parser.add_argument(
        "--lerobot-python",
        help="an interpreter with the lerobot package: also time lerobot itself (1 process)",
    )
    parser.add_argument(
        "--workdir",
        type=pathlib.Path,
        help="keep (and reuse) the data here; a workdir made with other data settings is refused "
        "(copies made by an older build of rmf are reused as they are)",
    )
    parser.add_argument("--target", default=ROOT / "target" / "release", type=pathlib.Path)
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    parser.add_argument("--rss-root", help=argparse.SUPPRESS)
    parser.add_argument("--rss-total", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child_main(args)
        return
    if args.quick:
        args.episodes, args.seconds, args.samples, args.rss_samples = 2, 4, 64, 32
    presets = [int(p) for p in args.av1_presets.split(",") if p]

    load = os.getloadavg()
    started = time.perf_counter()
    print_header(args, load)
    with contextlib.ExitStack() as stack:
        if args.workdir is None:
            work = pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory()))
        else:
            work = args.workdir
            work.mkdir(parents=True, exist_ok=True)
        check_workdir(args, work, presets)
        t0 = time.perf_counter()
        raw, dirs = make_rmf_copies(args, work)
        t_rmf = time.perf_counter() - t0
        truth = load_truth(dirs["h264"], raw)
        ctx = multiprocessing.get_context("fork")
        t0 = time.perf_counter()
        with ctx.Pool(2) as pool:
            lerobot = build_lerobot(truth, work / "lerobot", presets, pool)
        t_lerobot = time.perf_counter() - t0
        print(
            f"- SVT-AV1 {svt_version(lerobot['log'])} (libsvtav1 through PyAV), "
            f"AV1 decoder: {av1_decoder_name(lerobot['dirs'])}"
        )
        n = len(truth.files)
        print(
            f"- data: {n} episodes of {args.seconds} s (`rmf demo --seconds {args.seconds} "
            f"--seed K --codec raw`, then each copy encoded from those pixels), {truth.total} "
            f"samples (cam/front frames); made in {t_rmf:.0f} s (RMF "
            f"copies) and {t_lerobot:.0f} s (LeRobot copies, AV1 encode "
            f"{lerobot['encode_s']:.0f} s of CPU)"
        )
        print(
            f"- {args.samples} random samples per measure (numpy default_rng({args.seed}), the "
            f"same for every reader), after 4 warm-up samples, in {args.rounds} rounds where the "
            f"readers take turns; {args.workers} workers: fork pool, {args.chunk} samples per "
            f"task; peak RSS: {args.rss_samples} samples in a fresh interpreter"
        )

        rows = []
        for key, label, _ in RMF_COPIES:
            d = dirs[key]
            files = sorted(d.glob("*.rmf"))
            rows.append(
                Row(
                    label,
                    "rmf",
                    d,
                    dir_bytes(d, "*.rmf") / n + (d / "episodes.parquet").stat().st_size / n,
                    rmf_camera_bytes(files, args.target) / n,
                )
            )
        for preset, d in lerobot["dirs"].items():
            note = "lerobot's" if preset == LEROBOT_PRESET else "SVT-AV1 default"
            rows.append(
                Row(
                    f"LeRobot v3 AV1 crf 30 g 2, preset {preset} ({note})",
                    "lerobot",
                    d,
                    dir_bytes(d) / n,
                    dir_bytes(d / "videos") / n,
                )
            )

        rng = np.random.default_rng(args.seed)
        picks = rng.integers(0, truth.total, size=args.samples)
        warm = np.random.default_rng(args.seed + 1).integers(0, truth.total, size=4)
        args.rss_total = truth.total
        base = child_rss(args, "baseline", None)
        print("  measuring samples/s", file=sys.stderr, flush=True)
        package_root = lerobot["dirs"][LEROBOT_PRESET]
        package_runs = []
        if args.lerobot_python:
            print("  measuring the lerobot package (before)", file=sys.stderr, flush=True)
            package_runs.append(run_lerobot_package(args, package_root, picks, warm))
        measure(rows, truth, picks, warm, args)
        if args.lerobot_python:
            print("  measuring the lerobot package (after)", file=sys.stderr, flush=True)
            package_runs.append(run_lerobot_package(args, package_root, picks, warm))
        for r in rows:
            print(f"  measuring the peak RSS of {r.reader}", file=sys.stderr, flush=True)
            r.memory = child_rss(args, r.kind, r.root)
            r.rss_mib = (r.memory["peak"] - base["peak"]) / 1024
        print(
            f"- baseline interpreter (numpy + pyarrow imported): {base['peak'] / 1024:.1f} MiB "
            f"peak RSS ({mem_split(base)})"
        )
        print_table(rows, args)
        if args.lerobot_python:
            print_lerobot_package(args, rows, package_root, package_runs)
        print(
            "\nMB = 10^6 bytes. bytes/episode: RMF: the .rmf files (every stream: also 16 kHz "
            "audio, events, 1 kHz force) plus episodes.parquet, per episode; LeRobot: every file "
            "of the dataset (data, meta, videos) per episode. Wrong source frame %: of the samples "
            "that returned, checked in the 1-process run; errors: samples that raised "
            "(FrameTimestampError). Load average at the end: "
            + " / ".join(f"{x:.2f}" for x in os.getloadavg())
            + "."
        )
        print_goals(rows)
    print(f"\nTotal run time {time.perf_counter() - started:.0f} s.")


def fast_codecs(rows: list[Row]) -> list[Row]:
    """The RMF copy read fastest in one process, and the JPEG copy (the fastest compressed
    codec) if that is another."""
    mine = [r for r in rows if r.kind == "rmf"]
    if not mine:
        return []
    fastest = max(mine, key=lambda r: r.one_process)
    jpeg = [r for r in mine if r.reader.startswith("RMF jpeg") and r is not fastest]
    return [fastest, *jpeg]


def print_package_goals(rows: list[Row], lerobot_bytes: float, rate: float) -> None:
    """Issue 4's goals against the lerobot package's rate with its default backend."""
    mine = [r for r in rows if r.kind == "rmf"]
    small = [r for r in mine if r.bytes_per_episode <= lerobot_bytes]
    if small:
        best = max(small, key=lambda r: r.one_process)
        ratio = best.one_process / rate
        print(
            f"- at no more bytes/episode than this LeRobot copy ({lerobot_bytes / 1e6:.2f} MB), "
            f"at least {GOAL_VS_LEROBOT:.0f}x the package's samples/s: best is {best.reader}, "
            f"{ratio:.1f}x: {verdict(ratio >= GOAL_VS_LEROBOT)}"
        )
    for fastest in fast_codecs(rows):
        ratio = fastest.one_process / rate
        print(
            f"- fast frame codec {fastest.reader} ({fastest.bytes_per_episode / 1e6:.0f} MB/"
            f"episode): {ratio:.1f}x the package (goal for the fastest frame codec "
            f"{GOAL_FASTEST_VS_LEROBOT:.0f}x: {verdict(ratio >= GOAL_FASTEST_VS_LEROBOT)})"
        )


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


def print_lerobot_package(args, rows: list[Row], root: pathlib.Path, runs: list) -> None:
    """The lerobot package itself (``--lerobot-python``), run once before and once after the
    RMF readers' rounds; its rate is the mean of the two, against each RMF reader's 1-process
    rate of this run."""
    failed = [r for r in runs if isinstance(r, str)]
    if failed:
        print(f"\n- the lerobot package did not run: {failed[0]}")
        return
    print(
        f"\n## The lerobot package itself (lerobot {runs[0]['version']}, 1 process, same "
        "samples, torch on one thread; run before and after the rounds above)\n"
    )
    print("| lerobot video backend | samples/s (before / after) | errors | " + " | ".join(
        f"{r.reader} / lerobot" for r in rows if r.kind == "rmf") + " |")  # fmt: skip
    print("|---|---:|---:|" + "---:|" * sum(r.kind == "rmf" for r in rows))
    blanks = " |" * sum(r.kind == "rmf" for r in rows)
    means = {}
    for backend in runs[0]["backends"]:
        got = [run["backends"].get(backend, {}) for run in runs]
        if any("error" in b or b.get("samples_per_s") is None for b in got):
            why = next((b.get("error") or f"{b['errors']} samples raised") for b in got)
            print(f"| {backend} | did not run: {why.replace('|', '/')} | |{blanks}")
            continue
        rates = [b["samples_per_s"] for b in got]
        means[backend] = sum(rates) / len(rates)
        ratios = " | ".join(
            f"{r.one_process / means[backend]:.1f}x" for r in rows if r.kind == "rmf"
        )
        spread = " / ".join(f"{x:.1f}" for x in rates)
        errors = sum(b["errors"] for b in got)
        print(f"| {backend} | {means[backend]:.1f} ({spread}) | {errors} | {ratios} |")
    if "torchcodec" in means:
        lerobot_bytes = next(r.bytes_per_episode for r in rows if r.root == root)
        print("\nGoals of issue 4 against the package (torchcodec, its default backend):\n")
        print_package_goals(rows, lerobot_bytes, means["torchcodec"])


def av1_decoder_name(dirs: dict) -> str:
    import av

    d = next(iter(dirs.values()))
    path = next((d / "videos").glob("*/chunk-000/file-000.mp4"))
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        for _ in c.decode(s):
            break
        return s.codec_context.name


if __name__ == "__main__":
    main()
