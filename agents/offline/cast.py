"""The cast read from a story idea, in code: every character the idea names, each with a name that is a name,
a species of the vocabulary (``storyreel.vocab.SPECIES``) and a fixed look.

- "A curious squid opens a library" -> Curious Squid (squid): the species with the idea's adjectives, never
  the words after it;
- "Pip the squid", "a squid named Pip", "her cat Milo" -> the proper name, with that species;
- "three little pigs" -> three characters (First Little Pig, Second …); "two friends", "two sisters" -> two,
  each with a short name; "a girl and her dog" -> two; "Grandma's garden" -> one (a possessive is no plural);
- a species with no adjective and no name gets a short name ("Pip the girl" -> Pip), picked by the seed;
- a proper name with no species is a child ("Maya learns to swim"); an idea with nobody in it gets one child.

Colours named next to a species colour that character (and stay out of its name); other characters get
colours from ``PALETTE`` by the seed. Words after "be a", "like a", "into a" ("a robot who wants to be a bird")
and species used as a thing ("a dragon egg") or a size ("a giant cake") are not characters.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from dataclasses import dataclass, field

from storyreel.plan import Character
from storyreel.vocab import COLORS, PALETTE, SPECIES

MAX_CAST = 5
NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "twin": 2, "twins": 2, "pair": 2, "both": 2}
ORDINALS = ("First", "Second", "Third", "Fourth", "Fifth")
# Short names for characters the idea does not name, picked by the seed (no two alike in one cast).
NAMES = ("Pip", "Juno", "Kit", "Bo", "Wren", "Remy", "Tam", "Nell", "Ollie", "Suki", "Finn", "Lulu")
# Words that name a species of the vocabulary: plurals, and words a child would use.
IRREGULAR = {
    "mice": "mouse", "wolves": "wolf", "geese": "goose", "children": "child", "kids": "child", "kid": "child",
    "fairies": "fairy", "babies": "baby", "ponies": "pony", "puppies": "puppy", "bunnies": "bunny",
    "butterflies": "butterfly", "ladies": "", "octopi": "octopus", "octopuses": "octopus", "fish": "fish",
    "sheep": "sheep", "deer": "deer", "jellyfish": "jellyfish", "sister": "girl", "brother": "boy",
    "daughter": "girl", "son": "boy", "granny": "grandma", "grandmother": "grandma", "grandfather": "grandpa",
    "kitty": "cat", "doggy": "dog", "dino": "dinosaur", "teddy": "bear", "mermaids": "mermaid",
    "grandson": "boy", "granddaughter": "girl", "princesses": "princess", "witches": "witch", "foxes": "fox",
    "wizards": "wizard", "monkeys": "monkey", "friend": "child", "friends": "child",
    "pussycat": "cat",
}  # fmt: skip
_SIZE = {"little", "small", "tiny", "baby", "wee"}
_ADVERBS = {"very", "so", "really", "too", "quite", "most", "rather"}
_DETERMINERS = {
    "a", "an", "the", "her", "his", "their", "my", "our", "your", "its", "some", "one", "this", "that", "and",
    "with", "of", "to", "who", "which", "named", "called", "meets", "finds", "helps",
}  # fmt: skip
# A species word after these is what a character becomes or is like, not another character.
_NOT_A_CHARACTER_BEFORE = re.compile(r"\b(be|become|becomes|like|as|into|turns into|pretend to be)\s+(a|an|the)?\s*$")
_THING_AFTER = {"egg", "eggs", "toy", "toys", "shaped", "costume", "kite", "statue", "picture", "mask", "book"}
_VERBS_AFTER_TO = {"fish", "duck", "seal", "bear", "bee"}  # "learns to fish" is no fish
# "a giant cake" is a big cake: "giant" before a word that is no verb ("a giant lives", "the giant fell") and
# no determiner ("a giant who") is a size
_SIZE_SPECIES = {"giant"}
PEOPLE = {"child", "girl", "boy"}  # two friends, two sisters: each gets a short name, not "First Child"
_PAST = {
    "fell", "ran", "saw", "found", "made", "had", "was", "came", "went", "took", "got", "sat", "lost", "met",
    "woke", "slept", "ate", "sang", "flew", "drew", "built", "left", "kept", "felt", "heard", "told", "said",
    "thought", "can", "could", "will", "would", "must", "may", "might", "shall", "should",
}  # fmt: skip
_TITLES = {"mr", "mrs", "miss", "ms", "captain", "sir", "lady", "dr", "uncle", "aunt", "grandma", "grandpa"}
_NOT_NAMES = {
    "once", "one", "a", "an", "the", "in", "on", "at", "when", "after", "before", "every", "today", "tonight",
    "christmas", "halloween", "easter", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", "i", "it", "this", "there", "how", "why", "what", "where", "my", "our", "some", "two", "three",
}  # fmt: skip


def seeded_index(seed: int, *parts: object, modulo: int) -> int:
    """A number in ``range(modulo)`` from the seed and ``parts``, the same on every machine."""
    digest = hashlib.sha256(":".join(map(str, (seed, *parts))).encode()).hexdigest()
    return int(digest[:8], 16) % modulo


def species_of(word: str) -> str:
    """The species a word names ("pigs" -> "pig", "mice" -> "mouse", "kid" -> "child"), or ""."""
    w = word.lower().strip("'")
    if w.endswith("'s"):
        w = w[:-2]
    if w in IRREGULAR:
        return IRREGULAR[w]
    if w in SPECIES:
        return w
    for cut in ("es", "s"):
        if w.endswith(cut) and w[: -len(cut)] in SPECIES:
            return w[: -len(cut)]
        if w.endswith(cut) and IRREGULAR.get(w[: -len(cut)]):  # sisters, friends, grandsons
            return IRREGULAR[w[: -len(cut)]]
    return ""


def is_plural(word: str, species: str) -> bool:
    w = word.lower()
    if w.endswith("'s"):  # one's own: "Grandma's garden", "the fox's sock"
        return False
    w = w.rstrip("'")  # the pigs' houses
    return w in ("mice", "geese", "children", "octopi") or (w.endswith("s") and w != species)


@dataclass
class _Mention:
    start: int  # token index of the species word
    species: str
    count: int = 1
    adjectives: list[str] = field(default_factory=list)
    color: str = ""
    name: str = ""


def cast_from_prompt(prompt: str, seed: int = 0) -> list[Character]:
    """Every character the idea names, in the order it names them (at most ``MAX_CAST``; at least one).

    Args:
        prompt: the story idea in plain words.
        seed: picks the colours and the short names of characters the idea does not name.
    """
    tokens = re.findall(r"[A-Za-z][A-Za-z'\-]*|[,.;:!?]", prompt)
    words = [t for t in tokens]
    lower = [t.lower() for t in words]
    title_case = sum(w[:1].isupper() for w in words if w.isalpha()) > 0.6 * max(1, sum(w.isalpha() for w in words))

    # 1. species mentions, with their count, adjectives and colour
    mentions: list[_Mention] = []
    for i, word in enumerate(lower):
        species = species_of(word)
        if not species:
            continue
        before = " ".join(lower[max(0, i - 4) : i])
        if _NOT_A_CHARACTER_BEFORE.search(before + " "):
            continue
        if i + 1 < len(lower) and lower[i + 1] in _THING_AFTER:
            continue
        if species in _VERBS_AFTER_TO and i > 0 and lower[i - 1] == "to":
            continue
        if species == "child" and word.startswith("friend") and not any(w in NUMBERS for w in lower[max(0, i - 2) : i]):
            continue  # "two friends" are two children; "makes friends", "finds a friend" are no one yet
        if species in _SIZE_SPECIES and i + 1 < len(lower) and _is_plain_noun(lower[i + 1]):
            continue
        if i + 1 < len(lower) and species_of(lower[i + 1]) and lower[i + 1] not in (",", "and"):
            continue  # "teddy bear", "puppy dog": the second word is the species
        mention = _Mention(start=i, species=species)
        j = i - 1
        while j >= 0 and lower[j].isalpha() and lower[j] not in _DETERMINERS and not species_of(lower[j]):
            if lower[j] in NUMBERS:
                mention.count = NUMBERS[lower[j]]
                break
            if words[j][:1].isupper() and not title_case and j > 0:
                break  # a name before the species: "Milo cat" is not an adjective
            if re.search(r"[^su]s$", lower[j]):
                break  # a verb: "who feeds ducks" (adjectives in -s end in -ous or -ss: curious, fearless)
            if lower[j] in COLORS:
                mention.color = mention.color or lower[j]
            elif lower[j] not in _ADVERBS:
                mention.adjectives.insert(0, lower[j])
            j -= 1
        if j >= 1 and lower[j] == "of" and lower[j - 1] in NUMBERS:  # "a pair of ducks"
            mention.count = NUMBERS[lower[j - 1]]
        if mention.count == 1 and is_plural(word, species):
            mention.count = 2
        mention.adjectives = mention.adjectives[-2:]
        mentions.append(mention)

    # 2. proper names, and the species each goes with
    loose: list[tuple[int, str]] = []
    if not title_case:
        i = 0
        while i < len(words):
            if not _is_name_word(words, i):
                i += 1
                continue
            j = i
            while j + 1 < len(words) and _is_name_word(words, j + 1, inside=True):
                j += 1
            name = " ".join(w.removesuffix("'s") for w in words[i : j + 1])
            if i > 0 and lower[i - 1] in ("in", "to", "at", "from", "of", "near"):
                i = j + 1
                continue  # a place: "a fox in Paris"
            inside = next((m for m in mentions if i <= m.start <= j), None)  # "Mr Fox", "Princess Luna"
            target = inside or _mention_for_name(mentions, lower, i, j)
            if target is not None and not target.name and target.count == 1:
                target.name = name
            else:
                loose.append((i, name))
            i = j + 1

    # 3. the characters, in the order the idea names them
    people = [(m.start, m) for m in mentions]
    people += [(i, _Mention(start=i, species="child", name=name)) for i, name in loose]
    people.sort(key=lambda p: p[0])
    cast: list[Character] = []
    used: set[str] = set()
    taken = [COLORS[m.color] for m in mentions if m.color]  # the colours the idea names are the others' too
    size_words = [w for w in lower if w in _SIZE]
    for _, m in people:
        for k in range(m.count):
            if len(cast) == MAX_CAST:
                break
            name = _name_for(m, k, seed, used)
            used.add(name)
            cast.append(_character(name, m, len(cast), seed, bool(size_words) and not m.adjectives, taken))
            taken.append(cast[-1].color)
    if not cast:
        name = _name_for(_Mention(0, "child"), 0, seed, used)
        cast.append(_character(name, _Mention(0, "child"), 0, seed, False, taken))
    return cast


def _is_plain_noun(word: str) -> bool:
    """Whether ``word``, after a species used as a size ("giant"), reads as the thing it sizes: "cake", not
    "lives", "wanted", "sleeping", "fell" or "who"."""
    return (
        word.isalpha()
        and word not in _DETERMINERS
        and word not in _PAST
        and not species_of(word)
        and not re.search(r"(s|ed|ing)$", word)
    )


def _is_name_word(words: list[str], i: int, inside: bool = False) -> bool:
    word = words[i]
    bare = word.removesuffix("'s").lower()
    if not word[:1].isupper() or not word.isalpha() and not word.endswith("'s"):
        return False
    if bare in _TITLES or (inside and bare in SPECIES):
        return True
    if bare in _NOT_NAMES or bare in NUMBERS or (species_of(bare) and not inside) or bare in COLORS or bare in _SIZE:
        return False
    return not (i == 0 and bare in _DETERMINERS)


def _mention_for_name(mentions: list[_Mention], lower: list[str], first: int, last: int) -> _Mention | None:
    """The species mention a name at tokens ``first..last`` belongs to: "Pip the squid", "Pip, a little
    squid", "a squid named Pip", "her cat Milo"."""
    for m in mentions:
        between = lower[last + 1 : m.start]
        if 0 < m.start - last <= 4 and between[:1] in (["the"], [","], ["a"], ["an"]) and "and" not in between:
            return m  # Pip the (little) squid / Pip, a squid
        gap = lower[m.start + 1 : first]
        if 0 < first - m.start <= 2 and (gap in ([], ["named"], ["called"], [","])):
            return m  # a squid named Pip / her cat Milo
    return None


