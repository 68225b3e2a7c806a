"""Page rewrites by the offline model: what the request rules (``rules``) do not know, the base model writes.

A clause of a revision request that names a page (or a character, "the ending", "the first page"), or asks
for a new page with a described event, and that no rule understands, is carried out by the bundled model:
a few example rewrites, then our book up to that page, its current text, the clause as the change asked for,
and "New page N:" for the model to continue. When the request adds to a page (a line of dialogue, someone
new), the continuation starts after the page's current text, so what was there stays; a line someone is to
say starts with the words the request gives ("say hello" -> ``"Hello``) and ends where its quotation closes.
Each try is checked in code: not empty, not a copy of the old text, shorter or longer when asked, and every
thing the request names (the characters, the words to say) present; names the request never said are not
asked for. After ``tries`` tries with different seeds, a request for a line of its own words (someone says
something, someone new comes, a described new page) gets that line as the request words it
(``composed_text``: '"Hello, Owl," said Pip.'), said in the progress; anything else is refused.

Characters the request introduces ("an owl", "a little mouse called Bo") join the cast with looks built as
the hero's are (``storyreel.agents.offline.cast.cast_from_prompt``) and are shown on the pages whose new
text names them (``storyreel.agents.reviser.shown_where_named``, for both paths). The answer is the same
``Revision`` of structured edits a chat model gives. ``judge_request`` refuses what can be refused without
the model, fast (no langchain, no Prefect).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from storyreel.agents.offline.cast import cast_from_prompt
from storyreel.agents.offline.rules import (
    added_after,
    check_page_numbers,
    checked,
    normalize_request,
    not_understood,
    page_refs,
    read_by_rules,
)
from storyreel.edits import AddCharacterEdit, AddPageEdit, CastEdit, Edit, Revision, TextEdit
from storyreel.errors import InputError
from storyreel.plan import Character, StoryPlan
from storyreel.vocab import SPECIES

if TYPE_CHECKING:  # the request is judged without langchain (``judge_request``: before Prefect starts, in a second)
    from langchain_core.language_models import BaseLanguageModel

REWRITE_EXAMPLES = """Book: The fox who lost her red scarf
Hero: Fern
Page 2: One windy morning, the wind pulled the scarf away over the hills.
Change: have Fern say "come back" to the wind
New page 2: One windy morning, the wind pulled the scarf away over the hills. "Come back, wind!" Fern called.

Book: A little bear who could not sleep
Hero: Little Bear
Page 3: An owl on a branch told him a story about the quiet stars.
Change: make it sadder
New page 3: An owl told him about a little star that fell and was lost, and Little Bear felt very sad.

Book: The frog who wanted to fly
Hero: Frog
Page 4: Frog jumped from the lily pad and landed with a splash.
Change: a duck called Dot says hello to Frog
New page 4: Frog jumped from the lily pad and landed with a splash. "Hello, Frog!" said a duck called Dot.

Book: The frog who wanted to fly
Hero: Frog
Page 3: Frog hopped along the bank of the pond.
Change: have the frog say hello to a duck
New page 3: Frog hopped along the bank of the pond. "Hello, duck!" said Frog, and the little duck waved back.

Book: A girl who wanted to see the sea
Hero: Mia
Page 2: Mia walked down the long road to the beach.
Change: on page 2, have Mia say good morning to a crab
New page 2: Mia walked down the long road to the beach. "Good morning, crab!" said Mia to a red crab on the sand.

Book: The frog who wanted to fly
Hero: Frog
Page 1: Frog sat on his lily pad and watched the birds fly over the pond.
Change: add a page after page 1 where the frog meets a duck called Dot
New page 2: One day a duck called Dot landed next to Frog. "I can teach you to fly," said Dot.

Book: A little bear who could not sleep
Hero: Little Bear
Page 2: Little Bear counted the stars, one by one.
Change: add a page after page 2 where the bear finds a lost kitten
New page 3: Under a bush, Little Bear found a lost kitten, and he carried her home.

