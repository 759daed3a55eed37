"""Errors are the Python exceptions people expect, with file, stream and offset."""

import numpy as np
import pytest

import rmf


@pytest.fixture
def writer(tmp_path):
    w = rmf.EpisodeWriter(tmp_path / "e.rmf")
    w.add_signal("s", dtype="float32", shape=(3,))
    w.add_frames("cam", width=4, height=2, pixel_format="rgb8")
    yield w
    w.close()


def test_bad_arguments_are_value_errors(writer):
    with pytest.raises(ValueError, match="expected a float32 array, got dtype float64"):
        writer.write("s", 0, np.zeros(3, np.float64))
    with pytest.raises(ValueError, match=r"shape \[1, 2\], expected \[1, 3\]"):
        writer.write("s", 0, np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="frames of shape"):
        writer.write("cam", 0, np.zeros((2, 4), np.uint8))
    with pytest.raises(ValueError, match="no stream named"):
        writer.write("nope", 0, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="unknown dtype"):
        writer.add_signal("x", dtype="float16", shape=(1,))
    with pytest.raises(ValueError, match="declared twice"):
        writer.add_signal("s", dtype="float32", shape=(3,))
    with pytest.raises(ValueError, match="sensitivity"):
        writer.add_events("e", sensitivity="secret")
    with pytest.raises(ValueError, match="use write_audio"):
        writer.add_audio("mic", sample_rate=16000)
        writer.write("mic", 0, np.zeros(4, np.int16))


def test_time_going_backwards_is_refused(writer):
    writer.write("s", 100, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="time went backwards: 99 ns after 100 ns"):
        writer.write("s", 99, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="time went backwards"):
        writer.write_many("s", np.array([200, 150]), np.zeros((2, 3), np.float32))


def test_a_with_block_keeps_the_close_summary(tmp_path):
    # Issue 21: `with EpisodeWriter(...)` dropped the summary close() returns.
    with rmf.EpisodeWriter(tmp_path / "s.rmf") as w:
        assert w.summary is None
        w.add_signal("x", "float32")
        for i in range(5):
            w.write("x", i, np.float32(i))
    assert w.summary is not None
    assert w.summary["samples"] == {"x": 5} and w.summary["bytes"] > 0
    assert w.close() == w.summary


def test_closed_writer_and_existing_file(tmp_path):
    path = tmp_path / "c.rmf"
    w = rmf.EpisodeWriter(path)
    w.close()
    w.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        w.add_events("e")
    with pytest.raises(FileExistsError, match="exists"):
        rmf.EpisodeWriter(path)
    rmf.EpisodeWriter(path, overwrite=True).close()


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        rmf.open(tmp_path / "missing.rmf")
    junk = tmp_path / "junk.rmf"
    junk.write_bytes(b"PAR1 this is not rmf")
    with pytest.raises(rmf.RmfError) as e:
        rmf.open(junk)
    assert isinstance(e.value, OSError)
    assert e.value.kind == "not_rmf" and e.value.offset == 0 and e.value.file == str(junk)


def test_unknown_stream_on_read_is_key_and_value_error(tmp_path):
    path = tmp_path / "u.rmf"
    rmf.EpisodeWriter(path).close()
    ep = rmf.open(path)
    with pytest.raises(KeyError):
        ep["nope"]
    with pytest.raises(ValueError, match="no stream named"):
        ep.events("nope")
    assert "nope" not in ep and len(ep) == 0 and ep.start_ns is None


def test_damaged_chunk_is_an_rmf_error_with_offset(testdata):
    ep = rmf.open(testdata / "invalid" / "bad-chunk-checksum.rmf")
    ep["ft"].read()  # other streams read normally
    with pytest.raises(rmf.RmfError, match="checksum") as e:
        ep["mic"].read()
    assert e.value.kind == "checksum" and e.value.offset > 0 and e.value.stream == "mic"
    assert 'stream "mic"' in str(e.value)


@pytest.mark.parametrize(
    "case,kind",
    [
        ("not-rmf", "not_rmf"),
        ("future-major-version", "unsupported_version"),
        ("short-header", "truncated"),
    ],
)
def test_invalid_conformance_files(testdata, case, kind):
    with pytest.raises(rmf.RmfError) as e:
        rmf.open(testdata / "invalid" / f"{case}.rmf")
    assert e.value.kind == kind


def test_overwrite_keeps_open_readers_alive(tmp_path):
    path = tmp_path / "o.rmf"
    with rmf.EpisodeWriter(path) as w:
        w.add_signal("s", dtype=np.float64, shape=())
        w.write_many("s", np.arange(10_000), np.arange(10_000, dtype=np.float64))
    old = rmf.open(path)
    rmf.EpisodeWriter(path, overwrite=True).close()  # replaces the file while `old` maps it
    assert old["s"].read()[1].sum() == sum(range(10_000))
    assert len(rmf.open(path)) == 0


def test_at_and_nearest_can_give_the_sample_time(tmp_path):
    # Issue 21: `Stream.at()` gave no timestamp; a second `time_at` call was needed.
    path = tmp_path / "t.rmf"
    with rmf.EpisodeWriter(path) as w:
        w.add_signal("x", "float32")
        for t in (100, 200, 300):
            w.write("x", t, np.float32(t / 100))
    s = rmf.open(path)["x"]
    assert s.at(250, with_time=True) == (200, 2.0)
    assert s.nearest(260, with_time=True) == (300, 3.0)
    assert s.at(50, with_time=True) is None
    assert s.at(250) == 2.0
