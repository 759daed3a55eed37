"""rmf.convert: LeRobot (v3.0, v2.1) and HDF5 (robomimic, ALOHA) imports and the LeRobot v3
export. Inputs are built with the peers' own libraries (pyarrow + PyAV for LeRobot's Parquet
and MP4 files, h5py for HDF5), then imported and compared: signals and timestamps exactly,
frames by PSNR (>= 30 dB against the source pixels), events and task metadata present. The
round trip RMF -> LeRobot -> RMF keeps signals within the resampling error."""

import fractions
import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import rmf
import rmf.convert as cv

av = pytest.importorskip("av")
h5py = pytest.importorskip("h5py")

W, H, FPS = 64, 48, 30
PSNR_MIN = 30.0  # dB, against the source frames (two lossy generations: source video, h264)


def make_frames(n, seed=0):
    """Smooth frames (a colour gradient) with a square moving 2 px a frame: every frame differs."""
    y, x = np.mgrid[0:H, 0:W]
    base = np.stack([x * 3 + 20, y * 4 + 10, (x + y) * 2 + 40 + seed * 20], -1)
    out = np.empty((n, H, W, 3), np.uint8)
    for k in range(n):
        f = base.copy()
        x0 = 4 + 2 * k
        f[12:28, x0 : x0 + 14] = (230, 200 - 5 * seed, 60)
        out[k] = np.clip(f, 0, 255)
    return out


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def check_frames(got, want):
    """Every frame above PSNR_MIN against its own source frame, and closer to it than to the
    source frames beside it (so no frame is shifted)."""
    assert got.shape == want.shape
    for k in range(len(want)):
        p = psnr(got[k], want[k])
        assert p >= PSNR_MIN, (k, p)
        for j in (k - 1, k + 1):
            if 0 <= j < len(want):
                assert psnr(got[k], want[j]) < p, (k, j)


def encode_mp4(path, codec, frames, times_s, time_base=fractions.Fraction(1, 90000)):
    """An MP4 with each frame at its own time (variable frame rate)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    opts = {"crf": "20", "g": "2", "preset": "10"} if codec == "libsvtav1" else {"crf": "16"}
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=FPS, options=opts)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.time_base = time_base
        s.codec_context.time_base = time_base
        for f, t in zip(frames, times_s):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24")
            vf.pts = round(t / time_base)
            vf.time_base = time_base
            c.mux(s.encode(vf))
        c.mux(s.encode())


def png_bytes(frame):
    cc = av.CodecContext.create("png", "w")
    cc.width, cc.height, cc.pix_fmt = W, H, "rgb24"
    packets = cc.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")) + cc.encode(None)
    return bytes(packets[0])


def jittered_times(n, rng):
    return (np.arange(n) / FPS + rng.uniform(0, 0.004, n)).astype(np.float32)


# ----------------------------------------------------------------------------- LeRobot v3.0

V3_TASKS = ["pick the cube", "place the cube"]


def episode_columns(e, n, rng):
    """One episode's rows: jittery timestamps, state, action, reward, done, intervention."""
    ts = jittered_times(n, rng)
    state = rng.normal(size=(n, 3)).astype(np.float32)
    action = rng.normal(size=(n, 2)).astype(np.float32)
    reward = rng.uniform(size=n).astype(np.float32)
    done = np.arange(n) == n - 1
    inter = ((np.arange(n) >= 5) & (np.arange(n) < 10)).astype(np.int64)
    return dict(ts=ts, state=state, action=action, reward=reward, done=done, inter=inter)


def fixed(a):
    return pa.FixedSizeListArray.from_arrays(pa.array(a.reshape(-1)), a.shape[1])


def data_table(cols, e, start_index):
    n = len(cols["ts"])
    return pa.table(
        {
            "observation.state": fixed(cols["state"]),
            "action": pa.array(list(cols["action"]), pa.list_(pa.float32())),  # variable lists
            "next.reward": pa.array(cols["reward"]),
            "next.done": pa.array(cols["done"]),
            "is_intervention": pa.array(cols["inter"]),
            "annotation": pa.array([f"row {k}" for k in range(n)]),
            "timestamp": pa.array(cols["ts"]),
            "frame_index": pa.array(np.arange(n, dtype=np.int64)),
            "episode_index": pa.array(np.full(n, e, np.int64)),
            "index": pa.array(np.arange(start_index, start_index + n, dtype=np.int64)),
            "task_index": pa.array(np.full(n, e, np.int64)),
        }
    )


def features(video_codec):
    video = {
        "dtype": "video",
        "shape": [H, W, 3],
        "names": ["height", "width", "channels"],
        "info": {"video.height": H, "video.width": W, "video.codec": video_codec},
    }
    return {
        "observation.state": {"dtype": "float32", "shape": [3], "names": ["x", "y", "z"]},
        "action": {"dtype": "float32", "shape": [2], "names": {"motors": ["m0", "m1"]}},
        "next.reward": {"dtype": "float32", "shape": [1], "names": None},
        "next.done": {"dtype": "bool", "shape": [1], "names": None},
        "is_intervention": {"dtype": "int64", "shape": [1], "names": None},
        "annotation": {"dtype": "string", "shape": [1], "names": None},
        "observation.images.front": video,
        "timestamp": {"dtype": "float32", "shape": [1], "names": None},
        "frame_index": {"dtype": "int64", "shape": [1], "names": None},
        "episode_index": {"dtype": "int64", "shape": [1], "names": None},
        "index": {"dtype": "int64", "shape": [1], "names": None},
        "task_index": {"dtype": "int64", "shape": [1], "names": None},
    }


