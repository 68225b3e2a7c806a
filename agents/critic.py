"""The critic: a structured ``Critique`` of a story draft, never a magic "OK" string."""

from __future__ import annotations

from storyreel.agents.providers import as_agent_model
from storyreel.agents.requests import AgentModel, CritiqueStory
from storyreel.config import LLMSection
from storyreel.plan import Brief, Critique, StoryDraft


def critique(model: AgentModel, brief: Brief, draft: StoryDraft, settings: LLMSection) -> Critique:
    """Judge ``draft`` against ``brief``; the result says whether it is approved and what to fix."""
    return as_agent_model(model, settings).answer(CritiqueStory(brief, draft))
