"""Background music synthesised with numpy: offline, CPU only, a 60 s cue in well under a second.

A mood picks a style: key, mode, tempo, chord progression, timbres and how busy the parts are. Four
parts play it: a soft pad holding the chords, a plucked or bell arpeggio over them, an optional simple
melody, and an optional soft bass; a synthetic room reverb glues them together. Every note is additive
synthesis (band-limited by construction) under a smooth envelope, rendered once per pitch and length
and reused, which is what makes it fast. The seed picks the arpeggio pattern, the melody and small
variations in loudness, so the same request always gives the same file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
from pydantic import Field

from storyreel.generators.audio import fade, normalise_peak, pan_add
from storyreel.generators.base import Backend, BackendOptions, MusicRequest
from storyreel.media import write_wav
from storyreel.vocab import MOOD_STYLE_WORDS

SAMPLE_RATE = 48000


@dataclass(frozen=True)
class Style:
    """How one mood sounds. Chords are Roman numerals relative to the major scale of ``key``:
    "i" is the minor tonic, "bVI" the major chord on the lowered sixth, "IVmaj7", "viidim", "Vsus4"."""

    key: int  # MIDI note of the tonic, in the octave the pad sits in
    tempo: float  # beats per minute
    progression: tuple[str, ...]  # one chord per bar (4 beats)
    pad: tuple[float, ...]  # harmonic amplitudes: few and falling fast = soft
    lead: str  # "bell" or "pluck": the arpeggio's timbre
    arpeggio_step: float  # beats per arpeggio note
    patterns: tuple[tuple[int, ...], ...]  # chord-tone orders the arpeggio may play; the seed picks one
    bass: str  # "", "whole", "half", "pulse"
    melody: bool
    reverb: float  # wet level, 0-1
    tremolo: float = 0.0  # pad amplitude wobble (Hz) for unease; 0 = none


WARM = (1.0, 0.45, 0.2, 0.1, 0.05)
DARK = (1.0, 0.25, 0.08)
HOLLOW = (1.0, 0.05, 0.3, 0.03, 0.12)
BRASSY = (1.0, 0.7, 0.5, 0.35, 0.22, 0.14, 0.08, 0.05)

UP = (0, 1, 2, 3)
UP_DOWN = (0, 1, 2, 3, 2, 1)
BROKEN = (0, 2, 1, 3)
ALBERTI = (0, 2, 1, 2)
WIDE = (0, 2, 3, 1)

STYLES: dict[str, Style] = {
    "calm": Style(65, 72, ("I", "vi", "IV", "V"), WARM, "bell", 1.0, (UP, BROKEN), "whole", False, 0.30),
    "gentle": Style(63, 66, ("Imaj7", "IVmaj7", "vi7", "IVmaj7"), WARM, "bell", 1.0, (UP, WIDE), "", False, 0.42),
    "playful": Style(67, 116, ("I", "vi", "ii", "V"), WARM, "pluck", 0.5, (ALBERTI, BROKEN), "half", True, 0.15),
    "mysterious": Style(62, 80, ("i", "bVImaj7", "iv7", "V"), HOLLOW, "bell", 0.5, (WIDE, UP), "whole", False, 0.45),
    "tense": Style(64, 100, ("i", "bII", "i", "V"), DARK, "pluck", 0.5, (UP, ALBERTI), "pulse", False, 0.25),
    "sad": Style(69, 62, ("i", "bVI", "bIII", "bVII"), WARM, "pluck", 1.0, (UP_DOWN, BROKEN), "whole", True, 0.35),
    "triumphant": Style(62, 100, ("I", "bVI", "bVII", "I"), BRASSY, "bell", 0.5, (UP, UP_DOWN), "half", True, 0.25),
    "adventurous": Style(62, 108, ("I", "bVII", "IV", "I"), WARM, "pluck", 0.5, (BROKEN, UP), "pulse", True, 0.2),
    "scary": Style(61, 56, ("i", "bII", "i", "viidim"), DARK, "bell", 2.0, (WIDE,), "whole", False, 0.5, 3.0),
}

KEYWORDS = MOOD_STYLE_WORDS  # the words that name each mood: storyreel.vocab
DEFAULT_STYLE = "gentle"


class SynthComposer(Backend):
    """Music synthesized from the mood of each cue.

    Composes a gentle cue for a mood; any mood works (unknown words fall back to a gentle style)."""

    name: ClassVar[str] = "synth"
    version: ClassVar[str] = "1"
    requires: ClassVar[tuple[str, ...]] = ("numpy", "scipy")  # importable modules it needs

    class Options(BackendOptions):
        peak_db: float = Field(-8.0, le=-6.0, description="peak level of the cue, dBFS: headroom for the mix")
        fade: float = Field(1.5, ge=0, description="seconds of fade in and out (at most a quarter of the cue)")
        brightness: float = Field(7000.0, gt=500, lt=20000, description="Hz: a gentle low-pass that keeps it soft")

    def compose(self, request: MusicRequest, out: Path) -> None:
        """Write exactly ``request.duration`` seconds of 48 kHz stereo music for ``request.mood``."""
        from scipy import signal

        # 1. choose the style and lay out the bars
        style = STYLES[style_for(request.mood, request.prompt)]
        rng = np.random.default_rng(request.seed)
        frames = round(request.duration * SAMPLE_RATE)
        if frames == 0:
            raise ValueError(f"a duration of {request.duration} s is shorter than one sample")
        beat = 60.0 / style.tempo
        bars = int(np.ceil(request.duration / (4 * beat)))
        chords = [_chord(style.progression[bar % len(style.progression)], style.key) for bar in range(bars)]
        dry = np.zeros((frames, 2), np.float32)

        # 2. the parts, summed into ``dry``
        _add_pad(dry, chords, beat, style, gain=0.26)
        _add_arpeggio(dry, chords, beat, style, rng, gain=0.40)
        if style.melody:
            _add_melody(dry, chords, beat, style, rng, gain=0.20)
        if style.bass:
            _add_bass(dry, chords, beat, style, gain=0.22)

        # 3. room, tone, length, fades, level
        dry += style.reverb * _reverb(dry, seconds=2.2)
        tone = np.vstack(
            [
                signal.butter(2, self.options.brightness, "lowpass", fs=SAMPLE_RATE, output="sos"),
                signal.butter(2, 35.0, "highpass", fs=SAMPLE_RATE, output="sos"),  # no rumble, no DC
            ]
        )
        music = signal.sosfilt(tone, dry, axis=0)
        music = fade(music, min(self.options.fade, request.duration / 4), SAMPLE_RATE)
        write_wav(out, normalise_peak(music, self.options.peak_db), SAMPLE_RATE)


def style_for(mood: str, prompt: str = "") -> str:
    """The style for a mood: the earliest keyword in the mood, else in the prompt, else the default."""
    for text in (mood.lower(), prompt.lower()):
        hits = [
            (match.start(), name)
            for name, words in KEYWORDS.items()
            for word in words
            if (match := re.search(rf"\b{word}", text))
        ]
        if hits:
            return min(hits)[1]
    return DEFAULT_STYLE


# --- harmony ----------------------------------------------------------------------------------

NUMERALS = {"i": 0, "ii": 2, "iii": 4, "iv": 5, "v": 7, "vi": 9, "vii": 11}
CHORD_RE = re.compile(r"^(b|#)?(vii|iii|ii|iv|vi|v|i)(maj7|7|dim|sus2|sus4|add9)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Chord:
    root: int  # MIDI, in the pad's register
    notes: tuple[int, ...]  # MIDI, ascending, close voiced


def _chord(symbol: str, key: int) -> Chord:
    """The chord a symbol ("bVImaj7") names in ``key``, voiced close around the key's octave (each
    tone in the octave nearest the key), so consecutive chords move by small steps."""
    match = CHORD_RE.match(symbol)
    if not match:
        raise ValueError(f"not a chord symbol: {symbol!r}")
    accidental, numeral, suffix = match.groups()
    root = NUMERALS[numeral.lower()] + {"b": -1, "#": 1, None: 0}[accidental]
    minor = numeral.islower()
    intervals = [0, 3 if minor else 4, 7]
    suffix = (suffix or "").lower()
    if suffix == "dim":
        intervals = [0, 3, 6]
    elif suffix in ("sus2", "sus4"):
        intervals = [0, 2 if suffix == "sus2" else 5, 7]
    elif suffix == "maj7":
        intervals.append(11)
    elif suffix == "7":
        intervals.append(10)
    elif suffix == "add9":
        intervals.append(14)
    low = key - 5  # tones land in [key - 5, key + 7): the pad's register
    notes = tuple(sorted(low + (key + root + i - low) % 12 for i in intervals))
    return Chord(root=low + (key + root - low) % 12, notes=notes)


def _scale_near(chord: Chord, low: int, high: int) -> list[int]:
    """Notes for a melody over ``chord``: its tones plus the pentatonic scale on its root, which
    rarely clashes with it, between ``low`` and ``high``."""
    tones = {n % 12 for n in chord.notes}
    minor = (chord.root + 3) % 12 in tones and (chord.root + 4) % 12 not in tones
    pentatonic = (0, 3, 5, 7, 10) if minor else (0, 2, 4, 7, 9)  # rarely clashes with the chord
    classes = tones | {(chord.root + i) % 12 for i in pentatonic}
    return [n for n in range(low, high + 1) if n % 12 in classes]


# --- sounds -----------------------------------------------------------------------------------


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _angle(freq: float, length: int) -> np.ndarray:
    """2 pi freq t, wrapped to [0, 2 pi) and in float32: sines of float32 are several times faster,
    and wrapping first keeps them accurate."""
    cycles = np.arange(length) * (freq / SAMPLE_RATE)
    cycles -= np.floor(cycles)
    return (2 * np.pi * cycles).astype(np.float32)


def _time(length: int) -> np.ndarray:
    return np.arange(length, dtype=np.float32) / np.float32(SAMPLE_RATE)


def _harmonic_tone(
    freq: float, amplitudes: tuple[float, ...], length: int, decay: float = 0.0, damping: float = 0.0
) -> np.ndarray:
    """Sum over k of amplitudes[k-1] * sin(2 pi k freq t) * exp(-(decay + damping k) t): higher
    harmonics die faster when ``damping`` > 0, as on a struck string. One sine and one cosine serve
    all harmonics (sin((k+1)x) = 2 cos(x) sin(kx) - sin((k-1)x)); harmonics above 0.45 x the
    sample rate are left out, so nothing aliases."""
    t, x = _time(length), _angle(freq, length)
    previous, current, twice_cos = np.zeros(length, np.float32), np.sin(x), 2 * np.cos(x)
    step = np.exp(-damping * t) if damping else None
    envelope = np.exp(-(decay + damping) * t) if decay or damping else None
    out = np.zeros(length, np.float32)
    for k, amplitude in enumerate(amplitudes, start=1):
        if k * freq >= 0.45 * SAMPLE_RATE:
            break
        if k > 1:
            previous, current = current, twice_cos * current - previous
            if step is not None:
                envelope = envelope * step
        out += amplitude * (current if envelope is None else current * envelope)
    return out


def _partials(freq: float, partials: tuple[tuple[float, float, float], ...], length: int) -> np.ndarray:
    """Inharmonic partials (ratio, amplitude, decay per second), each its own sine: bells."""
    t = _time(length)
    out = np.zeros(length, np.float32)
    for ratio, amplitude, decay in partials:
        if freq * ratio < 0.45 * SAMPLE_RATE:
            out += amplitude * np.sin(_angle(freq * ratio, length)) * np.exp(-decay * t)
    return out


def _envelope(length: int, attack: float, release: float) -> np.ndarray:
    """Raised-cosine attack and release over a note of ``length`` samples."""
    env = np.ones(length, np.float32)
    a = min(round(attack * SAMPLE_RATE), length // 2)
    r = min(round(release * SAMPLE_RATE), length - a)
    if a:
        env[:a] = 0.5 - 0.5 * np.cos(np.pi * np.arange(a) / a)
    if r:
        env[length - r :] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(r) / r)
    return env


def _cached(render: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Memoise a note renderer for one cue: notes repeat a lot, and rendering each once is the speed."""
    cache: dict[tuple, np.ndarray] = {}

    def cached(*key: object) -> np.ndarray:
        if key not in cache:
            cache[key] = render(*key).astype(np.float32, copy=False)
        return cache[key]

    return cached