Book: The frog who wanted to fly
Hero: Frog
Page 2: Frog sat on his lily pad and watched the birds fly over the pond every morning and every evening.
Change: make it shorter
New page 2: Frog watched the birds fly over the pond.

"""
_SAY = re.compile(
    r"\b(?:say|says|said|tell|tells|ask|asks|shout|shouts|whisper|whispers|sing|sings|call|calls)\s+(.+)", re.I
)
_ADDING = re.compile(
    r"\b(?:have|has|let|add|adds|meet|meets|say|says|tell|tells|ask|asks|with|joins?|appears?)\b", re.I
)
_SHORTER = re.compile(r"\b(shorter|shorten|briefer|fewer\s+words|less\s+text)\b", re.I)
_LONGER = re.compile(r"\b(longer|lengthen|more\s+words|more\s+detail|more\s+text)\b", re.I)
_ENDING = re.compile(r"\b(?:the\s+)?(ending|end|finale|last\s+part)\b", re.I)
_OPENING = re.compile(r"\b(?:the\s+)?(beginning|opening|start)\b", re.I)
_ADD_PAGE = re.compile(r"\b(?:add|insert)\s+(?:a\s+|an\s+|one\s+)?(?:new\s+)?page\b(?P<rest>.*)", re.I)
_NEWCOMER = re.compile(
    r"\b(?:a|an|the|another)\s+(?P<phrase>(?:[a-z]+\s+){0,2}?(?P<species>" + "|".join(SPECIES) + r"))(?:e?s)?\b"
    r"(?:,?\s+(?:called|named)\s+(?P<name>[A-Z][\w'-]*))?",
    re.I,
)


@dataclass
class PageAsk:
    """One clause for the model: rewrite ``pages`` (or write a new page after ``after``) as ``clause`` asks."""

    clause: str
    pages: list[int] = field(default_factory=list)
    after: int | None = None  # a new page after this one (0: at the start)
    newcomers: list[Character] = field(default_factory=list)
    named: list[Character] = field(default_factory=list)  # characters of the plan the clause names
    words: list[str] = field(default_factory=list)  # words the new text must hold (what someone says)
    said: str = ""  # what someone is to say, as the request gives it ("hello", "I am not afraid!")
    measure: str = ""  # "shorter" or "longer"


def understand(load: Callable[[], BaseLanguageModel], request: str, plan: StoryPlan, tries: int = 4) -> Revision:
    """The offline model's answer to a revision request: the rules' edits, and the clauses they do not know
    written by the model, page by page.

    Args:
        load: gives the text model; called only when a clause needs it (rules-only requests load nothing).
        request: the request in plain words; plan: the current plan; tries: tries per page.

    Raises:
        InputError: a clause names no page, character or ending and no rule knows it (one line with
            examples), the edits do not fit the plan, or the model wrote nothing usable in ``tries`` tries;
            nothing is changed.
    """
    edits, asks = judge(request, plan)
    if not asks:
        return Revision(edits=edits)
    model = load()
    cast = {c.name for c in plan.characters}
    for ask in asks:
        edits += carry_out(model, plan, ask, cast, tries)
    return checked(plan, edits)


def judge_request(request: str, plan: StoryPlan, llm_model: str) -> None:
    """Refuse, at once, what a revision would refuse before any model is asked: a page the film does not
    have (whatever the model), and with the bundled model (``llm_model`` ``offline`` or ``hf:…``) a clause no
    rule or page rewrite takes, or rule edits that do not fit the plan. Light: neither langchain nor a model
    is loaded, so the CLI calls it before Prefect starts; a request that passes may still be refused later.

    Raises:
        InputError: the one-line refusal; nothing is changed.
    """
    request = normalize_request(request, len(plan.pages))
    if not request:
        return
    check_page_numbers(request, plan)
    if llm_model.strip().partition(":")[0] in ("offline", "hf"):
        judge(request, plan)


def judge(request: str, plan: StoryPlan) -> tuple[list[Edit], list[PageAsk]]:
    """What can be known of a request without the model: the rules' edits (checked against the plan) and
    the clauses the model is to write; an InputError for a clause that names no page, character or ending
    and that no rule knows, or for edits that do not fit the plan. Fast: nothing is loaded."""
    edits, unknown = read_by_rules(request, plan)
    asks = [read_page_ask(clause, pages, plan) for clause, pages in unknown]
    refused = [clause for (clause, _), ask in zip(unknown, asks, strict=True) if ask is None]
    if refused:
        raise not_understood(refused)
    checked(plan, edits)  # refused before the model is loaded
    return edits, [ask for ask in asks if ask is not None]


def read_page_ask(clause: str, pages: list[int], plan: StoryPlan) -> PageAsk | None:
    """What a clause asks of which page, or None when it names no page, character or ending (refused)."""
    count = len(plan.pages)
    ask = PageAsk(clause=clause)
    if m := _ADD_PAGE.search(clause):
        rest = m.group("rest")
        after = added_after(rest, count)
        described = re.sub(r"\b(after|before)\s+page\s+\d+|\bat\s+the\s+(start|beginning|end)\b", "", rest, flags=re.I)
        if len(re.findall(r"[a-z]+", described, re.I)) < 3:
            return None
        ask.after = after
    else:
        ask.pages = sorted(set(pages or page_refs(clause)))
        if not ask.pages and _ENDING.search(clause):
            ask.pages = [count]
        elif not ask.pages and _OPENING.search(clause):
            ask.pages = [1]
    ask.newcomers = newcomers(clause, plan)
    new_species = {c.species for c in ask.newcomers}
    # the plan's characters the clause names (by name; by species unless "an owl" is someone new)
    ask.named = [c for c in plan.characters if _names(clause, c, by_species=c.species not in new_species)]
    if not ask.pages and ask.after is None:
        # a character named and nothing else: the pages that show them
        ask.pages = sorted({p.number for c in ask.named for p in plan.pages if c.name in p.characters})
        if not ask.pages:
            return None
    if m := _SAY.search(re.sub(r"\bto\s+(?:a|an|the)\b.*$", "", clause)):
        spoken = re.search(r'"([^"]+)"', m.group(1))
        said = spoken.group(1) if spoken else m.group(1)
        first = next((w for w in re.findall(r"[A-Za-z']+", said) if w.lower() not in ("that", "to", "the", "a")), "")
        if first and (spoken or len(said.split()) <= 3):
            ask.words = [first]
            ask.said = said.strip()
    ask.measure = "shorter" if _SHORTER.search(clause) else "longer" if _LONGER.search(clause) else ""
    return ask


def newcomers(clause: str, plan: StoryPlan, seed: int | None = None) -> list[Character]:
    """Characters a clause brings in ("an owl", "a little mouse called Bo"), with looks built the way the
    hero's is; the plan's own characters (by name or species) are not new."""
    known_species = {c.species.lower() for c in plan.characters}
    names = {c.name.lower() for c in plan.characters}
    found: list[Character] = []
    base = plan.brief.seed if seed is None else seed
    for m in _NEWCOMER.finditer(clause):
        species = m.group("species").lower()
        name = m.group("name")
        article = m.group(0).split()[0].lower()
        if name and name.lower() in names:
            continue
        if not name and (species in names or (article == "the" and species in known_species)):
            continue  # "the owl" is the owl there is; "an owl" is a new one
        phrase = re.sub(r"\b(?:say|says|to|and|with|hello|who)\b", "", m.group("phrase"), flags=re.I).strip()
        built = cast_from_prompt(f"a {phrase}", seed=base + 1 + len(plan.characters) + len(found))[0]
        if not name:  # "an owl" is the Owl (the words the request and the page use), "a little mouse" Little Mouse
            name = built.name if len(phrase.split()) > 1 else species.title()
        if name.lower() in names | {c.name.lower() for c in found}:
            continue
        found.append(built.model_copy(update={"name": name}))
    return found


def _names(text: str, character: Character, by_species: bool = True) -> bool:
    """Whether ``text`` names the character: by name, or by species ("the owl")."""
    species = by_species and character.species not in ("creature", "")
    words = [re.escape(character.name)] + ([re.escape(character.species)] if species else [])
    return re.search(rf"\b(?:{'|'.join(words)})s?\b", text, re.I) is not None


def carry_out(llm: BaseLanguageModel, plan: StoryPlan, ask: PageAsk, cast: set[str], tries: int) -> list[Edit]:
    """The edits for one clause: its new characters, the new text of each page (or the new page), and
    who each page shows. ``cast`` holds the names taken so far (new ones are added to it)."""
    edits: list[Edit] = []
    for character in ask.newcomers:
        if character.name not in cast:
            cast.add(character.name)
            edits.append(AddCharacterEdit(**character.model_dump()))
    if ask.after is not None:
        text = write_page(llm, plan, ask, None, tries)
        before = plan.pages[ask.after - 1].characters if ask.after else plan.pages[0].characters
        shown = _cast_of(text, before, ask)
        edits.append(AddPageEdit(after=ask.after, text=text, characters=shown))
        return edits
    for number in ask.pages:
        page = plan.pages[number - 1]
        text = write_page(llm, plan, ask, number, tries)
        edits.append(TextEdit(page=number, text=text))
        shown = _cast_of(text, page.characters, ask)
        if shown != page.characters:
            edits.append(CastEdit(page=number, characters=shown))
    return edits


def _cast_of(text: str, current: list[str], ask: PageAsk) -> list[str]:
    """Who a page with ``text`` shows: who it showed, and the named and new characters its text names."""
    new_species = {c.species for c in ask.newcomers}
    more = [c.name for c in ask.named if _names(text, c, by_species=c.species not in new_species)]
    more += [c.name for c in ask.newcomers if _names(text, c)]
    return list(dict.fromkeys([*current, *more]))


def rewrite_prompt(plan: StoryPlan, ask: PageAsk, number: int | None) -> tuple[str, str]:
    """The few-shot prompt for one page, and the text the new page starts with (the old text, when the
    request adds to it; empty otherwise)."""
    hero = plan.characters[0].name if plan.characters else "the hero"
    head = f"{REWRITE_EXAMPLES}Book: {plan.title}\nHero: {hero}\n"
    if number is None:  # a new page after page ``ask.after``
        earlier = plan.pages[: ask.after]
        lines = "".join(f"Page {p.number}: {p.text}\n" for p in earlier)
        return f"{head}{lines}Change: {ask.clause}\nNew page {ask.after + 1}:", ""
    earlier = plan.pages[: number - 1][-3:]  # the pages before it, as the book so far (the last three)
    page = plan.pages[number - 1]
    lines = "".join(f"Page {p.number}: {p.text}\n" for p in earlier)
    keep = page.text if _ADDING.search(ask.clause) and not ask.measure and (ask.newcomers or ask.words) else ""
    prompt = f"{head}{lines}Page {number}: {page.text}\nChange: {ask.clause}\nNew page {number}:"
    if keep and ask.said:
        # someone says something: the page goes on with the words the request gives, and the model from there
        keep += f' "{ask.said[:1].upper()}{ask.said[1:].rstrip(".!?,")}'
    elif keep and _SAY.search(ask.clause):
        keep += ' "'  # someone says something the request does not quote: the model goes on from the quotation mark
    return (f"{prompt} {keep}" if keep else prompt), keep


def write_page(llm: BaseLanguageModel, plan: StoryPlan, ask: PageAsk, number: int | None, tries: int) -> str:
    """The model's new text for page ``number`` (None: the new page of ``ask``), checked. When ``tries``
    tries all fall short and the request asks for a line (someone says something, someone new comes), the
    page gets that line in the request's own words (``composed_text``, said in the progress); otherwise an
    InputError that says why the last try fell short."""
    prompt, keep = rewrite_prompt(plan, ask, number)
    old = plan.pages[number - 1].text if number else ""
    near = plan.pages[(number or ask.after or 1) - 1]  # the page, or the one a new page follows
    cast = near.characters
    where = f"page {number}" if number else f"the new page after page {ask.after}"
    why = "it wrote nothing"
    for attempt in range(tries):
        seed = plan.brief.seed * 1000 + 700 + (number or 50 + (ask.after or 0)) * 10 + attempt
        # a continuation may start on a new line: stop at the next example's lines, not at the first newline
        raw = llm.invoke(prompt, stop=["\nPage", "\nBook", "\nChange", "\nNew page", "\nHero"], seed=seed)
        written = clean_text(raw, in_quote=keep.endswith('"') or keep.count('"') % 2 == 1)
        text = joined(keep, raw, written)
        if text.count('"') % 2:  # an unclosed quotation: keep what was closed
            text = text[: text.rfind('"')].strip()
        why = problem_with(text, text[len(old) :] if keep else written, old, ask, cast)  # what the page gains
        if not why:
            return text
        why = f"“{written[:80]}”: {why}" if written else why
    composed = composed_text(plan, ask, number)
    gained = composed if ask.measure else composed[len(old) :]  # a shortened page is new text; a line, added
    if composed and not problem_with(composed, gained, old, ask, cast):
        from storyreel import progress

        said = (
            f"its own words, shortened: {composed}"
            if ask.measure == "shorter"
            else f"the line the request asks for, in its own words: {composed[len(old) :].strip()}"
        )
        progress.note(f"{where}: the offline model's {tries} tries fell short (the last: {why}); the page gets {said}")
        return composed
    raise InputError(
        f"{where}: the offline model wrote no text that does what {ask.clause!r} asks in {tries} tries (the last: "
        f'{why}); nothing was changed. Try other words, quote the new text (page 2 should say "…"), or use a '
        "chat model (llm.model=ollama:… or openai:…)"
    )


def joined(keep: str, raw: str, written: str) -> str:
    """The text the page starts with and the model's continuation of it, spaced as the model wrote it."""
    if not keep:
        return written
    if keep.endswith('"') or raw[:1] in tuple(",.!?;:'\"") or not written:
        return (keep + written).strip()
    return f"{keep} {written}"


