"""The tiny profile end to end: ``storyreel make … --profile tiny`` runs the gpu profile's real model classes
(FLUX.2 [klein] + CLIP critic, LTX-Video keyframes and interpolation, Kokoro, MusicGen, Stable Audio) at tiny
sizes on the CPU, every model built by the architecture factory on first use into ``$STORYREEL_CACHE``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyreel import architectures, runtime
from storyreel.media import probe
from storyreel.timeline import Timeline

from .conftest import story_answers  # noqa: TID252

pytestmark = pytest.mark.slow  # about two minutes here (2 busy cores), most of it building and loading models


@pytest.fixture(scope="module")
def tiny_film(tmp_path_factory: pytest.TempPathFactory):
    """One film through the command line on the tiny profile, the models built into an empty cache."""
    from storyreel.cli import app

    folder = tmp_path_factory.mktemp("tiny")
    answers = folder / "answers.json"
    answers.write_text(json.dumps(story_answers(pages=2)))
    cache = folder / "cache"
    patch = pytest.MonkeyPatch()
    patch.setenv("STORYREEL_CACHE", str(cache))
    args = ["make", "A little dragon", "--profile", "tiny", "--set", f"llm.model=scripted:{answers}"]
    started = time.perf_counter()
    try:
        with runtime.threads(1):
            result = CliRunner().invoke(app, [*args, "--out", str(folder / "runs")])
    finally:
        patch.undo()
        runtime.release()
    seconds = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    run = Path(next(line for line in result.output.splitlines() if line.startswith("run directory: ")).split(": ")[1])
    return run, cache, seconds


def test_the_tiny_profile_makes_a_valid_film(tiny_film):
    run, _, seconds = tiny_film
    streams = {s["codec_type"]: s for s in probe(run / "film.mp4")["streams"]}
    video, audio = streams["video"], streams["audio"]
    wanted = {"codec_name": "h264", "pix_fmt": "yuv420p", "width": 128, "height": 72, "r_frame_rate": "24/1"}
    assert {key: video[key] for key in wanted} == wanted and audio["codec_name"] == "aac"
    duration = Timeline.model_validate_json((run / "timeline.json").read_text()).duration
    assert abs(float(video["duration"]) - duration) <= 1 / 24 + 1e-3  # picture, voice and timeline agree
    assert abs(float(audio["duration"]) - float(video["duration"])) <= 1 / 24 + 0.05
    assert seconds < 240, f"the tiny profile took {seconds:.0f} s"


def test_every_stage_ran_a_real_model_class_built_locally(tiny_film):
    run, cache, _ = tiny_film
    config = json.loads((run / "config.json").read_text())
    assert config["profile"] == "tiny"
    used = {k: config[k]["backend"] for k in ("image", "video", "narration", "music", "sfx")}
    assert used == {
        "image": "diffusers",
        "video": "ltx",
        "narration": "kokoro",
        "music": "musicgen",
        "sfx": "stable-audio",
    }
    built = sorted(p.name for p in (cache / "tiny").iterdir())
    version = architectures.VERSION
    assert built == sorted(f"{n}-v{version}" for n in ("clip", "flux2", "kokoro", "ltx", "musicgen", "stable-audio"))
    manifest = json.loads((run / "manifest.json").read_text())["assets"].values()
    images = [a for a in manifest if a["kind"] == "image"]
    assert len(images) == 2 and all(a["meta"]["tries"] and "score" in a["meta"] for a in images)  # the critic ran
    kinds = {a["kind"] for a in manifest}
    assert {"image", "keyframes", "clip", "narration", "music", "sfx", "film"} <= kinds, kinds
