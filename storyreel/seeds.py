"""The seed policy: every random choice of a film follows from the brief's one base seed.

Each seed is a hash of the base seed and a few parts that name what it is for (``"narration"``, the
page's origin number ...), so changing one page never reshuffles another page's seed, and the same base
seed makes the same film. Pages are named by ``Page.seed_number`` (the number a page had when it was
first written): a page moved by a revision keeps its seeds, and with them its assets.

Agents use ``seeded_index`` for their own choices (a hero's colour, the first camera move); backends
get the seed of their asset in the request and seed their model with it.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storyreel.plan import Page

SEED_RANGE = 2**31  # what every backend accepts (torch, numpy and espeak all take a 31-bit seed)


def seeded_index(base: int, *parts: object, modulo: int) -> int:
    """A stable choice in ``range(modulo)`` for ``base`` and ``parts``: sha256 of ``base:part:part...``."""
    digest = hashlib.sha256(":".join(map(str, (base, *parts))).encode()).hexdigest()
    return int(digest[:8], 16) % modulo


def derive_seed(base: int, *parts: object) -> int:
    """A stable per-asset seed in ``range(2**31)``: changing one page never reshuffles another page's seed."""
    return seeded_index(base, *parts, modulo=SEED_RANGE)


def image_seed(base: int, page: Page) -> int:
    """A page's illustration seed. Pages that show the same characters share one (a seed family): they
    start from the same noise, which keeps the characters' shapes and colours closer from page to page."""
    if page.characters:
        return derive_seed(base, "image", "cast", *sorted(page.characters))
    return derive_seed(base, "image", page.seed_number)


def narration_seed(base: int, page: Page) -> int:
    """The seed of a page's narration."""
    return derive_seed(base, "narration", page.seed_number)


def keyframes_seed(base: int, page: Page) -> int:
    """The seed of a page's keyframes."""
    return derive_seed(base, "keyframes", page.seed_number)


def clip_seed(base: int, label: str) -> int:
    """The seed of an interpolated clip; ``label`` names it by the pages' origin numbers: ``page 3`` or
    ``transition 3-4`` (see ``clip_label``)."""
    return derive_seed(base, "clip", label)


def clip_label(page: Page, next_page: Page | None = None) -> str:
    """``page N`` for a page's clip, ``transition N-M`` for the transition from ``page`` to ``next_page``,
    with the pages' origin numbers: a moved page keeps its clip."""
    if next_page is None:
        return f"page {page.seed_number}"
    return f"transition {page.seed_number}-{next_page.seed_number}"


def music_seed(base: int, cue: int) -> int:
    """The seed of music cue number ``cue`` (1-based)."""
    return derive_seed(base, "music", cue)


def sfx_seed(base: int, page: Page | int, cue: int) -> int:
    """The seed of sound cue number ``cue`` (1-based) of ``page`` (a page, or its origin number)."""
    return derive_seed(base, "sfx", page if isinstance(page, int) else page.seed_number, cue)
