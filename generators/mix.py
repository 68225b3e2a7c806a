"""The mixer: lays sounds on the film's timeline as stems, then masters narration, music and effects
into the film's soundtrack.

``render_stem`` places files (any sample rate, mono or stereo) at times on a silent track of a fixed
length. ``master`` ducks the music under the voice, sums the stems, brings the sum to a target
loudness (ITU-R BS.1770 integrated, via pyloudnorm) and keeps its true peak under a ceiling with a
smooth look-ahead limiter. Stems are written as 32-bit float WAV, so overlapping sounds that sum past
full scale survive until the master brings them down; the master is 16-bit PCM.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from storyreel.generators import audio
from storyreel.media import read_wav, write_wav

OVERSAMPLING = 4  # true peak per BS.1770: measured on a 4x oversampled signal


class Placement(BaseModel):
    """One sound on a stem's timeline."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(description="a WAV file: any sample rate, mono or stereo")
    start: float = Field(ge=0, description="seconds into the film")
    gain_db: float = 0.0
    duration: float | None = Field(None, gt=0, description="seconds; cut to this (fading out); None: all of it")
    fade: float = Field(0.05, ge=0, description="seconds of fade-out wherever the sound is cut short")


class MixReport(BaseModel):
    """What the master measured on its output."""

    model_config = ConfigDict(extra="forbid")

    lufs: float | None = Field(description="integrated loudness (BS.1770), LUFS; None: silent")
    true_peak_db: float | None = Field(description="true peak, dBTP (4x oversampled); None: silent")
    duration: float = Field(description="seconds")
    gain_db: float = Field(0.0, description="loudness gain applied to the sum of the stems")
    limited_db: float = Field(0.0, description="deepest gain reduction of the limiter (0: it did nothing)")


def render_stem(placements: list[Placement], duration: float, out: Path, sample_rate: int = 48000) -> None:
    """Write a stereo float WAV of exactly ``round(duration * sample_rate)`` samples holding each
    placement's sound at its start, gain and length. Sounds running past the end are cut (and faded)."""
    frames = round(duration * sample_rate)
    stem = np.zeros((frames, 2))
    for placement in placements:
        sound = load(placement.path, sample_rate)
        start = round(placement.start * sample_rate)
        length = sound.shape[0]
        if placement.duration is not None:
            length = min(length, round(placement.duration * sample_rate))
        length = min(length, frames - start)
        if length <= 0:
            continue
        piece = sound[:length] * 10 ** (placement.gain_db / 20)
        if length < sound.shape[0]:  # cut short: fade out so the cut does not click
            n = min(round(placement.fade * sample_rate), length)
            piece[length - n :] *= np.linspace(1.0, 0.0, n)[:, None]
        stem[start : start + length] += piece
    write_wav(out, stem, sample_rate, float32=True)


def master(
    narration: Path,
    music: Path | None,
    sfx: Path | None,
    out: Path,
    *,
    duck_db: float = -14.0,
    music_gain_db: float = -8.0,
    sfx_gain_db: float = 0.0,
    target_lufs: float = -16.0,
    true_peak_db: float = -1.5,
    fade: float = 0.5,
    sample_rate: int = 48000,
) -> MixReport:
    """Mix the three stems into the soundtrack ``out`` (16-bit stereo WAV), as long as the narration.

    Args:
        narration: the voice stem; it sets the length and drives the ducking.
        music, sfx: the other stems, or None; cut or padded with silence to the narration's length.
        duck_db: how far the music dips while the voice speaks.
        music_gain_db, sfx_gain_db: level of those stems before the sum.
        target_lufs: integrated loudness of the result (-16: typical for online video).
        true_peak_db: ceiling for the true peak; keep a margin, the AAC encoder adds a few tenths of a dB.
        fade: seconds of fade in and out at the ends.
        sample_rate: of the result; inputs at other rates are resampled.
    """
    # 1. the stems, all as long as the narration
    voice = load(narration, sample_rate)
    frames = voice.shape[0]
    if frames == 0:
        raise ValueError(f"{narration}: the narration stem is empty; it sets the soundtrack's length")
    mix = voice.copy()
    if music is not None:
        bed = audio.fit_length(load(music, sample_rate), frames) * 10 ** (music_gain_db / 20)
        mix += bed * duck_gain(voice, sample_rate, duck_db)[:, None]
    if sfx is not None:
        mix += audio.fit_length(load(sfx, sample_rate), frames) * 10 ** (sfx_gain_db / 20)

    # 2. fades first, so the loudness is measured on what will be heard
    mix = audio.fade(mix, fade, sample_rate)

    # 3. loudness to target, then the limiter; limiting takes a little loudness away, so again
    gain_db, limited_db = 0.0, 0.0
    for _ in range(3):
        lufs = loudness(mix, sample_rate)
        if lufs is None or abs(lufs - target_lufs) < 0.2:
            break
        mix *= 10 ** ((target_lufs - lufs) / 20)
        gain_db += target_lufs - lufs
        mix, reduction_db = limit(mix, true_peak_db)
        limited_db = min(limited_db, reduction_db)

    # 4. the ceiling holds whatever the loop did: check, and limit again where needed (rarely)
    peak = true_peak(mix)
    for _ in range(3):
        if peak <= 10 ** (true_peak_db / 20):
            break
        mix, reduction_db = limit(mix, true_peak_db)
        limited_db = min(limited_db, reduction_db)
        peak = true_peak(mix)

    # 5. write it, and say what went out
    write_wav(out, mix, sample_rate)
    return MixReport(
        lufs=loudness(mix, sample_rate),
        true_peak_db=20 * np.log10(peak) if peak > 0 else None,
        duration=frames / sample_rate,
        gain_db=gain_db,
        limited_db=limited_db,
    )


