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


def test_a_damaged_bag_is_an_error_naming_the_file(rmf_cli, tmp_path):
    bag = tmp_path / "cut.mcap"
    write_bag(bag, n=5)
    bag.write_bytes(bag.read_bytes()[:-100])
    p = subprocess.run(
        [rmf_cli, "import-mcap", str(bag), str(tmp_path / "o.rmf")], capture_output=True, text=True
    )
    assert p.returncode == 2
    assert (
        p.stderr.startswith("rmf: error: ")
        and "cut.mcap" in p.stderr
        and "panicked" not in p.stderr
    )
    assert not (tmp_path / "o.rmf").exists()
