"""Who says what on a page: quoted dialogue split from the narration and attributed to a character.

Kept simple on purpose, so it is predictable: a quotation ("..." or “...”) belongs to the character named
right after it in the same sentence ("...," said Pip.), else to the last one named before it in the same
sentence (Pip whispered, "..."). A quotation with no name beside it (or only a pronoun) stays in the
narrator's voice. Everything outside the quotation marks is the narrator's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storyreel.plan import Character

QUOTE = re.compile(r"\"([^\"]+)\"|“([^”]+)”")
SENTENCE_END = re.compile(r"[.!?…](?=\s|$)")


@dataclass(frozen=True)
class Line:
    """A stretch of a page's text and who speaks it (None: the narrator)."""

    text: str
    speaker: str | None = None


def speakers_on_page(text: str, characters: list[Character]) -> dict[str, str]:
    """Character name -> voice ("" for the backend's choice) of the characters named in ``text``,
    when it has dialogue at all; {} otherwise, so narration without quotations never depends on them."""
    if not QUOTE.search(text):
        return {}
    return {c.name: c.voice for c in characters if _mentions(text, c.name)}


def split_dialogue(text: str, speakers: list[str]) -> list[Line]:
    """Split ``text`` into narration and quoted lines, attributing each quotation to one of ``speakers``
    (character names) or to the narrator. Quotation marks are dropped; empty stretches are left out."""
    lines: list[Line] = []
    cursor = 0
    for match in QUOTE.finditer(text):
        before, quoted = text[cursor : match.start()], (match.group(1) or match.group(2)).strip()
        after = text[match.end() :]
        speaker = _named_first(_to_sentence_end(after), speakers) or _named_last(
            _since_sentence_start(before), speakers
        )
        lines.append(Line(before))
        lines.append(Line(quoted, speaker))
        cursor = match.end()
    lines.append(Line(text[cursor:]))
    cleaned = [Line(" ".join(line.text.split()).strip(" ,;:—-"), line.speaker) for line in lines]
    return [line for line in cleaned if re.search(r"\w", line.text)]


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


def _to_sentence_end(text: str) -> str:
    """``text`` up to the next quotation or the end of its sentence, whichever comes first."""
    stop = len(text)
    for pattern in (QUOTE, SENTENCE_END):
        if found := pattern.search(text):
            stop = min(stop, found.start())
    return text[:stop]


def _since_sentence_start(text: str) -> str:
    ends = list(SENTENCE_END.finditer(text))
    return text[ends[-1].end() :] if ends else text


def _named_first(text: str, names: list[str]) -> str | None:
    found = [(m.start(), name) for name in names if (m := re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text))]
    return min(found)[1] if found else None


def _named_last(text: str, names: list[str]) -> str | None:
    found = [(m.start(), name) for name in names for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text)]
    return max(found)[1] if found else None
