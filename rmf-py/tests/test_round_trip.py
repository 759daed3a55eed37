"""Round trips through Python: every stream kind and dtype, exact values, query semantics."""

import numpy as np
import pyarrow as pa
import pytest

import rmf

DTYPES = [
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "int32",
    "int64",
    "float32",
    "float64",
]


def extremes(dtype: str, n: int) -> np.ndarray:
    dt = np.dtype(dtype)
    rng = np.random.default_rng(7)
    if dt.kind == "f":
        v = rng.normal(size=n).astype(dt) * 1000
        v[:5] = [np.nan, -0.0, np.inf, -np.inf, np.finfo(dt).tiny]
    else:
        info = np.iinfo(dt)
        v = rng.integers(info.min, info.max, size=n, dtype=dt, endpoint=True)
        v[:2] = [info.min, info.max]
    return v


@pytest.mark.parametrize("dtype", DTYPES)
def test_signal_round_trip_every_dtype(tmp_path, dtype):
    path = tmp_path / "s.rmf"
    n = 3000
    ts = np.cumsum(np.random.default_rng(1).integers(0, 2_000_000, size=n)).astype(np.int64)
    values = extremes(dtype, n * 4).reshape(n, 2, 2)
    with rmf.EpisodeWriter(path, chunk_seconds=0.5) as w:
        w.add_signal("x", dtype=dtype, shape=(2, 2), names=["a", "b", "c", "d"], rate_hz=500)
        w.write_many("x", ts, values)
    s = rmf.open(path)["x"]
    assert (s.kind, s.dtype, tuple(s.shape), s.count) == ("signal", dtype, (2, 2), n)
    t, v = s.read()
    assert t.dtype == np.int64 and v.dtype == np.dtype(dtype) and v.shape == (n, 2, 2)
    np.testing.assert_array_equal(t, ts)
    assert v.tobytes() == values.tobytes()  # bit-exact, NaN payloads included


