"""Moved: the model runtime is ``storyreel.runtime``, the audio signal helpers are
``storyreel.generators.audio``. These names stay for the backends outside this package that still import
them (the audiocraft backends); new code uses the two modules above."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from storyreel import runtime
from storyreel.generators.audio import crossfade, fit_length, normalise_peak

pick_device = runtime.device


@contextlib.contextmanager
def loading(model: str, kind: str, hint: str = "") -> Iterator[None]:
    """``storyreel.runtime.loading`` for a backend that names its model option ``<kind> model``."""
    with runtime.loading(model, f"the {kind} backend's model option", kind, hint):
        yield


@contextlib.contextmanager
def generating(kind: str, model: str) -> Iterator[None]:
    """Out of GPU memory while generating becomes a BackendError with advice."""
    advice = "close other programs using the GPU, choose a smaller model, or set the backend's dtype to float16"
    with runtime.out_of_memory(f"in the {kind} model {model!r}", advice):
        yield


__all__ = ["crossfade", "fit_length", "generating", "loading", "normalise_peak", "pick_device"]
