"""The offline model's answer to the reviser's request: the common requests read by rules, in code (a base
model cannot follow instructions). What the rules do not understand is refused with examples, never guessed.
The words that name settings, times, weathers, moods and sounds are ``storyreel.vocab``'s."""

from __future__ import annotations

import re

from storyreel.agents.offline.direction import style_bible_for
from storyreel.edits import (
    AddPageEdit,
    AddSoundEdit,
    Edit,
    LookEdit,
    MovePageEdit,
    MusicEdit,
    PictureEdit,
    RemoveMusicEdit,
    RemovePageEdit,
    RemoveSoundEdit,
    Revision,
    SceneEdit,
    StyleEdit,
    TextEdit,
    VoiceEdit,
    check_edits,
    pages_text,
)
from storyreel.errors import InputError
from storyreel.plan import Character, StoryPlan
from storyreel.vocab import (
    COLORS,
    REQUEST_MOOD_WORDS,
    REQUEST_SETTING_WORDS,
    REQUEST_TIME_WORDS,
    REQUEST_WEATHER_WORDS,
    SOUNDS,
)

EXAMPLES = (
    '"make the dragon green", "page 3 should happen at the beach", "make the music calmer", '
    '"page 2 should say \\"Pip found the moon.\\"", "add rain sounds to page 4", "use a crayon drawing style", '
    '"a British narrator", "remove page 5", "move page 4 to the start", '
    '"add a page after page 2: \\"They had a picnic.\\""'
)


# --- reading requests: numbers and pages ----------------------------------------------------------

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
}  # fmt: skip
_ORDINAL_PAGE = re.compile(r"\b(?:the\s+)?(last|\d+(?:st|nd|rd|th)|" + "|".join(NUMBER_WORDS) + r")\s+page\b", re.I)
_PAGE_WORD = re.compile(r"\bpage\s+(" + "|".join(NUMBER_WORDS) + r")\b", re.I)
_PAGE_REFS = re.compile(r"\bpages?\s+(\d+)((?:\s*(?:,|&|and|to|through|-|–)\s*(?:page\s+)?\d+)*)", re.I)
_EVERY_PAGE = re.compile(r"\b(every|each|all(?:\s+the)?)\s+pages?\b|\beverywhere\b|\bthe\s+whole\s+(film|book)\b", re.I)


def normalize_request(request: str, pages: int) -> str:
    """One line, ordinal pages as numbers: "the third page" -> "page 3", "the last page" -> "page N"."""
    text = " ".join(request.split())

    def ordinal(match: re.Match) -> str:
        word = match.group(1).lower()
        if word == "last":
            return f"page {pages}"
        if word[:1].isdigit():
            return f"page {int(word[:-2])}"
        return f"page {NUMBER_WORDS[word]}" if word in NUMBER_WORDS else match.group(0)

    text = _ORDINAL_PAGE.sub(ordinal, text)
    return _PAGE_WORD.sub(lambda m: f"page {NUMBER_WORDS[m.group(1).lower()]}", text)


def _page_number(digits: str) -> int:
    """A page number as written (any script's digits); one too long to be a page stays too big, never a hang."""
    return int(digits) if len(digits) <= 6 else 10**6


def page_refs(text: str) -> list[int]:
    """Page numbers a text names: "page 3", "pages 2 and 4", "pages 2-4"."""
    numbers: list[int] = []
    for match in _PAGE_REFS.finditer(text):
        first = _page_number(match.group(1))
        numbers.append(first)
        previous = first
        for sep, number in re.findall(r"(,|&|and|to|through|-|–)\s*(?:page\s+)?(\d+)", match.group(2)):
            number = _page_number(number)
            if sep in ("-", "–") or (sep in ("to", "through") and match.group(0).lower().startswith("pages")):
                numbers += list(range(previous + 1, min(number, previous + 100) + 1))  # "pages 2-99999": no hang
                if number > previous + 100:
                    numbers.append(number)  # still named, so a page the film does not have is refused
            else:
                numbers.append(number)
            previous = number
    return numbers


def check_page_numbers(request: str, plan: StoryPlan) -> None:
    """Refuse a request that names a page the film does not have (adding the page after the last is fine)."""
    count = len(plan.pages)
    request = re.sub(r'"[^"]*"|“[^”]*”', "", request)  # quoted words are text for the film, not references
    adding = re.search(r"\b(add|insert|new)\b", request, re.I) is not None
    for number in page_refs(request):
        if number < 1 or number > count + (1 if adding else 0):
            raise InputError(f"page {number} does not exist: {pages_text(count)}; nothing was changed")


