"""Edits never touch their input: a full disk or a kill in the middle of `rmf drop-stream` or
`rmf transcode` leaves the input byte for byte as it was and no output file."""

import hashlib
import resource
import signal
import subprocess
import time

import numpy as np
import pytest

import rmf


@pytest.fixture(scope="module")
def episode(tmp_path_factory):
    """About 18 MB: raw noise frames (incompressible) and a signal."""
    path = tmp_path_factory.mktemp("edit") / "in.rmf"
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 256, size=(20, 480, 640, 3), dtype=np.uint8)
    with rmf.EpisodeWriter(path) as w:
        w.add_frames("cam", width=640, height=480)
        w.add_signal("s", dtype="float32", shape=(3,), rate_hz=100)
        w.write_many("cam", np.arange(20, dtype=np.int64) * 33_333_333, frames)
        w.write_many(
            "s", np.arange(100, dtype=np.int64) * 10_000_000, rng.random((100, 3), np.float32)
        )
    return path


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _limit_file_size():
    # Writes past 2 MB fail with EFBIG, as on a full disk (the signal would kill instead).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, 2 << 20))


def test_a_full_disk_fails_the_edit_cleanly(rmf_cli, episode, tmp_path):
    before = _digest(episode)
    out = tmp_path / "out.rmf"
    p = subprocess.run(
        [rmf_cli, "drop-stream", str(episode), str(out), "--stream", "s"],
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size,
    )
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("rmf: error:") and "panicked" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert _digest(episode) == before
    assert list(tmp_path.iterdir()) == [], "no output and no temporary file"


def test_a_kill_in_the_middle_leaves_the_input_and_no_output(rmf_cli, episode, tmp_path):
    before = _digest(episode)
    out = tmp_path / "out.rmf"
    p = subprocess.Popen([rmf_cli, "transcode", str(episode), str(out), "--codec", "png"])
    # Kill it as soon as its temporary file exists: in the middle of writing.
    deadline = time.monotonic() + 10
    while not any(tmp_path.iterdir()) and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.001)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert p.returncode == -signal.SIGKILL, "the edit finished before it could be killed"
    assert _digest(episode) == before
    assert not out.exists(), "the output appears only when complete"
    # Whatever the kill left is a temporary file beside it, never the output's name.
    assert all(f.name.startswith("out.rmf.tmp-") for f in tmp_path.iterdir())


def test_exported_h264_is_a_stream_ffmpeg_decodes_to_the_same_pixels(rmf_cli, tmp_path):
    av = pytest.importorskip("av")  # test.sh installs it; H.264 decoding is bit-exact
    path = tmp_path / "gray.rmf"
    yy, xx = np.mgrid[0:48, 0:64]
    frames = np.stack([((xx * 3 + yy * 2 + 5 * k) % 256) for k in range(24)]).astype(np.uint8)
    t = np.arange(24, dtype=np.int64) * 33_333_333
    with rmf.EpisodeWriter(path, chunk_seconds=0.3) as w:  # several chunks
        w.add_frames("cam", width=64, height=48, pixel_format="gray8", codec="h264", gop=4)
        w.write_many("cam", t, frames)
    out = tmp_path / "out"
    subprocess.run([rmf_cli, "export-frames", str(path), "--stream", "cam", str(out)], check=True)
    with av.open(str(out / "frames.h264"), format="h264") as c:
        luma = [f.to_ndarray(format="yuv420p")[:48] for f in c.decode(video=0)]
    ours = rmf.open(path)["cam"].read()[1]
    assert len(luma) == 24
    np.testing.assert_array_equal(np.stack(luma), ours)
    lines = (out / "timestamps.csv").read_text().splitlines()
    assert lines[0] == "frame,file,t_ns" and lines[5] == f"4,frames.h264,{t[4]}"


def test_trim_split_merge_redact(tmp_path):
    src = tmp_path / "src.rmf"
    with rmf.EpisodeWriter(src, chunk_seconds=0.05) as w:
        w.add_signal("x", dtype="float64", shape=(2,))
        w.add_events("log")
        for i in range(300):
            w.write("x", i * 1_000_000, np.array([i, -i], np.float64))
        w.write_event("log", 100_000_000, kind="takeover_start")
    t_all, v_all = rmf.open(src)["x"].read()

    rmf.trim(src, tmp_path / "t.rmf", 50_000_000, 120_500_000)
    t, v = rmf.open(tmp_path / "t.rmf")["x"].read()
    keep = (t_all >= 50_000_000) & (t_all < 120_500_000)
    assert np.array_equal(t, t_all[keep]) and np.array_equal(v, v_all[keep])

    parts = rmf.split(src, tmp_path / "parts", at_event="takeover_start", at_ns=[200_000_123])
    assert [p.name for p in parts] == ["src-part000.rmf", "src-part001.rmf", "src-part002.rmf"]
    rmf.merge(list(reversed(parts)), tmp_path / "m.rmf")
    t, v = rmf.open(tmp_path / "m.rmf")["x"].read()
    assert np.array_equal(t, t_all) and np.array_equal(v, v_all)

    rmf.redact(src, tmp_path / "r.rmf", "x", 10_000_000, 20_000_000, reason="glitch")
    ep = rmf.open(tmp_path / "r.rmf")
    _, v = ep["x"].read()
    assert np.isnan(v[10:20]).all() and np.array_equal(v[20:], v_all[20:])
    log = ep.events("rmf/redactions")
    assert log.column("kind").to_pylist() == ["redaction"]
