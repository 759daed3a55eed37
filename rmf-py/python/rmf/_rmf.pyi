"""Type stubs of the native module ``rmf._rmf`` (``rmf-py/src/*.rs``).

Each docstring starts with the Rust doc comment that the runtime ``__doc__`` shows, followed by
the arguments, the return value and the exceptions, read from the Rust code. Errors follow
``rmf-py/src/errors.rs``: a missing file is ``FileNotFoundError``, an existing output that is
not to be replaced ``FileExistsError``, no permission
``PermissionError``, other I/O errors ``OSError``; caller mistakes (bad arguments, unknown
stream, samples out of time order) are ``ValueError``; damaged, unreadable or sealed data is
``RmfError`` (an ``OSError``) with a ``kind``. Calls that scan or rewrite whole files can be
interrupted with Ctrl-C (``KeyboardInterrupt``). rmf-py/tests/test_stubs.py checks these stubs
against the module.
"""

from collections.abc import Iterator, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, Literal, final, overload

import numpy as np
import numpy.typing as npt

# pyarrow ships no type information (no py.typed): its objects are Any to a type checker
# unless pyarrow-stubs is installed.
import pyarrow as pa  # type: ignore[import-untyped]
from typing_extensions import TypeAlias

from ._types import (
    CloseSummary,
    EditReport,
    EpisodeMetadata,
    Event,
    ExportReport,
    IndexReport,
    McapImportReport,
    Sensitivity,
    ShareReport,
    StreamInfo,
    StreamKind,
    StreamStats,
    TranscodeReport,
)

_Path: TypeAlias = str | PathLike[str]
_Key: TypeAlias = bytes | str | PathLike[str]
# Sample values: signals hold any of the ten RMF element types (unsigned and signed 8..64-bit
# integers, float32, float64); frames are uint8 (rgb8, gray8) or uint16 (gray16); audio is
# int16 or float32.
_Values: TypeAlias = npt.NDArray[np.integer[Any] | np.floating[Any]]
_Times: TypeAlias = npt.NDArray[np.int64]

__all__ = [
    "RmfError",
    "RemoteError",
    "copy",
    "EpisodeWriter",
    "Episode",
    "Stream",
    "RecoveryReport",
    "DatasetCore",
    "SampleStream",
    "build_index",
    "index_table",
    "open",
    "recover",
    "validate",
    "cli_main",
    "share",
    "verify_provenance",
    "generate_key",
    "trim",
    "split",
    "merge",
    "redact",
    "key_id",
    "transcode",
    "drop_streams",
    "rename_stream",
    "relabel",
    "export",
    "import_mcap",
    "__version__",
]

__version__: str
"""The version of the native library (the rmf-py crate)."""

class RmfError(OSError):
    """A damaged or unreadable RMF file. Attributes: `file`, `stream` (or None), `offset` (byte
    offset or None), `kind` (not_rmf, unsupported_version, truncated, checksum, malformed,
    too_large, writer_failed, encoder_behind, encrypted (no key given), wrong_key,
    authentication (sealed bytes changed)).

    The attributes are set on each raised instance; ``kind`` is "other" for an error of a
    newer kind.
    """

    kind: str
    """What went wrong: one of the kinds above, or "other"."""
    file: str | None
    """The file, when the error names one."""
    stream: str | None
    """The stream being read, or None."""
    offset: int | None
    """Byte offset in the file, or None."""

class RemoteError(OSError):
    """A request to an object store failed (after retries when the failure was transient).
    Attributes: `url`, `op` (get, put, list, verify), `range` ((start, end) or None),
    `status` (HTTP status or None), `attempts`.

    Transient failures are timeouts, 5xx, 429, connection resets and short bodies. A missing
    object raises FileNotFoundError and a refused one PermissionError instead.
    """

    url: str
    """The object's URL."""
    op: str
    """What was asked: "get", "put", "list" or "verify"."""
    range: tuple[int, int] | None
    """The byte range asked for, or None."""
    status: int | None
    """The last HTTP status, or None (no answer: a timeout, a reset, a short body)."""
    attempts: int
    """Requests made, retries included."""

@final
class RecoveryReport:
    """What recovery kept and lost.

    Returned by ``recover`` and found in ``Episode.recovery`` for a file opened by scanning.
    ``str(report)`` is a readable summary.
    """

    @property
    def why(self) -> str:
        """Why the file was scanned."""
    @property
    def chunks(self) -> int:
        """Intact chunks kept."""
    @property
    def samples(self) -> int:
        """Samples in the kept chunks."""
    @property
    def streams(self) -> int:
        """Streams declared by intact stream records."""
    @property
    def episode_intact(self) -> bool:
        """Whether the episode metadata record was intact."""
    @property
    def damage(self) -> list[tuple[int, int, str]]:
        """Damaged stretches: a list of (offset, length, reason)."""