def test_every_kind_round_trips(tmp_path):
    path = tmp_path / "all.rmf"
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, size=(5, 6, 8, 3), dtype=np.uint8)
    gray = rng.integers(0, 256, size=(5, 6, 8), dtype=np.uint8)
    depth = rng.integers(0, 65536, size=(5, 6, 8), dtype=np.uint16)
    t_frames = np.arange(5, dtype=np.int64) * 33_333_333
    stereo = rng.integers(-32768, 32767, size=(320, 2), dtype=np.int16)
    mono = rng.normal(size=400).astype(np.float32)
    meta = {"task": "pick cup", "operator": "op-7", "robot": "arm", "site": "lab-1", "n": 3}
    with rmf.EpisodeWriter(path, metadata=meta, compression_level=5) as w:
        w.add_frames(
            "cam/rgb",
            width=8,
            height=6,
            pixel_format="rgb8",
            rate_hz=30,
            sensitivity="private",
            tags={"sensor": "front"},
        )
        w.add_frames("cam/gray", width=8, height=6, pixel_format="gray8")
        w.add_frames("cam/depth", width=8, height=6, pixel_format="gray16", units=["mm"])
        w.add_audio("mic", sample_rate=16000, channels=2, dtype="int16")
        w.add_audio("mic/mono", sample_rate=8000, channels=1, dtype="float32")
        w.add_events("interventions", sensitivity="public")
        w.add_signal("gripper", dtype="float64", shape=())
        w.write_many("cam/rgb", t_frames, rgb)
        for i in range(5):
            w.write("cam/gray", int(t_frames[i]), gray[i])
            w.write("cam/depth", int(t_frames[i]), depth[i])
            w.write("gripper", int(t_frames[i]), float(i) / 4)
        w.write_audio("mic", 0, stereo[:160])
        w.write_audio("mic", 10_000_000, stereo[160:])
        w.write_audio("mic/mono", 1, mono)
        w.write_event(
            "interventions",
            40_000_000,
            kind="takeover_start",
            operator="op-7",
            text="gripper slipping",
            payload={"reason": "slip", "grip": 0.4},
        )
        w.write_event("interventions", 90_000_000, kind="takeover_end", operator="op-7")
        summary = w.close()
    assert summary["samples"]["cam/rgb"] == 5

    ep = rmf.open(path)
    assert list(ep) == [
        "cam/rgb",
        "cam/gray",
        "cam/depth",
        "mic",
        "mic/mono",
        "interventions",
        "gripper",
    ]
    assert ep.metadata["task"] == "pick cup" and ep.metadata["extra"] == {"site": "lab-1", "n": 3}
    assert ep.metadata["writer"]["library"] == "rmf-core"
    assert ep["cam/rgb"].sensitivity == "private" and ep["cam/rgb"].tags == {"sensor": "front"}
    assert ep["cam/depth"].units == ["mm"] and ep["cam/depth"].dtype == "uint16"

    t, frames = ep["cam/rgb"].read()
    np.testing.assert_array_equal(t, t_frames)
    np.testing.assert_array_equal(frames, rgb)
    np.testing.assert_array_equal(ep["cam/gray"].read()[1], gray)
    np.testing.assert_array_equal(ep["cam/depth"].read()[1], depth)
    np.testing.assert_array_equal(ep["gripper"].read()[1], np.arange(5) / 4)

    ts, samples = ep["mic"].read()
    np.testing.assert_array_equal(samples, stereo)
    # Per-sample times: block start + i / sample_rate.
    assert ts[0] == 0 and ts[159] == 159 * 62_500 and ts[160] == 10_000_000
    np.testing.assert_array_equal(ep["mic/mono"].read()[1][:, 0], mono)
    assert ep["mic/mono"].sample_rate == 8000

    events = ep.events()
    assert isinstance(events, pa.Table)
    assert events.column("kind").to_pylist() == ["takeover_start", "takeover_end"]
    # An event without a payload is null, as in the Parquet export (not the text 'null').
    assert events.column("payload").to_pylist() == ['{"reason":"slip","grip":0.4}', None]
    assert ep["interventions"].at(50_000_000)["payload"] == {"reason": "slip", "grip": 0.4}


def test_as_of_and_nearest_at_and_between_samples(tmp_path):
    path = tmp_path / "q.rmf"
    ts = np.array([100, 200, 200, 300, 1_000], dtype=np.int64)
    vals = np.arange(10, dtype=np.float32).reshape(5, 2)
    with rmf.EpisodeWriter(path) as w:
        w.add_signal("s", dtype="float32", shape=(2,))
        w.write_many("s", ts, vals)
    s = rmf.open(path)["s"]
    assert s.at(99) is None
    np.testing.assert_array_equal(s.at(100), vals[0])
    np.testing.assert_array_equal(s.at(150), vals[0])
    np.testing.assert_array_equal(s.at(200), vals[2])  # the last of equal times
    np.testing.assert_array_equal(s.at(999), vals[3])
    np.testing.assert_array_equal(s.at(10**18), vals[4])
    assert s.time_at(250) == 200
    assert s.time_nearest(649) == 300 and s.time_nearest(651) == 1_000
    assert s.time_nearest(650) == 300  # a tie goes to the earlier sample
    np.testing.assert_array_equal(s.nearest(0), vals[0])
    t, v = s.read(200, 300)  # half-open
    np.testing.assert_array_equal(t, [200, 200])
    assert s.read(5, 5)[0].shape == (0,)
    tbl = s.to_arrow(100, 201)
    assert tbl.num_rows == 3 and tbl.column("t").to_pylist() == [100, 200, 200]


