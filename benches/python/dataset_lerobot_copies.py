"""``bench_dataset.py``'s LeRobot v3 copies: the episodes' frames encoded to AV1 as lerobot
does, concatenated per camera, and the data and meta files of LeRobot's layout."""

from __future__ import annotations

import json
import pathlib
import time

import numpy as np
import pyarrow as pa

# Sibling benchmarks and modules (this folder is on sys.path when the script runs).
from bench_media import captured_fd2
from dataset_readers import CAMERAS, FPS
from dataset_rmf_copies import Truth

TASK = "pick up the red cube and place it in the bin"

# lerobot.datasets.video_utils.encode_video_frames (lerobot 0.4.x): crf 30, g 2, yuv420p, and
# preset 12 when the caller gives none.
AV1_CODEC = "libsvtav1"
AV1_PIX_FMT = "yuv420p"
LEROBOT_PRESET = 12


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
