"""The drawing styles of the preview illustrations: the style in words (the plan's style bible) picks how
the finished page is rendered.

The page is always painted the same way (shapes, colours, light); a style is a pass over the painted pixels
at the output size, before the paper grain:

- ``watercolour`` (the default, and whatever names no other style): the page as painted, unchanged;
- ``crayon``: waxy diagonal strokes that let the paper show through, a little more colour;
- ``pencil``: a light graphite sketch: dark edge lines and cross-hatched shading on white paper;
- ``cutout``: paper cut-out: flat pieces of coloured paper, each casting a small shadow on the one below;
- ``vector``: flat vector art: a few flat colours, crisp, no paper grain or vignette;
- ``pastel``: night-light pastel: soft chalky pastels under a dim blue-violet glow.

Every pass is deterministic (its textures come from fixed seeds) and works at any size.
"""

from __future__ import annotations

import re

import numpy as np
from PIL import Image, ImageFilter

STYLES = ("watercolour", "crayon", "pencil", "cutout", "vector", "pastel")

# The words that name each style, in the order they are tried (the first style named wins).
STYLE_WORDS: dict[str, str] = {
    "crayon": r"\b(crayons?|wax|oil pastel)",
    "pencil": r"\b(pencil|sketch|graphite|charcoal|line drawing)",
    "cutout": r"\b(cut[- ]?out|paper[- ]?cut|cut paper|collage|papercraft)",
    "vector": r"\b(flat vector|vector|flat design|flat colou?rs?|flat illustration|geometric)",
    "pastel": r"\b(night[- ]?light|pastels?|bedtime|dreamy)",
    "watercolour": r"\b(water ?colou?rs?|gouache)",
}


def style_of(text: str) -> str:
    """The style a style text names: the one named first; ``watercolour`` when none is."""
    text = text.lower()
    found = [(m.start(), name) for name, pattern in STYLE_WORDS.items() if (m := re.search(pattern, text))]
    return min(found)[1] if found else "watercolour"


def apply_style(pixels: np.ndarray, style: str) -> np.ndarray:
    """The painted page (H, W, 3 uint8) rendered in ``style``; ``watercolour`` returns it unchanged."""
    if style == "watercolour":
        return pixels
    return STYLE_PASSES[style](pixels).clip(0, 255).round().astype(np.uint8)


def grain_of(style: str) -> bool:
    """Whether the finish adds paper grain and a vignette (flat vector art has neither)."""
    return style != "vector"


# --- the passes ----------------------------------------------------------------------------------


def _texture(h: int, w: int, seed: int, cell: int, angle: float, stretch: float) -> np.ndarray:
    """Streaky noise in [0, 1]: noise on a coarse grid, stretched along ``angle`` (degrees), resized up."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 1, (max(2, h // cell), max(2, w // cell))).astype(np.float32)
    image = Image.fromarray((small * 255).astype(np.uint8)).resize((w, h), Image.Resampling.BILINEAR)
    k = max(3, int(stretch) | 1)  # a motion blur along the stroke direction, as a line kernel
    kernel = np.zeros((k, k), np.float32)
    c = k // 2
    a = np.radians(angle)
    for t in np.linspace(-c, c, 2 * k):
        kernel[round(c - t * np.sin(a)), round(c + t * np.cos(a))] = 1
    if k <= 5:
        image = image.filter(ImageFilter.Kernel((k, k), kernel.ravel().tolist(), scale=float(kernel.sum())))
    else:
        image = image.filter(ImageFilter.BoxBlur(1))
    out = np.asarray(image, np.float32) / 255
    return (out - out.min()) / max(1e-6, float(out.max() - out.min()))


def _hatch(h: int, w: int, period: float, angle: float) -> np.ndarray:
    """Parallel lines in [0, 1] (1 on a line), ``period`` pixels apart, at ``angle`` degrees."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = np.radians(angle)
    phase = (xx * np.cos(a) + yy * np.sin(a)) / max(1.0, period)
    return (np.abs(phase - np.round(phase)) < 0.18).astype(np.float32)


def _luma(image: np.ndarray) -> np.ndarray:
    return image @ np.array([0.299, 0.587, 0.114], np.float32)


def _edges(pixels: np.ndarray) -> np.ndarray:
    """Edge strength in [0, 1]."""
    grey = Image.fromarray(pixels).convert("L").filter(ImageFilter.FIND_EDGES)
    return np.clip(np.asarray(grey, np.float32) / 90, 0, 1)


