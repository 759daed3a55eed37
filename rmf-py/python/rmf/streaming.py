"""A streaming loader: every sample of a dataset once per epoch across ranks and DataLoader
workers, in an order that is a pure function of the seed, the epoch, the rank and the world
size, read and decoded ahead on Rust threads, and resumable mid-epoch.

    ds = rmf.StreamingDataset("data/", reference="cam/front", streams={...},
                              seed=0, batch_size=32)
    loader = torch.utils.data.DataLoader(ds, batch_size=32, num_workers=2)
    for epoch in range(10):
        ds.set_epoch(epoch)
        for step, batch in enumerate(loader):
            ...
            if step % 1000 == 0:
                save(ds.state_dict(samples_seen=(step + 1) * 32))

The order (spec/dataset.md, "Streaming order"): each episode's samples are cut into blocks of
``block`` consecutive samples and the blocks shuffled; rank ``r`` of ``w`` takes its span of
the result (``len(ds)`` samples each); a shuffle buffer of ``shuffle_buffer`` samples mixes the
span; DataLoader worker ``k`` of ``K`` takes every ``K``-th group of ``batch_size`` samples.
The DataLoader hands out its workers' batches in turn, so the batches a rank sees are its order,
in order, for any number of workers: a state of "``samples_seen`` samples" resumes with another
number of workers. Give the DataLoader the same ``batch_size``.

It does not import torch. When torch is imported first, ``StreamingDataset(...)`` is also a
``torch.utils.data.IterableDataset`` (the DataLoader needs that to treat it as a stream), the
rank and world size come from ``torch.distributed`` when it is initialised, and the worker from
``torch.utils.data.get_worker_info()``. Every one of them can be given instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .dataset import Dataset

STATE_VERSION = 1


def _torch_iterable() -> type | None:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        return torch.utils.data.IterableDataset  # type: ignore[no-any-return]
    except AttributeError:
        return None


class StreamingDataset:
    """Samples of ``rmf.Dataset(root, reference, streams, **dataset_options)`` as a stream (see
    the module documentation). Each item is the dict ``Dataset[i]`` returns.

    ``seed``, ``epoch`` (or ``set_epoch``): the order. ``rank``, ``world_size``: default from
    ``torch.distributed`` when initialised, else the ``RANK`` and ``WORLD_SIZE`` environment
    variables, else 0 and 1. ``worker``, ``num_workers``: default from the DataLoader worker
    this runs in, else 0 and 1. ``batch_size``: the DataLoader's batch size (workers take
    whole batches in turn). ``block``: consecutive samples kept together (default 64; they
    share chunks, so they read once). ``shuffle_buffer``: samples mixed at once (default 1024;
    0 mixes nothing beyond the blocks). ``drop_remainder``: leave out the ``n mod world_size``
    samples that do not divide among the ranks instead of repeating some from the start
    (``DistributedSampler``'s ``drop_last``). ``threads``: samples decoded ahead at once on Rust
    threads (per DataLoader worker). ``prefetch_bytes``: decoded bytes held ahead at most
    (default 256 MiB; memory is that plus one sample per thread)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> StreamingDataset:
        base = _torch_iterable()
        if base is not None and not issubclass(cls, base):
            cls = _with_torch(cls, base)
        return super().__new__(cls)

    def __init__(
        self,
        root: str | os.PathLike[str],
        reference: str | float,
        streams: Mapping[str, Mapping[str, Any]],
        *,
        seed: int = 0,
        epoch: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
        worker: int | None = None,
        num_workers: int | None = None,
        batch_size: int = 1,
        block: int = 64,
        shuffle_buffer: int = 1024,
        drop_remainder: bool = False,
        threads: int = 2,
        prefetch_bytes: int = 256 << 20,
        **dataset_options: Any,
    ) -> None:
        self.dataset = Dataset(root, reference, streams, **dataset_options)
        self.seed = _count("seed", seed)
        self.epoch = _count("epoch", epoch)
        self.rank, self.world_size = rank, world_size
        self.worker, self.num_workers = worker, num_workers
        self.batch_size = _count("batch_size", batch_size, least=1)
        self.block = _count("block", block, least=1)
        self.shuffle_buffer = _count("shuffle_buffer", shuffle_buffer)
        self.drop_remainder = bool(drop_remainder)
        self.threads = _count("threads", threads, least=1)
        self.prefetch_bytes = _count("prefetch_bytes", prefetch_bytes)
        self._skip = 0  # samples of this epoch to pass over (a loaded state)
        self._yielded = 0  # samples this process yielded in this epoch, past the skip
        self.ranks()  # fail early on a bad rank or world size

    def __reduce__(self) -> tuple[Any, ...]:
        # The class may be made on the fly (with torch's base): rebuild through this one.
        return (_rebuild, (self.__dict__,))

    def ranks(self) -> tuple[int, int]:
        """This process's rank and the world size."""
        return _place(self.rank, self.world_size, _distributed, "rank {} is not in a world of {}")

    def workers(self) -> tuple[int, int]:
        """This DataLoader worker and the number of workers (0 and 1 outside a worker)."""
        return _place(self.worker, self.num_workers, _worker_info, "worker {} is not one of {}")

    def set_epoch(self, epoch: int) -> None:
        """Starts epoch ``epoch`` from its beginning (call it before each epoch, on every rank)."""
        self.epoch = _count("epoch", epoch)
        self._skip = 0
        self._yielded = 0

    def __len__(self) -> int:
        """Samples this rank visits in an epoch (all its workers together)."""
        _, world = self.ranks()
        return self.dataset._open().per_rank(world, self.drop_remainder)

    def order(self, *, worker: int | None = None, num_workers: int | None = None) -> list[int]:
        """The dataset indices this rank (and worker) visits in the current epoch, in order,
        past a loaded state's samples: what iterating yields, without reading anything."""
        return self.dataset._open().order(self._spec(worker, num_workers))

    def _spec(self, worker: int | None = None, num_workers: int | None = None) -> dict[str, Any]:
        """The order's parameters for this rank and worker (``DatasetCore.order``)."""
        rank, world = self.ranks()
        w, k = self.workers()
        return {
            "seed": self.seed,
            "epoch": self.epoch,
            "rank": rank,
            "world_size": world,
            "worker": w if worker is None else worker,
            "num_workers": k if num_workers is None else num_workers,
            "skip": self._skip,
            "group": self.batch_size,
            "block": self.block,
            "buffer": self.shuffle_buffer,
            "drop_remainder": self.drop_remainder,
        }

    def __iter__(self) -> Iterator[dict[str, Any]]:
        stream = self.dataset._open().stream(self._spec(), self.threads, self.prefetch_bytes)
        for sample in stream:
            self._yielded += 1
            yield sample

    def batches(self, batch_size: int | None = None) -> Iterator[dict[str, Any]]:
        """This rank's samples in batches of ``batch_size`` (default the ``batch_size`` given),
        each stacked by ``rmf.collate``: one process, decoding on its Rust threads."""
        n = self.batch_size if batch_size is None else _count("batch_size", batch_size, least=1)
        batch: list[dict[str, Any]] = []
        for sample in self:
            batch.append(sample)
            if len(batch) == n:
                yield collate(batch)
                batch = []
        if batch:
            yield collate(batch)

    def state_dict(self, samples_seen: int | None = None) -> dict[str, Any]:
        """Where this rank stands in the epoch: restore it with ``load_state_dict`` to continue
        with exactly the samples not yet seen. ``samples_seen``: the samples the training loop
        took from the DataLoader this epoch (batches × batch size); without it, the samples this
        object yielded in this process (right when it is iterated without DataLoader workers)."""
        rank, world = self.ranks()
        seen = self._skip + self._yielded if samples_seen is None else int(samples_seen)
        return {
            "version": STATE_VERSION,
            "seed": self.seed,
            "epoch": self.epoch,
            "rank": rank,
            "world_size": world,
            "samples_seen": seen,
            "batch_size": self.batch_size,
            "block": self.block,
            "shuffle_buffer": self.shuffle_buffer,
            "drop_remainder": self.drop_remainder,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continues from ``state`` (``state_dict()`` of a run with the same world size; the
        number of workers may differ): the next iteration yields the rest of that epoch, in the
        order the interrupted run would have used. The order's parameters come from the state."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"not a StreamingDataset state of version {STATE_VERSION}: {state}")
        _, world = self.ranks()
        if int(state["world_size"]) != world:
            raise ValueError(
                f"the state is of a world of {state['world_size']} ranks, this one has {world}: "
                "the samples of each rank would differ"
            )
        self.seed = _count("seed", state["seed"])
        self.epoch = _count("epoch", state["epoch"])
        self.block = _count("block", state["block"], least=1)
        self.shuffle_buffer = _count("shuffle_buffer", state["shuffle_buffer"])
        self.drop_remainder = bool(state["drop_remainder"])
        self._skip = _count("samples_seen", state["samples_seen"])
        self._yielded = 0

    def __repr__(self) -> str:
        rank, world = self.ranks()
        return (
            f"StreamingDataset({self.dataset.root!r}, epoch={self.epoch}, rank={rank}/{world}, "
            f"{len(self)} samples per rank)"
        )


def collate(samples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Stacks samples (dicts as ``Dataset[i]`` returns) into one batch: each array-valued key
    becomes one array with the batch first (``np.stack``), numbers and flags one array, and
    other values (episode ids, event lists) a list."""
    if not samples:
        return {}
    out: dict[str, Any] = {}
    for key, first in samples[0].items():
        values = [s[key] for s in samples]
        if isinstance(first, (np.ndarray, bool, int, float, np.generic)):
            out[key] = np.stack([np.asarray(v) for v in values])
        else:
            out[key] = values
    return out


def _count(name: str, value: Any, least: int = 0) -> int:
    v = int(value)
    if v < least:
        raise ValueError(f"{name} must be at least {least}, got {value}")
    return v


def _place(
    index: int | None, count: int | None, detect: Callable[[], tuple[int, int]], bad: str
) -> tuple[int, int]:
    """`(index, count)` as given, the missing ones from `detect()`, checked."""
    if index is None or count is None:
        i, n = detect()
        index = i if index is None else index
        count = n if count is None else count
    if not (count >= 1 and 0 <= index < count):
        raise ValueError(bad.format(index, count))
    return int(index), int(count)


def _distributed() -> tuple[int, int]:
    torch = sys.modules.get("torch")
    if torch is not None:
        dist = getattr(torch, "distributed", None)
        if dist is not None and dist.is_available() and dist.is_initialized():
            return int(dist.get_rank()), int(dist.get_world_size())
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def _worker_info() -> tuple[int, int]:
    torch = sys.modules.get("torch")
    if torch is not None:
        info = torch.utils.data.get_worker_info()
        if info is not None:
            return int(info.id), int(info.num_workers)
    return 0, 1


_WITH_TORCH: dict[type, type] = {}


def _with_torch(cls: type, base: type) -> type:
    """``cls`` with torch's ``IterableDataset`` as a second base (made once)."""
    if cls not in _WITH_TORCH:
        _WITH_TORCH[cls] = type(cls.__name__, (cls, base), {"__module__": cls.__module__})
    return _WITH_TORCH[cls]


def _rebuild(state: dict[str, Any]) -> StreamingDataset:
    obj = StreamingDataset.__new__(StreamingDataset)
    obj.__dict__.update(state)
    return obj