def _add_pad(buffer: np.ndarray, chords: list[Chord], beat: float, style: Style, gain: float) -> None:
    """Chords held a bar each, overlapping so they cross-fade; two voices a few cents apart per note,
    one each side, for width."""
    bar = round(4 * beat * SAMPLE_RATE)
    length = bar + round(0.8 * SAMPLE_RATE)

    @_cached
    def note(midi: int, cents: float) -> np.ndarray:
        sound = _harmonic_tone(_hz(midi + cents / 100), style.pad, length)
        return sound * _envelope(length, attack=min(0.9, 2 * beat), release=1.0)

    pad = np.zeros_like(buffer)
    for index, chord in enumerate(chords):
        for midi in (chord.root - 12, *chord.notes):  # the root an octave down gives body
            pan_add(pad, index * bar, note(midi, -4.0), 0.18, pan=-0.6)
            pan_add(pad, index * bar, note(midi, 4.0), 0.18, pan=0.6)
    if style.tremolo:  # a slow wobble: unease
        t = np.arange(pad.shape[0]) / SAMPLE_RATE
        pad *= (1.0 - 0.35 * (0.5 - 0.5 * np.cos(2 * np.pi * style.tremolo * t)))[:, None].astype(np.float32)
    buffer += gain * pad


def _lead_note(midi: int, timbre: str) -> np.ndarray:
    """One arpeggio note: a bell (inharmonic partials, long ring) or a soft pluck (harmonics whose
    upper ones die first, like a marimba or a muted harp)."""
    if timbre == "bell":
        length = round(2.5 * SAMPLE_RATE)
        partials = ((1.0, 1.0, 1.6), (2.0, 0.35, 2.5), (2.76, 0.22, 4.0), (5.4, 0.08, 7.0), (8.93, 0.03, 10.0))
        sound = _partials(_hz(midi), partials, length)
    else:
        length = round(1.4 * SAMPLE_RATE)
        amplitudes = tuple(1.5 / k**1.6 for k in range(1, 7))  # louder at the start: it dies away sooner
        sound = _harmonic_tone(_hz(midi), amplitudes, length, decay=2.5, damping=3.0)
    return sound * _envelope(length, attack=0.004, release=0.3)