@pytest.fixture(scope="module")
def lerobot_v3(tmp_path_factory):
    """Two episodes (20 and 17 rows) in one data file and one MP4 (AV1 as LeRobot writes it
    when this PyAV has SVT-AV1), each frame at from_timestamp + its row's timestamp."""
    root = tmp_path_factory.mktemp("lerobot_v3")
    rng = np.random.default_rng(3)
    codec = "libsvtav1" if "libsvtav1" in av.codecs_available else "libx264"
    eps, tables, frames_all, times_all, rows = [], [], [], [], []
    offset, index = 0.0, 0
    for e, n in enumerate((20, 17)):
        cols = episode_columns(e, n, rng)
        frames = make_frames(n, seed=e)
        tables.append(data_table(cols, e, index))
        frames_all.append(frames)
        times_all.append(offset + cols["ts"].astype(np.float64))
        end = offset + float(cols["ts"][-1]) + 1 / FPS
        rows.append(
            {
                "episode_index": e,
                "tasks": [V3_TASKS[e]],
                "length": n,
                "data/chunk_index": 0,
                "data/file_index": 0,
                "dataset_from_index": index,
                "dataset_to_index": index + n,
                "videos/observation.images.front/chunk_index": 0,
                "videos/observation.images.front/file_index": 0,
                "videos/observation.images.front/from_timestamp": offset,
                "videos/observation.images.front/to_timestamp": end,
            }
        )
        eps.append((cols, frames))
        offset, index = end, index + n
    (root / "data/chunk-000").mkdir(parents=True)
    (root / "meta/episodes/chunk-000").mkdir(parents=True)
    pq.write_table(pa.concat_tables(tables), root / "data/chunk-000/file-000.parquet")
    pq.write_table(pa.Table.from_pylist(rows), root / "meta/episodes/chunk-000/file-000.parquet")
    # lerobot's tasks frame is indexed by the task; pandas stores an unnamed index like this.
    pq.write_table(
        pa.table({"task_index": [0, 1], "__index_level_0__": V3_TASKS}),
        root / "meta/tasks.parquet",
    )
    encode_mp4(
        root / "videos/observation.images.front/chunk-000/file-000.mp4",
        codec,
        np.concatenate(frames_all),
        np.concatenate(times_all),
    )
    info = {
        "codebase_version": "v3.0",
        "robot_type": "so100",
        "fps": FPS,
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
        "features": features("av1" if codec == "libsvtav1" else "h264"),
    }
    (root / "meta/info.json").write_text(json.dumps(info))
    return root, eps


def check_lerobot_episode(ep, cols, frames, task):
    ts_ns = np.round(cols["ts"].astype(np.float64) * 1e9).astype(np.int64)
    n = len(ts_ns)
    t, v = ep["observation.state"].read()
    np.testing.assert_array_equal(t, ts_ns)
    np.testing.assert_array_equal(v, cols["state"])
    assert ep["observation.state"].names == ["x", "y", "z"]
    t, v = ep["action"].read()
    np.testing.assert_array_equal(t, ts_ns)
    np.testing.assert_array_equal(v, cols["action"])
    assert ep["action"].names == ["m0", "m1"]
    t, v = ep["next.reward"].read()
    np.testing.assert_array_equal(v.reshape(-1), cols["reward"])
    assert "next.done" not in ep and "is_intervention" not in ep  # events instead
    assert "annotation" not in ep and "frame_index" not in ep
    t, f = ep["observation.images.front"].read()
    np.testing.assert_array_equal(t, ts_ns)
    check_frames(f, frames)
    assert ep.metadata["task"] == task
    ev = ep.events("events").to_pylist()
    got = [(e["t"], e["kind"]) for e in ev]
    assert got == sorted(
        [
            (ts_ns[0], "task"),
            (ts_ns[5], "takeover_start"),
            (ts_ns[10], "takeover_end"),
            (ts_ns[n - 1], "done"),
        ]
    )
    assert next(e["text"] for e in ev if e["kind"] == "task") == task


