"""`pip install` puts the `rmf` command on PATH (the Rust command line run in process by
rmf/_cli.py), and `rmf import lerobot|hdf5` runs its importer in the interpreter that installed
it; the standalone binary says what to do when its interpreter lacks the package."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

SCRIPT = pathlib.Path(sys.executable).parent / "rmf"


@pytest.fixture(scope="module")
def bare(tmp_path_factory) -> dict[str, str]:
    """An environment whose python3 (a new virtual environment) does not have this package."""
    d = tmp_path_factory.mktemp("bare")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(d)], check=True)
    return {"PATH": f"{d / 'bin'}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, env=env, timeout=300
    )


def test_pip_installs_the_rmf_command(tmp_path):
    assert SCRIPT.exists(), f"{SCRIPT}: pip did not install the rmf script"
    r = run(SCRIPT, "--version")
    assert r.returncode == 0 and r.stdout.startswith("rmf "), r
    ep = tmp_path / "demo.rmf"
    r = run(SCRIPT, "demo", ep, "--seconds", "1")
    assert r.returncode == 0, r.stderr
    info = json.loads(run(SCRIPT, "info", ep, "--json").stdout)
    assert "cam/front" in {s["name"] for s in info["streams"]}
    assert run(SCRIPT, "validate", ep).returncode == 0
    # The same exit codes and one-line errors as the binary.
    r = run(SCRIPT, "info", tmp_path / "missing.rmf")
    assert r.returncode == 2 and r.stderr.startswith("rmf: error:"), r
    assert run(SCRIPT, "no-such-command").returncode == 2


def test_the_installed_command_imports_with_its_own_interpreter(tmp_path, bare):
    # No RMF_PYTHON, and a PATH whose python3 lacks the package: the importer still runs (and
    # reports the missing source, not a missing module).
    missing = tmp_path / "no-such-dataset"
    r = run(SCRIPT, "import", "lerobot", missing, tmp_path / "out", env=bare)
    assert run("python3", "-c", "import rmf", env=bare).returncode != 0
    assert r.returncode == 2, r
    assert "No module named" not in r.stderr, r.stderr
    assert str(missing) in r.stderr, r.stderr


def test_the_binary_says_what_to_install_when_python_lacks_the_package(tmp_path, rmf_cli, bare):
    env = dict(bare)  # python3 from PATH, the default
    r = run(rmf_cli, "import", "lerobot", tmp_path / "src", tmp_path / "out", env=env)
    assert r.returncode == 2, r
    assert "cannot import the rmf Python package" in r.stderr, r.stderr
    assert "pip install" in r.stderr and "RMF_PYTHON" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
