"""The reviser, twice over.

1. Drafts: it rewrites a draft to fix the critic's problems; the critic <-> reviser loop is bounded.
2. Requests: ``understand_request`` turns a user's request in plain words ("make the dragon green",
   "page 3 should happen at the beach, and make the music calmer") and the current plan into a
   ``Revision``, a list of structured edits (``storyreel.edits``) checked against the plan. A chat model
   answers with structured output, with bounded retries that feed back what did not fit the plan; the
   offline model answers the same request: it reads the common requests by rules
   (``storyreel.agents.offline.rules``), has the bundled model rewrite the pages a request names when the
   rules do not know what it asks (``storyreel.agents.offline.rewrite``: new text, new characters), and
   refuses the rest with examples, never guessing.
"""

from __future__ import annotations

import re

from storyreel.agents.critic import critique
from storyreel.agents.offline.rules import check_page_numbers, normalize_request
from storyreel.agents.providers import as_agent_model
from storyreel.agents.requests import AgentModel, ReviseStory, UnderstandRequest
from storyreel.config import LLMSection
from storyreel.edits import AddCharacterEdit, AddPageEdit, CastEdit, Edit, RemovePageEdit, Revision, TextEdit
from storyreel.errors import InputError
from storyreel.limits import shown
from storyreel.plan import Brief, Character, Critique, StoryDraft, StoryPlan


def revise_draft(
    model: AgentModel, brief: Brief, draft: StoryDraft, review: Critique, settings: LLMSection
) -> StoryDraft:
    """A new draft that addresses ``review``'s problems."""
    return as_agent_model(model, settings).answer(ReviseStory(brief, draft, review))


def refine(
    model: AgentModel, brief: Brief, draft: StoryDraft, settings: LLMSection
) -> tuple[StoryDraft, list[Critique]]:
    """Critic <-> reviser for at most ``settings.critic_rounds`` rounds; returns the draft and the reviews."""
    reviews: list[Critique] = []
    for _round in range(settings.critic_rounds):
        review = critique(model, brief, draft, settings)
        reviews.append(review)
        if review.approved:
            break
        draft = revise_draft(model, brief, draft, review, settings)
    return draft, reviews


def understand_request(model: AgentModel, request: str, plan: StoryPlan, settings: LLMSection) -> Revision:
    """The edits ``request`` asks of ``plan``, checked against it.

    Args:
        model: the model to ask (a chat model answers with structured output; the offline model by rules,
            and with page rewrites by the bundled model).
        request: what the user wants changed, in plain words; empty: no edits.
        plan: the current plan; page numbers in the request refer to it.
        settings: the LLM settings (``retries``: tries for a valid answer).

    Raises:
        InputError: the request names a page the film does not have, cannot be understood, or (offline)
            the model wrote no page that does what it asks; the plan is left as it is.
        AgentError: a chat model gave no valid revision within ``settings.retries`` tries.
    """
    request = normalize_request(request, len(plan.pages))
    if not request:
        return Revision()
    check_page_numbers(request, plan)
    revision = as_agent_model(model, settings).answer(UnderstandRequest(request, plan))
    if not revision.edits and revision.unclear:
        raise InputError(f"the request was not understood: {shown(revision.unclear, 200)}; nothing was changed")
    return revision.model_copy(update={"edits": shown_where_named(plan, revision.edits)})


def shown_where_named(plan: StoryPlan, edits: list[Edit]) -> list[Edit]:
    """The edits, with every character they introduce shown on each page whose text (as revised) names it:
    by name, or by species when no other character has it ("the owl"). A chat model's answer and the
    offline model's alike name the new character on the page the request is about; a later page that
    speaks of them shows them too."""
    newcomers = [Character(**e.model_dump(exclude={"op"})) for e in edits if isinstance(e, AddCharacterEdit)]
    if not newcomers:
        return edits
    everyone = plan.characters + newcomers
    removed = {e.page for e in edits if isinstance(e, RemovePageEdit)}
    texts = {p.number: p.text for p in plan.pages}
    casts = {p.number: list(p.characters) for p in plan.pages}
    for edit in edits:
        if isinstance(edit, TextEdit):
            texts[edit.page] = edit.text
        elif isinstance(edit, CastEdit):
            casts[edit.page] = list(edit.characters)

    def named(text: str, cast: list[str]) -> list[str]:
        return [c.name for c in newcomers if c.name not in cast and _names(text, c, everyone)]

    more: list[Edit] = []
    for edit in edits:
        if isinstance(edit, AddPageEdit):
            cast = list(edit.characters if edit.characters is not None else casts.get(edit.after or 1, []))
            missing = named(edit.text, cast)
            more.append(edit.model_copy(update={"characters": cast + missing}) if missing else edit)
        else:
            more.append(edit)
    for number in sorted(set(texts) - removed):
        missing = named(texts[number], casts[number])
        if missing:
            more.append(CastEdit(page=number, characters=casts[number] + missing))
    return more


def _names(text: str, character: Character, everyone: list[Character]) -> bool:
    """Whether ``text`` names ``character``: by name (as written: "Owl", not "an owl"), or by species when no
    one else has it."""
    if re.search(rf"\b{re.escape(character.name)}\b", text):
        return True
    species = character.species.lower()
    if species in ("", "creature") or [c.species.lower() for c in everyone].count(species) > 1:
        return False
    return re.search(rf"\b{re.escape(species)}s?\b", text, re.I) is not None