# --- the line in the request's own words ------------------------------------------------------------

IRREGULAR_PAST = {
    "meet": "met", "find": "found", "see": "saw", "say": "said", "go": "went", "come": "came", "get": "got",
    "give": "gave", "take": "took", "make": "made", "have": "had", "run": "ran", "fly": "flew", "swim": "swam",
    "sing": "sang", "eat": "ate", "bring": "brought", "catch": "caught", "tell": "told", "build": "built",
    "fall": "fell", "hold": "held", "keep": "kept", "leave": "left", "lose": "lost", "ride": "rode",
    "sit": "sat", "sleep": "slept", "think": "thought", "throw": "threw", "win": "won", "write": "wrote",
    "become": "became", "begin": "began", "draw": "drew", "drink": "drank", "dig": "dug", "hide": "hid",
    "know": "knew", "spin": "spun", "teach": "taught", "wake": "woke", "wear": "wore", "is": "was", "are": "were",
}  # fmt: skip
_THIRD_PERSON = {"meets": "meet", "finds": "find", "sees": "see", "says": "say", "goes": "go", "has": "have",
                 "flies": "fly", "catches": "catch", "teaches": "teach"}  # fmt: skip


def past_tense(verb: str) -> str:
    """The simple past of a verb as a request writes it ("meets", "meet" -> "met"; "visits" -> "visited")."""
    word = verb.lower()
    base = _THIRD_PERSON.get(word)
    if base is None:
        if word.endswith("ies") and len(word) > 4:
            base = word[:-3] + "y"
        elif re.search(r"(?:s|x|z|ch|sh)es$", word):
            base = word[:-2]
        elif word.endswith("s") and not word.endswith("ss"):
            base = word[:-1]
        else:
            base = word
    if base in IRREGULAR_PAST:
        return IRREGULAR_PAST[base]
    if base.endswith("e"):
        return base + "d"
    if re.search(r"[^aeiou]y$", base):
        return base[:-1] + "ied"
    if re.fullmatch(r"[^aeiou]*[aeiou][bdgmnpt]", base):  # hug -> hugged, stop -> stopped
        return base + base[-1] + "ed"
    return base + "ed"