@final
class EpisodeWriter:
    """Writes one RMF episode file.

    ```python
    with rmf.EpisodeWriter("ep.rmf", metadata={"task": "pick cup"}) as w:
        w.add_signal("ft/wrist", dtype="float32", shape=(6,), rate_hz=1000)
        w.write("ft/wrist", t_ns, values)
    ```

    Samples of one stream must come in time order (int64 ns on the episode's clock); streams
    run at their own rates. Data reaches the file in chunks (every 4 s of episode time or 4 MiB
    per stream, events at once); after a crash, `rmf.recover` keeps every chunk written.

    Arguments: `path`; `metadata`, a dict (robot, task, operator, clock, id,
    start_time_unix_ns; other keys are kept as free key/values); `compression_level`, the zstd
    level for frames and text (1-22); `chunk_seconds`, the most of a stream a crash can lose
    (default 4); `overwrite`, replace an existing file (readers of the old file keep it);
    `fsync`, sync after every chunk so that chunks also survive a power cut.

    One writer is used from one thread at a time.

    Every method of a closed writer raises ``ValueError`` (except ``close``, which returns
    ``{"path": ...}`` again). A stream name that was not declared raises ``ValueError``.
    """

    def __new__(
        cls,
        path: _Path,
        metadata: dict[str, Any] | None = None,
        compression_level: int = 3,
        chunk_seconds: float | None = None,
        overwrite: bool = False,
        fsync: bool = False,
        frame_queue: int = ...,  # 8 (rmf_core::DEFAULT_FRAME_QUEUE)
        on_queue_full: str = "block",
        key: _Key | None = None,
        passphrase: str | None = None,
    ) -> EpisodeWriter:
        """Creates `path`. `metadata`: a dict (robot, task, operator, clock, id,
        start_time_unix_ns; other keys are kept as free key/values). `compression_level`: zstd
        level for frames and text (1-22). `chunk_seconds`: the most of a stream a crash can lose
        (default 4). `overwrite`: replace an existing file. `fsync`: sync after every chunk.
        `frame_queue`: frames each frame stream may queue for its encoder thread (default 8; 0
        encodes in the calling thread). `on_queue_full`: "block" (wait for room, the default)
        or "error" (raise `rmf.RmfError` with kind "encoder_behind"; the frame is not written).
        `key` (32 bytes, or a key-file path) or `passphrase`: encrypt every stream declared with
        `sensitivity="private"` (spec/encryption.md); without one, private is only a label.

        Raises:
            FileExistsError: ``path`` exists and ``overwrite`` is false.
            FileNotFoundError: its directory does not exist (or a key file is missing).
            ValueError: a bad ``metadata`` value (``id`` not a UUID, ``start_time_unix_ns``
                not an integer, not JSON-serialisable), ``on_queue_full`` other than "block" /
                "error", ``chunk_seconds`` not positive, a key that is not 32 bytes.
            TypeError: both ``key`` and ``passphrase``, or a ``key`` that is neither bytes
                nor a path.
        """
    @property
    def path(self) -> Path:
        """The file being written."""
    def add_signal(
        self,
        name: str,
        dtype: npt.DTypeLike,
        shape: Sequence[int] | None = None,
        names: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
        rate_hz: float | None = None,
        sensitivity: str = "internal",
        tags: dict[str, str] | None = None,
    ) -> None:
        """Declares a numeric stream: `dtype` ("float32", "int16", ...), `shape` of one sample
        ((6,) for force/torque, () for a scalar), per-element `names` and `units`.

        Args:
            name: Path-like stream name, unique in the episode ("ft/wrist").
            dtype: A dtype name or anything ``numpy.dtype()`` takes: uint8/16/32/64,
                int8/16/32/64, float32 or float64.
            shape: Shape of one sample (default ``()``, a scalar).
            names: One name per element.
            units: One unit per element, or one for the whole stream.
            rate_hz: Nominal rate in Hz.
            sensitivity: "public", "internal" or "private" (encrypted when the writer has a
                key).
            tags: Free key/values (keys and values are turned into strings).

        Raises:
            ValueError: an unknown dtype or sensitivity, a duplicate or bad name, names or
                units that do not fit the shape, a bad rate.
        """
    def add_frames(
        self,
        name: str,
        width: int,
        height: int,
        pixel_format: str = "rgb8",
        rate_hz: float | None = None,
        units: Sequence[str] | None = None,
        sensitivity: str = "internal",
        tags: dict[str, str] | None = None,
        codec: str = "raw",
        quality: int | None = None,
        qp: int | None = None,
        gop: int | None = None,
    ) -> None:
        """Declares an image stream: `pixel_format` "rgb8" (HxWx3 uint8), "gray8" (HxW uint8)
        or "gray16" (HxW uint16, e.g. depth in mm: pass units=["mm"]). `codec`: "raw" (zstd per
        frame, lossless), "png" (lossless), "jpeg" (lossy, 8-bit only; `quality` 1-100,
        default 90) or "h264" (video, lossy, 8-bit only, even width and height; `qp` 0-51,
        lower is better and bigger, default 22; a keyframe every `gop` frames, default 8, so a
        random frame decodes at most `gop` frames). Reading returns the same array types
        whatever the codec.

        Raises:
            ValueError: an unknown pixel format, codec or sensitivity; a codec setting given
                to another codec (``quality`` to h264, ...); a size or setting out of range;
                a duplicate or bad name.
        """
    def add_audio(
        self,
        name: str,
        sample_rate: int,
        channels: int = 1,
        dtype: npt.DTypeLike | None = None,
        sensitivity: str = "internal",
        tags: dict[str, str] | None = None,
    ) -> None:
        """Declares an audio stream of PCM blocks ("int16" or "float32", interleaved channels).

        Args:
            name: Stream name.
            sample_rate: Samples per second per channel.
            channels: Interleaved channels (1-256).
            dtype: "int16" (the default, for None) or "float32".
            sensitivity: "public", "internal" or "private".
            tags: Free key/values.

        Raises:
            ValueError: another dtype, a zero rate, a bad channel count or name.
        """
    def add_events(
        self, name: str, sensitivity: str = "internal", tags: dict[str, str] | None = None
    ) -> None:
        """Declares an event stream (interventions, notes, failures).

        Raises:
            ValueError: a duplicate or bad name, an unknown sensitivity.
        """
    def write(self, name: str, t_ns: int, value: npt.ArrayLike) -> None:
        """Writes one sample at `t_ns`: a signal value of the stream's shape, or a frame
        (HxWx3 / HxW array).

        A list or scalar takes the stream's dtype; an ndarray must already have it.

        Raises:
            ValueError: an unknown stream, an audio or event stream (use ``write_audio`` /
                ``write_event``), a value of another shape or dtype, ``t_ns`` before the
                stream's previous sample.
            RmfError: kind "encoder_behind" when the writer was made with
                ``on_queue_full="error"`` and the frame's encoder queue is full.
        """
    def write_many(self, name: str, ts_ns: npt.ArrayLike, values: npt.ArrayLike) -> None:
        """Writes many samples: `ts_ns` int64[n] and `values` [n, *shape] (signals) or
        [n, H, W(, 3)] (frames).

        Raises:
            ValueError: as ``write``; also timestamps that are not 1-D.
            RmfError: kind "encoder_behind", as ``write``.
        """
    def write_audio(self, name: str, t_ns: int, samples: npt.ArrayLike) -> None:
        """Writes one block of audio stamped with the time of its first sample: int16/float32
        samples of shape [n] (mono) or [n, channels].

        Raises:
            ValueError: an unknown or non-audio stream, samples of another shape or dtype,
                ``t_ns`` out of time order.
        """
    def write_event(
        self,
        name: str,
        t_ns: int,
        kind: str,
        operator: str = "",
        text: str = "",
        payload: object = None,
    ) -> None:
        """Writes one event: `kind` ("takeover_start", "takeover_end", "note", "failure", ...),
        the `operator`, free `text`, and any JSON-serialisable `payload`.

        Raises:
            ValueError: an unknown stream, a payload that is not JSON-serialisable, ``t_ns``
                out of time order.
        """
    def flush(self) -> None:
        """Writes every open chunk to the file now.

        Raises:
            OSError: the file cannot be written.
        """
    @property
    def summary(self) -> CloseSummary | None:
        """What `close()` returned (None while the writer is open): after a `with` block, the
        summary of the file it wrote."""
    def close(self) -> CloseSummary:
        """Finishes the file (footer, trailer, sync) and returns a summary dict. Idempotent: a
        second call returns the same summary.

        Returns:
            ``path``, ``bytes``, ``chunks``, ``samples`` per stream and ``frame_queues`` (see
            ``rmf.CloseSummary``); only ``path`` when the writer failed before finishing.

        Raises:
            OSError: the file cannot be written.
            RmfError: kind "writer_failed" when an earlier write failed.
        """
    def __enter__(self) -> EpisodeWriter:
        """Returns the writer itself."""
    def __exit__(self, *args: object) -> bool:
        """Closes the writer (see ``close``) and returns False: an exception propagates."""

