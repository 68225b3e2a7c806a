"""Sound effects synthesised with numpy: wind, rain, sea, fire, birds, footsteps, thunder, a stream,
crickets, magic sparkles and a heartbeat, and the ambiences of places: under the sea, a shop, a library, a
school, a snowfield, a desert and outer space; offline and fast.

Each effect is a small recipe of filtered noise, enveloped sines and random events (rain drops, fire
crackles, chirps), drawn from a generator seeded by the request, so a cue always sounds the same. The
cue's ``sound`` picks the recipes by keyword ("wind and rain" layers both); when it names none, its
``prompt`` is tried; when neither does, ``UnsupportedCue`` says so and the flow leaves the cue out.
Output: 48 kHz stereo, exactly ``duration`` long, faded at both ends, peak-normalised to -1 dBFS (the
cue's ``gain_db`` sets its level in the mix).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np
from pydantic import Field

from storyreel.generators.audio import fade, normalise_peak, pan_add
from storyreel.generators.base import Backend, BackendOptions, SfxRequest, UnsupportedCue
from storyreel.media import write_wav
from storyreel.vocab import SOUND_WORDS

SAMPLE_RATE = 48000

Recipe = Callable[[np.random.Generator, int], np.ndarray]  # (rng, frames) -> (frames, 2) float


class SynthSfx(Backend):
    """Synthesized wind, rain, waves, fire, birds ...

    Makes the common ambiences and cues of a picture book; anything else raises UnsupportedCue."""

    name: ClassVar[str] = "synth"
    version: ClassVar[str] = "1"
    requires: ClassVar[tuple[str, ...]] = ("numpy", "scipy")  # importable modules it needs

    class Options(BackendOptions):
        peak_db: float = Field(-1.0, le=0, description="peak level of the effect, dBFS")
        fade: float = Field(0.3, ge=0, description="seconds of fade at each end (at most a fifth of the cue)")
        max_layers: int = Field(3, ge=1, description="at most this many effects layered for one cue")

    def make(self, request: SfxRequest, out: Path) -> None:
        """Write ``request.duration`` seconds of the cue as 48 kHz stereo WAV, or raise UnsupportedCue."""
        # 1. which recipes
        names = effects_for(request.cue.sound) or effects_for(request.cue.prompt)
        if not names:
            raise UnsupportedCue(
                f"the synth sound maker cannot make {request.cue.sound!r}; it knows {', '.join(RECIPES)}"
            )
        names = names[: self.options.max_layers]

        # 2. render and layer them, each from its own stream of random numbers
        frames = round(request.duration * SAMPLE_RATE)
        if frames == 0:
            raise ValueError(f"a duration of {request.duration} s is shorter than one sample")
        sound = np.zeros((frames, 2))
        for index, name in enumerate(names):
            layer = RECIPES[name](np.random.default_rng([request.seed, index]), frames)
            peak = float(np.abs(layer).max(initial=0.0))
            if peak > 0:
                sound += layer / peak  # layers meet at equal peak level
        # 3. fades and level
        sound = fade(sound, min(self.options.fade, request.duration / 5), SAMPLE_RATE)
        write_wav(out, normalise_peak(sound, self.options.peak_db), SAMPLE_RATE)


def effects_for(text: str) -> list[str]:
    """The effects a text names, in the order it names them: "rain and distant thunder" ->
    ["rain", "thunder"]."""
    text = text.lower()
    found = sorted((m.start(), name) for name, pattern in KEYWORDS.items() if (m := re.search(pattern, text)))
    names = list(dict.fromkeys(name for _, name in found))
    if "storm" in names:  # a storm already has rain, wind and thunder in it
        names = [name for name in names if name not in ("rain", "wind", "thunder")]
    return names


# --- building blocks --------------------------------------------------------------------------


def _noise(rng: np.random.Generator, frames: int, width: float = 0.7) -> np.ndarray:
    """White noise, stereo; ``width`` 0 is the same in both ears, 1 independent."""
    common = rng.standard_normal(frames)
    sides = rng.standard_normal((frames, 2))
    return np.sqrt(1 - width**2) * common[:, None] + width * sides


def _filter(sound: np.ndarray, kind: str, hz: float | tuple[float, float], order: int = 2) -> np.ndarray:
    """Butterworth low/high/band-pass along time."""
    from scipy import signal

    sos = signal.butter(order, hz, kind, fs=SAMPLE_RATE, output="sos")
    return signal.sosfilt(sos, sound, axis=0)


def _slow(rng: np.random.Generator, frames: int, rate: float, low: float, high: float) -> np.ndarray:
    """A smooth random curve between ``low`` and ``high`` that changes about ``rate`` times a second:
    random points, cosine-interpolated."""
    points = max(2, int(frames / SAMPLE_RATE * rate) + 2)
    values = rng.uniform(low, high, points)
    position = np.arange(frames) / SAMPLE_RATE * rate
    index = np.minimum(position.astype(int), points - 2)
    frac = position - index
    blend = 0.5 - 0.5 * np.cos(np.pi * frac)
    return values[index] * (1 - blend) + values[index + 1] * blend


def _events(rng: np.random.Generator, frames: int, per_second: float) -> np.ndarray:
    """Start samples of random events (a Poisson process), sorted."""
    count = rng.poisson(per_second * frames / SAMPLE_RATE)
    return np.sort(rng.integers(0, max(frames, 1), count))


def _scatter(
    rng: np.random.Generator, frames: int, starts: np.ndarray, bank: list[np.ndarray], gains: np.ndarray, spread: float
) -> np.ndarray:
    """Many short sounds (drops, crackles, bubbles) at ``starts``, each a random one of ``bank`` at its
    gain, panned at random within +-``spread``. Rendering a small bank once keeps this fast."""
    out = np.zeros((frames, 2))
    choices = rng.integers(len(bank), size=starts.size)
    pans = rng.uniform(-spread, spread, starts.size)
    for start, choice, gain, pan in zip(starts, choices, gains, pans, strict=True):
        pan_add(out, int(start), bank[choice], float(gain), float(pan))
    return out


def _decay(seconds: float, length: float, attack: float = 0.002) -> np.ndarray:
    """An envelope ``length`` seconds long: a short linear attack, then exponential decay with time
    constant ``seconds``."""
    n = max(1, round(length * SAMPLE_RATE))
    t = np.arange(n) / SAMPLE_RATE
    return np.minimum(t / attack, 1.0) * np.exp(-t / seconds)


def _chirp(start_hz: float, end_hz: float, seconds: float, harmonics: tuple[float, ...] = (1.0,)) -> np.ndarray:
    """A sine gliding from ``start_hz`` to ``end_hz`` (exponentially), under a smooth bump."""
    n = max(2, round(seconds * SAMPLE_RATE))
    freq = start_hz * (end_hz / start_hz) ** np.linspace(0, 1, n)
    phase = 2 * np.pi * np.cumsum(freq) / SAMPLE_RATE
    tone = sum(a * np.sin((k + 1) * phase) for k, a in enumerate(harmonics))
    return tone * np.sin(np.pi * np.arange(n) / n) ** 2


# --- recipes ----------------------------------------------------------------------------------


def wind(rng: np.random.Generator, frames: int) -> np.ndarray:
    """Gusts: low rushing noise swelling and fading, with a faint whistle riding the strong gusts."""
    gust = _slow(rng, frames, 0.25, 0.15, 1.0) ** 1.5
    rush = _filter(_noise(rng, frames), "bandpass", (120.0, 900.0)) * gust[:, None]
    whistle = _filter(_noise(rng, frames, 0.4), "bandpass", (700.0, 760.0)) * (gust**3)[:, None]
    return rush + 0.8 * whistle


def rain(rng: np.random.Generator, frames: int) -> np.ndarray:
    """Steady rain: a hiss of high noise and many small drops, each a tiny bright tick."""
    hiss = _filter(_noise(rng, frames, 0.9), "bandpass", (1500.0, 9000.0)) * 0.5
    ticks = [_filter(rng.standard_normal(192), "highpass", 2500.0) * _decay(0.001, 0.004) for _ in range(8)]
    starts = _events(rng, frames, 60.0)
    drops = _scatter(rng, frames, starts, ticks, rng.uniform(0.5, 2.5, starts.size), spread=0.9)
    return hiss * _slow(rng, frames, 0.3, 0.85, 1.0)[:, None] + drops


def waves(rng: np.random.Generator, frames: int) -> np.ndarray:
    """Waves on a shore: surging low noise every 5-9 s, with a hiss of foam as each one breaks."""
    swell = np.zeros(frames)
    start = -round(rng.uniform(0, 4) * SAMPLE_RATE)
    while start < frames:
        period = round(rng.uniform(5.0, 9.0) * SAMPLE_RATE)
        span = np.arange(max(start, 0), min(start + period, frames))
        t = (span - start) / period
        # rises over the first 40 % of the period, falls slowly after
        shape = np.where(t < 0.4, np.sin(np.pi / 2 * t / 0.4) ** 2, np.cos(np.pi / 2 * (t - 0.4) / 0.6) ** 2)
        swell[span] += shape * rng.uniform(0.6, 1.0)
        start += round(period * rng.uniform(0.7, 0.9))  # the next wave arrives before this one is gone
    surge = _filter(_noise(rng, frames), "lowpass", 700.0) * (0.15 + swell)[:, None]
    foam = (
        _filter(_noise(rng, frames, 0.9), "bandpass", (2000.0, 8000.0))
        * (np.roll(swell, SAMPLE_RATE // 3) ** 3)[:, None]
    )
    return surge + 0.35 * foam


def fire(rng: np.random.Generator, frames: int) -> np.ndarray:
    """A campfire: a soft low roar and irregular crackles and pops."""
    roar = _filter(_noise(rng, frames, 0.5), "lowpass", 400.0) * _slow(rng, frames, 1.5, 0.5, 1.0)[:, None]
    clicks = []
    for length in np.linspace(0.001, 0.006, 8):
        click = _filter(rng.standard_normal(round(length * SAMPLE_RATE) + 2), "highpass", 1200.0)
        clicks.append(click * _decay(length / 3, length + 2 / SAMPLE_RATE, attack=0.0002))
    starts = []
    for cluster in _events(rng, frames, 12.0):  # crackles come in little clusters
        starts += [cluster + at for at in np.cumsum(rng.uniform(0.01, 0.04, rng.integers(1, 5))) * SAMPLE_RATE]
    starts = np.asarray(starts, dtype=int)
    gains = np.minimum(rng.pareto(2.5, starts.size) + 0.3, 2.0)  # mostly small, a few loud pops
    crackles = _scatter(rng, frames, starts, clicks, gains, spread=0.6)
    return 2.0 * roar + crackles


def birds(rng: np.random.Generator, frames: int) -> np.ndarray:
    """Birdsong: two or three birds, each with its own pitch, singing short phrases of chirps."""
    out = np.zeros((frames, 2))
    for _ in range(rng.integers(2, 4)):
        base = rng.uniform(2500.0, 5000.0)
        pan = rng.uniform(-0.8, 0.8)
        time = rng.uniform(0.0, 2.0)
        while time < frames / SAMPLE_RATE:
            for _note in range(rng.integers(3, 8)):
                length = rng.uniform(0.04, 0.14)
                low, high = base * rng.uniform(0.8, 1.0), base * rng.uniform(1.1, 1.6)
                start_hz, end_hz = (low, high) if rng.random() < 0.5 else (high, low)
                tone = _chirp(start_hz, end_hz, length, (1.0, 0.15))
                pan_add(out, round(time * SAMPLE_RATE), tone, rng.uniform(0.5, 1.0), pan)
                time += length + rng.uniform(0.03, 0.1)
            time += rng.uniform(1.0, 4.0)  # a pause between phrases
    return out


def footsteps(rng: np.random.Generator, frames: int) -> np.ndarray:
    """Walking: a soft heel thud and a scuff every ~0.55 s, left and right feet slightly apart."""
    out = np.zeros((frames, 2))
    step, time, foot = rng.uniform(0.5, 0.6), rng.uniform(0.05, 0.2), 0
    while time < frames / SAMPLE_RATE:
        thud = _filter(rng.standard_normal(round(0.08 * SAMPLE_RATE)), "bandpass", (70.0, 400.0)) * _decay(0.02, 0.08)
        scuff = _filter(rng.standard_normal(round(0.09 * SAMPLE_RATE)), "bandpass", (1500.0, 5000.0))
        scuff *= _decay(0.03, 0.09, attack=0.01)
        start = round(time * SAMPLE_RATE)
        pan = -0.2 if foot == 0 else 0.2
        pan_add(out, start, thud, rng.uniform(0.8, 1.0) * 3.0, pan)
        pan_add(out, start + round(0.02 * SAMPLE_RATE), scuff, rng.uniform(0.2, 0.4), pan)
        time += step * rng.uniform(0.95, 1.05)
        foot = 1 - foot
    return out


def thunder(rng: np.random.Generator, frames: int) -> np.ndarray:
    """Thunder: a crack, then a deep rumble rolling away over seconds; again every 8-16 s."""
    out = np.zeros((frames, 2))
    time = rng.uniform(0.2, 1.5)
    while time < frames / SAMPLE_RATE:
        length = rng.uniform(4.0, 7.0)
        n = round(length * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        # a few rolling swells inside an overall decay
        rolls = 0.6 + 0.4 * np.cos(2 * np.pi * rng.uniform(0.5, 1.2) * t + rng.uniform(0, np.pi))
        body = _filter(_noise(rng, n, 0.5), "lowpass", 180.0, order=4) * (rolls * np.exp(-t / (length / 3)))[:, None]
        crack = _filter(_noise(rng, n, 0.5), "bandpass", (300.0, 3000.0)) * np.exp(-t / 0.12)[:, None]
        body[: round(0.05 * SAMPLE_RATE)] *= np.linspace(0, 1, round(0.05 * SAMPLE_RATE))[:, None]
        start = round(time * SAMPLE_RATE)
        end = min(frames, start + n)
        out[start:end] += (3.0 * body + 0.6 * crack)[: end - start] * rng.uniform(0.6, 1.0)
        time += length + rng.uniform(4.0, 9.0)
    return out + 0.05 * _filter(_noise(rng, frames), "lowpass", 120.0)  # a far-off grumble in between


def storm(rng: np.random.Generator, frames: int) -> np.ndarray:
    """A storm: rain, wind and thunder together."""
    out = np.zeros((frames, 2))
    for recipe, level in ((rain, 0.6), (wind, 0.4), (thunder, 1.0)):
        layer = recipe(rng, frames)
        out += level * layer / max(float(np.abs(layer).max(initial=0.0)), 1e-9)
    return out


def stream(rng: np.random.Generator, frames: int) -> np.ndarray:
    """A brook: rippling mid noise and many small bubbles, each a short rising blip."""
    ripple = _filter(_noise(rng, frames, 0.8), "bandpass", (400.0, 3500.0)) * _slow(rng, frames, 6.0, 0.4, 1.0)[:, None]
    blips = []
    for _ in range(12):
        f = rng.uniform(500.0, 1600.0)
        blips.append(_chirp(f, f * rng.uniform(1.3, 2.0), rng.uniform(0.015, 0.04)))
    starts = _events(rng, frames, 25.0)
    bubbles = _scatter(rng, frames, starts, blips, rng.uniform(0.1, 0.4, starts.size), spread=0.8)
    return 0.6 * ripple + bubbles


def crickets(rng: np.random.Generator, frames: int) -> np.ndarray:
    """A night meadow: a few crickets, each chirping pulses of one high tone at its own rhythm, over a
    faint hush."""
    out = np.zeros((frames, 2))
    for _ in range(rng.integers(2, 5)):
        f = rng.uniform(3800.0, 5200.0)
        pan = rng.uniform(-0.8, 0.8)
        gain = rng.uniform(0.3, 1.0)
        pulse_n = round(0.012 * SAMPLE_RATE)
        pulse = np.sin(2 * np.pi * f * np.arange(pulse_n) / SAMPLE_RATE) * np.sin(np.pi * np.arange(pulse_n) / pulse_n)
        period = rng.uniform(0.5, 1.1)
        time = rng.uniform(0.0, period)
        while time < frames / SAMPLE_RATE:
            for k in range(rng.integers(2, 5)):  # pulses in one chirp, ~30 a second
                pan_add(out, round((time + k * 0.033) * SAMPLE_RATE), pulse, gain, pan)
            time += period * rng.uniform(0.9, 1.1)
    return out + 0.01 * _filter(_noise(rng, frames), "lowpass", 1000.0)


def magic(rng: np.random.Generator, frames: int) -> np.ndarray:
    """Magic sparkle: a quick shower of high chimes at the start, then a twinkle now and then."""
    pentatonic = [0, 2, 4, 7, 9]
    notes = [84 + 12 * octave + step for octave in range(2) for step in pentatonic]  # C6 .. A7
    t = np.arange(round(1.2 * SAMPLE_RATE)) / SAMPLE_RATE
    chimes = []
    for midi in notes:
        f = 440.0 * 2 ** ((midi - 69) / 12)
        ring = np.sin(2 * np.pi * f * t) + 0.3 * np.sin(2 * np.pi * 2.76 * f * t) * np.exp(-t * 6)
        chimes.append(ring * _decay(0.35, 1.2))
    cluster = np.sort(rng.uniform(0.0, 1.2, 14)) * SAMPLE_RATE  # the shower
    sparse = _events(rng, frames, 1.5)
    starts = np.concatenate([cluster, sparse[sparse > 1.2 * SAMPLE_RATE]]).astype(int)
    out = _scatter(rng, frames, starts, chimes, rng.uniform(0.3, 1.0, starts.size), spread=0.9)
    return out + 0.15 * np.roll(out, round(0.09 * SAMPLE_RATE), axis=0)[:, ::-1]  # a little echo, crossed


def heartbeat(rng: np.random.Generator, frames: int) -> np.ndarray:
    """A heartbeat at about 70 beats a minute: lub-dub, two low thumps with a falling pitch."""
    out = np.zeros((frames, 2))
    period = 60.0 / rng.uniform(64, 76)
    time = 0.1
    for_each = (0.0, 1.0), (0.28, 0.7)  # (offset in seconds, loudness): lub, dub
    while time < frames / SAMPLE_RATE:
        for offset, loudness in for_each:
            thump = _chirp(70.0, 40.0, 0.12) * _decay(0.04, 0.12, attack=0.005)
            pan_add(out, round((time + offset) * SAMPLE_RATE), thump, loudness, 0.0)
        time += period
    return out


# --- the ambiences of the settings of issue 14 ---------------------------------------------------------


def underwater(rng: np.random.Generator, frames: int) -> np.ndarray:
    """Under the sea: a deep muffled swell, and bubbles rising in little trains, each a gliding blip."""
    swell = _filter(_noise(rng, frames, 0.6), "lowpass", 220.0, order=4) * _slow(rng, frames, 0.15, 0.4, 1.0)[:, None]
    blips = []
    for _ in range(10):
        f = rng.uniform(300.0, 900.0)
        blips.append(_chirp(f, f * rng.uniform(1.6, 2.6), rng.uniform(0.03, 0.07)))
    starts = []
    for train in _events(rng, frames, 0.8):  # bubbles come up in trains
        starts += [train + at for at in np.cumsum(rng.uniform(0.04, 0.12, rng.integers(3, 9))) * SAMPLE_RATE]
    starts = np.asarray(starts, dtype=int)
    bubbles = _scatter(rng, frames, starts, blips, rng.uniform(0.2, 0.6, starts.size), spread=0.7)
    return 3.0 * swell + _filter(bubbles, "lowpass", 2500.0)  # high sounds do not carry under water


def _bell(f: float, seconds: float, partials: tuple[tuple[float, float], ...]) -> np.ndarray:
    """A struck bell: inharmonic partials (ratio, level), each decaying, the higher ones faster."""
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    tone = sum(level * np.sin(2 * np.pi * f * ratio * t) * np.exp(-t * (1.5 + ratio)) for ratio, level in partials)
    return tone * np.minimum(t / 0.002, 1.0)


def _murmur(rng: np.random.Generator, frames: int, band: tuple[float, float], rate: float) -> np.ndarray:
    """Voices too far away to make out: band-passed noise that rises and falls at the pace of syllables."""
    syllables = _slow(rng, frames, rate, 0.0, 1.0) ** 2 * _slow(rng, frames, 0.3, 0.3, 1.0)
    return _filter(_noise(rng, frames, 0.6), "bandpass", band) * syllables[:, None]


def shop(rng: np.random.Generator, frames: int) -> np.ndarray:
    """A little shop: a low murmur of customers, and the bell over the door tinkling now and then."""
    out = 0.5 * _murmur(rng, frames, (250.0, 1800.0), 5.0)
    tinkle = _bell(2200.0, 0.8, ((1.0, 1.0), (2.4, 0.4), (3.9, 0.2)))
    time = rng.uniform(0.1, 0.6)
    while time < frames / SAMPLE_RATE:
        for k in range(int(rng.integers(2, 5))):  # the bell swings a few times
            pan_add(out, round((time + 0.09 * k) * SAMPLE_RATE), tinkle, 0.35 * 0.7**k, 0.3)
        time += rng.uniform(5.0, 10.0)
    return out


def library(rng: np.random.Generator, frames: int) -> np.ndarray:
    """A quiet library: the hush of a big room, a clock ticking, and a page turned now and then."""
    out = 0.3 * _filter(_noise(rng, frames), "lowpass", 500.0)
    tick = _filter(rng.standard_normal(round(0.006 * SAMPLE_RATE)), "bandpass", (2000.0, 5000.0)) * _decay(
        0.0015, 0.006, attack=0.0002
    )
    time = rng.uniform(0.0, 1.0)
    while time < frames / SAMPLE_RATE:  # tick, tock: one a second, the tock a little lower
        pan_add(out, round(time * SAMPLE_RATE), tick, 0.5 if round(time) % 2 else 0.35, -0.5)
        time += 1.0
    for start in _events(rng, frames, 0.25):  # a page turned: a soft swish of paper
        n = round(rng.uniform(0.25, 0.4) * SAMPLE_RATE)
        swish = _filter(rng.standard_normal(n), "bandpass", (1500.0, 7000.0)) * np.sin(np.pi * np.arange(n) / n) ** 2
        pan_add(out, int(start), swish, 0.25, rng.uniform(-0.3, 0.3))
    return out


def school(rng: np.random.Generator, frames: int) -> np.ndarray:
    """A school: the bell rung once at the start, then children at play in the distance."""
    out = 0.6 * _murmur(rng, frames, (400.0, 3000.0), 7.0)
    for k in range(6):  # a hand bell, rung back and forth
        pan_add(
            out,
            round((0.05 + 0.22 * k) * SAMPLE_RATE),
            _bell(880.0, 1.4, ((1.0, 1.0), (2.0, 0.5), (2.76, 0.3))),
            0.5,
            0.0,
        )
    for start in _events(rng, frames, 0.6):  # a shout or a laugh: a short voiced glide
        f = rng.uniform(350.0, 650.0)
        pan_add(
            out,
            int(start),
            _chirp(f, f * rng.uniform(0.7, 1.4), rng.uniform(0.15, 0.35), (1.0, 0.5, 0.3)),
            0.15,
            rng.uniform(-0.8, 0.8),
        )
    return out


def snow(rng: np.random.Generator, frames: int) -> np.ndarray:
    """A snowfield: a thin cold wind whistling over the snow, muffled and still, and now and then the
    crunch of a step in the snow."""
    gust = _slow(rng, frames, 0.15, 0.1, 0.7) ** 1.5
    air = _filter(_noise(rng, frames, 0.8), "bandpass", (900.0, 3500.0)) * gust[:, None]
    whistle = _filter(_noise(rng, frames, 0.4), "bandpass", (1700.0, 1760.0)) * (gust**2)[:, None]
    out = 0.6 * air + 1.2 * whistle
    time = rng.uniform(0.5, 2.0)
    while time < frames / SAMPLE_RATE:
        n = round(0.16 * SAMPLE_RATE)
        crunch = _filter(rng.standard_normal(n), "bandpass", (600.0, 4000.0)) * _decay(0.05, 0.16, attack=0.01)
        crunch *= rng.uniform(0.3, 1.0, n) > 0.55  # crackly grains of snow
        pan_add(out, round(time * SAMPLE_RATE), crunch, 0.3, rng.uniform(-0.3, 0.3))
        time += rng.uniform(0.6, 0.9) if rng.random() < 0.8 else rng.uniform(2.0, 4.0)
    return out


def desert(rng: np.random.Generator, frames: int) -> np.ndarray:
    """A desert: a dry hot wind, and sand hissing across the dunes when it gusts."""
    gust = _slow(rng, frames, 0.2, 0.1, 1.0) ** 2
    rush = _filter(_noise(rng, frames), "bandpass", (80.0, 500.0)) * (0.3 + gust)[:, None]
    grains = _filter(_noise(rng, frames, 0.95), "highpass", 4000.0) * (gust**2)[:, None]
    grains *= _filter(np.abs(rng.standard_normal((frames, 1))), "lowpass", 300.0) * 3.0  # grainy, not smooth
    return rush + 0.5 * grains


def space(rng: np.random.Generator, frames: int) -> np.ndarray:
    """Outer space as films sound it: a low drone of two slightly detuned tones beating slowly, a soft
    shimmer high above, and nothing else."""
    t = np.arange(frames) / SAMPLE_RATE
    base = rng.uniform(55.0, 70.0)
    drone = np.zeros((frames, 2))
    for side, detune in enumerate((1.0, 1.0 + rng.uniform(0.004, 0.01))):
        drone[:, side] = np.sin(2 * np.pi * base * detune * t) + 0.5 * np.sin(2 * np.pi * 1.5 * base * detune * t)
    drone *= _slow(rng, frames, 0.1, 0.6, 1.0)[:, None]
    shimmer = (
        _filter(_noise(rng, frames, 0.9), "bandpass", (3000.0, 3400.0)) * _slow(rng, frames, 0.3, 0.0, 1.0)[:, None]
    )
    return drone + 2.0 * shimmer


RECIPES: dict[str, Recipe] = {
    "wind": wind,
    "rain": rain,
    "waves": waves,
    "fire": fire,
    "birds": birds,
    "footsteps": footsteps,
    "thunder": thunder,
    "storm": storm,
    "stream": stream,
    "crickets": crickets,
    "magic": magic,
    "heartbeat": heartbeat,
    "underwater": underwater,
    "shop": shop,
    "library": library,
    "school": school,
    "snow": snow,
    "desert": desert,
    "space": space,
}

KEYWORDS = SOUND_WORDS  # the words that name each sound: storyreel.vocab
