"""Training samples per second (issue 4): ``rmf.Dataset`` against LeRobot v3's reader, one run.

Every reader serves the same samples of the same episodes. A sample is one ``cam/front`` frame
time ``t`` of one episode, with:

- ``cam/front`` as of ``t`` (that frame) and ``cam/wrist`` nearest to ``t`` (640x480 RGB, 30 fps);
- ``action``: the next 16 actions (30 Hz, float32[8]), steps 0..15;
- ``ft/wrist``: the last 100 force/torque samples (1 kHz, float32[6]), steps -99..0;
- ``joints``: as of ``t`` (100 Hz, float32[2, 7]).

Data: ``--episodes`` demo episodes recorded with lossless cameras (``rmf demo --seconds S --seed K
--codec raw``: the camera's own pixels, as a recorder gets them). Every copy below is encoded
from those same pixels, once, as each format would store a recording:

- RMF, each its own indexed directory (``rmf.index``), made by ``rmf transcode``: H.264 at the
  recording default (qp 22, gop 8: what ``rmf demo`` writes), H.264 qp 23 gop 4 (a setting for
  training sets: keyframes twice as often), H.264 qp 22 gop 2, JPEG q90 (the fastest
  compressed frame codec to decode) and raw frames at zstd level -1 (the fastest frame codec
  of all, stored almost as they are: about 0.9 MB a frame);
- LeRobot v3's layout, built from the frames and signals of the raw files: ``meta/info.json``
  (fps 30, features), ``meta/tasks.parquet``,
  ``meta/episodes/chunk-000/file-000.parquet`` (lengths, ``dataset_from_index`` /
  ``dataset_to_index``, per camera ``videos/<key>/from_timestamp`` / ``to_timestamp``),
  ``meta/stats.json`` (numeric features only), ``data/chunk-000/file-000.parquet`` (one row per
  ``cam/front`` frame: ``timestamp`` = frame_index / fps as float32, ``frame_index``,
  ``episode_index``, ``index``, ``task_index``, ``action`` float32[8], ``observation.state``
  float32[14], ``observation.force`` float32[6]) and
  ``videos/observation.images.{front,wrist}/chunk-000/file-000.mp4``: each episode encoded as
  ``lerobot.datasets.video_utils.encode_video_frames`` does (libsvtav1, crf 30, g 2, yuv420p,
  ``preset`` 12 when none is given, which lerobot 0.4.x passes; ``--av1-presets`` adds others,
  8 by default: SVT-AV1's own default, which ``bench_media.py`` measured), then the episodes
  concatenated into one MP4 per camera by stream copy through FFmpeg's concat demuxer, as
  ``concatenate_video_files`` does, ``from_timestamp`` being the sum of the previous episodes'
  video durations (``get_video_duration_in_s``).

LeRobot forces every stream onto the dataset's one fps, so the conversion puts on row ``k`` of
an episode: ``cam/front`` frame ``k`` (row time ``k / 30``, not its real time); the ``k``-th
``cam/wrist`` frame (a camera's frames are stored in order, one per row; the last one repeats
if the wrist camera has fewer frames); ``action``, ``joints`` (flattened to 14) and
``ft/wrist`` as of the real time of ``cam/front`` frame ``k`` (the first sample when there is
none yet). The 1 kHz force therefore becomes a 30 fps column and "the last 100 force samples"
cannot be reproduced: LeRobot's sample takes the last 100 rows of that column
(``delta_timestamps`` -99/30 .. 0 s: 3.3 s of force sampled at 30 fps, not 100 ms at 1 kHz), so
it reads as many values but not the same ones.

LeRobot's reader is reproduced without torch (lerobot needs torch, torchvision and torchcodec):
``LeRobotDataset.__getitem__`` reads the row of the Arrow table (``hf_dataset[idx]``, which
formats through Python objects), the ``delta_timestamps`` rows of ``action`` and
``observation.force`` clamped to the episode with their ``_is_pad`` masks, then for each camera
decodes the frame at ``from_timestamp + timestamp`` as ``decode_video_frames_torchcodec`` does:
frame index ``round(ts * average_fps)``, the decoder kept open per video file
(``VideoDecoderCache``), one FFmpeg thread, seek to the keyframe before that frame and decode
forward (PyAV, the AV1 decoder FFmpeg picks), conversion to RGB by swscale with one thread
(FFmpeg's default, as torchcodec uses it; PyAV's own default would start a thread per CPU), and
the tolerance check (``tolerance_s`` = 1e-4: a sample whose decoded frame time differs by that
much or more raises ``FrameTimestampError``; counted under "errors"). Frames are returned as
uint8 HxWx3 like RMF's: lerobot's conversion to float32 CHW / 255 is not done (it would only
slow LeRobot down).

Measured per reader, on the same random samples (``--seed``) of the same episodes:

- samples/s in one process (after 4 untimed warm-up samples). The machine may be shared, so
  the readers take turns: ``--rounds`` rounds, each giving every reader and mode the next block
  of the random samples (the per-round rates are printed to show the noise);
- samples/s with 2 worker processes (``multiprocessing`` fork pool, as a DataLoader with 2
  workers: each worker opens its own files; ``--chunk`` samples per task, like a batch), twice:
  samples kept in the workers (only their keys go back: the readers' own throughput), and whole
  samples pickled back to the main process through the pool's pipe (a DataLoader hands tensors
  over in shared memory instead, which costs less; the cost is the same for every reader);
- peak RSS: a fresh interpreter per reader reads ``--rss-samples`` samples and reports its
  ``VmHWM`` (``ru_maxrss`` keeps the parent's peak across fork and exec on Linux), minus that of
  a fresh interpreter that imported numpy and pyarrow only. Memory-mapped file pages a reader
  touched count (RMF maps its episode files; PyAV reads through buffers);
- wrong source frame: the share of samples where a camera frame is not the right source frame:
  ``cam/front`` frame ``k`` itself, and the ``cam/wrist`` frame nearest to ``t`` on the real
  clocks (the raw files' timestamps, which every copy keeps). RMF returns each frame's real time
  (``cam/wrist_t``); LeRobot's source frame is known from the decoded frame's position in the
  video. On ``rmf demo`` data the ``k``-th wrist frame is always the nearest one (the demo's
  wrist camera runs 1.5 to 4.5 ms after the front one and drops no frame), so
  LeRobot's row-by-row layout gets it right too: it goes wrong only where the cameras drift
  apart or drop frames.

    cargo build --release -p rmf-cli       # if target/release/rmf is missing
    .venv/bin/pip install -r benches/python/requirements-bench.txt
    .venv/bin/python benches/python/bench_dataset.py [--episodes 4] [--samples 400] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

# Sibling modules (this folder is on sys.path when the script runs).
from dataset_lerobot_copies import LEROBOT_PRESET, build_lerobot
from dataset_measure import Row, measure, rss_child_main, run_lerobot_package
from dataset_readers import rmf_streams  # noqa: F401 (bench_loop.py uses bench_dataset.rmf_streams)
from dataset_report import (
    av1_decoder_name,
    dir_bytes,
    mem_split,
    print_goals,
    print_header,
    print_lerobot_package,
    print_table,
    rmf_camera_bytes,
    svt_version,
)
from dataset_rmf_copies import RMF_COPIES, check_workdir, load_truth, make_rmf_copies

ROOT = pathlib.Path(__file__).resolve().parents[2]


def child_rss(args, kind: str, root: pathlib.Path | None) -> dict:
    """Memory of a fresh interpreter running this file in ``--rss-child`` mode (KiB): ``peak``
    (VmHWM) and, at its end, ``anon`` (RssAnon) and ``file`` (RssFile: mapped files, libraries
    included)."""
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--rss-child", kind]
    if root is not None:
        cmd += ["--rss-root", str(root)]
    cmd += ["--rss-samples", str(args.rss_samples), "--seed", str(args.seed)]
    cmd += ["--rss-total", str(args.rss_total)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=15, help="per episode")
    parser.add_argument("--samples", type=int, default=400, help="random samples per measure")
    parser.add_argument("--rss-samples", type=int, default=300, help="samples read per RSS run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=8, help="samples per worker task")
    parser.add_argument("--rounds", type=int, default=5, help="turns the readers take")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--av1-presets",
        default=f"{LEROBOT_PRESET},8",
        help="SVT-AV1 presets of the LeRobot copies (12: lerobot's; 8: SVT-AV1's default)",
    )
    parser.add_argument("--quick", action="store_true", help="2 episodes of 4 s, 64 samples")
    parser.add_argument(
        "--lerobot-python",
        help="an interpreter with the lerobot package: also time lerobot itself (1 process)",
    )
    parser.add_argument(
        "--workdir",
        type=pathlib.Path,
        help="keep (and reuse) the data here; a workdir made with other data settings is refused "
        "(copies made by an older build of rmf are reused as they are)",
    )
    parser.add_argument("--target", default=ROOT / "target" / "release", type=pathlib.Path)
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    parser.add_argument("--rss-root", help=argparse.SUPPRESS)
    parser.add_argument("--rss-total", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child_main(args)
        return
    if args.quick:
        args.episodes, args.seconds, args.samples, args.rss_samples = 2, 4, 64, 32
    presets = [int(p) for p in args.av1_presets.split(",") if p]

    load = os.getloadavg()
    started = time.perf_counter()
    print_header(args, load)
    with contextlib.ExitStack() as stack:
        if args.workdir is None:
            work = pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory()))
        else:
            work = args.workdir
            work.mkdir(parents=True, exist_ok=True)
        check_workdir(args, work, presets)
        t0 = time.perf_counter()
        raw, dirs = make_rmf_copies(args, work)
        t_rmf = time.perf_counter() - t0
        truth = load_truth(dirs["h264"], raw)
        ctx = multiprocessing.get_context("fork")
        t0 = time.perf_counter()
        with ctx.Pool(2) as pool:
            lerobot = build_lerobot(truth, work / "lerobot", presets, pool)
        t_lerobot = time.perf_counter() - t0
        print(
            f"- SVT-AV1 {svt_version(lerobot['log'])} (libsvtav1 through PyAV), "
            f"AV1 decoder: {av1_decoder_name(lerobot['dirs'])}"
        )
        n = len(truth.files)
        print(
            f"- data: {n} episodes of {args.seconds} s (`rmf demo --seconds {args.seconds} "
            f"--seed K --codec raw`, then each copy encoded from those pixels), {truth.total} "
            f"samples (cam/front frames); made in {t_rmf:.0f} s (RMF "
            f"copies) and {t_lerobot:.0f} s (LeRobot copies, AV1 encode "
            f"{lerobot['encode_s']:.0f} s of CPU)"
        )
        print(
            f"- {args.samples} random samples per measure (numpy default_rng({args.seed}), the "
            f"same for every reader), after 4 warm-up samples, in {args.rounds} rounds where the "
            f"readers take turns; {args.workers} workers: fork pool, {args.chunk} samples per "
            f"task; peak RSS: {args.rss_samples} samples in a fresh interpreter"
        )

        rows = []
        for key, label, _ in RMF_COPIES:
            d = dirs[key]
            files = sorted(d.glob("*.rmf"))
            rows.append(
                Row(
                    label,
                    "rmf",
                    d,
                    dir_bytes(d, "*.rmf") / n + (d / "episodes.parquet").stat().st_size / n,
                    rmf_camera_bytes(files, args.target) / n,
                )
            )
        for preset, d in lerobot["dirs"].items():
            note = "lerobot's" if preset == LEROBOT_PRESET else "SVT-AV1 default"
            rows.append(
                Row(
                    f"LeRobot v3 AV1 crf 30 g 2, preset {preset} ({note})",
                    "lerobot",
                    d,
                    dir_bytes(d) / n,
                    dir_bytes(d / "videos") / n,
                )
            )

        rng = np.random.default_rng(args.seed)
        picks = rng.integers(0, truth.total, size=args.samples)
        warm = np.random.default_rng(args.seed + 1).integers(0, truth.total, size=4)
        args.rss_total = truth.total
        base = child_rss(args, "baseline", None)
        print("  measuring samples/s", file=sys.stderr, flush=True)
        package_root = lerobot["dirs"][LEROBOT_PRESET]
        package_runs = []
        if args.lerobot_python:
            print("  measuring the lerobot package (before)", file=sys.stderr, flush=True)
            package_runs.append(run_lerobot_package(args, package_root, picks, warm))
        measure(rows, truth, picks, warm, args)
        if args.lerobot_python:
            print("  measuring the lerobot package (after)", file=sys.stderr, flush=True)
            package_runs.append(run_lerobot_package(args, package_root, picks, warm))
        for r in rows:
            print(f"  measuring the peak RSS of {r.reader}", file=sys.stderr, flush=True)
            r.memory = child_rss(args, r.kind, r.root)
            r.rss_mib = (r.memory["peak"] - base["peak"]) / 1024
        print(
            f"- baseline interpreter (numpy + pyarrow imported): {base['peak'] / 1024:.1f} MiB "
            f"peak RSS ({mem_split(base)})"
        )
        print_table(rows, args)
        if args.lerobot_python:
            print_lerobot_package(args, rows, package_root, package_runs)
        print(
            "\nMB = 10^6 bytes. bytes/episode: RMF: the .rmf files (every stream: also 16 kHz "
            "audio, events, 1 kHz force) plus episodes.parquet, per episode; LeRobot: every file "
            "of the dataset (data, meta, videos) per episode. Wrong source frame %: of the samples "
            "that returned, checked in the 1-process run; errors: samples that raised "
            "(FrameTimestampError). Load average at the end: "
            + " / ".join(f"{x:.2f}" for x in os.getloadavg())
            + "."
        )
        print_goals(rows)
    print(f"\nTotal run time {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
