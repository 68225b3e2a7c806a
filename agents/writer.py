"""The writer: a story idea in, a ``StoryDraft`` (title, characters with fixed looks, pages) out.

Chat models answer with structured output. Base models (the bundled offline one) only continue text:
they write the pages one at a time after a few example books, and this module builds the rest of the
structure (title, characters, scenes) in code.
"""

from __future__ import annotations

import hashlib
import logging
import re

from langchain_core.language_models import BaseLanguageModel
from langchain_core.messages import HumanMessage, SystemMessage

from storyreel.agents import prompts
from storyreel.agents.llm import ask_structured, is_completion_model
from storyreel.config import LLMSection
from storyreel.plan import Brief, Character, DraftPage, StoryDraft

log = logging.getLogger("storyreel.writer")

SPECIES = (
    "dragon", "fox", "rabbit", "bunny", "bear", "cat", "kitten", "dog", "puppy", "bird", "owl", "duck",
    "penguin", "fish", "whale", "turtle", "frog", "mouse", "elephant", "lion", "tiger", "monkey", "pig",
    "unicorn", "horse", "pony", "robot", "girl", "boy", "child", "princess", "prince", "knight", "wizard",
    "witch", "giant", "troll", "squirrel", "hedgehog", "deer", "wolf", "octopus", "snail", "bee", "ladybug",
)  # fmt: skip
COLORS = {
    "green": "#4caf50", "red": "#e53935", "blue": "#1e88e5", "yellow": "#fdd835", "orange": "#fb8c00",
    "purple": "#8e24aa", "pink": "#f06292", "brown": "#8d6e63", "white": "#f5f5f5", "black": "#424242",
    "gray": "#9e9e9e", "grey": "#9e9e9e", "golden": "#ffb300", "silver": "#b0bec5", "teal": "#26a69a",
}  # fmt: skip
PALETTE = ("green", "orange", "blue", "purple", "teal", "pink", "red", "golden")
_STOP_WORDS = (
    r"\b(who|that|which|and|with|learns?|wants?|goes|went|finds?|is|was|gets?|becomes?|tries|"
    r"meets?|loves?|can|could|will|on|in|at|from|of|to)\b"
)
_ARTICLES = re.compile(r"^(a|an|the|one|once upon a time,? (a|an|the)?)\s+", re.I)

# Words in a page's text that decide its scene (checked in this order; the first match wins).
SETTING_WORDS = {
    "beach": ("beach", "sand", "shore", "surf"), "sea": ("sea", "ocean", "boat", "ship", "wave", "island"),
    "cave": ("cave", "tunnel", "underground"), "castle": ("castle", "tower", "palace", "king", "queen"),
    "mountain": ("mountain", "hill", "peak", "cliff"), "forest": ("forest", "wood", "tree", "jungle"),
    "city": ("city", "street", "town", "shop"), "village": ("village", "farm", "barn", "cottage"),
    "room": ("room", "bed", "house", "home", "kitchen", "inside", "window"),
    "sky": ("sky", "cloud", "fly", "flew", "flying", "star", "moon", "space"),
    "garden": ("garden", "flower", "pond"), "meadow": ("meadow", "field", "grass", "valley"),
}  # fmt: skip
TIME_WORDS = {
    "night": ("night", "dark", "moon", "star", "sleep", "bedtime", "owl"), "dusk": ("evening", "sunset", "dusk"),
    "dawn": ("morning", "sunrise", "dawn", "woke"),
}  # fmt: skip
WEATHER_WORDS = {
    "storm": ("storm", "thunder", "lightning"), "rain": ("rain", "puddle", "wet"), "snow": ("snow", "ice", "winter"),
    "wind": ("wind", "windy", "breeze", "blew"), "fog": ("fog", "mist"), "cloudy": ("cloud", "grey sky"),
}  # fmt: skip


def write_story(llm: BaseLanguageModel, brief: Brief, settings: LLMSection) -> StoryDraft:
    """Write the story for ``brief``: ``brief.pages`` pages, characters with fixed looks."""
    if is_completion_model(llm):
        return write_story_few_shot(llm, brief)
    messages = [
        SystemMessage(
            prompts.WRITER_SYSTEM.format(
                pages=brief.pages,
                settings=prompts.SETTINGS_TEXT,
                times=prompts.TIMES_TEXT,
                weathers=prompts.WEATHERS_TEXT,
            )
        ),
        HumanMessage(prompts.WRITER_HUMAN.format(prompt=brief.prompt, style=brief.style or "any")),
    ]
    return ask_structured(llm, StoryDraft, messages, settings.retries, check=draft_problems(brief), what="story")


