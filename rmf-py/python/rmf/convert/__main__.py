"""``python -m rmf.convert lerobot|hdf5|mp4|to-lerobot SRC DST [OPTIONS]`` (see ``_cli``)."""

import signal
import sys

from ._cli import main

if __name__ == "__main__":
    # A closed pipe (`... | head`) ends the command quietly, as the Rust `rmf` does.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