def test_from_lerobot_v3(lerobot_v3, tmp_path):
    src, eps = lerobot_v3
    dst = tmp_path / "rmf"
    calls = []
    report = cv.from_lerobot(src, dst, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)]
    assert [e.target for e in report.episodes] == ["episode_000000.rmf", "episode_000001.rmf"]
    assert report.index["episodes"] == 2 and (dst / "episodes.parquet").exists()
    for k, (cols, frames) in enumerate(eps):
        ep = rmf.open(dst / f"episode_{k:06d}.rmf")
        check_lerobot_episode(ep, cols, frames, V3_TASKS[k])
        assert ep.metadata["robot"] == "so100"
        assert rmf.validate(dst / f"episode_{k:06d}.rmf") == []
    er = report.episodes[0]
    assert {s.source for s in er.skipped} >= {"annotation", "frame_index", "index"}
    assert any(m.source == "is_intervention" and m.target == "events" for m in er.mapped)
    text = str(report)
    assert "re-encoded" in text and "skipped annotation" in text
    assert report.summary().startswith("LeRobot v3.0 -> RMF: 2 episodes, 37 rows")
    json.dumps(report.to_dict())  # serialisable
    # The dataset opens on the index the import built.
    ds = rmf.Dataset(dst, reference="observation.images.front", streams={"action": rmf.asof()})
    assert len(ds) == 37
    with pytest.raises(FileExistsError, match="overwrite"):
        cv.from_lerobot(src, dst)


# ----------------------------------------------------------------------------- LeRobot v2.1


@pytest.fixture(scope="module")
def lerobot_v21(tmp_path_factory):
    """Two episodes, one Parquet and one MP4 (H.264) per episode, plus an image feature (PNG
    bytes in the Parquet, as LeRobot's image datasets store them)."""
    root = tmp_path_factory.mktemp("lerobot_v21")
    rng = np.random.default_rng(5)
    eps, lines, index = [], [], 0
    for e, n in enumerate((19, 21)):
        cols = episode_columns(e, n, rng)
        frames = make_frames(n, seed=e)
        wrist = make_frames(n, seed=2 + e)[:, ::-1]  # another view
        t = data_table(cols, e, index).drop_columns(["annotation"])
        images = pa.array(
            [{"bytes": png_bytes(np.ascontiguousarray(f)), "path": None} for f in wrist],
            pa.struct([("bytes", pa.binary()), ("path", pa.string())]),
        )
        t = t.append_column("observation.images.wrist", images)
        path = root / f"data/chunk-000/episode_{e:06d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(t, path)
        encode_mp4(
            root / f"videos/chunk-000/observation.images.front/episode_{e:06d}.mp4",
            "libx264",
            frames,
            cols["ts"].astype(np.float64),
        )
        lines.append(json.dumps({"episode_index": e, "tasks": [V3_TASKS[e]], "length": n}))
        eps.append((cols, frames, np.ascontiguousarray(wrist)))
        index += n
    (root / "meta").mkdir()
    (root / "meta/episodes.jsonl").write_text("\n".join(lines) + "\n")
    (root / "meta/tasks.jsonl").write_text(
        "".join(json.dumps({"task_index": i, "task": t}) + "\n" for i, t in enumerate(V3_TASKS))
    )
    feats = features("h264")
    del feats["annotation"]
    feats["observation.images.wrist"] = {"dtype": "image", "shape": [H, W, 3], "names": None}
    info = {
        "codebase_version": "v2.1",
        "robot_type": "aloha",
        "fps": FPS,
        "chunks_size": 1000,
        "data_path": "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet",
        "video_path": (
            "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4"
        ),
        "features": feats,
    }
    (root / "meta/info.json").write_text(json.dumps(info))
    return root, eps


def test_from_lerobot_v21(lerobot_v21, tmp_path):
    src, eps = lerobot_v21
    dst = tmp_path / "rmf"
    report = cv.from_lerobot(src, dst, codec="h264", qp=18)
    assert report.format == "LeRobot v2.1" and len(report.episodes) == 2
    for k, (cols, frames, wrist) in enumerate(eps):
        ep = rmf.open(dst / f"episode_{k:06d}.rmf")
        check_lerobot_episode(ep, cols, frames, V3_TASKS[k])
        t, f = ep["observation.images.wrist"].read()
        assert len(t) == len(wrist)
        check_frames(f, wrist)
        assert ep["observation.images.wrist"].info["codec"] == "h264"


def test_from_lerobot_selected_episodes_and_png(lerobot_v21, tmp_path):
    src, eps = lerobot_v21
    report = cv.from_lerobot(src, tmp_path / "one", episodes=[1], codec="png", index=False)
    assert [e.source for e in report.episodes] == ["episode 1"] and report.index is None
    ep = rmf.open(tmp_path / "one" / "episode_000001.rmf")
    _, f = ep["observation.images.wrist"].read()
    np.testing.assert_array_equal(f, eps[1][2])  # PNG in, PNG out: lossless
    with pytest.raises(ValueError, match=r"no episodes \[7\]"):
        cv.from_lerobot(src, tmp_path / "none", episodes=[7])


# ----------------------------------------------------------------------------- errors


