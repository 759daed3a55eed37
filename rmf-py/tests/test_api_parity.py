"""The Python API does what the `rmf` command does: drop_streams, rename_stream, relabel,
export and import_mcap give the same files (compared sample for sample) as the commands."""

import csv
import json
import subprocess

import numpy as np
import pyarrow.parquet as pq
import pytest

import rmf


@pytest.fixture(scope="module")
def episode(tmp_path_factory):
    path = tmp_path_factory.mktemp("parity") / "in.rmf"
    rng = np.random.default_rng(11)
    with rmf.EpisodeWriter(path, metadata={"task": "pick", "extra": {"k": 1}}) as w:
        w.add_signal("ft", dtype="float32", shape=(3,), rate_hz=100, names=["fx", "fy", "fz"])
        w.add_signal("joints", dtype="float64", shape=(2,), rate_hz=50)
        w.add_events("log")
        w.write_many(
            "ft", np.arange(200, dtype=np.int64) * 10_000_000, rng.random((200, 3), np.float32)
        )
        w.write_many("joints", np.arange(100, dtype=np.int64) * 20_000_000, rng.random((100, 2)))
        w.write_event("log", 5_000_000, kind="note", text="hello")
    return path


def _cli(rmf_cli, *args):
    p = subprocess.run([rmf_cli, "--json", *map(str, args)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def _same_samples(a, b, streams):
    ea, eb = rmf.open(a), rmf.open(b)
    for s in streams:
        ta, va = ea[s].read()
        tb, vb = eb[s].read()
        assert np.array_equal(ta, tb) and np.array_equal(va, vb), s


def test_drop_and_rename_match_the_commands(episode, tmp_path, rmf_cli):
    r = rmf.drop_streams(episode, tmp_path / "py.rmf", ["joints"])
    assert r["output"] == tmp_path / "py.rmf" and r["output_bytes"] > 0
    _cli(rmf_cli, "drop-stream", episode, tmp_path / "cli.rmf", "--stream", "joints")
    for p in ("py.rmf", "cli.rmf"):
        assert list(rmf.open(tmp_path / p).streams) == ["ft", "log"]
    _same_samples(tmp_path / "py.rmf", tmp_path / "cli.rmf", ["ft"])

    rmf.rename_stream(episode, tmp_path / "rn.rmf", "ft", "wrist/ft")
    ep = rmf.open(tmp_path / "rn.rmf")
    assert "ft" not in ep and "wrist/ft" in ep
    assert np.array_equal(ep["wrist/ft"].read()[1], rmf.open(episode)["ft"].read()[1])
    with pytest.raises(ValueError, match="no stream named"):
        rmf.drop_streams(episode, tmp_path / "x.rmf", ["nope"])
    assert not (tmp_path / "x.rmf").exists()


def test_relabel_matches_the_command(episode, tmp_path, rmf_cli):
    rmf.relabel(
        episode,
        tmp_path / "py.rmf",
        sensitivity={"joints": "private"},
        tags={"ft": {"site": "lab-2"}},
        meta={"task": "stack", "k": None, "batch": 7},
        add_tags=["licence:CC-BY-4.0"],
    )
    _cli(
        rmf_cli, "relabel", episode, tmp_path / "cli.rmf",
        "--sensitivity", "joints=private", "--tag", "ft:site=lab-2",
        "--meta", "task=stack", "--meta", "k=null", "--meta", "batch=7",
        "--add-tag", "licence:CC-BY-4.0",
    )  # fmt: skip
    for p in ("py.rmf", "cli.rmf"):
        ep = rmf.open(tmp_path / p)
        assert ep["joints"].sensitivity == "private"
        assert ep["ft"].tags == {"site": "lab-2"}
        m = ep.metadata
        assert m["task"] == "stack" and "k" not in m["extra"] and m["extra"]["batch"] == 7
        assert m["extra"]["tags"] == ["licence:CC-BY-4.0"]
    _same_samples(tmp_path / "py.rmf", tmp_path / "cli.rmf", ["ft", "joints"])
    with pytest.raises(ValueError, match="sensitivity"):
        rmf.relabel(episode, tmp_path / "bad.rmf", sensitivity={"ft": "secret"})


def test_export_writes_the_values_as_the_command_does(episode, tmp_path, rmf_cli):
    r = rmf.export(episode, "ft", tmp_path / "py.csv")
    assert r == {"output": tmp_path / "py.csv", "stream": "ft", "rows": 200}
    _cli(rmf_cli, "export", episode, "--stream", "ft", tmp_path / "cli.csv")
    assert (tmp_path / "py.csv").read_text() == (tmp_path / "cli.csv").read_text()
    with open(tmp_path / "py.csv") as f:
        rows = list(csv.DictReader(f))
    t, v = rmf.open(episode)["ft"].read()
    assert int(rows[7]["t"]) == t[7] and np.float32(rows[7]["fy"]) == v[7, 1]

    rmf.export(episode, "joints", tmp_path / "j.table", format="parquet")
    table = pq.read_table(tmp_path / "j.table")
    assert table.num_rows == 100
    with pytest.raises(ValueError, match="format"):
        rmf.export(episode, "ft", tmp_path / "ft.txt")
    with pytest.raises(ValueError, match="no stream named"):
        rmf.export(episode, "nope", tmp_path / "n.csv")


def test_import_mcap_matches_the_command(tmp_path, rmf_cli):
    pytest.importorskip("mcap_ros2.writer")
    from test_mcap_import import write_bag

    bag = tmp_path / "arm.mcap"
    _, _, _, wrench_t, wrench = write_bag(bag, n=20)
    report = rmf.import_mcap(bag, tmp_path / "py.rmf", topics=["/ft_sensor/wrench"])
    cli = _cli(rmf_cli, "import-mcap", bag, tmp_path / "cli.rmf", "--topic", "/ft_sensor/wrench")
    assert report == {**cli, "output": report["output"]}
    a, b = rmf.open(tmp_path / "py.rmf"), rmf.open(tmp_path / "cli.rmf")
    assert list(a.streams) == list(b.streams) == ["ft_sensor/wrench"]
    ta, va = a["ft_sensor/wrench"].read()
    tb, vb = b["ft_sensor/wrench"].read()
    assert np.array_equal(ta, tb) and np.array_equal(va, vb)
    assert np.array_equal(ta, wrench_t) and np.array_equal(va, wrench)
    # Log time instead of the header stamp: 3 ms later.
    rmf.import_mcap(bag, tmp_path / "log.rmf", topics=["/ft_sensor/wrench"], log_time=True)
    assert np.array_equal(
        rmf.open(tmp_path / "log.rmf")["ft_sensor/wrench"].read()[0], ta + 3_000_000
    )
    with pytest.raises(ValueError, match="codec"):
        rmf.import_mcap(bag, tmp_path / "q.rmf", codec="webp")
    # An existing output: FileExistsError naming the flag, as every writer says it.
    with pytest.raises(FileExistsError, match="overwrite"):
        rmf.import_mcap(bag, tmp_path / "py.rmf")
