"""The timeline: decided once, from narration lengths, in whole frames.

Each page lasts its narration plus padding (at least ``min_page`` seconds); between two pages a short
transition is interpolated from the last frame of one to the first of the next. Clips, subtitles, sound
effects and music are all cut to these numbers, so picture, voice and subtitles cannot drift apart.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field


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
) -> Timeline:
    """Lay pages out from narration lengths.

    Args:
        narration: per page, in order, (text, spoken seconds).
        fps: frames per second of the film.
        lead_in: seconds of picture before the narrator starts on each page.
        tail: seconds of picture after the narrator stops.
        transition: seconds of the interpolated transition between two pages (0: none).
        min_page: shortest page, in seconds.
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
        cues.append(NarrationCue(page=index, start=start, end=start + spoken, text=text))
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


def srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def to_srt(timeline: Timeline) -> str:
    """One subtitle cue per narrated page, timed to the narration."""
    blocks = []
    for i, cue in enumerate(timeline.narration, start=1):
        blocks.append(f"{i}\n{srt_time(cue.start)} --> {srt_time(cue.end)}\n{cue.text}\n")
    return "\n".join(blocks)
