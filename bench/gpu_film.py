"""GPU film benchmark: a whole gpu-profile film at real sizes from the published configs, random weights, no download.

The film's steps in the flow's order, through storyreel's own backends and timeline (Prefect itself does not
travel): narration per page, the timeline, keyframes per page and the frames between them with their sound
(LTX-2: 19B audio-video transformer + Gemma 3 12B, ``storyreel.architectures``), page-to-page transitions, each
page's sound from its clip, one music cue over the film (ACE-Step 1.5), the mix, the segments and the film. It
prints the seconds and peak VRAM of each stage and the headline: **seconds of film per GPU-minute** (the film's
length over the minutes the stages took on the one GPU; building the random weights is shown apart). Random
weights make noise, not pictures: this measures time and memory, not quality.

    python bench/gpu_film.py --quick        # one 5 s page, under 4 minutes on an H100/H200 class card
    python bench/gpu_film.py                # four pages with transitions and music
    python bench/gpu_film.py --tiny         # the tiny models on a CPU: the script itself, in a minute or two

What it leaves out, and says so: the illustrations are drawn gradients (the factory has no real-size FLUX.2
[klein] yet), and narration is espeak-ng (Kokoro needs its own packages) or, without espeak, fixed page lengths.

It needs torch, transformers, accelerate, numpy, scipy, opencv and pillow (on the lent machine) and diffusers,
pydantic, moviepy, imageio-ffmpeg, pyloudnorm (carried as wheels: ``bench/fetch_gpu_wheels.sh``); it imports no
Prefect, LangChain or pydantic-settings. Run from a checkout that is not installed: the ``storyreel.*`` folders
are mounted from the tree (``mount``). On CUDA the figures are appended to ``docs/benchmarks.md``
(``--out``); ``--json`` writes them as JSON too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("prefect", "langchain", "langchain_core", "pydantic_settings")  # what must not travel


def mount() -> None:
    """Make ``storyreel`` and its mapped folders (generators -> storyreel.generators) importable from this tree
    when storyreel is not installed (the lent GPU machine)."""
    try:
        import storyreel.generators  # noqa: F401

        return
    except ImportError:
        pass
    sys.path.insert(0, str(ROOT))
    import storyreel

    for folder in ("generators", "agents"):  # not flows: importing it prepares Prefect, which is not there
        name = f"storyreel.{folder}"
        spec = importlib.util.spec_from_file_location(
            name, ROOT / folder / "__init__.py", submodule_search_locations=[str(ROOT / folder)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        setattr(storyreel, folder, module)


# --- measuring -----------------------------------------------------------------------------------------


class Stages:
    """Seconds and peak GPU memory per stage."""

    def __init__(self, device: str):
        self.device, self.rows = device, []

    def run(self, stage: str, work: Callable[[], Any]) -> Any:
        import torch

        cuda = self.device == "cuda"
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        result = work()
        if cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else None
        self.rows.append({"stage": stage, "seconds": round(seconds, 2), "peak_gib": peak and round(peak, 1)})
        print(f"  {stage:<34} {seconds:8.1f} s" + (f"  {peak:6.1f} GiB" if peak is not None else ""), flush=True)
        return result


def gradient(path: Path, width: int, height: int, shade: int) -> Path:
    import numpy as np
    from PIL import Image

    ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None] * np.ones((height, 1, 3), np.float32)
    ramp[..., shade % 3] = 255 - ramp[..., shade % 3]
    Image.fromarray(ramp.astype(np.uint8)).save(path)
    return path


# --- the film --------------------------------------------------------------------------------------------


TEXT = [
    "A little dragon woke up early and looked at the shining sea.",
    "She flew over the hills, where the wind sang in the tall grass.",
    "At the harbour a fox was mending a small red boat.",
    "Together they sailed out until the stars came up, one by one.",
]


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """Film size, model sizes and options for the mode asked."""
    if args.tiny:
        video = {"model": "", "width": 32, "height": 32, "schedule": "full", "steps": 2, "guidance": 1.0,
                 "max_frames": 33, "condition_crf": 0, "max_sequence_length": 16}  # fmt: skip
        return {"size": "tiny", "film": (128, 72), "pages": args.pages or 2, "page_seconds": 1.0, "video": video,
                "music": {"model": "", "steps": 2, "max_text_length": 32}, "transition": 0.25}  # fmt: skip
    # built on the card already: no offload; the window and VAE tiling auto-tuned from the memory left
    video = {"model": "", "width": 768, "height": 512, "schedule": "distilled", "max_frames": "auto",
             "condition_crf": 0, "offload": "none", "vae_tiling": "auto"}  # fmt: skip
    if args.cache != "none":
        video["cache"] = args.cache
    if args.fp8:
        video["fp8"] = True
    pages = args.pages or (1 if args.quick else 4)
    return {"size": args.scale or "real", "film": (768, 512), "pages": pages,
            "page_seconds": 5.0 if args.quick else 6.0, "video": video,
            "music": {"model": "", "offload": "none"}, "transition": 0.0 if args.quick else 0.75}  # fmt: skip


def make_film(args: argparse.Namespace, device: str, work: Path) -> dict[str, Any]:
    import torch

    from storyreel import architectures, runtime
    from storyreel.generators import assemble_moviepy, mix, video_ltx2
    from storyreel.generators.base import (
        AssembleRequest,
        InterpolationRequest,
        KeyframeRequest,
        MusicRequest,
        SegmentRequest,
        SpeechRequest,
    )
    from storyreel.generators.music_acestep import AceStepComposer
    from storyreel.media import probe
    from storyreel.timeline import build_timeline, keyframe_indices

    s = settings(args)
    width, height = s["film"]
    fps, spacing, pages = 24, 8, s["pages"]
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    size: Any = "tiny" if args.tiny else (args.scale or "real")
    stages = Stages(device)
    print(f"gpu film: {pages} page(s) at {width}x{height}, {fps} fps, models {size} on {device}", flush=True)

    # 1. the models, random weights, on the device (shown apart: a real run loads them instead)
    def build(name: str) -> Any:
        made = architectures.model(name, size, device, dtype) if size != "tiny" else architectures.model(name)
        return made.to(device) if size == "tiny" else made

    ltx2 = stages.run("build LTX-2", lambda: build("ltx2"))
    opts = video_ltx2.LTX2Options(**{**s["video"], "model": "random:ltx2"})
    keyframer, interpolator = video_ltx2.LTX2Keyframes(opts), video_ltx2.LTX2Interpolator(opts)
    loaded = keyframer.ready(ltx2)
    tuned = loaded.extra["tuned"]
    print(f"  auto-tune: {tuned}", flush=True)
    for backend in (keyframer, interpolator):  # the built pipeline instead of a download
        backend._load = lambda: loaded
    built = [dict(r) for r in stages.rows]
    stages.rows.clear()

    # 2. narration per page (espeak-ng on the CPU, when it is here), then the timeline
    spoken: list[tuple[str, float]] = []
    narrator: Any = None
    if importlib.util.find_spec("espeakng_loader") is not None:
        from storyreel.generators.narration_espeak import EspeakNarrator

        narrator = EspeakNarrator()
    voices: list[Path] = []
    texts = [TEXT[i % len(TEXT)] for i in range(pages)]

    def narrate() -> None:
        from storyreel.media import read_wav

        for number, text in enumerate(texts, start=1):
            if narrator is None:  # fixed page lengths: the film's length is still the timeline's
                spoken.append((text, s["page_seconds"]))
                continue
            out = work / f"narration-{number}.wav"
            narrator.speak(SpeechRequest(text=text, seed=number), out)
            samples, rate = read_wav(out)
            voices.append(out)
            spoken.append((text, min(len(samples) / rate, s["page_seconds"])))

    stages.run("narration (espeak, CPU)" if narrator else "narration (none here)", narrate)
    lead = max(0.0, s["page_seconds"] - max(sec for _, sec in spoken)) / 2
    timeline = build_timeline(spoken, fps=fps, lead_in=lead, tail=lead, transition=s["transition"], min_page=1.0)
    print(f"  timeline: {timeline.duration:.2f} s of film, {len(timeline.segments)} segments", flush=True)

    # 3. keyframes per page, 4. each page's frames and sound, 5. the transitions
    common = {"width": width, "height": height, "fps": fps}
    keyframes: dict[int, list[Path]] = {}
    clips: dict[tuple[str, int], Path] = {}
    for number in range(1, pages + 1):
        segment = timeline.page(number)
        indices = keyframe_indices(segment.frames, spacing)
        image = gradient(work / f"page-{number}.png", width, height, number)
        request = KeyframeRequest(image=image, prompt="a small dragon flies", indices=indices, seed=number, **common)
        folder = work / f"kf-{number}"
        stages.run(f"keyframes p{number} ({len(indices)})", lambda r=request, f=folder: keyframer.keyframes(r, f))
        keyframes[number] = sorted(folder.glob("k*.png"))
        clip = InterpolationRequest(
            keyframes=keyframes[number], indices=indices, num_frames=segment.frames, seed=number, **common
        )
        out = work / f"clip-{number}.mp4"
        stages.run(
            f"clip p{number} ({segment.frames} frames + sound)", lambda c=clip, o=out: interpolator.interpolate(c, o)
        )
        clips[("page", number)] = out
    for seg in (s for s in timeline.segments if s.kind == "transition"):
        ends = [keyframes[seg.page][-1], keyframes[seg.page + 1][0]]
        request = InterpolationRequest(keyframes=ends, indices=[0, seg.frames - 1], num_frames=seg.frames, **common)
        out = work / f"transition-{seg.page}.mp4"
        stages.run(
            f"transition {seg.page}-{seg.page + 1} ({seg.frames})",
            lambda r=request, o=out: interpolator.interpolate(r, o),
        )
        clips[("transition", seg.page)] = out
    runtime.release()
    ltx2 = loaded = keyframer = interpolator = None  # its memory back before the music
    if device == "cuda":
        torch.cuda.empty_cache()

    # 6. the pages' sounds from their clips; 7. one music cue over the film
    sounds: list[dict[str, Any]] = []

    def page_sounds() -> None:
        for number in range(1, pages + 1):
            out = work / f"sound-{number}.wav"
            if video_ltx2.clip_sound(clips[("page", number)], out, timeline.page_duration(number)):
                sounds.append({"path": out, "start": timeline.page_start(number)})

    stages.run("page sounds from the clips", page_sounds)
    ace = stages.run("build ACE-Step", lambda: build("ace-step"))
    built.append(stages.rows.pop())  # shown apart, with the other builds
    composer = AceStepComposer(AceStepComposer.Options(**{**s["music"], "model": "random:ace-step"}))
    runtime.place(ace, composer.options, "music.options")
    composer._load = lambda: ace
    span = timeline.music_span(1, pages)
    cue = MusicRequest(mood="gentle", prompt="a small orchestra, flutes and strings", duration=span.duration, seed=3)
    stages.run(f"music ({span.duration:.1f} s)", lambda: composer.compose(cue, work / "music.wav"))
    runtime.release()
    ace = composer = None
    if device == "cuda":
        torch.cuda.empty_cache()

    # 8. the mix, 9. the segments and the film
    def mixdown() -> Path:
        voice = [{"path": v, "start": c.start} for v, c in zip(voices, timeline.narration, strict=False)]
        stems = {}
        for name, items in (("narration", voice), ("music", [{"path": work / "music.wav", "start": span.start}]),
                            ("sfx", sounds)):  # fmt: skip
            if items:
                stems[name] = work / f"stem-{name}.wav"
                mix.render_stem([mix.Placement.model_validate(i) for i in items], timeline.duration, stems[name])
        if "narration" not in stems:  # the master ducks the music under a narration stem: give it a silent one
            stems["narration"] = work / "stem-narration.wav"
            mix.render_stem([], timeline.duration, stems["narration"])
        mix.master(stems["narration"], stems.get("music"), stems.get("sfx"), work / "mix.wav")
        return work / "mix.wav"

    audio = stages.run("mix", mixdown)
    encoder, assembler = assemble_moviepy.MoviePySegmentEncoder(), assemble_moviepy.MoviePyAssembler()

    def film() -> Path:
        segments = []
        for number, seg in enumerate(timeline.segments):
            out = work / f"segment-{number:02d}.mp4"
            encoder.encode(SegmentRequest(clip=clips[(seg.kind, seg.page)], frames=seg.frames, **common), out)
            segments.append(out)
        total = sum(seg.frames for seg in timeline.segments)
        assembler.assemble(AssembleRequest(segments=segments, audio=audio, frames=total, **common), work / "film.mp4")
        return work / "film.mp4"

    path = stages.run("segments and film", film)
    streams = {st["codec_type"]: st for st in probe(path)["streams"]}
    seconds = sum(r["seconds"] for r in stages.rows)
    return {
        "mode": "tiny" if args.tiny else ("quick" if args.quick else "full"),
        "device": device,
        "card": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "date": dt.date.today().isoformat(),
        "film_seconds": round(timeline.duration, 2),
        "film": f"{streams['video']['width']}x{streams['video']['height']}, {streams['video']['nb_frames']} frames, "
        f"{streams['audio']['codec_name']} sound",
        "generation": f"{loaded_size(s)} LTX-2 ({s['video']['schedule']}), ACE-Step; "
        f"cache {s['video'].get('cache', 'none')}, fp8 {s['video'].get('fp8', False)}",
        "auto_tune": tuned,
        "build": built,
        "stages": stages.rows,
        "stage_seconds": round(seconds, 1),
        "film_seconds_per_gpu_minute": round(timeline.duration / (seconds / 60), 2),
        "peak_gib": max((r["peak_gib"] or 0 for r in stages.rows), default=None) if device == "cuda" else None,
        "imported": sorted({m.split(".")[0] for m in sys.modules} & {*FORBIDDEN, "diffusers", "pydantic", "moviepy"}),
    }


def loaded_size(s: dict[str, Any]) -> str:
    return f"{s['video']['width']}x{s['video']['height']}"


# --- report ----------------------------------------------------------------------------------------------


def report(result: dict[str, Any]) -> str:
    lines = [
        f"### gpu_film.py {result['mode']} — {result['card']}, {result['date']}",
        "",
        f"Film: {result['film_seconds']} s ({result['film']}); generation at {result['generation']}.",
        f"Auto-tune: {result['auto_tune']}.",
        "",
        "| stage | seconds | peak VRAM (GiB) |",
        "|---|---|---|",
    ]
    for r in [*result["build"], *result["stages"]]:
        lines.append(f"| {r['stage']} | {r['seconds']} | {r['peak_gib'] if r['peak_gib'] is not None else '—'} |")
    lines += [
        "",
        f"**{result['film_seconds_per_gpu_minute']} seconds of film per GPU-minute** ({result['stage_seconds']} s of "
        "stages; building the random weights not counted).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one 5 s page, no transition (under 4 minutes)")
    parser.add_argument("--tiny", action="store_true", help="the tiny models on any device (checks the script)")
    parser.add_argument("--pages", type=int, default=0, help="pages of the film (default: 1 quick, 4 full)")
    parser.add_argument("--scale", type=float, default=0.0, help="shrink the real models (widths and depths)")
    parser.add_argument("--cache", default="none", choices=["none", "first-block", "mag", "taylor"])
    parser.add_argument("--fp8", action="store_true", help="the transformer's weights in FP8 (Ada/Hopper)")
    parser.add_argument("--out", type=Path, help="markdown file to append the figures to (CUDA default: docs)")
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)

    mount()
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and not (args.tiny or args.scale):
        print("gpu_film.py needs a CUDA GPU at real sizes; --tiny (or --scale) checks it on a CPU", file=sys.stderr)
        return 2
    from storyreel import runtime

    with (
        tempfile.TemporaryDirectory(prefix="storyreel-gpu-film-") as tmp,
        runtime.threads(torch.get_num_threads() if device == "cuda" else 1),
    ):
        result = make_film(args, device, Path(tmp))
    text = report(result)
    print("\n" + text)
    out = args.out or (ROOT / "docs" / "benchmarks.md" if device == "cuda" else None)
    if out is not None:
        with out.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    forbidden = [m for m in FORBIDDEN if m in sys.modules]
    if forbidden:
        print(f"imported what the GPU machine does not have: {', '.join(forbidden)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