def test_lerobot_bad_input(tmp_path, lerobot_v21):
    with pytest.raises(FileNotFoundError, match=r"meta/info\.json"):
        cv.from_lerobot(tmp_path, tmp_path / "out")
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta/info.json").write_text(json.dumps({"codebase_version": "v1.6"}))
    with pytest.raises(ValueError, match="features"):
        cv.from_lerobot(tmp_path, tmp_path / "out")
    (tmp_path / "meta/info.json").write_text(
        json.dumps({"codebase_version": "v1.6", "fps": 30, "features": {}})
    )
    with pytest.raises(ValueError, match=r"codebase_version 'v1\.6' is not supported"):
        cv.from_lerobot(tmp_path, tmp_path / "out")
    (tmp_path / "meta/info.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        cv.from_lerobot(tmp_path, tmp_path / "out")
    # A v2.1 dataset with a data file missing names the episode and the file.
    src, _ = lerobot_v21
    broken = tmp_path / "broken"
    (broken / "meta").mkdir(parents=True)
    for name in ("info.json", "episodes.jsonl", "tasks.jsonl"):
        (broken / "meta" / name).write_bytes((src / "meta" / name).read_bytes())
    with pytest.raises(
        FileNotFoundError, match=r"none of the 2 episodes' data files.*episode_000000\.parquet"
    ):
        cv.from_lerobot(broken, tmp_path / "out2")
    # Asked for by number, a missing episode is an error naming its file.
    with pytest.raises(
        FileNotFoundError, match=r"episode_000001\.parquet: not found \(data of episode 1\)"
    ):
        cv.from_lerobot(broken, tmp_path / "out3", episodes=[1])


def _partial_copy(src, dst, data=(), videos=()):
    """A LeRobot v2.1 download holding only some episodes' data and videos."""
    import shutil

    shutil.copytree(src / "meta", dst / "meta")
    for e in data:
        rel = f"data/chunk-000/episode_{e:06d}.parquet"
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / rel, dst / rel)
    for e in videos:
        rel = f"videos/chunk-000/observation.images.front/episode_{e:06d}.mp4"
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / rel, dst / rel)
    return dst


def test_a_partial_download_imports_what_is_there(lerobot_v21, tmp_path):
    src, eps = lerobot_v21
    part = _partial_copy(src, tmp_path / "part", data=[1], videos=[])
    report = cv.from_lerobot(part, tmp_path / "out", codec="png")
    assert [e.source for e in report.episodes] == ["episode 1"]
    assert any("episode 0: data file" in m for m in report.missing), report.missing
    assert any("episode 1: video 'observation.images.front'" in m for m in report.missing)
    assert "2 missing from the source" in report.summary()
    ep = rmf.open(tmp_path / "out" / "episode_000001.rmf")
    assert "observation.images.front" not in ep and "observation.images.wrist" in ep
    assert ep.metadata["clock"] == "lerobot_timestamp"
    # --no-video: no video is looked for, so none is missing.
    report = cv.from_lerobot(part, tmp_path / "nv", codec="png", no_video=True)
    assert [m for m in report.missing if "video" in m] == []
    assert any("--no-video" in s.reason for s in report.episodes[0].skipped)


def test_a_failed_import_leaves_no_episode_behind(lerobot_v21, tmp_path):
    src, _ = lerobot_v21
    part = _partial_copy(src, tmp_path / "part", data=[0, 1], videos=[0, 1])
    (part / "data/chunk-000/episode_000001.parquet").write_bytes(b"not parquet")
    out = tmp_path / "out"
    with pytest.raises(Exception, match="episode_000001"):
        cv.from_lerobot(part, out, codec="png")
    # Episode 0 was written before episode 1 failed: it is gone too, with the staging folder.
    assert list(out.iterdir()) == []


def test_nested_lerobot_names_become_axis_names():
    from rmf.convert.lerobot_in import _axis_names

    assert _axis_names({"motors": ["a", "b"]}, 2) == ["a", "b"]
    assert _axis_names({"arm": ["a", "b"], "gripper": ["g"]}, 3) == ["a", "b", "g"]
    assert _axis_names([["x", "y"], ["z"]], 3) == ["x", "y", "z"]
    assert _axis_names({"motors": ["a", "a"]}, 2) is None  # not distinct
    assert _axis_names(["a"], 2) is None


# ----------------------------------------------------------------------------- HDF5


def robomimic_file(path, env_args=None, rng=None):
    rng = rng or np.random.default_rng(7)
    demos = {}
    with h5py.File(path, "w") as f:
        data = f.create_group("data")
        data.attrs["total"] = 27
        if env_args is not None:
            data.attrs["env_args"] = json.dumps(env_args)
        for k, n in ((0, 15), (1, 12)):
            g = data.create_group(f"demo_{k}")
            g.attrs["num_samples"] = n
            d = {
                "actions": rng.normal(size=(n, 7)),
                "obs/robot0_eef_pos": rng.normal(size=(n, 3)),
                "obs/agentview_image": make_frames(n, seed=k),
                "rewards": rng.uniform(size=n),
                "dones": (np.arange(n) == n - 1).astype(np.int64),
                "states": rng.normal(size=(n, 10)),
                "next_obs/robot0_eef_pos": rng.normal(size=(n, 3)),
            }
            for key, v in d.items():
                g.create_dataset(key, data=v)
            demos[k] = d
    return demos


