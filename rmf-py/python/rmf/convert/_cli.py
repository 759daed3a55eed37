"""The command line of ``python -m rmf.convert`` (``main``): lerobot, hdf5, mp4 and to-lerobot,
with a progress bar on a terminal."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from ._common import ConversionReport
from .hdf5_in import from_hdf5
from .lerobot_in import from_lerobot
from .lerobot_out import LABELS, to_lerobot
from .mp4_out import to_mp4


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m rmf.convert",
        description="Convert LeRobot and HDF5 datasets to RMF episodes, and RMF to LeRobot v3.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    def frame_options(q: argparse.ArgumentParser) -> None:
        q.add_argument("--codec", default="h264", choices=["h264", "jpeg", "png", "raw"])
        q.add_argument("--qp", type=int, help="h264 quantizer (0-51)")
        q.add_argument("--gop", type=int, help="h264 keyframe interval")
        q.add_argument("--quality", type=int, help="jpeg quality (1-100)")
        q.add_argument("--overwrite", action="store_true", help="replace existing .rmf files")
        q.add_argument("--no-index", action="store_true", help="do not build episodes.parquet")
        q.add_argument("--json", action="store_true", help="print the report as JSON")

    q = sub.add_parser("lerobot", help="LeRobot v2.x / v3.0 directory -> RMF episodes")
    q.add_argument("src")
    q.add_argument("dst")
    q.add_argument("--episodes", help="comma-separated episode indices (default all)")
    q.add_argument("--no-video", action="store_true", help="leave video features out")
    frame_options(q)
    q = sub.add_parser("hdf5", help="robomimic / ALOHA HDF5 -> RMF episodes")
    q.add_argument("src", help="an .hdf5 file or a directory of them")
    q.add_argument("dst")
    q.add_argument("--rate", type=float, help="steps per second when the file has no times")
    q.add_argument("--layout", default="auto", choices=["auto", "robomimic", "aloha"])
    frame_options(q)
    q = sub.add_parser("mp4", help="one frame stream of an episode -> MP4")
    q.add_argument("src", help="the .rmf episode")
    q.add_argument("dst", help="the .mp4 file to write (must not exist)")
    q.add_argument("--stream", required=True)
    q.add_argument("--key-file", help="key that opens an encrypted stream")
    q.add_argument("--video-codec", help="encoder for non-H.264 streams (default libx264)")
    q.add_argument("--crf", type=int, default=20)
    q.add_argument("--json", action="store_true", help="print the report as JSON")
    q = sub.add_parser("to-lerobot", help="RMF dataset directory -> LeRobot v3.0")
    q.add_argument("src")
    q.add_argument("dst")
    q.add_argument("--fps", type=float, required=True)
    q.add_argument("--reference", help="rows at this stream's samples instead of fixed ticks")
    q.add_argument("--policy", default="linear", choices=["linear", "asof", "nearest"])
    q.add_argument("--feature", action="append", default=[], metavar="STREAM=NAME",
                   help="LeRobot feature name of a stream (repeatable)")  # fmt: skip
    q.add_argument("--stream", action="append", dest="streams", metavar="S",
                   help="export only these streams (repeatable)")  # fmt: skip
    q.add_argument("--video-codec", help="PyAV encoder (default libsvtav1, libx264, mpeg4)")
    q.add_argument("--crf", type=int, default=30)
    q.add_argument("--gop", type=int, default=2)
    q.add_argument("--key-file", help="key that opens encrypted (private) streams")
    q.add_argument(
        "--max-label",
        default="internal",
        choices=list(LABELS),
        help="export streams labelled up to this (default internal: not private)",
    )
    q.add_argument("--overwrite", action="store_true")
    q.add_argument("--json", action="store_true", help="print the report as JSON")
    return p


class _TerminalProgress:
    """``what [#####.....] 3/10 episodes, 12 s, about 18 s left`` on stderr, redrawn in place;
    draws nothing when stderr is not a terminal (logs stay clean) or with ``--json``."""

    def __init__(self, what: str, unit: str, enabled: bool):
        self.what, self.unit, self.started = what, unit, time.monotonic()
        self.enabled = enabled and sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        elapsed = time.monotonic() - self.started
        filled = 30 * done // total
        left = f", about {elapsed / done * (total - done):.0f} s left" if 0 < done < total else ""
        bar = "#" * filled + "." * (30 - filled)
        line = f"{self.what} [{bar}] {done}/{total} {self.unit}, {elapsed:.0f} s{left}"
        sys.stderr.write("\r" + line + "\x1b[K")
        sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: prints a one-line summary (``--json``: the report); returns 0 when
    done, 1 on an error, 2 on a usage error."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: usage errors exit 2, --help exits 0
        return int(e.code or 0)
    bar = _TerminalProgress(
        {"lerobot": "importing", "hdf5": "importing", "to-lerobot": "exporting"}.get(
            args.command, "converting"
        ),
        "files" if args.command == "hdf5" else "episodes",
        enabled=not args.json,
    )
    try:
        if args.command == "lerobot":
            eps = None
            if args.episodes:
                try:
                    eps = [int(x) for x in args.episodes.split(",") if x.strip()]
                except ValueError:
                    parser.print_usage(sys.stderr)
                    print(f"--episodes: not a list of integers: {args.episodes}", file=sys.stderr)
                    return 2
            report = from_lerobot(
                args.src, args.dst, codec=args.codec, qp=args.qp, gop=args.gop,
                quality=args.quality, episodes=eps, overwrite=args.overwrite,
                index=not args.no_index, progress=bar, no_video=args.no_video,
            )  # fmt: skip
        elif args.command == "hdf5":
            report = from_hdf5(
                args.src, args.dst, rate_hz=args.rate, layout=args.layout, codec=args.codec,
                qp=args.qp, gop=args.gop, quality=args.quality, overwrite=args.overwrite,
                index=not args.no_index, progress=bar,
            )  # fmt: skip
        elif args.command == "mp4":
            report = to_mp4(
                args.src, args.stream, args.dst, key=args.key_file,
                video_codec=args.video_codec, crf=args.crf,
            )  # fmt: skip
        else:
            names = {}
            for item in args.feature:
                if "=" not in item:
                    parser.print_usage(sys.stderr)
                    print(f"--feature: expected STREAM=NAME, got {item!r}", file=sys.stderr)
                    return 2
                a, b = item.split("=", 1)
                names[a] = b
            report = to_lerobot(
                args.src, args.dst, fps=args.fps, reference=args.reference, policy=args.policy,
                feature_names=names, streams=args.streams, video_codec=args.video_codec,
                crf=args.crf, gop=args.gop, overwrite=args.overwrite, max_label=args.max_label,
                key=args.key_file, progress=bar,
            )  # fmt: skip
    except (OSError, ValueError, TypeError, ImportError) as e:
        bar.clear()
        print(f"rmf.convert: error: {e}", file=sys.stderr)
        if args.json:
            print(json.dumps({"error": str(e)}))
        return 1
    bar.clear()
    # --json: one line, as the rmf command prints.
    print(report.to_json(indent=None) if isinstance(report, ConversionReport) and args.json
          else report.to_json() if args.json else report.summary())  # fmt: skip
    return 0