def test_arrays_own_rust_memory_without_copies(tmp_path):
    path = tmp_path / "z.rmf"
    with rmf.EpisodeWriter(path) as w:
        w.add_signal("s", dtype="float32", shape=(6,))
        w.add_frames("cam", width=4, height=2, pixel_format="rgb8")
        w.write_many("s", np.arange(1000, dtype=np.int64), np.ones((1000, 6), np.float32))
        w.write("cam", 0, np.zeros((2, 4, 3), np.uint8))
    ep = rmf.open(path)
    t, v = ep["s"].read()
    _, frames = ep["cam"].read()
    # numpy owns the Rust vector the data was decoded into (rust-numpy's PySliceContainer):
    # the timestamps directly, values and frames through a reshaped view of it.
    assert type(t.base).__name__ == "PySliceContainer"
    assert type(v.base.base).__name__ == "PySliceContainer"
    assert type(frames.base.base).__name__ == "PySliceContainer"
    assert v.flags.c_contiguous and v.flags.writeable


def test_extreme_times_and_empty_streams(tmp_path):
    path = tmp_path / "x.rmf"
    big = np.iinfo(np.int64)
    with rmf.EpisodeWriter(path) as w:
        w.add_signal("s", dtype="int8", shape=())
        w.add_signal("empty", dtype="float32", shape=(3,))
        w.write_many("s", [big.min, 0, big.max], np.array([1, 2, 3], np.int8))
    ep = rmf.open(path)
    s = ep["s"]
    t, v = s.read()
    assert t.tolist() == [big.min, 0, big.max] and v.tolist() == [1, 2, 3]
    assert s.to_arrow().num_rows == 3
    assert s.at(big.max).tolist() == 3 and s.at(big.min).tolist() == 1
    assert s.time_nearest(big.max - 1) == big.max
    assert s.read(5, 2)[0].shape == (0,)
    t, v = ep["empty"].read()
    assert t.shape == (0,) and v.shape == (0, 3)
    assert ep["empty"].at(0) is None and ep["empty"].count == 0


def test_audio_reads_select_samples_not_blocks(tmp_path):
    path = tmp_path / "a.rmf"
    with rmf.EpisodeWriter(path) as w:
        w.add_audio("mic", sample_rate=4, channels=2, dtype=np.int16)
        # Two blocks of 4 frames at 4 Hz: samples every 250 ms from 0 and from 2 s.
        w.write_audio("mic", 0, np.arange(8, dtype=np.int16).reshape(4, 2))
        w.write_audio("mic", 2_000_000_000, np.arange(8, 16, dtype=np.int16).reshape(4, 2))
    mic = rmf.open(path)["mic"]
    t, x = mic.read(250_000_000, 750_000_001)
    assert t.tolist() == [250_000_000, 500_000_000, 750_000_000]
    assert x.tolist() == [[2, 3], [4, 5], [6, 7]]
    t, x = mic.read(0, 1)
    assert t.tolist() == [0] and x.tolist() == [[0, 1]]
    t, _ = mic.read(700_000_000, 2_300_000_000)
    assert t.tolist() == [750_000_000, 2_000_000_000, 2_250_000_000]
    assert mic.times().tolist() == [0, 2_000_000_000]  # block starts
    assert mic.at(2_100_000_000).shape == (4, 2)  # the block as-of t


def test_lists_and_scalars_are_accepted_for_matching_streams(tmp_path):
    path = tmp_path / "l.rmf"
    with rmf.EpisodeWriter(path) as w:
        w.add_signal("s", dtype="int32", shape=(3,))
        w.write("s", 5, [1, 2, 3])
        w.write_many("s", [6, 7], [[4, 5, 6], [7, 8, 9]])
    t, v = rmf.open(path)["s"].read()
    np.testing.assert_array_equal(v, [[1, 2, 3], [4, 5, 6], [7, 8, 9]])


