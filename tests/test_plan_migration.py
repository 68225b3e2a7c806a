"""The plan of inputs: schema-1 plans (saved by the first version, in tests/data) migrate on load, and the
prompts are composed from the inputs, the same strings as schema 1 stored for pages directed in code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from storyreel.agents.art_director import build_plan
from storyreel.agents.offline.direction import direct_in_code
from storyreel.cli import app
from storyreel.composition import illustration_prompt, keyframe_prompt, story_markdown
from storyreel.edits import AddSoundEdit, LookEdit, PictureEdit, SceneEdit, StyleEdit, TextEdit, apply_edits
from storyreel.generators import music_synth, sfx_synth
from storyreel.plan import PLAN_SCHEMA_VERSION, Brief, DraftPage, StoryDraft, StoryPlan, load_plan
from storyreel.vocab import MOODS, REQUEST_MOOD_WORDS, SOUND_WORDS, SOUNDS, STORY_MOOD_WORDS

DATA = Path(__file__).parent / "data"
V1_RUN = DATA / "v1-run"  # made by the schema-1 code: a chat-directed film and a rules revision (v2)
V1_CODE = DATA / "v1-code-directed-plan.json"  # a schema-1 plan directed in code, 3 pages


def code_directed_v2() -> StoryPlan:
    """The plan of V1_CODE made again by today's code from the same draft."""
    v1 = json.loads(V1_CODE.read_text())
    brief = Brief.model_validate(v1["brief"])
    pages = [
        DraftPage(text=p["text"], characters=p["characters"], **p["scene"]) for p in v1["pages"]
    ]  # the scenes the draft had
    draft = StoryDraft(title=v1["title"], characters=v1["characters"], pages=pages)
    return build_plan(brief, draft, direct_in_code(brief, draft))


# --- migration ---------------------------------------------------------------------------------


def test_a_v1_code_directed_plan_migrates_to_the_plan_todays_code_makes_with_the_same_prompts():
    v1 = json.loads(V1_CODE.read_text())
    assert v1["schema_version"] == 1 and "image_prompt" in v1["pages"][0]
    with pytest.raises(ValidationError):
        StoryPlan.model_validate(v1)  # a v1 plan is not a v2 plan: it must go through load_plan
    plan = load_plan(V1_CODE)
    assert plan.schema_version == PLAN_SCHEMA_VERSION == 2
    assert plan == code_directed_v2() == StoryPlan.load(V1_CODE.read_text())
    assert [p.shows for p in plan.pages] == [p["text"] for p in v1["pages"]]  # recovered from the v1 prompts
    assert [illustration_prompt(plan, p) for p in plan.pages] == [p["image_prompt"] for p in v1["pages"]]
    assert [keyframe_prompt(p) for p in plan.pages] == [p["shot"]["motion"] for p in v1["pages"]]
    assert all(c.source == "scene" for p in plan.pages for c in p.sfx) and plan.pages[1].sfx
    assert "keyframes" not in plan.model_dump()["pages"][0]["shot"]


def test_a_v1_prompt_written_by_hand_is_kept_as_the_pages_prompt():
    v1 = json.loads(V1_CODE.read_text())
    v1["pages"][2]["image_prompt"] = "a hand-painted night sky full of stars"
    plan = load_plan(v1)
    assert plan.pages[2].prompt == "a hand-painted night sky full of stars"
    assert illustration_prompt(plan, plan.pages[2]) == "a hand-painted night sky full of stars"
    restyled = apply_edits(plan, [StyleEdit(style="crayons")])
    assert illustration_prompt(restyled, restyled.pages[2]) == "a hand-painted night sky full of stars"
    assert illustration_prompt(restyled, restyled.pages[0]).startswith("crayons. ")


def test_the_saved_v1_run_plans_load_and_say_what_each_page_shows():
    for name in ("plan.json", "plans/plan.v1.json", "plans/plan.v2.json"):
        plan = StoryPlan.load(V1_RUN / name)
        # the chat director's words, without the where a v1 scene edit appended to page 1
        assert [p.shows for p in plan.pages] == ["scene 1.", "scene 2."]
        assert all(p.prompt == "" and c.source == "director" for p in plan.pages for c in p.sfx)
    v2 = StoryPlan.load(V1_RUN / "plan.json")
    assert StoryPlan.load(str(V1_RUN / "plan.json")) == v2 == load_plan((V1_RUN / "plan.json").read_text())
    assert v2.pages[0].scene.time_of_day == "night"
    assert v2.character("Olo").look == "a round blue owl with big amber eyes"
    prompt = illustration_prompt(v2, v2.pages[1])
    assert prompt.startswith("soft watercolor, warm light. Pip, Olo in the beach at night, clear weather: scene 2.")
    assert prompt.endswith("Olo: a round blue owl with big amber eyes.")