def composed_text(plan: StoryPlan, ask: PageAsk, number: int | None) -> str:
    """The page's text with the line the request asks for, in the request's own words: "have the fox say
    hello to an owl" -> the old text and '"Hello, Owl," said Fox.'; "... where the fox meets a little mouse
    called Bo" -> "Fox met a little mouse called Bo." Empty when the request asks for more than a line of its
    own words (sadder, an ending, longer) or its words do not make one. "Make page 2 shorter": the page's own
    first sentence, or the first clause of a one-sentence page (``shortened``)."""
    old = plan.pages[number - 1].text if number else ""
    if ask.measure == "shorter":
        return shortened(old)
    if ask.measure:
        return ""
    if ask.said:
        line = _spoken_line(plan, ask, number)
    elif ask.newcomers or ask.after is not None:
        line = _event_line(plan, ask)
    else:
        line = ""
    return f"{old} {line}".strip() if line else ""


_AND = re.compile(r"\s+and\s")
_CLAUSE_END = re.compile(r",\s+(?:and|but|so|then|when|while)\s|\s+(?:and then|but|because|until|while)\s|[,;:]\s")


def shortened(text: str) -> str:
    """``text`` in fewer of its own words: its first sentence when it has more than one, else its first
    clause (up to ", and", "but", a comma ..., else "and") that keeps four words or more; "" when there is none.
    "Pip climbed the highest mountain and got closer to the moon." -> "Pip climbed the highest mountain." """
    sentences = re.findall(r"[^.!?]+[.!?]+[\"”’']?", text)
    if len(sentences) > 1:
        return sentences[0].strip()
    for pattern in (_CLAUSE_END, _AND):  # a clause's end; else a plain "and"
        for cut in pattern.finditer(text):
            if len(text[: cut.start()].split()) >= 4:
                return text[: cut.start()].rstrip(" ,;:") + "."
    return ""


