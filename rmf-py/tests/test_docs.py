"""The examples of docs/python.md run as written: the writer and reader example, then the
dataset example on a directory holding what the writer wrote (a window in seconds needs the
rate the writer example declares)."""

import os
import pathlib

import numpy as np

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "python.md"


def python_blocks() -> list[str]:
    blocks, current = [], None
    for line in DOCS.read_text().splitlines():
        if current is None and line.strip() == "```python":
            current = []
        elif current is not None and line.strip() == "```":
            blocks.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def block_with(first_line: str, until: str | None = None) -> str:
    for b in python_blocks():
        lines = b.splitlines()
        if lines and lines[0].startswith(first_line):
            if until is not None:
                lines = lines[: next(k for k, x in enumerate(lines) if x.startswith(until))]
            return "\n".join(lines)
    raise AssertionError(f"no python block starting with {first_line!r} in {DOCS}")


def test_the_writer_reader_and_dataset_examples_run_together(tmp_path, monkeypatch):
    t_ns = 1_000_000_000
    given = {  # what the examples take as given: one moment of a recording
        "t_ns": t_ns,
        "frame": np.full((480, 640, 3), 7, np.uint8),
        "ts_ns": t_ns - 1_000_000 * np.arange(200, dtype=np.int64)[::-1],
        "values": np.ones((200, 6), np.float32),
        "q": np.arange(7, dtype=np.float32),
        "a": np.arange(8, dtype=np.float32),
        "samples": np.zeros(1600, np.int16),
        "t0_ns": t_ns - 50_000_000,
        "t1_ns": t_ns + 1,
        "i": 0,
    }
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path / "data")
    ns = dict(given)
    exec(block_with("import numpy as np", until="report = rmf.recover"), ns)
    assert ns["ts"].shape == (200,) and ns["ev"].num_rows == 1
    monkeypatch.chdir(tmp_path)
    ns = dict(given)
    exec("import rmf\n" + block_with('rmf.index("data/")'), ns)
    sample = ns["sample"]
    # The shapes the example's comments state.
    assert sample["action"].shape == (16, 8) and sample["action_pad"].shape == (16,)
    assert sample["action_t"].dtype == np.int64
    assert sample["ft/wrist"].shape == (100, 6)
    assert sample["cam/front"].shape == (2, 480, 640, 3)
    np.testing.assert_array_equal(sample["joints"], given["q"])
    assert os.path.exists(tmp_path / "data" / "episodes.parquet")
