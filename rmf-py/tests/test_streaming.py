"""rmf.StreamingDataset: every sample once per epoch across ranks and workers, an order that is
a function of seed and epoch, the same values as rmf.Dataset, resumption from a state (also
with another number of workers), batches, and the prefetch budget."""

from __future__ import annotations

import multiprocessing as mp
import pathlib
from typing import Any

import numpy as np
import pytest

import rmf

STREAMS = {
    "cam": rmf.window(frames=[-1, 0]),
    "ft": rmf.window(seconds=(-0.01, 0.0)),
    "action": rmf.window(steps=range(0, 4)),
}


def _write_episode(path: pathlib.Path, seed: int, n: int) -> None:
    """`n` camera frames at 30 Hz, force at 1 kHz, actions at 30 Hz."""
    rng = np.random.default_rng(seed)
    seconds = n // 30 + 1
    cam_t = np.arange(n) * 33_333_333 + rng.integers(0, 2_000_000, n)
    frames = rng.integers(0, 255, (n, 6, 8), dtype=np.uint8)
    ft_t = np.arange(1000 * seconds) * 1_000_000
    ft = rng.normal(size=(ft_t.size, 3)).astype(np.float32)
    act_t = np.arange(n) * 33_333_333 + 5_000_000
    act = rng.normal(size=(n, 2))
    with rmf.EpisodeWriter(path, chunk_seconds=0.5) as w:
        w.add_frames("cam", width=8, height=6, pixel_format="gray8", rate_hz=30)
        w.add_signal("ft", dtype="float32", shape=(3,), rate_hz=1000)
        w.add_signal("action", dtype="float64", shape=(2,), rate_hz=30)
        w.write_many("cam", cam_t.astype(np.int64), frames)
        w.write_many("ft", ft_t.astype(np.int64), ft)
        w.write_many("action", act_t.astype(np.int64), act)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    root = tmp_path_factory.mktemp("stream")
    # 60 + 91 + 30 = 181 samples: odd, so two ranks have a remainder.
    for name, seed, n in (("a.rmf", 1, 60), ("b.rmf", 2, 91), ("c.rmf", 3, 30)):
        _write_episode(root / name, seed, n)
    rmf.index(root)
    return root


def _stream(data_dir: pathlib.Path, **kw: Any) -> rmf.StreamingDataset:
    kw.setdefault("block", 8)
    kw.setdefault("shuffle_buffer", 32)
    return rmf.StreamingDataset(data_dir, reference="cam", streams=STREAMS, **kw)


def _key(s: dict[str, Any]) -> tuple[Any, ...]:
    return (s["episode"], s["t"], s["cam"].tobytes(), s["ft"].tobytes(), s["action"].tobytes())


def _merge_batches(shares: list[list[Any]], batch: int) -> list[Any]:
    """What a DataLoader yields: a batch from each worker in turn, skipping finished ones."""
    out: list[Any] = []
    at = [0] * len(shares)
    while any(a < len(s) for a, s in zip(at, shares)):
        for k, s in enumerate(shares):
            out.extend(s[at[k] : at[k] + batch])
            at[k] = min(at[k] + batch, len(s))
    return out


