"""Episodes in an S3-compatible store (moto's server on loopback, started here): the same
values as from local disk, one request to open, only the chunks a read needs, and every fault
retried or reported, never a wrong value."""

from __future__ import annotations

import _thread
import os
import pathlib
import subprocess
import tempfile
import threading
from collections.abc import Iterator

import numpy as np
import pytest
from storeserver import Moto, Proxy, s3_environ

import rmf

BUCKET = "rmf-test"


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    m = Moto()
    env = s3_environ(m.url)
    saved = {k: os.environ.get(k) for k in env}
    # The store is reached from the environment alone, as a user's S3-compatible server is.
    os.environ.update(env)
    try:
        m.create_bucket(BUCKET)
        yield m
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        m.close()


@pytest.fixture(scope="module")
def proxy(moto: Moto) -> Iterator[Proxy]:
    p = Proxy(moto.port)
    yield p
    p.close()


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, rmf_cli: str, moto: Moto
) -> tuple[pathlib.Path, str]:
    d = tmp_path_factory.mktemp("demo")
    path = d / "demo.rmf"
    subprocess.run([rmf_cli, "demo", str(path), "--seconds", "2"], check=True, capture_output=True)
    url = f"s3://{BUCKET}/data/demo.rmf"
    report = rmf.copy(path, f"s3://{BUCKET}/data/")
    assert report["files"] == [{"from": str(path), "to": url, "bytes": path.stat().st_size}]
    return path, url


def via(proxy: Proxy) -> dict[str, str]:
    return {"aws_endpoint": proxy.url}


def test_a_remote_episode_reads_as_the_local_one(demo: tuple[pathlib.Path, str]) -> None:
    path, url = demo
    local, remote = rmf.open(path), rmf.open(url)
    assert remote.path == url
    assert remote.metadata == local.metadata
    assert list(remote.streams) == list(local.streams)
    for name in local.streams:
        assert remote[name].info == local[name].info
        a, b = local[name].read(), remote[name].read()
        for x, y in zip(a, b):
            if isinstance(x, np.ndarray):
                np.testing.assert_array_equal(x, y)
            else:
                assert x == y
    t0 = local["ft/wrist"].times()[0]
    for t in (t0, t0 + 123_456_789, t0 + 1_500_000_000):
        np.testing.assert_array_equal(local["cam/front"].at(t)[1], remote["cam/front"].at(t)[1])
        np.testing.assert_array_equal(local["joints"].at(t)[1], remote["joints"].at(t)[1])


def test_opening_costs_one_request_and_a_frame_its_chunk(
    demo: tuple[pathlib.Path, str], proxy: Proxy
) -> None:
    path, url = demo
    proxy.reset()
    ep = rmf.open(url, storage_options=via(proxy))
    assert proxy.log.gets() == 1, proxy.log.requests
    assert proxy.log.requests[0][2] is not None and proxy.log.requests[0][2].startswith("bytes=-")
    local = rmf.open(path)
    t = local["cam/front"].times()[40]
    proxy.reset()
    frame = ep["cam/front"].at(t)[1]
    np.testing.assert_array_equal(frame, local["cam/front"].at(t)[1])
    # The chunk holding the frame (and the 16-byte file header, checked with the first read):
    # not the file.
    assert proxy.log.gets() <= 2, proxy.log.requests
    assert proxy.log.body_bytes < path.stat().st_size / 2, proxy.log.requests


def test_transient_faults_are_retried(demo: tuple[pathlib.Path, str], proxy: Proxy) -> None:
    path, url = demo
    want = rmf.open(path)["joints"].read()[1]
    for fault in (
        {"status": 503, "status_times": 2},
        {"status": 429, "status_times": 1},
        {"reset_times": 2},
        {"short_times": 1},
    ):
        proxy.reset()
        for k, v in fault.items():
            setattr(proxy.faults, k, v)
        got = rmf.open(url, storage_options=via(proxy))["joints"].read()[1]
        np.testing.assert_array_equal(got, want)
        assert proxy.log.gets() >= 2, fault


