"""Ray Data sources: a dataset's training samples, or its episodes, as ``ray.data.Dataset``
rows, planned from ``episodes.parquet`` alone (no episode is opened to plan).

    import rmf.ray
    samples = rmf.ray.read_samples("s3://fleet/data/", reference="cam/front",
                                   streams={"cam/front": rmf.asof(), ...})
    episodes = rmf.ray.read_episodes("data/")      # one row per episode, with its "path"

Needs ``ray[data]`` (``pip install rmf[ray]``); importing ``rmf`` does not import ray.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .dataset import Dataset, index_table

# Samples decoded per call to `Dataset.__getitems__` in a read task (its Rust threads decode
# them at once) and per block handed to Ray.
BATCH = 64


def read_samples(
    root: str | os.PathLike[str],
    reference: str | float,
    streams: Mapping[str, Mapping[str, Any]],
    *,
    override_num_blocks: int | None = None,
    ray_remote_args: dict[str, Any] | None = None,
    **dataset_options: Any,
) -> Any:
    """The samples of ``rmf.Dataset(root, reference, streams, **dataset_options)`` as a
    ``ray.data.Dataset``: one row per sample, with the keys ``Dataset[i]`` gives (arrays become
    tensor columns; event lists stay Python objects), in sample order within each read task.

    Read tasks are groups of consecutive episodes balanced by their sample counts, which come
    from the index (as do the tasks' size estimates: the episodes' file sizes, a lower bound
    of the decoded size). Each task opens its own episodes where it runs. ``root`` may be an
    object-store URL; ``storage_options`` go in ``dataset_options``."""
    import ray.data

    source = _SampleSource(os.fspath(root), reference, dict(streams), dataset_options)
    return ray.data.read_datasource(
        source, override_num_blocks=override_num_blocks, ray_remote_args=ray_remote_args
    )


def read_episodes(
    root: str | os.PathLike[str], storage_options: Mapping[str, str] | None = None
) -> Any:
    """The episodes of ``root`` (its ``episodes.parquet``) as a ``ray.data.Dataset``: one row per
    episode with the index's columns and ``path``, the episode's path or URL, ready for
    ``map`` (transcode, validate, share one episode per task)."""
    import pyarrow as pa
    import ray.data

    root = os.fspath(root)
    table = index_table(root, storage_options)
    paths = [_join(root, f) for f in table.column("file").to_pylist()]
    return ray.data.from_arrow(table.append_column("path", pa.array(paths, pa.string())))


def _join(root: str, file: str) -> str:
    if "://" in root:
        return f"{root.rstrip('/')}/{file}"
    return os.path.join(root, file)


def _groups(starts: list[int], parts: int) -> list[tuple[int, int]]:
    """Consecutive episodes `[a, b)` cut into at most `parts` groups of about equal samples
    (an episode is never split: its chunks are read by one task): each cut is the episode
    boundary nearest to its share of the samples."""
    n = len(starts) - 1
    total = starts[-1] if starts else 0
    if n <= 0 or total == 0:
        return []
    parts = max(1, min(parts, n))
    groups: list[tuple[int, int]] = []
    a = 0
    for k in range(1, parts):
        target = total * k / parts
        # Leave at least one episode for each group after this one.
        last = n - (parts - k)
        b = min(range(a + 1, last + 1), key=lambda c: abs(starts[c] - target), default=a)
        if b > a:
            groups.append((a, b))
            a = b
    groups.append((a, n))
    return [(x, y) for x, y in groups if starts[y] > starts[x]]


def _columns(samples: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Samples as columns: arrays stacked with the sample first, other values as objects."""
    out: dict[str, np.ndarray] = {}
    for key, first in samples[0].items():
        values = [s[key] for s in samples]
        if isinstance(first, (np.ndarray, bool, int, float, np.generic)):
            out[key] = np.stack([np.asarray(v) for v in values])
        elif isinstance(first, str):
            out[key] = np.array(values, dtype=object)
        else:
            col = np.empty(len(values), dtype=object)
            col[:] = values
            out[key] = col
    return out


def _read_group(
    root: str,
    reference: str | float,
    streams: dict[str, Any],
    options: dict[str, Any],
    episodes: list[str],
) -> Iterable[Any]:
    from ray.data.block import BlockAccessor

    ds = Dataset(root, reference, streams, episodes=episodes, **options)
    n = len(ds)
    for lo in range(0, n, BATCH):
        batch = ds.__getitems__(list(range(lo, min(n, lo + BATCH))))
        yield BlockAccessor.batch_to_block(_columns(batch))


class _SampleSource:
    """The ``ray.data.Datasource`` of ``read_samples`` (made a subclass when ray is imported)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        from ray.data import Datasource

        if not issubclass(cls, Datasource):
            cls = type("RmfSamples", (cls, Datasource), {})
        return object.__new__(cls)

    def __init__(
        self,
        root: str,
        reference: str | float,
        streams: dict[str, Any],
        options: dict[str, Any],
    ) -> None:
        self.root, self.reference, self.streams, self.options = root, reference, streams, options
        plan = Dataset(root, reference, streams, **options)
        core = plan._open()
        self.starts = core.sample_starts()
        self.files = [f for _, f in core.episodes()]
        table = plan.episode_index
        sizes = dict(zip(table.column("file").to_pylist(), table.column("file_bytes").to_pylist()))
        self.sizes = [int(sizes.get(f) or 0) for f in self.files]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.__dict__,))

    def get_name(self) -> str:
        return "RmfSamples"

    def estimate_inmemory_data_size(self) -> int | None:
        return sum(self.sizes) or None

    def get_read_tasks(self, parallelism: int, **_: Any) -> list[Any]:
        from ray.data import ReadTask
        from ray.data.block import BlockMetadata

        tasks = []
        for a, b in _groups(self.starts, parallelism):
            files = self.files[a:b]
            meta = BlockMetadata(
                num_rows=self.starts[b] - self.starts[a],
                size_bytes=sum(self.sizes[a:b]) or None,
                exec_stats=None,
                input_files=[_join(self.root, f) for f in files],
            )
            args = (self.root, self.reference, self.streams, self.options, files)
            tasks.append(ReadTask(lambda args=args: _read_group(*args), meta))
        return tasks


def _rebuild(state: dict[str, Any]) -> Any:
    obj = _SampleSource.__new__(_SampleSource)
    obj.__dict__.update(state)
    return obj