# --- reading requests: rules for base models --------------------------------------------------------

SOUND_NAMES = SOUNDS
VOICE_LANGUAGES = {
    "en-gb-scotland": "scottish|scots", "en-gb": "british|english|uk", "en-us": "american|us",
}  # fmt: skip
VOICE_VARIANTS = {
    "f3": "female|woman|girl|lady|feminine", "m3": "male|man|boy|masculine", "whisper": "whisper\\w*",
    "grandma": "grandma|granny|grandmother|old lady", "grandpa": "grandpa|grandfather|old man",
    "robosoft": "robot\\w*",
}  # fmt: skip
SIZE_WORDS = {"bigger": "big", "larger": "big", "huge": "huge", "smaller": "small", "tinier": "tiny", "tiny": "tiny"}
PAGE_WORDS = {"on", "in", "for", "at", "page", "pages", "to", "of", "the"}
FILLER = {"please", "thanks", "thank", "you", "also", "then", "ok", "okay", "too", "and", "so", "now", "oh", "hi"}
_STARTS_CLAUSE = re.compile(
    r"(make|let|page|add|put|remove|delete|drop|cut|move|swap|change|set|use|give|turn|no|mute|draw|show|"
    r"the\s+(music|narrat\w*|style|score|sounds?)|music|narrat\w*|style)\b",
    re.I,
)


def _word(pattern: str) -> str:
    return rf"\b(?:{pattern})\b"


def _find(table: dict[str, str], text: str) -> str | None:
    """The key of the entry whose words occur earliest in ``text``."""
    hits = [(m.start(), key) for key, words in table.items() if (m := re.search(_word(words), text, re.I))]
    return min(hits)[1] if hits else None


def split_clauses(request: str) -> list[str]:
    """Clauses of a request: split at sentence ends, commas and semicolons, and at "and" when a new
    instruction follows it. Quoted text is kept whole."""
    quoted: list[str] = []

    def keep(match: re.Match) -> str:
        quoted.append(match.group(1) or match.group(2))
        return f"\x00{len(quoted) - 1}\x00"

    text = re.sub(r'"([^"]*)"|“([^”]*)”', keep, request)
    parts = re.split(r"\s*(?:[;!?]|\.(?=\s|$)|,)\s*", text)
    clauses: list[str] = []
    for part in parts:
        pieces = re.split(r"\s+(?:and|then|also)\s+(?=" + _STARTS_CLAUSE.pattern + ")", part, flags=re.I)
        # re.split returns the captured groups of the lookahead pattern too: keep the clauses only
        clauses += [p for p in pieces[:: _STARTS_CLAUSE.groups + 1] if p and p.strip()]
    restored = [re.sub(r"\x00(\d+)\x00", lambda m: f'"{quoted[int(m.group(1))]}"', c).strip() for c in clauses]
    return [c for c in (re.sub(r"^(?:and|then|also|but)\s+", "", c, flags=re.I) for c in restored) if c]


def _first_match(patterns: tuple[str, ...], clause: str) -> re.Match | None:
    """The match of the first of ``patterns`` found in ``clause`` (case-insensitive)."""
    return next((m for pattern in patterns if (m := re.search(pattern, clause, re.I))), None)


def _quoted_or_rest(text: str) -> str:
    """The quoted text in ``text`` if there is one, else ``text`` without leading punctuation."""
    match = re.search(r'"([^"]+)"', text)
    return (match.group(1) if match else text).strip().strip(":").strip()


def parse_request(request: str, plan: StoryPlan) -> Revision:
    """Edits for the common requests, read by rules alone. A clause the rules do not understand is refused
    with examples: a guess could change the wrong thing."""
    edits, unknown = read_by_rules(request, plan)
    if unknown:
        raise not_understood([clause for clause, _pages in unknown])
    return checked(plan, edits)


