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


@pytest.fixture(scope="session")
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


@pytest.fixture
def conformance_reader() -> str:
    """The Rust conformance reader example (test.sh builds it and sets RMF_CONFORMANCE_READER)."""
    path = os.environ.get("RMF_CONFORMANCE_READER")
    if not path:
        candidate = ROOT / "target/debug/examples/conformance_reader"
        path = str(candidate) if candidate.exists() else None
    assert path, (
        "the conformance reader is not built: run "
        "`cargo build -p rmf-testkit --example conformance_reader` or set RMF_CONFORMANCE_READER"
    )
    return path
