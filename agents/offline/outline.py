"""The story outline, made in code from the idea: the classic picture-book shape, one beat per page.

A story begins somewhere (page 1), goes on (the middle pages), meets its turn (the page before the last) and
ends (the last page). The places come from the idea, in the order it names them: "from the farm through
the woods to the city" is village -> forest -> city, spread over the pages from the first to the last. A
world (under the sea, space) holds the places named inside it: "a library at the bottom of the ocean" stays
underwater, and the library is where the story goes (the pages between the first and the last are "heading
for the library"). Time and weather named in the idea hold for every page.

The offline writer writes each page against its beat (``Beat.cue``), and reads each page's scene from its
own text first and its beat second (``read_scene``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storyreel.vocab import (
    STORY_IDIOMS,
    STORY_SETTING_WORDS,
    STORY_TIME_WORDS,
    STORY_WEATHER_WORDS,
    WORLD_PLACES,
)

# How a beat's cue says where a page is.
WHERE = {
    "forest": "in the woods", "beach": "on the beach", "sea": "at sea", "meadow": "in the meadow",
    "mountain": "in the mountains", "cave": "in a cave", "castle": "at the castle", "village": "in the village",
    "city": "in the city", "room": "at home", "sky": "in the sky", "garden": "in the garden",
    "underwater": "under the sea", "shop": "in the shop", "library": "in the library", "school": "at school",
    "snowfield": "on the snowy ice", "desert": "in the desert", "space": "in space",
}  # fmt: skip
PARTS = {"begin": "the beginning", "go": "on the way", "turn": "the turn", "end": "the end"}


@dataclass(frozen=True)
class Beat:
    """One page of the outline: its part of the story, where and when it happens (None: not named)."""

    page: int
    part: str  # begin, go, turn or end
    setting: str | None
    time_of_day: str | None
    weather: str | None
    goal: str = ""  # what the hero does or wants, from the idea, said on the last page's beat
    heading: str = ""  # on the pages between the first and the last: the place inside a world it goes to

    @property
    def cue(self) -> str:
        """The beat as the writer's prompt says it: "the turn, under the sea"."""
        parts = [PARTS[self.part]]
        if self.setting:
            parts.append(WHERE[self.setting])
        if self.heading:
            parts.append(f"heading for the {self.heading}")
        if self.part == "end" and self.goal:
            parts.append(self.goal)
        return ", ".join(parts)


@dataclass(frozen=True)
class Outline:
    """The beats of a story, one per page, and the places it passes through in order."""

    beats: tuple[Beat, ...]
    places: tuple[str, ...]  # the settings named in the idea, in order (worlds hold their places)
    goal_places: tuple[str, ...]  # places named inside a world: where the story goes there

    def beat(self, page: int) -> Beat:
        return self.beats[page - 1]


# Story words that name a thing or a person of a place, not the place: they place a page only where no word
# of that place does, so "builds a rocket in her garden and flies to outer space" starts in the garden.
THINGS = {
    "rocket", "spaceship", "astronaut", "boat", "ship", "teacher", "lesson", "class", "king", "queen", "books",
    "tree", "flower", "cloud", "fly", "flew", "flying", "star", "moon", "wave", "bed", "window", "counter",
    "cactus", "cacti", "shopkeeper", "librarian", "coral", "kelp", "seaweed",
}  # fmt: skip


def _word_pattern(word: str) -> str:
    return rf"\b{word}(s|es)?\b"


_IDIOMS = re.compile(r"\b(" + "|".join(f"(?:{p})" for p in STORY_IDIOMS) + r")\b")


def literal(text: str) -> str:
    """``text`` in lowercase with its idioms blanked out (``storyreel.vocab.STORY_IDIOMS``): "there was no room
    left" names no room, "over the moon" no night; the other words keep their places."""
    return _IDIOMS.sub(lambda m: " " * len(m.group(0)), text.lower())


def settings_named(text: str) -> list[str]:
    """The settings a text's words name, in the order it names them (each once); idioms name none."""
    lower = literal(text)
    hits: list[tuple[int, int, str]] = []
    for rank, (setting, words) in enumerate(STORY_SETTING_WORDS.items()):
        found = [m.start() for w in words if w not in THINGS and (m := re.search(_word_pattern(w), lower))]
        found = found or [m.start() for w in words if w in THINGS and (m := re.search(_word_pattern(w), lower))]
        if found:
            hits.append((min(found), rank, setting))
    ordered: list[str] = []
    for _, _, setting in sorted(hits):
        if setting not in ordered:
            ordered.append(setting)
    # a phrase names one place: "the bottom of the ocean" is underwater, not also the sea
    if "underwater" in ordered and "sea" in ordered:
        ordered.remove("sea")
    if "desert" in ordered and "beach" in ordered and not re.search(r"\bbeach", lower):
        ordered.remove("beach")
    return ordered


