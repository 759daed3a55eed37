"""LeRobot import: a LeRobot dataset directory (v2.0, v2.1 or v3.0) to RMF episodes
(``from_lerobot``)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..dataset import index as build_index
from ._common import (
    EVENTS_STREAM,
    LEROBOT_BOOKKEEPING,
    RMF_META,
    ConversionReport,
    EpisodeReport,
    Mapped,
    Skipped,
    _av,
    _codec_options,
    _decode_image,
    _EpisodeOut,
    _flag_events,
    _flag_kind,
    _frame_codec,
    _frames_near,
    _seconds_to_ns,
    _shape_text,
    _signal_dtype,
    _video_size,
)


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


def _axis_names(names: Any, count: int) -> list[str] | None:
    """LeRobot ``names`` of a feature as one name per element, when they are that: a list, a
    nested list (flattened in order), or a dict of lists (``{"motors": [...]}``, several groups
    joined in order)."""

    def flat(x: Any) -> list[Any]:
        if isinstance(x, dict):
            return [n for v in x.values() for n in flat(v)]
        if isinstance(x, list):
            return [n for v in x for n in flat(v)]
        return [x]

    if names is None:
        return None
    out = flat(names)
    if len(out) == count and all(isinstance(x, str) for x in out) and len(set(out)) == count:
        return out
    return None


def _kept_as(codec: str, qp: int | None, quality: int | None) -> str:
    """What importing did to decoded video frames, for the report."""
    if codec in ("raw", "png"):
        return f"decoded frames stored exactly ({codec}, lossless)"
    if codec == "h264":
        return f"decoded and re-encoded as h264 qp {22 if qp is None else qp} (lossy)"
    return f"decoded and re-encoded as jpeg quality {90 if quality is None else quality} (lossy)"


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
    no_video: bool = False,
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
    all). A partial download imports what is present: episodes without their data file and
    videos not downloaded are listed in ``report.missing`` (an episode asked for by
    ``episodes`` must be present); ``no_video`` leaves every video feature out. Times are on
    the clock ``lerobot_timestamp``. ``codec="png"`` or ``"raw"`` keeps the decoded video
    frames exactly. Existing files are an error unless ``overwrite``. Episodes are written to a
    staging folder inside ``dst`` and appear only when all are written: a failed import leaves
    no ``.rmf`` behind. ``progress(done, total)`` is called after each episode. Returns a
    ``ConversionReport``.
    """
    src, dst = Path(src), Path(dst)
    source = _LeRobotSource(src)
    videos = bool(source.video_keys) and not no_video
    if videos or any(f.get("dtype") == "image" for f in source.features.values()):
        _av()
    report = ConversionReport("lerobot", str(src), str(dst), f"LeRobot {source.version}", notes=[])
    if videos:
        report.notes.append(
            f"videos are decoded with PyAV and stored as {codec}: "
            f"{_kept_as(codec, qp, quality)}; RMF's frame codecs have no AV1 (LeRobot's "
            "default), so there is no pass-through (png or raw keeps the decoded frames exactly)"
        )
    if source.rmf:
        report.notes.append(f"{RMF_META} found: stream names, shapes and metadata restored")
    wanted = None if episodes is None else {int(e) for e in episodes}
    todo = [e for e in source.episodes if wanted is None or e.index in wanted]
    if wanted is not None and len(todo) != len(wanted):
        absent = sorted(wanted - {e.index for e in todo})
        raise ValueError(f"{src}: no episodes {absent}")
    present = [e for e in todo if e.data_file.is_file()]
    for e in todo:
        if not e.data_file.is_file():
            if wanted is not None:
                raise FileNotFoundError(f"{e.data_file}: not found (data of episode {e.index})")
            report.missing.append(f"episode {e.index}: data file {e.data_file}")
    if todo and not present:
        raise FileNotFoundError(
            f"{src}: none of the {len(todo)} episodes' data files is present "
            f"(the first: {todo[0].data_file})"
        )
    if report.missing:
        report.notes.append(
            f"{len(todo) - len(present)} of {len(todo)} episodes are not in {src} (a partial "
            "download?): imported the rest, see missing"
        )
    rmf_episodes = {int(e["episode_index"]): e for e in source.rmf.get("episodes", [])}
    names = []
    for ep in present:
        extra = rmf_episodes.get(ep.index, {})
        name = extra.get("file") or f"episode_{ep.index:06d}.rmf"
        if Path(name).is_absolute() or ".." in Path(name).parts or not name.endswith(".rmf"):
            name = f"episode_{ep.index:06d}.rmf"
        if (dst / name).exists() and not overwrite:
            raise FileExistsError(f"{dst / name}: exists (pass overwrite=True / --overwrite)")
        names.append(name)
    cache = _TableCache()
    dst.mkdir(parents=True, exist_ok=True)
    # Every episode is written into a staging folder and published when all are written.
    stage = Path(tempfile.mkdtemp(prefix=".rmf-import-", dir=dst))
    try:
        for done, (ep, name) in enumerate(zip(present, names), 1):
            extra = rmf_episodes.get(ep.index, {})
            rows = cache.rows(ep.data_file, ep.index, source.v3)
            er = EpisodeReport(f"episode {ep.index}", name)
            try:
                _import_lerobot_episode(
                    source, ep, rows, stage / name, er, extra, codec, qp, gop, quality,
                    False, no_video, report.missing,
                )  # fmt: skip
            except (ValueError, TypeError, FileNotFoundError, FileExistsError) as e:
                if type(e) not in (ValueError, TypeError, FileNotFoundError, FileExistsError):
                    raise
                raise type(e)(f"{src}: episode {ep.index}: {e}") from e
            report.episodes.append(er)
            if progress:
                progress(done, len(present))
        for name in names:
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            _place(stage / name, dst / name, overwrite)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if index:
        report.index = build_index(dst)
    return report


