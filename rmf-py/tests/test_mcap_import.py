"""`rmf import-mcap`: a ROS 2 bag written with the peer's own Python library (mcap +
mcap-ros2-support, which serializes messages from their ROS 2 definitions), imported by the
`rmf` command and read back with `rmf.open`: values, names and timestamps compared exactly."""

import json
import subprocess

import numpy as np
import pytest

import rmf

mcap_ros2_writer = pytest.importorskip("mcap_ros2.writer")

SEP = "=" * 80 + "\n"
HEADER = (
    SEP
    + "MSG: std_msgs/Header\nbuiltin_interfaces/Time stamp\nstring frame_id\n"
    + SEP
    + "MSG: builtin_interfaces/Time\nint32 sec\nuint32 nanosec\n"
)
JOINT_STATE = (
    "std_msgs/Header header\nstring[] name\nfloat64[] position\nfloat64[] velocity\n"
    "float64[] effort\n" + HEADER
)
WRENCH_STAMPED = (
    "std_msgs/Header header\ngeometry_msgs/Wrench wrench\n"
    + HEADER
    + SEP
    + "MSG: geometry_msgs/Wrench\ngeometry_msgs/Vector3 force\ngeometry_msgs/Vector3 torque\n"
    + SEP
    + "MSG: geometry_msgs/Vector3\nfloat64 x\nfloat64 y\nfloat64 z\n"
)
T0 = 1_700_000_000_000_000_000
JOINTS = ["shoulder_pan", "shoulder_lift", "elbow", "wrist"]


