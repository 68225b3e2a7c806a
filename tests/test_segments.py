"""The film from segments, through the flows: a revision re-encodes only the segments it touches, the mix
re-renders only the stems it touches, and the film holds the timeline's frames. Counted at the edge: every
backend call is recorded with the page (or transition) it is for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyreel import make_film, registry
from storyreel.flows.revise import revise_film
from storyreel.media import probe
from storyreel.store import RunDir
from storyreel.timeline import Timeline

from .conftest import by_kind, story_answers  # noqa: TID252

PAGES = 4
# every page lasts 5 s whatever its narration says (tiny narration is shorter), and the subtitles are burned
# in: a line of dialogue changes page 3's voice and subtitles, not its length or its pictures
SETTINGS = ["narration.min_page=5", "assemble.burn_subtitles=true"]


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    answers = tmp_path_factory.mktemp("llm") / "story.json"
    answers.write_text(json.dumps(story_answers(pages=PAGES)))
    result = make_film(
        prompt="A little dragon who is afraid of the dark",
        pages=PAGES,
        profile="sketch",
        settings=[f"llm.model=scripted:{answers}", *SETTINGS],
        out=str(tmp_path_factory.mktemp("runs")),
    )
    return Path(result.run_dir)


def frame_count(film: Path) -> int:
    return int(next(s for s in probe(film)["streams"] if s["codec_type"] == "video")["nb_frames"])


def test_the_film_holds_the_timelines_frames_one_segment_each(base_run: Path) -> None:
    timeline = Timeline.model_validate_json((base_run / "timeline.json").read_text())
    manifest = RunDir(base_run).manifest().values()
    segments = [r for r in manifest if r.kind == "segment"]
    assert len(segments) == len(timeline.segments) == 2 * PAGES - 1  # four pages, three transitions
    assert sorted(frame_count(base_run / r.path) for r in segments) == sorted(s.frames for s in timeline.segments)
    streams = {s["codec_type"]: s for s in probe(base_run / "film.mp4")["streams"]}
    assert int(streams["video"]["nb_frames"]) == timeline.total_frames
    assert abs(float(streams["audio"]["duration"]) - float(streams["video"]["duration"])) <= 1 / timeline.fps


def test_a_dialogue_edit_on_page_3_redoes_its_voice_its_segment_one_stem_the_mix_and_the_join(
    run: Path, calls, scripted
) -> None:
    before = {key: record.kind for key, record in RunDir(run).manifest().items()}
    timeline = Timeline.model_validate_json((run / "timeline.json").read_text())
    line = 'Pip looked up and said, "Hello, moon!"'
    result = revise_film(str(run), "on page 3 have Pip greet the moon", settings=[scripted([
        {"edits": [{"op": "text", "page": 3, "text": line}]}
    ])])  # fmt: skip

    assert result.changed
    # the backends called: page 3's voice and segment, then the film; no picture, clip, music or sound
    assert by_kind(calls) == {"narration": ["p03"], "segment": ["p03"], "assemble": ["films"]}
    # the assets made: those, the narration stem and the mix, and the book (page 3 anew); the music and sound
    # stems are reused
    made = sorted(r.kind for key, r in RunDir(run).manifest().items() if key not in before)
    assert made == ["book", "book-html", "film", "mix", "narration", "segment", "stem-narration"]
    assert Timeline.model_validate_json((run / "timeline.json").read_text()) != timeline  # its text changed
    assert frame_count(run / "film.mp4") == timeline.total_frames  # and not its length


def test_a_longer_page_redoes_its_segment_and_keeps_the_segments_after_it(run: Path, calls, scripted) -> None:
    longer = "Pip sang a long, long song to the moon, and far away the moon sang softly back to little Pip, all night."
    revise_film(str(run), "page 2 should say a longer line", settings=[scripted([
        {"edits": [{"op": "text", "page": 2, "text": longer}]}
    ])])  # fmt: skip

    after = Timeline.model_validate_json((run / "timeline.json").read_text())
    assert after.page(2).frames > 5 * after.fps  # longer than every other page: the pages after it moved
    segments = set(by_kind(calls)["segment"])
    assert "p02" in segments and segments <= {"p02", "t01-02", "t02-03"}  # p03, p04, t03-04 kept, just later
    assert frame_count(run / "film.mp4") == after.total_frames


def test_the_assembly_options_are_split_between_the_segments_and_the_film() -> None:
    from storyreel import assets
    from storyreel.config import load_config

    config, _ = load_config("sketch", ["assemble.options.crf=18", "assemble.options.audio_bitrate=128k"], environ={})
    assert assets.maker(config, "segment").options == {"crf": 18}  # segments are keyed by the video settings only
    assert assets.maker(config, "film").options == {"audio_bitrate": "128k"}
    typo, _ = load_config("sketch", ["assemble.options.bitrate=5M"], environ={})
    with pytest.raises(Exception, match="bitrate"):  # a key neither knows reaches the assembler, which refuses it
        registry.instance("assemble", "moviepy", assets.maker(typo, "film").options)
