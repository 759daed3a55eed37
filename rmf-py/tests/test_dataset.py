"""rmf.Dataset: samples checked against a brute-force numpy computation on jittered,
multi-rate episodes with dropped frames; pad masks at both edges; tolerance errors; the index;
and worker processes (fork and spawn, as DataLoader uses them) returning the same samples."""

import multiprocessing as mp
import subprocess
import sys

import numpy as np
import pytest

import rmf


def _write_episode(path, seed, seconds):
    rng = np.random.default_rng(seed)
    n_cam = 30 * seconds
    cam_t = np.arange(n_cam) * 33_333_333 + rng.integers(0, 2_000_000, n_cam)
    keep = np.arange(n_cam) % 7 != 3  # dropped frames
    cam_t = cam_t[keep]
    frames = (np.arange(n_cam)[keep, None, None] + np.zeros((1, 6, 8), int)).astype(np.uint8)
    ft_t = np.arange(1000 * seconds) * 1_000_000 + rng.integers(0, 200_000, 1000 * seconds)
    ft = np.stack([np.arange(ft_t.size), -np.arange(ft_t.size), ft_t * 1e-9], 1).astype(np.float32)
    act_t = np.arange(30 * seconds) * 33_333_333 + 5_000_000
    act = np.stack([np.arange(act_t.size), act_t], 1).astype(np.float64)
    with rmf.EpisodeWriter(path, chunk_seconds=0.25) as w:
        w.add_frames("cam", width=8, height=6, pixel_format="gray8", rate_hz=30)
        w.add_signal("ft", dtype="float32", shape=(3,), rate_hz=1000)
        w.add_signal("action", dtype="float64", shape=(2,), rate_hz=30)
        w.write_many("cam", cam_t.astype(np.int64), frames)
        w.write_many("ft", ft_t.astype(np.int64), ft)
        w.write_many("action", act_t.astype(np.int64), act)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("ds")
    _write_episode(root / "a.rmf", 1, 2)
    _write_episode(root / "b.rmf", 2, 1)
    report = rmf.index(root)
    assert report["added"] == ["a.rmf", "b.rmf"] and report["episodes"] == 2
    return root


STREAMS = {
    "cam": rmf.window(frames=[-1, 0]),
    "ft": rmf.window(seconds=(-0.01, 0.0)),
    "action": rmf.window(steps=range(0, 4)),
}


def _brute(ep, t):
    """The expected sample at reference time t, from whole-stream reads and numpy alone."""
    out = {}
    cam_t, cam = ep["cam"].read()
    r = int(np.flatnonzero(cam_t <= t)[-1])
    rows = [r - 1, r]
    out["cam_pad"] = np.array([k < 0 for k in rows])
    out["cam"] = cam[[max(k, 0) if k >= 0 else r for k in rows]]
    ft_t, ft = ep["ft"].read()
    inside = np.flatnonzero((ft_t <= t) & (ft_t > t - 10_000_000))[-10:]
    out["ft_real_t"] = ft_t[inside]
    out["ft_last"] = ft[inside[-1]]
    act_t, act = ep["action"].read()
    before = np.flatnonzero(act_t <= t)
    anchor = before[-1] if before.size else -1
    idx = anchor + np.arange(4)
    valid = (idx >= 0) & (idx < act_t.size)
    out["action_pad"] = ~valid
    out["action_real"] = act[idx[valid]]
    return out