def read_by_rules(request: str, plan: StoryPlan) -> tuple[list[Edit], list[tuple[str, list[int]]]]:
    """The edits the rules read from ``request``, and the clauses they do not understand, each with the
    pages it is about (named in it, or in the clause before it: "On page 2, have the fox say hello")."""
    edits: list[Edit] = []
    unknown: list[tuple[str, list[int]]] = []
    context: list[int] = []  # the pages of the last clause that named some, for "page 3 at the beach, at night"
    for clause in split_clauses(normalize_request(request, len(plan.pages))):
        refs = page_refs(clause)
        if _EVERY_PAGE.search(clause):
            refs = [p.number for p in plan.pages]
        words = set(re.findall(r"[a-z]+", clause.lower()))
        if refs and words <= FILLER | PAGE_WORDS:  # "On page 2": the pages of what follows
            context = refs
            continue
        found = _parse_clause(clause, plan, refs or context)
        if found:
            edits += found
            context = refs or context
        elif not words <= FILLER:
            unknown.append((clause, refs or context))
    return edits, unknown


def not_understood(clauses: list[str]) -> InputError:
    """The one-line refusal, with examples of what is understood."""
    return InputError(
        f"could not understand {', '.join(repr(c) for c in clauses)}; nothing was changed. The offline model "
        f"understands requests such as {EXAMPLES}, and rewrites a page in plain words when the request names it "
        '("on page 2, have the fox say hello to an owl", "make the ending happier"); a chat model '
        "(llm.model=ollama:… or openai:…) understands more"
    )


def checked(plan: StoryPlan, edits: list[Edit]) -> Revision:
    """The edits as a revision, or an InputError naming what does not fit the plan."""
    problems = check_edits(plan, edits)
    if problems:
        raise InputError("; ".join(problems) + "; nothing was changed")
    return Revision(edits=edits)


# someone is to say something ("have the fox say good night to an owl"): the words said are the page's text,
# not its scene, sounds or looks ("night", "birds", "green" in them are not asked of the picture)
_DIALOGUE = re.compile(
    r"\b(?:have|has|let|lets|make|makes)\s+(?!the\s+narrat)[\w' ]+?\s+(?:say|tell|ask|shout|whisper|sing|call)\s+\S",
    re.I,
)


def _parse_clause(clause: str, plan: StoryPlan, pages: list[int]) -> list[Edit]:
    """The edits one clause asks for; empty when no rule understands it."""
    if _DIALOGUE.search(clause):
        return _pages_rule(clause, plan, pages) or _text_rule(clause, plan, pages)
    for rule in (_pages_rule, _text_rule, _picture_rule, _sound_rule, _music_rule, _voice_rule, _look_rule,
                 _style_rule, _scene_rule):  # fmt: skip
        found = rule(clause, plan, pages)
        if found:
            return found
    return []


def added_after(rest: str, count: int) -> int:
    """Where a page a request adds goes, from the words after "add a page": the page it follows (0: before the
    first); at the end when they say nothing."""
    if p := re.search(r"\bafter\s+page\s+(\d+)", rest, re.I):
        return int(p.group(1))
    if p := re.search(r"\bbefore\s+page\s+(\d+)", rest, re.I):
        return int(p.group(1)) - 1
    if re.search(r"\bat\s+the\s+(start|beginning)\b", rest, re.I):
        return 0
    return count


def _pages_rule(clause: str, plan: StoryPlan, pages: list[int]) -> list[Edit]:
    """Remove, move, swap and add pages."""
    count = len(plan.pages)
    if m := re.search(r"\b(?:remove|delete|drop|cut)\s+(?:the\s+)?pages?\s+\d", clause, re.I):
        return [RemovePageEdit(page=n) for n in page_refs(clause[m.start() :])]
    if m := re.search(r"\bswap\s+pages?\s+(\d+)\s*(?:&|and|with)\s*(?:page\s+)?(\d+)", clause, re.I):
        a, b = sorted((int(m.group(1)), int(m.group(2))))
        return [MovePageEdit(page=a, to=b), MovePageEdit(page=b, to=a)] if a != b else []
    if m := re.search(r"\bmove\s+page\s+(\d+)\s+(?:to\s+)?(?:the\s+)?(start|beginning|front|end|last)\b", clause, re.I):
        return [
            MovePageEdit(page=int(m.group(1)), to=1 if m.group(2).lower() in ("start", "beginning", "front") else count)
        ]
    if m := re.search(r"\bmove\s+page\s+(\d+)\s+(after|before)\s+page\s+(\d+)", clause, re.I):
        page, anchor = int(m.group(1)), int(m.group(3))
        at = anchor - 1 if page < anchor else anchor  # where the anchor is once the page is taken out
        to = at + 1 if m.group(2).lower() == "after" else at
        return [MovePageEdit(page=page, to=max(1, min(count, to)))]
    if m := re.search(r"\bmove\s+page\s+(\d+)\s+to\s+(?:position\s+|place\s+|page\s+)?(\d+)", clause, re.I):
        return [MovePageEdit(page=int(m.group(1)), to=int(m.group(2)))]
    if m := re.search(r"\b(?:add|insert)\s+(?:a\s+|an\s+|one\s+)?(?:new\s+)?page\b(.*)", clause, re.I):
        rest = m.group(1)
        after = added_after(rest, count)
        text = re.sub(
            r"\b(after|before)\s+page\s+\d+|\bat\s+the\s+(start|beginning|end)\b|\b(saying|that says|which says|"
            r"with the text|where|in which)\b",
            "",
            rest,
            flags=re.I,
        )
        if not re.search(r'"[^"]+"', text):
            return []  # a described page, not its words: the offline model writes it (agents.offline.rewrite)
        text = _quoted_or_rest(text)
        if len(text.split()) < 2:
            return []  # no text for the new page: not understood (the message gives an example)
        return [AddPageEdit(after=after, text=text[:1].upper() + text[1:])]
    return []