def _name_for(m: _Mention, k: int, seed: int, used: set[str]) -> str:
    if m.name:
        return m.name
    if m.count > 1 and m.species not in PEOPLE:
        return " ".join([ORDINALS[k], *(a.capitalize() for a in m.adjectives), m.species.capitalize()])
    if m.adjectives and m.count == 1:
        name = " ".join([*(a.capitalize() for a in m.adjectives), m.species.capitalize()])
        if name not in used:
            return name
    start = seeded_index(seed, "name", m.species, modulo=len(NAMES))
    return next(n for step in range(len(NAMES)) if (n := NAMES[(start + step) % len(NAMES)]) not in used)


def _hue(hex_color: str) -> float:
    r, g, b = (int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hsv(r, g, b)[0] * 360


def _distinct(first: str, taken: list[str]) -> str:
    """``first``, or the next colour of ``PALETTE`` after it whose hue is at least 35 degrees from every colour
    ``taken`` (hex; orange beside golden, red beside pink read as one colour in a picture); ``first`` if none
    is."""
    start = PALETTE.index(first)
    for step in range(len(PALETTE)):
        color = PALETTE[(start + step) % len(PALETTE)]
        apart = [abs(_hue(COLORS[color]) - _hue(t)) for t in taken]
        if all(min(d, 360 - d) >= 35 for d in apart):
            return color
    return first


def _character(name: str, m: _Mention, index: int, seed: int, small: bool, taken: list[str]) -> Character:
    parts = ("color",) if index == 0 else ("color", index)  # the hero keeps the colour it had before casts
    color = m.color or _distinct(PALETTE[seeded_index(seed, *parts, modulo=len(PALETTE))], taken)
    size = "small" if small or any(a in _SIZE for a in m.adjectives) else "friendly"
    traits = " ".join(a for a in m.adjectives if a not in _SIZE)
    look = f"a {size} {traits + ' ' if traits else ''}{color} {m.species} with big round eyes, a cheerful face and "
    look += "soft rounded shapes"
    return Character(name=name, look=look, species=m.species, color=COLORS[color])
