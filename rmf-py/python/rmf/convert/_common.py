"""What the importers and exporters of ``rmf.convert`` share: the constants, the report
(``ConversionReport`` and its parts), optional imports (PyAV), numeric helpers, the episode file
written beside its name and renamed into place (``_EpisodeOut``), frame codec choice, and video
reading and encoder choice with PyAV."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import _rmf

#: LeRobot columns that describe rows rather than hold data.
LEROBOT_BOOKKEEPING = ("timestamp", "frame_index", "episode_index", "index", "task_index")
#: Name of the event stream an import writes (task, takeover and done events).
EVENTS_STREAM = "events"
#: The file an export writes beside LeRobot's metadata, read back by ``from_lerobot``.
RMF_META = "meta/rmf.json"

_TAKEOVER = re.compile(r"(is_)?(human_)?interventions?|intervened")
_DONE = re.compile(r"(is_)?(done|dones|terminal|terminals)")


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
    missing: list[str] = dataclasses.field(default_factory=list)
    """What the source lacks (a partial download): episodes without data, videos not there."""

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
        if self.missing:
            line += f", {len(self.missing)} missing from the source"
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
        lines.extend(f"  missing: {m}" for m in self.missing)
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


# ----------------------------------------------------------------------------- video


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