@pytest.mark.parametrize("call", ["validate", "read"])
def test_ctrl_c_stops_a_call_while_it_waits(
    demo: tuple[pathlib.Path, str], proxy: Proxy, call: str
) -> None:
    """Ctrl-C lands while the call is certainly inside: the proxy holds one of its requests.
    validate waits on a worker thread and checks for Ctrl-C while it waits; read checks between
    chunks, so its request is released once the interrupt is pending."""
    path, url = demo
    proxy.reset()
    ep = rmf.open(url, storage_options=via(proxy))
    work = {
        "validate": lambda: rmf.validate(url, storage_options=via(proxy)),
        "read": lambda: ep["cam/front"].read(),
    }[call]
    hold = proxy.hold_next_get()

    def interrupt() -> None:
        if hold.reached.wait(60):
            _thread.interrupt_main()
        if call == "read":
            hold.release.set()

    helper = threading.Thread(target=interrupt)
    helper.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            work()
        assert hold.reached.is_set()
        # validate raised while its request was still held: it stopped without the answer.
        assert hold.release.is_set() == (call == "read")
    finally:
        hold.release.set()
        helper.join(60)
    proxy.reset()
    # The interrupted calls left nothing behind: the same calls complete.
    assert rmf.validate(url, storage_options=via(proxy)) == []
    np.testing.assert_array_equal(ep["cam/front"].read()[0], rmf.open(path)["cam/front"].times())


def test_a_lasting_fault_names_url_range_status_and_attempts(
    demo: tuple[pathlib.Path, str], proxy: Proxy
) -> None:
    _, url = demo
    proxy.reset()
    proxy.faults.status, proxy.faults.status_times = 503, 1000
    with pytest.raises(rmf.RemoteError) as e:
        rmf.open(url, storage_options=via(proxy))
    assert e.value.url == url
    assert e.value.status == 503
    assert e.value.attempts == 6
    assert isinstance(e.value, OSError)
    assert "503" in str(e.value) and url in str(e.value)
    proxy.reset()


def test_a_flipped_byte_is_a_checksum_error_not_a_value(
    demo: tuple[pathlib.Path, str], proxy: Proxy
) -> None:
    path, url = demo
    local = rmf.open(path)
    proxy.reset()
    ep = rmf.open(url, storage_options=via(proxy))
    # A byte inside the joints stream's data: the middle of the file's first joints chunk.
    proxy.reset()
    ep["joints"].read()
    ranged = [r for m, _, r in proxy.log.requests if m == "GET" and r]
    first = ranged[-1].split("=")[1]
    a, b = (int(x) for x in first.split("-"))
    proxy.reset()
    proxy.faults.flip_offset = b - 100
    ep2 = rmf.open(url, storage_options=via(proxy))
    with pytest.raises(rmf.RmfError) as e:
        ep2["joints"].read()
    assert e.value.kind in ("checksum", "malformed"), e.value
    proxy.reset()
    np.testing.assert_array_equal(
        rmf.open(url, storage_options=via(proxy))["joints"].read()[1], local["joints"].read()[1]
    )


def test_a_missing_object_is_file_not_found(moto: Moto) -> None:
    with pytest.raises(FileNotFoundError):
        rmf.open(f"s3://{BUCKET}/nope.rmf")


def test_copies_go_both_ways_whole(demo: tuple[pathlib.Path, str], tmp_path: pathlib.Path) -> None:
    path, url = demo
    back = tmp_path / "back.rmf"
    rmf.copy(url, back)
    assert back.read_bytes() == path.read_bytes()
    # A directory: everything under it, into a prefix.
    d = tmp_path / "set"
    (d / "sub").mkdir(parents=True)
    (d / "a.rmf").write_bytes(path.read_bytes())
    (d / "sub" / "b.rmf").write_bytes(path.read_bytes())
    r = rmf.copy(d, f"s3://{BUCKET}/set/")
    assert sorted(f["to"] for f in r["files"]) == [
        f"s3://{BUCKET}/set/a.rmf",
        f"s3://{BUCKET}/set/sub/b.rmf",
    ]
    out = tmp_path / "out"
    rmf.copy(f"s3://{BUCKET}/set/", out)
    assert (out / "sub" / "b.rmf").read_bytes() == path.read_bytes()


def test_a_large_copy_goes_in_parts_survives_faults_and_is_verified(
    moto: Moto, proxy: Proxy, tmp_path: pathlib.Path
) -> None:
    # 20 MiB: three parts of a multipart upload (parts are 8 MiB).
    data = np.random.default_rng(7).integers(0, 256, size=20 << 20, dtype=np.uint8).tobytes()
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    url = f"s3://{BUCKET}/big/big.bin"
    # A part refused with 503: the upload is aborted and sent again, and the copy is whole.
    proxy.reset()
    proxy.faults.status, proxy.faults.status_times, proxy.faults.only_method = 503, 1, "PUT"
    r = rmf.copy(src, url, storage_options=via(proxy))
    assert r["files"] == [{"from": str(src), "to": url, "bytes": len(data)}]
    starts = [p for m, p, _ in proxy.log.requests if m == "POST" and "?uploads" in p]
    assert len(starts) == 2, proxy.log.requests
    back = tmp_path / "back.bin"
    rmf.copy(url, back)
    assert back.read_bytes() == data
    # A byte changed on the way up: the read-back finds it and the object is removed.
    proxy.reset()
    proxy.faults.flip_upload_times = 1
    bad = f"s3://{BUCKET}/big/flipped.bin"
    with pytest.raises(rmf.RemoteError) as e:
        rmf.copy(src, bad, storage_options=via(proxy))
    assert e.value.url == bad and "differ" in str(e.value), e.value
    with pytest.raises(FileNotFoundError):
        rmf.copy(bad, tmp_path / "none.bin")
    assert not (tmp_path / "none.bin").exists()
    proxy.reset()


