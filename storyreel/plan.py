"""The story plan: the single source of truth for a film, saved as ``plan.json``.

Every model forbids unknown fields, so an LLM (or a hand edit) that invents a field is caught at
validation, not three stages later. Agents return these models, never dicts or free strings.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PLAN_SCHEMA_VERSION = 1

Setting = Literal[
    "forest",
    "beach",
    "sea",
    "meadow",
    "mountain",
    "cave",
    "castle",
    "village",
    "city",
    "room",
    "sky",
    "garden",
    "underwater",
    "shop",
    "library",
    "school",
    "snowfield",
    "desert",
    "space",
]
TimeOfDay = Literal["dawn", "day", "dusk", "night"]
Weather = Literal["clear", "cloudy", "rain", "snow", "wind", "fog", "storm"]
Camera = Literal["pan_left", "pan_right", "zoom_in", "zoom_out", "parallax", "tilt_up", "tilt_down"]

SETTINGS: tuple[str, ...] = Setting.__args__  # type: ignore[attr-defined]
TIMES_OF_DAY: tuple[str, ...] = TimeOfDay.__args__  # type: ignore[attr-defined]
WEATHERS: tuple[str, ...] = Weather.__args__  # type: ignore[attr-defined]
CAMERAS: tuple[str, ...] = Camera.__args__  # type: ignore[attr-defined]

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


class Keyframe(Strict):
    """One sparse keyframe of a page's shot: what the camera sees at that moment."""

    prompt: str = Field(min_length=1)
    camera: Camera = "zoom_in"


class Shot(Strict):
    motion: str = Field("", description="how things move in the shot, for video models")
    camera: Camera = "zoom_in"
    keyframes: list[Keyframe] = Field(default_factory=list)


class SfxCue(Strict):
    sound: str = Field(min_length=1, description="short name: wind, rain, waves, fire, birds, footsteps ...")
    prompt: str = Field("", description="description for sound-effect models")
    offset: float = Field(0.0, ge=0, description="seconds after the page starts")
    duration: float | None = Field(None, gt=0, description="seconds; None: to the end of the page")
    gain_db: float = Field(-20.0, le=0, description="level relative to full scale before the final mix")


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
    image_prompt: str = Field("", description="full prompt for the illustration, looks included")
    shot: Shot = Field(default_factory=Shot)
    sfx: list[SfxCue] = Field(default_factory=list)
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
    schema_version: Literal[1] = PLAN_SCHEMA_VERSION
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
    image_prompt: str = Field(min_length=1, description="what the illustration shows, without character looks")
    motion: str = Field("", description="what moves in the shot")
    camera: Camera = "zoom_in"
    sfx: list[SfxCue] = Field(default_factory=list)


class Direction(Strict):
    """The art director's output for a whole story."""

    style_bible: str = Field(min_length=1)
    pages: list[PageDirection] = Field(min_length=1)
    music: list[MusicCue] = Field(default_factory=list)
