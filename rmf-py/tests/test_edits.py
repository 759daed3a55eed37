"""Edits never touch their input: a full disk or a kill in the middle of any edit leaves the
inputs byte for byte as they were and no output file."""

import hashlib
import resource
import signal
import subprocess
import time
import wave

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


@pytest.fixture(scope="module")
def parts(episode, tmp_path_factory):
    """The episode split in two, for merge, and a 4.5 MB WAV file (noise), for import-wav."""
    where = tmp_path_factory.mktemp("parts")
    wav = where / "noise.wav"
    with wave.open(str(wav), "wb") as f:
        f.setnchannels(2)
        f.setsampwidth(2)
        f.setframerate(16000)
        noise = np.random.default_rng(5).integers(-30000, 30000, (16000 * 70, 2), np.int16)
        f.writeframes(noise.tobytes())
    return [*rmf.split(episode, where, at_ns=[300_000_000]), wav]


def _file_size_limit(on_exceed):
    """A child setup that makes writes past 2 MB fail as on a full disk (`on_exceed` = SIG_IGN:
    the write returns EFBIG) or kill the process there (SIG_DFL: SIGXFSZ ends it mid-write)."""

    def setup():
        signal.signal(signal.SIGXFSZ, on_exceed)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, 2 << 20))

    return setup


# Every command that writes episodes from others, with its arguments: (input, parts, out dir).
EDITS = {
    "drop-stream": lambda i, p, o: ["drop-stream", i, o / "out.rmf", "--stream", "s"],
    "rename-stream": lambda i, p, o: ["rename-stream", i, o / "out.rmf", "s", "signal"],
    "relabel": lambda i, p, o: ["relabel", i, o / "out.rmf", "--sensitivity", "cam=public"],
    "trim": lambda i, p, o: ["trim", i, o / "out.rmf", "--from", "0s", "--to", "400ms"],
    # Part 0 (two frames, 1.8 MB) is complete before part 1 meets the limit: it must go too.
    "split": lambda i, p, o: ["split", i, o / "parts", "--at", "50ms", "--at", "400000000ns"],
    "merge": lambda i, p, o: ["merge", "-o", o / "out.rmf", *p[:2]],
    "redact": lambda i, p, o: [
        "redact",
        i,
        o / "out.rmf",
        "--stream",
        "cam",
        "--from",
        "0ns",
        "--to",
        "0.1s",
    ],
    "transcode": lambda i, p, o: ["transcode", i, o / "out.rmf", "--codec", "png"],
    "share": lambda i, p, o: ["share", i.parent, o / "shared", "--max-label", "internal"],
    "import-wav": lambda i, p, o: ["import-wav", p[-1], o / "out.rmf"],
}


@pytest.mark.parametrize("failure", ["full_disk", "killed"])
@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_failed_edit_leaves_its_inputs_and_no_output(
    rmf_cli, episode, parts, tmp_path, edit, failure
):
    inputs = [episode, *parts]
    before = [_digest(f) for f in inputs]
    args = [str(a) for a in EDITS[edit](episode, parts, tmp_path)]
    on_exceed = signal.SIG_IGN if failure == "full_disk" else signal.SIG_DFL
    p = subprocess.run(
        [rmf_cli, *args], capture_output=True, text=True, preexec_fn=_file_size_limit(on_exceed)
    )
    if failure == "full_disk":
        assert p.returncode == 2, p.stderr
        assert p.stderr.startswith("rmf: error:") and "panicked" not in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    else:
        assert p.returncode == -signal.SIGXFSZ, (p.returncode, p.stderr)
    assert [_digest(f) for f in inputs] == before, "the inputs are untouched"
    left = [f for f in tmp_path.rglob("*") if f.is_file()]
    if failure == "full_disk":
        assert left == [], "no output and no temporary file"
    else:
        # A kill leaves at most temporary files, never a file under an output's name.
        assert all(".tmp-" in f.name for f in left), left


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
    assert lines[0] == "frame,file,t" and lines[5] == f"4,frames.h264,{t[4]}"


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


def test_every_writer_refuses_to_replace_a_file_unless_told_to(tmp_path):
    src = tmp_path / "in.rmf"
    with rmf.EpisodeWriter(src) as w:
        w.add_signal("s", dtype="float32", shape=(2,))
        w.write_many("s", np.arange(10, dtype=np.int64), np.zeros((10, 2), np.float32))
    out = tmp_path / "out.rmf"
    calls = {
        "trim": lambda **k: rmf.trim(src, out, 0, 5, **k),
        "drop_streams": lambda **k: rmf.drop_streams(src, out, [], **k),
        "relabel": lambda **k: rmf.relabel(src, out, meta={"task": "x"}, **k),
        "recover": lambda **k: rmf.recover(src, out, **k),
        "writer": lambda **k: rmf.EpisodeWriter(out, **k).close(),
    }
    for name, call in calls.items():
        out.write_bytes(b"keep me")
        with pytest.raises(FileExistsError, match="overwrite"):
            call()
        assert out.read_bytes() == b"keep me", name
        call(overwrite=True)
        assert rmf.validate(out) == [], name