def test_the_cli_reads_urls(demo: tuple[pathlib.Path, str], rmf_cli: str, proxy: Proxy) -> None:
    path, url = demo

    def run(*a: str) -> str:
        return subprocess.run([rmf_cli, *a], check=True, capture_output=True, text=True).stdout

    assert run("validate", url).startswith(f"{url}: OK")
    local = run("info", str(path)).splitlines()[1:]
    remote = run("info", url, "--storage-option", f"aws_endpoint={proxy.url}").splitlines()[1:]
    assert remote == local
    d = pathlib.Path(tempfile.mkdtemp())
    for stream, ext in (("joints", "csv"), ("cam/front", "parquet")):
        run("export", "--stream", stream, str(path), str(d / f"local.{ext}"))
        run("export", "--stream", stream, url, str(d / f"remote.{ext}"))
        assert (d / f"local.{ext}").read_bytes() == (d / f"remote.{ext}").read_bytes(), stream


def test_the_cli_indexes_and_summarizes_a_remote_dataset(
    dataset: tuple[pathlib.Path, str], rmf_cli: str
) -> None:
    local, url = dataset

    def run(*a: str) -> str:
        return subprocess.run([rmf_cli, *a], check=True, capture_output=True, text=True).stdout

    assert run("index", url).startswith(f"{url}episodes.parquet: 3 episodes")
    assert run("stats", url, "--json") == run("stats", str(local), "--json")


STREAMS = {
    "cam/front": rmf.asof(),
    "joints": rmf.window(steps=range(-2, 1)),
    "ft/wrist": rmf.window(seconds=(-0.01, 0.0)),
    "action": rmf.window(steps=range(0, 4)),
    "interventions": rmf.events((-1.0, 0.0)),
}


@pytest.fixture(scope="module")
def dataset(
    tmp_path_factory: pytest.TempPathFactory, rmf_cli: str, moto: Moto
) -> tuple[pathlib.Path, str]:
    d = tmp_path_factory.mktemp("dataset")
    for k, seed in enumerate((1, 2, 3)):
        sub = d / ("a" if k < 2 else "b")
        sub.mkdir(exist_ok=True)
        subprocess.run(
            # JPEG cameras: frames are most of the bytes, as in real recordings.
            [
                rmf_cli,
                "demo",
                str(sub / f"ep{k}.rmf"),
                "--seconds",
                "1",
                "--seed",
                str(seed),
                "--codec",
                "jpeg",
            ],
            check=True,
            capture_output=True,
        )
    url = f"s3://{BUCKET}/dataset/"
    rmf.copy(d, url)
    rmf.index(d)
    return d, url


def assert_same_sample(a: dict, b: dict) -> None:
    """Two samples of `Dataset[i]`: the same keys, arrays and values."""
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], np.ndarray):
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        else:
            assert a[k] == b[k], k


def test_a_remote_index_reads_footers_and_signals_not_frames(
    dataset: tuple[pathlib.Path, str], proxy: Proxy
) -> None:
    local, _ = dataset
    url = f"s3://{BUCKET}/dataset-index/"  # a prefix no other test has indexed
    rmf.copy(local, url)
    proxy.reset()
    report = rmf.index(url, storage_options=via(proxy))
    # The local index came along with the copy: its rows are read again (the objects' times
    # are not the local files').
    read = sorted(report["added"] + report["updated"])
    assert read == ["a/ep0.rmf", "a/ep1.rmf", "b/ep2.rmf"]
    gets = [(p, r) for m, p, r in proxy.log.requests if m == "GET" and p.endswith(".rmf")]
    # Every episode read by ranges, never downloaded whole: its tail, then its signal chunks.
    assert all(r is not None for _, r in gets), gets
    assert sum(1 for _, r in gets if r and r.startswith("bytes=-")) == 3
    total = sum(p.stat().st_size for p in local.rglob("*.rmf"))
    assert proxy.log.body_bytes < total / 4, (proxy.log.body_bytes, total)
    # The same rows as an index built from local disk (but file times, which are the store's).
    local_rows = rmf.Dataset(local, "cam/front", STREAMS).episode_index.to_pylist()
    remote_rows = rmf.Dataset(url, "cam/front", STREAMS).episode_index.to_pylist()
    for a, b in zip(local_rows, remote_rows):
        a.pop("file_mtime_ns"), b.pop("file_mtime_ns")
        assert a == b
    # Unchanged files are not read again.
    proxy.reset()
    again = rmf.index(url, storage_options=via(proxy))
    assert again["added"] == again["updated"] == [] and again["episodes"] == 3
    assert not [p for m, p, _ in proxy.log.requests if m == "GET" and p.endswith(".rmf")]


