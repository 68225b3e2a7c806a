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

from .conftest import notes_of  # noqa: TID252

pytestmark = pytest.mark.slow

SETTINGS = LLMSection(model="offline", max_new_tokens=40)
TEXTS = (  # {hero}: the hero's name, as the cast builder makes it from the prompt ("Pip", a fox)
    "{hero} looked up at the big round moon every night.",
    "{hero} climbed the tallest hill, but the moon was still far away.",
    "{hero} went home and dreamed of the moon.",
)


@pytest.fixture(scope="module")
def model():
    """One load of the bundled model for the module."""
    return OfflineProvider().model("", SETTINGS, seed=2)


@pytest.fixture
def plan() -> StoryPlan:
    prompt = "A fox who wants to catch the moon"
    hero = hero_from_prompt(prompt, seed=2)
    texts = [t.format(hero=hero.name) for t in TEXTS]
    pages = [Page(number=n, text=t, characters=[hero.name]) for n, t in enumerate(texts, start=1)]
    return StoryPlan(title=prompt, brief=Brief(prompt=prompt, pages=3, seed=2), characters=[hero], pages=pages)


@pytest.mark.parametrize(
    ("request_text", "said"),
    [
        ("On page 2, have the fox say hello to an owl", "hello"),  # the issue's own example
        ("on the second page, let the fox say good night to a sleepy owl", "good night"),
    ],
)
def test_dialogue_with_a_new_character_is_written_by_the_model(model, plan: StoryPlan, request_text, said):
    found = []
    notes = notes_of(lambda: found.append(understand_request(model, request_text, plan, SETTINGS)))
    revision = found[0]
    added = [e for e in revision.edits if isinstance(e, AddCharacterEdit)]
    assert [a.species for a in added] == ["owl"] and "owl with big round eyes" in added[0].look
    revised = apply_edits(plan, revision.edits)
    text = revised.pages[1].text
    assert text.startswith(plan.pages[1].text) and text != plan.pages[1].text
    assert said in text.lower() and "owl" in text.lower()
    assert revised.pages[1].characters == [plan.characters[0].name, added[0].name]
    assert [p.text for p in revised.pages if p.number != 2] == [plan.pages[0].text, plan.pages[2].text]
    print(f"\n{request_text!r} -> {text!r} ({'composed: ' + notes[0] if notes else 'written by the model'})")


def test_a_page_made_shorter_and_the_ending_changed(model, plan: StoryPlan):
    shorter = understand_request(model, "make page 2 shorter", plan, SETTINGS)
    assert [type(e) for e in shorter.edits] == [TextEdit] and shorter.edits[0].page == 2
    assert len(shorter.edits[0].text.split()) < len(plan.pages[1].text.split())
    ending = understand_request(model, "make the ending happier", plan, SETTINGS)
    assert [(e.op, e.page) for e in ending.edits] == [("text", 3)] and ending.edits[0].text != plan.pages[2].text


@pytest.mark.parametrize(
    "request_text",
    [
        "add a page after page 1 where the fox meets a little mouse called Bo",
        "add a new page after the first page in which a mouse named Bo visits the fox",
    ],
)
def test_a_page_added_with_a_described_event(model, plan: StoryPlan, request_text):
    found = []
    notes = notes_of(lambda: found.append(understand_request(model, request_text, plan, SETTINGS)))
    revision = found[0]
    page = next(e for e in revision.edits if isinstance(e, AddPageEdit))
    assert page.after == 1 and ("Bo" in page.text or "mouse" in page.text.lower())
    revised = apply_edits(plan, revision.edits)
    assert len(revised.pages) == 4 and "Bo" in revised.pages[1].characters
    assert revised.character("Bo").species == "mouse"
    print(f"\n{request_text!r} -> {page.text!r} ({'composed: ' + notes[0] if notes else 'written by the model'})")