def _who(text: str, plan: StoryPlan, ask: PageAsk) -> Character | None:
    """The first character ``text`` names: a new one, or one of the plan's."""
    new_species = {c.species for c in ask.newcomers}
    found = [(m.start(), c) for c in ask.newcomers if (m := _mention(text, c, True))]
    found += [(m.start(), c) for c in plan.characters if (m := _mention(text, c, c.species not in new_species))]
    return min(found, key=lambda f: f[0])[1] if found else None


def _mention(text: str, character: Character, by_species: bool) -> re.Match | None:
    species = by_species and character.species not in ("creature", "")
    words = [re.escape(character.name)] + ([re.escape(character.species)] if species else [])
    return re.search(rf"\b(?:{'|'.join(words)})s?\b", text, re.I)


def _spoken_line(plan: StoryPlan, ask: PageAsk, number: int | None) -> str:
    """'"Hello, Owl," said Fox.': who speaks is who the request names before its "say" (else the page's first
    character), to whom the one it names after "to"."""
    said = _SAY.search(ask.clause)
    if said is None:
        return ""
    speaker = _who(ask.clause[: said.start()], plan, ask)
    if speaker is None:
        page = plan.pages[(number or ask.after or 1) - 1]
        speaker = plan.character(page.characters[0]) if page.characters else None
    if speaker is None:
        return ""
    to = re.search(r"\bto\s+(.+)$", ask.clause[said.start(1) :])
    listener = _who(to.group(1), plan, ask) if to else None
    body = ask.said.rstrip(".!?,")
    body = body[:1].upper() + body[1:]
    end = ask.said[-1] if ask.said[-1] in "!?" else ","
    words = f"{body}, {listener.name}{end}" if listener and listener is not speaker else f"{body}{end}"
    return f'"{words}" said {speaker.name}.'


