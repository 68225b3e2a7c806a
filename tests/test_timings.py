"""Word timings from narration (espeak-ng's word events, the estimate for other backends), placed on the
timeline, and the captions made from them: subtitles.srt (a cue per sentence) and captions.vtt (word times)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storyreel import assets
from storyreel.config import load_config
from storyreel.generators.base import SpeechRequest
from storyreel.generators.narration_espeak import EspeakNarrator
from storyreel.media import read_wav
from storyreel.store import RunDir
from storyreel.timeline import build_timeline, caption_lines, to_srt, to_vtt
from storyreel.timings import Word, estimate, narration_meta, page_words, words_of

TEXTS = [
    "The little dragon looked at the moon.",
    'Ember counted 42 stars — one, two, three! "Wow," said Mia, "that is a lot of stars."',
    "It was dark.   Very dark. But the lantern glowed, warm and gold, all night long.",
]


def seconds(path: Path) -> float:
    samples, rate = read_wav(path)
    return len(samples) / rate


def check_timings(words: list[Word], text: str, duration: float) -> None:
    """Monotonic, inside the narration, and every word of the text in order."""
    assert [w.text for w in words] == words_of(text)
    assert " ".join(w.text for w in words) == " ".join(text.split())
    for before, after in zip(words, words[1:], strict=False):
        assert before.start <= before.end <= after.start
    assert words[0].start >= 0 and words[-1].end <= duration + 1e-3
    assert words[-1].end > words[0].start


def test_words_of_keeps_punctuation_with_its_word() -> None:
    assert words_of("— Hi, Mia — “wow!” ok") == ["— Hi,", "Mia —", "“wow!”", "ok"]
    assert words_of("  ") == []


@pytest.mark.parametrize("text", TEXTS)
def test_espeak_word_timings_follow_the_speech(tmp_path: Path, text: str) -> None:
    out = tmp_path / "n.wav"
    said = EspeakNarrator().speak(SpeechRequest(text=text), out)
    assert said["timing"] == "espeak"
    words = [Word.model_validate(w) for w in said["words"]]
    check_timings(words, text, seconds(out))
    # espeak's word events, not an even share: a long word takes longer than a short one
    durations = {w.text: w.end - w.start for w in words}
    if "little" in durations:
        assert durations["little"] > durations["The"]


def test_espeak_timings_track_the_rate(tmp_path: Path) -> None:
    text = TEXTS[0]
    slow = EspeakNarrator().speak(SpeechRequest(text=text, rate=0.8), tmp_path / "slow.wav")
    fast = EspeakNarrator().speak(SpeechRequest(text=text, rate=1.5), tmp_path / "fast.wav")
    assert slow["words"][-1]["start"] > fast["words"][-1]["start"] * 1.3


def test_the_manifest_keeps_the_timings_and_how_they_were_found(tmp_path: Path) -> None:
    config, _ = load_config("sketch", [], environ={})
    run = RunDir(tmp_path)
    request = SpeechRequest(text=TEXTS[2])
    path = assets.make(run, config, "narration", request, "pages/p01/narration-{key}.wav", page=1)
    record = next(r for r in run.manifest().values() if r.kind == "narration")
    assert record.meta["timing"] == "espeak"
    words, how = assets.narration_words(run, path, request.text)
    assert how == "espeak" and [w.model_dump() for w in words] == record.meta["words"]
    check_timings(words, request.text, seconds(path))


def test_a_backend_without_timings_gets_the_estimate(tmp_path: Path) -> None:
    out = tmp_path / "n.wav"
    EspeakNarrator().speak(SpeechRequest(text=TEXTS[1]), out)
    meta = narration_meta(None, TEXTS[1], out)  # what a backend that returns nothing is given
    assert meta["timing"] == "estimate"
    check_timings([Word.model_validate(w) for w in meta["words"]], TEXTS[1], seconds(out))
    # an asset recorded before timings were kept (an older run): the estimate, on load
    words, how = page_words({}, TEXTS[1], out)
    assert how == "estimate" and words == estimate(TEXTS[1], out)
    # timings that no longer fit the text (a record from another text) are not used
    assert page_words(meta, "Something else entirely.", out)[1] == "estimate"


def test_captions_agree_with_the_timeline_within_a_frame(tmp_path: Path) -> None:
    narration, timings = [], []
    for i, text in enumerate(TEXTS):
        out = tmp_path / f"n{i}.wav"
        said = EspeakNarrator().speak(SpeechRequest(text=text), out)
        narration.append((text, seconds(out)))
        timings.append(([Word.model_validate(w) for w in said["words"]], said["timing"]))
    fps = 24
    timeline = build_timeline(narration, fps=fps, words=timings)
    for cue, (words, _), (text, spoken) in zip(timeline.narration, timings, narration, strict=True):
        assert cue.timing == "espeak"
        check_timings(
            [w.model_copy(update={"start": w.start - cue.start, "end": w.end - cue.start}) for w in cue.words],
            text,
            spoken,
        )
        for placed, own in zip(cue.words, words, strict=True):  # placed with the page: its cue's start + own time
            assert abs(placed.start - (cue.start + own.start)) < 1e-3
        page = timeline.page(cue.page)
        assert (
            page.start_frame / fps <= cue.words[0].start and cue.words[-1].end <= (page.start_frame + page.frames) / fps
        )

    def stamp(text: str) -> float:
        h, m, s = text.replace(",", ".").split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    lines = [line for cue in timeline.narration for line in caption_lines(cue)]
    srt = [b for b in to_srt(timeline).split("\n\n") if b.strip()]
    vtt = to_vtt(timeline).split("\n\n")
    assert vtt[0].strip() == "WEBVTT" and len(srt) == len(lines) == len(vtt) - 1 > len(TEXTS)  # per sentence
    for line, block, vblock in zip(lines, srt, vtt[1:], strict=True):
        start, end = block.splitlines()[1].split(" --> ")
        assert abs(stamp(start) - line[0].start) <= 1 / fps and abs(stamp(end) - line[-1].end) <= 1 / fps
        assert block.splitlines()[2] == " ".join(w.text for w in line)
        cue_text = vblock.splitlines()[2]
        inner = [stamp(t) for t in re.findall(r"<([\d:.]+)>", cue_text)]
        assert len(inner) == len(line) - 1
        assert all(abs(t - w.start) <= 1 / fps for t, w in zip(inner, line[1:], strict=True))
        assert re.sub(r"<[\d:.]+>", "", cue_text).replace("&amp;", "&") == " ".join(w.text for w in line)
    # every word of every page is captioned, in order
    assert " ".join(b.splitlines()[2] for b in srt) == " ".join(" ".join(t.split()) for t in TEXTS)


def test_a_long_sentence_is_cut_into_captions() -> None:
    text = (
        "She was afraid of the dark, of the wind, of the owls that hooted at night and the long shadows "
        "that crept across the floor when the fire went low."
    )
    timeline = build_timeline([(text, 9.0)])
    lines = caption_lines(timeline.narration[0])
    assert len(lines) >= 2 and all(len(" ".join(w.text for w in line)) <= 84 for line in lines)
    assert lines[0][-1].text.endswith(",")  # cut at a comma
