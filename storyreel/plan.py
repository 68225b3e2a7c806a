"""The story plan: the single source of truth for a film, saved as ``plan.json``.

The plan holds inputs, never composed prompts: each page records what it shows (in the director's words),
its scene, its characters, an optional hand-written prompt, its shot and its sound cues with where each came
from; ``storyreel.composition`` composes the prompts when an asset is made. Every reader of a plan file goes
through ``load_plan`` / ``StoryPlan.load``, which migrates older schema versions.

Every model forbids unknown fields, so an LLM (or a hand edit) that invents a field is caught at
validation, not three stages later. Agents return these models, never dicts or free strings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from storyreel.vocab import CAMERAS, SETTINGS, TIMES_OF_DAY, WEATHERS, Camera, Setting, TimeOfDay, Weather

__all__ = ["CAMERAS", "SETTINGS", "TIMES_OF_DAY", "WEATHERS", "Camera", "Setting", "TimeOfDay", "Weather"]

PLAN_SCHEMA_VERSION = 2
CueSource = Literal["scene", "director", "request"]

MIN_PAGES, MAX_PAGES = 1, 24


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Brief(Strict):
    """What the user asked for."""

    prompt: str = Field(min_length=1, description="the story idea in plain words")
    pages: int = Field(6, ge=MIN_PAGES, le=MAX_PAGES, description="number of pages (one shot each)")
    style: str = Field("", description="visual style, e.g. 'watercolor picture book'")
    seed: int = Field(0, ge=0, description="base seed; every asset derives its own seed from it")
    reference_images: list[str] = Field(default_factory=list, description="paths of reference pictures")
    page_images: dict[int, str] = Field(
        default_factory=dict, description="page number -> the user's own picture, used as that page's illustration"
    )

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("the prompt is empty")
        return value


class Character(Strict):
    """A character with a fixed look, repeated verbatim in every prompt that shows them."""

    name: str = Field(min_length=1)
    look: str = Field(min_length=1, description="fixed visual description, e.g. 'a small green dragon ...'")
    species: str = Field("creature", description="one word: dragon, fox, girl, robot ...")
    color: str = Field("#4a90d9", pattern=r"^#[0-9a-fA-F]{6}$", description="main color, for drawings")
    voice: str = Field("", description="voice for the character's lines; empty: the narrator's")


class Scene(Strict):
    setting: Setting = "meadow"
    time_of_day: TimeOfDay = "day"
    weather: Weather = "clear"


class Shot(Strict):
    motion: str = Field("", description="how things move in the shot, for video models")
    camera: Camera = "zoom_in"


class SfxCue(Strict):
    sound: str = Field(min_length=1, description="short name: wind, rain, waves, fire, birds, footsteps ...")
    prompt: str = Field("", description="description for sound-effect models")
    offset: float = Field(0.0, ge=0, description="seconds after the page starts")
    duration: float | None = Field(None, gt=0, description="seconds; None: to the end of the page")
    gain_db: float = Field(-20.0, le=0, description="level relative to full scale before the final mix")
    source: CueSource = Field(
        "director",
        description="where the cue came from: scene (implied by the page's scene and words, so it follows them), "
        "director (the art director's) or request (a revision's)",
    )


class MusicCue(Strict):
    mood: str = Field(min_length=1, description="calm, playful, mysterious, tense, sad, triumphant ...")
    prompt: str = Field("", description="description for music models")
    first_page: int = Field(ge=1)
    last_page: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> MusicCue:
        if self.last_page < self.first_page:
            raise ValueError(f"music cue ends on page {self.last_page} before it starts on {self.first_page}")
        return self


class Page(Strict):
    number: int = Field(ge=1)
    text: str = Field(min_length=1, description="what the narrator reads")
    scene: Scene = Field(default_factory=Scene)
    characters: list[str] = Field(default_factory=list, description="names of the characters shown")
    shows: str = Field(
        "", description="what the illustration shows, in the director's words (no looks, no style); empty: the text"
    )
    prompt: str = Field(
        "", description="a hand-written illustration prompt used as it is; empty: composed from the plan"
    )
    shot: Shot = Field(default_factory=Shot)
    sfx: list[SfxCue] = Field(default_factory=list)
    scene_sounds: bool = Field(
        False,
        description="the page has the sound cues its scene and words imply (source 'scene'), and they follow "
        "its scene and text when those change",
    )
    origin: int | None = Field(
        None,
        ge=1,
        description="the page number this page's seeds come from, set when pages are added, removed or moved "
        "so that a page keeps its pictures and sounds; None: its own number",
    )

    @property
    def seed_number(self) -> int:
        """The number every seed of this page derives from (stable when pages move)."""
        return self.origin or self.number


class StoryPlan(Strict):
    schema_version: Literal[2] = PLAN_SCHEMA_VERSION
    version: int = Field(1, ge=1, description="plan version in this run dir; a revision adds one")
    title: str = Field(min_length=1)
    brief: Brief
    characters: list[Character] = Field(default_factory=list)
    style_bible: str = Field("", description="the look every illustration shares")
    narrator_voice: str = Field("", description="the narrator's voice; empty: narration.voice from the config")
    pages: list[Page] = Field(min_length=1)
    music: list[MusicCue] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> StoryPlan:
        numbers = [p.number for p in self.pages]
        if numbers != list(range(1, len(self.pages) + 1)):
            raise ValueError(f"pages must be numbered 1..{len(self.pages)}, got {numbers}")
        seeds = [p.seed_number for p in self.pages]
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"two pages share seeds (page origins {seeds}); each page needs its own")
        known = {c.name for c in self.characters}
        for page in self.pages:
            unknown = [name for name in page.characters if name not in known]
            if unknown:
                raise ValueError(f"page {page.number} shows unknown characters {unknown}; known: {sorted(known)}")
        for cue in self.music:
            if cue.last_page > len(self.pages):
                raise ValueError(f"music cue runs to page {cue.last_page} of {len(self.pages)}")
        return self

    def character(self, name: str) -> Character:
        for c in self.characters:
            if c.name == name:
                return c
        raise KeyError(name)

    @classmethod
    def load(cls, source: str | Path | dict) -> StoryPlan:
        """A plan from a file, its JSON text or its data, of any schema version (older ones are migrated).
        Every reader of ``plan.json`` and ``plans/plan.vN.json`` goes through here."""
        return load_plan(source)


def load_plan(source: str | Path | dict) -> StoryPlan:
    """A plan from ``source`` (a file's path, JSON text or a dict) of schema version 1 or 2; v1 is migrated
    (``migrate_v1``). Raises pydantic's ValidationError for a plan that is not valid."""
    if isinstance(source, str) and source.lstrip().startswith("{"):
        data = json.loads(source)
    elif isinstance(source, str | Path):
        data = json.loads(Path(source).read_text(encoding="utf-8"))
    else:
        data = source
    if isinstance(data, dict) and data.get("schema_version", 1) == 1:
        data = migrate_v1(data)
    return StoryPlan.model_validate(data)


def migrate_v1(data: dict) -> dict:
    """A schema-1 plan as schema 2. Version 1 stored each page's composed illustration prompt (style bible +
    what it shows + every look); version 2 stores what it shows, and composes the prompt when it is used.

    This is the one place that takes a v1 prompt apart: ``shows`` is what is left between the style bible
    and the looks, without the "<cast> in the <setting> at <time>, <weather> weather: " the code-built
    direction put in front (the composition says it again) and without a "<where>" a v1 scene edit appended.
    A prompt not made that way (written by hand) is kept as the page's ``prompt``. A page whose cues are
    exactly the ones its scene implied then (``composition.scene_sfx_v1``) gets ``scene_sounds`` and today's cues
    of that scene, of ``source="scene"`` (they follow the scene, as in v1); other cues are the ``"director"``'s.
    ``Shot.keyframes`` goes (nothing read it)."""
    from storyreel.composition import cast_phrase, scene_sfx, scene_sfx_v1, split_v1_prompt, where_phrase

    data = json.loads(json.dumps(data))  # a deep copy
    looks = {c["name"]: c["look"] for c in data.get("characters", [])}
    style = data.get("style_bible", "")
    for page in data.get("pages", []):
        scene = Scene.model_validate(page.get("scene", {}))
        names = page.get("characters", [])
        text = page.get("text", "")
        prompt = page.pop("image_prompt", "")
        shows = split_v1_prompt(prompt, style, [(n, looks[n]) for n in names if n in looks])
        if shows is None:
            page["shows"], page["prompt"] = "", prompt
        else:
            head = f"{cast_phrase(names)} {where_phrase(scene)}: "
            shows = shows[len(head) :] if shows.startswith(head) else shows
            appended = f", {where_phrase(scene)}."
            shows = shows[: -len(appended)] + "." if shows.endswith(appended) else shows
            page["shows"] = text if shows.rstrip(".") == text.rstrip(".") else shows
        page.setdefault("shot", {}).pop("keyframes", None)
        cues = page.get("sfx", [])
        implied = [c.model_dump(mode="json", exclude={"source"}) for c in scene_sfx_v1(scene, text)]
        plain = [SfxCue.model_validate(c).model_dump(mode="json", exclude={"source"}) for c in cues]
        page["scene_sounds"] = plain == implied  # v1 made a page's sounds follow its scene exactly then
        if page["scene_sounds"]:  # ... so they follow it now: today's sounds of that scene
            page["sfx"] = [c.model_dump(mode="json") for c in scene_sfx(scene, text)]
        else:
            page["sfx"] = [c | {"source": "director"} for c in plain]
    data["schema_version"] = PLAN_SCHEMA_VERSION
    return data


# --- what the agents return -------------------------------------------------------------------


class DraftPage(Strict):
    text: str = Field(min_length=1, description="one to three short sentences the narrator reads")
    setting: Setting = "meadow"
    time_of_day: TimeOfDay = "day"
    weather: Weather = "clear"
    characters: list[str] = Field(default_factory=list, description="names of characters on this page")


class StoryDraft(Strict):
    """The writer's output: the story before it is directed."""

    title: str = Field(min_length=1)
    characters: list[Character] = Field(min_length=1)
    pages: list[DraftPage] = Field(min_length=1)


class Problem(Strict):
    page: int | None = Field(None, description="page number, or None for the whole story")
    issue: str = Field(min_length=1)


class Critique(Strict):
    """The critic's verdict: structured, never a magic string."""

    approved: bool
    score: int = Field(ge=1, le=10)
    problems: list[Problem] = Field(default_factory=list)


class PageDirection(Strict):
    image_prompt: str = Field(
        min_length=1, description="what the illustration shows, without character looks, the setting or the style"
    )
    motion: str = Field("", description="what moves in the shot")
    camera: Camera = "zoom_in"
    sfx: list[SfxCue] = Field(default_factory=list)
    scene_sounds: bool = Field(False, description="the cues are the ones the scene implies (code-built direction)")


class Direction(Strict):
    """The art director's output for a whole story."""

    style_bible: str = Field(min_length=1)
    pages: list[PageDirection] = Field(min_length=1)
    music: list[MusicCue] = Field(default_factory=list)