def test_samples_match_brute_force_and_pad_at_both_edges(data_dir):
    ds = rmf.Dataset(data_dir, reference="cam", streams=STREAMS)
    eps = {e: rmf.open(data_dir / f) for e, f in zip(ds.episode_ids, ["a.rmf", "b.rmf"])}
    n_cam = sum(ep["cam"].count for ep in eps.values())
    assert len(ds) == n_cam
    seen_first = seen_last = False
    for i in list(range(0, len(ds), 5)) + [0, len(ds) - 1]:
        s = ds[i]
        want = _brute(eps[s["episode"]], s["t"])
        np.testing.assert_array_equal(s["cam_pad"], want["cam_pad"])
        np.testing.assert_array_equal(s["cam"], want["cam"])
        assert s["cam"].shape == (2, 6, 8) and s["cam"].dtype == np.uint8
        np.testing.assert_array_equal(s["ft_t"][~s["ft_pad"]], want["ft_real_t"])
        np.testing.assert_array_equal(s["ft"][-1], want["ft_last"])
        assert s["ft"].shape == (10, 3) and s["ft"].dtype == np.float32
        np.testing.assert_array_equal(s["action_pad"], want["action_pad"])
        np.testing.assert_array_equal(s["action"][~s["action_pad"]], want["action_real"])
        seen_first |= bool(s["cam_pad"][0])
        seen_last |= bool(s["action_pad"][-1])
    assert seen_first and seen_last, "both episode edges were sampled"
    with pytest.raises(IndexError):
        ds[len(ds)]
    assert ds[-1]["t"] == ds[len(ds) - 1]["t"]


def test_a_window_without_real_slots_repeats_the_nearest_sample(data_dir):
    # The next 16 actions asked after the last one: LeRobot repeats the last real value.
    nxt = rmf.Dataset(data_dir, reference="cam", streams={"action": rmf.window(steps=range(1, 17))})
    act_t, act = rmf.open(data_dir / "a.rmf")["action"].read()
    s = nxt.sample("a.rmf", int(act_t[-1]) + 1)
    assert s["action_pad"].all()
    np.testing.assert_array_equal(s["action"], np.broadcast_to(act[-1], s["action"].shape))
    np.testing.assert_array_equal(s["action_t"], np.full(16, act_t[-1]))
    # Before the first action: the first one.
    past = rmf.Dataset(data_dir, reference="cam", streams={"action": rmf.window(steps=[-3, -2])})
    s = past.sample("a.rmf", int(act_t[0]) - 1)
    assert s["action_pad"].all()
    np.testing.assert_array_equal(s["action"], np.broadcast_to(act[0], s["action"].shape))


def test_a_seconds_window_on_a_stream_without_a_rate_fails_at_construction(tmp_path):
    with rmf.EpisodeWriter(tmp_path / "e.rmf") as w:
        w.add_signal("ft", dtype="float32", shape=(6,))  # no rate_hz
        w.write_many("ft", np.arange(10, dtype=np.int64), np.zeros((10, 6), np.float32))
    rmf.index(tmp_path)
    with pytest.raises(ValueError, match=r'"ft" of episode .*e\.rmf.*no nominal rate.*rate_hz'):
        rmf.Dataset(tmp_path, reference=10.0, streams={"ft": rmf.window(seconds=(-0.1, 0.0))})
    ds = rmf.Dataset(tmp_path, reference=10.0, streams={"ft": rmf.window(steps=[-1, 0])})
    assert ds[0]["ft"].shape == (2, 6)


def test_asof_tolerance_errors_name_the_stream_or_pad(data_dir):
    strict = rmf.Dataset(data_dir, reference=100.0, streams={"action": rmf.asof(1e-6)})
    # Not a damaged file: a ValueError (as the stubs say), naming the stream and what pads it.
    with pytest.raises(ValueError, match="action.*pad=True"):
        strict[3]
    padded = rmf.Dataset(data_dir, reference=100.0, streams={"action": rmf.asof(1e-6, pad=True)})
    s = padded[3]
    assert s["action_pad"] is True and not s["action"].any()
    lin = rmf.Dataset(data_dir, reference=100.0, streams={"action": rmf.linear()})
    s = lin[40]
    assert s["action_pad"] is False and abs(s["action"][1] - s["t"]) < 1.0
    with pytest.raises(ValueError, match="exactly one"):
        rmf.window(frames=[0], seconds=(0, 1))
    with pytest.raises(ValueError, match="no stream"):
        rmf.Dataset(data_dir, reference="cam", streams={"nope": rmf.asof()})


