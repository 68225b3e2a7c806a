"""GPU smoke benchmark: the ``gpu`` profile's video models at their real sizes, random weights, no download.

Builds the architectures of the video backends from their published configs (``storyreel.architectures``:
LTX-Video 0.9.7 dev - 13B transformer, VAE, T5-XXL; Wan 2.1 FLF2V 14B - transformer, VAE, UMT5-XXL, CLIP
ViT-H/14) with random weights, in bf16 on CUDA, and runs them through storyreel's own backends: one page's keyframes and
its interpolation, and one page-to-page transition, at the profile's film size and frame rate and each model's
own generation size. Per clip it records the seconds, the frames made per second and the peak VRAM
(``torch.cuda.max_memory_allocated``), and appends them with the card's name and the date to
``docs/benchmarks.md``. Random weights make noise, not pictures: this measures time and memory, not quality.

    python bench/gpu_smoke.py                        # both backends, their default steps (a CUDA GPU)
    python bench/gpu_smoke.py --backends ltx --steps 8
    make gpu-smoke ARGS="--steps 8"

Without CUDA it stops with a message. ``--scale`` shrinks every width and depth (layers, heads, channels) to
check the script itself on a CPU: ``python bench/gpu_smoke.py --scale 0.02 --size 64x32 --seconds 1 --steps 1``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from storyreel import architectures, runtime
from storyreel.config import load_config
from storyreel.generators.base import InterpolationRequest, KeyframeRequest
from storyreel.media import probe
from storyreel.timeline import keyframe_indices

ROOT = Path(__file__).resolve().parents[1]


# --- running -------------------------------------------------------------------------------------------


def backends(name: str, options: dict[str, Any]) -> tuple[Any, Any]:
    if name == "ltx":
        from storyreel.generators.video_ltx import LTXInterpolator, LTXKeyframes, LTXOptions

        opts = LTXOptions(**options)
        return LTXKeyframes(opts), LTXInterpolator(opts)
    from storyreel.generators.video_wan import WanInterpolator, WanKeyframes, WanOptions

    opts = WanOptions(**options)
    return WanKeyframes(opts), WanInterpolator(opts)


def measure(device: str, run: Callable[[], None]) -> tuple[float, float | None]:
    """Seconds, and peak GPU memory in GiB (None on the CPU), of ``run()``."""
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    run()
    if device == "cuda":
        torch.cuda.synchronize()
        return time.perf_counter() - start, torch.cuda.max_memory_allocated() / 2**30
    return time.perf_counter() - start, None


def bench_backend(name: str, args: argparse.Namespace, device: str, work: Path) -> list[dict[str, Any]]:
    """Build one backend's pipeline, then time a page's keyframes and clip and one transition."""
    import torch

    config, _ = load_config("gpu", [])
    video = config.video
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    options: dict[str, Any] = {"model": f"random:{name}", "offload": "none"}
    if args.steps:
        options["steps"] = args.steps
    if args.size:
        options["width"], options["height"] = (int(v) for v in args.size.lower().split("x"))
    keyframer, interpolator = backends(name, options)

    # 1. the architecture at its published size (or --scale), random weights, on the device
    started = time.perf_counter()
    pipe = architectures.model(name, args.scale, device, dtype)
    built = time.perf_counter() - started
    loaded = keyframer.ready(pipe)
    for backend in (keyframer, interpolator):  # hand the backends this pipeline instead of a download
        backend._load = lambda: loaded
    width, height = loaded.size
    params = sum(p.numel() for m in pipe.components.values() if isinstance(m, torch.nn.Module) for p in m.parameters())
    print(f"{name}: built {params / 1e9:.2f}B parameters in {built:.0f} s; generating at {width}x{height}", flush=True)

    # 2. a page: keyframes at the keyframe rate, then every frame between them
    frames = round(args.seconds * video.fps)
    indices = keyframe_indices(frames, video.keyframe_spacing)
    illustration = work / "page.png"
    gradient = np.linspace(0, 255, video.width, dtype=np.float32)[None, :, None] * np.ones((video.height, 1, 3))
    Image.fromarray(gradient.astype(np.uint8)).save(illustration)
    size = {"width": video.width, "height": video.height, "fps": video.fps}
    kf_request = KeyframeRequest(image=illustration, prompt="a small dragon walks", indices=indices, seed=1, **size)
    seconds, peak = measure(device, lambda: keyframer.keyframes(kf_request, work / f"{name}-kf"))
    rows = [row(name, f"keyframes ({len(indices)})", len(indices), seconds, peak)]
    files = sorted((work / f"{name}-kf").glob("k*.png"))
    clip = InterpolationRequest(keyframes=files, indices=indices, num_frames=frames, seed=2, **size)
    seconds, peak = measure(device, lambda: interpolator.interpolate(clip, work / f"{name}-page.mp4"))
    rows.append(row(name, f"page clip ({args.seconds:g} s)", frames, seconds, peak))

    # 3. a transition from the page's last keyframe to the next page's first (here: its own first)
    count = round(video.transition * video.fps)
    ends = InterpolationRequest(keyframes=[files[-1], files[0]], indices=[0, count - 1], num_frames=count, **size)
    seconds, peak = measure(device, lambda: interpolator.interpolate(ends, work / f"{name}-transition.mp4"))
    rows.append(row(name, f"transition ({video.transition:g} s)", count, seconds, peak))
    for made in ("page", "transition"):  # the clips are real H.264 at the film size
        stream = probe(work / f"{name}-{made}.mp4")["streams"][0]
        assert (stream["width"], stream["height"]) == (video.width, video.height), stream

    runtime.release()  # the next backend gets the whole card
    return [{**r, "steps": keyframer.options.steps, "size": f"{width}x{height}"} for r in rows]


def row(backend: str, clip: str, frames: int, seconds: float, peak: float | None) -> dict[str, Any]:
    return {"backend": backend, "clip": clip, "frames": frames, "seconds": seconds, "peak": peak}


def report(rows: list[dict[str, Any]], device: str, args: argparse.Namespace) -> str:
    import diffusers
    import torch

    card = torch.cuda.get_device_name(0) if device == "cuda" else "CPU"
    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    scale = "" if args.scale == 1 else f", widths and depths x{args.scale:g} (a script check, not a benchmark)"
    lines = [
        f"### {when}: {card}",
        "",
        f"torch {torch.__version__}, diffusers {diffusers.__version__}; random weights at the published sizes"
        f"{scale}; film 1280x720 at 24 fps (the gpu profile).",
        "",
        "| backend | clip | frames | steps | generated at | seconds | frames/s | peak VRAM (GiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        peak = f"{r['peak']:.1f}" if r["peak"] is not None else "-"
        lines.append(
            f"| {r['backend']} | {r['clip']} | {r['frames']} | {r['steps']} | {r['size']} | {r['seconds']:.1f} | "
            f"{r['frames'] / r['seconds']:.2f} | {peak} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="ltx,wan", help="comma-separated: ltx, wan")
    parser.add_argument("--steps", type=int, default=0, help="denoising steps (0: each backend's default)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of the page")
    parser.add_argument("--size", default="", help="generation size WxH (default: each backend's own)")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink widths and depths (CPU check of the script)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="file the results go to")
    parser.add_argument("--no-write", action="store_true", help="print the results only")
    args = parser.parse_args(argv)

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and args.scale >= 1:
        print(
            "bench/gpu_smoke.py needs a CUDA GPU: torch sees none here. It builds 13-14B models at their real "
            "size. To check the script itself on a CPU: python bench/gpu_smoke.py --scale 0.02 --size 64x32 "
            "--seconds 1 --steps 1 --no-write",
            file=sys.stderr,
        )
        return 2
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    unknown = [n for n in names if n not in ("ltx", "wan")]
    if unknown:
        parser.error(f"unknown backend(s) {unknown}: choose from ltx, wan")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="gpu-smoke-") as tmp:
        for name in names:
            rows += bench_backend(name, args, device, Path(tmp))
            gc.collect()
            if device == "cuda":
                torch.cuda.empty_cache()
    text = report(rows, device, args)
    print(text)
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if not args.out.exists():
            args.out.write_text("# Benchmarks\n\n", encoding="utf-8")
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)
        print(f"appended to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
