"""Time the film from segments against the floor: one ffmpeg command that encodes the same film.

Builds a synthetic 1280x720 24 fps film in a temp dir: ``--pages`` page clips with moving content and the
0.75 s transitions between them (about 30 s in all), and a WAV as long. Then times, in one run:

  (a) the floor: a single ffmpeg command with the concat demuxer over the clips, the same libx264 settings,
      the same fades and AAC audio; what encoding the film costs with no Python in the frame path;
  (b) the first assembly: every segment encoded by ``MoviePySegmentEncoder`` (two at a time, as the flow's
      thread runner does by default), then joined with the mix by ``MoviePyAssembler``;
  (c) a re-assembly after a one-page change: page 3's new clip encoded as its segment, then the join;

and prints each time (best of ``--repeat`` interleaved runs, with CPU seconds beside: the machine may be
shared) and each ratio to the floor. Run: ``python bench/bench_assemble.py [--pages N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from storyreel.generators.assemble_moviepy import MoviePyAssembler, MoviePySegmentEncoder
from storyreel.generators.base import AssembleRequest, SegmentRequest
from storyreel.media import ffmpeg_exe, probe, write_video, write_wav, x264_options

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


def floor_command(listing: Path, audio: Path, frames: int, fade: int, out: Path, crf: int, preset: str) -> list[str]:
    """One ffmpeg process: concat demuxer in, the segments' encoding settings and fades out, AAC audio."""
    return [
        ffmpeg_exe(), "-y", "-v", "error",
        "-f", "concat", "-safe", "0", "-i", str(listing),
        "-i", str(audio),
        "-vf", f"fade=t=in:s=0:n={fade},fade=t=out:s={frames - 1 - fade}:n={fade}",
        "-frames:v", str(frames), "-t", f"{frames / FPS:.6f}",
        "-c:v", "libx264", "-preset", preset, *x264_options(preset), "-crf", str(crf), "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "192k",
        "-movflags", "+faststart", str(out),
    ]  # fmt: skip


def encode_all(requests: list[SegmentRequest], outs: list[Path], workers: int = 2) -> None:
    """Every segment, ``workers`` at a time (the flow's thread runner runs two tasks at once by default)."""
    encoder = MoviePySegmentEncoder()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(encoder.encode, requests, outs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=6, help="pages of the film (default 6)")
    parser.add_argument("--page-seconds", type=float, default=4.4, help="seconds per page (default 4.4)")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of each, best kept (default 2)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-assemble-") as tmp:
        work = Path(tmp)
        # 1. the film's pieces: pages of slightly different lengths, 18-frame transitions between them
        lengths: list[int] = []
        for page in range(args.pages):
            lengths.append(round(args.page_seconds * FPS) + 5 * (page % 3) - 5)
            if page < args.pages - 1:
                lengths.append(18)
        frames = sum(lengths)
        started = time.perf_counter()
        clips = [work / f"clip{i:02d}.mp4" for i in range(len(lengths))]
        for i, (clip, count) in enumerate(zip(clips, lengths, strict=True)):
            make_clip(clip, count, seed=i)
        changed = work / "clip-page3-new.mp4"  # page 3 (the fifth piece) drawn again, as a revision would
        make_clip(changed, lengths[4], seed=99)
        make_audio(work / "mix.wav", frames / FPS)
        made_in = time.perf_counter() - started
        print(f"inputs: {args.pages} pages and {args.pages - 1} transitions, {frames} frames "
              f"({frames / FPS:.1f} s) at {WIDTH}x{HEIGHT} {FPS} fps, made in {made_in:.1f} s")  # fmt: skip

        fade = 0.5
        requests = [
            SegmentRequest(
                clip=clip,
                fps=FPS,
                width=WIDTH,
                height=HEIGHT,
                frames=count,
                fade_in=fade if i == 0 else 0.0,
                fade_out=fade if i == len(clips) - 1 else 0.0,
            )  # fmt: skip
            for i, (clip, count) in enumerate(zip(clips, lengths, strict=True))
        ]
        segments = [work / f"segment{i:02d}.mp4" for i in range(len(clips))]
        film = AssembleRequest(
            segments=segments, audio=work / "mix.wav", fps=FPS, width=WIDTH, height=HEIGHT, frames=frames
        )
        revised_request = requests[4].model_copy(update={"clip": changed})
        revised_segment = work / "segment04-new.mp4"
        revised = film.model_copy(update={"segments": [*segments[:4], revised_segment, *segments[5:]]})
        encoder, assembler = MoviePySegmentEncoder(), MoviePyAssembler()
        listing = work / "clips.txt"
        listing.write_text("".join(f"file '{clip}'\n" for clip in clips))
        options = encoder.options
        floor = floor_command(
            listing, work / "mix.wav", frames, round(fade * FPS), work / "floor.mp4", options.crf, options.preset
        )

        def first_assembly() -> None:
            encode_all(requests, segments)
            assembler.assemble(film, work / "film.mp4")

        def re_assembly() -> None:
            encoder.encode(revised_request, revised_segment)
            assembler.assemble(revised, work / "film-revised.mp4")

        # 2. interleaved, best of --repeat: on a shared machine the minimum is the least disturbed run
        timings: dict[str, list[tuple[float, float]]] = {"floor": [], "first": [], "again": []}
        for _ in range(args.repeat):
            timings["floor"].append(timed(lambda: subprocess.run(floor, check=True)))
            timings["first"].append(timed(first_assembly))
            timings["again"].append(timed(re_assembly))

        # 3. what came out, and the figures
        for name in ("floor.mp4", "film.mp4", "film-revised.mp4"):
            streams = {s["codec_type"]: s for s in probe(work / name)["streams"]}
            video, audio = streams["video"], streams["audio"]
            print(f"{name:17s} {video['nb_frames']} frames, video {float(video['duration']):.3f} s "
                  f"audio {float(audio['duration']):.3f} s  {(work / name).stat().st_size / 1e6:.1f} MB")  # fmt: skip
        threads = options.threads or "auto"
        print(f"settings: libx264 preset={options.preset} crf={options.crf} threads={threads}, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, best of {args.repeat}")  # fmt: skip
        (floor_s, floor_cpu), (first_s, first_cpu), (again_s, again_cpu) = (
            min(timings[k]) for k in ("floor", "first", "again")
        )
        print(f"ffmpeg floor (one encode):        {floor_s:6.2f} s wall  ({floor_cpu:.1f} s CPU)")
        print(f"first assembly (all segments):    {first_s:6.2f} s wall  ({first_cpu:.1f} s CPU)")
        print(f"re-assembly after a page changed: {again_s:6.2f} s wall  ({again_cpu:.1f} s CPU)")
        print(f"ratio first assembly / floor: {first_s / floor_s:.2f} wall, {first_cpu / floor_cpu:.2f} CPU")
        print(f"ratio re-assembly / floor:    {again_s / floor_s:.2f} wall, {again_cpu / floor_cpu:.2f} CPU (goal 0.3)")


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
