"""HDF5 import: robomimic and ALOHA files to RMF episodes (``from_hdf5``)."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..dataset import index as build_index
from ._common import (
    EVENTS_STREAM,
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
    _require,
    _seconds_to_ns,
    _shape_text,
    _signal_dtype,
)

_TIMESTAMPS = ("timestamp", "timestamps", "time", "times")
# ALOHA's joint order (act-plus-plus constants: 6 arm joints and a gripper, left then right).
_ALOHA_JOINTS = ["waist", "shoulder", "elbow", "forearm_roll", "wrist_angle", "wrist_rotate"]
ALOHA_NAMES = [f"{side}_{j}" for side in ("left", "right") for j in [*_ALOHA_JOINTS, "gripper"]]


def _h5py():
    return _require("h5py", "reading HDF5")


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
        # Where the times came from (not a robot clock): a timestamps dataset, or step numbers.
        "clock": f"hdf5:{clock_key}" if clock_key else "hdf5_steps",
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
