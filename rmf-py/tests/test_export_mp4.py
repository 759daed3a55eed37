"""MP4 export: an H.264 stream is copied into MP4 without re-encoding (FFmpeg decodes the same
pixels, each frame at its own time); other codecs are encoded."""

import numpy as np
import pytest

import rmf
import rmf.convert

av = pytest.importorskip("av")  # test.sh installs it


def gray_episode(path, codec):
    yy, xx = np.mgrid[0:48, 0:64]
    frames = np.stack([((xx * 3 + yy * 2 + 5 * k) % 256) for k in range(30)]).astype(np.uint8)
    # A jittered clock: 30 fps with up to +-3 ms of jitter, so a fixed frame rate would be wrong.
    rng = np.random.default_rng(5)
    t = 10**9 + np.arange(30, dtype=np.int64) * 33_333_333 + rng.integers(-3_000_000, 3_000_000, 30)
    with rmf.EpisodeWriter(path, chunk_seconds=0.3) as w:
        video = {"gop": 4} if codec == "h264" else {}
        w.add_frames("cam", width=64, height=48, pixel_format="gray8", codec=codec, **video)
        w.write_many("cam", t, frames)
    return t, frames


def decode(path):
    with av.open(str(path)) as c:
        out = [
            (f.pts * f.time_base, f.to_ndarray(format="yuv420p")[:48]) for f in c.decode(video=0)
        ]
    return np.array([float(t) for t, _ in out]), np.stack([y for _, y in out])


def test_h264_is_copied_and_keeps_every_frame_time(tmp_path):
    path, out = tmp_path / "g.rmf", tmp_path / "g.mp4"
    t, _ = gray_episode(path, "h264")
    report = rmf.convert.to_mp4(path, "cam", out)
    assert report.mode == "copied" and report.frames == 30
    times, luma = decode(out)
    ours = rmf.open(path)["cam"].read()[1]
    np.testing.assert_array_equal(luma, ours)
    np.testing.assert_allclose(times, (t - t[0]) / 1e9, atol=1e-6)
    with pytest.raises(FileExistsError):
        rmf.convert.to_mp4(path, "cam", out)


def test_other_codecs_are_encoded(tmp_path):
    path, out = tmp_path / "p.rmf", tmp_path / "p.mp4"
    t, frames = gray_episode(path, "png")
    report = rmf.convert.to_mp4(path, "cam", out)
    assert report.mode.startswith("encoded with")
    times, luma = decode(out)
    assert len(times) == 30
    np.testing.assert_allclose(times, (t - t[0]) / 1e9, atol=1e-6)
    # Lossy: PSNR of the luma against the source frames (studio-range luma, so compare loosely).
    err = (luma.astype(float) - (16 + frames.astype(float) * 219 / 255)) ** 2
    assert 10 * np.log10(255**2 / err.mean()) > 30
    assert rmf.convert.main(["mp4", str(path), str(tmp_path / "cli.mp4"), "--stream", "cam"]) == 0
