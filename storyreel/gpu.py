"""Moved: one resident pipeline per process is ``storyreel.runtime.pipeline`` (with ``release`` and
``resident_owner``). These names stay for backends outside this package that still import them."""

from __future__ import annotations

from storyreel.runtime import pipeline, release, resident_owner


def device() -> str:
    """``cuda`` when torch sees a CUDA device, else ``cpu`` (``storyreel.runtime.device("auto")``)."""
    from storyreel import runtime

    return runtime.device("auto")


__all__ = ["device", "pipeline", "release", "resident_owner"]
