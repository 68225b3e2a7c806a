"""Word timings: when each word of a page's narration is spoken, in seconds from the start of its audio.

A narration backend that knows (espeak-ng reports word events while it synthesises; Kokoro predicts each
phoneme's duration) returns them with its audio; for any other backend they are estimated from the audio
(the voiced stretches, shared out by the words' lengths). Either way they are kept in the narration
asset's manifest record (``meta["words"]``, and ``meta["timing"]``: espeak, kokoro or estimate), so they
are cached with the audio; an asset recorded before timings existed gets the estimate when it is read.

The words are the page text's own: its whitespace-separated tokens, a token with no letter or digit in it
(a dash, a lone quote) joined to the word before it. Captions, the EPUB's media overlays and the HTML book
all show and time exactly these words, so they cannot disagree.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

METHODS = ("espeak", "kokoro", "estimate")  # how a narration's timings were found


class Word(BaseModel):
    """One word of a page and when it is spoken: seconds from the start of the page's narration audio
    (on a ``Timeline``: from the start of the film)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    start: float
    end: float


def words_of(text: str) -> list[str]:
    """The words of ``text`` as shown and timed: whitespace-separated tokens, a token without a letter or
    digit joined to the one before it (to the one after it at the very start)."""
    words: list[str] = []
    pending = ""
    for token in text.split():
        if not re.search(r"\w", token):
            if words:
                words[-1] += " " + token
            else:
                pending = f"{pending} {token}".strip()
            continue
        words.append(f"{pending} {token}".strip() if pending else token)
        pending = ""
    if pending:
        words.append(pending)
    return words


def spread(words: list[str], spans: list[tuple[float, float]]) -> list[tuple[str, float, float]]:
    """Time ``words`` over the spoken ``spans`` (start, end) that say them in order: one word per span
    when they pair up, else shared out by length (a word's share of the letters is its share of the time)."""
    if not words:
        return []
    if not spans:
        raise ValueError("no spans to time the words over")
    if len(spans) == len(words):
        return [(w, s, e) for w, (s, e) in zip(words, spans, strict=True)]
    weights = [max(1, len(re.sub(r"\W", "", w))) for w in words]
    total = sum(weights)

    def at(fraction: float) -> float:  # the time at ``fraction`` of the way through the spans
        position = min(fraction * len(spans), len(spans) - 1e-9)
        start, end = spans[int(position)]
        return start + (end - start) * (position - int(position))

    timed, done = [], 0
    for word, weight in zip(words, weights, strict=True):
        timed.append((word, at(done / total), at((done + weight) / total)))
        done += weight
    return timed


def fit(text: str, timed: list[tuple[str, float, float]], duration: float) -> list[Word]:
    """The words of ``text`` (``words_of``) with times taken from ``timed`` (word, start, end) -- the
    words a backend spoke, which may differ a little (a line read in another order, a missing dash) --
    matched in order by their letters; a word with no match is placed between its neighbours. The result
    is monotonic (each word starts where or after the one before it ends) and inside [0, ``duration``]."""
    page = words_of(text)
    key = [_letters(w) for w in page]
    spoken = [_letters(w) for w, _, _ in timed]
    starts: list[float | None] = [None] * len(page)
    ends: list[float | None] = [None] * len(page)
    matcher = difflib.SequenceMatcher(None, key, spoken, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            for i, j in zip(range(a0, a1), range(b0, b1), strict=True):
                starts[i], ends[i] = timed[j][1], timed[j][2]
        elif op == "replace":  # the same stretch said differently: share its time out
            for i, (_, s, e) in zip(
                range(a0, a1), spread(page[a0:a1], [(timed[b0][1], timed[b1 - 1][2])]), strict=True
            ):
                starts[i], ends[i] = s, e
    # runs of words nobody timed: shared out over the gap between the neighbours that were
    i = 0
    while i < len(page):
        if starts[i] is not None:
            i += 1
            continue
        j = next((k for k in range(i, len(page)) if starts[k] is not None), len(page))
        before = next((ends[k] for k in range(i - 1, -1, -1) if ends[k] is not None), 0.0)
        after = starts[j] if j < len(page) else duration
        span = (before, max(before, after))
        for k, (_, s, e) in zip(range(i, j), spread(page[i:j], [span]), strict=True):
            starts[k], ends[k] = s, e
        i = j
    words, last = [], 0.0
    for i, word in enumerate(page):
        start = min(max(float(starts[i]), last), duration)
        end = min(max(float(ends[i]), start), duration)
        following = next((starts[k] for k in range(i + 1, len(page)) if starts[k] is not None), None)
        if following is not None and float(following) >= start:
            end = min(end, float(following))
        words.append(Word(text=word, start=round(start, 3), end=round(end, 3)))
        last = end
    return words


def _letters(word: str) -> str:
    return re.sub(r"\W", "", word.lower())


def estimate(text: str, path: Path) -> list[Word]:
    """Timings of ``text`` read from the narration audio at ``path`` by estimate: its voiced stretches
    (split at pauses of a quarter second or more), one per sentence when they pair up with the sentences,
    the words of each shared out by their lengths."""
    import numpy as np

    from storyreel.media import read_wav

    samples, rate = read_wav(path)
    mono = np.abs(samples if samples.ndim == 1 else samples.mean(axis=1)).astype(np.float32)
    duration = len(mono) / rate
    hop = max(1, rate // 100)  # 10 ms frames
    frames = mono[: len(mono) // hop * hop].reshape(-1, hop).max(axis=1) if len(mono) >= hop else mono[:0]
    peak = float(frames.max()) if frames.size else 0.0
    if peak == 0.0:
        return fit(text, [], duration)
    loud = np.flatnonzero(frames > peak * 10 ** (-35 / 20))
    stretches, begin, previous = [], loud[0], loud[0]
    for frame in loud[1:]:
        if frame - previous > 25:  # a pause of 0.25 s or more
            stretches.append((begin * hop / rate, (previous + 1) * hop / rate))
            begin = frame
        previous = frame
    stretches.append((begin * hop / rate, min(duration, (previous + 1) * hop / rate)))
    sentences = [words_of(s) for s in re.split(r"(?<=[.!?…])\s+", " ".join(text.split())) if words_of(s)]
    if len(sentences) == len(stretches):
        timed = [t for words, span in zip(sentences, stretches, strict=True) for t in spread(words, [span])]
    else:
        timed = spread(words_of(text), [(stretches[0][0], stretches[-1][1])])
    return fit(text, timed, duration)


def narration_meta(spoken: Any, text: str, path: Path) -> dict[str, Any]:
    """What a narration asset's manifest record keeps about its timings: a backend's ``speak`` result
    (a dict with ``words`` and ``timing``, or None) or else the estimate from the audio at ``path``."""
    if isinstance(spoken, dict) and spoken.get("words"):
        words = [Word.model_validate(w) for w in spoken["words"]]
        return {**spoken, "timing": spoken.get("timing", "backend"), "words": [w.model_dump() for w in words]}
    return {"timing": "estimate", "words": [w.model_dump() for w in estimate(text, path)]}


def page_words(meta: dict[str, Any] | None, text: str, path: Path) -> tuple[list[Word], str]:
    """The timings of a narration asset, from its record's ``meta``, and how they were found; an asset
    recorded without them (an older run) gets the estimate from its audio."""
    if meta and meta.get("words"):
        words = [Word.model_validate(w) for w in meta["words"]]
        if [w.text for w in words] == words_of(text):
            return words, str(meta.get("timing", "backend"))
    return estimate(text, path), "estimate"
