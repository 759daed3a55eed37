"""LeRobot export: an RMF dataset to LeRobot v3.0's layout (``to_lerobot``), rows sampled with
``rmf.Dataset``, videos encoded with PyAV.

``to_lerobot`` runs one helper per step: check the arguments, survey the episodes' streams
(``_survey_streams``), skip what cannot or may not go (``_skip_streams``), choose the features
(``_choose_features``), open the videos (``_open_videos``), read the episodes row by row
(``_export_episodes``: ``_episode_rows``, ``_add_columns``, ``_add_episode``), then write the
Parquet and JSON files (``_write_files``: ``_feature_columns``, ``_info_json``)."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .. import _rmf
from ..dataset import Dataset, asof, linear, nearest
from ..dataset import events as events_spec
from ..dataset import index as build_index
from ._common import (
    LEROBOT_BOOKKEEPING,
    RMF_META,
    ConversionReport,
    EpisodeReport,
    Mapped,
    Skipped,
    _av,
    _shape_text,
    _video_encoder_name,
)

# Sensitivity labels, least to most sensitive.
LABELS = ("public", "internal", "private")


def _lerobot_key(name: str, kind: str) -> str:
    key = name.replace("/", ".")
    if kind == "frames" and not key.startswith("observation.image"):
        key = f"observation.images.{key}"
    if key in LEROBOT_BOOKKEEPING:
        key = f"observation.{key}"
    return key


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


@dataclasses.dataclass
class _Plan:
    """What an export writes, decided from the streams before any row is read."""

    infos: dict[str, dict[str, Any]]  # stream -> layout, info, kind, dtype, shape, names, ...
    skipped: dict[str, str]  # stream (or "stream (event kinds)") -> why it is not exported
    spec: dict[str, dict[str, Any]]  # stream -> how rmf.Dataset aligns it to the rows
    features: dict[str, tuple[str, str]]  # rmf name -> (lerobot key, kind)
    takeover_streams: list[str]
    flag_keys: dict[str, str]  # takeover stream -> its bool column

    @property
    def frame_names(self) -> list[str]:
        return [n for n, (_, kind) in self.features.items() if kind == "frames"]


@dataclasses.dataclass
class _Gathered:
    """What the episodes gave, kept for the files written at the end."""

    tasks: list[str]
    columns: dict[str, list[np.ndarray]]  # feature key -> one array per episode
    book: dict[str, list[np.ndarray]]  # LeRobot bookkeeping column -> one array per episode
    episodes_rows: list[dict[str, Any]]  # rows of meta/episodes
    rmf_episodes: list[dict[str, Any]]  # episodes of meta/rmf.json
    video_offset: dict[str, float]  # frame stream -> where the next episode starts in its video
    total: int = 0  # rows so far


def to_lerobot(
    dataset_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    fps: float,
    reference: str | None = None,
    policy: str = "linear",
    feature_names: Mapping[str, str] | None = None,
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
    streams go under ``observation.images.``; ``feature_names`` renames (``{"joints":
    "observation.state"}``; ``--feature joints=observation.state`` on the command line).
    ``streams``: the streams to export (default all that every episode has). The episode's
    ``task`` metadata is its LeRobot task. ``progress(done,
    total)`` is called after each episode.

    LeRobot has no sensitivity labels, so streams labelled above ``max_label`` (default
    ``internal``: private streams stay behind) are not exported, each listed in the report;
    ``max_label="private"`` exports them too; encrypted streams (private) need ``key`` (32
    bytes or a key file) or ``passphrase`` as well. ``meta/rmf.json`` keeps every exported
    stream's label, so importing the copy again restores it.
    """
    root, out = Path(dataset_dir), Path(out_dir)
    # What opens encrypted streams.
    secret = {"key": key, "passphrase": passphrase}
    _check_export_args(root, out, fps, policy, max_label, overwrite)
    codec = _video_encoder_name(video_codec)
    idx = build_index(root)
    table = pq.read_table(root / "episodes.parquet", columns=["id", "file"])
    file_of = dict(zip(table["id"].to_pylist(), table["file"].to_pylist()))
    if not file_of:
        raise ValueError(f"{root}: no .rmf episodes")
    report = ConversionReport("to-lerobot", str(root), str(out), "LeRobot v3.0")
    if idx.get("failed"):
        report.notes.append(f"files not indexed (unreadable): {idx['failed']}")

    infos, seen_in, skipped, event_kinds = _survey_streams(root, file_of, secret)
    wanted = None if streams is None else list(streams)
    _skip_streams(root, file_of, infos, seen_in, skipped, wanted, reference, max_label)
    plan = _choose_features(root, infos, skipped, event_kinds, wanted, feature_names, policy, fps)

    ref = float(fps) if reference is None else reference
    ds = Dataset(root, reference=ref, streams=plan.spec, **secret)
    episode_ids = ds.episode_ids
    rate = Fraction(fps).limit_denominator(1001)
    fixed = reference is None
    videos = _open_videos(out, plan, codec, rate, crf, gop, fixed)
    try:
        gathered = _export_episodes(
            root, ds, episode_ids, file_of, plan, videos, codec, rate, report, secret, progress
        )
    finally:
        for v in videos.values():
            v.close()

    _write_files(root, out, plan, gathered, videos, codec, fps, reference, policy)
    report.notes.append(
        f"rows at {f'{fps:g} fps from each episode start' if fixed else f'{reference} times'}; "
        f"videos {codec} (crf {crf}, g {gop}, yuv420p); one data file and one video file per "
        f"camera; {RMF_META} keeps RMF names and episode start times"
    )
    if "" in gathered.tasks:
        report.notes.append("episodes without task metadata have the task ''")
    return report


