"""What the model backends (neural narration, MusicGen, Stable Audio ...) share: device and dtype choice,
loading by Hugging Face id or local folder with errors that say what to do, out-of-memory as a clear
error, seeding, and joining generated chunks with a crossfade.

torch is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from storyreel.errors import BackendError

if TYPE_CHECKING:
    import numpy as np
    import torch

Dtype = Literal["auto", "float32", "float16", "bfloat16"]
HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")  # "org/name": one slash, no leading dot or slash


def pick_device(choice: str) -> str:
    """``auto``: ``cuda`` when torch sees a CUDA device, else ``cpu``; anything else is checked and kept."""
    import torch

    from storyreel import gpu

    if choice == "auto":
        return gpu.device()
    if choice.startswith("cuda") and not torch.cuda.is_available():
        raise BackendError(f"device {choice!r} was asked for, but torch {torch.__version__} sees no CUDA device")
    if not re.fullmatch(r"cpu|cuda(:\d+)?|mps", choice):
        raise BackendError(f"unknown device {choice!r}: use auto, cpu, cuda, cuda:N or mps")
    return choice


def pick_dtype(choice: Dtype, device: str, cuda_default: Literal["float16", "bfloat16"] = "float16") -> torch.dtype:
    """``auto``: ``cuda_default`` on CUDA (bfloat16 only where the GPU supports it), float32 elsewhere:
    half precision on a CPU is slow and some ops lack it."""
    import torch

    if choice != "auto":
        return getattr(torch, choice)
    if not device.startswith("cuda"):
        return torch.float32
    if cuda_default == "bfloat16" and not torch.cuda.is_bf16_supported():
        return torch.float16
    return getattr(torch, cuda_default)


def check_model_name(model: str, kind: str) -> None:
    """A model is a Hugging Face id ("org/name") or a local folder; a path that does not exist is said to
    be missing at once (rather than looked up on the Hub as a strange id)."""
    path = Path(model).expanduser()
    if path.is_dir():
        return
    if not HF_ID.match(model):
        raise BackendError(
            f"{kind} model {model!r} is neither a folder nor a Hugging Face id like 'org/name'; "
            "give an existing folder (saved with save_pretrained) or a model id"
        )


@contextlib.contextmanager
def loading(model: str, kind: str, hint: str = "") -> Iterator[None]:
    """Turn what a failed ``from_pretrained`` raises into a BackendError that says what to do."""
    try:
        yield
    except BackendError:
        raise
    except (OSError, ValueError, KeyError) as exc:  # OSError covers the hub's not-found and offline errors
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        local = Path(model).expanduser().is_dir()
        where = (
            "the folder holds no model of the expected kind (save one with save_pretrained)"
            if local
            else "check the Hugging Face id; the first use downloads it into the Hugging Face cache, which needs "
            "the internet (or HF_HUB_OFFLINE=1 with the cache already filled); gated models need "
            "`hf auth login` and their license accepted on their page"
        )
        extra = f"; {hint}" if hint else ""
        raise BackendError(f"could not load the {kind} model {model!r}: {first} ({where}{extra})") from exc


@contextlib.contextmanager
def generating(kind: str, model: str) -> Iterator[None]:
    """Out of GPU memory becomes a BackendError with advice (the pipeline is released first)."""
    import torch

    from storyreel import gpu

    try:
        yield
    except torch.OutOfMemoryError as exc:
        gpu.release()
        raise BackendError(
            f"the {kind} model {model!r} ran out of GPU memory: close other programs using the GPU, choose a "
            "smaller model, or set the backend's dtype option to float16"
        ) from exc


def seed_everything(seed: int) -> None:
    """Seed torch's CPU and CUDA generators (call it under the gpu lock, right before generating)."""
    import torch

    torch.manual_seed(seed)


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


def fit_length(sound: np.ndarray, frames: int) -> np.ndarray:
    """Cut or pad with silence to exactly ``frames`` samples."""
    import numpy as np

    if sound.shape[0] >= frames:
        return sound[:frames]
    return np.concatenate([sound, np.zeros((frames - sound.shape[0], *sound.shape[1:]), sound.dtype)])


def normalise_peak(sound: np.ndarray, peak_db: float) -> np.ndarray:
    """Scale so the highest sample is at ``peak_db`` dBFS (silence stays silence)."""
    import numpy as np

    peak = float(np.abs(sound).max(initial=0.0))
    return sound * (10 ** (peak_db / 20) / peak) if peak > 0 else sound