def _text_rule(clause: str, plan: StoryPlan, pages: list[int]) -> list[Edit]:
    """New words for a page: 'page 2 should say "…"', 'change the text of page 2 to "…"'."""
    patterns = (
        r"\bpage\s+(?P<page>\d+)\s*(?:should|must|will|could)?\s*(?:say|says|read|reads)\b\s*(?P<text>.+)",
        r"\b(?:change|set|replace|make)\s+(?:the\s+)?(?:text|narration|words|line)\s+(?:of|on|for)\s+page\s+"
        r"(?P<page>\d+)\s+(?:to|with|say)\b\s*(?P<text>.+)",
        r"\bpage\s+(?P<page>\d+)\s*(?:text|narration|words)\s*(?::|should\s+be|is)\s*(?P<text>.+)",
    )
    if m := _first_match(patterns, clause):
        text = _quoted_or_rest(m.group("text"))
        return [TextEdit(page=int(m.group("page")), text=text)] if text else []
    return []


def _picture_rule(clause: str, plan: StoryPlan, pages: list[int]) -> list[Edit]:
    """What a page's picture shows: 'page 3 should show …', 'show … on page 3'."""
    patterns = (
        r"\bpage\s+(?P<page>\d+)(?:'s)?\s*(?:should|must)?\s*(?:show|shows|picture|image|illustration)\b"
        r"(?:\s+(?:should\s+show|shows|of|:))?\s*(?P<text>.+)",
        r"\b(?:show|draw)\s+(?P<text>.+?)\s+on\s+page\s+(?P<page>\d+)\s*$",
    )
    if m := _first_match(patterns, clause):
        text = _quoted_or_rest(m.group("text"))
        return [PictureEdit(page=int(m.group("page")), shows=text)] if len(text.split()) >= 2 else []
    return []


def _sound_name(clause: str, plan: StoryPlan) -> str | None:
    names = list(SOUND_NAMES) + [c.sound for p in plan.pages for c in p.sfx if c.sound not in SOUND_NAMES]
    hits = [
        (m.start(), name) for name in names if (m := re.search(rf"\b{re.escape(name.rstrip('s'))}s?\b", clause, re.I))
    ]
    return min(hits)[1] if hits else None


def _sound_rule(clause: str, plan: StoryPlan, pages: list[int]) -> list[Edit]:
    """Sound effects on pages: 'add rain sounds to page 2', 'no birds on page 1', 'no sounds on page 3'."""
    if re.search(_word("music|score|soundtrack|song|melody|tune"), clause, re.I):
        return []
    name = _sound_name(clause, plan)
    every = re.search(r"\b(sound\s*effects?|sounds|sfx|noises?)\b", clause, re.I)
    removing = re.search(_word("remove|no|without|mute|drop|stop|delete|silence|quiet"), clause, re.I)
    adding = re.search(_word("add|put|play|include|with"), clause, re.I)
    if not pages or not (name or every) or not (removing or adding):
        return []
    if removing:
        sound = name or "all"
        return [
            RemoveSoundEdit(page=n, sound=sound)
            for n in pages
            if sound == "all" or any(c.sound == sound for c in plan.pages[n - 1].sfx) or len(pages) == 1
        ]
    if name is None:
        return []
    return [AddSoundEdit(page=n, sound=name, prompt=name) for n in pages]