_EVENT = re.compile(r"\b(?:where|in\s+which|when|that|about\s+how)\s+(?P<event>.+)$", re.I)


def _event_line(plan: StoryPlan, ask: PageAsk) -> str:
    """'Fox met a little mouse called Bo.': what the request says happens, as a sentence of the book (who
    does it by their name, the verb in the past)."""
    clause = re.sub(r"^(?:on|in|for)\s+page\s+\d+\s*,?\s*|\bpage\s+\d+\s*[:,]\s*", "", ask.clause, flags=re.I)
    if ask.after is not None:
        m = _EVENT.search(clause)
        if m is None:
            return ""
        event = m.group("event")
    else:
        event = re.sub(r"^(?:have|let|make)\s+", "", clause, flags=re.I)
    event = event.strip().rstrip(".!")
    subject = _who(event, plan, ask)
    if subject is None:
        return ""
    m = _mention(event, subject, subject in ask.newcomers or subject.species not in {c.species for c in ask.newcomers})
    head = event[: m.start()]
    if head and not re.fullmatch(r"(?:the|a|an|little|small|big|\s)+", head, re.I):
        return ""  # the event does not start with who does it
    rest = event[m.end() :]
    called = re.match(r"(?:,?\s+(?:called|named)\s+[A-Z][\w'-]*)", rest)
    name = subject.name
    if called:  # "a little mouse called Bo": its name says who it is
        rest = rest[called.end() :]
    verb = re.match(r"\s+([a-z]+)\b", rest)
    if verb is None:
        return ""
    rest = rest[verb.end() :]
    return f"{name} {past_tense(verb.group(1))}{rest}."


