"""Files cross the language boundary both ways; truncated files recover; threads share readers."""

import json
import math
import subprocess
import threading
import time

import numpy as np
import pytest

import rmf


def as_json_number(x):
    if isinstance(x, float) and math.isnan(x):
        return "NaN"
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


@pytest.mark.parametrize(
    "case",
    ["empty", "every-kind", "signals-all-dtypes", "frame-codecs", "multi-chunk", "truncated"],
)
def test_python_reads_the_rust_conformance_files(testdata, case):
    expected = json.loads((testdata / "conformance" / f"{case}.json").read_text())
    path = testdata / "conformance" / f"{case}.rmf"
    if expected["finished"]:
        ep = rmf.open(path)
    else:
        with pytest.warns(RuntimeWarning, match="opened by scanning"):
            ep = rmf.open(path)
    assert (ep.recovery is None) == expected["finished"]
    assert ep.metadata == expected["episode"]
    assert [ep[n].info for n in ep] == expected["streams"]
    for name, rows in expected["samples"].items():
        s = ep[name]
        if s.kind == "signal":
            t, v = s.read()
            assert t.tolist() == [r["t"] for r in rows]
            got = [[as_json_number(x) for x in row.reshape(-1).tolist()] for row in v]
            want = [r["value"] for r in rows]
            assert got == want, name
        elif s.kind == "frames":
            t, frames = s.read()
            assert t.tolist() == [r["t"] for r in rows]
            assert [f.tobytes().hex() for f in frames] == [r["frame_hex"] for r in rows]
        elif s.kind == "audio":
            starts = s.times().tolist()
            assert starts == [r["t"] for r in rows]
            _, samples = s.read()
            flat = [x for r in rows for x in r["samples"]]
            assert samples.reshape(-1).tolist() == flat
        else:
            tbl = ep.events(name)
            assert tbl.column("kind").to_pylist() == [r["kind"] for r in rows]
            payloads = [
                None if p is None else json.loads(p) for p in tbl.column("payload").to_pylist()
            ]
            assert payloads == [r["payload"] for r in rows]