def draft_problems(brief: Brief):
    """A check for ``ask_structured``: the page count and the character names must hold together."""

    def check(draft: StoryDraft) -> list[str]:
        problems = []
        if len(draft.pages) != brief.pages:
            problems.append(f"the story must have exactly {brief.pages} pages, it has {len(draft.pages)}")
        names = {c.name for c in draft.characters}
        for number, page in enumerate(draft.pages, start=1):
            unknown = [n for n in page.characters if n not in names]
            if unknown:
                problems.append(f"page {number} shows {unknown}, who are not in the character list {sorted(names)}")
        return problems

    return check


# --- base models: few-shot, structure from code -----------------------------------------------


def seeded_index(seed: int, *parts: object, modulo: int) -> int:
    digest = hashlib.sha256(":".join(map(str, (seed, *parts))).encode()).hexdigest()
    return int(digest[:8], 16) % modulo


def hero_from_prompt(prompt: str, seed: int = 0) -> Character:
    """The main character, read from the idea: 'A little dragon who is afraid of the dark' ->
    'Little Dragon', a dragon with a fixed look. Colors named in the idea are kept."""
    phrase = _ARTICLES.sub("", prompt.strip())
    phrase = re.split(_STOP_WORDS, phrase, maxsplit=1, flags=re.I)[0].strip(" ,.!?") or phrase
    words = phrase.split()[:4]
    lower = prompt.lower()
    species = next((w.lower() for w in reversed(words) if w.lower().rstrip("s") in SPECIES), "")
    species = species.rstrip("s") if species.rstrip("s") in SPECIES else species
    if not species:
        species = next((s for s in SPECIES if re.search(rf"\b{s}s?\b", lower)), "creature")
    proper = bool(words) and words[0][:1].isupper() and words[0].lower() not in ("little", "big", "small", "tiny")
    name = " ".join(words) if proper else " ".join(w.capitalize() for w in words if w.lower() not in COLORS)
    name = name or species.capitalize()
    color = next((c for c in COLORS if re.search(rf"\b{c}\b", lower)), "")
    color = color or PALETTE[seeded_index(seed, "color", modulo=len(PALETTE))]
    size = "small" if re.search(r"\b(little|small|tiny|baby)\b", lower) else "friendly"
    look = f"a {size} {color} {species} with big round eyes, a cheerful face and soft rounded shapes"
    return Character(name=name, look=look, species=species, color=COLORS[color])


def infer_scene(text: str, previous: DraftPage | None) -> dict[str, str]:
    """Setting, time of day and weather from a page's words; unchanged from the last page otherwise."""
    lower = text.lower()

    def pick(table: dict[str, tuple[str, ...]], default: str) -> str:
        for value, words in table.items():
            if any(re.search(rf"\b{w}(s|es)?\b", lower) for w in words):
                return value
        return default

    return {
        "setting": pick(SETTING_WORDS, previous.setting if previous else "meadow"),
        "time_of_day": pick(TIME_WORDS, previous.time_of_day if previous else "day"),
        "weather": pick(WEATHER_WORDS, "clear"),
    }


def clean_sentence(raw: str) -> str:
    """Keep the first one or two sentences of a continuation; drop anything that starts a new page."""
    text = re.split(r"\n|Page \d+:|Book:", raw)[0].strip().strip('"').strip()
    sentences = re.findall(r"[^.!?]+[.!?]", text)
    if sentences:
        text = " ".join(s.strip() for s in sentences[:2])
    return " ".join(text.split())


def write_story_few_shot(llm: BaseLanguageModel, brief: Brief, tries: int = 4) -> StoryDraft:
    """Page by page: the model continues a few example books with our book, one page per call."""
    hero = hero_from_prompt(brief.prompt, brief.seed)
    title = brief.prompt.rstrip(".!? ")
    title = title[:1].upper() + title[1:]
    head = f"{prompts.FEW_SHOT_BOOKS}Book: {title}\nHero: {hero.name}\n"
    pages: list[DraftPage] = []
    written: list[str] = []
    for number in range(1, brief.pages + 1):
        label = f"Page {number}:" if number < brief.pages else f"Page {number} (the end):"
        text = ""
        for attempt in range(tries):
            context = head + "".join(f"Page {i}: {t}\n" for i, t in enumerate(written, start=1))
            raw = llm.invoke(
                f"{context}{label}",
                stop=["\nPage", "\nBook", "\n\n"],
                seed=brief.seed * 1000 + number * 10 + attempt,
            )
            candidate = clean_sentence(raw)
            if len(candidate.split()) >= 4 and candidate.lower() not in (w.lower() for w in written):
                text = candidate
                break
        if not text:
            log.warning("page %d: the offline model gave no usable sentence; using a plain one", number)
            text = (
                f"{hero.name} took a deep breath and kept going."
                if number < brief.pages
                else (f"And from that day on, {hero.name} was a little braver.")
            )
        written.append(text)
        scene = infer_scene(f"{text} {brief.prompt if number == 1 else ''}", pages[-1] if pages else None)
        pages.append(DraftPage(text=text, characters=[hero.name], **scene))
    return StoryDraft(title=title, characters=[hero], pages=pages)