def test_check_finds_the_samples_that_fail_and_sample_takes_any_time(tmp_path):
    _write_episode(tmp_path / "a.rmf", 1, 1)
    rmf.index(tmp_path)
    # The first camera frames come before the first action (5 ms): as of them, no action.
    ds = rmf.Dataset(tmp_path, reference="cam", streams={"action": rmf.asof()})
    refused = []
    for i in range(len(ds)):
        try:
            ds[i]
        except ValueError as e:
            refused.append((i, str(e)))
    assert refused and ds.check() == refused
    assert "pad=True" in refused[0][1]
    assert (
        rmf.Dataset(tmp_path, reference="cam", streams={"action": rmf.asof(pad=True)}).check() == []
    )
    # Any time: the sample at a reference time, and between two.
    s = ds[5]
    got = ds.sample("a.rmf", s["t"])
    assert got["t"] == s["t"] and got["action"].tobytes() == s["action"].tobytes()
    assert ds.sample(0, s["t"] + 1000)["action_t"] == s["action_t"]
    with pytest.raises(ValueError, match="no episode"):
        ds.sample("b.rmf", 0)


def test_a_directory_without_an_index_says_how_to_build_it(tmp_path):
    _write_episode(tmp_path / "a.rmf", 1, 1)
    with pytest.raises(FileNotFoundError, match=r"rmf\.index"):
        rmf.Dataset(tmp_path, reference="cam", streams=STREAMS)
    rmf.index(tmp_path)
    assert len(rmf.Dataset(tmp_path, reference="cam", streams=STREAMS)) > 0


def test_index_is_a_parquet_table_and_refreshes(data_dir):
    ds = rmf.Dataset(data_dir, reference="cam", streams={"cam": rmf.asof()})
    t = ds.episode_index
    assert t.num_rows == 2
    assert {"id", "file", "duration_s", "streams", "task"} <= set(t.column_names)
    counts = {s["name"]: s["count"] for s in t.column("streams").to_pylist()[0]}
    assert counts["ft"] == 2000
    assert rmf.index(data_dir)["added"] == []
    import pyarrow.parquet as pq

    assert t.equals(pq.read_table(data_dir / "episodes.parquet"))