def _check_export_args(
    root: Path, out: Path, fps: float, policy: str, max_label: str, overwrite: bool
) -> None:
    """The checks of ``to_lerobot``'s arguments that need no file read."""
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


def _survey_streams(
    root: Path, file_of: Mapping[str, str], secret: Mapping[str, Any]
) -> tuple[dict[str, dict[str, Any]], dict[str, int], dict[str, str], dict[str, set[str]]]:
    """Every stream of the episodes (opened one at a time): its layout and labels, in how many
    episodes it is, the event kinds of event streams, and the streams whose layout differs
    between episodes (skipped)."""
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
    return infos, seen_in, skipped, event_kinds


def _skip_streams(
    root: Path,
    file_of: Mapping[str, str],
    infos: Mapping[str, dict[str, Any]],
    seen_in: Mapping[str, int],
    skipped: dict[str, str],
    wanted: list[str] | None,
    reference: str | None,
    max_label: str,
) -> None:
    """Checks the streams asked for and the reference, and adds to ``skipped`` the streams that
    some episodes lack and those labelled above ``max_label``."""
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


def _choose_features(
    root: Path,
    infos: Mapping[str, dict[str, Any]],
    skipped: dict[str, str],
    event_kinds: Mapping[str, set[str]],
    wanted: list[str] | None,
    keys: Mapping[str, str] | None,
    policy: str,
    fps: float,
) -> _Plan:
    """The LeRobot feature of each exported stream and how ``rmf.Dataset`` aligns it; adds to
    ``skipped`` the streams LeRobot has no feature for."""
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
        raise ValueError(
            f"two streams map to one LeRobot feature: {used} (name them with feature_names= / "
            "--feature STREAM=NAME)"
        )
    if not features:
        raise ValueError(f"{root}: no signal or frame stream to export")
    return _Plan(infos, skipped, spec, features, takeover_streams, flag_keys)


def _open_videos(
    out: Path, plan: _Plan, codec: str, rate: Fraction, crf: int, gop: int, fixed: bool
) -> dict[str, _VideoOut]:
    """One MP4 file per frame stream."""
    infos, features = plan.infos, plan.features
    videos: dict[str, _VideoOut] = {}
    frame_names = plan.frame_names
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
    return videos


def _export_episodes(
    root: Path,
    ds: Dataset,
    episode_ids: list[str],
    file_of: Mapping[str, str],
    plan: _Plan,
    videos: Mapping[str, _VideoOut],
    codec: str,
    rate: Fraction,
    report: ConversionReport,
    secret: Mapping[str, Any],
    progress: Callable[[int, int], None] | None,
) -> _Gathered:
    """Reads the episodes' rows: signal values and takeover flags into columns, frames into the
    videos, one ``EpisodeReport`` per episode into ``report``."""
    features, flag_keys = plan.features, plan.flag_keys
    columns: dict[str, list[np.ndarray]] = {k: [] for k, _ in features.values()}
    columns.update({k: [] for k in flag_keys.values()})
    gathered = _Gathered(
        tasks=[],
        columns=columns,
        book={k: [] for k in LEROBOT_BOOKKEEPING},
        episodes_rows=[],
        rmf_episodes=[],
        video_offset={name: 0.0 for name in plan.frame_names},
    )
    tasks = gathered.tasks
    i = 0
    n_samples = len(ds)
    for e, ep_id in enumerate(episode_ids):
        file = file_of[ep_id]
        # One episode open at a time (for nearest()).
        ep = _rmf.open(root / file, **secret)
        er = EpisodeReport(file, f"episode {e}")
        meta = ep.metadata
        task = meta.get("task") or ""
        if task not in tasks:
            tasks.append(task)
        rows, times, start, filled, i = _episode_rows(
            ds, i, n_samples, e, ep, plan, videos, gathered.video_offset
        )
        n = len(rows)
        if n == 0:
            er.warnings.append("no rows")
            report.episodes.append(er)
            continue
        ts_rel = (np.asarray(times, np.int64) - start) / 1e9
        _add_columns(gathered, plan, rows, filled, codec, er)
        _add_episode(gathered, plan, rate, e, file, meta, task, n, start, ts_rel)
        er.rows = n
        er.duration_s = float(ts_rel[-1])
        report.episodes.append(er)
        gathered.total += n
        if progress:
            progress(e + 1, len(episode_ids))
    return gathered