# a line of dialogue, from inside its quotation: up to where it closes, and who said it ("said Pip.", "Pip called.")
_LINE = re.compile(
    r'[^"”]*["”](?:,?\s*(?:(?:the\s+)?[A-Za-z][\w\']*(?:\s+[A-Z][\w\']*)?\s+)?'
    r'(?:said|says|asked|called|cried|whispered|shouted|replied|sang)\b[^.!?"”]*[.!?])?'
)


def clean_text(raw: str, in_quote: bool = False) -> str:
    """The first one to three sentences of a continuation, quotations kept whole; nothing of a next page.
    ``in_quote``: the continuation starts inside a quotation (someone's line): it ends where the quotation
    closes, with the "said Pip" after it, so that a line of dialogue adds that line and no more."""
    text = re.split(r"\n|\b(?:New page|Page|Book|Change|Hero)\b\s*\d*:", raw.lstrip())[0]
    text = " ".join(text.split())
    if in_quote and (line := _LINE.match(text)):
        return line.group(0).strip()
    sentences = re.findall(r'[^.!?]*[.!?]+["”]?(?:\s+(?:said|asked|called|cried|whispered)\s+[^.!?]+[.!?])?', text)
    text = " ".join(s.strip() for s in sentences[:3]) if sentences else text
    return text


def problem_with(text: str, written: str, old: str, ask: PageAsk, cast: list[str]) -> str:
    """Why ``text`` (``written`` by the model) does not do what ``ask`` asks of a page showing ``cast``;
    empty when it does."""

    def norm(s: str) -> str:
        return " ".join(re.findall(r"[a-z']+", s.lower()))

    if len(written.split()) < 2 or len(text.split()) < 3:
        return "too short to be a page"
    if norm(text) == norm(old) or (old and ask.measure != "shorter" and norm(written) in norm(old)):
        return "the old text again"
    if ask.measure == "shorter" and len(text.split()) >= len(old.split()):
        return "not shorter"
    if ask.measure == "longer" and len(text.split()) <= len(old.split()):
        return "not longer"
    # the newcomers and what is said must be there; a character already on the page may be "he" or "she"
    wanted = ask.newcomers + [c for c in ask.named if c.name not in cast]
    missing = [c.name for c in wanted if not _names(text, c)]
    missing += [w for w in ask.words if not re.search(rf"\b{re.escape(w)}\b", text, re.I)]
    if missing:
        return f"it does not name {', '.join(missing)}"
    return ""
