"""The writer: a story idea in, a ``StoryDraft`` (title, characters with fixed looks, pages) out.

It asks its model a ``WriteStory`` request: a chat model answers with structured output, the offline model
by writing page by page after a few example books, each page against its beat of an outline made in code,
with the cast and the scenes read in code (``storyreel.agents.offline.writer``, ``.cast``, ``.outline``).
"""

from __future__ import annotations

from storyreel.agents.providers import as_agent_model
from storyreel.agents.requests import AgentModel, WriteStory
from storyreel.config import LLMSection
from storyreel.plan import Brief, StoryDraft


def write_story(model: AgentModel, brief: Brief, settings: LLMSection) -> StoryDraft:
    """Write the story for ``brief``: ``brief.pages`` pages, characters with fixed looks.

    Args:
        model: the model to ask (a provider's model, or a LangChain model).
        brief: what the user asked for.
        settings: ``retries``: tries a chat model gets for a valid story.
    """
    return as_agent_model(model, settings).answer(WriteStory(brief))
