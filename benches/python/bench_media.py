"""Frame codecs side by side, in one run: RMF's frame codecs against LeRobot v3's default video.

RMF: ``raw`` (zstd per frame), ``png``, ``jpeg`` (quality 90) and ``h264`` (OpenH264) at several
quantizers (qp) and keyframe intervals (gop). Each setting writes a file holding only that one
frames stream through ``rmf.EpisodeWriter``.

LeRobot v3's default video path, reproduced with PyAV as ``lerobot.datasets.video_utils`` does:

- encode (``encode_video_frames``): ``libsvtav1`` into an MP4, ``crf=30``, ``g=2``,
  ``pix_fmt=yuv420p``, ``preset=12`` (lerobot 0.4.x passes 12 when none is given; SVT-AV1 4
  runs it as 11), RGB frames handed to PyAV as ``rgb24`` ``VideoFrame``s that PyAV converts to
  yuv420p. A second AV1 row uses libsvtav1's own default preset (printed at the top), which
  earlier lerobot releases left it at;
- random frame (``decode_video_frames_torchcodec`` / ``decode_video_frames_torchvision``): seek to
  the keyframe at or before the wanted timestamp, decode forward to the wanted frame, return it as
  RGB. Two variants are timed: the container opened once per episode and kept (as lerobot's
  torchcodec ``VideoDecoderCache`` keeps its decoder; this is the row the ratios use), and the
  container opened, seeked, decoded (every decoded frame converted to RGB) and closed on each call
  (as lerobot's PyAV backend through torchvision's ``VideoReader`` does). torchcodec itself is not
  used (it needs torch): its seek-and-decode-forward is reproduced with PyAV, decoding with the AV1
  decoder FFmpeg picks (printed). Each MP4 holds one episode; LeRobot v3 concatenates episodes
  into larger MP4 files and seeks to the episode's offset, which this does not reproduce.
- with ``--lerobot-python PY`` (an interpreter with the lerobot package, see
  ``lerobot_decode.py``), the package's own ``decode_video_frames`` is timed on the same MP4 and
  frames, with torchcodec (its default) and pyav, in a child pinned to the same CPU. Its calls
  return float32 tensors, as lerobot's do. The random-access speed-ups are then against the
  package with torchcodec; without it, against the reproduction whose container stays open.

Sources: the demo episode's ``cam/front`` camera (``rmf demo --codec raw``) and slow pans across
two photographs of testdata/images (a window moving 2 px per frame, bouncing at the image edges).

Measured per codec and setting: bytes per frame (file bytes / frames), mean PSNR over the frames
(RGB, against the source frames), encode frames/s, sequential decode frames/s (all frames to RGB
arrays) and random single-frame access latency (mean and p95 over random frames, each a fresh
call, after one untimed warm-up call). The whole process is pinned to one CPU and PyAV codecs run
with ``thread_count = 1``, so every number is for one core (SVT-AV1 still starts its own threads,
which share that CPU).

    cargo build --release -p rmf-cli
    .venv/bin/pip install -r benches/python/requirements-bench.txt
    .venv/bin/python benches/python/bench_media.py [--frames N] [--quick] [--lerobot-python PY]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import pathlib
import platform
import re
import subprocess
import sys
import tempfile
import time

import av
import numpy as np

import rmf

ROOT = pathlib.Path(__file__).resolve().parents[2]
FPS = 30
# Travel the panning window keeps along x, and its speed.
PAN_SLACK = 128
PAN_STEP = 2

RMF_SETTINGS = [
    ("raw", "zstd-3", {}),
    ("raw", "zstd -1 (fastest to read)", {"compression_level": -1}),
    ("png", "—", {}),
    ("jpeg", "quality 90", {"quality": 90}),
    ("h264", "qp 22, gop 8", {"qp": 22, "gop": 8}),
    ("h264", "qp 24, gop 8", {"qp": 24, "gop": 8}),
    ("h264", "qp 26, gop 8", {"qp": 26, "gop": 8}),
    ("h264", "qp 28, gop 8", {"qp": 28, "gop": 8}),
    ("h264", "qp 23, gop 4", {"qp": 23, "gop": 4}),
    ("h264", "qp 24, gop 2", {"qp": 24, "gop": 2}),
    ("h264", "qp 26, gop 2", {"qp": 26, "gop": 2}),
    ("h264", "qp 26, gop 30", {"qp": 26, "gop": 30}),
]

# LeRobot v3 (encode_video_frames defaults of lerobot 0.4.x).
AV1_CODEC = "libsvtav1"
AV1_OPTIONS = {"g": "2", "crf": "30"}
AV1_PIX_FMT = "yuv420p"
LEROBOT_PRESET = "12"
# Goal of the media issue: a random frame at least this many times faster than LeRobot's path.
GOAL_ACCESS_SPEEDUP = 5.0


@dataclasses.dataclass
class Result:
    codec: str
    setting: str
    bytes_per_frame: float
    psnr: float
    encode_fps: float | None
    decode_fps: float | None
    access_s: list[float]


# ----------------------------------------------------------------------------- environment


def pin_one_core() -> int:
    """Pins this process, its threads (numpy's idle BLAS threads too) and every thread it starts
    from now on to its first allowed CPU."""
    cpu = min(os.sched_getaffinity(0))
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(tid), {cpu})
    os.sched_setaffinity(0, {cpu})
    return cpu


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def has_codec(name: str, mode: str) -> bool:
    try:
        av.codec.Codec(name, mode)
    except Exception:
        return False
    return True


@contextlib.contextmanager
def captured_fd2(path: pathlib.Path):
    """Sends file descriptor 2 (where SVT-AV1 logs its configuration) to ``path`` meanwhile."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as f:
        os.dup2(f.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def svt_probe(tmp: pathlib.Path) -> tuple[str, str]:
    """SVT-AV1's version and the preset it chose, from its log of a two-frame encode."""
    log = tmp / "svt.log"
    frames = np.zeros((2, 480, 640, 3), np.uint8)
    with captured_fd2(log):
        encode_av1(frames, tmp / "probe.mp4", None)
    text = log.read_text(errors="replace")
    version = re.search(r"SVT-AV1 Encoder Lib (\S+)", text)
    preset = re.search(r"preset / tune / pred struct\s*:\s*(\S+)", text)
    return (version.group(1) if version else "?", preset.group(1) if preset else "?")


def print_header(cpu: int, tmp: pathlib.Path) -> tuple[str, str]:
    svt_version, svt_preset = svt_probe(tmp)
    enc = "yes" if has_codec("libsvtav1", "w") else "NO"
    decoders = [n for n in ("libdav1d", "libaom-av1", "av1") if has_codec(n, "r")]
    libs = ", ".join(f"{k} {'.'.join(map(str, v))}" for k, v in av.library_versions.items())
    print("# RMF frame codecs against LeRobot v3's default video (AV1), one run\n")
    print(f"- machine: {os.cpu_count()} CPUs, {cpu_model()}; this run pinned to CPU {cpu}")
    print(f"- python {platform.python_version()}, numpy {np.__version__}, rmf {rmf.__version__}")
    print(f"- PyAV {av.__version__} (FFmpeg {libs})")
    print(
        f"- libsvtav1 encoder: {enc} (SVT-AV1 {svt_version}; its default preset: {svt_preset}; "
        f"lerobot 0.4.x passes {LEROBOT_PRESET}); AV1 decoders: {', '.join(decoders) or 'none'}"
    )
    return svt_version, svt_preset


# ----------------------------------------------------------------------------- sources


def timestamps(n: int) -> np.ndarray:
    return np.round(np.arange(n) * (1e9 / FPS)).astype(np.int64)


def demo_frames(n: int, target: pathlib.Path, tmp: pathlib.Path) -> np.ndarray:
    path = tmp / "demo.rmf"
    seconds = max(5, math.ceil(n / FPS))
    cmd = [str(target / "rmf"), "demo", str(path), "--codec", "raw", "--seconds", str(seconds)]
    subprocess.run(cmd, check=True, capture_output=True)
    _, frames = rmf.open(path)["cam/front"].read()
    path.unlink()
    assert len(frames) >= n, f"the demo has {len(frames)} frames, fewer than {n}"
    return np.ascontiguousarray(frames[:n])


def load_png(path: pathlib.Path) -> np.ndarray:
    with av.open(str(path)) as c:
        frame = next(c.decode(video=0))
        return frame.to_ndarray(format="rgb24")


def pan_frames(image: np.ndarray, n: int) -> np.ndarray:
    """A camera panning across ``image``: a window 480x640 where the image allows, else as large
    as the image allows with ``PAN_SLACK`` px of horizontal travel (even sizes), moving
    ``PAN_STEP`` px per frame along x and bouncing at the edges; vertically centred."""
    ih, iw = image.shape[:2]
    h = min(480, ih) // 2 * 2
    w = min(640, iw - PAN_SLACK) // 2 * 2
    travel = iw - w
    y = (ih - h) // 2
    out = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        pos = (i * PAN_STEP) % (2 * travel)
        x = pos if pos <= travel else 2 * travel - pos
        out[i] = image[y : y + h, x : x + w]
    return out


# ----------------------------------------------------------------------------- measures


def mean_psnr(src: np.ndarray, dec) -> float:
    """Mean over frames of the RGB PSNR of each frame; a lossless frame counts as 100 dB
    unless every frame is lossless (then inf)."""
    assert len(src) == len(dec)
    values = []
    for a, b in zip(src, dec):
        mse = np.mean((a.astype(np.int32) - b.astype(np.int32)) ** 2)
        values.append(math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse))
    if all(math.isinf(v) for v in values):
        return math.inf
    return float(np.mean([min(v, 100.0) for v in values]))


def bench_rmf(
    frames: np.ndarray, codec: str, setting: str, kw: dict, path: pathlib.Path, picks: np.ndarray
) -> Result:
    n, h, w = frames.shape[:3]
    ts = timestamps(n)
    kw = dict(kw)
    level = kw.pop("compression_level", 3)  # a writer option, not a stream's
    start = time.perf_counter()
    with rmf.EpisodeWriter(path, overwrite=True, compression_level=level) as wr:
        wr.add_frames("cam", width=w, height=h, pixel_format="rgb8", rate_hz=FPS, codec=codec, **kw)
        wr.write_many("cam", ts, frames)
    encode_s = time.perf_counter() - start
    size = path.stat().st_size

    start = time.perf_counter()
    got_ts, decoded = rmf.open(path)["cam"].read()
    decode_s = time.perf_counter() - start
    assert len(decoded) == n and np.array_equal(got_ts, ts)
    psnr = mean_psnr(frames, decoded)

    stream = rmf.open(path)["cam"]
    stream.at(int(ts[picks[0]]))  # warm-up, untimed
    access = []
    for i in picks:
        t = int(ts[i])
        start = time.perf_counter()
        one = stream.at(t)
        access.append(time.perf_counter() - start)
        assert np.array_equal(one, decoded[i]), f"{codec} {setting}: at() differs at frame {i}"
    path.unlink()
    return Result(codec, setting, size / n, psnr, n / encode_s, n / decode_s, access)


def encode_av1(frames: np.ndarray, path: pathlib.Path, preset: str | None) -> None:
    """lerobot's encode_video_frames, with frames from memory instead of PNG files and one
    encoder thread; ``preset`` None leaves libsvtav1 at its own default."""
    h, w = frames.shape[1:3]
    options = dict(AV1_OPTIONS)
    if preset is not None:
        options["preset"] = preset
    with av.open(str(path), "w") as out:
        stream = out.add_stream(AV1_CODEC, FPS, options=options)
        stream.pix_fmt = AV1_PIX_FMT
        stream.width = w
        stream.height = h
        stream.codec_context.thread_count = 1
        for f in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(stream.encode())


def open_video(path: pathlib.Path):
    container = av.open(str(path))
    stream = container.streams.video[0]
    stream.codec_context.thread_count = 1
    return container, stream


def seek_decode(container, stream, pts: int, convert_all: bool) -> np.ndarray:
    """lerobot's random frame: the keyframe at or before ``pts``, then decode forward to it."""
    container.seek(pts, stream=stream, backward=True, any_frame=False)
    for frame in container.decode(stream):
        if convert_all:
            rgb = frame.to_ndarray(format="rgb24")
        if frame.pts >= pts:
            return rgb if convert_all else frame.to_ndarray(format="rgb24")
    raise RuntimeError(f"no frame at pts {pts}")


@dataclasses.dataclass
class Av1Run:
    kept: Result  # container opened once and kept
    fresh: Result  # container opened on every call
    decoder: str
    keyframes: int
    decoded: list  # every frame, uint8 RGB


def bench_av1(
    frames: np.ndarray, setting: str, preset: str | None, path: pathlib.Path, picks: np.ndarray
) -> Av1Run:
    """Encodes ``path`` (left in place) and times the reproduction of lerobot's reader."""
    n = len(frames)
    with captured_fd2(path.with_suffix(".log")):  # SVT-AV1 logs its configuration there
        start = time.perf_counter()
        encode_av1(frames, path, preset)
        encode_s = time.perf_counter() - start
    size = path.stat().st_size

    start = time.perf_counter()
    container, stream = open_video(path)
    decoded, pts = [], []
    for frame in container.decode(stream):
        decoded.append(frame.to_ndarray(format="rgb24"))
        pts.append(frame.pts)
    decode_s = time.perf_counter() - start
    decoder = stream.codec_context.name
    container.close()
    assert len(decoded) == n, f"AV1 decoded {len(decoded)} of {n} frames"
    psnr = mean_psnr(frames, decoded)
    with av.open(str(path)) as c:
        keyframes = sum(p.is_keyframe for p in c.demux(video=0) if p.size)

    # Container opened once per episode and kept (lerobot's torchcodec decoder cache).
    container, stream = open_video(path)
    seek_decode(container, stream, pts[picks[0]], convert_all=False)  # warm-up: opens the decoder
    kept = []
    for i in picks:
        start = time.perf_counter()
        one = seek_decode(container, stream, pts[i], convert_all=False)
        kept.append(time.perf_counter() - start)
        assert np.array_equal(one, decoded[i]), f"AV1 seek differs at frame {i}"
    container.close()

    # Container opened on every call (lerobot's PyAV backend through torchvision's VideoReader).
    fresh = []
    for i in [picks[0], *picks]:
        start = time.perf_counter()
        container, stream = open_video(path)
        one = seek_decode(container, stream, pts[i], convert_all=True)
        container.close()
        fresh.append(time.perf_counter() - start)
        assert np.array_equal(one, decoded[i]), f"AV1 seek differs at frame {i}"
    fresh = fresh[1:]  # the first call was the warm-up
    main_row = Result("av1 (LeRobot)", setting, size / n, psnr, n / encode_s, n / decode_s, kept)
    fresh_row = Result(
        "av1 (LeRobot)", f"{setting}, opened per call", size / n, psnr, None, None, fresh
    )
    return Av1Run(main_row, fresh_row, decoder, keyframes, decoded)


def bench_lerobot_package(
    python: str, run: Av1Run, path: pathlib.Path, picks: np.ndarray
) -> tuple[list[Result], list[str]]:
    """The lerobot package's decode_video_frames on ``path`` (lerobot_decode.py in a child
    interpreter, pinned to this process's CPU): one row per backend, and notes on the rest."""
    check = path.with_suffix(".picks.npy")
    np.save(check, np.stack([run.decoded[i] for i in picks]))
    script = pathlib.Path(__file__).with_name("lerobot_decode.py")
    cmd = [python, str(script), str(path), "--fps", str(FPS), "--check", str(check)]
    cmd += ["--picks", ",".join(str(int(i)) for i in picks)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0 or not done.stdout.strip():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return [], [f"the lerobot package did not run: {tail[0]}"]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    rows, notes = [], []
    for backend, r in got["backends"].items():
        if "error" in r:
            notes.append(f"lerobot {got['version']} with {backend}: {r['error']}")
            continue
        # lerobot returns floats in [0, 1]; the same frame is at most one level from PyAV's.
        if r["worst_diff"] > 1.0:
            raise RuntimeError(
                f"lerobot {backend} returned other frames (off by {r['worst_diff']:.1f} levels)"
            )
        setting = f"decode_video_frames, {backend}"
        kept = run.kept
        access = [v / 1e3 for v in r["ms"]]
        rows.append(
            Result(
                f"lerobot {got['version']} package",
                setting,
                kept.bytes_per_frame,
                kept.psnr,
                None,
                None,
                access,
            )
        )
    return rows, notes


# ----------------------------------------------------------------------------- report


def fmt_psnr(v: float) -> str:
    return "lossless" if math.isinf(v) else f"{v:.2f}"


def ms(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values) * 1e3
    return float(a.mean()), float(np.percentile(a, 95))


def print_table(title: str, rows: list[Result], av1: Result, access_base: Result) -> None:
    base_mean, _ = ms(access_base.access_s)
    print(f"\n## {title}\n")
    print(
        "| codec | setting | KB/frame | PSNR dB | encode fps (1 core) | seq decode fps "
        "| random access ms (mean / p95) | bytes vs AV1 | random-access speed-up |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        mean, p95 = ms(r.access_s)
        enc = "—" if r.encode_fps is None else f"{r.encode_fps:.1f}"
        dec = "—" if r.decode_fps is None else f"{r.decode_fps:.1f}"
        print(
            f"| {r.codec} | {r.setting} | {r.bytes_per_frame / 1e3:.1f} | {fmt_psnr(r.psnr)} "
            f"| {enc} | {dec} | {mean:.2f} / {p95:.2f} "
            f"| {r.bytes_per_frame / av1.bytes_per_frame:.2f}x | {base_mean / mean:.2f}x |"
        )


def print_goals(rows: list[Result], av1: Result, access_base: Result) -> None:
    ok = [
        r
        for r in rows
        if r.codec == "h264"
        and r.psnr >= av1.psnr - 1.0
        and r.bytes_per_frame <= av1.bytes_per_frame
    ]
    names = ", ".join(f"h264 {r.setting}" for r in ok) or "none"
    print(
        f"\nGoals (PSNR >= {av1.psnr - 1.0:.2f} dB, i.e. within 1 dB of AV1's "
        f"{av1.psnr:.2f}, and <= {av1.bytes_per_frame / 1e3:.1f} KB/frame): met by {names}."
    )
    base_mean, _ = ms(access_base.access_s)
    fast = [
        f"{r.codec} {r.setting}"
        for r in rows
        if not r.codec.startswith(("av1", "lerobot"))
        and base_mean / ms(r.access_s)[0] >= GOAL_ACCESS_SPEEDUP
    ]
    both = [f"h264 {r.setting}" for r in ok if base_mean / ms(r.access_s)[0] >= GOAL_ACCESS_SPEEDUP]
    print(
        f"Random frame at least {GOAL_ACCESS_SPEEDUP:g}x faster than {access_base.codec} "
        f"({access_base.setting}, {base_mean:.2f} ms): {', '.join(fast) or 'none'}; "
        f"and also within the size and PSNR goals: {', '.join(both) or 'none'}."
    )


def run_source(title: str, frames: np.ndarray, args, tmp: pathlib.Path, svt_preset: str) -> None:
    n, h, w = frames.shape[:3]
    picks = np.random.default_rng(0).integers(0, n, size=args.random)
    rows = []
    for codec, setting, kw in RMF_SETTINGS:
        rows.append(bench_rmf(frames, codec, setting, kw, tmp / "one.rmf", picks))
        print(f"  done {title}: {codec} {setting}", file=sys.stderr, flush=True)
    lerobot_setting = f"lerobot 0.4.x: svt preset {LEROBOT_PRESET}, crf 30, g 2, yuv420p, mp4"
    path = tmp / "av1.mp4"
    run = bench_av1(frames, lerobot_setting, LEROBOT_PRESET, path, picks)
    svt_default = bench_av1(frames, f"svt default preset {svt_preset}", None, tmp / "p.mp4", picks)
    (tmp / "p.mp4").unlink()
    rows += [run.kept, run.fresh, svt_default.kept]
    notes = []
    access_base = run.kept
    if args.lerobot_python:
        package_rows, notes = bench_lerobot_package(args.lerobot_python, run, path, picks)
        rows += package_rows
        access_base = package_rows[0] if package_rows else access_base
    path.unlink()
    print_table(f"{title}: {n} frames of {w}x{h} RGB at {FPS} fps", rows, run.kept, access_base)
    print(
        f"\nAV1 decoder used: {run.decoder}; AV1 keyframes: {run.keyframes} of {n} frames. "
        f"Random access: {args.random} random frames (seed 0), the same for every row; "
        f"speed-ups are against {access_base.codec} ({access_base.setting}), bytes against the "
        "lerobot 0.4.x AV1 file."
    )
    for note in notes:
        print(f"- {note}")
    print_goals(rows, run.kept, access_base)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=None, help="frames per source (150)")
    parser.add_argument("--random", type=int, default=None, help="random accesses (100)")
    parser.add_argument("--quick", action="store_true", help="30 frames, 20 random accesses")
    parser.add_argument("--target", default=ROOT / "target" / "release", type=pathlib.Path)
    parser.add_argument(
        "--lerobot-python",
        help="an interpreter with the lerobot package: also time its decode_video_frames",
    )
    args = parser.parse_args()
    args.frames = args.frames or (30 if args.quick else 150)
    args.random = args.random or (20 if args.quick else 100)

    cpu = pin_one_core()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        tmp = pathlib.Path(d)
        _, preset = print_header(cpu, tmp)
        images = ROOT / "testdata" / "images"
        sources = [
            ("demo cam/front (rmf demo)", lambda: demo_frames(args.frames, args.target, tmp)),
            (
                "coffee.png panned",
                lambda: pan_frames(load_png(images / "coffee.png"), args.frames),
            ),
            (
                "astronaut.png panned",
                lambda: pan_frames(load_png(images / "astronaut.png"), args.frames),
            ),
        ]
        for title, make in sources:
            run_source(title, make(), args, tmp, preset)
    print(
        f"\nKB = 1000 bytes. RMF bytes are whole files holding one frames stream (footer "
        f"included); AV1 bytes are the MP4 file. Total run time "
        f"{time.perf_counter() - started:.0f} s."
    )


if __name__ == "__main__":
    main()
