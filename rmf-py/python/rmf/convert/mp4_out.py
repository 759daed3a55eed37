"""MP4 export: one frame stream of an episode to an MP4 file (``to_mp4``)."""

from __future__ import annotations

import dataclasses
import io
import json
import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from .. import _rmf
from ._common import _av, _publish, _video_encoder_name


@dataclasses.dataclass
class Mp4Report:
    """What ``to_mp4`` wrote."""

    output: str
    stream: str
    frames: int
    mode: str  # "copied" (the H.264 bitstream as stored) or "encoded with <encoder>"

    def summary(self) -> str:
        return f"wrote {self.frames} frames of {self.stream!r} to {self.output} ({self.mode})"

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))


def to_mp4(
    path: str | os.PathLike[str],
    stream: str,
    out: str | os.PathLike[str],
    *,
    key: bytes | str | os.PathLike[str] | None = None,
    passphrase: str | None = None,
    video_codec: str | None = None,
    crf: int = 20,
) -> Mp4Report:
    """Writes frame stream ``stream`` of episode ``path`` as an MP4 file at ``out``, every frame
    at its own time (microsecond time base, variable frame rate). An H.264 stream is copied as
    stored: no re-encoding, so FFmpeg decodes the same pixels as RMF. Other codecs are decoded
    and encoded with ``video_codec`` (default libx264, else mpeg4). ``out`` must not exist; it
    is written beside its name and renamed into place when complete."""
    av = _av()
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} exists")
    ep = _rmf.open(path, key=key, passphrase=passphrase)
    s = ep[stream]
    if s.kind != "frames":
        raise ValueError(f"stream {stream!r} is a {s.kind} stream, not frames")
    if s.dtype != "uint8":
        raise ValueError(f"stream {stream!r}: MP4 export takes 8-bit frames, not {s.dtype}")
    tb = Fraction(1, 1_000_000)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        container = av.open(str(tmp), "w", format="mp4")
        if s.info.get("codec") == "h264":
            times, units = s.stored_frames()
            t0 = int(times[0]) if len(times) else 0
            src = av.open(io.BytesIO(b"".join(units)), format="h264")
            in_stream = src.streams.video[0]
            out_stream = container.add_stream_from_template(in_stream)
            out_stream.time_base = tb
            packets = [p for p in src.demux(in_stream) if p.size > 0]
            if len(packets) != len(times):
                raise ValueError(
                    f"stream {stream!r}: FFmpeg split the bitstream into {len(packets)} packets "
                    f"for {len(times)} frames"
                )
            for pkt, t in zip(packets, times):
                pkt.stream = out_stream
                pkt.time_base = tb
                pkt.pts = pkt.dts = round((int(t) - t0) / 1000)
                container.mux(pkt)
            src.close()
            mode = "copied"
        else:
            codec = _video_encoder_name(video_codec or next(
                (c for c in ("libx264", "mpeg4") if c in av.codecs_available), None
            ))  # fmt: skip
            options = {"crf": str(crf), "bf": "0"} if codec == "libx264" else {"bf": "0"}
            times, frames = s.read()
            h, w = frames.shape[1:3]
            out_stream = container.add_stream(codec, options=options)
            out_stream.width, out_stream.height = w, h
            out_stream.pix_fmt = "yuv420p"
            out_stream.time_base = tb
            out_stream.codec_context.time_base = tb
            t0 = int(times[0]) if len(times) else 0
            for t, img in zip(times, frames):
                rgb = img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
                frame.pts = round((int(t) - t0) / 1000)
                frame.time_base = tb
                container.mux(out_stream.encode(frame))
            container.mux(out_stream.encode())
            mode = f"encoded with {codec}"
        container.close()
        _publish(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return Mp4Report(output=str(out), stream=stream, frames=len(times), mode=mode)