def _episode_rows(
    ds: Dataset,
    i: int,
    n_samples: int,
    e: int,
    ep: _rmf.Episode,
    plan: _Plan,
    videos: Mapping[str, _VideoOut],
    video_offset: Mapping[str, float],
) -> tuple[list[dict[str, Any]], list[int], int | None, dict[str, int], int]:
    """The rows of episode ``e`` from sample ``i`` of ``ds`` on (its frames go into the videos):
    the signal values and takeover flags of each row, the rows' times, the first time, how many
    rows of each feature took the nearest sample, and the sample after the episode."""
    features, takeover_streams = plan.features, plan.takeover_streams
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
    return rows, times, start, filled, i


def _add_columns(
    gathered: _Gathered,
    plan: _Plan,
    rows: list[dict[str, Any]],
    filled: Mapping[str, int],
    codec: str,
    er: EpisodeReport,
) -> None:
    """One episode's signal and takeover columns, and what went where in its report."""
    columns, spec, skipped = gathered.columns, plan.spec, plan.skipped
    features, flag_keys = plan.features, plan.flag_keys
    for name, (key, kind) in features.items():
        if kind == "signal":
            values = np.stack([r[name] for r in rows])
            columns[key].append(values)
            detail = _shape_text(str(values.dtype), values.shape[1:])
            detail += f" {spec[name]['policy']}"
        else:
            detail = f"{codec} video, {spec[name]['policy']}"
        if filled[name]:
            detail += f"; {filled[name]} rows from the nearest sample (none within 1.5 periods)"
        er.mapped.append(Mapped(name, key, kind, detail))
    for name, key in flag_keys.items():
        columns[key].append(np.array([r[name] for r in rows], np.bool_))
        er.mapped.append(Mapped(name, key, "events", "inside a takeover"))
    for name, why in skipped.items():
        er.skipped.append(Skipped(name, why))


def _add_episode(
    gathered: _Gathered,
    plan: _Plan,
    rate: Fraction,
    e: int,
    file: str,
    meta: Mapping[str, Any],
    task: str,
    n: int,
    start: int,
    ts_rel: np.ndarray,
) -> None:
    """One episode's bookkeeping columns, its row of meta/episodes (with its place in each
    video) and its entry in meta/rmf.json."""
    book, tasks, total = gathered.book, gathered.tasks, gathered.total
    features, video_offset = plan.features, gathered.video_offset
    episodes_rows, rmf_episodes = gathered.episodes_rows, gathered.rmf_episodes
    frame_names = plan.frame_names
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


def _write_files(
    root: Path,
    out: Path,
    plan: _Plan,
    gathered: _Gathered,
    videos: Mapping[str, _VideoOut],
    codec: str,
    fps: float,
    reference: str | None,
    policy: str,
) -> None:
    """The data, tasks and episodes Parquet files, meta/info.json, meta/stats.json and
    meta/rmf.json."""
    tasks = gathered.tasks
    episodes_rows, rmf_episodes = gathered.episodes_rows, gathered.rmf_episodes
    takeover_streams = plan.takeover_streams
    # Files.
    (out / "data" / "chunk-000").mkdir(parents=True, exist_ok=True)
    (out / "meta" / "episodes" / "chunk-000").mkdir(parents=True, exist_ok=True)
    data, feats, stats, rmf_streams = _feature_columns(plan, gathered, videos, codec, fps)
    pq.write_table(pa.table(data), out / "data" / "chunk-000" / "file-000.parquet")
    pq.write_table(_tasks_table(tasks), out / "meta" / "tasks.parquet")
    pq.write_table(
        pa.Table.from_pylist(episodes_rows),
        out / "meta" / "episodes" / "chunk-000" / "file-000.parquet",
    )
    info_json = _info_json(gathered, feats, fps)
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


def _feature_columns(
    plan: _Plan,
    gathered: _Gathered,
    videos: Mapping[str, _VideoOut],
    codec: str,
    fps: float,
) -> tuple[dict[str, pa.Array], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The data file's columns, info.json's features, stats.json, and the streams of
    meta/rmf.json."""
    infos, features, flag_keys = plan.infos, plan.features, plan.flag_keys
    columns, book = gathered.columns, gathered.book
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
    return data, feats, stats, rmf_streams


def _info_json(gathered: _Gathered, feats: dict[str, Any], fps: float) -> dict[str, Any]:
    """meta/info.json."""
    tasks, total = gathered.tasks, gathered.total
    episodes_rows, rmf_episodes = gathered.episodes_rows, gathered.rmf_episodes
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
    return info_json