def _music_rule(clause: str, plan: StoryPlan, pages: list[int]) -> list[Edit]:
    """Music: 'make the music calmer', 'sadder music on page 4', 'no music'."""
    if not re.search(_word("music|score|soundtrack|melody|tune"), clause, re.I):
        return []
    pages = page_refs(clause)  # only pages this clause names: "page 3 at the beach, and calmer music" is all music
    cues = sorted({i for i, c in enumerate(plan.music, 1) for n in pages if c.first_page <= n <= c.last_page})
    targets: list[int | None] = cues if pages and cues else [None]
    if re.search(_word("no|remove|without|turn\\s+off|stop|drop|mute"), clause, re.I):
        return [RemoveMusicEdit(cue=c) for c in targets]
    hits = [
        (m.start(), mood) for mood, words in REQUEST_MOOD_WORDS if (m := re.search(rf"\b(?:{words})", clause, re.I))
    ]
    if not hits:
        return []
    mood = min(hits)[1]
    if pages and sorted(set(pages)) == list(range(min(pages), max(pages) + 1)):
        whole = [(plan.music[c - 1].first_page, plan.music[c - 1].last_page) for c in cues]
        if whole != [(min(pages), max(pages))]:  # some pages, not one whole cue: the music over those pages
            return [MusicEdit(mood=mood, first_page=min(pages), last_page=max(pages))]
    return [MusicEdit(cue=c, mood=mood) for c in targets]


def _voice_of(clause: str, current: str) -> str | None:
    language = _find(VOICE_LANGUAGES, clause)
    variant = _find(VOICE_VARIANTS, clause)
    named = re.search(r"\bvoice\s*(?::|to|=|named)?\s*['\"]?([a-z]{1,3}[_-][\w+-]+)", clause, re.I)
    espeak = re.search(r"\b(en(?:-[a-z]+)+(?:\+\w+)?|[a-z]{2}(?:-[a-z]+)*\+\w+)\b", clause)
    if named or espeak:  # a voice name of the narration backend: en-gb+f3 (espeak-ng), af_heart ...
        return (named or espeak).group(1)
    if not language and not variant:
        return None
    base, _, old_variant = current.partition("+")
    base = language or base or "en-us"
    variant = variant or old_variant
    return f"{base}+{variant}" if variant else base


def _mentions(clause: str, plan: StoryPlan) -> list[tuple[int, int, Character]]:
    """Where the clause names a character: by name, or by species when only one has it ("the dragon")."""
    species = [c.species.lower() for c in plan.characters]
    found = []
    for c in plan.characters:
        words = [re.escape(c.name)]
        if species.count(c.species.lower()) == 1 and c.species.lower() not in ("creature", ""):
            words.append(re.escape(c.species) + "s?")
        for m in re.finditer(rf"\b(?:{'|'.join(words)})\b", clause, re.I):
            found.append((m.start(), m.end(), c))
    return sorted(found, key=lambda f: f[0])


def _voice_rule(clause: str, plan: StoryPlan, pages: list[int]) -> list[Edit]:
    """Voices: 'a British narrator', 'the narrator should be a woman', 'give Pip a whisper voice'."""
    if not re.search(r"\b(narrat\w*|voice|reader|storyteller|read\s+by|sounds?\s+like)\b", clause, re.I):
        return []
    mentions = _mentions(clause, plan)
    if mentions and not re.search(r"\bnarrat", clause, re.I):
        character = mentions[0][2]
        voice = _voice_of(clause, character.voice or plan.narrator_voice)
        return [VoiceEdit(character=character.name, voice=voice)] if voice else []
    voice = _voice_of(clause, plan.narrator_voice)
    return [VoiceEdit(voice=voice)] if voice else []


def _recolor(look: str, species: str, color: str) -> str:
    """The look with its main color changed: the color word before the species, else the first color
    word; with none, the color goes before the species (or at the front)."""
    colors = "|".join(COLORS)
    if species and (m := re.search(rf"\b(?:({colors})\s+)?({re.escape(species)})\b", look, re.I)):
        if m.group(1):
            return look[: m.start(1)] + color + look[m.end(1) :]
        return look[: m.start(2)] + f"{color} " + look[m.start(2) :]
    if m := re.search(rf"\b({colors})\b", look, re.I):
        return look[: m.start()] + color + look[m.end() :]
    return f"{color} {look}"


