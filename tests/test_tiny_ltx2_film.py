"""The whole flow on the tiny profile with LTX-2 (keyframes, interpolation and each clip's own sound as the page's
sound): a valid film whose page sounds are on the timeline at their pages, with their pages' lengths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyreel import runtime
from storyreel.media import probe, read_wav
from storyreel.timeline import Timeline

from .conftest import story_answers  # noqa: TID252

pytestmark = pytest.mark.slow  # minutes here (2 busy cores): it builds and loads every tiny model


def test_the_tiny_profile_with_ltx2_makes_a_valid_film_with_the_clips_sound(tmp_path_factory):
    from storyreel.cli import app

    folder = tmp_path_factory.mktemp("tiny-ltx2")
    answers = folder / "answers.json"
    answers.write_text(json.dumps(story_answers(pages=2)))
    patch = pytest.MonkeyPatch()
    patch.setenv("STORYREEL_CACHE", str(folder / "cache"))
    sets = [
        f"llm.model=scripted:{answers}", "video.backend=ltx2", "video.options.model=tiny:ltx2",
        "video.options.width=32", "video.options.height=32", "video.options.schedule=full",
        "video.options.steps=2", "video.options.guidance=1.0", "video.options.max_frames=33",
        "video.options.condition_crf=0", "video.options.max_sequence_length=16", "sfx.backend=video",
        "image.critic=false",
    ]  # fmt: skip
    args = ["make", "A little dragon", "--profile", "tiny", *[x for s in sets for x in ("--set", s)]]
    try:
        with runtime.threads(1):
            result = CliRunner().invoke(app, [*args, "--out", str(folder / "runs")])
    finally:
        patch.undo()
        runtime.release()
    assert result.exit_code == 0, result.output
    run = Path(next(line for line in result.output.splitlines() if line.startswith("run directory: ")).split(": ")[1])

    streams = {s["codec_type"]: s for s in probe(run / "film.mp4")["streams"]}
    timeline = Timeline.model_validate_json((run / "timeline.json").read_text())
    assert streams["video"]["codec_name"] == "h264" and streams["audio"]["codec_name"] == "aac"
    assert abs(float(streams["video"]["duration"]) - timeline.duration) <= 1 / 24 + 1e-3
    manifest = json.loads((run / "manifest.json").read_text())["assets"].values()
    sounds = sorted((a for a in manifest if a["kind"] == "page-sound"), key=lambda a: a["page"])
    assert [a["page"] for a in sounds] == [1, 2]
    for asset in sounds:  # each page's sound, kept in audio/, as long as its page
        path = run / asset["path"]
        assert path.parent.name == "audio"
        samples, rate = read_wav(path)
        assert len(samples) == round(timeline.page_duration(asset["page"]) * rate)
    assert any(a["kind"] == "stem-sfx" for a in manifest)  # on the effects track, mixed like any sound
