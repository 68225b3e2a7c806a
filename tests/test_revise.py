"""Revisions: requests in plain words become plan edits, a new plan version, and a film that redoes only
what the change touches. Counted at the edge: every backend call is recorded with the page it is for."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyreel import make_film
from storyreel.agents.art_director import build_plan
from storyreel.agents.llm import ScriptedChatModel
from storyreel.agents.offline.direction import style_bible_for
from storyreel.agents.offline.rules import parse_request
from storyreel.agents.reviser import understand_request
from storyreel.cli import app
from storyreel.composition import illustration_prompt, shown
from storyreel.config import LLMSection
from storyreel.edits import (
    AddPageEdit,
    LookEdit,
    MovePageEdit,
    RemovePageEdit,
    SceneEdit,
    TextEdit,
    apply_edits,
    diff_plans,
    with_page_images,
)
from storyreel.errors import AgentError, InputError
from storyreel.flows.revise import revise_film
from storyreel.media import probe
from storyreel.plan import Brief, Direction, StoryDraft, StoryPlan
from storyreel.timeline import Timeline
from storyreel.versions import load_history, revert

from .conftest import by_kind, story_answers  # noqa: TID252

PAGES = 4  # Pip is on every page, Olo on pages 2 and 4
OFFLINE = "llm.model=offline"  # the base-model path: requests are read by rules, the model is never loaded


def plan_of(pages: int = PAGES) -> StoryPlan:
    draft, _, direction = story_answers(pages=pages)
    brief = Brief(prompt="A little dragon", pages=pages)
    return build_plan(brief, StoryDraft.model_validate(draft), Direction.model_validate(direction))


# --- the request reader and the edits, without a film ------------------------------------------------


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("make the owl blue", [{"op": "look", "character": "Olo", "look": "a round blue owl with big amber eyes"}]),
        (
            "Make Olo purple and the dragon red",
            [{"character": "Olo", "color": "#8e24aa"}, {"character": "Pip", "color": "#e53935"}],
        ),
        (
            "page 3 should happen at the beach, and make the music calmer",
            [{"op": "scene", "page": 3, "setting": "beach"}, {"op": "music", "cue": None, "mood": "calm"}],
        ),
        (
            'page 2 should say "Pip ran, and ran, and ran."',
            [{"op": "text", "page": 2, "text": "Pip ran, and ran, and ran."}],
        ),
        ("the last page should be at night", [{"op": "scene", "page": 4, "time_of_day": "night", "setting": None}]),
        ("add rain sounds to page 2", [{"op": "add_sound", "page": 2, "sound": "rain"}]),
        ("no sound effects on the third page", [{"op": "remove_sound", "page": 3, "sound": "all"}]),
        ("use a crayon drawing style", [{"op": "style", "style": style_bible_for("crayon drawing")}]),
        ("a British narrator, please", [{"op": "voice", "character": "", "voice": "en-gb"}]),
        ("give Olo a female voice", [{"op": "voice", "character": "Olo", "voice": "en-us+f3"}]),
        ("remove page 2", [{"op": "remove_page", "page": 2}]),
        ("move page 4 before page 2", [{"op": "move_page", "page": 4, "to": 2}]),
        ("swap pages 1 and 3", [{"op": "move_page", "page": 1, "to": 3}, {"op": "move_page", "page": 3, "to": 1}]),
        (
            'add a page after page 2: "They had a picnic."',
            [{"op": "add_page", "after": 2, "text": "They had a picnic."}],
        ),
    ],
)
def test_common_requests_are_read_by_rules(request_text: str, expected: list[dict]):
    edits = parse_request(request_text, plan_of()).edits
    assert len(edits) == len(expected), edits
    for edit, fields in zip(edits, expected, strict=True):
        dumped = edit.model_dump()
        assert {k: dumped.get(k) for k in fields} == fields


def test_the_music_request_in_a_compound_request_is_understood_too():
    edits = parse_request("page 3 should happen at the beach, and make the music sadder", plan_of()).edits
    assert [e.op for e in edits] == ["scene", "music"]
    plan = apply_edits(plan_of(), edits)
    assert plan.pages[2].scene.setting == "beach" and plan.music[0].mood == "sad"


@pytest.mark.parametrize("request_text", ["page 9 should happen at the beach", "make the ninth page snowy"])
def test_a_page_the_film_does_not_have_is_refused(request_text: str):
    with pytest.raises(InputError, match="page 9 does not exist: the film has 4 pages"):
        understand_request(None, request_text, plan_of(), LLMSection())


def test_what_the_rules_do_not_understand_is_refused_not_guessed():
    with pytest.raises(InputError, match="could not understand 'sing it like a pirate'.*make the dragon green"):
        parse_request("make the owl blue, and sing it like a pirate", plan_of())


def test_a_chat_model_gets_its_invalid_edits_back_and_a_bounded_number_of_tries():
    plan = plan_of()
    bad = {"edits": [{"op": "text", "page": 9, "text": "The end."}]}
    good = {"edits": [{"op": "text", "page": 4, "text": "The end, happily."}]}
    llm = ScriptedChatModel.from_answers([bad, good])
    revision = understand_request(llm, "make the ending happier", plan, LLMSection(retries=3))
    assert revision.edits == [TextEdit(page=4, text="The end, happily.")]
    assert "page 9 does not exist" in llm.prompts[1][-1].content
    stubborn = ScriptedChatModel.from_answers([bad, bad])
    with pytest.raises(AgentError, match="no valid revision after 2 tries.*page 9 does not exist"):
        understand_request(stubborn, "make the ending happier", plan, LLMSection(retries=2))
    with pytest.raises(InputError, match="page 9 does not exist"):  # named in the request: refused before asking
        understand_request(ScriptedChatModel.from_answers([]), "page 9 at night", plan, LLMSection())


def test_a_look_reaches_every_prompt_that_shows_the_character_the_art_directors_way():
    plan = plan_of()
    revised = apply_edits(plan, [LookEdit(character="Olo", look="a tall blue owl with a red scarf", color="#1e88e5")])
    looks = {c.name: c.look for c in revised.characters}
    for before, page in zip(plan.pages, revised.pages, strict=True):
        prompt = illustration_prompt(revised, page)
        assert page == before  # the edit changed the character, not the pages
        assert prompt.endswith(" ".join(f"{n}: {looks[n]}." for n in page.characters))
        assert prompt.startswith(f"{revised.style_bible}. ") and shown(page) in prompt
        assert ("a tall blue owl with a red scarf" in prompt) == ("Olo" in page.characters)
        assert (prompt == illustration_prompt(plan, before)) == ("Olo" not in page.characters)
    assert diff_plans(plan, revised)[-2:] == [
        "page 2: illustration prompt (Olo's look)",
        "page 4: illustration prompt (Olo's look)",
    ]


def test_pages_added_removed_and_moved_keep_their_seeds_music_and_pictures():
    plan = with_page_images(plan_of(), {3: "/pictures/three.png"})
    revised = apply_edits(
        plan,
        [RemovePageEdit(page=2), MovePageEdit(page=4, to=1), AddPageEdit(after=1, text="Pip met a frog.")],
    )
    # old pages 4, 1, (new), 3 — each old page keeps the seeds of its old number; the new one gets a fresh one
    assert [p.text for p in revised.pages] == [
        plan.pages[3].text,
        plan.pages[0].text,
        "Pip met a frog.",
        plan.pages[2].text,
    ]
    assert [p.seed_number for p in revised.pages] == [4, 1, 5, 3]
    assert revised.brief.page_images == {4: "/pictures/three.png"}
    assert [(c.first_page, c.last_page) for c in revised.music] == [(1, 4)]
    assert revised.pages[2].characters == ["Pip"] and illustration_prompt(revised, revised.pages[2]).startswith(
        plan.style_bible
    )
    lines = diff_plans(plan, revised)
    assert "page 1: was page 4" in lines and any(line.startswith("page 2 removed") for line in lines)
    with pytest.raises(InputError, match="page 9 does not exist"):
        apply_edits(plan, [SceneEdit(page=9, setting="beach")])
    with pytest.raises(InputError, match="no character 'Zed'"):
        apply_edits(plan, [LookEdit(character="Zed", look="a zebra")])


# --- revisions of a real film ------------------------------------------------------------------------


def snapshot(run: Path) -> dict[str, str]:
    return {
        p.relative_to(run).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(run.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    answers = tmp_path_factory.mktemp("llm") / "story.json"
    answers.write_text(json.dumps(story_answers(pages=PAGES)))
    out = tmp_path_factory.mktemp("runs")
    result = make_film(
        prompt="A little dragon who is afraid of the dark",
        pages=PAGES,
        profile="sketch",
        settings=[f"llm.model=scripted:{answers}"],
        out=str(out),
    )
    return Path(result.run_dir)


def test_a_narration_edit_redoes_its_page_and_what_its_new_length_needs(run: Path, calls, scripted):
    film_v1 = (run / "film.mp4").read_bytes()
    before = Timeline.model_validate_json((run / "timeline.json").read_text())
    longer = "Pip sang a long, long song to the moon, and far away the moon sang softly back to little Pip."
    answer = scripted([{"edits": [{"op": "text", "page": 3, "text": longer}]}])
    result = revise_film(str(run), "page 3 should say a longer line", settings=[answer])

    assert result.changed and (result.previous, result.version) == (1, 2)
    assert result.changes == [f"page 3: text “Page 3 of the story: Pip takes a brave step.” → “{longer}”"]
    kinds = by_kind(calls)
    assert kinds["narration"] == ["p03"] and "image" not in kinds
    assert kinds["keyframes"] == ["p03"]  # a longer page: its keyframes sit at other frames
    assert "p03" in kinds["interpolation"] and set(kinds["interpolation"]) <= {"p03", "t02-03", "t03-04"}
    assert set(kinds["sfx"]) == {"p03"} and kinds["music"] == ["music"] and kinds["assemble"] == ["films"]
    assert "p03" in kinds["segment"] and set(kinds["segment"]) <= {"p03", "t02-03", "t03-04"}  # re-encoded: page 3's
    assert {p.where for p in result.pages if p.redone} <= {"page 3", "transition 2-3", "transition 3-4", "whole film"}
    assert result.made + result.reused == sum(len(p.redone) + len(p.reused) for p in result.pages)

    after = Timeline.model_validate_json((run / "timeline.json").read_text())
    assert after.page(3).frames > before.page(3).frames
    assert [after.page(n).frames for n in (1, 2, 4)] == [before.page(n).frames for n in (1, 2, 4)]
    video = next(s for s in probe(run / "film.mp4")["streams"] if s["codec_type"] == "video")
    assert abs(float(video["duration"]) - after.duration) <= 1 / 24 + 1e-3
    # both versions are there: the first film untouched, the current film is version 2's
    assert (run / "film.v1.mp4").read_bytes() == film_v1 != (run / "film.mp4").read_bytes()
    v2 = run / "film.v2.mp4"  # a copy of its own: an in-place write into film.mp4 cannot damage it
    assert v2.read_bytes() == (run / "film.mp4").read_bytes() and not v2.samefile(run / "film.mp4")
    assert StoryPlan.model_validate_json((run / "plans" / "plan.v2.json").read_text()).pages[2].text == longer
    assert StoryPlan.model_validate_json((run / "plans" / "plan.v1.json").read_text()).version == 1
    # the report as a Prefect table artifact: per page, what was redone and reused
    rows = latest_artifact("revision-assets")
    page_3 = next(r for r in rows if r["where"] == "page 3")
    assert set(page_3["redone"].split(", ")) == {"narration", "keyframes", "clip", "sfx", "segment"}
    assert sum(r["redone_count"] for r in rows) == result.made


def latest_artifact(key: str) -> list[dict]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), sort=ArtifactSort.CREATED_DESC, limit=1
        )
    data = found[0].data
    return json.loads(data) if isinstance(data, str) else data


def test_a_look_edit_redoes_exactly_the_pages_that_show_the_character(run: Path, calls):
    result = revise_film(str(run), "make the owl blue", settings=[OFFLINE])
    kinds = by_kind(calls)
    assert kinds["image"] == ["p02", "p04"] and kinds["keyframes"] == ["p02", "p04"]
    clips = set(kinds["interpolation"])
    assert {"p02", "p04"} <= clips <= {"p02", "p04", "t01-02", "t02-03", "t03-04"}
    assert {"p02", "p04"} <= set(kinds["segment"]) <= clips  # a segment is re-encoded where its clip was redone
    assert not {"narration", "music", "sfx"} & set(kinds) and kinds["assemble"] == ["films"]
    assert {p.where: p.redone for p in result.pages}["page 1"] == []
    plan = StoryPlan.load(run / "plan.json")
    for page in plan.pages:
        assert ("a round blue owl with big amber eyes" in illustration_prompt(plan, page)) == ("Olo" in page.characters)


def test_a_style_edit_redoes_every_illustration_and_no_sound(run: Path, calls, scripted):
    style = "bold crayon drawing, thick outlines, bright paper"
    result = revise_film(str(run), "crayons!", settings=[scripted([{"edits": [{"op": "style", "style": style}]}])])
    kinds = by_kind(calls)
    assert kinds["image"] == ["p01", "p02", "p03", "p04"]
    assert {"p01", "p02", "p03", "p04"} <= set(kinds["segment"])
    assert not {"narration", "music", "sfx"} & set(kinds)
    assert result.changes[0].startswith("style: “soft watercolor, warm light” → “bold crayon")
    plan = StoryPlan.load(run / "plan.json")
    assert all(illustration_prompt(plan, p).startswith(style) for p in plan.pages)


def test_an_empty_or_no_op_request_redoes_nothing_and_says_so(run: Path, calls, scripted):
    before = snapshot(run)
    empty = revise_film(str(run), "   ")
    assert not empty.changed and "the request is empty" in empty.message and "nothing was redone" in empty.message
    same = revise_film(str(run), "make the dragon green", settings=[OFFLINE])  # Pip is green already
    assert not same.changed and "already" in same.message and same.version == 1
    unchanged = scripted(
        [{"edits": [{"op": "look", "character": "Olo", "look": "a round grey owl with big amber eyes"}]}]
    )
    assert not revise_film(str(run), "keep Olo as he is", settings=[unchanged]).changed
    assert calls == [] and snapshot(run) == before


def test_page_9_of_a_4_page_film_is_refused_and_the_run_is_unchanged(run: Path, calls, scripted):
    before = snapshot(run)
    with pytest.raises(InputError, match=r"page 9 does not exist: the film has 4 pages \(1–4\); nothing was changed"):
        revise_film(str(run), "page 9 should happen at the beach", settings=[OFFLINE])
    with pytest.raises(InputError, match="page 9 does not exist"):
        revise_film(str(run), "make page 9 snowy", settings=[scripted([])])
    wrong = {"edits": [{"op": "scene", "page": 9, "setting": "beach"}]}
    with pytest.raises(AgentError, match="page 9 does not exist"):
        revise_film(str(run), "move the ending to the beach", settings=[scripted([wrong] * 3)])
    assert calls == [] and snapshot(run) == before


def test_revert_restores_an_earlier_film_byte_for_byte_without_generating(run: Path, calls, scripted):
    film_v1, plan_v1 = (run / "film.mp4").read_bytes(), (run / "plan.json").read_text()
    srt_v1, book_v1 = (run / "subtitles.srt").read_bytes(), (run / "book.epub").read_bytes()
    answer = scripted([{"edits": [{"op": "text", "page": 1, "text": "Once, a small dragon could not sleep."}]}])
    revise_film(str(run), "a new first line", settings=[answer])
    film_v2 = (run / "film.mp4").read_bytes()
    calls.clear()

    back = revert(run, 1)
    assert not back.rebuilt and calls == []
    assert (run / "film.mp4").read_bytes() == film_v1 and (run / "subtitles.srt").read_bytes() == srt_v1
    assert StoryPlan.load(run / "plan.json") == StoryPlan.model_validate_json(plan_v1)
    assert (run / "book.epub").read_bytes() == book_v1  # its book too, from the cache
    assert revert(run, 2).film and (run / "film.mp4").read_bytes() == film_v2 and calls == []

    # a kept film that is gone is rebuilt from the asset cache: nothing is generated, the bytes are the same
    (run / "film.v1.mp4").unlink()
    rebuilt = revert(run, 1)
    assert rebuilt.rebuilt and rebuilt.made == 0 and calls == []
    assert (run / "film.mp4").read_bytes() == film_v1 == (run / "film.v1.mp4").read_bytes()

    # a revision of a reverted version is a new version: nothing earlier is overwritten
    plan_v2 = (run / "plans" / "plan.v2.json").read_bytes()
    third = revise_film(str(run), "give Olo a female voice", settings=[OFFLINE])  # Olo says nothing: nothing redone
    assert (third.previous, third.version, third.made) == (1, 3, 0)
    assert (run / "plans" / "plan.v2.json").read_bytes() == plan_v2
    history = load_history(run)
    assert [(v.version, v.based_on) for v in history.versions] == [(1, None), (2, 1), (3, 1)]
    assert [r.version for r in history.reverts] == [1, 2, 1]
    with pytest.raises(InputError, match="has no version 7; its versions: 1, 2, 3"):
        revert(run, 7)


def test_a_cached_asset_deleted_or_corrupted_is_regenerated_never_reused(run: Path, calls):
    manifest = json.loads((run / "manifest.json").read_text())["assets"]
    image = run / next(a["path"] for a in manifest.values() if a["kind"] == "image" and "/p01/" in a["path"])
    clip = run / next(a["path"] for a in manifest.values() if a["kind"] == "clip" and "/p03/" in a["path"])
    good_image = image.read_bytes()
    image.write_bytes(b"not a picture")
    clip.unlink()
    result = revise_film(str(run), "make the music sadder", settings=[OFFLINE])
    kinds = by_kind(calls)
    assert kinds["image"] == ["p01"] and kinds["music"] == ["music"] and "p03" in kinds["interpolation"]
    assert image.read_bytes() == good_image  # the same spec regenerates the same picture
    assert probe(clip)["streams"][0]["codec_name"] == "h264"
    assert {"page 1", "page 3", "whole film"} <= {p.where for p in result.pages if p.redone}


def test_a_moved_page_keeps_its_picture_and_clip(run: Path, calls):
    result = revise_film(str(run), "move page 4 to the start", settings=[OFFLINE])
    kinds = by_kind(calls)
    assert not {"image", "keyframes", "narration", "sfx"} & set(kinds)
    assert (
        set(kinds["interpolation"]) <= {"t01-02", "t02-03", "t03-04", "t04-05"} and "p01" not in kinds["interpolation"]
    )
    plan = StoryPlan.load(run / "plan.json")
    assert [p.seed_number for p in plan.pages] == [4, 1, 2, 3] and result.changes[0] == "page 1: was page 4"


# --- the command line ----------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_revise_with_a_page_image_then_history_and_revert(run: Path, calls, tmp_path: Path):
    from PIL import Image

    drawing = tmp_path / "drawing.png"
    Image.new("RGB", (60, 40), (200, 40, 40)).save(drawing)
    film_v1 = (run / "film.mp4").read_bytes()
    result = runner.invoke(
        app, ["revise", str(run), "make the owl blue", "--page-image", f"1={drawing}", "--set", OFFLINE]
    )
    text = result.output
    assert result.exit_code == 0, text
    assert "understood (plan v1 → v2):" in text and "Olo's look" in text and "drawing.png" in text
    made, total, reused = map(int, re.search(r"redid (\d+) of (\d+) assets in \d+ s; reused (\d+)", text).groups())
    assert made + reused == total and 0 < made < total
    assert re.search(r"page 1: redid image, keyframes, clip", text) and "nothing redone on page 3\n" in text
    film = Path(re.search(r"film: (\S+) \(v2, kept as film\.v2\.mp4\)", text).group(1))
    assert film == run / "film.mp4" and film.is_file()
    assert "image" not in dict(calls) or "p01" not in by_kind(calls)["image"]  # your picture, not the backend's
    copies = list((run / "inputs").glob("p01-*-drawing.png"))
    assert len(copies) == 1 and copies[0].read_bytes() == drawing.read_bytes()

    result = runner.invoke(app, ["history", str(run)])
    lines = result.output.splitlines()
    assert result.exit_code == 0 and len(lines) == 2, result.output
    assert re.match(r"v1  \d{4}-\d\d-\d\d \d\d:\d\d  film\.v1\.mp4  made from: 'A little dragon", lines[0])
    assert re.match(r"v2  .*  film\.v2\.mp4  revised from v1: 'make the owl blue' \(\d+ changes\)  ← current", lines[1])
    result = runner.invoke(app, ["revert", str(run), "1"])
    assert result.exit_code == 0 and "restored v1 (nothing redone)" in result.output, result.output
    assert (run / "film.mp4").read_bytes() == film_v1
    lines = runner.invoke(app, ["history", str(run)]).output.splitlines()
    assert lines[0].endswith("← current") and "reverted to v1" in lines[-1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["revise", "/nonexistent/run", "make it green"], "has no plan.json"),
        (["revise", "{run}", "  "], "the request is empty"),
        (["revise", "{run}", "make it green", "--page-image", "drawing.png"], "expected PAGE=FILE"),
        (["revise", "{run}", "page 9 should be at night", "--set", OFFLINE], "page 9 does not exist"),
        (["revert", "{run}", "7"], "has no version 7"),
        (["history", "/nonexistent/run"], "has no plan.json"),
    ],
)
def test_cli_errors_are_one_clear_line(base_run: Path, args: list[str], message: str):
    before = snapshot(base_run)
    result = runner.invoke(app, [a.format(run=base_run) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert snapshot(base_run) == before


def test_cli_refuses_what_the_plan_alone_can_judge_before_prefect_starts(base_run: Path, monkeypatch, scripted):
    import storyreel.flows.revise as revise_module

    def not_started(*args, **kwargs):
        raise AssertionError("the revise flow started for a request the plan alone refuses")

    monkeypatch.setattr(revise_module, "revise_film", not_started)
    before = snapshot(base_run)
    refused = [
        ("make the owl blue, and sing it like a pirate", OFFLINE, "could not understand 'sing it like a pirate'"),
        ("On page 9, have Pip say hello to an owl", OFFLINE, "page 9 does not exist"),
        ("make page 9 snowy", scripted([]), "page 9 does not exist"),  # any model: the page is not there
    ]
    for request, model, message in refused:
        result = runner.invoke(app, ["revise", str(base_run), request, "--set", model])
        assert result.exit_code == 2 and message in result.output, result.output
        assert "Prefect" not in result.output and "Traceback" not in result.output
    assert snapshot(base_run) == before


def test_cli_revert_that_rebuilds_a_film_shows_its_progress(run: Path, scripted):
    answer = scripted([{"edits": [{"op": "text", "page": 1, "text": "Once, a small dragon could not sleep."}]}])
    revise_film(str(run), "a new first line", settings=[answer])
    (run / "film.v1.mp4").unlink()
    result = runner.invoke(app, ["revert", str(run), "1"])
    assert result.exit_code == 0, result.output
    assert "v1's film is not kept intact: rebuilding it from the asset cache" in result.output
    assert re.search(r"\d\d:\d\d:\d\d \w+ \d+/\d+", result.output), result.output  # the rebuild's progress
    assert "restored v1 (rebuilt from the cache: made 0" in result.output


# --- kinds of change on a real film: the cost of each, and the dry run ----------------------------------


def test_a_dialogue_edit_on_page_3_redoes_page_3s_narration_and_what_depends_on_it(run: Path, calls, scripted):
    line = 'Page 3 of the story: Pip takes a brave step. "I am not afraid," said Pip.'
    answer = scripted([{"edits": [{"op": "text", "page": 3, "text": line}]}])
    result = revise_film(str(run), 'On page 3, have Pip say "I am not afraid"', settings=[answer])
    kinds = by_kind(calls)
    assert kinds["narration"] == ["p03"] and "image" not in kinds and kinds["music"] == ["music"]
    assert set(kinds["keyframes"]) <= {"p03"} and set(kinds["interpolation"]) <= {"p03", "t02-03", "t03-04"}
    assert set(kinds.get("sfx", [])) <= {"p03"} and kinds["assemble"] == ["films"]
    assert "p03" in kinds["segment"] and set(kinds["segment"]) <= {"p03", "t02-03", "t03-04"}
    assert {p.where for p in result.pages if p.redone} <= {"page 3", "transition 2-3", "transition 3-4", "whole film"}


def test_a_new_character_on_one_page_redoes_that_pages_picture_only(run: Path, calls, scripted):
    edits = [
        {"op": "add_character", "name": "Bo", "look": "a tiny grey mouse with a red scarf", "species": "mouse"},
        {"op": "cast", "page": 3, "characters": ["Pip", "Bo"]},
        {"op": "text", "page": 3, "text": 'Pip met a tiny mouse called Bo. "Hello," said Bo.'},
    ]
    result = revise_film(str(run), "on page 3, Pip meets a mouse called Bo", settings=[scripted([{"edits": edits}])])
    kinds = by_kind(calls)
    assert kinds["image"] == ["p03"] and kinds["narration"] == ["p03"] and kinds["keyframes"] == ["p03"]
    assert set(kinds["interpolation"]) <= {"p03", "t02-03", "t03-04"}
    assert "p03" in kinds["segment"] and set(kinds["segment"]) <= {"p03", "t02-03", "t03-04"}
    assert "Bo: new character: “a tiny grey mouse with a red scarf”" in result.changes
    plan = StoryPlan.load(run / "plan.json")
    assert "a tiny grey mouse with a red scarf" in illustration_prompt(plan, plan.pages[2])
    assert all("mouse" not in illustration_prompt(plan, p) for p in plan.pages if p.number != 3)


def test_cli_revise_dry_run_says_what_it_understood_and_writes_nothing(run: Path, calls):
    before = snapshot(run)
    result = runner.invoke(
        app,
        [
            "revise",
            str(run),
            "make the owl blue, and make the music on pages 3-4 sadder",
            "--dry-run",
            "--set",
            OFFLINE,
        ],
    )
    assert result.exit_code == 0, result.output
    text = result.output
    assert "understood (plan v1 → v2):" in text and "Olo's look" in text and "page 4: illustration prompt" in text
    assert "music cue 2 (pages 3–4): new, sad" in text and "dry run: nothing was written" in text
    assert calls == [] and snapshot(run) == before


def test_what_a_revision_understood_is_said_before_it_renders(run: Path, monkeypatch: pytest.MonkeyPatch):
    from storyreel import progress
    from storyreel.flows import revise as revise_module

    said: list[str] = []

    class Notes(progress.LogReporter):
        def note(self, message: str) -> None:
            said.append(message)

    real = revise_module.make_film

    def rendering(**kwargs):
        said.append("<render>")
        return real(**kwargs)

    monkeypatch.setattr(revise_module, "make_film", rendering)
    previous = progress.use(Notes())
    try:
        revise_film(str(run), "make the owl blue", settings=[OFFLINE])
    finally:
        progress.use(previous)
    render = said.index("<render>")
    assert "understood (plan v1 → v2):" in said[:render]
    assert "  page 2: illustration prompt (Olo's look)" in said[:render]