def test_a_v1_run_dir_shows_revises_lists_and_reverts_after_migration(tmp_path: Path):
    run = tmp_path / "run"
    shutil.copytree(V1_RUN, run)
    v1_bytes = (run / "plans" / "plan.v1.json").read_bytes()
    runner = CliRunner()

    shown = runner.invoke(app, ["show", str(run)])
    assert shown.exit_code == 0, shown.output
    assert "Pip and the Dark  (plan v2, 2 pages" in shown.output and "a round blue owl" in shown.output

    history = runner.invoke(app, ["history", str(run)])
    lines = history.output.splitlines()
    assert history.exit_code == 0 and len(lines) == 2 and lines[1].endswith("← current"), history.output

    revised = runner.invoke(app, ["revise", str(run), "make the dragon blue", "--set", "llm.model=offline"])
    assert revised.exit_code == 0, revised.output
    assert "page 1: illustration prompt (Pip's look)" in revised.output and (run / "film.v3.mp4").is_file()
    v3 = json.loads((run / "plans" / "plan.v3.json").read_text())
    assert v3["schema_version"] == 2 and v3["pages"][0]["shows"] == "scene 1."
    assert (run / "plans" / "plan.v1.json").read_bytes() == v1_bytes  # old versions are never rewritten

    back = runner.invoke(app, ["revert", str(run), "1"])
    assert back.exit_code == 0 and "restored v1" in back.output, back.output
    restored = StoryPlan.load(run / "plan.json")
    assert restored == StoryPlan.load(V1_RUN / "plans" / "plan.v1.json") and restored.version == 1
    assert restored.character("Olo").look == "a round grey owl with big amber eyes"
    lines = runner.invoke(app, ["history", str(run)]).output.splitlines()
    assert lines[0].endswith("← current") and "reverted to v1" in lines[-1]


# --- composition and edits on inputs ------------------------------------------------------------------


def prompts(plan: StoryPlan) -> list[str]:
    return [illustration_prompt(plan, p) for p in plan.pages]


def changed(before: StoryPlan, after: StoryPlan) -> list[int]:
    return [n for n, (a, b) in enumerate(zip(prompts(before), prompts(after), strict=True), start=1) if a != b]


def test_each_edit_changes_exactly_the_prompts_of_the_pages_it_touches():
    plan = code_directed_v2()  # Fox on pages 1 and 2, Olo on page 2, nobody on page 3
    look = apply_edits(plan, [LookEdit(character="Olo", look="a tiny white owl")])
    assert changed(plan, look) == [2] and "Olo: a tiny white owl." in prompts(look)[1]
    assert look.pages == plan.pages  # the look is the character's: no page was rewritten

    scene = apply_edits(plan, [SceneEdit(page=3, setting="beach")])
    assert changed(plan, scene) == [3]
    assert "the landscape in the beach at dawn, fog weather: " in prompts(scene)[2]
    assert [c.sound for c in scene.pages[2].sfx] == ["waves"]  # the scene's sounds follow it

    style = apply_edits(plan, [StyleEdit(style="bold crayon drawing")])
    assert changed(plan, style) == [1, 2, 3] and all(p.startswith("bold crayon drawing. ") for p in prompts(style))

    picture = apply_edits(plan, [PictureEdit(page=1, shows="the fox jumps for the moon")])
    assert changed(plan, picture) == [1] and ": the fox jumps for the moon. Fox: " in prompts(picture)[0]

    text = apply_edits(plan, [TextEdit(page=1, text="The fox saw the moon glow.")])
    assert changed(plan, text) == []  # new words for the narrator; the picture stays
    assert [c.sound for c in text.pages[0].sfx] == ["crickets", "magic"]  # "glow": the scene's sounds follow


def test_sounds_remember_where_they_came_from():
    plan = code_directed_v2()
    edits = [AddSoundEdit(page=2, sound="footsteps"), SceneEdit(page=2, weather="clear")]
    revised = apply_edits(plan, edits)
    assert [(c.sound, c.source) for c in plan.pages[1].sfx] == [("wind", "scene"), ("crickets", "scene")]
    # the scene's wind goes with the wind; the requested footsteps stay
    assert [(c.sound, c.source) for c in revised.pages[1].sfx] == [("crickets", "scene"), ("footsteps", "request")]


def test_story_markdown_shows_the_composed_prompts():
    plan = code_directed_v2()
    text = story_markdown(plan)
    assert all(f"- image prompt: {p}\n" in text for p in prompts(plan))


# --- one vocabulary ----------------------------------------------------------------------------------


def test_one_vocabulary_covers_what_the_backends_render():
    assert set(music_synth.STYLES) == set(MOODS) and music_synth.KEYWORDS.keys() == set(MOODS)
    assert set(sfx_synth.RECIPES) == set(SOUNDS) and sfx_synth.KEYWORDS is SOUND_WORDS
    assert {mood for mood, _ in REQUEST_MOOD_WORDS} == set(MOODS) and set(STORY_MOOD_WORDS) < set(MOODS)
