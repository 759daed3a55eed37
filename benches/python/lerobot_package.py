"""The ``lerobot`` package itself reading ``bench_dataset.py``'s LeRobot v3 copy: run by
``bench_dataset.py --lerobot-python PY`` with an interpreter that has lerobot (and so torch)
installed, which the project's own environment does not (torch's wheels pull CUDA).

Prints one JSON line: the lerobot version and, per video backend that loads (torchcodec, lerobot's
default, and pyav), samples/s in this process over the given sample indices, each sample
``LeRobotDataset[i]`` with the same ``delta_timestamps`` as the reproduction (the next 16
actions, the last 100 force rows), and how many samples raised. torch runs one thread, as in a
DataLoader worker.
"""

import argparse
import json
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local copy: never reach for the hub
os.environ.setdefault("OMP_NUM_THREADS", "1")

FPS = 30


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("root")
    p.add_argument("--picks", required=True, help="comma-separated sample indices")
    p.add_argument("--warm", default="", help="untimed warm-up indices")
    args = p.parse_args()
    import lerobot
    import torch
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    # One intra-op thread, as torch's DataLoader workers run (and RMF's readers: one core).
    torch.set_num_threads(1)

    picks = [int(x) for x in args.picks.split(",")]
    warm = [int(x) for x in args.warm.split(",") if x]
    delta = {
        "action": [k / FPS for k in range(16)],
        "observation.force": [k / FPS for k in range(-99, 1)],
    }
    out = {"version": getattr(lerobot, "__version__", "?"), "backends": {}}
    for backend in ("torchcodec", "pyav"):
        try:
            ds = LeRobotDataset(
                "local/bench", root=args.root, delta_timestamps=delta, video_backend=backend
            )
            for i in warm:
                ds[i]
        except Exception as e:  # a backend that does not load here (no FFmpeg libraries)
            out["backends"][backend] = {"error": f"{type(e).__name__}: {e}"[:300]}
            continue
        errors = 0
        start = time.perf_counter()
        for i in picks:
            try:
                ds[i]
            except Exception:
                errors += 1
        took = time.perf_counter() - start
        # A rate only when every sample came back: failing samples would look fast.
        rate = len(picks) / took if errors == 0 else None
        out["backends"][backend] = {"samples_per_s": rate, "errors": errors}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