@pytest.mark.parametrize("drop", [True, False])
def test_two_ranks_of_two_workers_visit_every_sample_once(
    data_dir: pathlib.Path, drop: bool
) -> None:
    n = len(rmf.Dataset(data_dir, reference="cam", streams=STREAMS))
    seen: list[int] = []
    for rank in (0, 1):
        ds = _stream(data_dir, rank=rank, world_size=2, seed=5, drop_remainder=drop)
        for worker in (0, 1):
            seen += ds.order(worker=worker, num_workers=2)
        assert len(ds) == (n // 2 if drop else -(-n // 2))
    if drop:
        assert len(seen) == len(set(seen)) == n - n % 2
    else:
        assert set(seen) == set(range(n)) and len(seen) == n + n % 2


def test_the_order_depends_on_seed_and_epoch_only(data_dir: pathlib.Path) -> None:
    a = _stream(data_dir, seed=1, rank=0, world_size=2).order()
    assert a == _stream(data_dir, seed=1, rank=0, world_size=2).order()
    other = _stream(data_dir, seed=1, rank=0, world_size=2)
    other.set_epoch(1)
    assert other.order() != a
    assert _stream(data_dir, seed=2, rank=0, world_size=2).order() != a
    # Ranks come from the environment when not given.
    assert _stream(data_dir, seed=1).ranks() == (0, 1)


def test_samples_equal_the_map_style_dataset(data_dir: pathlib.Path) -> None:
    ds = _stream(data_dir, seed=3, rank=1, world_size=2, threads=3)
    plain = rmf.Dataset(data_dir, reference="cam", streams=STREAMS)
    got = list(ds)
    order = ds.order()
    assert len(got) == len(order) == len(ds)
    for s, i in zip(got, order):
        assert _key(s) == _key(plain[i])
        assert s.keys() == plain[i].keys()


def _worker_share(args: tuple[rmf.StreamingDataset, int, int]) -> list[tuple[Any, ...]]:
    ds, worker, workers = args
    ds.worker, ds.num_workers = worker, workers
    return [_key(s) for s in ds]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_worker_processes_together_yield_the_rank_order(
    data_dir: pathlib.Path, method: str
) -> None:
    ds = _stream(data_dir, seed=4, rank=0, world_size=1, batch_size=4)
    whole = [_key(s) for s in ds]
    with mp.get_context(method).Pool(2) as pool:
        shares = pool.map(_worker_share, [(ds, 0, 2), (ds, 1, 2)])
    assert _merge_batches(shares, 4) == whole


@pytest.mark.parametrize("workers_after", [1, 3])
def test_a_loaded_state_continues_with_the_rest_of_the_epoch(
    data_dir: pathlib.Path, workers_after: int
) -> None:
    full = _stream(data_dir, seed=9, epoch=2, batch_size=4)
    uninterrupted = [_key(s) for s in full]
    # Interrupted after 5 batches of 4, iterated in this process.
    first = _stream(data_dir, seed=9, epoch=2, batch_size=4)
    it = iter(first)
    head = [_key(next(it)) for _ in range(20)]
    state = first.state_dict()
    assert state["samples_seen"] == 20 and head == uninterrupted[:20]
    # A new run (another seed given: the state's wins), with another number of workers.
    again = _stream(data_dir, seed=0, batch_size=4)
    again.load_state_dict(state)
    shares = []
    for k in range(workers_after):
        again.worker, again.num_workers = k, workers_after
        shares.append([_key(s) for s in again])
    assert _merge_batches(shares, 4) == uninterrupted[20:]
    # A state saved from the training loop's count (DataLoader workers) says the same.
    assert first.state_dict(samples_seen=20) == state
    with pytest.raises(ValueError, match="world of 1"):
        _stream(data_dir, rank=0, world_size=2).load_state_dict(state)


def test_batches_stack_the_samples(data_dir: pathlib.Path) -> None:
    ds = _stream(data_dir, seed=6, batch_size=16)
    samples = list(ds)
    batches = list(ds.batches())
    assert [len(b["t"]) for b in batches] == [16] * (len(samples) // 16) + (
        [len(samples) % 16] if len(samples) % 16 else []
    )
    b = batches[1]
    np.testing.assert_array_equal(b["cam"], np.stack([s["cam"] for s in samples[16:32]]))
    np.testing.assert_array_equal(b["cam_pad"], np.stack([s["cam_pad"] for s in samples[16:32]]))
    assert b["cam"].shape == (16, 2, 6, 8)
    assert b["episode"] == [s["episode"] for s in samples[16:32]]


def test_getitems_on_threads_equals_one_by_one(data_dir: pathlib.Path) -> None:
    ds = rmf.Dataset(data_dir, reference="cam", streams=STREAMS, batch_threads=3)
    idx = [5, 180, 0, 64, 64, 99, 33]
    assert [_key(s) for s in ds.__getitems__(idx)] == [_key(ds[i]) for i in idx]


def test_prefetch_stays_within_its_budget(data_dir: pathlib.Path) -> None:
    one = rmf.Dataset(data_dir, reference="cam", streams=STREAMS)[0]
    size = sum(v.nbytes for v in one.values() if isinstance(v, np.ndarray))
    budget = 4 * size
    ds = _stream(data_dir, threads=2, prefetch_bytes=budget)
    core = ds.dataset._open()
    stream = core.stream(ds._spec(), 2, budget)
    peak, n = 0, 0
    for _ in stream:
        peak = max(peak, stream.held_bytes())
        n += 1
    assert n == len(ds)
    # The budget, plus at most one sample per thread being finished.
    assert 0 < peak <= budget + 2 * size, (peak, budget, size)


def test_torch_dataloader_workers(data_dir: pathlib.Path) -> None:
    torch = pytest.importorskip("torch")
    ds = _stream(data_dir, seed=8, batch_size=4)
    assert isinstance(ds, torch.utils.data.IterableDataset)
    whole = list(ds)
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2)
    got = [t for b in loader for t in b["t"].tolist()]
    assert got == [s["t"] for s in whole]
