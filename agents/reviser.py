"""The reviser: rewrites a draft to fix the critic's problems. The critic <-> reviser loop is bounded."""

from __future__ import annotations

import logging

from langchain_core.language_models import BaseLanguageModel
from langchain_core.messages import HumanMessage, SystemMessage

from storyreel.agents import prompts
from storyreel.agents.critic import critique
from storyreel.agents.llm import ask_structured, is_completion_model
from storyreel.agents.writer import draft_problems
from storyreel.config import LLMSection
from storyreel.plan import Brief, Critique, StoryDraft

log = logging.getLogger("storyreel.reviser")


def revise_draft(
    llm: BaseLanguageModel, brief: Brief, draft: StoryDraft, review: Critique, settings: LLMSection
) -> StoryDraft:
    """A new draft that addresses ``review``'s problems."""
    problems = "\n".join(f"- page {p.page}: {p.issue}" if p.page else f"- {p.issue}" for p in review.problems)
    messages = [
        SystemMessage(prompts.REVISER_SYSTEM.format(pages=brief.pages)),
        HumanMessage(f"Story:\n{draft.model_dump_json(indent=1)}\n\nProblems to fix:\n{problems or '- (none given)'}"),
    ]
    return ask_structured(llm, StoryDraft, messages, settings.retries, check=draft_problems(brief), what="story")


def refine(
    llm: BaseLanguageModel, brief: Brief, draft: StoryDraft, settings: LLMSection
) -> tuple[StoryDraft, list[Critique]]:
    """Critic <-> reviser for at most ``settings.critic_rounds`` rounds; returns the draft and the reviews.

    Base models cannot judge a story; for them the loop is skipped (and logged)."""
    reviews: list[Critique] = []
    if is_completion_model(llm):
        if settings.critic_rounds:
            log.info("critic skipped: %s is a base model that cannot review a story", type(llm).__name__)
        return draft, reviews
    for _round in range(settings.critic_rounds):
        review = critique(llm, brief, draft, settings)
        reviews.append(review)
        if review.approved:
            break
        draft = revise_draft(llm, brief, draft, review, settings)
    return draft, reviews