def test_rust_reads_what_python_wrote(tmp_path, rmf_cli, conformance_reader):
    path = tmp_path / "py.rmf"
    rng = np.random.default_rng(0)
    ft = rng.normal(size=(5000, 6)).astype(np.float32)
    frame = rng.integers(0, 256, size=(8, 16, 3), dtype=np.uint8)
    mic = rng.integers(-32768, 32767, size=(100, 2), dtype=np.int16)
    with rmf.EpisodeWriter(path, metadata={"task": "interop"}) as w:
        w.add_signal("ft", dtype="float32", shape=(6,), rate_hz=1000)
        w.add_frames("cam", width=16, height=8, pixel_format="rgb8")
        w.add_audio("mic", sample_rate=8000, channels=2)
        w.add_events("log")
        w.write_many("ft", np.arange(5000, dtype=np.int64) * 1_000_000, ft)
        w.write("cam", 0, frame)
        w.write_audio("mic", 3, mic)
        w.write_event("log", 7, kind="note", text="from python", payload={"k": [1, 2]})
    out = subprocess.run([rmf_cli, "validate", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr

    # The Rust reader's view of every sample equals what Python wrote.
    seen = json.loads(
        subprocess.run(
            [conformance_reader, str(path)], capture_output=True, text=True, check=True
        ).stdout
    )
    assert seen["finished"] and seen["episode"]["task"] == "interop"
    rows = seen["samples"]["ft"]
    assert [r["t"] for r in rows] == list(range(0, 5_000_000_000, 1_000_000))
    np.testing.assert_array_equal(np.array([r["value"] for r in rows], np.float32), ft)
    assert seen["samples"]["cam"][0]["frame_hex"] == frame.tobytes().hex()
    assert seen["samples"]["mic"][0]["samples"] == mic.reshape(-1).tolist()
    assert seen["samples"]["log"][0] == {
        "t": 7,
        "kind": "note",
        "operator": "",
        "text": "from python",
        "payload": {"k": [1, 2]},
    }
    assert rmf.validate(path) == []


def test_a_truncated_file_opens_and_recovers(tmp_path):
    path = tmp_path / "full.rmf"
    ts = np.arange(20_000, dtype=np.int64) * 1_000_000
    vals = np.arange(20_000, dtype=np.float64)
    with rmf.EpisodeWriter(path, chunk_seconds=1.0) as w:
        w.add_signal("s", dtype="float64", shape=())
        w.write_many("s", ts, vals)
    data = path.read_bytes()
    cut = tmp_path / "cut.rmf"
    cut.write_bytes(data[: len(data) // 2])
    # Opening says the file was not whole, and what was kept.
    with pytest.warns(RuntimeWarning, match=r"cut\.rmf: .*opened by scanning") as said:
        ep = rmf.open(cut)
    assert ep.recovery is not None and ep.recovery.chunks > 0
    assert f"{ep.recovery.chunks} intact chunks" in str(said[0].message)
    t, v = ep["s"].read()
    assert len(t) > 0 and len(t) % 1000 == 0  # whole 1 s chunks only
    np.testing.assert_array_equal(v, vals[: len(v)])

    fixed = tmp_path / "fixed.rmf"
    report = rmf.recover(cut, fixed)
    assert report.chunks == ep.recovery.chunks and len(report.damage) == 1
    assert "truncated" in str(report)
    assert rmf.open(fixed).recovery is None
    assert rmf.validate(fixed) == []
    with pytest.raises(ValueError):
        rmf.recover(cut, cut)


def test_threads_share_one_episode(tmp_path):
    path = tmp_path / "t.rmf"
    n = 50_000
    with rmf.EpisodeWriter(path, chunk_seconds=1.0) as w:
        w.add_signal("s", dtype="float32", shape=(6,))
        w.write_many(
            "s",
            np.arange(n, dtype=np.int64) * 1_000_000,
            np.arange(n * 6, dtype=np.float32).reshape(n, 6),
        )
    ep = rmf.open(path)
    s = ep["s"]
    errors = []
    results = {}

    def work(k):
        try:
            rng = np.random.default_rng(k)
            for _ in range(200):
                t = int(rng.integers(0, n)) * 1_000_000
                v = s.at(t)
                assert v[0] == (t // 1_000_000) * 6
            results[k] = ep["s"].read(10_000_000_000, 12_000_000_000)[1].sum()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert len(set(results.values())) == 1


def test_reads_release_the_gil(tmp_path):
    path = tmp_path / "g.rmf"
    with rmf.EpisodeWriter(path) as w:
        w.add_frames("cam", width=640, height=480, pixel_format="rgb8")
        frame = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
        w.write_many(
            "cam", np.arange(60, dtype=np.int64), np.broadcast_to(frame, (60, 480, 640, 3))
        )
    cam = rmf.open(path)["cam"]
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    th = threading.Thread(target=ticker)
    th.start()
    time.sleep(0.01)
    start = time.perf_counter()
    for _ in range(3):
        cam.read()
    end = time.perf_counter()
    stop.set()
    th.join()
    during = [t for t in ticks if start <= t <= end]
    # With the GIL held for the whole read the ticker could not run at all.
    assert len(during) >= max(3, int((end - start) / 0.001) // 10), (len(during), end - start)


def test_every_public_name_has_a_docstring():
    for name in rmf.__all__:
        obj = getattr(rmf, name)
        if name == "__version__":
            continue
        assert (obj.__doc__ or "").strip(), name
        for attr, member in vars(obj).items() if isinstance(obj, type) else []:
            if attr.startswith("_") or not callable(member) and not isinstance(member, property):
                continue
            assert (getattr(member, "__doc__", "") or "").strip(), f"{name}.{attr}"
    doc = rmf.EpisodeWriter.__doc__
    for word in ("metadata", "compression_level", "chunk_seconds", "overwrite", "fsync"):
        assert word in doc, word
