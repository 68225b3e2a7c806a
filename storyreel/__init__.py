"""storyreel: one prompt in, a short film out.

``from storyreel import make_film`` gives the Prefect flow (imported lazily: the core stays light)."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["make_film"]


def __getattr__(name: str) -> Any:
    if name == "make_film":
        from storyreel.flows.make_film import make_film

        return make_film
    raise AttributeError(f"module 'storyreel' has no attribute {name!r}")
