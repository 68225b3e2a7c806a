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
from storyreel.plan import Brief, Critique, Direction, StoryDraft

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


# --- providers: one path for every model ------------------------------------------------------------


def test_providers_are_looked_up_by_prefix_and_an_unknown_one_says_which_there_are(tmp_path):
    from storyreel.agents import providers

    assert {"offline", "hf", "ollama", "openai", "scripted"} <= set(providers.providers())
    assert type(providers.provider("ollama")).__name__ == "OllamaProvider"
    with pytest.raises(ConfigError, match="no LLM provider 'nope'; there are: hf, offline, ollama, openai, scripted"):
        agent_model(LLMSection(model="nope:some-model"))
    model = agent_model(LLMSection(model="ollama:llama3.1", base_url="http://127.0.0.1:9"))
    assert type(model.llm).__name__ == "ChatOllama"  # through LangChain's init_chat_model; nothing is sent


def test_a_registered_provider_serves_the_agents_like_a_built_in(monkeypatch):
    from storyreel.agents import providers

    draft, _, direction = story_answers(pages=2)

    class Recorded:
        """A plugin-shaped provider: a prefix and one method."""

        prefix = "recorded"

        def model(self, name, settings, seed):
            return providers.ChatModel(ScriptedChatModel.from_answers([draft, direction]), settings.retries)

    monkeypatch.setattr(providers, "_registered", {})
    providers.register(Recorded)
    settings = LLMSection(model="recorded:any", critic_rounds=0)
    model = agent_model(settings)
    brief = Brief(prompt="x", pages=2)
    written = write_story(model, brief, settings)
    plan = build_plan(brief, written, direct(model, brief, written, settings))
    assert plan.title == "Pip and the Dark" and plan.pages[1].shows == "scene 2"
    assert providers.providers()["recorded"].endswith(
        ":test_a_registered_provider_serves_the_agents_like_a_built_in.<locals>.Recorded"
    )


def test_scripted_answers_go_through_the_same_path_as_a_chat_model(scripted):
    setting = scripted(story_answers(pages=2)).split("=", 1)[1]
    settings = LLMSection(model=setting, critic_rounds=1)
    model = agent_model(settings)
    brief = Brief(prompt="x", pages=2)
    draft = write_story(model, brief, settings)
    draft, reviews = refine(model, brief, draft, settings)
    plan = build_plan(brief, draft, direct(model, brief, draft, settings))
    assert reviews[0].approved and [p.shows for p in plan.pages] == ["scene 1", "scene 2"]
    assert [c.source for c in plan.pages[0].sfx] == ["director", "director"] and not plan.pages[0].scene_sounds


# --- the offline model answers every request itself ------------------------------------------------------


def test_the_offline_model_answers_each_structured_request():
    from storyreel.agents.offline import OfflineModel
    from storyreel.agents.requests import CritiqueStory, DirectStory, ReviseStory, UnderstandRequest, WriteStory
    from storyreel.edits import Revision
    from storyreel.plan import Direction

    lines = [" The fox looked up at the round moon.", " She climbed the tallest hill in the meadow."]
    model = OfflineModel.of(FakeListLLM(responses=lines))
    brief = Brief(prompt="A fox who wants to catch the moon", pages=2, seed=2)
    draft = model.answer(WriteStory(brief))
    assert isinstance(draft, StoryDraft) and [p.text for p in draft.pages] == [line.strip() for line in lines]
    direction = model.answer(DirectStory(brief, draft))
    assert isinstance(direction, Direction) and all(p.scene_sounds for p in direction.pages)
    review = model.answer(CritiqueStory(brief, draft))
    assert review.approved and not review.problems
    short = model.answer(CritiqueStory(Brief(prompt="x", pages=3), draft))  # the checks a story must pass
    assert not short.approved and "exactly 3 pages" in short.problems[0].issue
    with pytest.raises(AgentError, match="cannot rewrite a story"):
        model.answer(ReviseStory(brief, draft, short))
    plan = build_plan(brief, draft, direction)
    revision = model.answer(UnderstandRequest("make the fox blue", plan))
    assert isinstance(revision, Revision) and revision.edits[0].op == "look"


def test_the_offline_model_is_not_loaded_to_read_a_request():
    from storyreel.agents.offline import OfflineModel
    from storyreel.agents.reviser import understand_request

    def load():
        raise AssertionError("loaded")

    draft, _, direction = story_answers(pages=2)
    plan = build_plan(Brief(prompt="x", pages=2), StoryDraft.model_validate(draft), Direction.model_validate(direction))
    revision = understand_request(OfflineModel(load), "page 2 at night", plan, LLMSection())
    assert [(e.op, e.page, e.time_of_day) for e in revision.edits] == [("scene", 2, "night")]


def test_the_offline_writer_gives_up_with_a_clear_error_never_a_stand_in_sentence():
    llm = FakeListLLM(responses=[" ok", " no", " The", " ..."])
    with pytest.raises(
        AgentError,
        match=r"page 1: the offline model wrote no usable sentence in 4 tries \(too short\); try another seed",
    ):
        write_story(llm, Brief(prompt="A little dragon", pages=2), LLMSection())