def _crayon(pixels: np.ndarray) -> np.ndarray:
    h, w = pixels.shape[:2]
    image = pixels.astype(np.float32)
    grey = _luma(image)[..., None]
    image = grey + (image - grey) * 1.25  # wax is bright
    scale = max(1, round(min(h, w) / 180))
    wax = _texture(h, w, 11, scale, 60, 5)
    speck = np.random.default_rng(12).uniform(0, 1, (h, w)).astype(np.float32)
    paper = ((0.6 * wax + 0.4 * speck) > 0.78)[..., None]  # the grain of the paper shows where the crayon skipped
    strokes = 0.85 + 0.3 * _hatch(h, w, 3.0 * scale, 60)[..., None] * wax[..., None]
    image = image * strokes
    image = np.where(paper, image * 0.35 + 255 * 0.65, image)
    edges = _edges(pixels)[..., None]
    return image * (1 - 0.5 * edges)


def _pencil(pixels: np.ndarray) -> np.ndarray:
    h, w = pixels.shape[:2]
    luma = _luma(pixels.astype(np.float32)) / 255
    scale = max(1, round(min(h, w) / 180))
    dark = 1 - luma
    hatch = np.maximum(_hatch(h, w, 5.0 * scale, 45) * (dark > 0.45), _hatch(h, w, 5.0 * scale, -45) * (dark > 0.7))
    edges = _edges(pixels)
    tone = 1 - 0.28 * dark - 0.25 * hatch * dark - 0.75 * edges
    paper = np.array([250, 248, 240], np.float32)
    graphite = np.array([70, 70, 80], np.float32)
    tone = np.clip(tone, 0, 1)[..., None]
    sketch = graphite + (paper - graphite) * tone
    colour = pixels.astype(np.float32)
    return sketch * 0.88 + (0.5 * colour + 0.5 * paper) * 0.12 * tone  # a faint wash of the colours


def _quantized(pixels: np.ndarray, levels: int, smooth: int) -> np.ndarray:
    """Flat colours: the page smoothed (a mode filter of ``smooth`` pixels), then each channel rounded to
    ``levels`` levels, so every colour keeps its hue (a palette for the whole page would give a small
    character's colour away to the scenery's)."""
    image = Image.fromarray(pixels).filter(ImageFilter.ModeFilter(smooth)) if smooth > 1 else Image.fromarray(pixels)
    step = 255 / (levels - 1)
    return np.round(np.asarray(image, np.float32) / step) * step


def _cutout(pixels: np.ndarray) -> np.ndarray:
    h, w = pixels.shape[:2]
    scale = max(1, round(min(h, w) / 120))
    flat = _quantized(pixels, 8, 3 if min(h, w) >= 60 else 1)
    # each piece of paper lies on the one above-left of it: a shadow where the piece changes
    d = scale
    shifted = np.roll(np.roll(flat, d, axis=0), d, axis=1)
    lighter_above = (_luma(shifted) > _luma(flat) + 6)[..., None]
    image = np.where(lighter_above, flat * 0.72, flat)
    fibre = _texture(h, w, 23, max(1, scale), 0, 3)[..., None]
    return image * (0.94 + 0.08 * fibre)


def _vector(pixels: np.ndarray) -> np.ndarray:
    flat = _quantized(pixels, 9, 5 if min(pixels.shape[:2]) >= 60 else 1)
    grey = _luma(flat)[..., None]
    return grey + (flat - grey) * 1.15


def _pastel(pixels: np.ndarray) -> np.ndarray:
    h, w = pixels.shape[:2]
    image = pixels.astype(np.float32)
    grey = _luma(image)[..., None]
    image = grey + (image - grey) * 0.7  # soft colours
    image = 70 + image * 0.72  # chalky: no deep darks, no hard whites
    glow = np.asarray(Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(max(1, min(h, w) / 60))), np.float32)
    image = 0.7 * image + 0.3 * (70 + glow * 0.72)
    yy = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    xx = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    night = np.clip((xx**2 + yy**2) / 2, 0, 1)[..., None]  # the night-light's glow, dimming to blue-violet
    tint = np.array([92, 84, 150], np.float32)
    image = image * (1 - 0.55 * night) + tint * 0.55 * night
    return image * np.array([0.98, 0.94, 1.04], np.float32)


STYLE_PASSES = {"crayon": _crayon, "pencil": _pencil, "cutout": _cutout, "vector": _vector, "pastel": _pastel}