def _add_arpeggio(
    buffer: np.ndarray, chords: list[Chord], beat: float, style: Style, rng: np.random.Generator, gain: float
) -> None:
    """The chord's tones one at a time, an octave above the pad, in a pattern the seed picks, with
    echoes bouncing left and right."""
    pattern = style.patterns[rng.integers(len(style.patterns))]
    note = _cached(_lead_note)
    step = style.arpeggio_step * beat
    lead = np.zeros_like(buffer)
    for bar, chord in enumerate(chords):
        tones = [n + 12 for n in chord.notes] + [chord.notes[0] + 24]  # at least four tones to walk
        for i in range(round(4 / style.arpeggio_step)):
            midi = tones[pattern[i % len(pattern)] % len(tones)]
            start = round((bar * 4 * beat + i * step) * SAMPLE_RATE)
            accent = 1.0 if i % 2 == 0 else 0.8  # strong and weak steps
            pan_add(lead, start, note(midi, style.lead), 0.5 * accent * rng.uniform(0.85, 1.0), np.sin(i * 1.3) / 3)
    buffer += gain * _ping_pong(lead, delay=0.75 * beat, feedback=0.35)


def _melody_note(midi: int, length: int) -> np.ndarray:
    """A soft, flute-like tone: mostly the fundamental, a touch of the 2nd and 3rd, a slight vibrato."""
    t = np.arange(length) / SAMPLE_RATE
    vibrato = 0.004 * np.sin(2 * np.pi * 5.0 * t) * np.clip((t - 0.25) / 0.3, 0, 1)
    phase = 2 * np.pi * _hz(midi) * np.cumsum(1.0 + vibrato) / SAMPLE_RATE
    sound = np.sin(phase) + 0.18 * np.sin(2 * phase) + 0.06 * np.sin(3 * phase)
    return sound * _envelope(length, attack=0.05, release=min(0.25, length / SAMPLE_RATE / 3))