def test_from_hdf5_robomimic(tmp_path):
    src = tmp_path / "lift.hdf5"
    demos = robomimic_file(src)
    with pytest.raises(ValueError, match=r"lift\.hdf5.*no timestamps.*rate_hz"):
        cv.from_hdf5(src, tmp_path / "out")
    report = cv.from_hdf5(src, tmp_path / "out", rate_hz=20)
    assert report.format == "robomimic"
    assert [e.target for e in report.episodes] == ["lift_demo_0.rmf", "lift_demo_1.rmf"]
    for k, d in demos.items():
        ep = rmf.open(tmp_path / "out" / f"lift_demo_{k}.rmf")
        n = len(d["actions"])
        want_t = np.round(np.arange(n) * 5e7).astype(np.int64)
        for key in ("actions", "obs/robot0_eef_pos", "states"):
            t, v = ep[key].read()
            np.testing.assert_array_equal(t, want_t)
            np.testing.assert_array_equal(v, d[key])
            assert v.dtype == np.float64
        _, v = ep["rewards"].read()
        np.testing.assert_array_equal(v, d["rewards"])
        t, f = ep["obs/agentview_image"].read()
        np.testing.assert_array_equal(t, want_t)
        check_frames(f, d["obs/agentview_image"])
        assert "next_obs/robot0_eef_pos" not in ep and "dones" not in ep
        ev = ep.events("events").to_pylist()
        assert [(e["t"], e["kind"]) for e in ev] == [(want_t[-1], "done")]
        assert ep.metadata["extra"]["hdf5_group"] == f"/data/demo_{k}"
        assert ep.metadata["clock"].startswith("hdf5")  # where the times came from
    assert any(s.source.startswith("next_obs/") for s in report.episodes[0].skipped)
    assert (tmp_path / "out" / "episodes.parquet").exists()
    # The rate robomimic stores in env_args (control_freq) is used when none is given.
    src2 = tmp_path / "can.hdf5"
    robomimic_file(src2, env_args={"env_name": "PickPlaceCan", "env_kwargs": {"control_freq": 10}})
    cv.from_hdf5(src2, tmp_path / "out2")
    ep = rmf.open(tmp_path / "out2" / "can_demo_0.rmf")
    assert ep["actions"].times()[1] == 100_000_000 and ep.metadata["extra"]["env"] == "PickPlaceCan"


def jpeg_bytes(frame):
    cc = av.CodecContext.create("mjpeg", "w")
    cc.width, cc.height, cc.pix_fmt = W, H, "yuvj420p"
    cc.time_base = fractions.Fraction(1, FPS)
    cc.options = {"q": "2"}
    vf = av.VideoFrame.from_ndarray(frame, format="rgb24").reformat(format="yuvj420p")
    packets = cc.encode(vf) + cc.encode(None)
    return bytes(packets[0])


def aloha_file(path, n, seed, compress):
    rng = np.random.default_rng(seed)
    d = {
        "observations/qpos": rng.normal(size=(n, 14)),
        "observations/qvel": rng.normal(size=(n, 14)),
        "action": rng.normal(size=(n, 14)),
    }
    frames = make_frames(n, seed=seed)
    with h5py.File(path, "w") as f:
        f.attrs["sim"] = True
        for key, v in d.items():
            f.create_dataset(key, data=v)
        if compress:
            f.attrs["compress"] = True
            blobs = [jpeg_bytes(x) for x in frames]
            pad = max(len(b) for b in blobs)
            arr = np.zeros((n, pad), np.uint8)
            for k, b in enumerate(blobs):
                arr[k, : len(b)] = np.frombuffer(b, np.uint8)
            f.create_dataset("observations/images/top", data=arr)
            f.create_dataset("compress_len", data=np.array([[len(b) for b in blobs]]))
        else:
            f.create_dataset("observations/images/top", data=frames)
    return d, frames


def test_from_hdf5_aloha_directory(tmp_path):
    src = tmp_path / "aloha"
    src.mkdir()
    want = {
        "episode_0": aloha_file(src / "episode_0.hdf5", 16, 0, compress=False),
        "episode_1": aloha_file(src / "episode_1.hdf5", 13, 1, compress=True),
    }
    calls = []
    report = cv.from_hdf5(src, tmp_path / "out", rate_hz=50, progress=lambda *a: calls.append(a))
    assert calls == [(1, 2), (2, 2)]  # files
    assert report.format == "ALOHA" and len(report.episodes) == 2
    for name, (d, frames) in want.items():
        ep = rmf.open(tmp_path / "out" / f"{name}.rmf")
        n = len(d["action"])
        want_t = np.arange(n, dtype=np.int64) * 20_000_000
        for key, v in d.items():
            t, got = ep[key].read()
            np.testing.assert_array_equal(t, want_t)
            np.testing.assert_array_equal(got, v)
        assert ep["observations/qpos"].names == cv.ALOHA_NAMES
        assert ep["observations/qpos"].names[6] == "left_gripper"
        _, f = ep["observations/images/top"].read()
        check_frames(f, frames)
        assert ep.metadata["extra"]["sim"] is True
    assert any("JPEG" in m.detail for m in report.episodes[1].mapped)
    with pytest.raises(ValueError, match=r"episode_0\.hdf5.*no timestamps"):
        cv.from_hdf5(src / "episode_0.hdf5", tmp_path / "out3")


