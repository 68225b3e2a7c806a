"""The structured requests the agents make of a model, one typed request per question.

Every agent builds one of these and hands it to its model (``storyreel.agents.providers``): a chat model
answers it from ``messages()`` with structured output (``ask_structured``), the bundled offline model with
its own few-shot writing, code-built direction and request rules (``storyreel.agents.offline``). Either
way the answer is the request's ``schema``, validated, and ``check`` says what else must hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from storyreel.agents import prompts
from storyreel.plan import Brief, Critique, Direction, StoryDraft, StoryPlan

M = TypeVar("M", bound=BaseModel, covariant=True)


class Request(Protocol[M]):
    """A question for a model; its answer is an instance of ``schema``."""

    schema: ClassVar[type[BaseModel]]
    what: ClassVar[str]  # a name for error messages: "story", "critique" ...

    def messages(self) -> list[BaseMessage]: ...

    def check(self, answer: Any) -> list[str]: ...


class AgentModel(Protocol):
    """What the agents ask: one method, the validated answer to a request."""

    def answer(self, request: Request[M]) -> M: ...


def draft_problems(brief: Brief, draft: StoryDraft) -> list[str]:
    """The page count and the character names must hold together."""
    problems = []
    if len(draft.pages) != brief.pages:
        problems.append(f"the story must have exactly {brief.pages} pages, it has {len(draft.pages)}")
    names = {c.name for c in draft.characters}
    for number, page in enumerate(draft.pages, start=1):
        unknown = [n for n in page.characters if n not in names]
        if unknown:
            problems.append(f"page {number} shows {unknown}, who are not in the character list {sorted(names)}")
    return problems


@dataclass(frozen=True)
class WriteStory:
    """The writer's question: a story for ``brief``."""

    brief: Brief
    schema: ClassVar[type[BaseModel]] = StoryDraft
    what: ClassVar[str] = "story"

    def messages(self) -> list[BaseMessage]:
        system = prompts.WRITER_SYSTEM.format(
            pages=self.brief.pages,
            settings=prompts.SETTINGS_TEXT,
            times=prompts.TIMES_TEXT,
            weathers=prompts.WEATHERS_TEXT,
        )
        human = prompts.WRITER_HUMAN.format(prompt=self.brief.prompt, style=self.brief.style or "any")
        return [SystemMessage(system), HumanMessage(human)]

    def check(self, answer: StoryDraft) -> list[str]:
        return draft_problems(self.brief, answer)


@dataclass(frozen=True)
class _AboutDraft:
    """A question about ``draft``, written for ``brief``."""

    brief: Brief
    draft: StoryDraft

    def story(self) -> str:
        return self.draft.model_dump_json(indent=1)


@dataclass(frozen=True)
class CritiqueStory(_AboutDraft):
    """The critic's question: is ``draft`` good enough for ``brief``?"""

    schema: ClassVar[type[BaseModel]] = Critique
    what: ClassVar[str] = "critique"

    def messages(self) -> list[BaseMessage]:
        return [
            SystemMessage(prompts.CRITIC_SYSTEM.format(pages=self.brief.pages)),
            HumanMessage(f"Story idea: {self.brief.prompt}\n\nStory:\n{self.story()}"),
        ]

    def check(self, answer: Critique) -> list[str]:
        return []


@dataclass(frozen=True)
class ReviseStory(_AboutDraft):
    """The reviser's question about a draft: the story again, with ``review``'s problems fixed."""

    review: Critique
    schema: ClassVar[type[BaseModel]] = StoryDraft
    what: ClassVar[str] = "story"

    def messages(self) -> list[BaseMessage]:
        problems = "\n".join(f"- page {p.page}: {p.issue}" if p.page else f"- {p.issue}" for p in self.review.problems)
        return [
            SystemMessage(prompts.REVISER_SYSTEM.format(pages=self.brief.pages)),
            HumanMessage(f"Story:\n{self.story()}\n\nProblems to fix:\n{problems or '- (none given)'}"),
        ]

    def check(self, answer: StoryDraft) -> list[str]:
        return draft_problems(self.brief, answer)


@dataclass(frozen=True)
class DirectStory(_AboutDraft):
    """The art director's question: style bible, per-page picture, shot and sounds, and music."""

    schema: ClassVar[type[BaseModel]] = Direction
    what: ClassVar[str] = "direction"

    def messages(self) -> list[BaseMessage]:
        system = prompts.ART_DIRECTOR_SYSTEM.format(pages=len(self.draft.pages), cameras=prompts.CAMERAS_TEXT)
        human = f"Visual style asked for: {self.brief.style or 'any'}\n\nStory:\n{self.story()}"
        return [SystemMessage(system), HumanMessage(human)]

    def check(self, answer: Direction) -> list[str]:
        pages = len(self.draft.pages)
        problems = []
        if len(answer.pages) != pages:
            problems.append(f"give exactly {pages} page entries, not {len(answer.pages)}")
        for cue in answer.music:
            if cue.last_page > pages:
                problems.append(f"music cue '{cue.mood}' ends on page {cue.last_page}; the story has {pages}")
        return problems


@dataclass(frozen=True)
class UnderstandRequest:
    """The reviser's question about a film: the edits a reader's request asks of ``plan``."""

    request: str
    plan: StoryPlan

    what: ClassVar[str] = "revision"

    @property
    def schema(self) -> type[BaseModel]:  # type: ignore[override]
        from storyreel.edits import Revision

        return Revision

    def messages(self) -> list[BaseMessage]:
        return [
            SystemMessage(prompts.REQUEST_REVISER_SYSTEM),
            HumanMessage(f"The book:\n{plan_summary(self.plan)}\n\nThe request: {self.request}"),
        ]

    def check(self, answer: Any) -> list[str]:
        from storyreel.edits import check_edits

        return check_edits(self.plan, answer.edits)


def plan_summary(plan: StoryPlan) -> str:
    """The plan as the reviser model reads it: short, numbered, with the names edits must use."""
    from storyreel.composition import shown

    lines = [
        f"Title: {plan.title}",
        f"Style: {plan.style_bible}",
        f"Narrator voice: {plan.narrator_voice or 'default'}",
    ]
    lines.append("Characters:")
    for c in plan.characters:
        lines.append(f"- {c.name} ({c.species}, {c.color}, voice {c.voice or 'the narrator'}): {c.look}")
    lines.append(f"Pages ({len(plan.pages)}):")
    for page in plan.pages:
        s = page.scene
        sounds = ", ".join(c.sound for c in page.sfx) or "none"
        lines.append(
            f"Page {page.number}: {page.text!r} | scene: {s.setting}, {s.time_of_day}, {s.weather} | "
            f"shows: {', '.join(page.characters) or 'nobody'} | picture: {page.prompt or shown(page)} | "
            f"camera: {page.shot.camera} | sounds: {sounds}"
        )
    lines.append("Music cues:")
    for number, cue in enumerate(plan.music, start=1):
        lines.append(f"{number}. pages {cue.first_page}-{cue.last_page}: {cue.mood} ({cue.prompt})")
    return "\n".join(lines)
