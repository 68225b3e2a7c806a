"""The offline writer: a base model (it only continues text) writes the pages one at a time after a few
example books, each page against its beat of an outline made in code; the title, the cast with fixed looks
and each page's scene are built in code from the idea's and the pages' words (``storyreel.vocab``).

- the cast: ``storyreel.agents.offline.cast`` (every character the idea names, with a name and a species);
- the outline: ``storyreel.agents.offline.outline`` (begin, go on, turn, end; the places the idea names);
- a page is kept when it is a sentence of its own: at least four words, about the hero or the place, not a
  repeat of an earlier page and not a line of the example books; the last page should reach the place the
  idea names inside its world (the library at the bottom of the ocean), asked of every try but the last.
  The last page's sampling favours the words of that place (``goal_words``: a logit bias, the model still
  writes the sentence). Each page gets up to ``tries`` continuations, the pages so far read once for all of
  them (``TransformersCompletion``'s ``prefix``); the first that passes is kept. A page
  with none usable is an AgentError, never a stand-in sentence.
"""

from __future__ import annotations

import re

from langchain_core.language_models import BaseLanguageModel

from storyreel import progress
from storyreel.agents.offline.cast import PEOPLE, cast_from_prompt, seeded_index, species_of
from storyreel.agents.offline.outline import Beat, Outline, outline_story, read_scene
from storyreel.errors import AgentError
from storyreel.plan import Brief, Character, DraftPage, StoryDraft
from storyreel.vocab import STORY_SETTING_WORDS

__all__ = ["clean_sentence", "hero_from_prompt", "infer_scene", "seeded_index", "write_story_few_shot"]

# Few-shot books in the picture-book shape: each page says its beat (the part of the story and where it
# happens), the way the writer's prompt gives ours, so the model learns to write the page its beat asks for.
FEW_SHOT_BOOKS = """Book: A fox who lost her red scarf
Hero: Fern the fox
Page 1 (the beginning, in the meadow): Fern the fox loved her red scarf more than anything.
Page 2 (on the way, in the meadow): One windy morning, the wind pulled the scarf away over the hills.
Page 3 (on the way, in the woods): Fern ran into the woods and asked the rabbits if they had seen it.
Page 4 (the turn, in the woods): High in an old oak tree, a bird was using the scarf as a cozy nest.
Page 5 (the end, in the woods, finds her scarf): Fern smiled and let the bird keep it, and the bird sang her a song.

Book: A little bear who sails to the island of cakes
Hero: Little Bear
Page 1 (the beginning, at home): Little Bear dreamed of an island made of cakes.
Page 2 (on the way, at sea, heading for the island): He built a small boat and sailed over the big blue waves.
Page 3 (the turn, at sea, heading for the island): A storm came, and Little Bear held on tight as the boat rocked.
Page 4 (the end, on the beach, sails to the island of cakes): At last he reached the island and shared cakes with gulls.

Book: A shy robot who starts a school for birds
Hero: Shy Robot
Page 1 (the beginning, in the city): Shy Robot lived alone in a quiet street of the city.
Page 2 (the turn, in the city, heading for the school): One day a lost little bird landed on his head and would not fly.
Page 3 (the end, at school, starts a school for birds): Shy Robot opened a school, and every bird learned to fly.

"""
FEW_SHOT_HEROES = ("Fern", "Little Bear", "Shy Robot")
_PRONOUNS = re.compile(r"\b(he|she|they|his|her|their|them|him|it|its)\b", re.I)


def hero_from_prompt(prompt: str, seed: int = 0) -> Character:
    """The main character, read from the idea: 'A little dragon who is afraid of the dark' ->
    'Little Dragon', a dragon with a fixed look (the first of ``cast_from_prompt``)."""
    return cast_from_prompt(prompt, seed)[0]


def infer_scene(text: str, previous: DraftPage | None, beat: Beat | None = None) -> dict[str, str]:
    """Setting, time of day and weather from a page's words first, then its beat, then the page before."""
    before = previous.model_dump(include={"setting", "time_of_day", "weather"}) if previous else None
    return read_scene(text, beat, before)


