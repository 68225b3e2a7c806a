"""Where cues play on the timeline: sound effects on their page, music over its pages."""

from __future__ import annotations

import pytest

from storyreel.timeline import Span, build_timeline


@pytest.fixture
def timeline():
    # pages of 3 s and 4 s at 10 fps (min_page 3 s), a 0.5 s transition between them
    return build_timeline([("one", 1.0), ("two", 3.0)], fps=10, lead_in=0.5, tail=0.5, transition=0.5, min_page=3.0)


def test_the_layout_the_cues_are_placed_on(timeline):
    assert [(s.kind, s.page, s.start_frame, s.frames) for s in timeline.segments] == [
        ("page", 1, 0, 30),
        ("transition", 1, 30, 5),
        ("page", 2, 35, 40),
    ]


def test_a_sound_starts_at_its_offset_into_its_page_and_is_cut_at_the_page_end(timeline):
    assert timeline.sound_span(2, offset=1.0, duration=1.5) == Span(4.5, 1.5)
    assert timeline.sound_span(2, offset=3.0, duration=2.0) == Span(6.5, 1.0)  # cut at the end of page 2
    assert timeline.sound_span(1, offset=0.0, duration=None) == Span(0.0, 3.0)  # no duration: the whole page
    assert timeline.sound_span(1, offset=0.5, duration=0.0) == Span(0.5, 2.5)
    assert timeline.sound_span(1, offset=2.95) is None  # in the page's last tenth of a second: left out
    assert timeline.sound_span(1, offset=5.0) is None


def test_music_spans_its_pages_and_the_transitions_after_them(timeline):
    assert timeline.music_span(1, 2) == Span(0.0, 7.5)
    assert timeline.music_span(1, 1) == Span(0.0, 3.5)  # page 1 and the transition that leaves it
    start, duration = timeline.music_span(2, 2)
    assert start == pytest.approx(3.5) and duration == pytest.approx(4.0)  # the last page: no transition after
    assert timeline.music_span(1, 2).start + timeline.music_span(1, 2).duration == timeline.duration
