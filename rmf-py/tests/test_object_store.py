"""Episodes in an S3-compatible store (moto's server on loopback, started here): the same
values as from local disk, one request to open, only the chunks a read needs, and every fault
retried or reported, never a wrong value."""

from __future__ import annotations

import os
import pathlib
import subprocess
from collections.abc import Iterator

import numpy as np
import pytest
from storeserver import Moto, Proxy

import rmf

BUCKET = "rmf-test"


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    m = Moto()
    saved = {k: os.environ.get(k) for k in ENV}
    # The store is reached from the environment alone, as a user's S3-compatible server is.
    os.environ.update(ENV_VALUES(m.url))
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


ENV = (
    "AWS_ENDPOINT_URL",
    "AWS_ALLOW_HTTP",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "AWS_EC2_METADATA_DISABLED",
)


def ENV_VALUES(url: str) -> dict[str, str]:  # noqa: N802 (a constant's shape)
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


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


def test_the_cli_reads_urls(demo: tuple[pathlib.Path, str], rmf_cli: str, proxy: Proxy) -> None:
    path, url = demo

    def run(*a: str) -> str:
        return subprocess.run([rmf_cli, *a], check=True, capture_output=True, text=True).stdout

    assert run("validate", url).startswith(f"{url}: OK")
    local = run("info", str(path)).splitlines()[1:]
    remote = run("info", url, "--storage-option", f"aws_endpoint={proxy.url}").splitlines()[1:]
    assert remote == local