def clean_sentence(raw: str) -> str:
    """Keep the first one or two sentences of a continuation; drop anything that starts a new page."""
    text = re.split(r"\n|Page \d+|Book:|Hero:", raw)[0].strip().strip('"').strip()
    sentences = re.findall(r"[^.!?]+[.!?]", text)
    if sentences:
        text = " ".join(s.strip() for s in sentences[:2])
    return " ".join(text.split())


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def page_problem(
    text: str, number: int, cast: list[Character], beat: Beat, outline: Outline, written: list[str]
) -> str:
    """Why a candidate page cannot be kept ("" when it can): too short, about neither the hero nor the
    place, a repeat of an earlier page, or a line of the example books."""
    words = _words(text)
    if len(text.split()) < 4:
        return "too short"
    lower = text.lower()
    if any(re.search(rf"\b{re.escape(h.lower())}\b", lower) for h in FEW_SHOT_HEROES) and not any(
        h.lower() in " ".join(c.name.lower() for c in cast) for h in FEW_SHOT_HEROES
    ):
        return "a character of the example books"
    names = {w for c in cast for w in _words(c.name) | {c.species} if len(w) > 2 or w == c.name.lower()}  # Bo too
    places = {w for s in (beat.setting, *outline.places, *outline.goal_places) if s for w in STORY_SETTING_WORDS[s]}
    about = bool(words & names) or any(re.search(rf"\b{re.escape(p)}", lower) for p in places)
    if not about and not (number > 1 and _PRONOUNS.search(text)):
        return "about neither the hero nor the place"
    for earlier in written:
        seen = _words(earlier)
        if len(words & seen) / max(1, len(words | seen)) > 0.6:
            return "a repeat of an earlier page"
    return ""


def goal_problem(text: str, beat: Beat, outline: Outline) -> str:
    """Why the last page does not end the story the idea asks for ("" when it does): it must reach the place
    the idea names inside its world ("opens a library at the bottom of the ocean": the library)."""
    if beat.part != "end" or not outline.goal_places:
        return ""
    lower = text.lower()
    if any(re.search(rf"\b{re.escape(w)}", lower) for p in outline.goal_places for w in STORY_SETTING_WORDS[p]):
        return ""
    return f"does not reach the {' or the '.join(outline.goal_places)}"


def hero_problem(text: str, beat: Beat, hero: Character) -> str:
    """Why the first page does not begin the story ("" when it does): it names the hero (by name or
    species), as each example book's first page does; the pages after it may say "she"."""
    if beat.part != "begin":
        return ""
    words = _words(text)
    return "" if words & (_words(hero.name) | {hero.species}) else f"does not name {hero.name}"


def goal_words(prompt: str, beat: Beat, outline: Outline) -> tuple[str, ...]:
    """The words that name the place a last page must reach ("opens a library at the bottom of the ocean":
    library, libraries), the idea's own first; none for another page."""
    if beat.part != "end" or not outline.goal_places:
        return ()
    said = set(re.findall(r"[a-z]+", prompt.lower()))
    words = [w for p in outline.goal_places for w in STORY_SETTING_WORDS[p] if " " not in w]
    named = [w for w in words if w in said or w.rstrip("s") in said or w.removesuffix("ies") + "y" in said]
    return tuple(dict.fromkeys(named or words[:1]))