def load(path: Path, sample_rate: int) -> np.ndarray:
    """A WAV file as float64 stereo (frames, 2) at ``sample_rate``."""
    from scipy import signal

    sound, rate = read_wav(path)
    if sound.shape[1] == 1:
        sound = np.repeat(sound, 2, axis=1)
    elif sound.shape[1] != 2:
        raise ValueError(f"{path}: expected mono or stereo audio, got {sound.shape[1]} channels")
    sound = sound.astype(np.float64)
    if rate != sample_rate:
        common = np.gcd(rate, sample_rate)
        sound = signal.resample_poly(sound, sample_rate // common, rate // common, axis=0)
    return sound


def duck_gain(
    voice: np.ndarray,
    sample_rate: int,
    depth_db: float,
    *,
    window: float = 0.05,
    lookahead: float = 0.12,
    hold: float = 0.25,
    attack: float = 0.06,
    release: float = 0.4,
) -> np.ndarray:
    """Per-sample linear gain for the music: ``depth_db`` while the voice speaks, 1 in its pauses.

    A sidechain: the voice's RMS over ``window`` seconds, computed every millisecond, marks speech
    where it is within 30 dB of the voice's loud parts. The dip starts ``lookahead`` seconds before
    speech (so the first syllable is not masked) and lasts ``hold`` seconds after it (so the music
    does not pump between words); it moves in with time constant ``attack`` and out with ``release``.
    """
    hop = max(1, round(0.001 * sample_rate))
    mono = voice.mean(axis=1)
    energy = np.concatenate([[0.0], np.cumsum(mono**2)])
    centers = np.arange(0, mono.size, hop)
    half = round(window * sample_rate / 2)
    lo, hi = np.maximum(centers - half, 0), np.minimum(centers + half, mono.size)
    rms = np.sqrt(np.maximum(energy[hi] - energy[lo], 0.0) / np.maximum(hi - lo, 1))
    level = 20 * np.log10(rms + 1e-12)
    threshold = max(float(np.percentile(level, 95)) - 30.0, -55.0)
    speaking = level > threshold

    # widen each stretch of speech: back by the lookahead, on by the hold (in steps of ``hop``)
    ahead, after = round(lookahead * sample_rate / hop), round(hold * sample_rate / hop)
    count = np.concatenate([[0], np.cumsum(speaking)])
    index = np.arange(centers.size)
    near_speech = count[np.minimum(index + ahead + 1, centers.size)] - count[np.maximum(index - after, 0)] > 0
    target = np.where(near_speech, depth_db, 0.0)

    # one-pole smoothing in dB, faster going down than coming back
    step = hop / sample_rate
    down, up = np.exp(-step / attack), np.exp(-step / release)
    smooth = np.empty_like(target)
    gain = 0.0
    for i, goal in enumerate(target):
        gain = goal + (down if goal < gain else up) * (gain - goal)
        smooth[i] = gain
    return 10 ** (np.interp(np.arange(mono.size), centers, smooth) / 20)


def loudness(sound: np.ndarray, sample_rate: int) -> float | None:
    """Integrated loudness in LUFS (BS.1770, gated), or None for silence."""
    import pyloudnorm

    block = round(0.4 * sample_rate)  # pyloudnorm needs at least one 400 ms block
    if sound.shape[0] <= block:  # pad with silence: the gate leaves it out of the measure
        sound = np.concatenate([sound, np.zeros((block + 1 - sound.shape[0], sound.shape[1]))])
    value = pyloudnorm.Meter(sample_rate).integrated_loudness(sound)
    return float(value) if np.isfinite(value) else None


def true_peak(sound: np.ndarray) -> float:
    """Highest absolute sample value of the 4x oversampled signal (linear, 1.0 = 0 dBTP)."""
    return float(_peaks(sound).max()) if sound.size else 0.0


def limit(sound: np.ndarray, ceiling_db: float, lookahead: int = 240) -> tuple[np.ndarray, float]:
    """Bring the true peak to ``ceiling_db`` or under with a smooth gain curve, not a clip; return the
    limited sound and its deepest gain reduction in dB (0: nothing to do).

    Around a peak that is too high, the gain glides down over ``2 * lookahead`` samples before it and
    back up over as many after it (5 ms each at 48 kHz). The curve is the needed gain's minimum over a
    window, then averaged over the same window: smooth, and never above the needed gain anywhere.
    """
    from scipy import ndimage

    ceiling = 10 ** ((ceiling_db - 0.05) / 20)  # a hair under: the 16-bit rounding of the file
    peaks = ndimage.maximum_filter1d(_peaks(sound), 3, mode="nearest")  # the peaks between samples, too
    needed = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    if needed.min() >= 1.0:
        return sound, 0.0
    size = 2 * lookahead + 1
    gain = ndimage.uniform_filter1d(ndimage.minimum_filter1d(needed, size, mode="nearest"), size, mode="nearest")
    gain = np.minimum(gain, needed)  # equal already, but for the last bit of rounding
    return sound * gain[:, None], 20 * float(np.log10(gain.min()))


def _peaks(sound: np.ndarray) -> np.ndarray:
    """Per original sample, the highest absolute value among its 4 oversampled points, over channels.
    One channel at a time in float32: the oversampled signal is large."""
    from scipy import signal

    frames = sound.shape[0]
    peaks = np.zeros(frames, np.float32)
    for channel in sound.T:
        upsampled = signal.resample_poly(channel.astype(np.float32), OVERSAMPLING, 1)
        np.abs(upsampled, out=upsampled)
        for phase in range(OVERSAMPLING):
            np.maximum(peaks, upsampled[phase::OVERSAMPLING], out=peaks)
    return peaks