def test_episode_index_does_not_import_pyarrow_parquet(data_dir):
    # A DataLoader worker pays about 1 s and 90 MiB for that module.
    code = (
        "import sys, rmf\n"
        f"ds = rmf.Dataset({str(data_dir)!r}, reference='cam', streams={{'cam': rmf.asof()}})\n"
        "assert ds.episode_index.num_rows == 2\n"
        "assert 'pyarrow.parquet' not in sys.modules, 'pyarrow.parquet was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _worker_samples(args):
    ds, indices = args
    return [(ds[i]["t"], ds[i]["cam"].tobytes(), ds[i]["action"].tobytes()) for i in indices]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_worker_processes_return_the_same_samples(data_dir, method):
    ds = rmf.Dataset(data_dir, reference="cam", streams=STREAMS)
    indices = list(range(0, len(ds), 7))
    direct = _worker_samples((ds, indices))
    ctx = mp.get_context(method)
    with ctx.Pool(2) as pool:
        halves = pool.map(_worker_samples, [(ds, indices[0::2]), (ds, indices[1::2])])
    merged = [None] * len(indices)
    merged[0::2], merged[1::2] = halves
    assert merged == direct


def _read_in_child(path):
    ep = rmf.open(path)
    return sum(ep[name].read()[1].size for name in ep)


def test_forks_while_rmf_threads_allocate_do_not_hang(data_dir, tmp_path):
    # The extension's allocator (mimalloc) has no fork handlers: a fork while one of rmf's own
    # threads (frame encoders, calls that can be interrupted) holds one of its locks would hang
    # the child. Fork repeatedly while a writer's encoder threads and reads are busy.
    import threading

    stop = threading.Event()

    def busy():
        k = 0
        while not stop.is_set():
            with rmf.EpisodeWriter(tmp_path / f"w{k % 2}.rmf", overwrite=True) as w:
                w.add_frames("cam", width=64, height=48, codec="png")
                frames = np.random.default_rng(k).integers(0, 256, (30, 48, 64, 3), np.uint8)
                w.write_many("cam", np.arange(30, dtype=np.int64) * 33_333_333, frames)
            rmf.open(data_dir / "a.rmf")["cam"].read()
            k += 1

    thread = threading.Thread(target=busy)
    thread.start()
    try:
        ctx = mp.get_context("fork")
        for _ in range(50):
            with ctx.Pool(1) as pool:
                got = pool.apply_async(_read_in_child, (data_dir / "b.rmf",))
                assert got.get(timeout=30) > 0  # a hung child fails here, not forever
    finally:
        stop.set()
        thread.join()


def test_stats_merge_to_those_of_the_concatenated_data(data_dir):
    ds = rmf.Dataset(data_dir, reference="cam", streams={})
    st = ds.stats["ft"]
    values = np.concatenate([rmf.open(data_dir / f)["ft"].read()[1] for f in ("a.rmf", "b.rmf")])
    values = values.astype(np.float64)
    np.testing.assert_array_equal(st["count"], [len(values)] * 3)
    np.testing.assert_allclose(st["mean"], values.mean(axis=0), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(st["std"], values.std(axis=0), rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(st["min"], values.min(axis=0))
    np.testing.assert_array_equal(st["max"], values.max(axis=0))
    for q, key in [(0.01, "q01"), (0.5, "q50"), (0.99, "q99")]:
        for j in range(3):
            below = (values[:, j] < st[key][j]).mean()
            upto = (values[:, j] <= st[key][j]).mean()
            assert below - 0.011 <= q <= upto + 0.011, (key, j, below, upto)


def test_events_are_labels(tmp_path):
    with rmf.EpisodeWriter(tmp_path / "e.rmf") as w:
        w.add_signal("s", dtype="float32", rate_hz=10)
        w.add_events("interventions")
        w.write_many(
            "s", np.arange(10, dtype=np.int64) * 100_000_000, np.arange(10, dtype=np.float32)
        )
        for t, kind in [(250, "takeover_start"), (420, "note"), (610, "takeover_end")]:
            w.write_event("interventions", t * 1_000_000, kind=kind, payload={"ms": t})
    rmf.index(tmp_path)
    ds = rmf.Dataset(
        tmp_path, reference="s", streams={"interventions": rmf.events(window=(-0.2, 0.0))}
    )
    inside = [ds[i]["interventions_inside"] for i in range(len(ds))]
    assert inside == [False, False, False, True, True, True, True, False, False, False]
    (note,) = ds[5]["interventions"]
    assert note["kind"] == "note" and note["payload"] == {"ms": 420} and note["t"] == 420_000_000
    with pytest.raises(ValueError, match="a < b"):
        rmf.events(window=(0.0, -1.0))


def test_a_rate_reference_keeps_the_tick_of_the_last_sample(tmp_path):
    # 290 frames at 30 fps end at round(289e9 / 30) ns: a float product put that just below
    # tick 289, and to-lerobot --fps 30 wrote 289 rows.
    t = np.round(np.arange(290) * 1e9 / 30).astype(np.int64)
    with rmf.EpisodeWriter(tmp_path / "e.rmf") as w:
        w.add_signal("s", dtype="float32", shape=(), rate_hz=30)
        w.write_many("s", t, np.arange(290, dtype=np.float32))
    rmf.index(tmp_path)
    ds = rmf.Dataset(tmp_path, reference=30.0, streams={"s": rmf.asof()})
    assert len(ds) == 290
    assert ds[289]["t"] == t[-1] and ds[289]["s"] == 289
