"""The ``lerobot`` package's own random-frame path on one MP4: run by ``bench_media.py
--lerobot-python PY`` with an interpreter that has lerobot (and so torch) installed, which the
project's own environment does not (torch's wheels pull CUDA).

Each call is ``lerobot.datasets.video_utils.decode_video_frames(path, [t], tolerance_s,
backend)``, as ``LeRobotDataset.__getitem__`` makes it for one camera: the frame at ``t`` as a
float32 CHW tensor in [0, 1]. Backends: torchcodec (lerobot's default; it keeps one decoder per
file in ``VideoDecoderCache``) and pyav (torchvision's ``VideoReader``, opened on every call).
One untimed call first; torch runs one thread (the bench pins this process to one CPU). Prints
one JSON line: the lerobot version and, per backend that loads, the milliseconds of each call,
or the error that stopped it; and the largest difference from the frames given in ``--check``
(uint8 RGB, an ``.npy`` of the frames at ``--picks``), in levels of 255. The package decodes
with the FFmpeg its interpreter has (torchcodec loads the system's libraries), which may be
another build than the one PyAV bundles for the lean reader.
"""

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("video")
    p.add_argument("--fps", type=float, required=True)
    p.add_argument("--picks", required=True, help="comma-separated frame indices")
    p.add_argument("--check", help=".npy of the expected uint8 HxWx3 frames at the picks")
    args = p.parse_args()
    import lerobot
    import torch
    from lerobot.datasets.video_utils import decode_video_frames

    # One intra-op thread, as torch's DataLoader workers run (and RMF's readers: one core).
    torch.set_num_threads(1)

    picks = [int(x) for x in args.picks.split(",")]
    expected = np.load(args.check) if args.check else None
    # lerobot's own tolerance for a 30 fps dataset is 1e-4 s (LeRobotDataset.tolerance_s).
    tolerance_s = 1e-4
    out = {"version": getattr(lerobot, "__version__", "?"), "backends": {}}
    for backend in ("torchcodec", "pyav"):
        try:
            decode_video_frames(args.video, [picks[0] / args.fps], tolerance_s, backend)
            times, worst = [], 0.0
            for k, i in enumerate(picks):
                start = time.perf_counter()
                frames = decode_video_frames(args.video, [i / args.fps], tolerance_s, backend)
                times.append((time.perf_counter() - start) * 1e3)
                if expected is not None:
                    got = frames[0].permute(1, 2, 0).numpy() * 255.0
                    worst = max(worst, float(np.abs(got - expected[k]).max()))
            out["backends"][backend] = {"ms": times, "worst_diff": worst}
        except Exception as e:  # a backend that does not load here is reported, not fatal
            out["backends"][backend] = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
