"""The offline audio backends (espeak narration, synthesised music and effects) and the mixer, on real
files at small sizes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import signal

from storyreel.errors import BackendError
from storyreel.generators.base import (
    Composer,
    MusicRequest,
    Narrator,
    SfxRequest,
    SoundMaker,
    SpeechRequest,
    UnsupportedCue,
)
from storyreel.generators.mix import MixReport, Placement, master, render_stem
from storyreel.generators.music_synth import STYLES, SynthComposer, style_for
from storyreel.generators.narration_espeak import EspeakNarrator
from storyreel.generators.sfx_synth import RECIPES, SynthSfx, effects_for
from storyreel.media import read_wav, write_wav
from storyreel.plan import SfxCue

RATE = 48000


def db(value: float) -> float:
    return 20 * np.log10(max(value, 1e-12))


def rms(sound: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(sound, dtype=np.float64))))


def oversampled_peak(sound: np.ndarray) -> float:
    """True peak the BS.1770 way, computed here independently of the mixer: 4x oversampled."""
    return float(np.abs(signal.resample_poly(sound.astype(np.float64), 4, 1, axis=0)).max())


# --- narration --------------------------------------------------------------------------------

STORY = "Once upon a time, a small green dragon lived at the edge of a quiet forest."


def speak(tmp_path: Path, name: str, **request: object) -> tuple[np.ndarray, int]:
    out = tmp_path / name  # no .wav suffix on purpose: the store hands out such temporary names
    EspeakNarrator().speak(SpeechRequest(**request), out)
    return read_wav(out)


def test_espeak_speaks_the_text_at_a_plausible_length(tmp_path: Path) -> None:
    samples, rate = speak(tmp_path, "a", text=STORY)
    seconds = samples.shape[0] / rate
    words = len(STORY.split())
    assert rate == 22050 and samples.shape[1] == 1
    assert 0.5 * words / 150 * 60 < seconds < 2.0 * words / 150 * 60  # about 150 words a minute
    assert db(rms(samples)) > -35  # speech, not silence
    # silence at the ends trimmed to ~50 ms
    loud = np.flatnonzero(np.abs(samples[:, 0]) > 0.01)
    assert loud[0] / rate < 0.1 and (samples.shape[0] - loud[-1]) / rate < 0.1


def test_espeak_longer_text_faster_rate_and_determinism(tmp_path: Path) -> None:
    short, _ = speak(tmp_path, "short", text="The fox ran home.")
    long, _ = speak(tmp_path, "long", text=STORY + " " + STORY)
    fast, _ = speak(tmp_path, "fast", text=STORY + " " + STORY, rate=1.5)
    again, _ = speak(tmp_path, "again", text=STORY + " " + STORY)
    assert long.shape[0] > 3 * short.shape[0]
    assert fast.shape[0] < 0.8 * long.shape[0]
    assert np.array_equal(long, again)  # espeak keeps state between utterances; we must not


def test_espeak_is_deterministic_across_threads(tmp_path: Path) -> None:
    texts = [STORY, "The fox ran home.", STORY, "Good night, little dragon."]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: speak(tmp_path, f"t{i}", text=texts[i])[0], range(len(texts))))
    assert np.array_equal(results[0], results[2])
    assert np.array_equal(results[1], speak(tmp_path, "solo", text=texts[1])[0])


def test_espeak_voices_and_errors(tmp_path: Path) -> None:
    us, _ = speak(tmp_path, "us", text="Hello, little fox.", voice="en-us")
    gb, _ = speak(tmp_path, "gb", text="Hello, little fox.", voice="en-gb+f3")  # a language, a variant
    assert us.shape != gb.shape or not np.array_equal(us, gb)
    with pytest.raises(BackendError, match="en-us"):  # the message names voices that exist
        speak(tmp_path, "x", text="Hello.", voice="squeaky-robot")
    with pytest.raises(BackendError, match="variant"):
        speak(tmp_path, "y", text="Hello.", voice="en-us+nosuchvariant")
    with pytest.raises(BackendError, match="words per minute"):
        speak(tmp_path, "z", text="Hello.", rate=0.1)
    with pytest.raises(ValidationError):
        EspeakNarrator.Options(volume=3)
    assert isinstance(EspeakNarrator(), Narrator)


# --- music ------------------------------------------------------------------------------------


def compose(tmp_path: Path, mood: str, duration: float, seed: int = 0) -> np.ndarray:
    out = tmp_path / f"music-{mood}-{seed}-{duration}"
    SynthComposer().compose(MusicRequest(mood=mood, duration=duration, seed=seed), out)
    samples, rate = read_wav(out)
    assert rate == RATE
    return samples


def test_music_is_exactly_as_long_as_asked_stereo_and_headroomed(tmp_path: Path) -> None:
    for duration in (0.3, 4.321):
        music = compose(tmp_path, "calm", duration)
        assert music.shape == (round(duration * RATE), 2)
    assert db(np.abs(music).max()) < -6.0
    assert db(rms(music)) > -35  # it plays something
    assert np.abs(music[:10]).max() < 1e-3 and np.abs(music[-10:]).max() < 1e-3  # faded at both ends
    assert not np.allclose(music[:, 0], music[:, 1])  # stereo, not two copies of mono
    assert isinstance(SynthComposer(), Composer)


def test_music_moods_differ_and_seeds_are_deterministic(tmp_path: Path) -> None:
    calm = compose(tmp_path, "calm", 6.0)
    tense = compose(tmp_path, "tense", 6.0)
    assert np.array_equal(calm, compose(tmp_path, "calm", 6.0))
    assert not np.array_equal(calm, compose(tmp_path, "calm", 6.0, seed=1))
    # different keys and tempi: the spectra are far apart, not just shifted noise
    spectra = [np.abs(np.fft.rfft(m.mean(axis=1))) for m in (calm, tense)]
    similarity = np.dot(*spectra) / (np.linalg.norm(spectra[0]) * np.linalg.norm(spectra[1]))
    assert similarity < 0.5


def test_mood_words_pick_styles() -> None:
    assert style_for("calm and warm") == "calm"
    assert style_for("Triumphant!") == "triumphant"
    assert style_for("a funny chase") == "playful"  # earliest keyword wins
    assert style_for("windy winter") == "gentle"  # "win" of "winning" does not fire inside other words
    assert style_for("blorp", prompt="a spooky night in the castle") == "scary"  # the prompt is a fallback
    assert style_for("blorp") == "gentle"
    assert set(STYLES) >= {"calm", "playful", "mysterious", "tense", "sad", "triumphant", "gentle", "scary"}


# --- sound effects ----------------------------------------------------------------------------


def make_sfx(tmp_path: Path, sound: str, duration: float = 2.0, seed: int = 0, prompt: str = "") -> np.ndarray:
    out = tmp_path / f"sfx-{sound}-{seed}"
    SynthSfx().make(SfxRequest(cue=SfxCue(sound=sound, prompt=prompt), duration=duration, seed=seed), out)
    samples, rate = read_wav(out)
    assert rate == RATE
    return samples


@pytest.mark.parametrize("sound", sorted(RECIPES))
def test_every_known_sfx_is_exact_stereo_and_faded(tmp_path: Path, sound: str) -> None:
    duration = 2.345
    sfx = make_sfx(tmp_path, sound, duration)
    assert sfx.shape == (round(duration * RATE), 2)
    assert -1.5 < db(np.abs(sfx).max()) <= -0.9  # peak-normalised to -1 dBFS
    assert np.abs(sfx[:10]).max() < 1e-3 and np.abs(sfx[-10:]).max() < 1e-3


def test_sfx_is_deterministic_per_seed_and_reads_the_prompt(tmp_path: Path) -> None:
    rain = make_sfx(tmp_path, "rain", seed=1)
    assert np.array_equal(rain, make_sfx(tmp_path, "rain", seed=1))
    assert not np.array_equal(rain, make_sfx(tmp_path, "rain", seed=2))
    assert make_sfx(tmp_path, "ambience", prompt="soft rain on the leaves").shape == rain.shape
    assert effects_for("wind and rain") == ["wind", "rain"]
    assert effects_for("thunderstorm") == ["storm"]  # a storm already has its rain and thunder


@pytest.mark.parametrize("sound", ["door creak", "a train passes", "seasons change"])
def test_unknown_sfx_raises_unsupported_cue(tmp_path: Path, sound: str) -> None:
    with pytest.raises(UnsupportedCue, match="cannot make"):
        make_sfx(tmp_path, sound)
    assert isinstance(SynthSfx(), SoundMaker)


# --- stems ------------------------------------------------------------------------------------


def test_render_stem_places_sounds_at_their_time(tmp_path: Path) -> None:
    click = np.zeros(4800)
    click[0] = 0.9
    write_wav(tmp_path / "click48", click, RATE)
    write_wav(tmp_path / "click22", click, 22050)  # another rate, resampled
    stem = tmp_path / "stem"
    render_stem(
        [Placement(path=tmp_path / "click48", start=1.0), Placement(path=tmp_path / "click22", start=2.5)], 3.0, stem
    )
    samples, rate = read_wav(stem)
    assert rate == RATE and samples.shape == (3 * RATE, 2)
    first, second = samples[: 2 * RATE, 0], samples[2 * RATE :, 1]
    assert np.argmax(np.abs(first)) == RATE
    assert abs(2 * RATE + np.argmax(np.abs(second)) - 2.5 * RATE) <= 2


def test_render_stem_resamples_cuts_and_keeps_levels_above_full_scale(tmp_path: Path) -> None:
    t = np.arange(2 * 22050) / 22050
    write_wav(tmp_path / "tone", 0.8 * np.sin(2 * np.pi * 440 * t), 22050)
    stem = tmp_path / "stem"
    tone = Placement(path=tmp_path / "tone", start=0.0, gain_db=3.0, duration=1.0)
    render_stem([tone, tone], 2.0, stem)  # two of them: 2 x 0.8 x 1.41 > 1
    samples, _ = read_wav(stem)
    assert samples.shape == (2 * RATE, 2)
    spectrum = np.abs(np.fft.rfft(samples[:RATE, 0]))
    assert abs(np.argmax(spectrum) * RATE / RATE - 440) <= 1  # 1 s of signal: 1 Hz bins
    assert np.abs(samples).max() > 2.0  # a float stem: the sum is not clipped
    assert np.abs(samples[RATE:]).max() == 0.0  # cut at 1 s
    assert np.abs(samples[RATE - 5 : RATE]).max() < 0.1  # faded into the cut, no click


# --- master -----------------------------------------------------------------------------------

SPEECH = [(1.0, 3.0), (5.0, 7.5), (9.5, 11.0)]  # seconds with a voice in a 12 s stem


def synthetic_voice(level: float = 0.3, seconds: float = 12.0) -> np.ndarray:
    """Noise in the speech band (1-4 kHz), on during SPEECH, with syllable-like wobble."""
    rng = np.random.default_rng(0)
    frames = round(seconds * RATE)
    band = signal.butter(4, (1000, 4000), "bandpass", fs=RATE, output="sos")
    noise = signal.sosfilt(band, rng.standard_normal(frames))
    t = np.arange(frames) / RATE
    on = np.zeros(frames)
    for start, end in SPEECH:
        on[round(start * RATE) : round(end * RATE)] = 1.0
    syllables = 0.6 + 0.4 * np.abs(np.sin(2 * np.pi * 2.5 * t))
    voice = noise / np.abs(noise).max() * level * on * syllables
    return np.stack([voice, voice], axis=1)


def band_level(sound: np.ndarray, start: float, end: float) -> float:
    """dB level below 300 Hz (where only the test's music is) between two times."""
    low = signal.sosfilt(signal.butter(4, 300, "lowpass", fs=RATE, output="sos"), sound.mean(axis=1))
    return db(rms(low[round(start * RATE) : round(end * RATE)]))


def test_master_ducks_music_under_speech(tmp_path: Path) -> None:
    write_wav(tmp_path / "voice", synthetic_voice(), RATE)
    t = np.arange(12 * RATE) / RATE
    write_wav(tmp_path / "music", 0.5 * np.sin(2 * np.pi * 110 * t), RATE)  # mono, steady
    report = master(tmp_path / "voice", tmp_path / "music", None, tmp_path / "mix")
    mix, rate = read_wav(tmp_path / "mix")
    assert rate == RATE and mix.shape == (12 * RATE, 2)
    assert report.duration == pytest.approx(12.0)
    during = [band_level(mix, start + 0.2, end - 0.1) for start, end in SPEECH]
    gaps = [band_level(mix, 3.0 + 0.8, 5.0 - 0.3), band_level(mix, 7.5 + 0.8, 9.5 - 0.3)]
    assert min(gaps) - max(during) >= 10.0


@pytest.mark.parametrize(("level", "target"), [(0.05, -16.0), (0.9, -10.0)])
def test_master_hits_loudness_and_true_peak(tmp_path: Path, level: float, target: float) -> None:
    write_wav(tmp_path / "voice", synthetic_voice(level), RATE)
    t = np.arange(12 * RATE) / RATE
    write_wav(tmp_path / "music", 0.3 * np.sin(2 * np.pi * 220 * t + np.sin(2 * np.pi * 0.5 * t)), RATE)
    clicks = np.zeros(12 * RATE)
    clicks[6 * RATE :: RATE // 3] = 0.9  # single-sample clicks: sharp peaks, little loudness
    write_wav(tmp_path / "sfx", clicks, RATE)
    report = master(tmp_path / "voice", tmp_path / "music", tmp_path / "sfx", tmp_path / "mix", target_lufs=target)
    mix, _ = read_wav(tmp_path / "mix")
    import pyloudnorm

    measured = pyloudnorm.Meter(RATE).integrated_loudness(mix.astype(np.float64))
    assert abs(measured - target) <= 1.0
    assert report.lufs == pytest.approx(measured, abs=0.1)
    assert db(oversampled_peak(mix)) <= -1.5 + 0.02  # 16-bit rounding is the only slack
    assert report.true_peak_db is not None and report.true_peak_db <= -1.5
    if level == 0.9:
        assert report.limited_db < -1.0  # pushed to -10 LUFS, the limiter had work to do


def test_master_handles_silence(tmp_path: Path) -> None:
    write_wav(tmp_path / "voice", np.zeros((3 * RATE, 2)), RATE)
    write_wav(tmp_path / "music", np.zeros(RATE), 22050)  # shorter, and at another rate
    report = master(tmp_path / "voice", tmp_path / "music", None, tmp_path / "mix")
    mix, _ = read_wav(tmp_path / "mix")
    assert mix.shape == (3 * RATE, 2) and np.all(mix == 0)
    assert report == MixReport(lufs=None, true_peak_db=None, duration=3.0, gain_db=0.0, limited_db=0.0)


def test_master_runs_the_real_backends_end_to_end(tmp_path: Path) -> None:
    EspeakNarrator().speak(SpeechRequest(text=STORY), tmp_path / "line")
    SynthComposer().compose(MusicRequest(mood="mysterious", duration=8.0), tmp_path / "music")
    SynthSfx().make(SfxRequest(cue=SfxCue(sound="crickets"), duration=4.0), tmp_path / "sfx")
    render_stem([Placement(path=tmp_path / "line", start=1.5)], 8.0, tmp_path / "voice")
    render_stem([Placement(path=tmp_path / "music", start=0.0)], 8.0, tmp_path / "music-stem")
    render_stem([Placement(path=tmp_path / "sfx", start=2.0, gain_db=-20)], 8.0, tmp_path / "sfx-stem")
    report = master(tmp_path / "voice", tmp_path / "music-stem", tmp_path / "sfx-stem", tmp_path / "mix")
    mix, _ = read_wav(tmp_path / "mix")
    assert mix.shape == (8 * RATE, 2) and np.isfinite(mix).all()
    assert report.lufs is not None and abs(report.lufs + 16.0) <= 1.0
    assert db(oversampled_peak(mix)) <= -1.48
