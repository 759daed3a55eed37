"""Importers and exporters: LeRobot (v2.0, v2.1, v3.0) and HDF5 (robomimic, ALOHA) datasets to
RMF episodes, and RMF datasets to LeRobot v3.0.

    report = rmf.convert.from_lerobot("lerobot/pusht", "data/pusht")      # one .rmf per episode
    report = rmf.convert.from_hdf5("demo.hdf5", "data/lift", rate_hz=20)  # robomimic or ALOHA
    report = rmf.convert.to_lerobot("data/pusht", "out/pusht", fps=10)    # resampled to 10 fps
    print(report)              # what went where, what was skipped and why

    python -m rmf.convert lerobot SRC DST [--codec h264] [--json]
    python -m rmf.convert hdf5 SRC DST [--rate 50] [--layout auto|robomimic|aloha]
    python -m rmf.convert to-lerobot SRC DST --fps 30 [--reference cam/front]

Imports keep the source's real timestamps: LeRobot's ``timestamp`` column (seconds from the
episode start) becomes each sample's time in ns on the episode clock, for every stream. HDF5
files without timestamps get ``k / rate_hz``. Videos are decoded with PyAV and re-encoded with an
RMF frame codec (H.264 by default): RMF has no AV1 codec, so nothing passes through as it is.
Each import ends by building the destination's index (``episodes.parquet``).

The export samples every episode on a fixed timeline (``fps``) or a stream's own timestamps with
``rmf.Dataset`` (float signals interpolated, the rest as of each row), writes the Parquet and
MP4 files of LeRobot v3.0, and ``meta/rmf.json``: stream names, shapes, units, episode start
times and metadata, so that importing the export gives back the RMF streams (resampled).

Needs PyAV (``av``) for video and ``h5py`` for HDF5; both are imported only when used.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import _rmf
from .dataset import Dataset, asof, linear, nearest
from .dataset import events as events_spec
from .dataset import index as build_index

__all__ = [
    "ConversionReport",
    "EpisodeReport",
    "Mapped",
    "Mp4Report",
    "Skipped",
    "from_hdf5",
    "from_lerobot",
    "main",
    "to_lerobot",
    "to_mp4",
]

#: LeRobot columns that describe rows rather than hold data.
LEROBOT_BOOKKEEPING = ("timestamp", "frame_index", "episode_index", "index", "task_index")
#: Name of the event stream an import writes (task, takeover and done events).
EVENTS_STREAM = "events"
#: The file an export writes beside LeRobot's metadata, read back by ``from_lerobot``.
RMF_META = "meta/rmf.json"
# Sensitivity labels, least to most sensitive.
LABELS = ("public", "internal", "private")

_TAKEOVER = re.compile(r"(is_)?(human_)?interventions?|intervened")
_DONE = re.compile(r"(is_)?(done|dones|terminal|terminals)")
_TIMESTAMPS = ("timestamp", "timestamps", "time", "times")
# ALOHA's joint order (act-plus-plus constants: 6 arm joints and a gripper, left then right).
_ALOHA_JOINTS = ["waist", "shoulder", "elbow", "forearm_roll", "wrist_angle", "wrist_rotate"]
ALOHA_NAMES = [f"{side}_{j}" for side in ("left", "right") for j in [*_ALOHA_JOINTS, "gripper"]]


# ----------------------------------------------------------------------------- report


@dataclasses.dataclass
class Mapped:
    """One source item and where it went."""

    source: str  # column, video key or HDF5 dataset path
    target: str  # RMF stream (import) or LeRobot feature (export); "metadata" for metadata
    kind: str  # signal, frames, events or metadata
    detail: str = ""


@dataclasses.dataclass
class Skipped:
    """One source item that was not converted, and why."""

    source: str
    reason: str


@dataclasses.dataclass
class EpisodeReport:
    """What one episode became."""

    source: str  # e.g. "episode 3", "demo.hdf5:data/demo_0", "ep0.rmf"
    target: str  # the .rmf file written (relative to the destination), or "episode 3"
    rows: int = 0  # samples of the episode's clock (LeRobot rows, HDF5 steps)
    duration_s: float = 0.0
    mapped: list[Mapped] = dataclasses.field(default_factory=list)
    skipped: list[Skipped] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ConversionReport:
    """The result of a conversion: per episode what was mapped to which stream and what was
    skipped and why, plus notes that hold for the whole conversion. ``str(report)`` is a short
    summary, ``report.to_dict()`` everything (JSON-serialisable)."""

    command: str  # "lerobot", "hdf5" or "to-lerobot"
    source: str
    destination: str
    format: str  # e.g. "LeRobot v3.0", "robomimic", "ALOHA"
    episodes: list[EpisodeReport] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    index: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def summary(self) -> str:
        """One line."""
        rows = sum(e.rows for e in self.episodes)
        streams = {m.target for e in self.episodes for m in e.mapped if m.kind != "metadata"}
        skipped = {s.source for e in self.episodes for s in e.skipped}
        warnings = sum(len(e.warnings) for e in self.episodes)
        if self.command == "to-lerobot":
            what = f"RMF -> {self.format}"
            kinds = "features"
        else:
            what = f"{self.format} -> RMF"
            kinds = "streams"
        line = (
            f"{what}: {len(self.episodes)} episodes, {rows} rows, {len(streams)} {kinds}, "
            f"{len(skipped)} sources skipped"
        )
        if warnings:
            line += f", {warnings} warnings"
        return f"{line} ({self.source} -> {self.destination})"

    def __str__(self) -> str:
        lines = [self.summary()]
        n = len(self.episodes)
        seen: dict[tuple[str, str, str, str], int] = {}
        for e in self.episodes:
            for m in e.mapped:
                key = (m.source, m.target, m.kind, m.detail)
                seen[key] = seen.get(key, 0) + 1
        for (source, target, kind, detail), count in seen.items():
            where = "" if count == n else f" [{count} of {n} episodes]"
            lines.append(f"  {source} -> {target}: {kind} {detail}".rstrip() + where)
        skipped: dict[tuple[str, str], int] = {}
        for e in self.episodes:
            for s in e.skipped:
                skipped[(s.source, s.reason)] = skipped.get((s.source, s.reason), 0) + 1
        for (source, reason), count in skipped.items():
            where = "" if count == n else f" [{count} of {n} episodes]"
            lines.append(f"  skipped {source}: {reason}{where}")
        for e in self.episodes:
            for w in e.warnings:
                lines.append(f"  warning ({e.source}): {w}")
        lines.extend(f"  note: {note}" for note in self.notes)
        if self.index is not None:
            lines.append(f"  index: {self.index.get('episodes')} episodes in episodes.parquet")
        return "\n".join(lines)


# ----------------------------------------------------------------------------- helpers


def _require(module: str, why: str):
    try:
        return __import__(module)
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(f"{why} needs the {module!r} package: pip install {module}") from e


def _av():
    return _require("av", "reading and writing video")


def _h5py():
    return _require("h5py", "reading HDF5")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON: {e}") from e


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found (a LeRobot v2 dataset has it)")
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not valid JSON: {e}") from e
    return out


def _seconds_to_ns(seconds: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(seconds, np.float64) * 1e9).astype(np.int64)


def _signal_dtype(dtype: np.dtype) -> tuple[np.dtype, str]:
    """The RMF dtype for a numpy dtype, and a note when it had to change."""
    if dtype == np.bool_:
        return np.dtype(np.uint8), "bool stored as uint8 0/1"
    if dtype == np.float16:
        return np.dtype(np.float32), "float16 stored as float32"
    if dtype.kind in "iuf":
        return dtype, ""
    raise TypeError(f"dtype {dtype} is not numeric")


def _axis_names(names: Any, count: int) -> list[str] | None:
    """LeRobot ``names`` of a feature as one name per element, when they are that."""
    if isinstance(names, dict) and len(names) == 1:
        names = next(iter(names.values()))
    if (
        isinstance(names, list)
        and len(names) == count
        and all(isinstance(x, str) for x in names)
        and len(set(names)) == count
    ):
        return list(names)
    return None


def _flag_kind(name: str) -> str | None:
    """ "takeover" or "done" for columns that are flags of those, by name."""
    base = name.split(".")[-1].split("/")[-1].lower()
    if _TAKEOVER.fullmatch(base):
        return "takeover"
    if _DONE.fullmatch(base):
        return "done"
    return None


def _flag_events(
    kind: str, source: str, t_ns: np.ndarray, flag: np.ndarray
) -> list[tuple[int, str, str]]:
    """Events at the transitions of a flag: takeover_start / takeover_end, or done on each rise."""
    on = np.asarray(flag).reshape(len(flag), -1).any(axis=1)
    before = np.concatenate([[False], on[:-1]])
    out = []
    for i in np.flatnonzero(on != before):
        if kind == "takeover":
            out.append((int(t_ns[i]), "takeover_start" if on[i] else "takeover_end", source))
        elif on[i]:
            out.append((int(t_ns[i]), "done", source))
    return out


def _shape_text(dtype: str, shape: Sequence[int]) -> str:
    return f"{dtype}[{','.join(str(x) for x in shape)}]" if len(shape) else f"{dtype} scalar"


def _tmp_path(final: Path) -> Path:
    return final.with_name(f".{final.name}.partial")


def _publish(tmp: Path, final: Path) -> None:
    """Moves the complete file ``tmp`` (synced) to ``final`` and syncs the directory, so that the
    rename survives a power cut."""
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)
    try:
        fd = os.open(Path(final).parent, os.O_RDONLY)
    except OSError:  # platforms that cannot open a directory
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _EpisodeOut:
    """One .rmf file written beside its name and renamed into place when complete."""

    def __init__(self, final: Path, metadata: dict[str, Any], overwrite: bool):
        if final.exists() and not overwrite:
            raise FileExistsError(f"{final}: exists (pass overwrite=True / --overwrite)")
        final.parent.mkdir(parents=True, exist_ok=True)
        self.final = final
        self.tmp = _tmp_path(final)
        self.writer = _rmf.EpisodeWriter(self.tmp, metadata=metadata, overwrite=True)

    def __enter__(self) -> _rmf.EpisodeWriter:
        return self.writer

    def __exit__(self, kind, value, tb) -> bool:
        try:
            self.writer.close()
        except Exception:
            if kind is None:
                self.tmp.unlink(missing_ok=True)
                raise
        if kind is None:
            _publish(self.tmp, self.final)
        else:
            self.tmp.unlink(missing_ok=True)
        return False


def _frame_codec(codec: str, width: int, height: int, pixel_format: str) -> tuple[str, str]:
    """The codec to use for a frame stream, and a note when it is not the one asked for."""
    if codec == "h264" and (width % 2 or height % 2 or width < 16 or height < 16):
        return "png", f"{width}x{height} is not even or too small for h264: png (lossless)"
    if codec in ("h264", "jpeg") and pixel_format not in ("rgb8", "gray8"):
        return "png", f"{pixel_format} has no {codec}: png (lossless)"
    return codec, ""


def _codec_options(codec: str, qp, gop, quality) -> dict[str, Any]:
    opts: dict[str, Any] = {"codec": codec}
    if codec == "h264":
        opts.update(qp=qp, gop=gop)
    elif codec == "jpeg":
        opts.update(quality=quality)
    return opts


# ----------------------------------------------------------------------------- video reading


def _video_size(path: Path) -> tuple[int, int, str]:
    av = _av()
    with av.open(str(path)) as c:
        if not c.streams.video:
            raise ValueError(f"{path}: no video stream")
        cc = c.streams.video[0].codec_context
        return cc.width, cc.height, getattr(cc.codec, "canonical_name", cc.name)


def _frames_near(path: Path, targets_s: np.ndarray, fmt: str) -> Iterator[tuple[np.ndarray, float]]:
    """For each target time (seconds on the video's own timeline, ascending), the decoded frame
    nearest to it (the earlier on a tie) and that frame's time. Decodes forward once, from the
    keyframe before the first target."""
    av = _av()
    n = len(targets_s)
    if n == 0:
        return
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        if targets_s[0] > 1.0:
            c.seek(int((targets_s[0] - 1.0) / s.time_base), stream=s, backward=True)
        prev: tuple[float, Any] | None = None
        i = 0
        for frame in c.decode(s):
            if frame.pts is None:
                continue
            t = float(frame.pts * s.time_base)
            while i < n and t >= targets_s[i]:
                target = targets_s[i]
                use_prev = prev is not None and target - prev[0] <= t - target
                ft, f = prev if use_prev else (t, frame)
                yield np.ascontiguousarray(f.to_ndarray(format=fmt)), ft
                i += 1
            if i == n:
                return
            prev = (t, frame)
        if prev is None:
            raise ValueError(f"{path}: no frame decoded at or after {targets_s[0]:.6f} s")
        while i < n:  # targets after the last frame: the last frame
            yield np.ascontiguousarray(prev[1].to_ndarray(format=fmt)), prev[0]
            i += 1


def _decode_image(data: bytes, fmt: str) -> np.ndarray:
    """One PNG or JPEG image (as LeRobot's ``image`` features and ALOHA's compressed frames
    store them), decoded with PyAV."""
    av = _av()
    with av.open(io.BytesIO(data)) as c:
        for frame in c.decode(video=0):
            return np.ascontiguousarray(frame.to_ndarray(format=fmt))
    raise ValueError("no image in the bytes")


# ----------------------------------------------------------------------------- LeRobot import


@dataclasses.dataclass
class _LeRobotEpisode:
    index: int
    tasks: list[str]
    data_file: Path
    videos: dict[str, tuple[Path, float]]  # key -> (mp4 file, start of the episode in it)


class _LeRobotSource:
    """The layout of a LeRobot dataset directory (v2.0, v2.1 or v3.0)."""

    def __init__(self, root: Path):
        self.root = root
        info_path = root / "meta" / "info.json"
        if not info_path.is_file():
            raise FileNotFoundError(
                f"{info_path}: not found; a LeRobot dataset directory has meta/info.json "
                f"(is {root} the dataset root?)"
            )
        self.info = _read_json(info_path)
        if not isinstance(self.info, dict) or not isinstance(self.info.get("features"), dict):
            raise ValueError(f"{info_path}: has no 'features' object")
        self.version = str(self.info.get("codebase_version", ""))
        if self.version.startswith("v3."):
            self.v3 = True
        elif self.version in ("v2.0", "v2.1"):
            self.v3 = False
        else:
            raise ValueError(
                f"{info_path}: codebase_version {self.version!r} is not supported "
                "(v2.0, v2.1 and v3.0 are)"
            )
        self.fps = float(self.info.get("fps") or 0) or None
        self.features: dict[str, dict[str, Any]] = self.info["features"]
        self.video_keys = [k for k, f in self.features.items() if f.get("dtype") == "video"]
        rmf_meta = root / RMF_META
        self.rmf: dict[str, Any] = _read_json(rmf_meta) if rmf_meta.is_file() else {}
        try:
            self.tasks = self._tasks()
            self.episodes = self._episodes_v3() if self.v3 else self._episodes_v2()
        except KeyError as e:
            raise ValueError(f"{root / 'meta'}: a task or episode entry lacks {e}") from e
        except IndexError as e:  # a data_path / video_path with a field we do not fill
            raise ValueError(f"{info_path}: unexpected data_path or video_path: {e}") from e

    def _tasks(self) -> dict[int, str]:
        meta = self.root / "meta"
        if self.v3:
            path = meta / "tasks.parquet"
            if not path.is_file():
                raise FileNotFoundError(f"{path}: not found (a LeRobot v3 dataset has it)")
            t = pq.read_table(path)
            # lerobot writes a pandas frame indexed by the task string: the index is a column
            # named "task" or "__index_level_0__".
            text = next(
                (c for c in ("task", "__index_level_0__") if c in t.column_names),
                next((f.name for f in t.schema if pa.types.is_string(f.type)), None),
            )
            if "task_index" not in t.column_names or text is None:
                raise ValueError(f"{path}: expected columns task_index and task")
            return dict(zip(t["task_index"].to_pylist(), t[text].to_pylist()))
        rows = _read_jsonl(meta / "tasks.jsonl")
        return {int(r["task_index"]): str(r["task"]) for r in rows}

    def _episodes_v3(self) -> list[_LeRobotEpisode]:
        files = sorted((self.root / "meta" / "episodes").glob("chunk-*/file-*.parquet"))
        if not files:
            raise FileNotFoundError(
                f"{self.root / 'meta' / 'episodes'}: no chunk-*/file-*.parquet "
                "(a LeRobot v3 dataset lists its episodes there)"
            )
        data_path = self.info.get("data_path") or (
            "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
        )
        video_path = self.info.get("video_path")
        out = []
        for f in files:
            t = pq.read_table(f)
            cols = [
                c
                for c in t.column_names
                if c in ("episode_index", "tasks", "data/chunk_index", "data/file_index")
                or (c.startswith("videos/") and not c.startswith("videos/stats"))
            ]
            for row in t.select(cols).to_pylist():
                e = int(row["episode_index"])
                data = self.root / data_path.format(
                    chunk_index=row.get("data/chunk_index", 0),
                    file_index=row.get("data/file_index", 0),
                )
                videos = {}
                for key in self.video_keys:
                    if video_path and f"videos/{key}/from_timestamp" in row:
                        path = self.root / video_path.format(
                            video_key=key,
                            chunk_index=row.get(f"videos/{key}/chunk_index", 0),
                            file_index=row.get(f"videos/{key}/file_index", 0),
                        )
                        videos[key] = (path, float(row[f"videos/{key}/from_timestamp"]))
                out.append(_LeRobotEpisode(e, list(row.get("tasks") or []), data, videos))
        return sorted(out, key=lambda x: x.index)

    def _episodes_v2(self) -> list[_LeRobotEpisode]:
        rows = _read_jsonl(self.root / "meta" / "episodes.jsonl")
        chunks = int(self.info.get("chunks_size") or 1000)
        data_path = self.info.get("data_path") or (
            "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet"
        )
        video_path = self.info.get("video_path")
        out = []
        for row in rows:
            e = int(row["episode_index"])
            data = self.root / data_path.format(episode_chunk=e // chunks, episode_index=e)
            videos = {}
            for key in self.video_keys:
                if video_path:
                    path = self.root / video_path.format(
                        episode_chunk=e // chunks, video_key=key, episode_index=e
                    )
                    videos[key] = (path, 0.0)
            out.append(_LeRobotEpisode(e, list(row.get("tasks") or []), data, videos))
        return sorted(out, key=lambda x: x.index)


class _TableCache:
    """The last Parquet data file read (v3 files hold many episodes, in order)."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.table: pa.Table | None = None

    def rows(self, path: Path, episode: int, v3: bool) -> pa.Table:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not found (data of episode {episode})")
        if self.path != path:
            self.table = pq.read_table(path)
            self.path = path
        t = self.table
        if v3 or "episode_index" in t.column_names:
            if "episode_index" not in t.column_names:
                raise ValueError(f"{path}: no episode_index column")
            t = t.filter(pc.equal(t["episode_index"], episode))
        return t


def _column_values(col: pa.ChunkedArray | pa.Array, rows: int) -> np.ndarray:
    """A numeric column (scalars or nested fixed/variable lists) as an array of ``rows`` rows."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if arr.null_count:
        raise ValueError(f"{arr.null_count} null values")
    while (
        pa.types.is_list(arr.type)
        or pa.types.is_fixed_size_list(arr.type)
        or (pa.types.is_large_list(arr.type))
    ):
        arr = arr.flatten()
        if arr.null_count:
            raise ValueError(f"{arr.null_count} null values")
    if not (
        pa.types.is_integer(arr.type)
        or pa.types.is_floating(arr.type)
        or pa.types.is_boolean(arr.type)
    ):
        raise TypeError(f"type {col.type} is not numeric")
    values = arr.to_numpy(zero_copy_only=False)
    if rows == 0 or values.size % rows:
        raise ValueError(f"{values.size} values do not split into {rows} rows")
    return values.reshape(rows, -1)


def from_lerobot(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    codec: str = "h264",
    qp: int | None = None,
    gop: int | None = None,
    quality: int | None = None,
    episodes: Iterable[int] | None = None,
    overwrite: bool = False,
    index: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ConversionReport:
    """Imports the LeRobot dataset directory ``src`` (v2.0, v2.1 or v3.0) into ``dst``, one
    ``.rmf`` file per episode (``episode_000000.rmf``, ...), then builds ``dst``'s index.

    - every stream is timed by the ``timestamp`` column (seconds -> int64 ns on the episode
      clock; rows are put in time order if they are not);
    - numeric features (``observation.state``, ``action``, ...) become signal streams of the
      same name, shape and dtype (bool as uint8), with the feature's ``names`` as axis names;
    - video features become frame streams: decoded with PyAV at each row's time (the frame
      nearest to ``from_timestamp + timestamp``) and re-encoded with ``codec`` (h264, jpeg,
      png or raw; ``qp``/``gop`` for h264, ``quality`` for jpeg); ``image`` features likewise;
    - the episode's task becomes the ``task`` metadata and a ``task`` event at its first row
      (and at every row where the task changes) in the ``events`` stream;
    - flag columns named like ``intervention`` / ``is_intervention`` give ``takeover_start`` /
      ``takeover_end`` events at their transitions, ``done`` / ``next.done`` a ``done`` event
      where they turn true (these columns are not kept as signals);
    - ``frame_index``, ``index``, ``episode_index``, ``task_index`` and string features are
      skipped (listed in the report).

    A ``meta/rmf.json`` written by ``to_lerobot`` restores stream names, shapes, units,
    metadata and episode start times. ``episodes``: LeRobot episode indices to import (default
    all). Existing files are an error unless ``overwrite``. ``progress(done, total)`` is called
    after each episode. Returns a ``ConversionReport``.
    """
    src, dst = Path(src), Path(dst)
    source = _LeRobotSource(src)
    av_needed = bool(source.video_keys) or any(
        f.get("dtype") == "image" for f in source.features.values()
    )
    if av_needed:
        _av()
    report = ConversionReport("lerobot", str(src), str(dst), f"LeRobot {source.version}", notes=[])
    if source.video_keys:
        report.notes.append(
            f"videos are decoded with PyAV and re-encoded as {codec}: RMF's frame codecs have "
            "no AV1 (LeRobot's default), so there is no pass-through; H.264 is re-encoded too "
            "(RMF starts a group of pictures at every chunk)"
        )
    if source.rmf:
        report.notes.append(f"{RMF_META} found: stream names, shapes and metadata restored")
    wanted = None if episodes is None else {int(e) for e in episodes}
    todo = [e for e in source.episodes if wanted is None or e.index in wanted]
    if wanted is not None and len(todo) != len(wanted):
        missing = sorted(wanted - {e.index for e in todo})
        raise ValueError(f"{src}: no episodes {missing}")
    rmf_episodes = {int(e["episode_index"]): e for e in source.rmf.get("episodes", [])}
    cache = _TableCache()
    dst.mkdir(parents=True, exist_ok=True)
    for done, ep in enumerate(todo, 1):
        extra = rmf_episodes.get(ep.index, {})
        name = extra.get("file") or f"episode_{ep.index:06d}.rmf"
        if Path(name).is_absolute() or ".." in Path(name).parts or not name.endswith(".rmf"):
            name = f"episode_{ep.index:06d}.rmf"
        rows = cache.rows(ep.data_file, ep.index, source.v3)
        er = EpisodeReport(f"episode {ep.index}", name)
        try:
            _import_lerobot_episode(
                source, ep, rows, dst / name, er, extra, codec, qp, gop, quality, overwrite
            )
        except (ValueError, TypeError, FileNotFoundError, FileExistsError) as e:
            if type(e) not in (ValueError, TypeError, FileNotFoundError, FileExistsError):
                raise
            raise type(e)(f"{src}: episode {ep.index}: {e}") from e
        report.episodes.append(er)
        if progress:
            progress(done, len(todo))
    if index:
        report.index = build_index(dst)
    return report


def _import_lerobot_episode(
    source: _LeRobotSource,
    ep: _LeRobotEpisode,
    table: pa.Table,
    out: Path,
    er: EpisodeReport,
    extra: Mapping[str, Any],
    codec: str,
    qp: int | None,
    gop: int | None,
    quality: int | None,
    overwrite: bool,
) -> None:
    n = table.num_rows
    if n == 0:
        raise ValueError(f"{ep.data_file}: no rows")
    if "timestamp" in table.column_names:
        ts = _column_values(table["timestamp"], n)[:, 0].astype(np.float64)
        er.mapped.append(Mapped("timestamp", "(clock)", "metadata", "time of every sample"))
    elif "frame_index" in table.column_names and source.fps:
        ts = _column_values(table["frame_index"], n)[:, 0] / source.fps
        er.warnings.append("no timestamp column: times are frame_index / fps")
    else:
        raise ValueError(f"{ep.data_file}: no timestamp column")
    if np.any(np.diff(ts) < 0):
        order = np.argsort(ts, kind="stable")
        table, ts = table.take(pa.array(order)), ts[order]
        er.warnings.append("rows were not in time order: sorted by timestamp")
    t_ns = _seconds_to_ns(ts) + int(extra.get("start_ns", 0))
    er.rows = n
    er.duration_s = float(ts[-1] - ts[0])
    rmf_streams = source.rmf.get("streams", {})
    events_name = source.rmf.get("events_stream") or EVENTS_STREAM

    # Tasks: from the rows' task_index where there is one, else the episode's list.
    row_tasks: list[str] | None = None
    if "task_index" in table.column_names:
        idx = _column_values(table["task_index"], n)[:, 0].astype(np.int64)
        unknown = sorted({int(i) for i in idx} - set(source.tasks))
        if unknown:
            er.warnings.append(f"task_index {unknown} not in the tasks table")
        row_tasks = [source.tasks.get(int(i), "") for i in idx]
    tasks = [t for t in dict.fromkeys(row_tasks or ep.tasks) if t]
    metadata: dict[str, Any] = {
        "source": "lerobot",
        "lerobot_version": source.version,
        "lerobot_episode_index": ep.index,
    }
    if source.info.get("robot_type"):
        metadata["robot"] = source.info["robot_type"]
    if tasks:
        metadata["task"] = tasks[0]
    if len(tasks) > 1:
        metadata["tasks"] = tasks
    for k, v in (extra.get("metadata") or {}).items():
        metadata[k] = v
    if tasks:
        er.mapped.append(Mapped("tasks", "metadata", "metadata", "task"))

    events: list[tuple[int, str, str]] = []
    if row_tasks is not None:
        prev = None
        for i, task in enumerate(row_tasks):
            if task != prev and task:
                events.append((int(t_ns[i]), "task", task))
            prev = task
    elif tasks:
        events.append((int(t_ns[0]), "task", tasks[0]))
    if tasks:
        er.mapped.append(Mapped("tasks", events_name, "events", "task"))

    signals: list[tuple[str, np.ndarray, dict[str, Any]]] = []
    frames: list[tuple[str, str, dict[str, Any], Any]] = []  # key, stream, add_frames, source
    for key, feat in source.features.items():
        dtype = str(feat.get("dtype", ""))
        mapping = rmf_streams.get(key, {})
        stream = mapping.get("stream", key)
        if key in LEROBOT_BOOKKEEPING:
            if key not in ("timestamp", "task_index"):
                er.skipped.append(Skipped(key, "LeRobot bookkeeping (row numbers)"))
            continue
        if dtype == "video":
            if key not in ep.videos:
                er.skipped.append(Skipped(key, "no video_path / from_timestamp for it"))
                continue
            path, start = ep.videos[key]
            if not path.is_file():
                raise FileNotFoundError(f"{path}: not found (video {key!r})")
            w, h, src_codec = _video_size(path)
            fmt = "gray" if mapping.get("pixel_format") == "gray8" else "rgb24"
            pix = "gray8" if fmt == "gray" else "rgb8"
            use, why = _frame_codec(codec, w, h, pix)
            detail = f"{w}x{h} {pix} {use} (from {src_codec}, decoded and re-encoded)"
            if why:
                er.warnings.append(f"{key}: {why}")
            spec = dict(width=w, height=h, pixel_format=pix, rate_hz=source.fps)
            spec.update(_codec_options(use, qp, gop, quality))
            if mapping.get("sensitivity"):
                spec["sensitivity"] = mapping["sensitivity"]
            frames.append((key, stream, spec, ("video", path, ts + start, fmt)))
            er.mapped.append(Mapped(key, stream, "frames", detail))
            continue
        if key not in table.column_names:
            er.skipped.append(Skipped(key, "in info.json features but not in the data file"))
            continue
        if dtype == "image":
            col = table[key].combine_chunks()
            if not pa.types.is_struct(col.type) or col.type.get_field_index("bytes") < 0:
                er.skipped.append(Skipped(key, f"image column of type {col.type}"))
                continue
            blobs = col.field("bytes").to_pylist()
            if any(b is None for b in blobs):
                er.skipped.append(Skipped(key, "image column without bytes (paths only)"))
                continue
            first = _decode_image(blobs[0], "rgb24")
            h, w = first.shape[:2]
            use, why = _frame_codec(codec, w, h, "rgb8")
            if why:
                er.warnings.append(f"{key}: {why}")
            spec = dict(width=w, height=h, pixel_format="rgb8", rate_hz=source.fps)
            spec.update(_codec_options(use, qp, gop, quality))
            frames.append((key, stream, spec, ("images", blobs, None, "rgb24")))
            er.mapped.append(Mapped(key, stream, "frames", f"{w}x{h} rgb8 {use} (from images)"))
            continue
        try:
            values = _column_values(table[key], n)
        except (TypeError, ValueError) as e:
            er.skipped.append(Skipped(key, f"not a numeric column: {e}"))
            continue
        flag = _flag_kind(key)
        if flag is not None:
            found = _flag_events(flag, key, t_ns, values)
            events.extend(found)
            kinds = "takeover_start/takeover_end" if flag == "takeover" else "done"
            er.mapped.append(Mapped(key, events_name, "events", f"{kinds} ({len(found)})"))
            continue
        dt, why = _signal_dtype(values.dtype)
        count = values.shape[1]
        shape = tuple(int(x) for x in feat.get("shape") or [count])
        if "shape" in mapping:
            shape = tuple(int(x) for x in mapping["shape"])
        if math.prod(shape) != count:
            shape = (count,)
        names = _axis_names(feat.get("names"), count)
        spec = dict(dtype=dt.name, shape=shape, rate_hz=source.fps)
        if names:
            spec["names"] = names
        if mapping.get("units"):
            spec["units"] = list(mapping["units"])
        if mapping.get("sensitivity"):
            spec["sensitivity"] = mapping["sensitivity"]
        signals.append((stream, values.astype(dt).reshape((n, *shape)), spec))
        detail = _shape_text(dt.name, shape) + (" names " + ",".join(names) if names else "")
        er.mapped.append(Mapped(key, stream, "signal", detail + (f"; {why}" if why else "")))
    for col in table.column_names:
        if col not in source.features:
            er.skipped.append(Skipped(col, "not described in meta/info.json features"))

    with _EpisodeOut(out, metadata, overwrite) as w:
        for stream, _, spec in signals:
            w.add_signal(stream, **spec)
        for _, stream, spec, _ in frames:
            w.add_frames(stream, **spec)
        if events:
            w.add_events(events_name)
        for stream, values, _ in signals:
            w.write_many(stream, t_ns, values)
        for t, kind, text in sorted(events, key=lambda e: e[0]):
            if kind == "task":
                w.write_event(events_name, t, kind="task", text=text)
            else:
                w.write_event(events_name, t, kind=kind, text=text)
        for key, stream, _, (what, a, b, fmt) in frames:
            if what == "video":
                worst = 0.0
                for i, (img, ft) in enumerate(_frames_near(a, b, fmt)):
                    worst = max(worst, abs(ft - b[i]))
                    w.write(stream, int(t_ns[i]), img)
                if source.fps and worst > 0.5 / source.fps:
                    er.warnings.append(
                        f"{key}: a row's nearest video frame is {worst * 1e3:.1f} ms away"
                    )
            else:
                for i, blob in enumerate(a):
                    w.write(stream, int(t_ns[i]), _decode_image(blob, fmt))


# ----------------------------------------------------------------------------- HDF5 import


def _find_rate(attrs_list: Sequence[Any]) -> float | None:
    """A rate stored in the file: robomimic's ``env_args`` control_freq, or an attribute named
    fps / rate / control_freq / frequency."""
    for attrs in attrs_list:
        for key in ("fps", "rate", "rate_hz", "control_freq", "frequency"):
            if key in attrs:
                try:
                    value = float(np.asarray(attrs[key]).reshape(-1)[0])
                except (TypeError, ValueError, IndexError):
                    continue
                if value > 0:
                    return value
        if "env_args" in attrs:
            try:
                args = json.loads(attrs["env_args"])
                value = float(args.get("env_kwargs", {}).get("control_freq", 0))
            except (TypeError, ValueError, AttributeError):
                continue
            if value > 0:
                return value
    return None


def _detect_layout(h5: Any, path: Path) -> str:
    if "data" in h5 and any(k.startswith("demo") for k in h5["data"].keys()):
        return "robomimic"
    if "observations" in h5 and ("action" in h5 or "qpos" in h5["observations"]):
        return "aloha"
    raise ValueError(
        f"{path}: not a robomimic (data/demo_N/...) or ALOHA (observations/qpos, action) file; "
        f"top-level keys: {sorted(h5.keys())}"
    )


def _walk(group: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    h5py = _h5py()
    for key in group:
        item = group[key]
        path = f"{prefix}{key}"
        if isinstance(item, h5py.Group):
            yield from _walk(item, path + "/")
        else:
            yield path, item


def _demo_number(name: str) -> tuple[int, str]:
    m = re.search(r"(\d+)$", name)
    return (int(m.group(1)) if m else -1, name)


def from_hdf5(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    rate_hz: float | None = None,
    layout: str = "auto",
    codec: str = "h264",
    qp: int | None = None,
    gop: int | None = None,
    quality: int | None = None,
    overwrite: bool = False,
    index: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ConversionReport:
    """Imports HDF5 demonstrations into ``dst``: ``src`` is a file or a directory of ``*.hdf5``
    / ``*.h5`` files, in one of two layouts (``layout="auto"`` tells them apart):

    - robomimic: ``data/demo_N/{actions, obs/<key>, rewards, dones, states, ...}``, one episode
      per demo (``<file>_demo_N.rmf``); ``next_obs`` is skipped (the same samples one step on);
    - ALOHA: ``observations/{qpos, qvel, effort, images/<cam>}``, ``action``, one episode per
      file (``<file>.rmf``); JPEG-compressed images (``compress_len``) are decoded.

    Each dataset with one row per step becomes a stream named by its path in the episode
    (``obs/robot0_eef_pos``, ``observations/images/top``): uint8 ``[n, h, w, 3|1]`` arrays are
    frame streams (``codec``), other numbers signal streams; ALOHA's 14-element joint vectors
    get joint names. ``dones`` and intervention flags become events, as in ``from_lerobot``.

    Times: a ``timestamp(s)`` dataset in the episode when there is one (float: seconds; integer:
    ns; the first is time 0), else step ``k`` at ``k / rate_hz``, else ``k`` over the rate the
    file states (robomimic's ``env_args`` control_freq, or an ``fps`` / ``rate`` /
    ``control_freq`` attribute); with none of these, a ValueError naming the file.
    ``progress(done, total)`` is called after each file.
    """
    h5py = _h5py()
    src, dst = Path(src), Path(dst)
    if layout not in ("auto", "robomimic", "aloha"):
        raise ValueError(f"layout must be auto, robomimic or aloha, got {layout!r}")
    if rate_hz is not None and not rate_hz > 0:
        raise ValueError(f"rate_hz must be positive, got {rate_hz}")
    if src.is_dir():
        files = sorted(p for p in src.iterdir() if p.suffix in (".hdf5", ".h5") and p.is_file())
        if not files:
            raise FileNotFoundError(f"{src}: no *.hdf5 or *.h5 files")
    elif src.is_file():
        files = [src]
    else:
        raise FileNotFoundError(f"{src}: not found")
    report = ConversionReport("hdf5", str(src), str(dst), layout)
    layouts = set()
    dst.mkdir(parents=True, exist_ok=True)
    for done, path in enumerate(files, 1):
        try:
            h5 = h5py.File(path, "r")
        except OSError as e:
            raise OSError(f"{path}: not an HDF5 file: {e}") from e
        with h5:
            lay = _detect_layout(h5, path) if layout == "auto" else layout
            layouts.add(lay)
            if lay == "robomimic":
                if "data" not in h5:
                    raise ValueError(f"{path}: no 'data' group (robomimic layout)")
                demos = sorted(h5["data"].keys(), key=_demo_number)
                if not demos:
                    raise ValueError(f"{path}: no demos under 'data'")
                for demo in demos:
                    out = dst / f"{path.stem}_{demo}.rmf"
                    er = EpisodeReport(f"{path.name}:data/{demo}", out.name)
                    _import_hdf5_episode(
                        h5["data"][demo],
                        [h5["data"][demo].attrs, h5["data"].attrs, h5.attrs],
                        path,
                        lay,
                        out,
                        er,
                        rate_hz,
                        codec,
                        qp,
                        gop,
                        quality,
                        overwrite,
                    )
                    report.episodes.append(er)
            else:
                out = dst / f"{path.stem}.rmf"
                er = EpisodeReport(path.name, out.name)
                _import_hdf5_episode(
                    h5, [h5.attrs], path, lay, out, er, rate_hz, codec, qp, gop, quality, overwrite
                )
                report.episodes.append(er)
        if progress:
            progress(done, len(files))
    report.format = " + ".join(
        sorted({"robomimic": "robomimic", "aloha": "ALOHA"}[x] for x in layouts)
    )
    if index:
        report.index = build_index(dst)
    return report


def _import_hdf5_episode(
    group: Any,
    attrs_list: Sequence[Any],
    path: Path,
    layout: str,
    out: Path,
    er: EpisodeReport,
    rate_hz: float | None,
    codec: str,
    qp: int | None,
    gop: int | None,
    quality: int | None,
    overwrite: bool,
) -> None:
    where = f"{path}:{group.name}"
    items = dict(_walk(group))
    if layout == "robomimic":
        main_key = next((k for k in ("actions", "action") if k in items), None)
    else:
        main_key = next((k for k in ("action", "observations/qpos") if k in items), None)
    if main_key is None:
        raise ValueError(f"{where}: no actions dataset to count the steps by")
    n = int(items[main_key].shape[0])
    er.rows = n

    # Times.
    t_ns: np.ndarray | None = None
    clock_key = None
    for key, ds in items.items():
        base = key.split("/")[-1].lower()
        if base in _TIMESTAMPS and ds.shape[:1] == (n,) and ds.dtype.kind in "iuf":
            raw = np.asarray(ds[()]).reshape(n, -1)[:, 0]
            if raw.dtype.kind == "f":
                t_ns = _seconds_to_ns(raw - raw[0])
                clock = f"{key} (seconds)"
            else:
                t_ns = (raw - raw[0]).astype(np.int64)
                clock = f"{key} (ns)"
            clock_key = key
            if np.any(np.diff(t_ns) < 0):
                raise ValueError(f"{where}: {key} goes backwards")
            er.mapped.append(Mapped(key, "(clock)", "metadata", clock))
            if rate_hz is not None:
                er.warnings.append(f"rate_hz={rate_hz} ignored: the file has {key}")
            break
    if t_ns is None:
        rate = rate_hz if rate_hz is not None else _find_rate(attrs_list)
        if rate is None:
            raise ValueError(
                f"{path}: {group.name} has no timestamps and the file states no rate; "
                "pass rate_hz= (--rate HZ)"
            )
        t_ns = np.round(np.arange(n) * (1e9 / rate)).astype(np.int64)
        clock = f"step k at k / {rate:g} Hz" + (" (rate from the file)" if rate_hz is None else "")
        er.mapped.append(Mapped("(steps)", "(clock)", "metadata", clock))
    er.duration_s = float(t_ns[-1] - t_ns[0]) / 1e9 if n else 0.0
    rate_nominal = (n - 1) / er.duration_s if n > 1 and er.duration_s > 0 else None

    metadata: dict[str, Any] = {
        "source": layout,
        "hdf5_file": path.name,
        "hdf5_group": group.name,
    }
    for attrs in attrs_list:
        for key in ("task", "lang", "language_instruction", "instruction"):
            if key in attrs and "task" not in metadata:
                value = attrs[key]
                metadata["task"] = value.decode() if isinstance(value, bytes) else str(value)
        if "env_args" in attrs and "env" not in metadata:
            try:
                metadata["env"] = json.loads(attrs["env_args"]).get("env_name", "")
            except (TypeError, ValueError, AttributeError):
                pass
        if "sim" in attrs and "sim" not in metadata:
            metadata["sim"] = bool(np.asarray(attrs["sim"]).reshape(-1)[0])
    compressed = "compress_len" in items or any(
        bool(np.asarray(a.get("compress", False)).reshape(-1)[0]) for a in attrs_list
    )

    signals: list[tuple[str, Any, dict[str, Any]]] = []
    frames: list[tuple[str, Any, dict[str, Any], bool]] = []
    events: list[tuple[int, str, str]] = []
    for key, ds in items.items():
        base = key.split("/")[-1].lower()
        if key == clock_key:
            continue
        if key == "compress_len":
            er.skipped.append(Skipped(key, "lengths of the JPEG-compressed images (used)"))
            continue
        if layout == "robomimic" and key.startswith("next_obs/"):
            er.skipped.append(Skipped(key, "next_obs: the obs of the next step (redundant)"))
            continue
        if ds.shape[:1] != (n,):
            er.skipped.append(Skipped(key, f"shape {ds.shape}: not one row per step ({n})"))
            continue
        if ds.dtype.kind not in "biuf":
            er.skipped.append(Skipped(key, f"dtype {ds.dtype} is not numeric"))
            continue
        if ds.dtype == np.uint8 and ds.ndim == 4 and ds.shape[-1] in (1, 3):
            h, w = int(ds.shape[1]), int(ds.shape[2])
            pix = "rgb8" if ds.shape[-1] == 3 else "gray8"
            use, why = _frame_codec(codec, w, h, pix)
            if why:
                er.warnings.append(f"{key}: {why}")
            spec = dict(width=w, height=h, pixel_format=pix, rate_hz=rate_nominal)
            spec.update(_codec_options(use, qp, gop, quality))
            frames.append((key, ds, spec, False))
            er.mapped.append(Mapped(key, key, "frames", f"{w}x{h} {pix} {use}"))
            continue
        if ds.dtype == np.uint16 and ds.ndim == 4 and ds.shape[-1] == 1:
            h, w = int(ds.shape[1]), int(ds.shape[2])
            spec = dict(width=w, height=h, pixel_format="gray16", rate_hz=rate_nominal)
            spec.update(codec="png")
            frames.append((key, ds, spec, False))
            er.mapped.append(Mapped(key, key, "frames", f"{w}x{h} gray16 png"))
            continue
        if compressed and ds.dtype == np.uint8 and ds.ndim == 2 and "/images/" in f"/{key}":
            _av()
            first = _decode_image(bytes(np.asarray(ds[0])), "rgb24")
            h, w = first.shape[:2]
            use, why = _frame_codec(codec, w, h, "rgb8")
            if why:
                er.warnings.append(f"{key}: {why}")
            spec = dict(width=w, height=h, pixel_format="rgb8", rate_hz=rate_nominal)
            spec.update(_codec_options(use, qp, gop, quality))
            frames.append((key, ds, spec, True))
            er.mapped.append(Mapped(key, key, "frames", f"{w}x{h} rgb8 {use} (from JPEG)"))
            continue
        if ds.ndim == 4 and ds.dtype.kind == "f" and ds.shape[-1] == 1:
            er.skipped.append(Skipped(key, "float depth images: not converted"))
            continue
        flag = _flag_kind(key)
        values = np.asarray(ds[()])
        if flag is not None:
            found = _flag_events(flag, key, t_ns, values)
            events.extend(found)
            kinds = "takeover_start/takeover_end" if flag == "takeover" else "done"
            er.mapped.append(Mapped(key, EVENTS_STREAM, "events", f"{kinds} ({len(found)})"))
            continue
        dt, why = _signal_dtype(values.dtype)
        shape = tuple(int(x) for x in values.shape[1:])
        count = math.prod(shape)
        spec = dict(dtype=dt.name, shape=shape, rate_hz=rate_nominal)
        names = ALOHA_NAMES if layout == "aloha" and shape == (14,) else None
        if names:
            spec["names"] = names
        signals.append((key, values.astype(dt), spec))
        detail = _shape_text(dt.name, shape)
        if names:
            detail += " names ALOHA joints"
        if count == 0:
            signals.pop()
            er.skipped.append(Skipped(key, "no elements"))
            continue
        er.mapped.append(Mapped(key, key, "signal", detail + (f"; {why}" if why else "")))

    with _EpisodeOut(out, metadata, overwrite) as w:
        for key, _, spec in signals:
            w.add_signal(key, **spec)
        for key, _, spec, _ in frames:
            w.add_frames(key, **spec)
        if events:
            w.add_events(EVENTS_STREAM)
        for key, values, _ in signals:
            w.write_many(key, t_ns, values)
        for t, kind, text in sorted(events, key=lambda e: e[0]):
            w.write_event(EVENTS_STREAM, t, kind=kind, text=text)
        for key, ds, _, jpeg in frames:
            step = 16
            for a in range(0, n, step):
                block = np.asarray(ds[a : a + step])
                if jpeg:
                    block = np.stack([_decode_image(bytes(row), "rgb24") for row in block])
                elif block.shape[-1] == 1:
                    block = block[..., 0]
                w.write_many(key, t_ns[a : a + step], np.ascontiguousarray(block))


# ----------------------------------------------------------------------------- LeRobot export


def _lerobot_key(name: str, kind: str) -> str:
    key = name.replace("/", ".")
    if kind == "frames" and not key.startswith("observation.image"):
        key = f"observation.images.{key}"
    if key in LEROBOT_BOOKKEEPING:
        key = f"observation.{key}"
    return key


def _video_encoder_name(requested: str | None) -> str:
    av = _av()
    if requested:
        if requested not in av.codecs_available:
            raise ValueError(f"video codec {requested!r} is not in this PyAV's FFmpeg")
        return requested
    for name in ("libsvtav1", "libx264", "mpeg4"):
        if name in av.codecs_available:
            return name
    raise ValueError("this PyAV's FFmpeg has none of libsvtav1, libx264, mpeg4")


class _VideoOut:
    """One MP4 file of a LeRobot video key: the episodes one after another, frame ``g`` (over
    the whole file) at ``pts = g`` in a time base of one frame when rows are regular, else at
    its own time."""

    def __init__(self, path: Path, codec: str, rate: Fraction, width: int, height: int,
                 crf: int, gop: int, fixed: bool):  # fmt: skip
        av = _av()
        path.parent.mkdir(parents=True, exist_ok=True)
        if codec == "libsvtav1":
            os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its banner unless told
            options = {"crf": str(crf), "g": str(gop), "preset": "12"}
        elif codec == "libx264":
            options = {"crf": str(crf), "g": str(gop), "bf": "0"}
        else:
            options = {"g": str(gop), "bf": "0"}
        self.container = av.open(str(path), "w")
        self.stream = self.container.add_stream(codec, rate=rate, options=options)
        self.stream.width, self.stream.height = width, height
        self.stream.pix_fmt = "yuv420p"
        if codec not in ("libsvtav1", "libx264"):
            self.stream.bit_rate = max(200_000, int(width * height * float(rate) * 0.5))
        self.time_base = 1 / rate if fixed else Fraction(1, 10_000)
        self.stream.time_base = self.time_base
        self.stream.codec_context.time_base = self.time_base
        self.codec = codec
        self.frames = 0
        self.sums = np.zeros(3)
        self.sq = np.zeros(3)
        self.lo = np.full(3, 255.0)
        self.hi = np.zeros(3)
        self.pixels = 0

    def add(self, image: np.ndarray, t_s: float) -> None:
        av = _av()
        rgb = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = round(t_s / self.time_base)
        frame.time_base = self.time_base
        self.container.mux(self.stream.encode(frame))
        self.frames += 1
        px = rgb.reshape(-1, 3).astype(np.float64) / 255.0
        self.sums += px.sum(0)
        self.sq += (px * px).sum(0)
        self.lo = np.minimum(self.lo, px.min(0))
        self.hi = np.maximum(self.hi, px.max(0))
        self.pixels += len(px)

    def close(self) -> None:
        self.container.mux(self.stream.encode())
        self.container.close()

    def stats(self) -> dict[str, Any]:
        mean = self.sums / max(self.pixels, 1)
        std = np.sqrt(np.maximum(self.sq / max(self.pixels, 1) - mean * mean, 0))

        def per_channel(v: np.ndarray) -> list:
            return [[[float(x)]] for x in v]

        return {
            "min": per_channel(self.lo),
            "max": per_channel(self.hi),
            "mean": per_channel(mean),
            "std": per_channel(std),
            "count": [self.frames],
        }


def _numeric_stats(values: np.ndarray) -> dict[str, Any]:
    v = values.reshape(len(values), -1).astype(np.float64)
    out = {
        "min": v.min(0).tolist(),
        "max": v.max(0).tolist(),
        "mean": v.mean(0).tolist(),
        "std": v.std(0).tolist(),
        "count": [len(v)],
    }
    for q in (1, 10, 50, 90, 99):
        out[f"q{q:02d}"] = np.quantile(v, q / 100, axis=0).tolist()
    return out


def _tasks_table(tasks: list[str]) -> pa.Table:
    """meta/tasks.parquet as lerobot writes it: a pandas frame indexed by the task string."""
    table = pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()), "task": tasks})
    pandas_meta = {
        "index_columns": ["task"],
        "column_indexes": [
            {
                "name": None,
                "field_name": None,
                "pandas_type": "unicode",
                "numpy_type": "object",
                "metadata": {"encoding": "UTF-8"},
            }
        ],
        "columns": [
            {
                "name": "task_index",
                "field_name": "task_index",
                "pandas_type": "int64",
                "numpy_type": "int64",
                "metadata": None,
            },
            {
                "name": "task",
                "field_name": "task",
                "pandas_type": "unicode",
                "numpy_type": "object",
                "metadata": None,
            },
        ],
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.2.3",
    }
    return table.replace_schema_metadata({b"pandas": json.dumps(pandas_meta).encode()})


def _fixed_list(values: np.ndarray) -> pa.Array:
    flat = np.ascontiguousarray(values.reshape(len(values), -1))
    return pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), flat.shape[1])


def to_lerobot(
    dataset_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    fps: float,
    reference: str | None = None,
    policy: str = "linear",
    keys: Mapping[str, str] | None = None,
    streams: Iterable[str] | None = None,
    video_codec: str | None = None,
    crf: int = 30,
    gop: int = 2,
    overwrite: bool = False,
    max_label: str = "internal",
    key: bytes | str | os.PathLike[str] | None = None,
    passphrase: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ConversionReport:
    """Exports the RMF dataset ``dataset_dir`` (refreshing its index first) to LeRobot v3.0's
    layout in ``out_dir``.

    Rows: ticks at ``fps`` from each episode's start (``reference=None``), or every sample of the
    stream ``reference`` (its real times; ``fps`` is then the nominal rate info.json states).
    Each signal stream becomes a numeric feature aligned by ``rmf.Dataset``: float signals
    ``linear`` (the default ``policy``; or ``asof`` / ``nearest``), integer signals as of the
    row; rows before a stream's first sample or in a gap longer than 1.5 of its periods take
    the nearest sample (counted in the report). Frame streams (rgb8, gray8) become videos, as
    of each row, encoded with PyAV: ``video_codec`` (default libsvtav1 as LeRobot, else libx264,
    else mpeg4), ``crf`` and ``gop`` (LeRobot's 30 and 2). Event streams with takeover events
    become a bool ``is_intervention`` column (inside a takeover at the row). Audio, gray16
    frames and other events are skipped. Stream ``/`` become ``.`` in feature names, frame
    streams go under ``observation.images.``; ``keys`` renames (``{"joints":
    "observation.state"}``). ``streams``: the streams to export (default all that every
    episode has). The episode's ``task`` metadata is its LeRobot task. ``progress(done,
    total)`` is called after each episode.

    LeRobot has no sensitivity labels, so streams labelled above ``max_label`` (default
    ``internal``: private streams stay behind) are not exported, each listed in the report;
    ``max_label="private"`` exports them too; encrypted streams (private) need ``key`` (32
    bytes or a key file) or ``passphrase`` as well. ``meta/rmf.json`` keeps every exported
    stream's label, so importing the copy again restores it.
    """
    root, out = Path(dataset_dir), Path(out_dir)
    # What opens encrypted streams (`key` is reused below for feature keys).
    secret = {"key": key, "passphrase": passphrase}
    if max_label not in LABELS:
        raise ValueError(f"max_label must be one of {', '.join(LABELS)}, got {max_label!r}")
    if not fps or not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if policy not in ("linear", "asof", "nearest"):
        raise ValueError(f"policy must be linear, asof or nearest, got {policy!r}")
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a directory")
    if (out / "meta" / "info.json").exists() and not overwrite:
        raise FileExistsError(f"{out}: holds a LeRobot dataset (pass overwrite=True)")
    codec = _video_encoder_name(video_codec)
    idx = build_index(root)
    table = pq.read_table(root / "episodes.parquet", columns=["id", "file"])
    file_of = dict(zip(table["id"].to_pylist(), table["file"].to_pylist()))
    if not file_of:
        raise ValueError(f"{root}: no .rmf episodes")
    report = ConversionReport("to-lerobot", str(root), str(out), "LeRobot v3.0")
    if idx.get("failed"):
        report.notes.append(f"files not indexed (unreadable): {idx['failed']}")

    # Streams every episode has, with the same layout (episodes opened one at a time).
    infos: dict[str, dict[str, Any]] = {}
    seen_in: dict[str, int] = {}
    skipped: dict[str, str] = {}
    event_kinds: dict[str, set[str]] = {}
    for f in file_of.values():
        with _rmf.open(root / f, **secret) as ep:
            for name, st in ep.streams.items():
                info = dict(st.info)
                keys_ = ("kind", "dtype", "shape", "width", "height", "pixel_format")
                layout = {k: info.get(k) for k in keys_}
                if name in infos and infos[name]["layout"] != layout:
                    skipped[name] = "its shape, dtype or frame size differs between episodes"
                infos.setdefault(
                    name,
                    {
                        "layout": layout,
                        "info": info,
                        "kind": st.kind,
                        "dtype": st.dtype,
                        "shape": list(st.shape),
                        "names": list(st.names),
                        "units": list(st.units),
                        "sensitivity": st.sensitivity,
                    },
                )
                # The strictest label any episode gives the stream.
                if LABELS.index(st.sensitivity) > LABELS.index(infos[name]["sensitivity"]):
                    infos[name]["sensitivity"] = st.sensitivity
                seen_in[name] = seen_in.get(name, 0) + 1
                if st.kind == "events":
                    kinds = ep.events(name).column("kind").to_pylist()
                    event_kinds.setdefault(name, set()).update(kinds)
    wanted = None if streams is None else list(streams)
    if wanted is not None:
        unknown = [s for s in wanted if s not in infos]
        if unknown:
            raise ValueError(f"{root}: no streams {unknown}")
    if reference is not None and reference not in infos:
        raise ValueError(f"{root}: no stream {reference!r} for the reference")
    for name, seen in seen_in.items():
        if seen != len(file_of) and name not in skipped:
            skipped[name] = f"in {seen} of {len(file_of)} episodes"
    for name, st in infos.items():
        label = st["sensitivity"]
        if LABELS.index(label) > LABELS.index(max_label) and name not in skipped:
            if wanted is not None and name in wanted:
                raise ValueError(
                    f"{root}: stream {name!r} is labelled {label}, above max_label={max_label!r}"
                )
            skipped[name] = f"labelled {label}, above max_label={max_label!r}"
    keys = dict(keys or {})
    spec: dict[str, dict[str, Any]] = {}
    features: dict[str, tuple[str, str]] = {}  # rmf name -> (lerobot key, kind)
    takeover_streams: list[str] = []
    for name, st in infos.items():
        if wanted is not None and name not in wanted:
            continue
        if name in skipped:
            continue
        if st["kind"] == "signal":
            if (st["dtype"] or "").startswith("float") and policy == "linear":
                spec[name] = linear(pad=True)
            elif policy == "nearest":
                spec[name] = nearest(pad=True)
            else:
                spec[name] = asof(pad=True)
            features[name] = (keys.get(name) or _lerobot_key(name, "signal"), "signal")
        elif st["kind"] == "frames":
            pix = st["info"].get("pixel_format")
            w, h = st["info"].get("width"), st["info"].get("height")
            if pix not in ("rgb8", "gray8"):
                skipped[name] = f"{pix} frames: LeRobot's videos are 8-bit"
            elif w % 2 or h % 2:
                skipped[name] = f"{w}x{h}: odd sizes do not fit yuv420p video"
            else:
                spec[name] = nearest(pad=True) if policy == "nearest" else asof(pad=True)
                features[name] = (keys.get(name) or _lerobot_key(name, "frames"), "frames")
        elif st["kind"] == "events":
            kinds = event_kinds.get(name, set())
            if kinds & {"takeover_start", "takeover_end"}:
                takeover_streams.append(name)
                spec[name] = events_spec(window=(-1.0 / fps, 0.0))
            others = sorted(kinds - {"takeover_start", "takeover_end"})
            if others:
                skipped[f"{name} ({', '.join(others)})"] = "events other than takeovers"
        else:
            skipped[name] = f"{st['kind']} streams have no LeRobot feature"
    flag_keys = {
        name: (
            "is_intervention"
            if len(takeover_streams) == 1
            else f"{_lerobot_key(name, 'events')}.is_intervention"
        )  # fmt: skip
        for name in takeover_streams
    }
    used = [k for k, _ in features.values()] + list(flag_keys.values())
    if len(set(used)) != len(used):
        raise ValueError(f"two streams map to one LeRobot key: {used} (use keys=)")
    if not features:
        raise ValueError(f"{root}: no signal or frame stream to export")

    ref = float(fps) if reference is None else reference
    ds = Dataset(root, reference=ref, streams=spec, **secret)
    episode_ids = ds.episode_ids
    rate = Fraction(fps).limit_denominator(1001)
    fixed = reference is None
    videos: dict[str, _VideoOut] = {}
    frame_names = [n for n, (_, kind) in features.items() if kind == "frames"]
    for name in frame_names:
        info = infos[name]["info"]
        key = features[name][0]
        videos[name] = _VideoOut(
            out / "videos" / key / "chunk-000" / "file-000.mp4",
            codec,
            rate,
            int(info["width"]),
            int(info["height"]),
            crf,
            gop,
            fixed,
        )

    tasks: list[str] = []
    columns: dict[str, list[np.ndarray]] = {k: [] for k, _ in features.values()}
    columns.update({k: [] for k in flag_keys.values()})
    book: dict[str, list[np.ndarray]] = {k: [] for k in LEROBOT_BOOKKEEPING}
    episodes_rows: list[dict[str, Any]] = []
    rmf_episodes: list[dict[str, Any]] = []
    video_offset = {name: 0.0 for name in frame_names}
    total = 0
    i = 0
    n_samples = len(ds)
    try:
        for e, ep_id in enumerate(episode_ids):
            file = file_of[ep_id]
            # One episode open at a time (for nearest()).
            ep = _rmf.open(root / file, **secret)
            er = EpisodeReport(file, f"episode {e}")
            meta = ep.metadata
            task = meta.get("task") or ""
            if task not in tasks:
                tasks.append(task)
            rows: list[dict[str, Any]] = []
            times: list[int] = []
            start = None
            filled = dict.fromkeys(features, 0)
            while i < n_samples:
                s = ds[i]
                if s["episode_index"] != e:
                    break
                i += 1
                t = int(s["t"])
                if start is None:
                    start = t
                times.append(t)
                row = {}
                for name, (_, kind) in features.items():
                    value = s[name]
                    if s[f"{name}_pad"]:  # none within tolerance: the nearest sample
                        value = ep[name].nearest(t)
                        filled[name] += 1
                    if kind == "signal":
                        row[name] = np.asarray(value)
                    else:
                        videos[name].add(np.asarray(value), video_offset[name] + (t - start) / 1e9)
                for name in takeover_streams:
                    row[name] = bool(s[f"{name}_inside"])
                rows.append(row)
            n = len(rows)
            if n == 0:
                er.warnings.append("no rows")
                report.episodes.append(er)
                continue
            ts_rel = (np.asarray(times, np.int64) - start) / 1e9
            for name, (key, kind) in features.items():
                if kind == "signal":
                    values = np.stack([r[name] for r in rows])
                    columns[key].append(values)
                    detail = _shape_text(str(values.dtype), values.shape[1:])
                    detail += f" {spec[name]['policy']}"
                else:
                    detail = f"{codec} video, {spec[name]['policy']}"
                if filled[name]:
                    detail += (
                        f"; {filled[name]} rows from the nearest sample (none within 1.5 periods)"
                    )
                er.mapped.append(Mapped(name, key, kind, detail))
            for name, key in flag_keys.items():
                columns[key].append(np.array([r[name] for r in rows], np.bool_))
                er.mapped.append(Mapped(name, key, "events", "inside a takeover"))
            for name, why in skipped.items():
                er.skipped.append(Skipped(name, why))
            book["timestamp"].append(ts_rel.astype(np.float32))
            book["frame_index"].append(np.arange(n, dtype=np.int64))
            book["episode_index"].append(np.full(n, e, np.int64))
            book["index"].append(np.arange(total, total + n, dtype=np.int64))
            book["task_index"].append(np.full(n, tasks.index(task), np.int64))
            episode_row: dict[str, Any] = {
                "episode_index": e,
                "tasks": [task],
                "length": n,
                "data/chunk_index": 0,
                "data/file_index": 0,
                "dataset_from_index": total,
                "dataset_to_index": total + n,
                "meta/episodes/chunk_index": 0,
                "meta/episodes/file_index": 0,
            }
            for name in frame_names:
                key = features[name][0]
                end = video_offset[name] + float(ts_rel[-1]) + 1.0 / float(rate)
                episode_row[f"videos/{key}/chunk_index"] = 0
                episode_row[f"videos/{key}/file_index"] = 0
                episode_row[f"videos/{key}/from_timestamp"] = video_offset[name]
                episode_row[f"videos/{key}/to_timestamp"] = end
                video_offset[name] = end
            episodes_rows.append(episode_row)
            keep = {k: v for k, v in meta.items() if k not in ("id", "writer", "start_time_utc")}
            extra = keep.pop("extra", {}) or {}
            keep.update(extra)
            rmf_episodes.append(
                {"episode_index": e, "file": file, "start_ns": int(start), "metadata": keep}
            )
            er.rows = n
            er.duration_s = float(ts_rel[-1])
            report.episodes.append(er)
            total += n
            if progress:
                progress(e + 1, len(episode_ids))
    finally:
        for v in videos.values():
            v.close()

    # Files.
    (out / "data" / "chunk-000").mkdir(parents=True, exist_ok=True)
    (out / "meta" / "episodes" / "chunk-000").mkdir(parents=True, exist_ok=True)
    data: dict[str, pa.Array] = {}
    feats: dict[str, Any] = {}
    stats: dict[str, Any] = {}
    rmf_streams: dict[str, Any] = {}
    for name, (key, kind) in features.items():
        st = infos[name]
        info = st["info"]
        if kind == "signal":
            values = np.concatenate(columns[key])
            flat = values.reshape(len(values), -1)
            data[key] = _fixed_list(flat)
            names = st["names"] if len(st["names"]) == flat.shape[1] else None
            feats[key] = {"dtype": str(values.dtype), "shape": [flat.shape[1]], "names": names}
            stats[key] = _numeric_stats(flat)
            rmf_streams[key] = {
                "stream": name,
                "kind": "signal",
                "shape": st["shape"],
                "sensitivity": st["sensitivity"],
            }
            if st["units"]:
                rmf_streams[key]["units"] = st["units"]
        else:
            w, h = int(info["width"]), int(info["height"])
            feats[key] = {
                "dtype": "video",
                "shape": [h, w, 3],
                "names": ["height", "width", "channels"],
                "info": {
                    "video.height": h,
                    "video.width": w,
                    "video.codec": {"libsvtav1": "av1", "libx264": "h264"}.get(codec, codec),
                    "video.pix_fmt": "yuv420p",
                    "video.is_depth_map": False,
                    "video.fps": float(fps),
                    "video.channels": 3,
                    "has_audio": False,
                },
            }
            stats[key] = videos[name].stats()
            rmf_streams[key] = {
                "stream": name,
                "kind": "frames",
                "pixel_format": info.get("pixel_format"),
                "sensitivity": st["sensitivity"],
            }
    for name, key in flag_keys.items():
        data[key] = pa.array(np.concatenate(columns[key]))
        feats[key] = {"dtype": "bool", "shape": [1], "names": None}
        rmf_streams[key] = {"stream": name, "kind": "events"}
    for key in LEROBOT_BOOKKEEPING:
        data[key] = pa.array(np.concatenate(book[key]) if book[key] else np.zeros(0))
        feats[key] = {"dtype": "float32" if key == "timestamp" else "int64", "shape": [1],
                      "names": None}  # fmt: skip
    pq.write_table(pa.table(data), out / "data" / "chunk-000" / "file-000.parquet")
    pq.write_table(_tasks_table(tasks), out / "meta" / "tasks.parquet")
    pq.write_table(
        pa.Table.from_pylist(episodes_rows),
        out / "meta" / "episodes" / "chunk-000" / "file-000.parquet",
    )
    robots = {m["metadata"].get("robot") for m in rmf_episodes} - {None, ""}
    info_json = {
        "codebase_version": "v3.0",
        "robot_type": robots.pop() if len(robots) == 1 else None,
        "total_episodes": len(episodes_rows),
        "total_frames": total,
        "total_tasks": len(tasks),
        "chunks_size": 1000,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 500,
        "fps": float(fps) if float(fps) != int(fps) else int(fps),
        "splits": {"train": f"0:{len(episodes_rows)}"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
        "features": feats,
    }
    (out / "meta" / "info.json").write_text(json.dumps(info_json, indent=4))
    (out / "meta" / "stats.json").write_text(json.dumps(stats, indent=4))
    (out / RMF_META).write_text(
        json.dumps(
            {
                "written_by": f"rmf {_rmf.__version__}",
                "source": str(root),
                "reference": reference,
                "fps": fps,
                "events_stream": takeover_streams[0] if len(takeover_streams) == 1 else None,
                "policy": policy,
                "streams": rmf_streams,
                "episodes": rmf_episodes,
            },
            indent=2,
        )
    )
    report.notes.append(
        f"rows at {f'{fps:g} fps from each episode start' if fixed else f'{reference} times'}; "
        f"videos {codec} (crf {crf}, g {gop}, yuv420p); one data file and one video file per "
        f"camera; {RMF_META} keeps RMF names and episode start times"
    )
    if "" in tasks:
        report.notes.append("episodes without task metadata have the task ''")
    return report


# ----------------------------------------------------------------------------- command line


@dataclasses.dataclass
class Mp4Report:
    """What ``to_mp4`` wrote."""

    output: str
    stream: str
    frames: int
    mode: str  # "copied" (the H.264 bitstream as stored) or "encoded with <encoder>"

    def summary(self) -> str:
        return f"wrote {self.frames} frames of {self.stream!r} to {self.output} ({self.mode})"

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))


def to_mp4(
    path: str | os.PathLike[str],
    stream: str,
    out: str | os.PathLike[str],
    *,
    key: bytes | str | os.PathLike[str] | None = None,
    passphrase: str | None = None,
    video_codec: str | None = None,
    crf: int = 20,
) -> Mp4Report:
    """Writes frame stream ``stream`` of episode ``path`` as an MP4 file at ``out``, every frame
    at its own time (microsecond time base, variable frame rate). An H.264 stream is copied as
    stored: no re-encoding, so FFmpeg decodes the same pixels as RMF. Other codecs are decoded
    and encoded with ``video_codec`` (default libx264, else mpeg4). ``out`` must not exist; it
    is written beside its name and renamed into place when complete."""
    av = _av()
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} exists")
    ep = _rmf.open(path, key=key, passphrase=passphrase)
    s = ep[stream]
    if s.kind != "frames":
        raise ValueError(f"stream {stream!r} is a {s.kind} stream, not frames")
    if s.dtype != "uint8":
        raise ValueError(f"stream {stream!r}: MP4 export takes 8-bit frames, not {s.dtype}")
    tb = Fraction(1, 1_000_000)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        container = av.open(str(tmp), "w", format="mp4")
        if s.info.get("codec") == "h264":
            times, units = s.stored_frames()
            t0 = int(times[0]) if len(times) else 0
            src = av.open(io.BytesIO(b"".join(units)), format="h264")
            in_stream = src.streams.video[0]
            out_stream = container.add_stream_from_template(in_stream)
            out_stream.time_base = tb
            packets = [p for p in src.demux(in_stream) if p.size > 0]
            if len(packets) != len(times):
                raise ValueError(
                    f"stream {stream!r}: FFmpeg split the bitstream into {len(packets)} packets "
                    f"for {len(times)} frames"
                )
            for pkt, t in zip(packets, times):
                pkt.stream = out_stream
                pkt.time_base = tb
                pkt.pts = pkt.dts = round((int(t) - t0) / 1000)
                container.mux(pkt)
            src.close()
            mode = "copied"
        else:
            codec = _video_encoder_name(video_codec or next(
                (c for c in ("libx264", "mpeg4") if c in av.codecs_available), None
            ))  # fmt: skip
            options = {"crf": str(crf), "bf": "0"} if codec == "libx264" else {"bf": "0"}
            times, frames = s.read()
            h, w = frames.shape[1:3]
            out_stream = container.add_stream(codec, options=options)
            out_stream.width, out_stream.height = w, h
            out_stream.pix_fmt = "yuv420p"
            out_stream.time_base = tb
            out_stream.codec_context.time_base = tb
            t0 = int(times[0]) if len(times) else 0
            for t, img in zip(times, frames):
                rgb = img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
                frame.pts = round((int(t) - t0) / 1000)
                frame.time_base = tb
                container.mux(out_stream.encode(frame))
            container.mux(out_stream.encode())
            mode = f"encoded with {codec}"
        container.close()
        _publish(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return Mp4Report(output=str(out), stream=stream, frames=len(times), mode=mode)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m rmf.convert",
        description="Convert LeRobot and HDF5 datasets to RMF episodes, and RMF to LeRobot v3.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    def frame_options(q: argparse.ArgumentParser) -> None:
        q.add_argument("--codec", default="h264", choices=["h264", "jpeg", "png", "raw"])
        q.add_argument("--qp", type=int, help="h264 quantizer (0-51)")
        q.add_argument("--gop", type=int, help="h264 keyframe interval")
        q.add_argument("--quality", type=int, help="jpeg quality (1-100)")
        q.add_argument("--overwrite", action="store_true", help="replace existing .rmf files")
        q.add_argument("--no-index", action="store_true", help="do not build episodes.parquet")
        q.add_argument("--json", action="store_true", help="print the report as JSON")

    q = sub.add_parser("lerobot", help="LeRobot v2.x / v3.0 directory -> RMF episodes")
    q.add_argument("src")
    q.add_argument("dst")
    q.add_argument("--episodes", help="comma-separated episode indices (default all)")
    frame_options(q)
    q = sub.add_parser("hdf5", help="robomimic / ALOHA HDF5 -> RMF episodes")
    q.add_argument("src", help="an .hdf5 file or a directory of them")
    q.add_argument("dst")
    q.add_argument("--rate", type=float, help="steps per second when the file has no times")
    q.add_argument("--layout", default="auto", choices=["auto", "robomimic", "aloha"])
    frame_options(q)
    q = sub.add_parser("mp4", help="one frame stream of an episode -> MP4")
    q.add_argument("src", help="the .rmf episode")
    q.add_argument("dst", help="the .mp4 file to write (must not exist)")
    q.add_argument("--stream", required=True)
    q.add_argument("--key-file", help="key that opens an encrypted stream")
    q.add_argument("--video-codec", help="encoder for non-H.264 streams (default libx264)")
    q.add_argument("--crf", type=int, default=20)
    q.add_argument("--json", action="store_true", help="print the report as JSON")
    q = sub.add_parser("to-lerobot", help="RMF dataset directory -> LeRobot v3.0")
    q.add_argument("src")
    q.add_argument("dst")
    q.add_argument("--fps", type=float, required=True)
    q.add_argument("--reference", help="rows at this stream's samples instead of fixed ticks")
    q.add_argument("--policy", default="linear", choices=["linear", "asof", "nearest"])
    q.add_argument("--key", action="append", default=[], metavar="STREAM=KEY",
                   help="LeRobot feature name of a stream (repeatable)")  # fmt: skip
    q.add_argument("--stream", action="append", dest="streams", metavar="S",
                   help="export only these streams (repeatable)")  # fmt: skip
    q.add_argument("--video-codec", help="PyAV encoder (default libsvtav1, libx264, mpeg4)")
    q.add_argument("--crf", type=int, default=30)
    q.add_argument("--gop", type=int, default=2)
    q.add_argument("--key-file", help="key that opens encrypted (private) streams")
    q.add_argument(
        "--max-label",
        default="internal",
        choices=list(LABELS),
        help="export streams labelled up to this (default internal: not private)",
    )
    q.add_argument("--overwrite", action="store_true")
    q.add_argument("--json", action="store_true", help="print the report as JSON")
    return p


class _TerminalProgress:
    """``what [#####.....] 3/10 episodes, 12 s, about 18 s left`` on stderr, redrawn in place;
    draws nothing when stderr is not a terminal (logs stay clean) or with ``--json``."""

    def __init__(self, what: str, unit: str, enabled: bool):
        self.what, self.unit, self.started = what, unit, time.monotonic()
        self.enabled = enabled and sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        elapsed = time.monotonic() - self.started
        filled = 30 * done // total
        left = f", about {elapsed / done * (total - done):.0f} s left" if 0 < done < total else ""
        bar = "#" * filled + "." * (30 - filled)
        line = f"{self.what} [{bar}] {done}/{total} {self.unit}, {elapsed:.0f} s{left}"
        sys.stderr.write("\r" + line + "\x1b[K")
        sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: prints a one-line summary (``--json``: the report); returns 0 when
    done, 1 on an error, 2 on a usage error."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: usage errors exit 2, --help exits 0
        return int(e.code or 0)
    bar = _TerminalProgress(
        {"lerobot": "importing", "hdf5": "importing", "to-lerobot": "exporting"}.get(
            args.command, "converting"
        ),
        "files" if args.command == "hdf5" else "episodes",
        enabled=not args.json,
    )
    try:
        if args.command == "lerobot":
            eps = None
            if args.episodes:
                try:
                    eps = [int(x) for x in args.episodes.split(",") if x.strip()]
                except ValueError:
                    parser.print_usage(sys.stderr)
                    print(f"--episodes: not a list of integers: {args.episodes}", file=sys.stderr)
                    return 2
            report = from_lerobot(
                args.src, args.dst, codec=args.codec, qp=args.qp, gop=args.gop,
                quality=args.quality, episodes=eps, overwrite=args.overwrite,
                index=not args.no_index, progress=bar,
            )  # fmt: skip
        elif args.command == "hdf5":
            report = from_hdf5(
                args.src, args.dst, rate_hz=args.rate, layout=args.layout, codec=args.codec,
                qp=args.qp, gop=args.gop, quality=args.quality, overwrite=args.overwrite,
                index=not args.no_index, progress=bar,
            )  # fmt: skip
        elif args.command == "mp4":
            report = to_mp4(
                args.src, args.stream, args.dst, key=args.key_file,
                video_codec=args.video_codec, crf=args.crf,
            )  # fmt: skip
        else:
            keys = {}
            for item in args.key:
                if "=" not in item:
                    parser.print_usage(sys.stderr)
                    print(f"--key: expected STREAM=KEY, got {item!r}", file=sys.stderr)
                    return 2
                a, b = item.split("=", 1)
                keys[a] = b
            report = to_lerobot(
                args.src, args.dst, fps=args.fps, reference=args.reference, policy=args.policy,
                keys=keys, streams=args.streams, video_codec=args.video_codec, crf=args.crf,
                gop=args.gop, overwrite=args.overwrite, max_label=args.max_label,
                key=args.key_file, progress=bar,
            )  # fmt: skip
    except (OSError, ValueError, TypeError, ImportError) as e:
        bar.clear()
        print(f"rmf.convert: error: {e}", file=sys.stderr)
        if args.json:
            print(json.dumps({"error": str(e)}))
        return 1
    bar.clear()
    # --json: one line, as the rmf command prints.
    print(report.to_json(indent=None) if isinstance(report, ConversionReport) and args.json
          else report.to_json() if args.json else report.summary())  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