def test_a_remote_dataset_samples_as_the_local_one(
    dataset: tuple[pathlib.Path, str], proxy: Proxy
) -> None:
    local_dir, url = dataset
    rmf.index(url)
    local = rmf.Dataset(local_dir, "cam/front", STREAMS)
    proxy.reset()
    remote = rmf.Dataset(url, "cam/front", STREAMS, storage_options=via(proxy))
    assert proxy.log.gets() == 1, proxy.log.requests  # the index alone
    assert len(remote) == len(local) and remote.episode_ids == local.episode_ids
    for i in (0, 1, len(local) // 2, len(local) - 1):
        assert_same_sample(local[i], remote[i])
    assert remote.stats.keys() == local.stats.keys()


def test_a_local_cache_serves_the_second_epoch(
    dataset: tuple[pathlib.Path, str], proxy: Proxy, tmp_path: pathlib.Path
) -> None:
    local_dir, url = dataset
    rmf.index(url)
    cache = tmp_path / "cache"
    picks = [0, 7, 20, 33]
    proxy.reset()
    first = rmf.Dataset(url, "cam/front", STREAMS, storage_options=via(proxy), cache_dir=cache)
    a = [first[i] for i in picks]
    fetched = proxy.log.gets()
    assert fetched > 1
    proxy.reset()
    # A new dataset (as a new epoch's worker would make): the index, then everything from disk.
    second = rmf.Dataset(url, "cam/front", STREAMS, storage_options=via(proxy), cache_dir=cache)
    b = [second[i] for i in picks]
    assert proxy.log.gets() == 1, proxy.log.requests
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x["cam/front"], y["cam/front"])
        np.testing.assert_array_equal(x["ft/wrist"], y["ft/wrist"])
    # Bounded: a cache of 1 byte keeps (about) nothing.
    tiny = tmp_path / "tiny"
    c = rmf.Dataset(url, "cam/front", STREAMS, cache_dir=tiny, cache_bytes=1)
    [c[i] for i in picks]
    held = sum(f.stat().st_size for f in tiny.rglob("*") if f.is_file())
    assert held < 200_000, held


def test_a_share_goes_from_store_to_store(
    dataset: tuple[pathlib.Path, str], tmp_path: pathlib.Path
) -> None:
    local, url = dataset
    out = f"s3://{BUCKET}/shared/"
    r = rmf.share(url, out, "public")
    want = rmf.share(local, tmp_path / "shared", "public")
    assert sorted(s["output"] for s in r["shared"]) == [
        f"{out}a/ep0.rmf",
        f"{out}a/ep1.rmf",
        f"{out}b/ep2.rmf",
    ]
    # The same streams kept as a local share keeps, and a copy that opens from the store.
    for s, w in zip(
        sorted(r["shared"], key=lambda x: x["output"]),
        sorted(want["shared"], key=lambda x: str(x["output"])),
    ):
        assert list(rmf.open(s["output"]).streams) == list(rmf.open(w["output"]).streams)
        assert "interventions" not in rmf.open(s["output"]).streams  # labelled internal


def test_a_batch_is_fetched_at_once_and_equals_single_samples(
    dataset: tuple[pathlib.Path, str], proxy: Proxy
) -> None:
    local_dir, url = dataset
    rmf.index(url)
    local = rmf.Dataset(local_dir, "cam/front", STREAMS)
    picks = [3, 40, 88, 17, 61]
    remote = rmf.Dataset(url, "cam/front", STREAMS, storage_options=via(proxy))
    [remote[i] for i in (0, 31, 62)]  # each episode opened, its timestamps read
    proxy.reset()
    batch = remote.__getitems__(picks)
    # One batch of requests for the five samples (one per chunk run), not five sequences.
    assert proxy.log.gets() <= 3 * len(picks), proxy.log.requests
    for i, b in zip(picks, batch):
        assert_same_sample(local[i], b)
    assert [s["t"] for s in local.__getitems__(picks)] == [s["t"] for s in batch]
