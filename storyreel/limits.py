"""Limits at the edge: what a user may give storyreel, checked before any work starts.

Each limit is far above what a film needs and far below what makes the machine hang: a prompt of a
hundred thousand characters would be tokenized, composed into every page's prompt and written into every
asset's spec. Text must be text: a command line that is not UTF-8 reaches Python as lone surrogates, which
cannot be written to a plan, a manifest or the terminal.
"""

from __future__ import annotations

from storyreel.errors import InputError

MAX_PROMPT = 2_000  # characters of a story idea: a long paragraph
MAX_REQUEST = 2_000  # characters of a revision request
MAX_STYLE = 300  # characters of a visual style
MAX_SEED = 2**32 - 1  # numpy's seeds are 32-bit; torch's 64-bit
SHOWN = 80  # characters of a user's text echoed in an error line


def shown(text: str, limit: int = SHOWN) -> str:
    """``text`` as it may appear in an error line: cut to ``limit`` characters, never echoed whole."""
    text = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_text(text: str, what: str, limit: int) -> str:
    """``text`` when it is UTF-8 text of at most ``limit`` characters; an InputError naming ``what`` otherwise."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{what} is not UTF-8 text: {shown(text)!r}; give it in UTF-8") from None
    if "\x00" in text:
        raise InputError(f"{what} holds a NUL character")
    if len(text) > limit:
        raise InputError(f"{what} is {len(text):,} characters long; at most {limit:,} are taken: {shown(text)!r}")
    return text


def check_seed(seed: int, what: str = "--seed") -> int:
    """A seed in 0..2^32-1."""
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"{what} must be between 0 and {MAX_SEED}, got {shown(str(seed), 30)}")
    return seed