# rhythms of one bar, in beats
RHYTHMS = ((1, 1, 2), (2, 1, 1), (1.5, 0.5, 2), (1, 0.5, 0.5, 2), (3, 1), (0.5, 0.5, 1, 2))


def _add_melody(
    buffer: np.ndarray, chords: list[Chord], beat: float, style: Style, rng: np.random.Generator, gain: float
) -> None:
    """A simple tune: small steps through the chord's tones and pentatonic, each bar's first note on a
    chord tone; silent in the first bar (an intro) and every fifth bar (so it breathes)."""
    note = _cached(_melody_note)
    position = 0  # index into the current bar's scale
    for bar, chord in enumerate(chords):
        if bar == 0 or bar % 5 == 4:
            continue
        scale = _scale_near(chord, style.key + 7, style.key + 21)
        chord_tones = {n % 12 for n in chord.notes}
        if bar == 1:
            position = len(scale) // 2
        beat_in_bar = 0.0
        for value in RHYTHMS[rng.integers(len(RHYTHMS))]:
            position = int(np.clip(position + rng.choice([-2, -1, -1, 0, 1, 1, 2]), 0, len(scale) - 1))
            midi = scale[position]
            if beat_in_bar == 0:
                midi = min((n for n in scale if n % 12 in chord_tones), key=lambda n: abs(n - midi))
                position = scale.index(midi)
            start = round((bar * 4 + beat_in_bar) * beat * SAMPLE_RATE)
            length = round(value * beat * SAMPLE_RATE * 0.95)  # slightly detached
            pan_add(buffer, start, note(midi, length), gain * 0.6 * rng.uniform(0.85, 1.0), pan=0.1)
            beat_in_bar += value