def _place(staged: Path, final: Path, overwrite: bool) -> None:
    """Moves a written episode from the staging folder to its name (never over a file that
    appeared meanwhile, unless ``overwrite``)."""
    if overwrite:
        os.replace(staged, final)
        return
    try:
        os.link(staged, final)
    except FileExistsError:
        raise FileExistsError(f"{final}: exists (pass overwrite=True / --overwrite)") from None
    except OSError:  # no hard links here
        if final.exists():
            raise FileExistsError(f"{final}: exists (pass overwrite=True / --overwrite)") from None
        os.replace(staged, final)


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
    no_video: bool,
    missing: list[str],
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
        # Times are the dataset's `timestamp` column (seconds from the episode's first frame),
        # not a robot clock; to_lerobot's meta/rmf.json restores the original clock.
        "clock": "lerobot_timestamp",
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
            if no_video:
                er.skipped.append(Skipped(key, "video not imported (no_video / --no-video)"))
                continue
            if key not in ep.videos:
                er.skipped.append(Skipped(key, "no video_path / from_timestamp for it"))
                continue
            path, start = ep.videos[key]
            if not path.is_file():
                # A partial download: the rest of the episode is imported, the gap reported.
                er.skipped.append(Skipped(key, f"video file not found: {path}"))
                missing.append(f"episode {ep.index}: video {key!r} ({path})")
                continue
            w, h, src_codec = _video_size(path)
            fmt = "gray" if mapping.get("pixel_format") == "gray8" else "rgb24"
            pix = "gray8" if fmt == "gray" else "rgb8"
            use, why = _frame_codec(codec, w, h, pix)
            detail = f"{w}x{h} {pix} {use} (from {src_codec}: {_kept_as(use, qp, quality)})"
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
        if names is None and feat.get("names") is not None:
            er.warnings.append(
                f"{key}: names {json.dumps(feat.get('names'))[:200]} do not give one distinct "
                f"name per element ({count}): not kept as axis names"
            )
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
