"""``python -m rmf.convert lerobot|hdf5|mp4|to-lerobot SRC DST [OPTIONS]`` (see ``_cli``)."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
