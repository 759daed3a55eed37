"""The ``rmf`` command that ``pip install`` puts on PATH: the Rust command line (the same code
as the ``rmf`` binary), run in this process."""

from __future__ import annotations

import os
import signal
import sys


def main() -> None:
    # As the native binary: Ctrl-C ends the command (outputs appear whole or not at all), and
    # a closed pipe (`rmf info ... | head`) ends it quietly.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # `rmf import lerobot|hdf5` runs its importer in this interpreter: it has this package.
    os.environ.setdefault("RMF_PYTHON", sys.executable)
    from ._rmf import cli_main

    sys.exit(cli_main(sys.argv))


if __name__ == "__main__":
    main()