def test_from_hdf5_timestamps_in_file_and_bad_input(tmp_path):
    src = tmp_path / "stamped.hdf5"
    rng = np.random.default_rng(2)
    n = 10
    ts = np.cumsum(rng.uniform(0.015, 0.025, n)) + 100.0
    with h5py.File(src, "w") as f:
        f.create_dataset("observations/qpos", data=np.ones((n, 6)))
        f.create_dataset("observations/timestamp", data=ts)
        f.create_dataset("action", data=np.zeros((n, 6), np.float32))
    report = cv.from_hdf5(src, tmp_path / "out", rate_hz=50)
    assert any("ignored" in w for w in report.episodes[0].warnings)
    t = rmf.open(tmp_path / "out" / "stamped.rmf")["action"].times()
    np.testing.assert_array_equal(t, np.round((ts - ts[0]) * 1e9).astype(np.int64))
    other = tmp_path / "other.hdf5"
    with h5py.File(other, "w") as f:
        f.create_dataset("foo", data=np.zeros(3))
    with pytest.raises(ValueError, match=r"other\.hdf5: not a robomimic .* or ALOHA"):
        cv.from_hdf5(other, tmp_path / "out2")
    with pytest.raises(FileNotFoundError, match="nope"):
        cv.from_hdf5(tmp_path / "nope.hdf5", tmp_path / "out2")
    with pytest.raises(ValueError, match="layout"):
        cv.from_hdf5(src, tmp_path / "out2", layout="rlds")


# ----------------------------------------------------------------------------- round trip


def write_rmf_episode(path, seed, start_ns, seconds=0.7):
    rng = np.random.default_rng(seed)
    n_j = int(100 * seconds)
    j_t = start_ns + np.arange(n_j) * 10_000_000 + rng.integers(0, 1_500_000, n_j)
    phase = j_t[:, None, None] * 1e-9 * np.array([1.0, 2.0, 3.0]) + np.array([[0.0], [1.0]])
    joints = np.sin(phase).astype(np.float32)  # (n, 2, 3)
    n_a = int(30 * seconds)
    a_t = start_ns + 2_000_000 + np.arange(n_a) * 33_333_333 + rng.integers(0, 3_000_000, n_a)
    action = np.cos(a_t[:, None] * 1e-9 * np.array([1.0, 2.0, 4.0, 8.0]))
    g_t = start_ns + np.arange(int(10 * seconds)) * 100_000_000
    grip = np.arange(len(g_t), dtype=np.int32) * 7
    n_c = int(30 * seconds)
    c_t = start_ns + 1_000_000 + np.arange(n_c) * 33_333_333 + rng.integers(0, 2_000_000, n_c)
    frames = make_frames(n_c, seed=seed)
    meta = {"task": f"task {seed}", "robot": "arm-1", "operator": "op-7", "site": "lab"}
    with rmf.EpisodeWriter(path, metadata=meta) as w:
        w.add_signal("joints", dtype="float32", shape=(2, 3), rate_hz=100, units=["rad"] * 6)
        w.add_signal(
            "action",
            dtype="float64",
            shape=(4,),
            names=["a", "b", "c", "d"],
            rate_hz=30,
            sensitivity="public",
        )
        w.add_signal("gaze", dtype="float32", shape=(2,), rate_hz=10, sensitivity="private")
        w.add_signal("gripper", dtype="int32", rate_hz=10)
        w.add_frames("cam/front", width=W, height=H, codec="h264", qp=16, rate_hz=30)
        w.add_audio("mic", sample_rate=8000)
        w.add_events("interventions")
        w.write_many("joints", j_t.astype(np.int64), joints)
        w.write_many("action", a_t.astype(np.int64), action)
        w.write_many("gripper", g_t.astype(np.int64), grip)
        w.write_many("gaze", g_t.astype(np.int64), np.zeros((len(g_t), 2), np.float32))
        w.write_many("cam/front", c_t.astype(np.int64), frames)
        w.write_audio("mic", start_ns, np.zeros(800, np.int16))
        w.write_event("interventions", start_ns + 200_000_000, kind="takeover_start")
        w.write_event("interventions", start_ns + 300_000_000, kind="note", text="slip")
        w.write_event("interventions", start_ns + 400_000_000, kind="takeover_end")
    return {
        "joints": (j_t, joints),
        "action": (a_t, action),
        "gripper": (g_t, grip),
        "cam/front": (c_t, frames),
    }


def interp(t_src, v_src, t):
    """Linear interpolation per element, clamped at both ends (the export's rule)."""
    flat = v_src.reshape(len(v_src), -1).astype(np.float64)
    out = np.stack([np.interp(t, t_src, flat[:, k]) for k in range(flat.shape[1])], 1)
    return out.reshape((len(t), *v_src.shape[1:]))


