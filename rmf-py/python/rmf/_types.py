"""Types of the dicts that ``rmf`` returns: reports, metadata, stream declarations, events.

They are ``typing.TypedDict`` classes, so the values are plain dicts at run time (nothing is
converted or checked); the classes exist for type checkers and IDEs, and so that code can name
them (``def summarise(r: rmf.TranscodeReport) -> str``). Each one lists the keys the native
module (``rmf-py/src/*.rs``) sets. Keys a dict only has in some cases are marked as such;
files written by a newer version may carry further keys in ``metadata`` and ``info``.
"""

from pathlib import Path
from typing import Any, Literal, Optional, TypedDict

import numpy as np
import numpy.typing as npt

__all__ = [
    "CloseSummary",
    "DroppedStream",
    "EditReport",
    "EpisodeMetadata",
    "Event",
    "ExportReport",
    "FrameQueueStats",
    "IndexReport",
    "McapImportReport",
    "McapTopicReport",
    "Provenance",
    "ShareReport",
    "SharedEpisode",
    "StreamEncryption",
    "StreamInfo",
    "StreamStats",
    "TranscodeReport",
    "WriterInfo",
]

# Type aliases the TypedDicts and the stubs use. They are not re-exported from ``rmf`` (an alias
# has no docstring of its own at run time); import them from here in type annotations if needed.
StreamKind = Literal["signal", "frames", "audio", "events"]
"""What a stream carries (``Stream.kind``, ``StreamInfo["kind"]``)."""

Sensitivity = Literal["public", "internal", "private"]
"""Who may see a stream (``Stream.sensitivity``), from least to most restricted."""

TranscodedStream = tuple[str, Optional[str], Optional[str], int, int, int]
"""One stream of a ``TranscodeReport``: (name, the codec it had or None when its chunks were
copied unchanged, why it was copied or None, samples, bytes before, bytes after)."""


class WriterInfo(TypedDict):
    """The library that wrote a file (or made a shared copy)."""

    library: str
    version: str


class _EpisodeMetadataRequired(TypedDict):
    id: str
    start_time_unix_ns: int
    start_time_utc: str
    clock: str
    writer: WriterInfo


class EpisodeMetadata(_EpisodeMetadataRequired, total=False):
    """``Episode.metadata``: the episode record as stored (spec), JSON turned into Python.

    Always there: ``id`` (a UUID), ``start_time_unix_ns`` (wall-clock start, ns since the Unix
    epoch), ``start_time_utc`` (the same in RFC 3339), ``clock`` (the clock every timestamp is
    on) and ``writer``. ``robot``, ``task`` and ``operator`` are left out when empty, ``extra``
    (the free key/values given to ``EpisodeWriter(metadata=...)``; ``tags`` and, in a shared
    copy, ``provenance`` live there) when there are none.
    """

    robot: str
    task: str
    operator: str
    extra: dict[str, Any]


class StreamEncryption(TypedDict):
    """How an encrypted stream's chunks are sealed (spec/encryption.md)."""

    cipher: str
    salt: str


class _StreamInfoRequired(TypedDict):
    name: str
    kind: StreamKind
    sensitivity: Sensitivity


class StreamInfo(_StreamInfoRequired, total=False):
    """``Stream.info``: a stream declaration as stored (spec/streams.md).

    Always there: ``name``, ``kind``, ``sensitivity``. Per kind: signal ``dtype``, ``shape``;
    frames ``width``, ``height``, ``pixel_format``, ``codec`` (and ``quality`` for jpeg, ``qp``
    and ``gop`` for h264); audio ``sample_rate``, ``channels``, ``dtype``. ``rate_hz``,
    ``names``, ``units``, ``tags`` and ``encryption`` only when set.
    """

    dtype: str
    shape: list[int]
    width: int
    height: int
    pixel_format: str
    codec: str
    quality: int
    qp: int
    gop: int
    sample_rate: int
    channels: int
    rate_hz: float
    names: list[str]
    units: list[str]
    tags: dict[str, str]
    encryption: StreamEncryption


class Event(TypedDict):
    """One event: ``Stream.at`` / ``Stream.nearest`` of an event stream, and the items of an
    events label in a ``Dataset`` sample. ``t`` in ns; ``payload`` is any JSON value (None when
    none was written)."""

    t: int
    kind: str
    operator: str
    text: str
    payload: Any


class FrameQueueStats(TypedDict):
    """How the encoder queue of one background-encoded frame stream fared: ``capacity`` (frames
    it holds at most), ``peak`` (most frames waiting at once), ``full`` (times a frame found it
    full), ``waited_s`` (seconds ``write`` spent waiting for room in all)."""

    stream: str
    capacity: int
    peak: int
    full: int
    waited_s: float


