"""Type stubs of the native module ``rmf._rmf``."""

from collections.abc import Iterator
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

_Path = str | PathLike[str]

__version__: str

class RmfError(OSError):
    kind: str
    file: str | None
    stream: str | None
    offset: int | None

class RecoveryReport:
    why: str
    chunks: int
    samples: int
    streams: int
    episode_intact: bool
    damage: list[tuple[int, int, str]]

class EpisodeWriter:
    path: Path
    def __init__(
        self,
        path: _Path,
        metadata: dict[str, Any] | None = None,
        compression_level: int = 3,
        chunk_seconds: float | None = None,
        overwrite: bool = False,
        fsync: bool = False,
        frame_queue: int = 8,
        on_queue_full: str = "block",
        key: bytes | _Path | None = None,
        passphrase: str | None = None,
    ) -> None: ...
    def add_signal(
        self,
        name: str,
        dtype: str | npt.DTypeLike,
        shape: tuple[int, ...] | None = None,
        names: list[str] | None = None,
        units: list[str] | None = None,
        rate_hz: float | None = None,
        sensitivity: str = "internal",
        tags: dict[str, str] | None = None,
    ) -> None: ...
    def add_frames(
        self,
        name: str,
        width: int,
        height: int,
        pixel_format: str = "rgb8",
        rate_hz: float | None = None,
        units: list[str] | None = None,
        sensitivity: str = "internal",
        tags: dict[str, str] | None = None,
        codec: str = "raw",
        quality: int | None = None,
        qp: int | None = None,
        gop: int | None = None,
    ) -> None: ...
    def add_audio(
        self,
        name: str,
        sample_rate: int,
        channels: int = 1,
        dtype: str | npt.DTypeLike | None = None,
        sensitivity: str = "internal",
        tags: dict[str, str] | None = None,
    ) -> None: ...
    def add_events(
        self, name: str, sensitivity: str = "internal", tags: dict[str, str] | None = None
    ) -> None: ...
    def write(self, name: str, t_ns: int, value: npt.ArrayLike) -> None: ...
    def write_many(self, name: str, ts_ns: npt.ArrayLike, values: npt.ArrayLike) -> None: ...
    def write_audio(self, name: str, t_ns: int, samples: npt.ArrayLike) -> None: ...
    def write_event(
        self,
        name: str,
        t_ns: int,
        kind: str,
        operator: str = "",
        text: str = "",
        payload: Any = None,
    ) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> dict[str, Any]: ...
    def __enter__(self) -> EpisodeWriter: ...
    def __exit__(self, *args: object) -> bool: ...

class Stream:
    name: str
    kind: str
    dtype: str | None
    shape: tuple[int, ...]
    names: list[str]
    units: list[str]
    rate_hz: float | None
    sample_rate: int | None
    sensitivity: str
    tags: dict[str, str]
    info: dict[str, Any]
    count: int
    start_ns: int | None
    end_ns: int | None
    def __len__(self) -> int: ...
    def read(self, t0: int | None = None, t1: int | None = None) -> Any: ...
    def times(self) -> npt.NDArray[np.int64]: ...
    def at(self, t_ns: int) -> Any: ...
    def nearest(self, t_ns: int) -> Any: ...
    def time_at(self, t_ns: int) -> int | None: ...
    def time_nearest(self, t_ns: int) -> int | None: ...
    def to_arrow(self, t0: int | None = None, t1: int | None = None) -> pa.Table: ...
    def stored_frames(self) -> tuple[npt.NDArray[np.int64], list[bytes]]: ...

class Episode:
    path: Path
    metadata: dict[str, Any]
    streams: dict[str, Stream]
    start_ns: int | None
    end_ns: int | None
    recovery: RecoveryReport | None
    skipped_streams: list[tuple[int, str, str]]
    def events(
        self, name: str | None = None, t0: int | None = None, t1: int | None = None
    ) -> pa.Table: ...
    def __getitem__(self, name: str) -> Stream: ...
    def __contains__(self, name: str) -> bool: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[str]: ...
    def __enter__(self) -> Episode: ...
    def __exit__(self, *args: object) -> bool: ...

def open(
    path: _Path, key: bytes | _Path | None = None, passphrase: str | None = None
) -> Episode: ...
def recover(input: _Path, output: _Path) -> RecoveryReport: ...
def validate(
    path: _Path, key: bytes | _Path | None = None, passphrase: str | None = None
) -> list[str]: ...
def share(
    input: _Path,
    output: _Path,
    max_label: str,
    drop_streams: list[str] | None = None,
    require_tags: list[str] | None = None,
) -> dict[str, Any]: ...
def verify_provenance(shared: _Path, source: _Path) -> list[str]: ...
def generate_key() -> bytes: ...
def trim(
    input: _Path,
    output: _Path,
    from_ns: int,
    to_ns: int,
    key: bytes | _Path | None = None,
    passphrase: str | None = None,
) -> dict[str, Any]: ...
def split(
    input: _Path,
    out_dir: _Path,
    at_ns: list[int] | None = None,
    at_event: str | None = None,
    key: bytes | _Path | None = None,
    passphrase: str | None = None,
) -> list[Path]: ...
def merge(inputs: list[_Path], output: _Path) -> dict[str, Any]: ...
def redact(
    input: _Path,
    output: _Path,
    stream: str,
    from_ns: int,
    to_ns: int,
    reason: str = "",
    key: bytes | _Path | None = None,
    passphrase: str | None = None,
) -> dict[str, Any]: ...
def key_id(key: bytes | _Path) -> str: ...
def transcode(
    input: _Path,
    output: _Path,
    codec: str,
    quality: int | None = None,
    qp: int | None = None,
    gop: int | None = None,
    streams: list[str] | None = None,
    zstd_level: int | None = None,
) -> dict[str, Any]: ...

class DatasetCore:
    def __init__(
        self,
        root: _Path,
        reference: str | float,
        streams: list[tuple[str, dict[str, Any]]],
        episodes: list[str] | None = None,
        max_open_episodes: int = 16,
        key: bytes | _Path | None = None,
        passphrase: str | None = None,
        chunk_cache_bytes: int = 33554432,
    ) -> None: ...
    def __len__(self) -> int: ...
    def cache_bytes(self) -> int: ...
    def episodes(self) -> list[tuple[str, str]]: ...
    def get(self, i: int) -> dict[str, Any]: ...
    def stats(self) -> dict[str, dict[str, Any]]: ...

def build_index(root: _Path) -> dict[str, Any]: ...
