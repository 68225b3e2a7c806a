"""The critic: a structured ``Critique`` of a story draft, never a magic "OK" string."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from storyreel.agents import prompts
from storyreel.agents.llm import ask_structured
from storyreel.config import LLMSection
from storyreel.plan import Brief, Critique, StoryDraft


def critique(llm: BaseChatModel, brief: Brief, draft: StoryDraft, settings: LLMSection) -> Critique:
    """Judge ``draft`` against ``brief``; the result says whether it is approved and what to fix."""
    messages = [
        SystemMessage(prompts.CRITIC_SYSTEM.format(pages=brief.pages)),
        HumanMessage(f"Story idea: {brief.prompt}\n\nStory:\n{draft.model_dump_json(indent=1)}"),
    ]
    return ask_structured(llm, Critique, messages, settings.retries, what="critique")
