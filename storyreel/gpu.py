"""One model pipeline in memory at a time, and one generation at a time, per process.

Diffusion and audio backends load their pipelines through ``pipeline(owner, loader)``: the first call
loads, later calls reuse it, and a different owner's pipeline is released (and the accelerator's cache
emptied) before the next one loads. Across processes and machines, the flow adds a Prefect global
concurrency limit around GPU tasks (see ``storyreel.flows.make_film``).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

_lock = threading.RLock()
_current: tuple[Any, Any] | None = None  # (owner, pipeline)


def device() -> str:
    """``cuda`` when torch sees a CUDA device, else ``cpu``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def release() -> None:
    """Drop the resident pipeline and return its memory."""
    global _current
    with _lock:
        _current = None
        gc.collect()
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()


@contextlib.contextmanager
def pipeline(owner: Any, loader: Callable[[], Any]) -> Iterator[Any]:
    """Yield ``owner``'s pipeline, loading it with ``loader()`` if it is not the resident one.

    The lock is held while the caller generates, so two threads never share or swap a pipeline mid-run.
    """
    global _current
    with _lock:
        if _current is None or _current[0] is not owner:
            release()
            _current = (owner, loader())
        yield _current[1]


def resident_owner() -> Any:
    """The owner of the pipeline in memory, or None."""
    return _current[0] if _current else None