def test_png_is_lossless_and_jpeg_is_close(tmp_path):
    path = tmp_path / "codecs.rmf"
    yy, xx = np.mgrid[0:48, 0:64]
    smooth = np.stack([xx * 4, yy * 5, (xx + yy) * 2], axis=-1).astype(np.uint8)
    noise = np.random.default_rng(2).integers(-2, 3, size=smooth.shape)
    rgb = np.clip(smooth.astype(int) + noise, 0, 255).astype(np.uint8)
    depth = (np.arange(48 * 64, dtype=np.uint16).reshape(48, 64) * 13) % 5000
    with rmf.EpisodeWriter(path) as w:
        w.add_frames("png", width=64, height=48, codec="png")
        w.add_frames("depth", width=64, height=48, pixel_format="gray16", codec="png", units=["mm"])
        w.add_frames("jpeg", width=64, height=48, codec="jpeg", quality=95)
        for k in range(3):
            w.write("png", k, rgb)
            w.write("depth", k, depth)
            w.write("jpeg", k, rgb)
        with pytest.raises(ValueError, match="quality"):
            w.add_frames("bad", width=4, height=4, codec="raw", quality=50)
        with pytest.raises(ValueError, match="8-bit"):
            w.add_frames("bad", width=4, height=4, pixel_format="gray16", codec="jpeg")
    ep = rmf.open(path)
    assert ep["jpeg"].info["codec"] == "jpeg" and ep["jpeg"].info["quality"] == 95
    np.testing.assert_array_equal(ep["png"].read()[1], np.stack([rgb] * 3))
    np.testing.assert_array_equal(ep["depth"].at(2), depth)
    got = ep["jpeg"].at(1).astype(float)
    mse = ((got - rgb.astype(float)) ** 2).mean()
    assert 10 * np.log10(255**2 / mse) > 35  # dB at quality 95


def test_h264_frames_read_back_close_and_random_access_matches_sequential(tmp_path):
    path = tmp_path / "video.rmf"
    yy, xx = np.mgrid[0:48, 0:64]
    rng = np.random.default_rng(5)
    frames = []
    for k in range(40):  # a gradient moving right by one pixel a frame, with sensor noise
        smooth = np.stack([(xx + k) * 3, yy * 5, (xx + yy + k) * 2], axis=-1)
        noise = rng.integers(-1, 2, size=smooth.shape)
        frames.append(np.clip(smooth + noise, 0, 255).astype(np.uint8))
    gray = [f.mean(axis=-1).astype(np.uint8) for f in frames]
    t = np.arange(40, dtype=np.int64) * 33_333_333
    with rmf.EpisodeWriter(path) as w:
        w.add_frames("rgb", width=64, height=48, codec="h264", qp=20, gop=6, rate_hz=30)
        w.add_frames("gray", width=64, height=48, pixel_format="gray8", codec="h264")
        w.write_many("rgb", t, np.stack(frames))
        w.write_many("gray", t, np.stack(gray))
        with pytest.raises(ValueError, match="even width and height"):
            w.add_frames("odd", width=63, height=48, codec="h264")
        with pytest.raises(ValueError, match="h264 codec only"):
            w.add_frames("bad", width=64, height=48, codec="jpeg", gop=4)
        with pytest.raises(ValueError, match="8-bit"):
            w.add_frames("depth", width=64, height=48, pixel_format="gray16", codec="h264")
    ep = rmf.open(path)
    info = ep["rgb"].info
    assert (info["codec"], info["qp"], info["gop"]) == ("h264", 20, 6)
    assert (ep["gray"].info["qp"], ep["gray"].info["gop"]) == (22, 8)
    ts, seq = ep["rgb"].read()
    np.testing.assert_array_equal(ts, t)
    assert seq.dtype == np.uint8 and seq.shape == (40, 48, 64, 3)
    mse = ((seq.astype(float) - np.stack(frames).astype(float)) ** 2).mean()
    assert 10 * np.log10(255**2 / mse) > 35  # dB at qp 20
    for i in [39, 0, 17, 6, 5, 23]:  # keyframes and frames inside GOPs, out of order
        np.testing.assert_array_equal(ep["rgb"].at(int(t[i])), seq[i])
    _, g = ep["gray"].read()
    assert g.shape == (40, 48, 64)
    assert np.abs(g.astype(int) - np.stack(gray).astype(int)).mean() < 2


