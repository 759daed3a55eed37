"""rmf.ray on a local Ray (2 CPUs, started here): read_samples rows equal rmf.Dataset samples for
the same reference times, planned from the index alone; read_episodes + map transcodes a
dataset."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import rmf

ray = pytest.importorskip("ray")
import rmf.ray  # noqa: E402  (after the skip: it needs ray)

STREAMS = {
    "cam": rmf.window(frames=[-1, 0]),
    "ft": rmf.window(seconds=(-0.01, 0.0)),
    "action": rmf.asof(pad=True),
}


def _write_episode(path: pathlib.Path, seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    cam_t = (np.arange(n) * 33_333_333).astype(np.int64)
    ft_t = (np.arange(n * 33) * 1_000_000).astype(np.int64)
    with rmf.EpisodeWriter(path, chunk_seconds=0.5) as w:
        w.add_frames("cam", width=16, height=8, pixel_format="rgb8", rate_hz=30)
        w.add_signal("ft", dtype="float32", shape=(3,), rate_hz=1000)
        w.add_signal("action", dtype="float64", shape=(2,), rate_hz=30)
        w.write_many("cam", cam_t, rng.integers(0, 255, (n, 8, 16, 3), dtype=np.uint8))
        w.write_many("ft", ft_t, rng.normal(size=(ft_t.size, 3)).astype(np.float32))
        w.write_many("action", cam_t + 1_000_000, rng.normal(size=(n, 2)))


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    # A small object store: the test's blocks are kilobytes, and /dev/shm may be small.
    ray.init(
        num_cpus=2,
        object_store_memory=100 << 20,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    root = tmp_path_factory.mktemp("raydata")
    for k, n in enumerate((40, 25, 61, 10)):
        _write_episode(root / f"ep{k}.rmf", k, n)
    rmf.index(root)
    return root


def _key(s: dict[str, Any]) -> tuple[Any, ...]:
    return (
        s["episode"],
        int(s["t"]),
        np.asarray(s["cam"]).tobytes(),
        np.asarray(s["cam_pad"]).tobytes(),
        np.asarray(s["ft"]).tobytes(),
        np.asarray(s["action"]).tobytes(),
        bool(s["action_pad"]),
    )


def test_sample_rows_equal_the_dataset_samples(local_ray: None, data_dir: pathlib.Path) -> None:
    want = rmf.Dataset(data_dir, reference="cam", streams=STREAMS)
    rows = rmf.ray.read_samples(data_dir, reference="cam", streams=STREAMS, override_num_blocks=3)
    got = list(rows.iter_rows())
    assert len(got) == len(want) == 136
    assert set(got[0]) == set(want[0])
    assert sorted(map(_key, got)) == sorted(_key(want[i]) for i in range(len(want)))


def test_read_tasks_come_from_the_index_alone(data_dir: pathlib.Path) -> None:
    source = rmf.ray._SampleSource(str(data_dir), "cam", STREAMS, {})
    tasks = source.get_read_tasks(2)
    # Episodes of 40, 25, 61 and 10 samples in two groups of whole episodes.
    assert [t.metadata.num_rows for t in tasks] == [65, 71]
    assert sum(t.metadata.size_bytes for t in tasks) == sum(
        f.stat().st_size for f in data_dir.glob("*.rmf")
    )
    assert rmf.ray._groups([0, 40, 65, 126, 136], 10) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert rmf.ray._groups([0, 0], 4) == []


def _transcode(row: dict[str, Any], out: str) -> dict[str, Any]:
    dst = pathlib.Path(out) / row["file"]
    report = rmf.transcode(row["path"], dst, codec="png")
    return {"file": row["file"], "bytes": int(report["output_bytes"])}


def test_episodes_map_transcodes_a_dataset(
    local_ray: None, data_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    episodes = rmf.ray.read_episodes(data_dir)
    assert episodes.count() == 4
    done = episodes.map(lambda row: _transcode(row, str(tmp_path))).take_all()
    assert sorted(d["file"] for d in done) == [f"ep{k}.rmf" for k in range(4)]
    rmf.index(tmp_path)
    a = rmf.Dataset(data_dir, reference="cam", streams=STREAMS)
    b = rmf.Dataset(tmp_path, reference="cam", streams=STREAMS)
    assert len(a) == len(b)
    for i in (0, 50, len(a) - 1):
        assert _key(a[i]) == _key(b[i])  # PNG is lossless