def header(t_ns, frame):
    return {
        "stamp": {"sec": t_ns // 1_000_000_000, "nanosec": t_ns % 1_000_000_000},
        "frame_id": frame,
    }


def write_bag(path, n=50):
    """JointState at 100 Hz and WrenchStamped at 500 Hz; log times 3 ms after the stamps."""
    rng = np.random.default_rng(7)
    joints_t = T0 + np.arange(n, dtype=np.int64) * 10_000_000 + 123
    pos = rng.normal(size=(n, len(JOINTS)))
    vel = rng.normal(size=(n, len(JOINTS))) * 1e-3
    wrench_t = T0 + np.arange(5 * n, dtype=np.int64) * 2_000_000 + 7
    wrench = rng.normal(size=(5 * n, 6)) * 10
    with open(path, "wb") as f:
        w = mcap_ros2_writer.Writer(f)
        js = w.register_msgdef("sensor_msgs/msg/JointState", JOINT_STATE)
        ws = w.register_msgdef("geometry_msgs/msg/WrenchStamped", WRENCH_STAMPED)
        events = [(int(t), "j", i) for i, t in enumerate(joints_t)]
        events += [(int(t), "w", i) for i, t in enumerate(wrench_t)]
        for t, kind, i in sorted(events):
            if kind == "j":
                msg = {
                    "header": header(t, "base_link"),
                    "name": JOINTS,
                    "position": pos[i].tolist(),
                    "velocity": vel[i].tolist(),
                    "effort": [],
                }
                w.write_message("/joint_states", js, msg, log_time=t + 3_000_000)
            else:
                f_, tq = wrench[i, :3], wrench[i, 3:]
                msg = {
                    "header": header(t, "tool0"),
                    "wrench": {
                        "force": dict(zip("xyz", f_.tolist())),
                        "torque": dict(zip("xyz", tq.tolist())),
                    },
                }
                w.write_message("/ft_sensor/wrench", ws, msg, log_time=t + 3_000_000)
        w.finish()
    return joints_t, pos, vel, wrench_t, wrench


def run(rmf_cli, *args):
    p = subprocess.run(
        [rmf_cli, "--json", "import-mcap", *map(str, args)], capture_output=True, text=True
    )
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_ros2_bag_from_the_python_writer_imports_exactly(rmf_cli, tmp_path):
    bag = tmp_path / "arm.mcap"
    joints_t, pos, vel, wrench_t, wrench = write_bag(bag)
    out = tmp_path / "arm.rmf"
    report = run(rmf_cli, bag, out)
    topics = {t["topic"]: t for t in report["topics"]}
    assert topics["/joint_states"]["streams"] == ["joint_states/position", "joint_states/velocity"]
    assert topics["/joint_states"]["imported"] == len(joints_t)
    assert topics["/ft_sensor/wrench"]["streams"] == ["ft_sensor/wrench"]
    assert report["time_source"] == "header_stamp"

    ep = rmf.open(out)
    assert "joint_states/effort" not in ep  # empty arrays write nothing
    assert ep.metadata["extra"]["imported_from"] == "mcap"
    assert ep.metadata["extra"]["source"] == "arm.mcap"
    assert ep.metadata["start_time_unix_ns"] == min(joints_t[0], wrench_t[0])
    p = ep["joint_states/position"]
    assert p.names == JOINTS and p.dtype == "float64" and p.shape == (4,)
    assert p.tags["frame_id"] == "base_link"
    t, v = p.read()
    np.testing.assert_array_equal(t, joints_t)
    np.testing.assert_array_equal(v, pos)
    t, v = ep["joint_states/velocity"].read()
    np.testing.assert_array_equal(t, joints_t)
    np.testing.assert_array_equal(v, vel)
    ft = ep["ft_sensor/wrench"]
    assert ft.names == ["fx", "fy", "fz", "tx", "ty", "tz"]
    t, v = ft.read()
    np.testing.assert_array_equal(t, wrench_t)
    np.testing.assert_array_equal(v, wrench)

    # The log time instead, one topic only.
    out2 = tmp_path / "log.rmf"
    report = run(rmf_cli, bag, out2, "--log-time", "--topic", "/ft_sensor/wrench")
    assert report["time_source"] == "log_time"
    ep = rmf.open(out2)
    assert list(ep) == ["ft_sensor/wrench"]
    t, v = ep["ft_sensor/wrench"].read()
    np.testing.assert_array_equal(t, wrench_t + 3_000_000)
    np.testing.assert_array_equal(v, wrench)


def test_a_truncated_bag_imports_every_intact_message(rmf_cli, tmp_path):
    bag = tmp_path / "cut.mcap"
    joints_t, pos, *_ = write_bag(bag, n=400)
    whole = bag.read_bytes()
    # Small chunks, then a cut in the middle, as a recorder killed mid-write leaves it.
    with open(bag, "wb") as f:
        w = mcap_ros2_writer.Writer(f, chunk_size=4096)
        js = w.register_msgdef("sensor_msgs/msg/JointState", JOINT_STATE)
        for i, t in enumerate(joints_t):
            msg = {
                "header": header(int(t), "b"),
                "name": JOINTS,
                "position": pos[i].tolist(),
                "velocity": [],
                "effort": [],
            }
            w.write_message("/joint_states", js, msg, log_time=int(t))
        w.finish()
    assert bag.read_bytes() != whole
    data = bag.read_bytes()
    bag.write_bytes(data[: len(data) // 2])
    report = run(rmf_cli, bag, tmp_path / "o.rmf")
    assert "truncated or damaged after" in report["damage"]
    t, v = rmf.open(tmp_path / "o.rmf")["joint_states/position"].read()
    n = len(t)
    assert 100 < n < 400, n  # every message of the intact chunks, none after the cut
    np.testing.assert_array_equal(t, joints_t[:n])
    np.testing.assert_array_equal(v, pos[:n])
    # People see the warning on the summary.
    p = subprocess.run(
        [rmf_cli, "import-mcap", str(bag), str(tmp_path / "p.rmf")], capture_output=True, text=True
    )
    assert p.returncode == 0 and "warning:" in p.stdout and "cut.mcap" in p.stdout


def test_garbage_is_an_error_naming_the_file(rmf_cli, tmp_path):
    bag = tmp_path / "junk.mcap"
    bag.write_bytes(b"\x89MCAP0\r\n" + bytes(range(256)) * 4)
    p = subprocess.run(
        [rmf_cli, "import-mcap", str(bag), str(tmp_path / "o.rmf")], capture_output=True, text=True
    )
    assert p.returncode == 2
    assert (
        p.stderr.startswith("rmf: error: ")
        and "junk.mcap" in p.stderr
        and "panicked" not in p.stderr
    )
    assert not (tmp_path / "o.rmf").exists()


AUDIO_INFO = (
    "uint8 channels\nuint32 sample_rate\nstring sample_format\nuint32 bitrate\n"
    "string coding_format\n"
)
AUDIO_DATA = "uint8[] data\n"
AUDIO_DATA_STAMPED = (
    "std_msgs/Header header\naudio_common_msgs/AudioData audio\n"
    + HEADER
    + SEP
    + "MSG: audio_common_msgs/AudioData\n"
    + AUDIO_DATA
)
IMU = (
    "std_msgs/Header header\ngeometry_msgs/Quaternion orientation\n"
    "float64[9] orientation_covariance\ngeometry_msgs/Vector3 angular_velocity\n"
    "float64[9] angular_velocity_covariance\ngeometry_msgs/Vector3 linear_acceleration\n"
    "float64[9] linear_acceleration_covariance\n"
    + HEADER
    + SEP
    + "MSG: geometry_msgs/Quaternion\nfloat64 x\nfloat64 y\nfloat64 z\nfloat64 w\n"
    + SEP
    + "MSG: geometry_msgs/Vector3\nfloat64 x\nfloat64 y\nfloat64 z\n"
)
IMAGE = (
    "std_msgs/Header header\nuint32 height\nuint32 width\nstring encoding\n"
    "uint8 is_bigendian\nuint32 step\nuint8[] data\n" + HEADER
)
COMPRESSED_IMAGE = "std_msgs/Header header\nstring format\nuint8[] data\n" + HEADER


def test_audio_imu_and_images_from_the_python_writer(rmf_cli, tmp_path):
    rng = np.random.default_rng(11)
    bag = tmp_path / "robot.mcap"
    blocks = [rng.integers(-32768, 32767, size=(160, 2), dtype=np.int16) for _ in range(5)]
    block_t = [T0 + k * 10_000_000 for k in range(5)]  # 160 frames at 16 kHz: 10 ms each
    imu = rng.normal(size=(20, 10))
    imu_t = [T0 + k * 5_000_000 + 11 for k in range(20)]
    gray = [rng.integers(0, 256, size=(24, 32), dtype=np.uint8) for _ in range(3)]
    img_t = [T0 + k * 33_333_333 for k in range(3)]
    mono = [rng.normal(size=80).astype(np.float32) for _ in range(4)]
    mono_t = [T0 + 3 + k * 10_000_000 for k in range(4)]
    av = pytest.importorskip("av")  # FFmpeg's PNG encoder makes the CompressedImage payloads

    def png(a):
        ctx = av.CodecContext.create("png", "w")
        ctx.width, ctx.height, ctx.pix_fmt = a.shape[1], a.shape[0], "gray"
        packets = ctx.encode(av.VideoFrame.from_ndarray(a, format="gray"))
        return b"".join(bytes(p) for p in packets)

    with open(bag, "wb") as f:
        w = mcap_ros2_writer.Writer(f)
        info = w.register_msgdef("audio_common_msgs/msg/AudioInfo", AUDIO_INFO)
        audio = w.register_msgdef("audio_common_msgs/msg/AudioDataStamped", AUDIO_DATA_STAMPED)
        raw = w.register_msgdef("audio_common_msgs/msg/AudioData", AUDIO_DATA)
        imu_s = w.register_msgdef("sensor_msgs/msg/Imu", IMU)
        img = w.register_msgdef("sensor_msgs/msg/Image", IMAGE)
        cimg = w.register_msgdef("sensor_msgs/msg/CompressedImage", COMPRESSED_IMAGE)
        w.write_message(
            "/mic/audio_info",
            info,
            {
                "channels": 2,
                "sample_rate": 16000,
                "sample_format": "S16LE",
                "bitrate": 0,
                "coding_format": "wave",
            },
            log_time=T0,
        )
        for t, b in zip(block_t, blocks):
            w.write_message(
                "/mic/audio_stamped",
                audio,
                {"header": header(t, "mic"), "audio": {"data": b.tobytes()}},
                log_time=t + 1,
            )
        # mp3 audio in another namespace: not PCM, kept as raw events.
        w.write_message(
            "/speaker/audio_info",
            info,
            {
                "channels": 1,
                "sample_rate": 22050,
                "sample_format": "S16LE",
                "bitrate": 64,
                "coding_format": "mp3",
            },
            log_time=T0,
        )
        w.write_message("/speaker/audio", raw, {"data": b"\xff\xfb\x90"}, log_time=T0 + 5)
        # Unstamped float PCM: blocks at their log time.
        w.write_message(
            "/mic2/info",
            info,
            {"channels": 1, "sample_rate": 8000, "sample_format": "F32LE", "bitrate": 0,
             "coding_format": "wave"},
            log_time=T0,
        )  # fmt: skip
        for k, block in enumerate(mono):
            w.write_message("/mic2/audio", raw, {"data": block.tobytes()}, log_time=mono_t[k])
        for t, v in zip(imu_t, imu):
            q, ang, la = v[:4], v[4:7], v[7:]
            w.write_message(
                "/imu",
                imu_s,
                {
                    "header": header(t, "imu_link"),
                    "orientation": dict(zip("xyzw", q.tolist())),
                    "orientation_covariance": [0.0] * 9,
                    "angular_velocity": dict(zip("xyz", ang.tolist())),
                    "angular_velocity_covariance": [0.0] * 9,
                    "linear_acceleration": dict(zip("xyz", la.tolist())),
                    "linear_acceleration_covariance": [0.0] * 9,
                },
                log_time=t,
            )
        for t, g in zip(img_t, gray):
            w.write_message(
                "/cam/image_raw",
                img,
                {
                    "header": header(t, "cam"),
                    "height": 24,
                    "width": 32,
                    "encoding": "mono8",
                    "is_bigendian": 0,
                    "step": 32,
                    "data": g.tobytes(),
                },
                log_time=t,
            )
            w.write_message(
                "/cam/compressed",
                cimg,
                {"header": header(t, "cam"), "format": "png", "data": png(g)},
                log_time=t,
            )
        w.finish()

    report = run(rmf_cli, bag, tmp_path / "robot.rmf", "--codec", "png")
    topics = {t["topic"]: t for t in report["topics"]}
    assert topics["/mic/audio_stamped"]["streams"] == ["mic/audio_stamped"]
    assert "/mic/audio_info" in topics["/mic/audio_stamped"]["notes"][0]
    assert topics["/mic/audio_info"]["skipped"].startswith("the format of the audio")
    assert any("mp3" in n for n in topics["/speaker/audio"]["notes"])
    # The mp3 topic took no format from its AudioInfo, which is kept like any unknown topic.
    assert topics["/speaker/audio_info"]["streams"] == ["speaker/audio_info"]
    assert report["damage"] is None

    ep = rmf.open(tmp_path / "robot.rmf")
    mic = ep["mic/audio_stamped"]
    assert (mic.kind, mic.sample_rate, mic.dtype) == ("audio", 16000, "int16")
    t, pcm = mic.read()
    # Every sample exact, stamped from its block's header stamp at 16 kHz.
    np.testing.assert_array_equal(pcm, np.concatenate(blocks))
    assert t[0] == block_t[0] and t[160] == block_t[1] and t[161] == block_t[1] + 62_500
    ev = ep.events("speaker/audio")
    assert ev.column("kind").to_pylist() == ["raw"]

    t, v = ep["imu"].read()
    np.testing.assert_array_equal(t, imu_t)
    np.testing.assert_array_equal(v, imu)
    for name in ["cam/image_raw", "cam/compressed"]:
        t, frames = ep[name].read()
        np.testing.assert_array_equal(t, img_t)
        np.testing.assert_array_equal(frames, np.stack(gray))  # png: lossless
    mic2 = ep["mic2/audio"]
    assert (mic2.sample_rate, mic2.dtype) == (8000, "float32")
    t, pcm = mic2.read()
    np.testing.assert_array_equal(pcm.reshape(-1), np.concatenate(mono))
    assert t[0] == mono_t[0] and t[80] == mono_t[1] and t[1] == mono_t[0] + 125_000

    # One audio topic chosen: its AudioInfo still gives the format, and is not stored.
    report = run(rmf_cli, bag, tmp_path / "mic.rmf", "--topic", "/mic/audio_stamped")
    assert [t["streams"] for t in report["topics"] if t["streams"]] == [["mic/audio_stamped"]]
    np.testing.assert_array_equal(
        rmf.open(tmp_path / "mic.rmf")["mic/audio_stamped"].read()[1], np.concatenate(blocks)
    )


def test_a_chunk_that_fails_its_checksum_is_an_error_not_a_short_import(rmf_cli, tmp_path):
    bag = tmp_path / "bad.mcap"
    write_bag(bag, n=50)
    data = bytearray(bag.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside the chunk (zstd): its CRC no longer matches
    bag.write_bytes(bytes(data))
    p = subprocess.run(
        [rmf_cli, "import-mcap", str(bag), str(tmp_path / "o.rmf")], capture_output=True, text=True
    )
    assert p.returncode == 2, p.stdout
    assert p.stderr.startswith("rmf: error: ") and "bad.mcap" in p.stderr
    assert not any(tmp_path.glob("o.rmf*"))
