"""RMF, the Robot Multimodal Format: recorded robot episodes for training pipelines.

An episode file holds named streams (camera frames, audio, numeric signals, event logs), each
at its own rate, every sample stamped in int64 nanoseconds on one shared clock.

Write::

    with rmf.EpisodeWriter("ep.rmf", metadata={"task": "pick cup"}) as w:
        w.add_signal("ft/wrist", dtype="float32", shape=(6,), rate_hz=1000)
        w.add_frames("cam/front", width=640, height=480, pixel_format="rgb8")
        w.add_events("interventions")
        w.write("ft/wrist", t_ns, np.zeros(6, np.float32))
        w.write_event("interventions", t_ns, kind="takeover_start", operator="op-7")

Read::

    ep = rmf.open("ep.rmf")
    ts, values = ep["ft/wrist"].read(t0_ns, t1_ns)   # int64[n], float32[n, 6]
    frame = ep["cam/front"].at(t_ns)                  # last frame at or before t
    table = ep.events("interventions")                # pyarrow.Table

Private streams are encrypted when the writer has a key (``rmf.generate_key()``, 32 bytes, or
a key file from ``rmf keygen``)::

    with rmf.EpisodeWriter("ep.rmf", key=key) as w:
        w.add_frames("cam/face", 640, 480, sensitivity="private")   # sealed on disk
    ep = rmf.open("ep.rmf", key=key)   # without key=, reading cam/face raises kind "encrypted"

Signal, timestamp and 8-bit frame arrays own the vectors Rust decoded into (no copy after
decoding); every decode and I/O call releases the GIL, so threads can read one episode in
parallel.
"""

from ._rmf import (
    Episode,
    EpisodeWriter,
    RecoveryReport,
    RemoteError,
    RmfError,
    Stream,
    __version__,
    copy,
    drop_streams,
    export,
    generate_key,
    import_mcap,
    key_id,
    merge,
    open,
    recover,
    redact,
    relabel,
    rename_stream,
    share,
    split,
    transcode,
    trim,
    validate,
    verify_provenance,
)
from ._types import (
    CloseSummary,
    DroppedStream,
    EditReport,
    EpisodeMetadata,
    Event,
    ExportReport,
    FrameQueueStats,
    IndexReport,
    McapImportReport,
    McapTopicReport,
    Provenance,
    SharedEpisode,
    ShareReport,
    StreamEncryption,
    StreamInfo,
    StreamStats,
    TranscodeReport,
    WriterInfo,
)
from .dataset import Dataset, asof, events, index, linear, nearest, window
from .streaming import StreamingDataset, collate


class UnknownStreamError(KeyError, ValueError):
    """No stream of that name in the episode (a KeyError for ``ep[name]``, a ValueError for
    everything else)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


__all__ = [
    "CloseSummary",
    "Dataset",
    "DroppedStream",
    "EditReport",
    "Episode",
    "EpisodeMetadata",
    "EpisodeWriter",
    "Event",
    "ExportReport",
    "FrameQueueStats",
    "IndexReport",
    "McapImportReport",
    "McapTopicReport",
    "Provenance",
    "RecoveryReport",
    "RemoteError",
    "RmfError",
    "ShareReport",
    "SharedEpisode",
    "Stream",
    "StreamEncryption",
    "StreamInfo",
    "StreamStats",
    "StreamingDataset",
    "TranscodeReport",
    "UnknownStreamError",
    "WriterInfo",
    "__version__",
    "asof",
    "collate",
    "drop_streams",
    "export",
    "generate_key",
    "import_mcap",
    "key_id",
    "merge",
    "events",
    "index",
    "linear",
    "nearest",
    "copy",
    "open",
    "recover",
    "redact",
    "relabel",
    "rename_stream",
    "share",
    "split",
    "transcode",
    "trim",
    "validate",
    "verify_provenance",
    "window",
]