def test_frames_encode_in_the_background_and_a_full_queue_can_raise(tmp_path):
    noise = np.random.default_rng(9).integers(0, 256, size=(480, 640, 3), dtype=np.uint8)
    path = tmp_path / "queue.rmf"
    accepted, refused = [], 0
    w = rmf.EpisodeWriter(path, frame_queue=1, on_queue_full="error")
    w.add_frames("cam", width=640, height=480, codec="png")  # slow to encode: overflows
    for k in range(10):
        try:
            w.write("cam", k, noise)
            accepted.append(k)
        except rmf.RmfError as e:
            assert e.kind == "encoder_behind" and "cam" in str(e)
            refused += 1
    summary = w.close()
    assert refused > 0
    (q,) = summary["frame_queues"]
    assert (q["stream"], q["capacity"], q["full"]) == ("cam", 1, refused)
    ts, frames = rmf.open(path)["cam"].read()
    assert ts.tolist() == accepted  # every accepted frame, nothing else
    assert (frames == noise).all()
    with pytest.raises(ValueError, match="on_queue_full"):
        rmf.EpisodeWriter(tmp_path / "x.rmf", on_queue_full="drop")


def test_transcode_reencodes_frames_and_copies_the_rest(tmp_path):
    src, dst = tmp_path / "raw.rmf", tmp_path / "h264.rmf"
    yy, xx = np.mgrid[0:48, 0:64]
    frames = np.stack([np.stack([(xx + k) * 3, yy * 5, xx + yy], -1) for k in range(20)])
    frames = frames.astype(np.uint8)
    t = np.arange(20, dtype=np.int64) * 33_333_333
    with rmf.EpisodeWriter(src) as w:
        w.add_frames("cam", width=64, height=48)
        w.add_signal("s", dtype="int32", shape=(2,))
        w.write_many("cam", t, frames)
        w.write_many("s", t, np.arange(40, dtype=np.int32).reshape(20, 2))
    r = rmf.transcode(src, dst, "h264", qp=20, gop=5)
    assert r["output_bytes"] < r["input_bytes"]
    by = {s[0]: s for s in r["streams"]}
    assert by["cam"][1] == "raw" and by["s"][1] is None and "signal" in by["s"][2]
    ep = rmf.open(dst)
    assert ep["cam"].info["codec"] == "h264" and ep["cam"].info["gop"] == 5
    np.testing.assert_array_equal(ep["s"].read()[1], rmf.open(src)["s"].read()[1])
    got = ep["cam"].read()[1].astype(float)
    assert 10 * np.log10(255**2 / ((got - frames) ** 2).mean()) > 35
    with pytest.raises(ValueError, match="unknown frame codec"):
        rmf.transcode(src, tmp_path / "x.rmf", "av2")


def test_transcode_zstd_level_trades_bytes_for_speed_losslessly(tmp_path):
    src = tmp_path / "src.rmf"
    rng = np.random.default_rng(3)
    # Smooth pixels plus noise: zstd finds less to squeeze at its fast levels.
    frames = np.linspace(0, 200, 32 * 24 * 3).reshape(24, 32, 3) + rng.integers(
        0, 8, (6, 24, 32, 3)
    )
    frames = frames.astype(np.uint8)
    t = np.arange(6, dtype=np.int64) * 33_333_333
    with rmf.EpisodeWriter(src) as w:
        w.add_frames("cam", width=32, height=24, codec="jpeg")
        w.write_many("cam", t, frames)
    decoded = rmf.open(src)["cam"].read()[1]
    sizes = {}
    for level in (19, -7):
        dst = tmp_path / f"raw{level}.rmf"
        r = rmf.transcode(src, dst, "raw", zstd_level=level)
        sizes[level] = dict((s[0], s[5]) for s in r["streams"])["cam"]
        np.testing.assert_array_equal(rmf.open(dst)["cam"].read()[1], decoded)
    assert sizes[-7] > sizes[19]
    with pytest.raises(ValueError, match="outside"):
        rmf.transcode(src, tmp_path / "x.rmf", "raw", zstd_level=40)
    assert not (tmp_path / "x.rmf").exists()
