"""The art director: style bible, what each page shows, camera moves, sound and music cues.

It asks its model a ``DirectStory`` request (the offline model builds the direction in code:
``storyreel.agents.offline.direction``); ``build_plan`` merges the draft and the direction into the plan of
inputs. The plan stores what each page shows in the director's words, never a composed prompt: the prompts
(the style bible, who is shown where, what, and each look verbatim) are composed when they are used
(``storyreel.composition``).
"""

from __future__ import annotations

from storyreel.agents.providers import as_agent_model
from storyreel.agents.requests import AgentModel, DirectStory
from storyreel.config import LLMSection
from storyreel.plan import Brief, Direction, MusicCue, Page, Scene, Shot, StoryDraft, StoryPlan


def direct(model: AgentModel, brief: Brief, draft: StoryDraft, settings: LLMSection) -> Direction:
    """Direct the story: a ``Direction`` with one entry per page."""
    return as_agent_model(model, settings).answer(DirectStory(brief, draft))


def build_plan(brief: Brief, draft: StoryDraft, direction: Direction, version: int = 1) -> StoryPlan:
    """Merge the draft and the direction into the plan: each page's scene, cast, what it shows, its shot
    and its sound cues (the director's, or the scene's when the direction was built from the scene)."""
    known = {c.name for c in draft.characters}
    pages = []
    for number, (page, directed) in enumerate(zip(draft.pages, direction.pages, strict=True), start=1):
        pages.append(
            Page(
                number=number,
                text=page.text,
                scene=Scene(setting=page.setting, time_of_day=page.time_of_day, weather=page.weather),
                characters=[n for n in page.characters if n in known],
                shows=directed.image_prompt,
                shot=Shot(motion=directed.motion, camera=directed.camera),
                sfx=directed.sfx,
                scene_sounds=directed.scene_sounds,
            )
        )
    music = direction.music or [
        MusicCue(mood="gentle", prompt="gentle children's film score", first_page=1, last_page=len(pages))
    ]
    return StoryPlan(
        version=version,
        title=draft.title,
        brief=brief,
        characters=draft.characters,
        style_bible=direction.style_bible,
        pages=pages,
        music=music,
    )
