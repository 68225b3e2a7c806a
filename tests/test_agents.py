"""The agents with a scripted chat model (tool calls and JSON answers) and a scripted base model."""

from __future__ import annotations

import copy

import pytest
from langchain_core.language_models.fake import FakeListLLM
from langchain_core.messages import AIMessage

from storyreel.agents.art_director import build_plan, direct
from storyreel.agents.llm import ScriptedChatModel, ask_structured
from storyreel.agents.offline.writer import clean_sentence, hero_from_prompt, infer_scene
from storyreel.agents.providers import agent_model
from storyreel.agents.reviser import refine
from storyreel.agents.writer import write_story
from storyreel.composition import illustration_prompt, story_markdown
from storyreel.config import LLMSection
from storyreel.errors import AgentError, ConfigError
from storyreel.plan import Brief, Critique, StoryDraft

from .conftest import story_answers  # noqa: TID252


def test_writer_and_director_make_a_valid_plan_with_looks_in_every_prompt():
    draft_answer, _, direction_answer = story_answers(pages=3)
    llm = ScriptedChatModel.from_answers([draft_answer, direction_answer])
    brief = Brief(prompt="a dragon afraid of the dark", pages=3)
    settings = LLMSection(critic_rounds=0)
    draft = write_story(llm, brief, settings)
    plan = build_plan(brief, draft, direct(llm, brief, draft, settings))
    assert [p.number for p in plan.pages] == [1, 2, 3]
    pip = plan.character("Pip")
    olo = plan.character("Olo")
    for page in plan.pages:
        prompt = illustration_prompt(plan, page)
        assert pip.look in prompt  # verbatim
        assert (olo.look in prompt) == ("Olo" in page.characters)
        assert prompt.startswith("soft watercolor, warm light")
        assert f"scene {page.number}" in prompt and page.shows == f"scene {page.number}"
    assert "## Pages" in story_markdown(plan) and illustration_prompt(plan, plan.pages[0]) in story_markdown(plan)


def test_tool_call_answers_are_read():
    draft_answer = story_answers(pages=2)[0]
    reply = AIMessage(content="", tool_calls=[{"name": "StoryDraft", "args": draft_answer, "id": "1"}])
    llm = ScriptedChatModel.from_answers([reply])
    draft = ask_structured(llm, StoryDraft, [], retries=1)
    assert draft.title == "Pip and the Dark"


def test_invalid_json_then_valid_is_fed_back_and_accepted():
    draft_answer = story_answers(pages=2)[0]
    broken = copy.deepcopy(draft_answer)
    broken["pages"][0]["setting"] = "volcano"
    llm = ScriptedChatModel.from_answers(["Sure! Here is the story: {not json", broken, draft_answer])
    draft = write_story(llm, Brief(prompt="x", pages=2), LLMSection(retries=3))
    assert draft.pages[0].setting == "forest"
    feedback = [m.content for m in llm.prompts[-1] if m.type == "human"]
    assert any("volcano" in f or "setting" in f for f in feedback)


def test_wrong_page_count_is_fed_back():
    llm = ScriptedChatModel.from_answers([story_answers(pages=3)[0], story_answers(pages=2)[0]])
    draft = write_story(llm, Brief(prompt="x", pages=2), LLMSection(retries=2))
    assert len(draft.pages) == 2
    assert "exactly 2 pages" in llm.prompts[-1][-1].content


def test_retries_exhausted_is_a_clear_error():
    llm = ScriptedChatModel.from_answers(["no", "still no", "nope"])
    with pytest.raises(AgentError, match="no valid story after 3 tries"):
        write_story(llm, Brief(prompt="x", pages=2), LLMSection(retries=3))
    assert len(llm.prompts) == 3


def test_critic_loop_stops_at_its_bound():
    draft, _, _ = story_answers(pages=2)
    rejected = {"approved": False, "score": 3, "problems": [{"page": 1, "issue": "too short"}]}
    # two rounds: critique, revision, critique, revision -> then stop, even though never approved
    llm = ScriptedChatModel.from_answers([rejected, draft, rejected, draft, rejected])
    brief = Brief(prompt="x", pages=2)
    result, reviews = refine(llm, brief, StoryDraft.model_validate(draft), LLMSection(critic_rounds=2))
    assert len(reviews) == 2 and all(isinstance(r, Critique) and not r.approved for r in reviews)
    assert len(llm.prompts) == 4
    assert "too short" in llm.prompts[1][-1].content  # the reviser saw the problem


def test_critic_approval_ends_the_loop_early():
    draft, approved, _ = story_answers(pages=2)
    llm = ScriptedChatModel.from_answers([approved])
    _, reviews = refine(llm, Brief(prompt="x", pages=2), StoryDraft.model_validate(draft), LLMSection(critic_rounds=3))
    assert len(reviews) == 1 and reviews[0].approved


def test_base_model_writes_page_by_page_and_code_builds_the_structure():
    answers = [
        " Little Dragon looked at the dark sky and shivered.\nPage 2: more",
        " ok",  # too short: asked again
        " A kind owl came to sit beside the little dragon in the forest.",
        " Together they counted the stars until the dragon fell asleep.",
    ]
    llm = FakeListLLM(responses=answers)  # a base model: it answers as the offline model does
    brief = Brief(prompt="A little dragon who is afraid of the dark", pages=3)
    draft = write_story(llm, brief, LLMSection())
    assert [p.text for p in draft.pages] == [
        "Little Dragon looked at the dark sky and shivered.",
        "A kind owl came to sit beside the little dragon in the forest.",
        "Together they counted the stars until the dragon fell asleep.",
    ]
    assert draft.characters[0].name == "Little Dragon" and draft.characters[0].species == "dragon"
    assert draft.pages[0].time_of_day == "night" and draft.pages[1].setting == "forest"
    plan = build_plan(brief, draft, direct(llm, brief, draft, LLMSection()))
    assert all(draft.characters[0].look in illustration_prompt(plan, p) for p in plan.pages)
    assert all(c.source == "scene" for p in plan.pages for c in p.sfx)
    assert plan.music and plan.music[0].first_page == 1 and plan.music[-1].last_page == 3


def test_hero_and_scene_from_words():
    hero = hero_from_prompt("A little green dragon who is afraid of the dark")
    assert (hero.name, hero.species, hero.color) == ("Little Dragon", "dragon", "#4caf50")
    assert hero_from_prompt("Kermit learns to surf").name == "Kermit"
    assert infer_scene("They went to search the beach at sunset.", None) == {
        "setting": "beach",
        "time_of_day": "dusk",
        "weather": "clear",
    }
    assert clean_sentence(' "The fox ran. She jumped! Then more. Page 3: x') == "The fox ran. She jumped!"


def test_model_factory_errors_say_how_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="not understood"):
        agent_model(LLMSection(model="gpt-9"))
    with pytest.raises(ConfigError, match="cannot read answers"):
        agent_model(LLMSection(model=f"scripted:{tmp_path / 'missing.json'}"))
    model = agent_model(LLMSection(model="openai:gpt-4o-mini", base_url="http://127.0.0.1:9/v1"))
    assert type(model.llm).__name__ == "ChatOpenAI"
