"""``bench_dataset.py``'s sample and its readers: what one training sample is, and the
readers that serve it (``rmf.Dataset``, and LeRobot v3's reader reproduced with pyarrow and
PyAV)."""

from __future__ import annotations

import json
import os
import pathlib

import numpy as np
import pyarrow as pa

FPS = 30
CAMERAS = {"cam/front": "observation.images.front", "cam/wrist": "observation.images.wrist"}
ACTION_STEPS = list(range(0, 16))
FORCE_STEPS = list(range(-99, 1))
TOLERANCE_S = 1e-4  # LeRobotDataset's default tolerance_s


def rmf_streams():
    import rmf

    return {
        "cam/front": rmf.asof(),
        "cam/wrist": rmf.nearest(),
        "action": rmf.window(steps=ACTION_STEPS),
        "ft/wrist": rmf.window(steps=FORCE_STEPS),
        "joints": rmf.asof(pad=True),
    }


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