def _look_rule(clause: str, plan: StoryPlan, pages: list[int]) -> list[Edit]:
    """Characters' looks: 'make the dragon green', 'give Pip a red hat', 'Olo should look like …'."""
    mentions = _mentions(clause, plan)
    if not mentions:
        return []
    edits: list[Edit] = []
    colors = "|".join(COLORS)
    for i, (start, end, character) in enumerate(mentions):
        if any(isinstance(e, LookEdit) and e.character == character.name for e in edits):
            continue
        stop = mentions[i + 1][0] if i + 1 < len(mentions) else len(clause)
        after = clause[end:stop]
        look = character.look
        if m := re.match(r"(?:'s\s+\w+)?\s*(?:should\s+)?(?:look|looks)\s+like\s+(.+)", after, re.I):
            edits.append(LookEdit(character=character.name, look=_quoted_or_rest(m.group(1))))
            continue
        if m := re.search(r"\b(?:wear|wears|wearing|have|has)\s+(an?\s+.+|some\s+.+|\w+\s+.+)", after, re.I):
            edits.append(LookEdit(character=character.name, look=f"{look.rstrip('.')}, with {m.group(1).strip()}"))
            continue
        given = re.search(r"\bgive\s+(?:the\s+)?$", clause[:start], re.I) and re.match(
            r"\s+(an?\s+.+|some\s+.+)", after
        )
        if given:
            edits.append(LookEdit(character=character.name, look=f"{look.rstrip('.')}, with {given.group(1).strip()}"))
            continue
        color = re.search(rf"\b({colors})\b", after, re.I)
        size = re.search(rf"\b({'|'.join(SIZE_WORDS)})\b", after, re.I)
        if color:
            name = color.group(1).lower()
            look = _recolor(look, character.species, name)
            edits.append(LookEdit(character=character.name, look=look, color=COLORS[name]))
        elif size:
            word = SIZE_WORDS[size.group(1).lower()]
            sized = re.sub(r"\b(small|little|tiny|big|large|huge|friendly)\b", word, look, count=1, flags=re.I)
            edits.append(LookEdit(character=character.name, look=sized if sized != look else f"{word} {look}"))
    return edits


def _style_rule(clause: str, plan: StoryPlan, pages: list[int]) -> list[Edit]:
    """The style: 'use a crayon drawing style', 'make it look like a comic', 'change the style to …'."""
    patterns = (
        r"\b(?:change|set|switch)\s+(?:the\s+)?(?:visual\s+|art\s+|drawing\s+)?style\s+(?:to|into)\s+(?:an?\s+)?(?P<s>.+)",
        r"\bstyle\s*(?::|should\s+be)\s*(?:an?\s+)?(?P<s>.+)",
        r"\bin\s+the\s+style\s+of\s+(?P<s>.+)",
        r"\bmake\s+(?:it|everything|the\s+(?:film|book|pictures|illustrations|images|drawings))\s+(?:look\s+)?like\s+"
        r"(?:an?\s+)?(?P<s>.+)",
        r"\b(?:draw|paint|illustrate)\s+(?:it|everything|the\s+(?:pictures|illustrations|film|book))\s+"
        r"(?:as|in|like|with)\s+(?:an?\s+)?(?P<s>.+)",
        r"\b(?:use|try|in|with)\s+(?:an?\s+)?(?P<s>.+?)\s+style\b",
    )
    if m := _first_match(patterns, clause):
        style = _quoted_or_rest(m.group("s")).rstrip(". ")
        return [StyleEdit(style=style_bible_for(style))] if style else []
    return []


def _scene_rule(clause: str, plan: StoryPlan, pages: list[int]) -> list[Edit]:
    """Where and when pages happen: 'page 3 should happen at the beach', 'page 2 at night', 'make it rain on page 4'."""
    if not pages:
        return []
    clause = re.sub(r'"[^"]*"|“[^”]*”', "", clause)  # quoted words are the film's text, not where it happens
    setting = _find(REQUEST_SETTING_WORDS, clause)
    time_of_day = _find(REQUEST_TIME_WORDS, clause)
    weather = _find(REQUEST_WEATHER_WORDS, clause)
    if not (setting or time_of_day or weather):
        return []
    return [SceneEdit(page=n, setting=setting, time_of_day=time_of_day, weather=weather) for n in pages]