def test_round_trip_rmf_lerobot_rmf(tmp_path):
    src = tmp_path / "rmf"
    src.mkdir()
    starts = {"a.rmf": 5_000_000_000, "b.rmf": 9_000_000_123}
    orig = {f: write_rmf_episode(src / f, k, s) for k, (f, s) in enumerate(starts.items())}
    out = tmp_path / "lerobot"
    report = cv.to_lerobot(src, out, fps=FPS)
    assert report.summary().startswith("RMF -> LeRobot v3.0: 2 episodes")
    skipped = {s.source: s.reason for s in report.episodes[0].skipped}
    assert "mic" in skipped and "interventions (note)" in skipped
    # LeRobot has no labels: private streams stay behind unless asked for.
    assert skipped["gaze"] == "labelled private, above max_label='internal'"

    # The layout LeRobot reads.
    info = json.loads((out / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == FPS
    feats = info["features"]
    assert feats["joints"]["shape"] == [6] and feats["action"]["names"] == ["a", "b", "c", "d"]
    assert feats["observation.images.cam.front"]["dtype"] == "video"
    assert feats["is_intervention"]["dtype"] == "bool"
    data = pq.read_table(out / "data/chunk-000/file-000.parquet")
    episodes = pq.read_table(out / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    tasks = pq.read_table(out / "meta/tasks.parquet")
    assert tasks.column("task").to_pylist() == ["task 0", "task 1"]
    assert json.loads(tasks.schema.metadata[b"pandas"])["index_columns"] == ["task"]
    assert data.num_rows == sum(e["length"] for e in episodes) == info["total_frames"]
    ts = data.column("timestamp").to_numpy()
    video = out / "videos/observation.images.cam.front/chunk-000/file-000.mp4"
    with av.open(str(video)) as c:
        s = c.streams.video[0]
        decoded = sorted(float(f.pts * s.time_base) for f in c.decode(s))
    # Each row's frame is at from_timestamp + timestamp, within LeRobot's tolerance (1e-4 s).
    for e in episodes:
        a, b = e["dataset_from_index"], e["dataset_to_index"]
        want = e["videos/observation.images.cam.front/from_timestamp"] + ts[a:b]
        got = np.asarray(decoded[a:b])
        assert np.max(np.abs(got - want)) < 1e-4
    stats = json.loads((out / "meta/stats.json").read_text())
    assert len(stats["joints"]["mean"]) == 6

    back = tmp_path / "back"
    rep2 = cv.from_lerobot(out, back)
    assert sorted(e.target for e in rep2.episodes) == ["a.rmf", "b.rmf"]
    for f, streams in orig.items():
        ep = rmf.open(back / f)
        start = starts[f]
        n = ep["joints"].count
        ticks = start + np.round(np.arange(n) * 1e9 / FPS).astype(np.int64)
        assert ep.metadata["task"] == rmf.open(src / f).metadata["task"]
        assert ep.metadata["robot"] == "arm-1" and ep.metadata["extra"]["site"] == "lab"
        # Times: the ticks, to float32 seconds (< 1 us here).
        for name in ("joints", "action", "gripper", "cam/front"):
            assert np.max(np.abs(ep[name].times() - ticks)) < 1_000, name
        t_j, v_j = ep["joints"].read()
        assert v_j.shape == (n, 2, 3) and ep["joints"].units == ["rad"] * 6
        np.testing.assert_allclose(v_j, interp(*streams["joints"], ticks), atol=2e-6)
        _, v_a = ep["action"].read()
        np.testing.assert_allclose(v_a, interp(*streams["action"], ticks), atol=1e-9)
        assert ep["action"].names == ["a", "b", "c", "d"]
        assert ep["action"].sensitivity == "public" and ep["joints"].sensitivity == "internal"
        assert "gaze" not in ep
        # Integers: as of each tick (the first sample before it has started).
        g_t, g = streams["gripper"]
        rows = np.maximum(np.searchsorted(g_t, ticks, side="right") - 1, 0)
        np.testing.assert_array_equal(ep["gripper"].read()[1], g[rows])
        # Frames: as of each tick, two lossy generations later.
        c_t, frames = streams["cam/front"]
        rows = np.maximum(np.searchsorted(c_t, ticks, side="right") - 1, 0)
        _, f_back = ep["cam/front"].read()
        for k in range(n):
            assert psnr(f_back[k], frames[rows[k]]) >= PSNR_MIN, k
        # Takeovers: at the first tick inside, and the first tick after.
        ev = [(e["t"], e["kind"]) for e in ep.events("interventions").to_pylist()]
        on = ticks[np.searchsorted(ticks, start + 200_000_000)]
        off = ticks[np.searchsorted(ticks, start + 400_000_000)]
        kinds = dict((k, t) for t, k in ev)
        assert (
            abs(kinds["takeover_start"] - on) < 1_000 and abs(kinds["takeover_end"] - off) < 1_000
        )
        assert ("task" in kinds) and len(ev) == 3


def test_to_lerobot_exports_private_streams_only_when_asked(tmp_path):
    src = tmp_path / "rmf"
    src.mkdir()
    write_rmf_episode(src / "a.rmf", 0, 0)
    with pytest.raises(ValueError, match="'gaze' is labelled private"):
        cv.to_lerobot(src, tmp_path / "no", fps=FPS, streams=["gaze"])
    out = tmp_path / "yes"
    cv.to_lerobot(src, out, fps=FPS, streams=["gaze"], max_label="private")
    assert "gaze" in json.loads((out / "meta/info.json").read_text())["features"]
    cv.from_lerobot(out, tmp_path / "back")
    ep = rmf.open(tmp_path / "back" / "a.rmf")
    assert ep["gaze"].sensitivity == "private"


def test_to_lerobot_exports_encrypted_streams_with_their_key(tmp_path):
    src = tmp_path / "rmf"
    src.mkdir()
    key = rmf.generate_key()
    t = np.arange(20, dtype=np.int64) * 100_000_000
    gaze = np.stack([np.arange(20), -np.arange(20)], 1).astype(np.float32)
    with rmf.EpisodeWriter(src / "a.rmf", key=key) as w:
        w.add_signal("joints", dtype="float32", shape=(2,), rate_hz=10)
        w.add_signal("gaze", dtype="float32", shape=(2,), rate_hz=10, sensitivity="private")
        w.write_many("joints", t, gaze * 2)
        w.write_many("gaze", t, gaze)
    with rmf.open(src / "a.rmf") as ep:
        assert ep["gaze"].info.get("encryption")  # sealed on disk
    # By default the private stream stays behind; asked for without its key, it cannot be read.
    report = cv.to_lerobot(src, tmp_path / "no", fps=10, reference="joints")
    assert "gaze" in {s.source for s in report.episodes[0].skipped}
    with pytest.raises(Exception, match="(?i)encrypt|key"):
        cv.to_lerobot(src, tmp_path / "nokey", fps=10, reference="joints", max_label="private")
    out = tmp_path / "yes"
    cv.to_lerobot(src, out, fps=10, reference="joints", max_label="private", key=key)
    data = pq.read_table(out / "data/chunk-000/file-000.parquet")
    np.testing.assert_array_equal(
        np.stack(data.column("gaze").to_numpy(zero_copy_only=False)), gaze
    )


def test_to_lerobot_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError):
        cv.to_lerobot(tmp_path / "nope", tmp_path / "out", fps=10)
    with pytest.raises(ValueError, match="fps"):
        cv.to_lerobot(tmp_path, tmp_path / "out", fps=0)
    with pytest.raises(ValueError, match="no .rmf episodes"):
        cv.to_lerobot(tmp_path, tmp_path / "out", fps=10)


# ----------------------------------------------------------------------------- command line


def test_main(tmp_path, capsys):
    src = tmp_path / "lift.hdf5"
    robomimic_file(src)
    assert cv.main(["hdf5", str(src), str(tmp_path / "o1")]) == 1
    assert "no timestamps" in capsys.readouterr().err
    assert cv.main(["hdf5", str(src), str(tmp_path / "o1"), "--rate", "20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "robomimic" and len(out["episodes"]) == 2
    assert cv.main(["to-lerobot", str(tmp_path / "o1"), str(tmp_path / "lr")]) == 2  # no --fps
    assert "--fps" in capsys.readouterr().err
    assert cv.main([]) == 2
    assert cv.main(["lerobot", str(tmp_path / "missing"), str(tmp_path / "o2")]) == 1
    assert "info.json" in capsys.readouterr().err
    # The module runs as a program: one summary line.
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "rmf.convert",
            "to-lerobot",
            str(tmp_path / "o1"),
            str(tmp_path / "lr"),
            "--fps",
            "20",
            "--video-codec",
            "libx264",
        ],  # fmt: skip
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("\n") == 1 and run.stdout.startswith("RMF -> LeRobot v3.0")
    assert (tmp_path / "lr" / "meta" / "info.json").exists()


def test_rmf_import_command_runs_the_python_importer(tmp_path, rmf_cli):
    import os
    import subprocess
    import sys

    src = tmp_path / "lift.hdf5"
    demos = robomimic_file(src)
    env = dict(os.environ, RMF_PYTHON=sys.executable)
    p = subprocess.run(
        [rmf_cli, "import", "hdf5", str(src), str(tmp_path / "out"), "--rate", "20", "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["format"] == "robomimic"
    _, v = rmf.open(tmp_path / "out" / "lift_demo_1.rmf")["actions"].read()
    np.testing.assert_array_equal(v, demos[1]["actions"])
    bad = subprocess.run([rmf_cli, "import", "hdf5", str(src), str(tmp_path / "o2")], env=env)
    assert bad.returncode == 2  # no rate: an error
    wrong = subprocess.run([rmf_cli, "import", "rosbag", "a", "b"], capture_output=True)
    assert wrong.returncode == 2


def test_a_closed_pipe_ends_the_command_quietly():
    # `python -m rmf.convert --help | head -0`: the reader is gone before anything is written.
    import os
    import subprocess
    import sys

    r, w = os.pipe()
    os.close(r)
    try:
        p = subprocess.run(
            [sys.executable, "-m", "rmf.convert", "--help"],
            stdout=w,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(w)
    assert p.stderr == "", p.stderr
    assert p.returncode in (-13, 141), p.returncode  # killed by SIGPIPE, as `rmf` is
