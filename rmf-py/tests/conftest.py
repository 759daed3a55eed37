"""Shared fixtures: paths to the repository's conformance files and the `rmf` command."""

import os
import pathlib
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TESTDATA = ROOT / "testdata"


@pytest.fixture
def testdata() -> pathlib.Path:
    assert (TESTDATA / "README.md").exists(), f"conformance files not found under {TESTDATA}"
    return TESTDATA


@pytest.fixture
def rmf_cli() -> str:
    """The Rust `rmf` command (test.sh builds it and sets RMF_CLI)."""
    path = os.environ.get("RMF_CLI") or shutil.which("rmf")
    if not path:
        for candidate in (ROOT / "target/debug/rmf", ROOT / "target/release/rmf"):
            if candidate.exists():
                path = str(candidate)
                break
    assert path, "the rmf command is not built: run `cargo build -p rmf-cli` or set RMF_CLI"
    return path
