"""The offline writer: a base model (it only continues text) writes the pages one at a time after a few
example books; the title, the hero with a fixed look and each page's scene are built in code from the idea's
and the pages' words (``storyreel.vocab``)."""

from __future__ import annotations

import hashlib
import re

from langchain_core.language_models import BaseLanguageModel

from storyreel import progress
from storyreel.agents import prompts
from storyreel.errors import AgentError
from storyreel.plan import Brief, Character, DraftPage, StoryDraft
from storyreel.vocab import COLORS, PALETTE, SPECIES, STORY_SETTING_WORDS, STORY_TIME_WORDS, STORY_WEATHER_WORDS

_STOP_WORDS = (
    r"\b(who|that|which|and|with|learns?|wants?|goes|went|finds?|is|was|gets?|becomes?|tries|"
    r"meets?|loves?|can|could|will|on|in|at|from|of|to)\b"
)
_ARTICLES = re.compile(r"^(a|an|the|one|once upon a time,? (a|an|the)?)\s+", re.I)


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
        "setting": pick(STORY_SETTING_WORDS, previous.setting if previous else "meadow"),
        "time_of_day": pick(STORY_TIME_WORDS, previous.time_of_day if previous else "day"),
        "weather": pick(STORY_WEATHER_WORDS, "clear"),
    }


def clean_sentence(raw: str) -> str:
    """Keep the first one or two sentences of a continuation; drop anything that starts a new page."""
    text = re.split(r"\n|Page \d+:|Book:", raw)[0].strip().strip('"').strip()
    sentences = re.findall(r"[^.!?]+[.!?]", text)
    if sentences:
        text = " ".join(s.strip() for s in sentences[:2])
    return " ".join(text.split())


def write_story_few_shot(llm: BaseLanguageModel, brief: Brief, tries: int = 4) -> StoryDraft:
    """Page by page: the model continues a few example books with our book, one page per call; the title,
    the hero and the scenes are built in code. A page with no usable sentence after ``tries`` continuations
    is an AgentError (never a stand-in sentence)."""
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
            raise AgentError(
                f"page {number}: the offline model wrote no usable sentence in {tries} tries; try another seed "
                "(--seed) or a chat model (llm.model=ollama:<model> or openai:<model>)"
            )
        written.append(text)
        progress.advance("story", f"page {number} written")
        scene = infer_scene(f"{text} {brief.prompt if number == 1 else ''}", pages[-1] if pages else None)
        pages.append(DraftPage(text=text, characters=[hero.name], **scene))
    return StoryDraft(title=title, characters=[hero], pages=pages)
