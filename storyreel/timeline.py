"""The timeline: decided once, from narration lengths, in whole frames.

Each page lasts its narration plus padding (at least ``min_page`` seconds); between two pages a short
transition is interpolated from the last frame of one to the first of the next. Clips, subtitles, sound
effects and music are all cut to these numbers, so picture, voice and subtitles cannot drift apart.
Each page's word timings (``storyreel.timings``) are placed on it too: the captions (``to_srt``,
``to_vtt``), the book's media overlays and its HTML read-along all take their times from here.
"""

from __future__ import annotations

import math
import re
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from storyreel.timings import Word, words_of

MAX_CUE_CHARS = 84  # a caption of at most two lines of 42 characters, the usual subtitle limit


class Span(NamedTuple):
    """Where a cue sits on the film: its start and its length, in seconds from the film's start."""

    start: float
    duration: float


class _Record(BaseModel):
    """The timeline's records are read-only once made, and refuse unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Segment(_Record):
    kind: Literal["page", "transition"]
    page: int = Field(description="page number; for a transition, the page it leaves")
    start_frame: int
    frames: int


class NarrationCue(_Record):
    page: int
    start: float = Field(description="seconds from the film's start")
    end: float
    text: str
    words: list[Word] = Field(default_factory=list, description="each word of text, in seconds from the film's start")
    timing: str = Field("estimate", description="how the word times were found: espeak, kokoro or estimate")


class Timeline(_Record):
    fps: int
    segments: list[Segment]
    narration: list[NarrationCue]

    @property
    def total_frames(self) -> int:
        last = self.segments[-1]
        return last.start_frame + last.frames

    @property
    def duration(self) -> float:
        return self.total_frames / self.fps

    def page(self, number: int) -> Segment:
        return next(s for s in self.segments if s.kind == "page" and s.page == number)

    def page_start(self, number: int) -> float:
        return self.page(number).start_frame / self.fps

    def page_duration(self, number: int) -> float:
        return self.page(number).frames / self.fps

    def span(self, first_page: int, last_page: int) -> tuple[float, float]:
        """Start and end in seconds from the start of ``first_page`` to the end of ``last_page``,
        including the transitions between them (and the one after ``last_page``, if any)."""
        start = self.page(first_page).start_frame
        after = [s for s in self.segments if s.start_frame > self.page(last_page).start_frame]
        end_seg = after[0] if after and after[0].kind == "transition" else self.page(last_page)
        return start / self.fps, (end_seg.start_frame + end_seg.frames) / self.fps

    def music_span(self, first_page: int, last_page: int) -> Span:
        """Where a music cue over pages ``first_page`` to ``last_page`` plays: from the start of the first
        page to the end of the last one, the transitions between them and the one after it included."""
        start, end = self.span(first_page, last_page)
        return Span(start, end - start)

    def sound_span(self, page: int, offset: float, duration: float | None = None) -> Span | None:
        """Where a sound cue of ``page`` plays: ``offset`` seconds into the page, for ``duration`` seconds
        (None or 0: to the page's end), cut at the page's end. None when it would start in the page's last
        tenth of a second or later: too late to be heard."""
        page_start, page_len = self.page_start(page), self.page_duration(page)
        if offset >= page_len - 0.1:
            return None
        return Span(page_start + offset, min(duration or page_len, page_len - offset))


def build_timeline(
    narration: list[tuple[str, float]],
    fps: int = 24,
    lead_in: float = 0.6,
    tail: float = 0.9,
    transition: float = 0.75,
    min_page: float = 3.0,
    words: list[tuple[list[Word], str]] | None = None,
) -> Timeline:
    """Lay pages out from narration lengths.

    Args:
        narration: per page, in order, (text, spoken seconds).
        fps: frames per second of the film.
        lead_in: seconds of picture before the narrator starts on each page.
        tail: seconds of picture after the narrator stops.
        transition: seconds of the interpolated transition between two pages (0: none).
        min_page: shortest page, in seconds.
        words: per page, its word timings (seconds from the start of its narration) and how they were
            found; None: estimated evenly over each page's narration by the words' lengths.
    """
    if not narration:
        raise ValueError("a timeline needs at least one page")
    segments: list[Segment] = []
    cues: list[NarrationCue] = []
    frame = 0
    transition_frames = round(transition * fps)
    for index, (text, spoken) in enumerate(narration, start=1):
        frames = math.ceil(max(min_page, lead_in + spoken + tail) * fps)
        segments.append(Segment(kind="page", page=index, start_frame=frame, frames=frames))
        start = frame / fps + lead_in
        page_words, timing = words[index - 1] if words else (_even(text, spoken), "estimate")
        placed = [
            Word(text=w.text, start=round(start + w.start, 3), end=round(start + min(w.end, spoken), 3))
            for w in page_words
        ]
        cues.append(NarrationCue(page=index, start=start, end=start + spoken, text=text, words=placed, timing=timing))
        frame += frames
        if index < len(narration) and transition_frames >= 2:
            segments.append(Segment(kind="transition", page=index, start_frame=frame, frames=transition_frames))
            frame += transition_frames
    return Timeline(fps=fps, segments=segments, narration=cues)


def keyframe_indices(num_frames: int, spacing: int) -> list[int]:
    """Frame indices of sparse keyframes in a clip: 0, about every ``spacing`` frames, and the last."""
    if num_frames < 2:
        raise ValueError("a clip needs at least two frames")
    count = max(2, math.ceil((num_frames - 1) / max(1, spacing)) + 1)
    return sorted({round(i * (num_frames - 1) / (count - 1)) for i in range(count)})


def _even(text: str, spoken: float) -> list[Word]:
    """Words shared out over ``spoken`` seconds by their lengths (when no timings are known)."""
    from storyreel.timings import fit, spread

    return fit(text, spread(words_of(text), [(0.0, spoken)]) if words_of(text) else [], spoken)


def srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def vtt_time(seconds: float) -> str:
    return srt_time(seconds).replace(",", ".")


def caption_lines(cue: NarrationCue) -> list[list[Word]]:
    """A page's words cut into captions: one per sentence, a sentence longer than ``MAX_CUE_CHARS`` cut
    again at its commas, else between words, into parts of about equal length."""
    sentences: list[list[Word]] = [[]]
    for word in cue.words:
        sentences[-1].append(word)
        if re.search(r"[.!?…][\"'”’)\]]*$", word.text):
            sentences.append([])
    return [part for sentence in sentences if sentence for part in _cut(sentence)]


def _cut(words: list[Word]) -> list[list[Word]]:
    length = len(" ".join(w.text for w in words))
    if length <= MAX_CUE_CHARS or len(words) < 2:
        return [words]
    middle, best, best_score = length / 2, 1, math.inf
    for i in range(1, len(words)):  # the cut nearest the middle, a comma's counting as nearer
        at = len(" ".join(w.text for w in words[:i]))
        score = abs(at - middle) - (length / 4 if re.search(r"[,;:—–-]$", words[i - 1].text) else 0)
        if score < best_score:
            best, best_score = i, score
    return _cut(words[:best]) + _cut(words[best:])


def to_srt(timeline: Timeline) -> str:
    """Subtitles: a cue per sentence (a long sentence in parts, ``caption_lines``), from its first word's
    start to its last word's end."""
    blocks = []
    lines = [line for cue in timeline.narration for line in caption_lines(cue)]
    for i, line in enumerate(lines, start=1):
        text = " ".join(w.text for w in line)
        blocks.append(f"{i}\n{srt_time(line[0].start)} --> {srt_time(line[-1].end)}\n{text}\n")
    return "\n".join(blocks)


def to_vtt(timeline: Timeline) -> str:
    """WebVTT captions: the cues of ``to_srt``, each word inside a cue preceded by its start time
    (``<00:00:01.250>``), the karaoke-style timestamps players use to highlight the word being read."""
    blocks = ["WEBVTT\n"]
    lines = [(cue.page, line) for cue in timeline.narration for line in caption_lines(cue)]
    for i, (page, line) in enumerate(lines, start=1):
        text = " ".join((f"<{vtt_time(w.start)}>" if k else "") + _vtt_escape(w.text) for k, w in enumerate(line))
        blocks.append(f"p{page:02d}-{i}\n{vtt_time(line[0].start)} --> {vtt_time(line[-1].end)}\n{text}\n")
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
