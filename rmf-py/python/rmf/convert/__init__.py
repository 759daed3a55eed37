"""Importers and exporters: LeRobot (v2.0, v2.1, v3.0) and HDF5 (robomimic, ALOHA) datasets to
RMF episodes, and RMF datasets to LeRobot v3.0.

    report = rmf.convert.from_lerobot("lerobot/pusht", "data/pusht")      # one .rmf per episode
    report = rmf.convert.from_hdf5("demo.hdf5", "data/lift", rate_hz=20)  # robomimic or ALOHA
    report = rmf.convert.to_lerobot("data/pusht", "out/pusht", fps=10)    # resampled to 10 fps
    print(report)              # what went where, what was skipped and why

    python -m rmf.convert lerobot SRC DST [--codec h264] [--json]
    python -m rmf.convert hdf5 SRC DST [--rate 50] [--layout auto|robomimic|aloha]
    python -m rmf.convert to-lerobot SRC DST --fps 30 [--reference cam/front]

Imports keep the source's real timestamps: LeRobot's ``timestamp`` column (seconds from the
episode start) becomes each sample's time in ns on the episode clock, for every stream. HDF5
files without timestamps get ``k / rate_hz``. Videos are decoded with PyAV and re-encoded with an
RMF frame codec (H.264 by default): RMF has no AV1 codec, so nothing passes through as it is.
Each import ends by building the destination's index (``episodes.parquet``).

The export samples every episode on a fixed timeline (``fps``) or a stream's own timestamps with
``rmf.Dataset`` (float signals interpolated, the rest as of each row), writes the Parquet and
MP4 files of LeRobot v3.0, and ``meta/rmf.json``: stream names, shapes, units, episode start
times and metadata, so that importing the export gives back the RMF streams (resampled).

Needs PyAV (``av``) for video and ``h5py`` for HDF5; both are imported only when used.

The package, by source and direction (``common <- importers/exporters <- _cli``):

- ``_common``: the constants, the report (``ConversionReport``, ``EpisodeReport``, ``Mapped``,
  ``Skipped``), ``_EpisodeOut`` (an .rmf written beside its name, renamed when complete), frame
  codec choice, video reading and encoder choice (PyAV);
- ``lerobot_in``: ``from_lerobot`` (LeRobot v2.0, v2.1, v3.0 -> RMF);
- ``hdf5_in``: ``from_hdf5`` (robomimic, ALOHA -> RMF), ``ALOHA_NAMES``;
- ``lerobot_out``: ``to_lerobot`` (RMF -> LeRobot v3.0), ``LABELS``;
- ``mp4_out``: ``to_mp4`` and ``Mp4Report`` (one frame stream -> MP4);
- ``_cli``: ``main``, the command line that ``python -m rmf.convert`` (``__main__``) runs.
"""

from ._cli import main
from ._common import EVENTS_STREAM as EVENTS_STREAM
from ._common import LEROBOT_BOOKKEEPING as LEROBOT_BOOKKEEPING
from ._common import RMF_META as RMF_META
from ._common import ConversionReport, EpisodeReport, Mapped, Skipped
from .hdf5_in import ALOHA_NAMES as ALOHA_NAMES
from .hdf5_in import from_hdf5
from .lerobot_in import from_lerobot
from .lerobot_out import LABELS as LABELS
from .lerobot_out import to_lerobot
from .mp4_out import Mp4Report, to_mp4

__all__ = [
    "ConversionReport",
    "EpisodeReport",
    "Mapped",
    "Mp4Report",
    "Skipped",
    "from_hdf5",
    "from_lerobot",
    "main",
    "to_lerobot",
    "to_mp4",
]
