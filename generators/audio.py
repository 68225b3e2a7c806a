"""Audio signal helpers shared by every sound backend and the mixer, on (frames, channels) float arrays.

- ``fade_envelope`` / ``fade``: raised-cosine fades at both ends
- ``fit_length``: cut or pad with silence to an exact number of samples
- ``crossfade``: join two sounds over an overlap (raised-cosine or equal-power gains)
- ``normalise_peak``: the highest sample at a level in dBFS
- ``pan_add``: add a mono sound into a stereo buffer, equal-power panned

numpy is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def fade_envelope(frames: int, n: int) -> np.ndarray:
    """A gain envelope of ``frames`` samples with raised-cosine fades over ``n`` samples at each end."""
    import numpy as np

    n = min(n, frames // 2)
    env = np.ones(frames)
    if n:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)
        env[:n] = ramp
        env[frames - n :] = ramp[::-1]
    return env


def fade(sound: np.ndarray, seconds: float, rate: int) -> np.ndarray:
    """``sound`` (frames, channels) faded in and out over ``seconds`` at each end (at most half its length);
    the result keeps ``sound``'s dtype."""
    envelope = fade_envelope(sound.shape[0], round(seconds * rate))[:, None]
    return (sound * envelope).astype(sound.dtype, copy=False)


def fit_length(sound: np.ndarray, frames: int) -> np.ndarray:
    """Cut or pad with silence to exactly ``frames`` samples."""
    import numpy as np

    if sound.shape[0] >= frames:
        return sound[:frames]
    return np.concatenate([sound, np.zeros((frames - sound.shape[0], *sound.shape[1:]), sound.dtype)])


def crossfade(head: np.ndarray, tail: np.ndarray, samples: int, equal_power: bool = False) -> np.ndarray:
    """Join two (frames, channels) arrays, overlapping the last ``samples`` of ``head`` with the first
    ``samples`` of ``tail``. Raised-cosine gains that sum to 1 suit two takes of the same moment (a
    continuation and the audio it continues); ``equal_power`` (gains whose squares sum to 1) suits two
    unrelated sounds, whose powers add."""
    import numpy as np

    samples = min(samples, head.shape[0], tail.shape[0])
    if samples == 0:
        return np.concatenate([head, tail])
    position = (np.arange(samples) + 0.5) / samples
    fade_in = np.sin(0.5 * np.pi * position) if equal_power else 0.5 - 0.5 * np.cos(np.pi * position)
    fade_out = np.sqrt(1.0 - fade_in**2) if equal_power else 1.0 - fade_in
    middle = head[-samples:] * fade_out[:, None] + tail[:samples] * fade_in[:, None]
    return np.concatenate([head[:-samples], middle, tail[samples:]])


def normalise_peak(sound: np.ndarray, peak_db: float) -> np.ndarray:
    """Scale so the highest sample is at ``peak_db`` dBFS (silence stays silence)."""
    import numpy as np

    peak = float(np.abs(sound).max(initial=0.0))
    return sound * (10 ** (peak_db / 20) / peak) if peak > 0 else sound


def pan_add(buffer: np.ndarray, start: int, sound: np.ndarray, gain: float, pan: float = 0.0) -> None:
    """Add a mono ``sound`` into the stereo ``buffer`` at ``start``, equal-power panned (-1 left, 1 right);
    what runs past the buffer's end is dropped. The gains take the buffer's dtype (float32 stays float32)."""
    import numpy as np

    end = min(buffer.shape[0], start + sound.shape[0])
    if end <= start:
        return
    angle = (pan + 1) * np.pi / 4
    piece = sound[: end - start]
    buffer[start:end, 0] += piece * buffer.dtype.type(gain * np.cos(angle))
    buffer[start:end, 1] += piece * buffer.dtype.type(gain * np.sin(angle))
