"""The make-film flow end to end on the sketch profile, checked with ffprobe; resume and regeneration."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from storyreel import make_film, registry
from storyreel.media import probe
from storyreel.plan import StoryPlan
from storyreel.timeline import Timeline

from .conftest import story_answers  # noqa: TID252

PAGES = 2


@pytest.fixture(scope="module")
def answers_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("llm") / "answers.json"
    path.write_text(json.dumps(story_answers(pages=PAGES)))
    return f"llm.model=scripted:{path}"


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory, answers_file: str):
    out = tmp_path_factory.mktemp("runs")
    result = make_film(
        prompt="A little dragon who is afraid of the dark", profile="sketch", settings=[answers_file], out=str(out)
    )
    return result


def test_the_film_is_valid(film):
    run = Path(film.run_dir)
    assert Path(film.film) == run / "film.mp4"
    for name in (
        "film.mp4",
        "subtitles.srt",
        "story.md",
        "plan.json",
        "config.json",
        "manifest.json",
        "timeline.json",
        "plans/plan.v1.json",
    ):
        assert (run / name).is_file(), name
    assert len(list(run.glob("pages/p0*/image-*.png"))) == PAGES
    assert len(list(run.glob("pages/p0*/clip-*.mp4"))) == PAGES
    assert len(list(run.glob("transitions/t01-02-*.mp4"))) == 1

    info = probe(run / "film.mp4")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["pix_fmt"], audio["codec_name"]) == ("h264", "yuv420p", "aac")
    assert (video["width"], video["height"]) == (128, 72)
    assert video["r_frame_rate"] == "24/1"
    timeline = Timeline.model_validate_json((run / "timeline.json").read_text())
    assert abs(float(video["duration"]) - timeline.duration) <= 1 / 24 + 1e-3
    assert abs(float(audio["duration"]) - float(video["duration"])) <= 1 / 24 + 0.05
    head = (run / "film.mp4").read_bytes()[: 1 << 16]
    assert 0 <= head.find(b"moov") < max(head.find(b"mdat"), 1 << 16)  # faststart

    srt = (run / "subtitles.srt").read_text()
    plan = StoryPlan.model_validate_json((run / "plan.json").read_text())
    assert srt.count("-->") == len(plan.pages) == PAGES
    assert all(page.text in srt for page in plan.pages)
    assert film.made > 10 and film.reused == 0


def epubcheck() -> list[str] | None:
    """The epubcheck command (Debian's is a jar run through binfmt; call it with java where that is off)."""
    found = shutil.which("epubcheck")
    if found is None:
        return None
    if Path(found).read_bytes()[:2] == b"PK":
        return [shutil.which("java") or "java", "-jar", found]
    return [found]


def test_the_book_beside_the_film(film):
    run = Path(film.run_dir)
    assert (run / "book.epub").is_file() and (run / "book" / "index.html").is_file()
    assert (run / "captions.vtt").read_text().startswith("WEBVTT")
    timeline = Timeline.model_validate_json((run / "timeline.json").read_text())
    assert all(cue.timing == "espeak" and cue.words for cue in timeline.narration)
    for page in range(1, PAGES + 1):
        assert (run / "book" / "audio" / f"p{page:02d}.wav").is_file()
    command = epubcheck()
    if command is None:
        pytest.skip("epubcheck is not installed (apt-get install epubcheck)")
    checked = subprocess.run([*command, str(run / "book.epub")], capture_output=True, text=True, check=False)
    report = checked.stdout + checked.stderr
    assert checked.returncode == 0 and "No errors or warnings detected" in report, report


def test_a_rerun_redoes_nothing(film):
    run = Path(film.run_dir)
    before = (run / "film.mp4").read_bytes()
    again = make_film(run=str(run))
    assert again.made == 0 and again.reused >= 10
    assert (run / "film.mp4").read_bytes() == before


def test_a_corrupt_or_missing_asset_is_regenerated(film):
    run = Path(film.run_dir)
    clip = sorted(run.glob("pages/p02/clip-*.mp4"))[0]
    clip.write_bytes(b"garbage")
    image = sorted(run.glob("pages/p01/image-*.png"))[0]
    image.unlink()
    again = make_film(run=str(run))
    assert again.made >= 2 and again.reused > 0
    assert clip.read_bytes() != b"garbage" and image.exists()
    assert probe(clip)["streams"][0]["codec_name"] == "h264"


def test_until_stops_early_and_the_rest_resumes(tmp_path: Path, answers_file: str):
    first = make_film(prompt="A fox", profile="sketch", settings=[answers_file], out=str(tmp_path), until="images")
    run = Path(first.run_dir)
    assert first.film is None and first.stage == "images"
    assert not list(run.glob("pages/*/clip-*")) and len(list(run.glob("pages/*/image-*"))) == PAGES
    rest = make_film(run=str(run))
    assert rest.film and rest.reused == first.made  # narration and images from the first run
    assert (run / "film.mp4").exists()


def test_a_crash_loses_nothing_and_the_resume_only_redoes_what_was_missing(
    tmp_path: Path, answers_file: str, monkeypatch: pytest.MonkeyPatch
):
    real_instance = registry.instance

    class Broken:
        name, version = "moviepy", "1"

        def assemble(self, request, out):
            Path(out).write_bytes(b"half a film")
            raise RuntimeError("power cut")

    monkeypatch.setattr(
        registry,
        "instance",
        lambda kind, name, options=None: Broken() if kind == "assemble" else real_instance(kind, name, options),
    )
    with pytest.raises(RuntimeError, match="power cut"):
        make_film(prompt="A fox", profile="sketch", settings=[answers_file], out=str(tmp_path))
    run = next(tmp_path.iterdir())
    assert not (run / "film.mp4").exists()
    assert not [p for p in run.rglob("*") if ".partial" in p.name]
    monkeypatch.setattr(registry, "instance", real_instance)
    resumed = make_film(run=str(run))
    assert resumed.made == 1 and (run / "film.mp4").exists()
    manifest = json.loads((run / "manifest.json").read_text())["assets"]
    assert sum(1 for a in manifest.values() if a["kind"] == "film") == 1
    assert re.search(r"film-[0-9a-f]{8}\.mp4", next(a["path"] for a in manifest.values() if a["kind"] == "film"))
