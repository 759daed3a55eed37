"""Training datasets: a directory of episodes sampled at reference times.

Each sample is one moment of one episode: a sample of the reference stream (its real
timestamp) or a tick of a fixed rate, with every other stream aligned to it (as-of, nearest,
linear) or windowed around it (past frames, the last 100 ms of force, the next 16 actions),
each with a pad mask. Nothing is resampled on disk; alignment happens at read time.

    ds = rmf.Dataset("data/", reference="cam/front",
                     streams={"cam/front": rmf.window(frames=[-1, 0]),
                              "ft/wrist": rmf.window(seconds=(-0.1, 0.0)),
                              "action": rmf.window(steps=range(0, 16)),
                              "joints": rmf.asof(),
                              "interventions": rmf.events(window=(-1.0, 0.0))})
    sample = ds[i]   # dict of numpy arrays, "<name>_pad" masks, "<name>_t" source times

``rmf.Dataset`` is a map-style dataset that ``torch.utils.data.DataLoader`` takes as is, with
any number of workers (fork or spawn): it pickles as its configuration and each process opens
its own episodes. It does not import torch.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._rmf import DatasetCore, build_index
from ._rmf import index_table as _index_table
from ._types import IndexReport, StreamStats

INDEX_FILE = "episodes.parquet"


def window(
    *,
    frames: Iterable[int] | None = None,
    steps: Iterable[int] | None = None,
    seconds: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """A window of a stream's own samples around the reference time.

    ``steps``: offsets in samples, 0 being the last sample at or before the reference time
    (``range(0, 16)``: the current action and the next 15). ``frames`` is the same for cameras
    (``[-1, 0]``: the previous and the current frame). ``seconds=(a, b)``: the samples in
    ``(t + a, t + b]``, as ``round((b - a) * rate)`` slots of the stream's nominal rate, the
    newest last. Slots past an episode's edge (or outside the span) are padding: ``_pad`` is
    True there and the value repeats the nearest real slot of the window.
    """
    given = [x is not None for x in (frames, steps, seconds)]
    if sum(given) != 1:
        raise ValueError("window takes exactly one of frames=, steps= or seconds=")
    if seconds is not None:
        a, b = seconds
        return {"kind": "seconds", "from": float(a), "to": float(b)}
    offsets = [int(k) for k in (frames if frames is not None else steps)]
    if not offsets:
        raise ValueError("a window needs at least one offset")
    return {"kind": "steps", "steps": offsets}


def events(window: tuple[float, float] = (-1.0, 0.0)) -> dict[str, Any]:
    """An event stream (interventions, notes) as labels: ``sample[name]`` is the list of events
    in ``(t + a, t + b]`` seconds (dicts: t, kind, operator, text, payload) and
    ``sample[name + "_inside"]`` whether ``t`` is inside an intervention (the last
    ``takeover_start`` or ``takeover_end`` event at or before ``t`` is a ``takeover_start``)."""
    a, b = window
    if not float(a) < float(b):
        raise ValueError(f"an events window (a, b] needs a < b, got {window}")
    return {"kind": "events", "from": float(a), "to": float(b)}


def _at(policy: str, tolerance: float | None, pad: bool) -> dict[str, Any]:
    return {"kind": "at", "policy": policy, "tolerance_s": tolerance, "pad": bool(pad)}


def asof(tolerance: float | None = None, *, pad: bool = False) -> dict[str, Any]:
    """The last sample at or before the reference time, at most ``tolerance`` seconds old
    (default: 1.5 periods of the stream's rate). Outside it: an error naming the stream and time,
    or with ``pad=True`` zeros and ``<name>_pad`` True."""
    return _at("asof", tolerance, pad)


def nearest(tolerance: float | None = None, *, pad: bool = False) -> dict[str, Any]:
    """The sample closest to the reference time (the earlier on a tie); see ``asof``."""
    return _at("nearest", tolerance, pad)


def linear(tolerance: float | None = None, *, pad: bool = False) -> dict[str, Any]:
    """Float signals only: interpolated between the samples around the reference time, both
    within ``tolerance``; see ``asof``."""
    return _at("linear", tolerance, pad)


class Dataset:
    """The episodes of ``root`` (as listed in ``root/episodes.parquet``, see ``rmf.index``),
    as one sequence of samples. ``reference``: a stream name, or a rate in Hz for a fixed
    timeline. ``streams``: name -> ``rmf.window(...)`` / ``rmf.asof()`` / ``rmf.nearest()`` /
    ``rmf.linear()``. ``episodes``: ids or files to use (default all). At most
    ``max_open_episodes`` episode files are open at once per process. ``key`` (32 bytes or a
    key-file path) or ``passphrase`` opens encrypted streams; it is pickled with the dataset
    for DataLoader workers, so prefer a key-file path to raw bytes. ``chunk_cache_bytes``
    bounds the decoded signal chunks kept between samples (per process, so per DataLoader
    worker; default 32 MiB; 0 keeps none). ``root`` may be an object-store URL
    (``s3://bucket/data/``): the index is read with one request and each episode opened on first
    use by one range request for its footer, then only the chunks a sample needs;
    ``storage_options`` (``aws_endpoint``, ``aws_region``, ...) override the cloud's environment
    variables. ``cache_dir`` keeps the bytes fetched from a store on local disk for later epochs
    (at most ``cache_bytes``, default 10 GiB, least recently used dropped first; DataLoader
    workers may share it). ``batch_threads``: threads that decode a batch
    (``__getitems__``; default 2), so one process can do the work of several DataLoader
    workers."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        reference: str | float,
        streams: Mapping[str, Mapping[str, Any]],
        episodes: Iterable[str] | None = None,
        max_open_episodes: int = 16,
        key: bytes | str | os.PathLike[str] | None = None,
        passphrase: str | None = None,
        chunk_cache_bytes: int = 32 << 20,
        storage_options: Mapping[str, str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        cache_bytes: int = 10 << 30,
        batch_threads: int = 2,
    ) -> None:
        self.root = os.fspath(root)
        self.storage_options = None if storage_options is None else dict(storage_options)
        self.cache_dir = None if cache_dir is None else os.fspath(cache_dir)
        self.cache_bytes = int(cache_bytes)
        self.batch_threads = int(batch_threads)
        self.reference = reference
        self.streams = {str(k): dict(v) for k, v in streams.items()}
        self.episodes = None if episodes is None else [str(e) for e in episodes]
        self.max_open_episodes = int(max_open_episodes)
        self.key = key if key is None or isinstance(key, bytes) else os.fspath(key)
        self.passphrase = passphrase
        self.chunk_cache_bytes = int(chunk_cache_bytes)
        self._core: DatasetCore | None = None
        self._core_pid = -1
        self._open()  # fail early on a bad configuration

    def _open(self) -> DatasetCore:
        # One core per process: a forked DataLoader worker opens its own files.
        if self._core is None or self._core_pid != os.getpid():
            self._core = DatasetCore(
                self.root,
                self.reference,
                list(self.streams.items()),
                self.episodes,
                self.max_open_episodes,
                self.key,
                self.passphrase,
                self.chunk_cache_bytes,
                self.storage_options,
                self.cache_dir,
                self.cache_bytes,
                self.batch_threads,
            )
            self._core_pid = os.getpid()
        return self._core

    def __len__(self) -> int:
        return len(self._open())

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self._open().get(int(i))

    def __getitems__(self, indices: Sequence[int]) -> list[dict[str, Any]]:
        """A batch of samples (PyTorch's DataLoader calls this with a batch's indices), decoded
        on ``batch_threads`` Rust threads; from an object store, the chunks of the whole batch
        are fetched at once. ``rmf.collate`` stacks them (torch's default collate does too)."""
        return self._open().get_many([int(i) for i in indices])

    def sample(self, episode: int | str, t: int) -> dict[str, Any]:
        """The sample of ``episode`` (its position in ``episode_ids``, its id or its file) at
        time ``t`` (ns on the episode's clock), at any time, not only the reference timeline's:
        the same keys and rules as ``ds[i]``."""
        return self._open().sample(episode, int(t))

    def check(self) -> list[tuple[int, str]]:
        """Every index ``ds[i]`` would refuse, with the message it would raise (a stream read
        with ``asof()`` that starts after the reference stream, a gap longer than the
        tolerance), found from timestamps alone: nothing is decoded. Empty when every sample
        reads. ``pad=True`` on the stream, or a larger tolerance, accepts such samples."""
        return self._open().check()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_core"] = None
        state["_core_pid"] = -1
        return state

    @property
    def episode_ids(self) -> list[str]:
        """Ids of the episodes used, in sample order."""
        return [i for i, _ in self._open().episodes()]

    @property
    def stats(self) -> dict[str, StreamStats]:
        """Normalization statistics of every signal stream over the episodes used, merged from
        the index without reading the episodes: ``stats[name]["mean"]`` and ``count``,
        ``non_finite``, ``std``, ``min``, ``max``, ``q01``, ``q05``, ``q50``, ``q95``, ``q99``,
        each an array with one entry per element. Quantiles are within 1 % of rank."""
        return self._open().stats()

    @property
    def episode_index(self):
        """The index (``episodes.parquet``) as a ``pyarrow.Table``."""
        return index_table(self.root, self.storage_options)

    def __repr__(self) -> str:
        return f"Dataset({self.root!r}, reference={self.reference!r}, {len(self)} samples)"


def index_table(root: str, storage_options: Mapping[str, str] | None = None) -> Any:
    """``root/episodes.parquet`` (a directory or an object-store prefix) as a ``pyarrow.Table``,
    read without importing ``pyarrow.parquet``."""
    opts = None if storage_options is None else dict(storage_options)
    return _index_table(os.fspath(root), opts)


def index(
    root: str | os.PathLike[str], storage_options: Mapping[str, str] | None = None
) -> IndexReport:
    """Builds or refreshes ``root/episodes.parquet`` from the ``.rmf`` files under ``root`` (a
    directory or an object-store prefix such as ``s3://bucket/data/``); files whose size and
    time did not change are not read again. Returns what it did."""
    opts = None if storage_options is None else dict(storage_options)
    return build_index(os.fspath(root), opts)