class _CloseSummaryRequired(TypedDict):
    path: Path


class CloseSummary(_CloseSummaryRequired, total=False):
    """``EpisodeWriter.close()``: the file, its size in ``bytes``, ``chunks`` written,
    ``samples`` written per stream (in declaration order) and ``frame_queues``; also
    ``EpisodeWriter.summary`` after a ``with`` block."""

    bytes: int
    chunks: int
    samples: dict[str, int]
    frame_queues: list[FrameQueueStats]


class EditReport(TypedDict):
    """``trim``, ``merge`` and ``redact``: the file written and the sizes in bytes."""

    output: Path
    input_bytes: int
    output_bytes: int


class ExportReport(TypedDict):
    """``export``: the table written, the stream, and its rows."""

    output: Path
    stream: str
    rows: int


class McapTopicReport(TypedDict):
    """What ``import_mcap`` made of one MCAP channel: the ROS ``topic``, its ``schema`` name
    (empty when it has none) and ``message_encoding``; ``messages`` on it and those
    ``imported`` (that became at least one sample); the ``streams`` it became; the ``clock``
    of its samples ("header_stamp" or "log_time"; None when skipped); ``sorted`` (its stamps
    went backwards and its messages were written in time order); why it was ``skipped`` (or
    None); and ``notes`` (messages skipped and why, zero stamps, codec fallbacks)."""

    topic: str
    schema: str
    message_encoding: str
    messages: int
    imported: int
    streams: list[str]
    clock: Optional[str]
    sorted: bool
    skipped: Optional[str]
    notes: list[str]


class McapImportReport(TypedDict):
    """``import_mcap``: the MCAP file and the episode written (as strings), the
    ``time_source`` asked for ("header_stamp" or "log_time"), the time of the first imported
    message (None when nothing was), the episode's size in ``bytes`` and ``chunks``, one entry
    per channel in the order they first appear, and where and why reading stopped early
    (``damage``; None for an intact file)."""

    input: str
    output: str
    time_source: str
    start_time_ns: Optional[int]
    bytes: int
    chunks: int
    topics: list[McapTopicReport]
    damage: Optional[str]


class TranscodeReport(TypedDict):
    """``transcode``: file sizes in bytes and every stream, in declaration order."""

    input_bytes: int
    output_bytes: int
    streams: list[TranscodedStream]


class DroppedStream(TypedDict):
    """A stream left out of a shared copy, and why."""

    stream: str
    reason: str


class Provenance(TypedDict):
    """Where a shared episode came from (also stored in its ``metadata["extra"]["provenance"]``):
    the source's id and episode content hash, the content hash of every kept stream by name,
    what was dropped, the label limit, the tags required, and the library that made the copy."""

    source_id: str
    source_content_hash: str
    streams: dict[str, str]
    dropped: list[DroppedStream]
    max_label: Sensitivity
    required_tags: list[str]
    tool: WriterInfo


class SharedEpisode(TypedDict):
    """One episode ``share`` wrote: its source file, the copy, and the copy's provenance."""

    source: str
    output: str
    provenance: Provenance


class ShareReport(TypedDict):
    """``share``: the episodes written, and those left out as ``[file, reason]`` lists (file
    relative to the input directory)."""

    shared: list[SharedEpisode]
    left_out: list[list[str]]


class IndexReport(TypedDict):
    """``rmf.index``: episodes in the index now; files read because they were ``added`` or
    ``updated`` (size or time changed); index rows ``removed`` because their file is gone;
    files that ``failed`` to read, as (file, reason), left out of the index."""

    episodes: int
    added: list[str]
    updated: list[str]
    removed: list[str]
    failed: list[tuple[str, str]]


class StreamStats(TypedDict):
    """Normalization statistics of one signal stream (``Dataset.stats[name]``), one entry per
    element: ``count`` of finite values and ``non_finite`` values skipped (uint64), and float64
    ``mean``, ``std`` (population), ``min``, ``max`` and the quantiles ``q01`` .. ``q99``."""

    count: npt.NDArray[np.uint64]
    non_finite: npt.NDArray[np.uint64]
    mean: npt.NDArray[np.float64]
    std: npt.NDArray[np.float64]
    min: npt.NDArray[np.float64]
    max: npt.NDArray[np.float64]
    q01: npt.NDArray[np.float64]
    q05: npt.NDArray[np.float64]
    q50: npt.NDArray[np.float64]
    q95: npt.NDArray[np.float64]
    q99: npt.NDArray[np.float64]