def _bass_note(midi: int, length: int) -> np.ndarray:
    """A round bass: a sine with a little 2nd and 3rd harmonic, a slow decay."""
    sound = _harmonic_tone(_hz(midi), (1.0, 0.25, 0.06), length, decay=0.6, damping=0.8)
    return sound * _envelope(length, attack=0.01, release=min(0.2, length / SAMPLE_RATE / 3))


def _add_bass(buffer: np.ndarray, chords: list[Chord], beat: float, style: Style, gain: float) -> None:
    """The chord's root two octaves below the pad: held a bar, each half bar, or pulsing in eighths."""
    note = _cached(_bass_note)
    hits = {"whole": (0.0,), "half": (0.0, 2.0), "pulse": tuple(i * 0.5 for i in range(8))}[style.bass]
    hold = {"whole": 4.0, "half": 2.0, "pulse": 0.45}[style.bass]
    for bar, chord in enumerate(chords):
        for i, at in enumerate(hits):
            start = round((bar * 4 + at) * beat * SAMPLE_RATE)
            accent = 0.9 if i % 2 == 0 else 0.7
            pan_add(buffer, start, note(chord.root - 24, round(hold * beat * SAMPLE_RATE)), gain * accent)


# --- space ------------------------------------------------------------------------------------


def _ping_pong(sound: np.ndarray, delay: float, feedback: float, repeats: int = 4) -> np.ndarray:
    """The sound plus echoes alternating right and left, each ``feedback`` times softer."""
    out = sound.copy()
    shift = round(delay * SAMPLE_RATE)
    mono = sound.mean(axis=1)
    for k in range(1, repeats + 1):
        if k * shift >= sound.shape[0]:
            break
        out[k * shift :, k % 2] += np.float32(0.8 * feedback**k) * mono[: sound.shape[0] - k * shift]
    return out


def _reverb(sound: np.ndarray, seconds: float) -> np.ndarray:
    """A small hall: the sound convolved with decaying, darkening noise, different noise each side.
    The tail is dark (under 3 kHz), so it is computed at a quarter of the sample rate: 16x cheaper."""
    from scipy import fft, signal

    rate = SAMPLE_RATE // 4
    mono = signal.resample_poly(sound.mean(axis=1), 1, 4)
    rng = np.random.default_rng(7)  # a fixed room: the reverb is part of the instrument, not the seed
    t = np.arange(round(seconds * rate)) / rate
    sos = signal.butter(1, 3000.0, "lowpass", fs=rate, output="sos")
    impulses = signal.sosfilt(sos, rng.standard_normal((2, t.size)), axis=1) * np.exp(-6.9 * t / seconds)
    impulses /= np.sqrt(np.sum(impulses**2, axis=1, keepdims=True))
    impulses = np.pad(impulses, ((0, 0), (round(0.02 * rate), 0)))  # 20 ms before the first reflection
    n = fft.next_fast_len(mono.size + impulses.shape[1], real=True)
    wet = fft.irfft(fft.rfft(mono, n) * fft.rfft(impulses, n, axis=1), n, axis=1)[:, : mono.size]
    return signal.resample_poly(wet.T, 4, 1, axis=0)[: sound.shape[0]].astype(np.float32)