def write_story_few_shot(llm: BaseLanguageModel, brief: Brief, tries: int = 4) -> StoryDraft:
    """Page by page: the model continues a few example books with our book, one page per call, each page
    against its beat of the outline; the title, the cast and the scenes are built in code. A page with no
    usable sentence after ``tries`` continuations is an AgentError (never a stand-in sentence)."""
    cast = cast_from_prompt(brief.prompt, brief.seed)
    hero = cast[0]
    outline = outline_story(brief.prompt, brief.pages, (hero.name, hero.species))
    title = brief.prompt.rstrip(".!? ")
    title = title[:1].upper() + title[1:]
    hero_line = hero.name if hero.name.lower().endswith(hero.species) else f"{hero.name} the {hero.species}"
    others = ", ".join(c.name for c in cast[1:])
    head = f"{FEW_SHOT_BOOKS}Book: {title}\nHero: {hero_line}\n" + (f"With: {others}\n" if others else "")
    pages: list[DraftPage] = []
    written: list[str] = []
    for number in range(1, brief.pages + 1):
        beat = outline.beat(number)
        context = head + "".join(f"Page {i} ({outline.beat(i).cue}): {t}\n" for i, t in enumerate(written, start=1))
        text, fallback, problems = "", "", []
        goal = goal_words(brief.prompt, beat, outline)  # the last page's place, favoured in its sampling
        for attempt in range(tries):
            candidate = clean_sentence(
                llm.invoke(
                    f"{context}Page {number} ({beat.cue}):",
                    stop=["\nPage", "\nBook", "\n\n"],
                    seed=brief.seed * 1000 + number * 10 + attempt,
                    max_sentences=2,  # a page keeps two sentences (clean_sentence): no tokens after them
                    prefix=context,  # the same for every try of this page, and the start of the next page's
                    stable_prefix=FEW_SHOT_BOOKS,  # the same in every run: its cache is kept on disk
                    favour=goal,
                )
            )
            problem = page_problem(candidate, number, cast, beat, outline, written)
            if not problem and (
                problem := goal_problem(candidate, beat, outline) or hero_problem(candidate, beat, hero)
            ):
                fallback = fallback or candidate  # a good page that does not reach the goal, or meet the hero
            if not problem:
                text = candidate
                break
            problems.append(problem)
            if fallback and attempt >= tries - 2:  # the goal or the hero was asked of all tries but the last
                break
        text = text or fallback
        if not text:
            raise AgentError(
                f"page {number}: the offline model wrote no usable sentence in {tries} tries "
                f"({'; '.join(dict.fromkeys(problems))}); try another seed (--seed) or a chat model "
                "(llm.model=ollama:<model> or openai:<model>)"
            )
        written.append(text)
        progress.advance("story", f"page {number} written")
        scene = infer_scene(text, pages[-1] if pages else None, beat)
        pages.append(DraftPage(text=text, characters=shown_on_page(text, cast), **scene))
    return StoryDraft(title=title, characters=cast, pages=pages)


# words that mean the whole cast is there: "they built it together", "the friends", "both of them"
_TOGETHER = re.compile(r"\b(they|them|their|both|together|everyone|friends)\b", re.I)
_KIN = {"puppy": "dog", "dog": "puppy", "kitten": "cat", "cat": "kitten", "bunny": "rabbit", "rabbit": "bunny",
        "lamb": "sheep", "sheep": "lamb", "pony": "horse", "horse": "pony"}  # fmt: skip


def shown_on_page(text: str, cast: list[Character]) -> list[str]:
    """Who a page shows: the characters its words name (by name, or by species for all of that species:
    "the squids", "the children"), the whole cast when its words say they are together ("they", "both"); the
    hero when it names none."""
    lower = text.lower()
    if len(cast) > 1 and _TOGETHER.search(lower):
        return [c.name for c in cast]
    words = re.findall(r"[a-z']+", lower)
    named_species = {species_of(w) for w in words} - {""}
    if {"children", "kids", "boys", "girls"} & set(words):
        named_species |= PEOPLE  # "the children", "two boys": all the cast's children, whichever their word
    named_species |= {_KIN[s] for s in named_species if s in _KIN}  # "her puppy" is the dog there is
    shown = []
    for c in cast:
        by_name = re.search(rf"\b{re.escape(c.name.lower())}\b", lower)
        first = c.name.split()[0].lower()
        by_first = len(c.name.split()) == 1 or first not in ("first", "second", "third", "fourth", "fifth")
        by_species = c.species in named_species
        if by_name or (by_first and re.search(rf"\b{re.escape(first)}\b", lower) and len(first) > 2) or by_species:
            shown.append(c.name)
    return shown or [cast[0].name]
