"""Reads that would take more memory than there is end in MemoryError, never in an aborted
interpreter (issue 19: a whole-stream read of a zstd bomb killed Python with SIGABRT)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import rmf

SIDE = 2048  # gray8 frames of 4 MiB
ROW = SIDE * SIDE  # bytes of one sample
ROWS = 64  # 256 MiB decoded, a few hundred KB on disk (zstd of zeros)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    path = tmp_path_factory.mktemp("bomb") / "zeros.rmf"
    with rmf.EpisodeWriter(path) as w:
        w.add_frames("zeros", SIDE, SIDE, "gray8", codec="raw")
        zeros = np.zeros((SIDE, SIDE), np.uint8)
        for i in range(ROWS):
            w.write("zeros", i * 1_000_000, zeros)
    assert path.stat().st_size < ROW * ROWS // 100
    return path


def test_a_read_over_its_budget_is_refused_before_decoding(bomb):
    s = rmf.open(bomb)["zeros"]
    with pytest.raises(MemoryError, match=r"over this read's budget of 1048576 bytes"):
        s.read(max_bytes=1 << 20)
    # The budget counts whole chunks, as their index entries claim them.
    t, v = s.read(max_bytes=ROWS * ROW + (1 << 20))
    assert v.shape == (ROWS, SIDE, SIDE) and len(t) == ROWS and not v.any()


def _under_memory_limit(path, call):
    """Runs `call` on the stream in a child whose address space is capped 160 MB above what it
    uses after importing rmf: prints what happened; a crash shows as a negative return code."""
    code = textwrap.dedent(
        f"""
        import resource, sys
        import numpy, rmf
        s = rmf.open({str(path)!r})["zeros"]
        with open("/proc/self/status") as f:
            vm = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))
        limit = vm + (160 << 20)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            {call}
            print("read")
        except MemoryError as e:
            print("MemoryError", e)
        except rmf.RmfError as e:
            print("RmfError", e)
        """
    )
    # mimalloc (the wheel's allocator) reserves a 1 GiB arena up front, inside VmSize: an
    # allocation from it would not meet the limit. Without the reservation VmSize is what is used.
    env = dict(os.environ, MIMALLOC_ARENA_RESERVE="0")
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and /proc are Linux's")
def test_the_default_budget_follows_the_address_space_limit(bomb):
    out = _under_memory_limit(bomb, "s.read()")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("MemoryError"), out.stdout + out.stderr
    assert "budget" in out.stdout


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and /proc are Linux's")
def test_memory_running_out_is_an_exception_not_an_abort(bomb):
    # No budget: the allocations themselves fail, and must fail softly.
    out = _under_memory_limit(bomb, "s.read(max_bytes=1 << 40)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(("MemoryError", "RmfError")), out.stdout + out.stderr
    assert "out of memory" in out.stdout, out.stdout