def _first(table: dict[str, tuple[str, ...]], text: str) -> str | None:
    lower = literal(text)
    for value, words in table.items():
        if any(re.search(_word_pattern(w), lower) for w in words):
            return value
    return None


# how an idea may begin that is not the story itself: "A story about friendship" is about friendship
_FRAMING = re.compile(r"^(?:(?:a|an|the)\s+)?(?:\w+\s+)?(?:story|tale|book|film)\s+(?:about|of)\s+", re.I)


def goal_of(prompt: str, hero_words: tuple[str, ...]) -> str:
    """What the idea says the hero does: "A curious squid opens a library …" -> "opens a library …". An idea
    that does not name the hero is the goal as a whole, without its framing: "A story about friendship under
    the stars" -> "friendship under the stars", "The day the rain stopped" -> "the day the rain stopped"."""
    text = prompt.strip().rstrip(".!?")
    lower = text.lower()
    ends = [m.end() for w in hero_words if w and (m := re.search(rf"\b{re.escape(w.lower())}\w*\b", lower))]
    if not ends:
        whole = _FRAMING.sub("", text).strip(" ,")
        first = whole.split(" ", 1)[0]
        lowered = first.lower() if first.lower() in ("a", "an", "the", "one", "once", "how", "when", "why") else first
        return lowered + whole[len(first) :] if len(whole.split()) >= 2 else ""
    rest = text[min(ends) :]
    rest = re.sub(r"^[\s,]*(who|that|which)\s+", "", rest, flags=re.I).strip(" ,")
    return rest if len(rest.split()) >= 2 else ""


def outline_story(prompt: str, pages: int, hero_words: tuple[str, ...] = ()) -> Outline:
    """The outline of a ``pages``-page story for the idea ``prompt``.

    Args:
        prompt: the story idea.
        pages: how many pages (one beat each).
        hero_words: words that name the hero in the idea (its name, its species), to find what it does.
    """
    named = settings_named(prompt)
    worlds = [s for s in named if s in WORLD_PLACES]
    goal_places: list[str] = []
    places = list(named)
    for world in worlds:
        goal_places += [s for s in places if s in WORLD_PLACES[world]]
        places = [s for s in places if s not in WORLD_PLACES[world]]
    time_of_day = _first(STORY_TIME_WORDS, prompt)
    weather = _first(STORY_WEATHER_WORDS, prompt)
    goal = goal_of(prompt, hero_words)
    beats = []
    for index in range(pages):
        if pages == 1:
            part = "end"
        elif index == 0:
            part = "begin"
        elif index == pages - 1:
            part = "end"
        elif index == pages - 2 and pages >= 3:
            part = "turn"
        else:
            part = "go"
        setting = None
        if places:
            at = round(index * (len(places) - 1) / (pages - 1)) if pages > 1 else len(places) - 1
            setting = places[at]
        heading = goal_places[0] if goal_places and part in ("go", "turn") else ""  # the library, all along
        beats.append(Beat(index + 1, part, setting, time_of_day, weather, goal if part == "end" else "", heading))
    return Outline(beats=tuple(beats), places=tuple(places), goal_places=tuple(goal_places))


# "looking up at the sky", "gazed at the old castle", "peered into the dark cave": seen from where the page is
_LOOKED_AT = re.compile(
    r"\b(?:look|gaz|star(?:e|ed|es|ing)\b|peer|glanc)\w*\s+(?:up\s+|out\s+|down\s+|over\s+)?"
    r"(?:at|to|towards?|into)\s+(?:the\s+|a\s+|an\s+)?(?:[a-z]+\s+)?[a-z]+",
    re.I,
)


def read_scene(text: str, beat: Beat | None, previous: dict[str, str] | None) -> dict[str, str]:
    """A page's setting, time of day and weather: from its own words first, its beat second, then the page
    before it (settings and times carry on; weather does not), then meadow, day, clear.

    A page in a world (its beat is under the sea or in space) whose words name only places inside that world
    stays in it: "she opened her library" on the seabed is still underwater. A place only looked at is not
    where the page is: "looking up at the sky" from the seabed stays on the seabed."""
    named = settings_named(_LOOKED_AT.sub(" ", text))
    planned = beat.setting if beat else None
    if planned in WORLD_PLACES:
        inside = set(WORLD_PLACES[planned])
        named = [s for s in named if s not in inside]
    setting = (
        planned
        if planned in named
        else (named[0] if named else planned or (previous["setting"] if previous else "meadow"))
    )
    time_of_day = (
        _first(STORY_TIME_WORDS, text)
        or (beat.time_of_day if beat else None)
        or (previous["time_of_day"] if previous else "day")
    )
    weather = _first(STORY_WEATHER_WORDS, text) or (beat.weather if beat else None) or "clear"
    return {"setting": setting, "time_of_day": time_of_day, "weather": weather}
