"""Time the MoviePy assembler against the floor: one ffmpeg command that makes the same film.

Builds synthetic 1280x720 24 fps clips with moving content (about 30 s in all) and a 30 s WAV in a temp dir,
then times, in one run:

  (a) ``MoviePyAssembler.assemble`` (defaults),
  (b) the floor: a single ffmpeg command with the concat demuxer, the same libx264 settings, the same fades
      and AAC audio; what assembly would cost with no Python in the frame path.

and prints both times (best of ``--repeat`` interleaved runs, with CPU seconds beside: the machine may be
shared) and their ratio. Run: ``python bench/bench_assemble.py [--clips N] [--seconds S] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from storyreel.generators.assemble_moviepy import MoviePyAssembler
from storyreel.generators.base import AssembleRequest
from storyreel.media import ffmpeg_exe, probe, write_video, write_wav

WIDTH, HEIGHT, FPS = 1280, 720, 24
AUDIO_RATE = 48_000


def make_clip(out: Path, frames: int, seed: int) -> None:
    """A clip with picture-book-like moving content: soft colour fields panning, a shape crossing."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0 : WIDTH * 2].astype(np.float32)
    fx, fy = rng.uniform(0.004, 0.012, size=2)
    base = np.stack(
        [
            127 + 100 * np.sin(x * fx + c) * np.cos(y * fy - c)
            for c in rng.uniform(0, np.pi, size=3)  # one phase per colour channel
        ],
        axis=-1,
    ).astype(np.uint8)

    def frames_of() -> Iterator[np.ndarray]:
        for i in range(frames):
            shift = (i * 6) % WIDTH  # pan: the picture moves every frame
            frame = np.ascontiguousarray(base[:, shift : shift + WIDTH])
            cx = 100 + (i * 14) % (WIDTH - 300)
            frame[300:420, cx : cx + 160] = (250, 230, 60)
            yield frame

    write_video(frames_of(), out, FPS, WIDTH, HEIGHT)


def make_audio(out: Path, seconds: float) -> None:
    """A quiet chord, so the AAC encoder has real work."""
    t = np.arange(round(seconds * AUDIO_RATE)) / AUDIO_RATE
    tone = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    write_wav(out, np.stack([tone, tone], axis=1), AUDIO_RATE)


def floor_command(request: AssembleRequest, listing: Path, out: Path, crf: int, preset: str) -> list[str]:
    """One ffmpeg process: concat demuxer in, the assembler's encoding settings out."""
    end = request.duration - request.fade
    return [
        ffmpeg_exe(), "-y", "-v", "error",
        "-f", "concat", "-safe", "0", "-i", str(listing),
        "-i", str(request.audio),
        "-vf", f"fade=t=in:d={request.fade},fade=t=out:st={end}:d={request.fade}",
        "-t", f"{request.duration:.6f}",
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "192k",
        "-movflags", "+faststart", str(out),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=10, help="number of clips (default 10)")
    parser.add_argument("--seconds", type=float, default=30.0, help="total length (default 30)")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of each, best kept (default 2)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-assemble-") as tmp:
        work = Path(tmp)
        total_frames = round(args.seconds * FPS)
        per_clip = [total_frames // args.clips + (i < total_frames % args.clips) for i in range(args.clips)]
        started = time.perf_counter()
        clips = []
        for i, frames in enumerate(per_clip):
            clips.append(work / f"clip{i:02d}.mp4")
            make_clip(clips[-1], frames, seed=i)
        make_audio(work / "mix.wav", total_frames / FPS)
        print(f"inputs: {args.clips} clips, {total_frames} frames at {WIDTH}x{HEIGHT} {FPS} fps, "
              f"made in {time.perf_counter() - started:.1f} s")  # fmt: skip

        request = AssembleRequest(
            clips=clips, audio=work / "mix.wav", fps=FPS, width=WIDTH, height=HEIGHT,
            duration=total_frames / FPS, fade=0.5,
        )  # fmt: skip
        assembler = MoviePyAssembler()
        options = assembler.options
        listing = work / "clips.txt"
        listing.write_text("".join(f"file '{clip}'\n" for clip in clips))
        floor = floor_command(request, listing, work / "floor.mp4", options.crf, options.preset)

        # interleaved, best of --repeat: on a shared machine the minimum is the least disturbed run
        timings: dict[str, list[tuple[float, float]]] = {"moviepy": [], "floor": []}
        for _ in range(args.repeat):
            timings["moviepy"].append(timed(lambda: assembler.assemble(request, work / "moviepy.mp4")))
            timings["floor"].append(timed(lambda: subprocess.run(floor, check=True)))

        for name in ("moviepy.mp4", "floor.mp4"):
            streams = {s["codec_type"]: s for s in probe(work / name)["streams"]}
            print(f"{name:12s} video {float(streams['video']['duration']):.3f} s "
                  f"audio {float(streams['audio']['duration']):.3f} s  "
                  f"{(work / name).stat().st_size / 1e6:.1f} MB")  # fmt: skip
        threads = options.threads or "auto"
        print(f"settings: libx264 preset={options.preset} crf={options.crf} threads={threads}, "
              f"{os.cpu_count()} CPUs, best of {args.repeat}")  # fmt: skip
        (moviepy_s, moviepy_cpu), (floor_s, floor_cpu) = (min(timings[k]) for k in ("moviepy", "floor"))
        print(f"moviepy assemble: {moviepy_s:6.2f} s wall  ({moviepy_cpu:.1f} s CPU)")
        print(f"ffmpeg floor:     {floor_s:6.2f} s wall  ({floor_cpu:.1f} s CPU)")
        print(f"ratio moviepy/floor: {moviepy_s / floor_s:.2f}")


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (this process and its ffmpeg children) of one call."""
    cpu_before, started = cpu_seconds(), time.perf_counter()
    run()
    return time.perf_counter() - started, cpu_seconds() - cpu_before


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
