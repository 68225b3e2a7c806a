"""Every task body of the make-film and revise-film flows, run with ``task.fn(...)`` on a small real run
directory (the sketch profile, a scripted LLM): what each wrote, where, and what the manifest says of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from storyreel.config import load_config
from storyreel.flows.make_film import (
    assemble,
    compose_music,
    encode_segment,
    illustrate,
    interpolate,
    lay_out,
    make_keyframes,
    make_sfx,
    mix_audio,
    narrate,
    plan_story,
)
from storyreel.flows.revise import understand
from storyreel.media import probe, read_wav
from storyreel.plan import Brief, SfxCue
from storyreel.store import RunDir
from storyreel.timeline import keyframe_indices, to_srt

from .conftest import story_answers  # noqa: TID252

SEED = 4


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory):
    answers = tmp_path_factory.mktemp("llm") / "answers.json"
    answers.write_text(json.dumps(story_answers(pages=2)), encoding="utf-8")
    made, _ = load_config("sketch", [f"llm.model=scripted:{answers}"], environ={})
    return made


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("run")


@pytest.fixture(scope="module")
def plan(run: Path, config):
    return plan_story.fn(str(run), Brief(prompt="A little dragon", pages=2, seed=SEED), config)


@pytest.fixture(scope="module")
def spoken(run: Path, plan, config) -> list[tuple[str, float]]:
    return [narrate.fn(str(run), page, config, SEED) for page in plan.pages]


@pytest.fixture(scope="module")
def timeline(run: Path, plan, spoken, config):
    made = lay_out(plan, [seconds for _, seconds in spoken], config)
    (run / "subtitles.srt").write_text(to_srt(made), encoding="utf-8")
    return made


@pytest.fixture(scope="module")
def pictures(run: Path, plan, config) -> list[str]:
    return [illustrate.fn(str(run), plan, page, config) for page in plan.pages]


@pytest.fixture(scope="module")
def keyframes(run: Path, plan, pictures, timeline, config) -> list[list[str]]:
    return [
        make_keyframes.fn(str(run), page, image, timeline.page(page.number).frames, config, SEED)
        for page, image in zip(plan.pages, pictures, strict=True)
    ]


@pytest.fixture(scope="module")
def clips(run: Path, plan, keyframes, timeline, config) -> list[str]:
    made = []
    for segment in timeline.segments:
        if segment.kind == "page":
            frames = keyframes[segment.page - 1]
            indices = keyframe_indices(segment.frames, config.video.keyframe_spacing)
            label, prompt = f"page {segment.page}", plan.pages[segment.page - 1].shot.motion
        else:
            frames = [keyframes[segment.page - 1][-1], keyframes[segment.page][0]]
            indices, label, prompt = [0, segment.frames + 1], f"transition {segment.page}-{segment.page + 1}", ""
        made.append(interpolate.fn(str(run), segment, label, frames, indices, prompt, config, SEED))
    return made


@pytest.fixture(scope="module")
def audio(run: Path, spoken, timeline, config) -> str:
    voice = [{"path": path, "start": cue.start} for (path, _), cue in zip(spoken, timeline.narration, strict=True)]
    return mix_audio.fn(str(run), voice, [], [], timeline.duration, config)


def record_of(run: Path, path: str):
    relative = Path(path).resolve().relative_to(run.resolve()).as_posix()
    return next(r for r in RunDir(run).manifest().values() if r.path == relative)


def test_write_story_saves_the_plan_before_anything_is_made(run: Path, plan, config):
    assert (run / "plan.json").is_file() and (run / "plans" / "plan.v1.json").is_file()
    assert plan.title in (run / "story.md").read_text(encoding="utf-8")
    assert len(plan.pages) == 2 and plan.brief.seed == SEED
    again = plan_story.fn(str(run), Brief(prompt="something else", pages=5), config)  # the saved plan is kept
    assert again == plan


def test_narrate_speaks_each_page_into_its_folder(run: Path, plan, spoken, config):
    for page, (path, seconds) in zip(plan.pages, spoken, strict=True):
        samples, rate = read_wav(Path(path))
        assert Path(path).parent == run / "pages" / f"p{page.number:02d}"
        assert seconds == pytest.approx(len(samples) / rate) and seconds > 0.3
        record = record_of(run, path)
        assert (record.kind, record.page, record.transition) == ("narration", page.number, False)
    assert narrate.fn(str(run), plan.pages[0], config, SEED) == spoken[0]  # the same spec: reused, not redone
    assert [e.which for e in RunDir(run).events()][-1] == "reused"


def test_illustrate_draws_each_page_at_the_image_size(run: Path, plan, pictures, config):
    for page, path in zip(plan.pages, pictures, strict=True):
        with Image.open(path) as image:
            assert image.size == (config.image.width, config.image.height)
        assert record_of(run, path).page == page.number
        assert record_of(run, path).spec["backend"] == "image.preview"


def test_illustrate_fits_the_users_own_picture(run: Path, plan, config, tmp_path: Path):
    drawing = tmp_path / "drawing.png"
    Image.new("RGBA", (40, 60), (200, 10, 10, 255)).save(drawing)
    path = illustrate.fn(str(run), plan, plan.pages[1], config, str(drawing))
    with Image.open(path) as image:
        assert image.size == (config.image.width, config.image.height)
        assert image.getpixel((64, 36))[:3] == (200, 10, 10)
    record = record_of(run, path)
    assert record.page == 2 and "user_image" in record.spec


def test_keyframes_writes_one_picture_per_keyframe_index(run: Path, plan, keyframes, timeline, config):
    for page, files in zip(plan.pages, keyframes, strict=True):
        indices = keyframe_indices(timeline.page(page.number).frames, config.video.keyframe_spacing)
        assert len(files) == len(indices) >= 2
        assert all(Path(f).name.startswith("k") and Path(f).suffix == ".png" for f in files)
        assert record_of(run, str(Path(files[0]).parent)).page == page.number


def test_interpolate_makes_each_segments_clip_at_its_length(run: Path, clips, timeline, config):
    assert len(clips) == len(timeline.segments) == 3
    for segment, path in zip(timeline.segments, clips, strict=True):
        video = next(s for s in probe(Path(path))["streams"] if s["codec_type"] == "video")
        assert int(video["nb_frames"]) == segment.frames
        record = record_of(run, path)
        assert (record.kind, record.page, record.transition) == ("clip", segment.page, segment.kind == "transition")
    assert Path(clips[1]).parent == run / "transitions"


def test_compose_music_makes_a_cue_of_the_length_asked(run: Path, plan, config):
    path = compose_music.fn(str(run), 1, plan.music[0], 2.5, config, SEED)
    samples, rate = read_wav(Path(path))
    assert len(samples) / rate == pytest.approx(2.5, abs=0.05)
    assert record_of(run, path).page is None  # music belongs to the whole film


def test_sound_effect_makes_known_sounds_and_leaves_out_the_rest(run: Path, config):
    path = make_sfx.fn(str(run), 2, 1, SfxCue(sound="wind", prompt="soft wind"), 1.5, config, SEED)
    samples, rate = read_wav(Path(path))
    assert len(samples) / rate == pytest.approx(1.5, abs=0.05)
    assert Path(path).parent == run / "pages" / "p02" and record_of(run, path).page == 2
    assert make_sfx.fn(str(run), 2, 2, SfxCue(sound="kazoo-solo"), 1.0, config, SEED) is None


def test_mix_renders_the_stems_and_masters_them(run: Path, audio, timeline):
    samples, rate = read_wav(Path(audio))
    assert len(samples) / rate == pytest.approx(timeline.duration, abs=0.05)
    kinds = {r.kind for r in RunDir(run).manifest().values()}
    assert {"stem-narration", "mix"} <= kinds and "stem-music" not in kinds  # no music given: no music stem


def test_assemble_makes_the_film_and_links_film_mp4(run: Path, clips, audio, timeline, config):
    pairs = zip(timeline.segments, clips, strict=True)
    segments = [encode_segment.fn(str(run), s, c, timeline, config) for s, c in pairs]
    kinds = {(run / r.path).resolve(): r.kind for r in RunDir(run).manifest().values()}
    assert [kinds[Path(s).resolve()] for s in segments] == ["segment"] * len(clips)
    film = assemble.fn(str(run), segments, audio, timeline, config)
    assert Path(film) == run / "film.mp4"
    record = next(r for r in RunDir(run).manifest().values() if r.kind == "film")
    assert (run / record.path).read_bytes() == Path(film).read_bytes()
    info = probe(Path(film))
    assert {s["codec_type"] for s in info["streams"]} == {"video", "audio"}
    assert float(info["format"]["duration"]) == pytest.approx(timeline.duration, abs=0.1)


def test_understand_request_turns_words_into_edits(plan, config):
    offline = config.model_copy(update={"llm": config.llm.model_copy(update={"model": "offline"})})  # by rules
    revision = understand.fn("make the music calmer", plan, offline)
    assert revision.edits and not revision.unclear
    assert understand.fn("", plan, offline).edits == []  # nothing asked, nothing to change