@final
class Stream:
    """One stream of an episode: its declaration and time queries.

    Reads raise ``RmfError`` (with ``stream`` set) for damaged data, and with kind "encrypted"
    for an encrypted stream of an episode opened without its key ("authentication" when sealed
    bytes were changed).
    """

    @property
    def name(self) -> str:
        """Stream name."""
    @property
    def kind(self) -> StreamKind:
        """ "signal", "frames", "audio" or "events"."""
    @property
    def dtype(self) -> str | None:
        """numpy dtype name of the samples ("float32", "uint8" for rgb8/gray8 frames, "uint16"
        for gray16), or None for events."""
    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one sample: the signal's shape, (H, W, 3) / (H, W) for frames, (channels,)
        for audio, () for events."""
    @property
    def names(self) -> list[str]:
        """Per-element names."""
    @property
    def units(self) -> list[str]:
        """Units (one per element, or one for the stream)."""
    @property
    def rate_hz(self) -> float | None:
        """Nominal rate in Hz, if declared."""
    @property
    def sample_rate(self) -> int | None:
        """Audio sample rate in Hz, or None."""
    @property
    def sensitivity(self) -> Sensitivity:
        """ "public", "internal" or "private"."""
    @property
    def tags(self) -> dict[str, str]:
        """Free tags."""
    @property
    def info(self) -> StreamInfo:
        """The stream declaration as stored (a dict).

        See ``rmf.StreamInfo`` for its keys.
        """
    @property
    def count(self) -> int:
        """Number of samples (audio: blocks)."""
    @property
    def start_ns(self) -> int | None:
        """First timestamp (ns), or None."""
    @property
    def end_ns(self) -> int | None:
        """Last timestamp (ns), or None."""
    def stored_frames(self) -> tuple[_Times, list[bytes]]:
        """A frame stream's frames as stored, without decoding: (timestamps int64[n], list of
        bytes). For h264 each item is an access unit (together an H.264 elementary stream that
        FFmpeg reads), for jpeg/png an image file, for raw a zstd frame. Each is checked
        against its checksum.

        Raises:
            ValueError: the stream is not a frame stream.
            RmfError: a chunk is damaged (kind "checksum", ...), or encrypted without the key.
        """
    def __len__(self) -> int:
        """Number of samples (audio: blocks), as ``count``."""
    def read(
        self,
        t0: int | None = None,
        t1: int | None = None,
        *,
        max_bytes: int | None = None,
    ) -> tuple[_Times, _Values] | pa.Table:
        """Samples with t0 <= t < t1 (all when omitted). Signals: (int64[n], values[n, *shape]);
        frames: (int64[n], uint8/uint16[n, H, W(, 3)]); audio: (int64[n] per-sample times,
        samples[n, channels]); events: a pyarrow.Table.

        A read whose chunks claim to decode to more than `max_bytes` (default: half the memory
        this process can still use) raises MemoryError before decoding anything.

        The arrays own the decoded data (no copy). The events table has the columns of
        ``to_arrow``: t, kind, operator, text, payload (JSON text).

        The budget is checked before anything is decoded: the decoded
        sizes its chunks claim, summed, must not exceed ``max_bytes`` (default: half the memory
        this process can still use, the system's available memory or what ``ulimit -v``
        leaves). Read shorter time ranges, or raise ``max_bytes``, for more.

        Raises:
            MemoryError: over the budget, or memory for the samples could not be had.
            RmfError: damaged data, or an encrypted stream without its key.
        """
    def times(self) -> _Times:
        """Every timestamp of the stream (audio: block start times), int64[n].

        Raises:
            RmfError: damaged data, or an encrypted stream without its key.
        """
    @overload
    def at(self, t_ns: int, *, with_time: Literal[False] = False) -> _Values | Event | None: ...
    @overload
    def at(self, t_ns: int, *, with_time: Literal[True]) -> tuple[int, _Values | Event] | None:
        """The last sample at or before `t_ns` (as-of), or None before the first sample.
        Signals: an array of the stream's shape; frames: HxW(x3); audio: the block
        [n, channels]; events: a dict. With `with_time=True`, a tuple (the sample's time in
        ns, the value).

        Raises:
            RmfError: damaged data, or an encrypted stream without its key.
        """
    @overload
    def nearest(
        self, t_ns: int, *, with_time: Literal[False] = False
    ) -> _Values | Event | None: ...
    @overload
    def nearest(self, t_ns: int, *, with_time: Literal[True]) -> tuple[int, _Values | Event] | None:
        """The sample nearest to `t_ns` (the earlier one on a tie), or None for an empty stream.
        With `with_time=True`, a tuple (the sample's time in ns, the value).

        The value is as ``at`` returns it.

        Raises:
            RmfError: damaged data, or an encrypted stream without its key.
        """
    def time_at(self, t_ns: int) -> int | None:
        """Time of the sample `at(t_ns)` would return, or None.

        Raises:
            RmfError: damaged data, or an encrypted stream without its key.
        """
    def time_nearest(self, t_ns: int) -> int | None:
        """Time of the sample `nearest(t_ns)` would return, or None.

        Raises:
            RmfError: damaged data, or an encrypted stream without its key.
        """
    def to_arrow(self, t0: int | None = None, t1: int | None = None) -> pa.Table:
        """Samples with t0 <= t < t1 as a pyarrow.Table (schema: spec/streams.md), passed through
        the Arrow C stream interface.

        Columns: ``t`` (int64) and ``value`` (signals, a fixed-size list), ``frame`` (frames,
        fixed-size binary), ``samples`` (audio, a list), or ``kind``, ``operator``, ``text``,
        ``payload`` (events, strings; the payload as JSON text).

        Raises:
            RmfError: damaged data, or an encrypted stream without its key.
        """

@final
class Episode:
    """An open episode: metadata, streams by name, time span.

    ``ep[name]`` is a ``Stream``; ``name in ep``, ``len(ep)`` and ``iter(ep)`` (the stream
    names, in declaration order) work as for a dict. Usable as a context manager (nothing to
    close: the file is memory-mapped and released with the last reference).
    """

    @property
    def path(self) -> Path | str:
        """The file: a `pathlib.Path`, or the URL (`str`) of an object in a store."""
    @property
    def metadata(self) -> EpisodeMetadata:
        """Episode metadata as a dict (id, start time, clock, robot, task, operator, extra,
        writer).

        See ``rmf.EpisodeMetadata`` for its keys.
        """
    @property
    def streams(self) -> dict[str, Stream]:
        """Streams by name, in declaration order."""
    @property
    def start_ns(self) -> int | None:
        """First timestamp of any stream (ns), or None for an empty episode."""
    @property
    def end_ns(self) -> int | None:
        """Last timestamp of any stream (ns), or None for an empty episode."""
    @property
    def skipped_streams(self) -> list[tuple[int, str, str]]:
        """Streams this version cannot read (a kind, codec or pixel format from a newer
        version): a list of (id, name, reason). The other streams read normally."""
    @property
    def recovery(self) -> RecoveryReport | None:
        """None for a finished file; for a file opened by scanning, what recovery kept."""
    def events(
        self, name: str | None = None, t0: int | None = None, t1: int | None = None
    ) -> pa.Table:
        """Events of an event stream as a pyarrow.Table (t, kind, operator, text, payload).
        Without a name, the episode's only event stream.

        ``t0 <= t < t1`` selects events by time (all when omitted); ``payload`` is JSON text,
        null for an event without one (as in the Parquet export).

        Raises:
            rmf.UnknownStreamError: no stream of that name (a ``ValueError``).
            ValueError: the stream is not an event stream, or no name was given and the
                episode does not have exactly one event stream.
            RmfError: damaged data, or an encrypted stream without its key.
        """
    def __getitem__(self, name: str, /) -> Stream:
        """The stream named ``name``.

        Raises:
            rmf.UnknownStreamError: no stream of that name (a ``KeyError``).
        """
    def __contains__(self, name: str, /) -> bool:
        """Whether the episode has a stream named ``name``."""
    def __len__(self) -> int:
        """Number of (readable) streams."""
    def __iter__(self) -> Iterator[str]:
        """The stream names, in declaration order."""
    def __enter__(self) -> Episode:
        """Returns the episode itself."""
    def __exit__(self, *args: object) -> bool:
        """Returns False (nothing to close; an exception propagates)."""

def open(
    path: _Path,
    key: _Key | None = None,
    passphrase: str | None = None,
    storage_options: dict[str, str] | None = None,
    max_kdf_cost: int | None = None,
) -> Episode:
    """Opens an RMF file: a path (memory-mapped; reads only its footer) or an object-store URL
    (`s3://`, `gs://`, `az://`, `http(s)://`: one range request for the footer, then only the
    chunks read). A file without a footer (a crash) opens by scanning its chunks;
    `Episode.recovery` then says what was kept. `key` (32 bytes or a key-file path) or
    `passphrase` opens encrypted (private) streams; without it they raise `RmfError` with kind
    "encrypted", and a wrong one raises kind "wrong_key" here.

    ``storage_options`` (``aws_endpoint``, ``aws_region``, ``allow_http``, ...) override the
    cloud's environment variables (``AWS_ENDPOINT_URL``, ``AWS_ALLOW_HTTP``, ...).

    ``max_kdf_cost`` raises the Argon2id work (KiB of memory times passes) a passphrase may
    cost; by default twice the writer's, and a file asking more raises ValueError before any
    is spent.

    Raises:
        FileNotFoundError: no such file (or key file).
        RmfError: not an RMF file (kind "not_rmf"), a newer major version
            ("unsupported_version"), damage that scanning cannot get past ("malformed",
            "checksum", "truncated", ...), or a wrong key or passphrase ("wrong_key").
        ValueError: a key that is not 32 bytes; a passphrase's Argon2id cost over
            ``max_kdf_cost``.
        TypeError: both ``key`` and ``passphrase``, or a ``key`` that is neither bytes nor a
            path.
        RemoteError: a store request that failed after its retries.
    """

def copy(src: _Path, dst: _Path, storage_options: dict[str, str] | None = None) -> dict[str, Any]:
    """Copies an episode, or a directory / URL prefix ending in `/` with everything under it,
    between local disk and object stores; each copy appears whole or not at all and is verified.
    Returns `{"files": [{"from", "to", "bytes"}], "bytes": total}`.

    Files are streamed in 8 MiB parts (a few in memory at a time); a large object is a
    multipart upload, sent again whole if a part fails. Verified: the size, and the CRC32C of
    every byte read back from the destination against the bytes read from the source (a copy
    to a store is read back once more). A copy that fails its verification is removed.

    Raises:
        FileNotFoundError: no such source.
        RemoteError: a store request that failed after its retries, or a copy that does not
            read back as written.
    """

def recover(input: _Path, output: _Path, overwrite: bool = False) -> RecoveryReport:
    """Writes a complete copy of a truncated or damaged file to `output`, holding every intact
    chunk; returns a `RecoveryReport`.
    `overwrite` replaces an existing `output` (refused by default, as everywhere).

    ``output`` is renamed into place only when complete.

    Raises:
        FileNotFoundError: ``input`` does not exist.
        FileExistsError: ``output`` exists and ``overwrite`` is false.
        RmfError: nothing of the file can be recovered (kind "not_rmf", ...).
    """

def validate(
    path: _Path,
    key: _Key | None = None,
    passphrase: str | None = None,
    storage_options: dict[str, str] | None = None,
) -> list[str]:
    """Checks a file completely (every checksum, the index, every chunk). Returns a list of
    problem strings: empty when the file is valid. Without `key` / `passphrase`, chunks of
    encrypted streams are checked by their checksums only. `path` may be an object-store URL
    (with `storage_options` as in `open`): the whole file is fetched, then checked.

    Raises:
        FileNotFoundError: no such file.
        RmfError: the file cannot be checked at all (kind "not_rmf", ...); a wrong key
            ("wrong_key").
        ValueError, TypeError: a bad ``key`` / ``passphrase``, as in ``open``.
    """

def cli_main(argv: list[str]) -> int:
    """Runs the `rmf` command line `argv` (the program name first) in this process and returns its
    exit code: what the `rmf` script that pip installs calls."""

def transcode(
    input: _Path,
    output: _Path,
    codec: str,
    quality: int | None = None,
    qp: int | None = None,
    gop: int | None = None,
    streams: Sequence[str] | None = None,
    zstd_level: int | None = None,
    key: _Key | None = None,
    passphrase: str | None = None,
    overwrite: bool = False,
) -> TranscodeReport:
    """Writes `output`: `input` with its frame streams re-encoded with `codec` ("h264", "jpeg",
    "png" or "raw"; `quality` for jpeg, `qp` and `gop` for h264), all of them or those named in
    `streams`; every other stream is copied chunk for chunk, and gray16 (depth) stays lossless.
    `zstd_level` (-7..=22, default 3) compresses what is written anew, raw frames above all.
    `input` is not modified; `output` is renamed into place when complete. Returns a dict:
    input_bytes, output_bytes, and per stream (name, from codec or None if copied, why it was
    copied, samples, bytes before, bytes after). Encrypted streams are read and sealed again
    with `key` or `passphrase`.

    Returns:
        A ``rmf.TranscodeReport``; each item of ``streams`` is a tuple (name, codec or None,
        reason or None, samples, bytes before, bytes after).

    A frame stream the codec cannot hold (gray16 for jpeg/h264, a size h264 refuses) is copied,
    with the reason in the report, as is every stream that is not a frame stream or not named
    in ``streams``.

    Raises:
        ValueError: an unknown codec, a setting of another codec, a name in ``streams`` that
            is not a stream of ``input``, ``output`` being ``input``.
        FileNotFoundError: ``input`` does not exist.
        FileExistsError: ``output`` exists and ``overwrite`` is false.
        RmfError: ``input`` is damaged, or an encrypted frame stream has to be re-encoded
            (``transcode`` takes no key).
    """

def share(
    input: _Path,
    output: _Path,
    max_label: str,
    drop_streams: Sequence[str] | None = None,
    require_tags: Sequence[str] | None = None,
    storage_options: dict[str, str] | None = None,
) -> ShareReport:
    """Copies the episodes of `input` that carry every tag of `require_tags` into `output`,
    keeping only streams labelled up to `max_label` ("public" or "internal") and not in
    `drop_streams`; each copy records its provenance. Returns a dict: `shared` (list of dicts:
    source, output, provenance) and `left_out` (list of (file, reason)). `input` and `output` may be
    object-store prefixes (`s3://...`).

    ``input`` and ``output`` are directories or prefixes; a remote input is staged in a local
    temporary directory, and a remote output published with ``rmf.copy`` once every episode is
    written. The (file, reason) pairs of ``left_out`` are
    two-item lists (the report passes through JSON); see ``rmf.ShareReport``.

    Episodes that cannot be read, are not finished or lack a required tag are left out (with
    the reason), not raised.

    Raises:
        ValueError: ``max_label`` is "private" or not a label; ``output`` is ``input``.
        FileNotFoundError: ``input`` does not exist.
        OSError: the copies cannot be written.
    """

def verify_provenance(shared: _Path, source: _Path) -> list[str]:
    """Checks a shared episode against its source (ids, content hashes, every kept stream byte
    for byte). Returns a list of problem strings: empty when everything matches.

    Raises:
        FileNotFoundError: either file does not exist.
        ValueError: ``shared`` carries no provenance record (not made by ``share``).
        RmfError: either file cannot be read, or the provenance record is malformed.
    """

def generate_key() -> bytes:
    """A new random key: 32 bytes from the operating system. Write it with `rmf keygen FILE` or
    keep the bytes somewhere safe: without it, encrypted streams cannot be read.

    Raises:
        OSError: the operating system has no randomness to give.
    """

def key_id(key: _Key) -> str:
    """The public id (16 hex digits) of a key given as in `secret`.

    ``key``: 32 raw bytes, or the path of a key file (32 raw bytes or 64 hex digits).

    Raises:
        ValueError: bytes that are not 32 long, a key file that holds no key.
        FileNotFoundError: no such key file.
        TypeError: ``key`` is neither bytes nor a path.
    """

def trim(
    input: _Path,
    output: _Path,
    from_ns: int,
    to_ns: int,
    key: _Key | None = None,
    passphrase: str | None = None,
    overwrite: bool = False,
) -> EditReport:
    """Writes `output`: a new episode with the samples of `from_ns <= t < to_ns` of every
    stream. Returns a dict: output, input_bytes, output_bytes.

    ``key`` / ``passphrase`` let it decode encrypted streams it must rewrite.

    Raises:
        ValueError: ``from_ns >= to_ns``; ``output`` being ``input``; a bad key, as in
            ``open``.
        FileNotFoundError: ``input`` does not exist.
        FileExistsError: ``output`` exists and ``overwrite`` is false.
        RmfError: ``input`` is damaged, or an encrypted stream cut inside a chunk needs a key
            that was not given (kind "encrypted") or was wrong ("wrong_key").
    """

def split(
    input: _Path,
    out_dir: _Path,
    at_ns: Sequence[int] | None = None,
    at_event: str | None = None,
    key: _Key | None = None,
    passphrase: str | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Splits `input` at the times `at_ns` (and at every event of kind `at_event`) into
    `out_dir/<name>-part000.rmf`, ...; returns the files written.

    Parts that would hold no time of the episode are not written; a split that fails leaves
    no parts. ``key`` / ``passphrase`` also open encrypted event streams for ``at_event``.

    Raises:
        ValueError: the episode has no samples; a bad key, as in ``open``.
        FileNotFoundError: ``input`` does not exist.
        FileExistsError: a part exists and ``overwrite`` is false.
        RmfError: as ``trim``.
    """

def merge(inputs: Sequence[_Path], output: _Path, overwrite: bool = False) -> EditReport:
    """Joins episodes with the same streams into `output`, in time order (they must not
    overlap).

    Returns:
        A dict: output, input_bytes (of all inputs), output_bytes (``rmf.EditReport``).

    Chunks are copied byte for byte, so encrypted episodes merge only when they share their
    data key (parts of one episode).

    Raises:
        ValueError: fewer than two inputs; inputs with different streams (names and kinds, in
            order) or data keys, or that overlap in time; ``output`` being an input.
        FileNotFoundError: an input does not exist.
        FileExistsError: ``output`` exists and ``overwrite`` is false.
        RmfError: an input is damaged.
    """

def redact(
    input: _Path,
    output: _Path,
    stream: str,
    from_ns: int,
    to_ns: int,
    reason: str = "",
    key: _Key | None = None,
    passphrase: str | None = None,
    overwrite: bool = False,
) -> EditReport:
    """Writes `output`: `input` with stream `stream` blanked in `from_ns <= t < to_ns`, logged
    as a `redaction` event in the `rmf/redactions` stream.

    Returns:
        A dict: output, input_bytes, output_bytes (``rmf.EditReport``).

    The blanked samples keep their times (black frames, silent audio, NaN or zero signal
    values, event text and payload removed); the episode keeps its id.

    Raises:
        ValueError: an unknown stream, ``rmf/redactions`` itself, ``from_ns >= to_ns``,
            ``output`` being ``input``; a bad key, as in ``open``.
        FileNotFoundError: ``input`` does not exist.
        FileExistsError: ``output`` exists and ``overwrite`` is false.
        RmfError: as ``trim`` (an encrypted stream to blank needs its key).
    """

def drop_streams(
    input: _Path,
    output: _Path,
    streams: Sequence[str],
    key: _Key | None = None,
    passphrase: str | None = None,
    overwrite: bool = False,
) -> EditReport:
    """Writes `output`: `input` without the streams `streams`. Returns a dict: output,
    input_bytes, output_bytes.

    Every other chunk is copied as stored. With ``key`` / ``passphrase``, private streams
    stored in the clear are encrypted on the way (as by every edit).

    Raises:
        ValueError: a name that is not a stream of ``input``; ``output`` being ``input``; a
            bad key, as in ``open``.
        FileNotFoundError: ``input`` does not exist.
        FileExistsError: ``output`` exists and ``overwrite`` is false.
        RmfError: ``input`` is damaged, or the key does not open its encrypted streams
            ("wrong_key").
    """

def rename_stream(
    input: _Path,
    output: _Path,
    old: str,
    new: str,
    key: _Key | None = None,
    passphrase: str | None = None,
    overwrite: bool = False,
) -> EditReport:
    """Writes `output`: `input` with stream `old` named `new`. Returns a dict: output,
    input_bytes, output_bytes.

    Raises:
        ValueError: ``old`` is not a stream of ``input``, ``new`` is one already or not a
            valid stream name; ``output`` being ``input``; a bad key, as in ``open``.
        FileNotFoundError: ``input`` does not exist.
        FileExistsError: ``output`` exists and ``overwrite`` is false.
        RmfError: as ``drop_streams``.
    """

def relabel(
    input: _Path,
    output: _Path,
    sensitivity: dict[str, str] | None = None,
    tags: dict[str, dict[str, str]] | None = None,
    meta: dict[str, object] | None = None,
    add_tags: Sequence[str] | None = None,
    remove_tags: Sequence[str] | None = None,
    key: _Key | None = None,
    passphrase: str | None = None,
    overwrite: bool = False,
) -> EditReport:
    """Writes `output`: `input` with new labels, stream tags or episode metadata; samples are
    copied unchanged. `sensitivity`: stream -> "public" | "internal" | "private"; `tags`:
    stream -> {key: value} (an empty value removes the tag); `meta`: key -> value (`robot`,
    `task`, `operator`, or a free key, which None removes); `add_tags` / `remove_tags`: episode
    tags in `extra.tags`. With `key` / `passphrase`, a stream newly labelled private is
    encrypted. Returns a dict: output, input_bytes, output_bytes.

    ``meta`` values are any JSON-serialisable values (strings for ``robot``, ``task`` and
    ``operator``; other values are written as their JSON text there).

    Raises:
        ValueError: an unknown stream or label, an empty episode tag, ``extra.tags`` that is
            not a list of strings, a ``meta`` value that is not JSON-serialisable; ``output``
            being ``input``; a bad key, as in ``open``.
        TypeError: a ``tags`` entry that is not a dict of strings.
        FileNotFoundError: ``input`` does not exist.
        FileExistsError: ``output`` exists and ``overwrite`` is false.
        RmfError: as ``drop_streams``.
    """

def export(
    file: _Path,
    stream: str,
    output: _Path,
    format: str | None = None,
    key: _Key | None = None,
    passphrase: str | None = None,
    overwrite: bool = False,
) -> ExportReport:
    """Writes stream `stream` of episode `file` as a table to `output` (an existing file only with
    `overwrite`): Parquet (any stream) or CSV (signals and events), chosen by `format`
    ("parquet" or "csv") or else by `output`'s extension. Columns: `t` (int64 ns), then the
    elements (named by the stream's axis names), or kind, operator, text, payload (events),
    samples (audio), frame (decoded pixels). Returns a dict: output, stream, rows.

    Raises:
        ValueError: a ``format`` other than "parquet" or "csv", or none and an extension that
            is neither; CSV for a frame or audio stream; an unknown stream; a bad key, as in
            ``open``.
        FileNotFoundError: ``file`` does not exist.
        FileExistsError: ``output`` exists and ``overwrite`` is false.
        RmfError: ``file`` is damaged, or ``stream`` is encrypted and no (or a wrong) key was
            given.
    """

def import_mcap(
    input: _Path,
    output: _Path,
    log_time: bool = False,
    skip_unknown: bool = False,
    topics: Sequence[str] | None = None,
    codec: str | None = None,
    quality: int | None = None,
    qp: int | None = None,
    gop: int | None = None,
    overwrite: bool = False,
) -> McapImportReport:
    """Makes the episode `output` from the MCAP file `input` (a ROS 2 bag), as `rmf import-mcap`
    does: Image and CompressedImage become frames, JointState, Imu and WrenchStamped float64
    signals, audio_common_msgs audio; other types `raw` events unless `skip_unknown`. Samples
    are stamped with the header stamp, or the MCAP log time with `log_time=True`. `topics`
    selects topics; `codec` ("h264" default, "jpeg", "png", "raw") with `quality` / `qp` /
    `gop` stores rgb8 and gray8 images (depth stays png). Returns the import report as a dict
    (what became of every topic).

    A file damaged part way is imported up to the damage, which ``damage`` in the report
    describes (see ``rmf.McapImportReport``).

    Raises:
        FileExistsError: ``output`` exists and ``overwrite`` is false.
        ValueError: an unknown codec.
        FileNotFoundError: ``input`` does not exist.
        OSError: ``input`` is not a readable MCAP file.
    """

@final
class DatasetCore:
    """The native dataset: an index, episodes opened on demand, samples as numpy arrays.

    Used through ``rmf.Dataset``, which keeps the configuration (so that it pickles) and
    builds one core per process.
    """

    def __new__(
        cls,
        root: _Path,
        reference: str | float,
        streams: Sequence[tuple[str, dict[str, Any]]],
        episodes: Sequence[str] | None = None,
        max_open_episodes: int = 16,
        key: _Key | None = None,
        passphrase: str | None = None,
        chunk_cache_bytes: int = ...,  # 32 MiB (rmf_dataset::DEFAULT_CHUNK_CACHE_BYTES)
        storage_options: dict[str, str] | None = None,
        cache_dir: _Path | None = None,
        cache_bytes: int = 10 << 30,
        batch_threads: int = ...,  # 2 (rmf_dataset::DEFAULT_BATCH_THREADS)
    ) -> DatasetCore:
        """`reference`: a stream name or a rate in Hz; `streams`: a list of (name, spec dict);
        `episodes`: ids or files, or None for all.

        A spec dict is what ``rmf.window``, ``rmf.asof``, ``rmf.nearest``, ``rmf.linear`` or
        ``rmf.events`` return. ``chunk_cache_bytes`` bounds the decoded chunks kept between
        samples (default 32 MiB).

        Episodes are opened when a sample needs them (at most ``max_open_episodes`` at once).

        Raises:
            ValueError: a bad reference or spec, an episode not in the index, an episode
                without a stream asked for.
            FileNotFoundError: ``root`` or its index (``episodes.parquet``) does not exist.
            RmfError: the index is damaged.
            TypeError: both ``key`` and ``passphrase``, or a ``key`` that is neither bytes
                nor a path.
        """
    def __len__(self) -> int:
        """Number of samples."""
    def cache_bytes(self) -> int:
        """Decoded bytes the chunk cache holds now."""
    def sample_starts(self) -> list[int]:
        """Where each episode's samples start (episode `e` holds samples `starts[e]` up to
        `starts[e + 1]`; the last entry is the number of samples), from the index alone."""
    def episodes(self) -> list[tuple[str, str]]:
        """Ids and files of the episodes used, in order."""
    def stats(self) -> dict[str, StreamStats]:
        """Normalization statistics merged from the index: stream -> dict of float64 arrays (one
        entry per element): count, non_finite, mean, std, min, max, q01, q05, q50, q95, q99.

        ``count`` and ``non_finite`` are uint64 arrays (see ``rmf.StreamStats``).

        Raises:
            ValueError: an episode's statistics do not fit another's (element counts differ).
            RmfError: the index cannot be read.
        """
    def get(self, i: int) -> dict[str, Any]:
        """Sample `i` as a dict: each stream's array, `<name>_pad` (bool per slot), `<name>_t`
        (int64 source times), and `episode`, `episode_index`, `t`.

        For a stream read at one time (``asof``, ...) ``<name>_pad`` is a bool and
        ``<name>_t`` an int; for a window they are arrays. An events label is a list of
        ``rmf.Event`` dicts, with ``<name>_inside`` a bool. ``i`` may be negative.

        Raises:
            IndexError: ``i`` is out of range.
            ValueError: a stream has no sample within its tolerance (and ``pad`` is off).
            RmfError: damaged data, or an encrypted stream without its key.
        """
    def sample(self, episode: int | str, t: int) -> dict[str, Any]:
        """The sample of episode `episode` (its position, id or file) at time `t` (ns), any time:
        the dict `get` returns.

        Raises:
            ValueError: no such episode, or a stream has no sample within its tolerance.
            RmfError: damaged data, or an encrypted stream without its key.
        """
    def check(self) -> list[tuple[int, str]]:
        """Every sample index `get` would refuse, with the message it would raise, found from
        timestamps alone (nothing decoded).

        Raises:
            RmfError: an episode cannot be opened or its times read.
        """
    def get_many(self, indices: list[int]) -> list[dict[str, Any]]:
        """Samples `indices` as a list of dicts (a DataLoader batch: `Dataset.__getitems__`),
        decoded on `batch_threads` threads; from an object store, the chunks of the whole batch
        are fetched at once.

        Raises:
            IndexError: an index is out of range.
            ValueError: a stream has no sample within its tolerance (and ``pad`` is off).
            RmfError: damaged data, or an encrypted stream without its key.
        """

    def order(self, spec: dict[str, Any]) -> list[int]:
        """The sample indices a worker visits, in order: `spec` is a dict of `seed`, `epoch`,
        `rank`, `world_size`, `worker`, `num_workers`, `skip` (samples of the rank's order
        already seen), `group` (the batch size), `block`, `buffer` and `drop_remainder` (see
        `rmf_dataset::order`).

        Used through ``rmf.StreamingDataset.order``.

        Raises:
            ValueError: a rank or worker out of range, a block or group of 0.
            KeyError: a parameter missing from ``spec``.
        """
    def stream(self, spec: dict[str, Any], threads: int, prefetch_bytes: int) -> SampleStream:
        """The samples of [`DatasetCore::order`], read and decoded ahead on `threads` threads
        holding at most `prefetch_bytes` decoded bytes: an iterator of sample dicts.

        Used through ``rmf.StreamingDataset``.

        Raises:
            ValueError: a rank or worker out of range, a block or group of 0.
            KeyError: a parameter missing from ``spec``.
        """
    def per_rank(self, world_size: int, drop_remainder: bool) -> int:
        """Samples rank `rank` of `world_size` visits in an epoch.

        Raises:
            ValueError: a world size of 0.
        """

@final
class SampleStream:
    """Samples read ahead in a streaming loader's order (`DatasetCore.stream`): an iterator of
    sample dicts, as `Dataset[i]` returns them.

    Errors of a sample (as ``DatasetCore.get`` raises them) are raised at its place in the
    order, and the stream ends there.
    """

    def __iter__(self) -> SampleStream:
        """The stream itself."""
    def __next__(self) -> dict[str, Any]:
        """The next sample; ``StopIteration`` after the last.

        Raises:
            ValueError, RmfError: as ``DatasetCore.get`` for the sample at this place.
        """
    def held_bytes(self) -> int:
        """Decoded bytes held ahead now (at most the budget, plus a sample per thread)."""

def index_table(root: _Path, storage_options: dict[str, str] | None = None) -> pa.Table:
    """`root/episodes.parquet` (a directory or an object-store prefix) as a `pyarrow.Table`, read by
    the Rust Parquet reader: no `pyarrow.parquet` import (about 1 s and 90 MiB in a worker).

    Raises:
        FileNotFoundError: no index (the message names ``rmf index`` / ``rmf.index``).
        RmfError: the index is not a readable Parquet file (kind "malformed").
    """

def build_index(root: _Path, storage_options: dict[str, str] | None = None) -> IndexReport:
    """Builds or refreshes `root/episodes.parquet` (a directory or an object-store prefix);
    returns a dict of what it did.

    Returns:
        ``episodes`` (in the index now), ``added``, ``updated``, ``removed`` and ``failed``
        (file, reason) (``rmf.IndexReport``).

    Raises:
        FileNotFoundError: ``root`` does not exist.
        OSError: the index cannot be written.
    """
