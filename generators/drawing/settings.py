"""The nineteen setting painters of the preview illustrations: each paints its far, mid and near layers and
returns a :class:`Stage` that tells the rest of the painting where the characters stand."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw

from storyreel.generators.drawing.canvas import RGB, WHITE, Painter, cloud, height_at, mix

# --- the settings' palette and what a setting hands on -------------------------------------------

WINDOW_LIGHT: RGB = (255, 214, 120)
GRASS: RGB = (118, 178, 84)
LEAF: RGB = (74, 142, 72)
PINE: RGB = (50, 112, 80)
TRUNK: RGB = (128, 88, 60)
STONE: RGB = (150, 146, 152)
SAND: RGB = (238, 214, 160)
WATER: RGB = (70, 150, 200)
FLOWERS: tuple[RGB, ...] = ((240, 96, 110), (255, 206, 84), (250, 250, 250), (176, 120, 230), (255, 150, 200))
ROOFS: tuple[RGB, ...] = ((196, 84, 70), (90, 110, 170), (140, 90, 160), (200, 130, 60), (80, 140, 120))
INK_SOFT: RGB = (60, 50, 60)
GOLD_BELL: RGB = (240, 196, 70)
WALLS: tuple[RGB, ...] = ((250, 236, 208), (236, 210, 190), (210, 226, 236), (240, 226, 170), (222, 214, 236))


@dataclass
class Stage:
    """What a setting tells the rest of the painting."""

    ground: float  # y where the characters' feet are
    outside: Image.Image | None = None  # L mask, 255 where the outdoors shows (None: everywhere)
    floating: bool = False  # characters stand on a cloud (the sky setting)
    front: Callable[[Painter], None] | None = None  # drawn in front of the characters


# --- shapes the settings share: trees, bushes, flowers, grass, houses ---------------------------------


def _round_tree(p: Painter, x: float, y: float, h: float, depth: str, color: RGB = LEAF) -> None:
    """A lollipop tree: a trunk and a canopy of three overlapping balls; ``h`` is its height in units."""
    trunk_w = h * 0.09 * p.unit / p.w
    p.rect(x - trunk_w, y - h * 0.45 * p.unit / p.h, x + trunk_w, y + 0.002, TRUNK, depth, "thing")
    sx, sy = p.unit / p.w, p.unit / p.h
    r = h * 0.3
    for dx, dy, k in ((-0.45, -0.62, 0.85), (0.45, -0.64, 0.85), (0.0, -0.8, 1.0)):
        p.ellipse(x + dx * r * sx, y + dy * h * sy, r * k, r * k * 0.95, color, depth, "foliage")
    if depth != "far":  # a highlight on the top ball
        p.ellipse(
            x - 0.25 * r * sx,
            y - 0.9 * h * sy,
            r * 0.35,
            r * 0.25,
            mix(color, (230, 255, 180), 0.35),
            depth,
            "foliage",
            line=False,
        )


def _pine(p: Painter, x: float, y: float, h: float, depth: str, color: RGB = PINE) -> None:
    """A fir: a stub of trunk and three stacked triangles."""
    sx, sy = p.unit / p.w, p.unit / p.h
    p.rect(x - h * 0.05 * sx, y - h * 0.15 * sy, x + h * 0.05 * sx, y, TRUNK, depth)
    for i, (bottom, top, half) in enumerate(((0.15, 0.55, 0.3), (0.38, 0.78, 0.24), (0.6, 1.0, 0.17))):
        shade = mix(color, (170, 220, 160), 0.08 * i)
        p.polygon(
            [(x - half * h * sx, y - bottom * h * sy), (x + half * h * sx, y - bottom * h * sy), (x, y - top * h * sy)],
            shade,
            depth,
            "foliage",
        )


def _trees_on(
    p: Painter,
    ridge: np.ndarray,
    count: int,
    height: float | tuple[float, float],
    depth: str,
    sink: float,
    tree: Callable[..., None] = _round_tree,
    spread: tuple[float, float] = (0.0, 1.0),
    slots: bool = False,
    **colour: RGB,
) -> None:
    """``count`` trees standing on a ridge, ``sink`` below its line so they are rooted. Each at a random x
    within ``spread``, or with ``slots``, one in each of ``count`` equal slots across the picture; ``height``
    is fixed, or a (low, high) range drawn for each tree."""
    for i in range(count):
        x = (i + p.rng.uniform(*spread)) / count if slots else p.rng.uniform(*spread)
        h = p.rng.uniform(*height) if isinstance(height, tuple) else height
        tree(p, x, height_at(ridge, x) + sink, h, depth, **colour)


def _bush(p: Painter, x: float, y: float, r: float, depth: str, color: RGB = LEAF) -> None:
    sx, sy = p.unit / p.w, p.unit / p.h
    for dx, dy, k in ((-0.7, -0.4, 0.7), (0.7, -0.4, 0.7), (0.0, -0.6, 1.0)):
        p.ellipse(x + dx * r * sx, y + dy * r * sy, r * k, r * k * 0.85, color, depth, "foliage")


def _flowers(p: Painter, x0: float, x1: float, y0: float, y1: float, count: int) -> None:
    """Small five-petal flowers scattered over a band of ground."""
    rng = p.rng
    for _ in range(count):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        r = 0.008 + 0.01 * (y - y0) / max(1e-6, y1 - y0)  # nearer (lower) flowers are bigger
        color = FLOWERS[int(rng.integers(len(FLOWERS)))]
        p.line_through([(x, y), (x, y + r * 2.5 * p.unit / p.h)], (*p.shade((70, 130, 60)), 255), r * 0.35)
        for k in range(5):
            a = 2 * np.pi * k / 5
            p.ellipse(
                x + math.cos(a) * r * p.unit / p.w,
                y + math.sin(a) * r * p.unit / p.h,
                r * 0.7,
                r * 0.7,
                color,
                "near",
                line=False,
            )
        p.ellipse(x, y, r * 0.5, r * 0.5, (255, 220, 90), "near", line=False)


def _grass_tufts(p: Painter, x0: float, x1: float, y0: float, y1: float, count: int, color: RGB) -> None:
    rng = p.rng
    for _ in range(count):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        h = 0.02 + 0.025 * (y - y0) / max(1e-6, y1 - y0)
        shade = (*p.shade(mix(color, (40, 90, 40), 0.3), "near", "foliage"), 255)
        for dx in (-0.4, 0.0, 0.4):
            p.line_through(
                [(x + dx * h * 0.5 * p.unit / p.w, y), (x + dx * h * p.unit / p.w, y - h * p.unit / p.h)], shade, 0.004
            )


def _house(p: Painter, x: float, y: float, w: float, h: float, wall: RGB, roof: RGB, depth: str) -> None:
    """A cottage: walls, a pitched roof, a door and two windows that glow after dark."""
    sx, sy = p.unit / p.w, p.unit / p.h
    left, right, top = x - w / 2 * sx, x + w / 2 * sx, y - h * sy
    p.rect(left + w * 0.62 * sx, top - h * 0.55 * sy, left + w * 0.76 * sx, top, (150, 100, 90), depth, "roof")
    p.rect(left, top, right, y, wall, depth)
    p.polygon(
        [(left - w * 0.1 * sx, top + 0.01 * sy), (right + w * 0.1 * sx, top + 0.01 * sy), (x, top - h * 0.65 * sy)],
        roof,
        depth,
        "roof",
    )
    p.rect(
        x - w * 0.1 * sx, y - h * 0.5 * sy, x + w * 0.1 * sx, y, mix(roof, (90, 60, 40), 0.5), depth, radius=w * 0.05
    )
    lit = p.look.dim
    for wx in (left + w * 0.2 * sx, right - w * 0.2 * sx):
        color = WINDOW_LIGHT if lit else (170, 210, 236)
        p.rect(
            wx - w * 0.09 * sx, y - h * 0.75 * sy, wx + w * 0.09 * sx, y - h * 0.42 * sy, color, None if lit else depth
        )
        if lit and depth != "far":
            p.glow(wx, y - h * 0.58 * sy, w * 0.35, WINDOW_LIGHT, 0.25)


# --- the settings, each far to near ----------------------------------------------------------------


def _meadow(p: Painter) -> Stage:
    rng = p.rng
    far = p.hills(0.55, 0.035, 1.5, (120, 170, 130), "far")
    _trees_on(p, far, 5, 0.07, "far", sink=0.01)
    mid = p.hills(0.66, 0.03, 1.2, (130, 186, 96), "mid")
    _trees_on(p, mid, int(rng.integers(2, 5)), (0.14, 0.2), "mid", sink=0.01, spread=(0.03, 0.97))
    p.hills(0.78, 0.015, 0.8, GRASS, "near")
    _grass_tufts(p, 0, 1, 0.8, 1.0, 18, GRASS)
    _flowers(p, 0, 1, 0.8, 0.99, 22)
    return Stage(ground=0.92)


def _forest(p: Painter) -> Stage:
    rng = p.rng
    far = p.hills(0.5, 0.03, 2.0, (80, 130, 110), "far", "foliage")
    _trees_on(p, far, 16, (0.12, 0.18), "far", sink=0.02, tree=_pine, slots=True, color=(60, 110, 100))
    mid = p.hills(0.66, 0.02, 1.5, (96, 150, 80), "mid", "foliage")
    for i in range(9):
        x = (i + rng.uniform(0.1, 0.9)) / 9
        tree = _pine if rng.uniform() < 0.5 else _round_tree
        tree(p, x, height_at(mid, x) + 0.015, rng.uniform(0.24, 0.34), "mid")
    p.hills(0.8, 0.012, 0.8, (100, 160, 76), "near")
    # big trunks framing the picture, their canopies out of frame
    for x in (rng.uniform(-0.02, 0.06), rng.uniform(0.94, 1.02)):
        half = 0.045 * p.unit / p.w
        p.rect(x - half, -0.05, x + half, 0.86, (110, 76, 52), "near")
        p.ellipse(x, 0.0, 0.2, 0.16, (60, 120, 64), "near", "foliage")
    for _ in range(3):
        x = rng.uniform(0.05, 0.95)
        _bush(p, x, rng.uniform(0.83, 0.86), 0.05, "near", (70, 136, 70))
    for _ in range(4):  # toadstools
        x, y = rng.uniform(0.05, 0.95), rng.uniform(0.88, 0.98)
        p.rect(x - 0.006 * p.unit / p.w, y - 0.025 * p.unit / p.h, x + 0.006 * p.unit / p.w, y, (245, 235, 215))
        p.ellipse(x, y - 0.026 * p.unit / p.h, 0.02, 0.012, (220, 70, 60))
    _grass_tufts(p, 0, 1, 0.82, 1.0, 14, (100, 160, 76))
    return Stage(ground=0.92)


def _garden(p: Painter) -> Stage:
    rng = p.rng
    far = p.hills(0.5, 0.02, 1.5, (110, 160, 120), "far", "foliage")
    _trees_on(p, far, 7, (0.1, 0.15), "far", sink=0.02, slots=True)
    # a hedge, then a picket fence in front of it
    p.rect(-0.02, 0.56, 1.02, 0.7, (84, 140, 76), "mid", "foliage", radius=0.05)
    p.land(np.array([[-0.02, 0.68], [1.02, 0.68]]), (126, 184, 92), "mid")
    for i in range(30):
        x = i / 29
        p.polygon(
            [(x - 0.008, 0.7), (x - 0.008, 0.63), (x, 0.615), (x + 0.008, 0.63), (x + 0.008, 0.7)],
            (250, 250, 245),
            "mid",
        )
    p.rect(-0.02, 0.645, 1.02, 0.655, (250, 250, 245), "mid")
    p.hills(0.76, 0.008, 0.8, GRASS, "near")
    # a winding stone path and flower beds
    for i in range(7):
        t = i / 6
        x = 0.5 + 0.12 * math.sin(t * 3 + rng.uniform(0, 0.3))
        y = 0.75 + 0.24 * t
        p.ellipse(x, y, 0.03 + 0.04 * t, 0.012 + 0.016 * t, (214, 206, 196))
    for side in (0.14, 0.86):
        p.ellipse(side, 0.8, 0.2, 0.05, (150, 100, 70))
        _flowers(p, side - 0.1, side + 0.1, 0.77, 0.82, 10)
    _flowers(p, 0, 1, 0.85, 0.99, 14)
    return Stage(ground=0.92)


def _beach(p: Painter) -> Stage:
    rng = p.rng
    horizon = 0.55
    p.rect(-0.02, horizon, 1.02, 0.8, WATER, "far", line=False)
    if rng.uniform() < 0.6:  # a far island
        x, half, h = rng.uniform(0.2, 0.8), 0.12 * p.unit / p.w, 0.05 * p.unit / p.h
        p.polygon(
            [
                (x - half, horizon),
                (x - half * 0.4, horizon - h),
                (x + half * 0.5, horizon - h * 0.8),
                (x + half, horizon),
            ],
            (90, 150, 110),
            "far",
        )
    p.rect(-0.02, horizon + 0.06, 1.02, 0.8, (60, 140, 196), "mid", line=False)
    for _ in range(14):  # wave crests
        x, y = rng.uniform(0, 1), rng.uniform(horizon + 0.03, 0.7)
        w = 0.03 + 0.05 * (y - horizon) / 0.2
        p.line_through([(x - w, y), (x, y - 0.006), (x + w, y)], (*p.shade((230, 244, 250), "mid"), 200), 0.004)
    shore = p.ridge(0.72, 0.02, 0.8)
    foam = shore.copy()
    foam[:, 1] -= 0.015
    p.land(foam, (236, 246, 250), "mid")
    p.land(shore, SAND, "near")
    for _ in range(6):  # shells and starfish
        x, y = rng.uniform(0.05, 0.95), rng.uniform(0.8, 0.98)
        if rng.uniform() < 0.5:
            p.ellipse(x, y, 0.012, 0.009, (250, 210, 200))
        else:
            r = 0.014
            pts = [
                (
                    x + math.cos(a) * r * (1 if k % 2 == 0 else 0.45) * p.unit / p.w,
                    y + math.sin(a) * r * (1 if k % 2 == 0 else 0.45) * p.unit / p.h,
                )
                for k, a in enumerate(np.linspace(-np.pi / 2, 1.5 * np.pi, 10, endpoint=False))
            ]
            p.polygon(pts, (240, 140, 90))
    _palm(p, float(rng.choice([0.08, 0.92])), 0.86, 0.55)
    return Stage(ground=0.93)


def _palm(p: Painter, x: float, y: float, h: float) -> None:
    """A palm tree leaning towards the middle of the picture."""
    lean = 0.12 if x < 0.5 else -0.12
    sx, sy = p.unit / p.w, p.unit / p.h
    top = (x + lean * h * sx, y - h * sy)
    for i in range(6):  # the trunk, in rings
        t0, t1 = i / 6, (i + 1) / 6
        cx0, cy0 = x + lean * h * sx * t0**2, y - h * sy * t0
        cx1, cy1 = x + lean * h * sx * t1**2, y - h * sy * t1
        hw = 0.025 * (1 - 0.4 * t0)
        p.polygon(
            [(cx0 - hw * sx, cy0), (cx0 + hw * sx, cy0), (cx1 + hw * 0.85 * sx, cy1), (cx1 - hw * 0.85 * sx, cy1)],
            (170, 124, 80),
        )
    for a in (-160, -120, -60, -20, 20, 160):
        ang = math.radians(a)
        tip = (top[0] + math.cos(ang) * 0.2 * sx, top[1] + math.sin(ang) * 0.12 * sy + 0.04 * sy)
        mid = ((top[0] + tip[0]) / 2, (top[1] + tip[1]) / 2 - 0.03 * sy)
        p.polygon([top, (mid[0], mid[1] - 0.02 * sy), tip, (mid[0], mid[1] + 0.02 * sy)], (70, 150, 70), kind="foliage")
    p.ellipse(top[0], top[1] + 0.01 * sy, 0.025, 0.025, (120, 80, 50))


def _sea(p: Painter) -> Stage:
    rng = p.rng
    horizon = 0.56
    p.rect(-0.02, horizon, 1.02, 1.02, WATER, "far", line=False)
    if rng.uniform() < 0.7:  # a lighthouse island on the horizon
        x, half, h = rng.uniform(0.15, 0.85), 0.08 * p.unit / p.w, 0.03 * p.unit / p.h
        p.polygon(
            [(x - half, horizon), (x - half * 0.3, horizon - h), (x + half * 0.4, horizon - h), (x + half, horizon)],
            (110, 150, 110),
            "far",
        )
        p.rect(
            x - 0.008 * p.unit / p.w,
            horizon - h - 0.06 * p.unit / p.h,
            x + 0.008 * p.unit / p.w,
            horizon - h,
            WHITE,
            "far",
        )  # a lighthouse
    for band, (y0, color, depth) in enumerate(
        ((0.6, (60, 140, 200), "mid"), (0.72, (52, 128, 190), "near"), (0.86, (44, 116, 180), "near"))
    ):
        waves = p.hills(y0, 0.01, 2.5 + band, color, depth, "thing")
        for _ in range(6 + 3 * band):
            x = rng.uniform(0, 1)
            y = height_at(waves, x) + rng.uniform(0.01, 0.1)
            w = 0.02 + 0.02 * band
            p.line_through(
                [(x - w, y + 0.004), (x, y - 0.004), (x + w, y + 0.004)], (*p.shade((220, 240, 250), depth), 210), 0.004
            )
    return Stage(ground=0.88, front=_boat_front)


def _boat_front(p: Painter) -> None:
    """The hull of a little rowing boat, in front of the characters' legs, and the water lapping it."""
    x0, x1, top = 0.16, 0.84, 0.86
    p.polygon([(x0 - 0.04, top), (x1 + 0.04, top), (x1 - 0.03, 1.0), (x0 + 0.03, 1.0)], (176, 108, 66))
    p.rect(x0 - 0.045, top - 0.012, x1 + 0.045, top + 0.012, (220, 160, 100), radius=0.01)
    p.line_through([(x0, 0.92), (x1, 0.92)], (*p.shade((140, 84, 52)), 255), 0.006)
    p.hills(0.96, 0.008, 3.0, (44, 116, 180), "near", "thing")


def _mountain(p: Painter) -> Stage:
    rng = p.rng
    peaks = int(rng.integers(3, 5))
    for i in range(peaks):  # snowy peaks
        x = (i + rng.uniform(0.2, 0.8)) / peaks
        h, half = rng.uniform(0.28, 0.4), rng.uniform(0.18, 0.28)
        base, top = 0.6, 0.6 - h
        p.polygon([(x - half, base), (x, top), (x + half, base)], (120, 128, 160), "far")
        k = 0.3  # the snow cap: the top third, with a jagged lower edge
        cap = [
            (x - half * k, top + h * k),
            (x - half * k * 0.5, top + h * k * 0.8),
            (x, top + h * k * 1.05),
            (x + half * k * 0.5, top + h * k * 0.8),
            (x + half * k, top + h * k),
            (x, top),
        ]
        p.polygon(cap, (246, 248, 252), "far")
    mid = p.hills(0.64, 0.05, 1.3, (110, 150, 110), "mid")
    _trees_on(p, mid, 8, (0.12, 0.2), "mid", sink=0.03, tree=_pine)
    p.hills(0.8, 0.02, 1.0, (150, 160, 110), "near")
    for _ in range(5):  # boulders
        x, y = rng.uniform(0, 1), rng.uniform(0.84, 0.99)
        p.ellipse(x, y, rng.uniform(0.03, 0.06), rng.uniform(0.02, 0.03), STONE)
    _grass_tufts(p, 0, 1, 0.82, 1.0, 10, (150, 160, 110))
    return Stage(ground=0.92)


def _cave(p: Painter) -> Stage:
    rng = p.rng
    # what the cave's mouth shows: far hills under the sky
    p.hills(0.58, 0.03, 1.5, (110, 160, 120), "far")
    p.hills(0.68, 0.02, 1.0, (120, 176, 96), "mid")
    # the rock, with an arched mouth
    mx, mw, mtop = rng.uniform(0.4, 0.6), 0.22, 0.2
    mask = Image.new("L", (p.w, p.h), 255)
    ImageDraw.Draw(mask).ellipse([(mx - mw) * p.w, mtop * p.h, (mx + mw) * p.w, 1.2 * p.h], fill=0)
    rock = p.shade((96, 84, 92))
    p.image.paste(rock, (0, 0, p.w, p.h), mask)
    outside = Image.eval(mask, lambda v: 255 - v)
    p.light = (p.look.light[0] * 0.85, p.look.light[1] * 0.82, p.look.light[2] * 0.9)  # inside is dimmer
    p.draw.ellipse(
        [(mx - mw) * p.w, mtop * p.h, (mx + mw) * p.w, 1.2 * p.h], outline=p.shade((60, 50, 60)), width=p.line * 2
    )
    for _ in range(10):  # blotches of darker and lighter rock
        x, y = rng.uniform(0, 1), rng.uniform(0, 0.8)
        if abs(x - mx) < mw + 0.05 and y > mtop:
            continue
        p.ellipse(
            x,
            y,
            rng.uniform(0.05, 0.12),
            rng.uniform(0.03, 0.08),
            (104, 92, 100) if rng.uniform() < 0.5 else (90, 78, 88),
            line=False,
        )
    for i in range(12):  # stalactites hanging from the top
        x = (i + rng.uniform(0.1, 0.9)) / 12
        length, half = rng.uniform(0.06, 0.18), rng.uniform(0.012, 0.025)
        p.polygon([(x - half, -0.01), (x + half, -0.01), (x, length)], (110, 98, 108))
    p.hills(0.8, 0.015, 1.0, (120, 106, 100), "near")
    for _ in range(3):  # glowing crystals: light sources, unshaded
        x, y = float(rng.choice([rng.uniform(0.04, 0.22), rng.uniform(0.78, 0.96)])), rng.uniform(0.76, 0.84)
        color = FLOWERS[int(rng.integers(len(FLOWERS)))]
        crystal = mix(color, (140, 220, 255), 0.5)
        p.glow(x, y - 0.04, 0.14, crystal, 0.35)
        for dx, h in ((-0.012, 0.05), (0.0, 0.08), (0.014, 0.045)):
            p.polygon(
                [
                    (x + dx - 0.008, y),
                    (x + dx - 0.006, y - h + 0.015),
                    (x + dx, y - h),
                    (x + dx + 0.006, y - h + 0.015),
                    (x + dx + 0.008, y),
                ],
                crystal,
                None,
            )
    for _ in range(3):
        x = rng.uniform(0.05, 0.95)
        p.ellipse(x, rng.uniform(0.88, 0.98), 0.05, 0.02, (100, 90, 96))
    return Stage(ground=0.92, outside=outside)


def _castle(p: Painter) -> Stage:
    rng = p.rng
    p.hills(0.56, 0.03, 1.5, (120, 164, 130), "far")
    hill = p.hills(0.66, 0.04, 0.8, (124, 180, 96), "mid")
    cx = rng.uniform(0.4, 0.6)
    base = height_at(hill, cx) + 0.02
    sx, sy = p.unit / p.w, p.unit / p.h
    wall, roof = (214, 204, 196), ROOFS[int(rng.integers(len(ROOFS)))]
    # the curtain wall with battlements, towers at its ends and a keep in the middle
    half = 0.3 * sx
    p.rect(cx - half, base - 0.16 * sy, cx + half, base, wall, "mid")
    for i in range(11):
        x = cx - half + (i + 0.25) * 2 * half / 11
        p.rect(x, base - 0.19 * sy, x + half / 11, base - 0.16 * sy, wall, "mid")
    p.rect(cx - 0.1 * sx, base - 0.34 * sy, cx + 0.1 * sx, base - 0.1 * sy, wall, "mid")
    p.polygon(
        [(cx - 0.12 * sx, base - 0.34 * sy), (cx + 0.12 * sx, base - 0.34 * sy), (cx, base - 0.47 * sy)],
        roof,
        "mid",
        "roof",
    )
    for tx in (cx - half, cx + half):
        p.rect(tx - 0.05 * sx, base - 0.28 * sy, tx + 0.05 * sx, base, wall, "mid")
        p.polygon(
            [(tx - 0.065 * sx, base - 0.28 * sy), (tx + 0.065 * sx, base - 0.28 * sy), (tx, base - 0.42 * sy)],
            roof,
            "mid",
            "roof",
        )
        p.line_through([(tx, base - 0.42 * sy), (tx, base - 0.49 * sy)], (*p.shade((90, 80, 80), "mid"), 255), 0.004)
        p.polygon(
            [(tx, base - 0.49 * sy), (tx + 0.05 * sx, base - 0.47 * sy), (tx, base - 0.45 * sy)],
            FLOWERS[0],
            "mid",
            line=False,
        )
        window = WINDOW_LIGHT if p.look.dim else (70, 70, 90)
        p.rect(
            tx - 0.012 * sx,
            base - 0.2 * sy,
            tx + 0.012 * sx,
            base - 0.14 * sy,
            window,
            None if p.look.dim else "mid",
            radius=0.01,
        )
    p.rect(cx - 0.04 * sx, base - 0.1 * sy, cx + 0.04 * sx, base, (110, 76, 52), "mid", radius=0.04)
    p.hills(0.8, 0.012, 0.8, GRASS, "near")
    p.polygon([(cx - 0.03, 0.8), (cx + 0.03, 0.8), (cx + 0.2, 1.02), (cx - 0.2, 1.02)], (214, 196, 160), line=False)
    _flowers(p, 0, 0.25, 0.84, 0.99, 8)
    _flowers(p, 0.75, 1, 0.84, 0.99, 8)
    return Stage(ground=0.93)


def _village(p: Painter) -> Stage:
    rng = p.rng
    far = p.hills(0.55, 0.03, 1.5, (120, 164, 130), "far")
    _trees_on(p, far, 6, 0.08, "far", sink=0.01)
    mid = p.hills(0.7, 0.01, 1.0, (130, 184, 96), "mid")
    houses = int(rng.integers(3, 6))
    for i in range(houses):
        x = (i + rng.uniform(0.3, 0.7)) / houses
        w = rng.uniform(0.16, 0.22)
        _house(
            p,
            x,
            height_at(mid, x) + 0.02,
            w,
            w * rng.uniform(0.7, 0.9),
            WALLS[int(rng.integers(len(WALLS)))],
            ROOFS[int(rng.integers(len(ROOFS)))],
            "mid",
        )
    p.hills(0.8, 0.008, 0.8, GRASS, "near")
    # a cobbled lane across the front
    p.polygon([(-0.02, 0.84), (1.02, 0.82), (1.02, 0.97), (-0.02, 0.99)], (200, 190, 176), line=False)
    for _ in range(24):
        x, y = rng.uniform(0, 1), rng.uniform(0.85, 0.96)
        p.ellipse(x, y, 0.018, 0.008, (178, 168, 156), line=False)
    for i in range(12):  # a fence on the left or right
        x = (0.02 if rng.uniform() < 0.5 else 0.68) + i * 0.028
        p.rect(x, 0.76, x + 0.01, 0.83, (200, 160, 120))
    return Stage(ground=0.92)


def _city(p: Painter) -> Stage:
    rng = p.rng
    lit = p.look.dim
    x = -0.02
    while x < 1.02:  # the far skyline
        w, h = rng.uniform(0.04, 0.08), rng.uniform(0.15, 0.35)
        p.rect(x, 0.62 - h, x + w, 0.64, (130, 140, 170), "far", line=False)
        x += w
    x = -0.03
    while x < 1.02:  # mid buildings with windows
        w, h = rng.uniform(0.1, 0.16), rng.uniform(0.22, 0.38)
        color = WALLS[int(rng.integers(len(WALLS)))]
        top = 0.74 - h
        p.rect(x, top, x + w, 0.76, mix(color, (180, 150, 140), 0.3), "mid")
        cols, rows = 3, max(2, int(h / 0.07))
        for r in range(rows):
            for c in range(cols):
                on = lit and rng.uniform() < 0.7
                wx = x + w * (0.14 + 0.28 * c)
                wy = top + 0.03 + r * (h - 0.06) / rows
                p.rect(
                    wx,
                    wy,
                    wx + w * 0.16,
                    wy + 0.035,
                    WINDOW_LIGHT if on else (140, 170, 200),
                    None if on else "mid",
                    line=False,
                )
        x += w + rng.uniform(0.0, 0.02)
    p.rect(-0.02, 0.76, 1.02, 0.84, (176, 176, 184), "near")  # the pavement
    p.rect(-0.02, 0.84, 1.02, 1.02, (110, 112, 124), "near", line=False)  # the street
    for i in range(8):
        p.rect(i / 8 + 0.02, 0.93, i / 8 + 0.08, 0.94, (240, 236, 220), "near", line=False)
    lamp = float(rng.choice([0.1, 0.9]))
    p.rect(lamp - 0.006, 0.42, lamp + 0.006, 0.82, (60, 64, 80))
    p.ellipse(lamp, 0.42, 0.03, 0.03, WINDOW_LIGHT if lit else (230, 230, 210), None if lit else "near")
    if lit:
        p.glow(lamp, 0.45, 0.3, WINDOW_LIGHT, 0.35)
    return Stage(ground=0.93)


def _room(p: Painter) -> Stage:
    rng = p.rng
    # indoors the light is the room's own: daylight through the window, or a warm lamp at night
    p.light = (0.92, 0.8, 0.62) if p.look.dim else (1.0, 0.98, 0.94)
    wx, floor = rng.uniform(0.25, 0.75), 0.7
    window = ((wx - 0.13) * p.w, 0.14 * p.h, (wx + 0.13) * p.w, 0.5 * p.h)
    mask = Image.new("L", (p.w, p.h), 255)
    ImageDraw.Draw(mask).rectangle(window, fill=0)
    outside = Image.eval(mask, lambda v: 255 - v)
    wall = WALLS[int(rng.integers(len(WALLS)))]
    p.image.paste(p.shade(wall), (0, 0, p.w, p.h), mask)
    stripe = mix(wall, (255, 255, 255), 0.35)
    for i in range(0, 24, 2):  # wallpaper stripes (skipping the window)
        x0, x1 = i / 24, (i + 1) / 24
        if x1 > wx - 0.13 and x0 < wx + 0.13:
            p.rect(x0, 0, x1, 0.14, stripe, line=False)
            p.rect(x0, 0.5, x1, floor, stripe, line=False)
        else:
            p.rect(x0, 0, x1, floor, stripe, line=False)
    # the window frame and curtains
    frame = (250, 246, 236)
    for x0, y0, x1, y1 in (
        (wx - 0.14, 0.13, wx + 0.14, 0.15),
        (wx - 0.14, 0.49, wx + 0.14, 0.52),
        (wx - 0.14, 0.13, wx - 0.125, 0.51),
        (wx + 0.125, 0.13, wx + 0.14, 0.51),
        (wx - 0.006, 0.14, wx + 0.006, 0.5),
        (wx - 0.13, 0.315, wx + 0.13, 0.325),
    ):
        p.rect(x0, y0, x1, y1, frame, line=False)
    curtain = ROOFS[int(rng.integers(len(ROOFS)))]
    for side in (-1, 1):  # hanging from the rod, gathered a little at the bottom
        inner, outer = wx + side * 0.1, wx + side * 0.19
        p.polygon(
            [
                (outer, 0.1),
                (inner, 0.1),
                (inner + side * 0.02, 0.33),
                (inner + side * 0.01, 0.58),
                (outer + side * 0.01, 0.58),
            ],
            curtain,
        )
    p.rect(wx - 0.2, 0.09, wx + 0.2, 0.11, (160, 110, 80), radius=0.01)
    # a picture on the wall and the floor
    px = 0.12 if wx > 0.5 else 0.82
    p.rect(px - 0.06, 0.2, px + 0.06, 0.36, (190, 140, 90))
    p.rect(px - 0.045, 0.22, px + 0.045, 0.34, (170, 210, 236), line=False)
    p.polygon(
        [(px - 0.045, 0.34), (px - 0.01, 0.27), (px + 0.02, 0.31), (px + 0.045, 0.34)], (110, 170, 100), line=False
    )
    p.rect(-0.02, floor, 1.02, 1.02, (196, 146, 100))
    for i in range(1, 8):  # floorboards
        y = floor + (1 - floor) * (i / 8) ** 1.3
        p.line_through([(-0.02, y), (1.02, y)], (*p.shade((160, 114, 78)), 255), 0.003)
    p.ellipse(0.5, 0.9, 0.62, 0.09, ROOFS[int(rng.integers(len(ROOFS)))])
    p.ellipse(0.5, 0.9, 0.5, 0.065, mix(ROOFS[int(rng.integers(len(ROOFS)))], (255, 255, 255), 0.4), line=False)
    # furniture on the far side of the picture: a bookshelf, then a lamp
    sx = 0.86 if px < 0.5 else 0.04
    p.rect(sx, 0.36, sx + 0.12, floor + 0.02, (150, 100, 70))
    for shelf, y in enumerate((0.42, 0.52, 0.62)):
        p.rect(sx + 0.01, y + 0.055, sx + 0.11, y + 0.065, (120, 80, 56), line=False)
        bx = sx + 0.015
        while bx < sx + 0.1:
            bw = rng.uniform(0.01, 0.018)
            color = FLOWERS[int(rng.integers(len(FLOWERS)))] if shelf != 1 else ROOFS[int(rng.integers(len(ROOFS)))]
            p.rect(bx, y + rng.uniform(0.0, 0.015), bx + bw, y + 0.055, color, line=False)
            bx += bw + 0.003
    lx = 0.22 if sx > 0.5 else 0.78
    p.rect(lx - 0.005, 0.5, lx + 0.005, floor + 0.02, (90, 80, 80))
    p.polygon(
        [(lx - 0.05, 0.5), (lx + 0.05, 0.5), (lx + 0.03, 0.42), (lx - 0.03, 0.42)],
        WINDOW_LIGHT if p.look.dim else (240, 220, 180),
        None if p.look.dim else "near",
    )
    if p.look.dim:
        p.glow(lx, 0.5, 0.5, WINDOW_LIGHT, 0.35)
    return Stage(ground=0.9, outside=outside)


def _sky(p: Painter) -> Stage:
    rng = p.rng
    # the land far below, then clouds at three depths; the characters ride a cloud
    p.hills(0.82, 0.01, 2.0, (120, 170, 140), "far")
    for _ in range(3):
        x = rng.uniform(0, 1)
        p.ellipse(x, rng.uniform(0.86, 0.95), rng.uniform(0.1, 0.2), 0.02, (140, 190, 110), "far", line=False)
    white = (255, 255, 255) if p.look.light[0] > 0.8 else (220, 224, 240)
    for i in range(5):
        cloud(p, (i + rng.uniform(0.2, 0.8)) / 5, rng.uniform(0.42, 0.6), rng.uniform(0.16, 0.24), white, "mid")
    for _ in range(4):  # a flock of birds, far away
        x, y = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.35)
        s = 0.012
        p.line_through(
            [(x - s, y - s * 0.6), (x, y), (x + s, y - s * 0.6)], (*p.shade((60, 60, 80), "mid"), 255), 0.003
        )
    return Stage(ground=0.82, floating=True)


# --- the settings of issue 14: under the sea, shop, library, school, snowfield, desert, space ----------


def _cover(p: Painter, top: RGB, bottom: RGB) -> None:
    """Paint the whole canvas with a vertical gradient (settings that hide the sky: under water, in space)."""
    t = np.linspace(0.0, 1.0, p.h, dtype=np.float32)[:, None]
    a, b = np.array(top, np.float32), np.array(bottom, np.float32)
    column = (a + (b - a) * t).round().astype(np.uint8)[:, None, :]
    p.image.paste(Image.fromarray(column).resize((p.w, p.h), Image.Resampling.NEAREST), (0, 0))


def _nowhere(p: Painter) -> Image.Image:
    """An 'outside' mask that is empty: no weather falls under the sea or in space."""
    return Image.new("L", (p.w, p.h), 0)


def _underwater(p: Painter) -> Stage:
    rng = p.rng
    deep = p.look.night or p.look.dim
    top, bottom = ((40, 150, 190), (16, 70, 120)) if not deep else ((20, 70, 120), (8, 26, 60))
    _cover(p, top, bottom)
    # the water takes the haze's place: far things fade into blue, not into the sky
    p.look = replace(p.look, sky_horizon=mix(top, bottom, 0.5), snow=False)
    p.light = (0.8, 0.95, 1.0) if not deep else (0.5, 0.62, 0.85)
    for _ in range(5):  # sun rays slanting down from the surface
        x = rng.uniform(0.0, 1.0)
        p.polygon(
            [(x - 0.02, -0.02), (x + 0.03, -0.02), (x + 0.16, 0.85), (x + 0.06, 0.85)],
            (220, 250, 255),
            None,
            line=False,
            alpha=26 if not deep else 12,
        )
    far = p.hills(0.62, 0.04, 1.6, (60, 110, 140), "far")  # the reef's far wall
    for _ in range(6):  # coral towers on it
        x = rng.uniform(0, 1)
        y = height_at(far, x)
        h, half = rng.uniform(0.08, 0.16), rng.uniform(0.02, 0.04)
        p.rect(x - half, y - h, x + half, y + 0.02, (80, 120, 150), "far", line=False, radius=0.02)
    p.hills(0.78, 0.015, 1.2, (214, 196, 150), "mid")  # the seabed
    for i in range(5):  # coral: branching fingers and round brain corals
        x = (i + rng.uniform(0.1, 0.9)) / 5
        color = ((250, 120, 110), (255, 170, 90), (190, 110, 210), (250, 140, 180))[int(rng.integers(4))]
        base = 0.8 + rng.uniform(-0.01, 0.01)
        if rng.uniform() < 0.6:
            for a in (-0.5, -0.15, 0.2, 0.55):
                tip = (x + a * 0.08 * p.unit / p.w * 1.6, base - rng.uniform(0.08, 0.15))
                p.line_through(
                    [(x, base), ((x + tip[0]) / 2, (base + tip[1]) / 2 + 0.01), tip],
                    (*p.shade(color, "mid"), 255),
                    0.014,
                )
                p.ellipse(tip[0], tip[1], 0.009, 0.009, color, "mid", line=False)
        else:
            p.ellipse(x, base - 0.02, 0.05, 0.035, color, "mid")
            p.line_through(
                [(x - 0.02, base - 0.03), (x + 0.02, base - 0.025)],
                (*p.shade(mix(color, INK_SOFT, 0.3), "mid"), 255),
                0.003,
            )
    p.hills(0.86, 0.01, 0.8, SAND, "near")
    for side in (rng.uniform(0.0, 0.12), rng.uniform(0.88, 1.0)):  # kelp swaying up the sides
        for k in range(3):
            x0 = side + (k - 1) * 0.03
            pts = [(x0 + 0.02 * math.sin(t * 5 + k), 0.95 - t * 0.9) for t in np.linspace(0, 1, 12)]
            p.line_through(pts, (*p.shade((60, 140, 80)), 255), 0.018)
            for j, (lx, ly) in enumerate(pts[2::2]):
                p.ellipse(lx + (0.012 if j % 2 else -0.012), ly, 0.018, 0.008, (80, 160, 90))
    for _ in range(5):  # shells and a starfish on the sand
        x, y = rng.uniform(0.05, 0.95), rng.uniform(0.9, 0.99)
        p.ellipse(x, y, 0.012, 0.008, (250, 220, 200))
    for _ in range(18):  # bubbles rising
        x, y, r = rng.uniform(0, 1), rng.uniform(0.05, 0.8), rng.uniform(0.004, 0.012)
        p.ellipse(x, y, r, r, (230, 250, 255), None, alpha=70)
    return Stage(ground=0.94, outside=_nowhere(p))


def _books(p: Painter, x0: float, x1: float, y0: float, y1: float, shelves: int, depth: str = "near") -> None:
    """A bookcase: its frame, ``shelves`` shelves, each filled with book spines of random colours."""
    p.rect(x0, y0, x1, y1, (130, 86, 58), depth)
    step = (y1 - y0) / shelves
    for k in range(shelves):
        top = y0 + k * step + 0.012
        bottom = top + step - 0.02
        p.rect(x0 + 0.008, top, x1 - 0.008, bottom, (86, 56, 40), depth, line=False)
        bx = x0 + 0.012
        while bx < x1 - 0.02:
            bw = p.rng.uniform(0.008, 0.016)
            color = (FLOWERS + ROOFS)[int(p.rng.integers(len(FLOWERS) + len(ROOFS)))]
            p.rect(bx, top + p.rng.uniform(0.0, 0.3) * (bottom - top) * 0.4, bx + bw, bottom, color, depth, line=False)
            bx += bw + 0.002
        p.rect(x0 + 0.004, bottom, x1 - 0.004, bottom + 0.012, (150, 100, 68), depth, line=False)


def _interior_window(p: Painter, x0: float, y0: float, x1: float, y1: float, arch: bool) -> Image.Image:
    """Cut a window out of the wall painted after it: returns the wall mask (255 = wall) for pasting."""
    mask = Image.new("L", (p.w, p.h), 255)
    draw = ImageDraw.Draw(mask)
    draw.rectangle([x0 * p.w, (y0 + (0.08 if arch else 0)) * p.h, x1 * p.w, y1 * p.h], fill=0)
    if arch:
        draw.ellipse([x0 * p.w, y0 * p.h, x1 * p.w, (y0 + 0.16) * p.h], fill=0)
    return mask


def _library(p: Painter) -> Stage:
    rng = p.rng
    p.light = (0.92, 0.8, 0.62) if p.look.dim else (1.0, 0.97, 0.9)
    p.hills(0.5, 0.02, 1.5, (110, 160, 120), "far")  # what the tall window shows
    wx = rng.uniform(0.42, 0.58)
    mask = _interior_window(p, wx - 0.09, 0.1, wx + 0.09, 0.55, arch=True)
    outside = Image.eval(mask, lambda v: 255 - v)
    p.image.paste(p.shade((150, 96, 80)), (0, 0, p.w, p.h), mask)  # warm panelled walls
    for i in range(10):
        x = i / 10
        if abs(x + 0.05 - wx) > 0.12:
            p.rect(x + 0.01, 0.05, x + 0.09, 0.6, (160, 106, 88), line=False)
    p.draw.ellipse(
        [(wx - 0.09) * p.w, 0.1 * p.h, (wx + 0.09) * p.w, 0.26 * p.h],
        outline=p.shade((230, 220, 200)),
        width=p.line * 2,
    )
    p.rect(wx - 0.004, 0.12, wx + 0.004, 0.55, (230, 220, 200), line=False)
    p.rect(wx - 0.1, 0.54, wx + 0.1, 0.57, (230, 220, 200))
    # tall bookcases to the ceiling, on both sides of the window
    _books(p, -0.02, wx - 0.14, 0.02, 0.72, 5, "mid")
    _books(p, wx + 0.14, 1.02, 0.02, 0.72, 5, "mid")
    lx = wx - 0.2 if rng.uniform() < 0.5 else wx + 0.2  # a ladder against one bookcase
    for side in (-0.025, 0.025):
        p.line_through([(lx + side, 0.08), (lx + side + 0.03, 0.74)], (*p.shade((190, 140, 90)), 255), 0.008)
    for k in range(8):
        y = 0.12 + k * 0.08
        p.line_through(
            [(lx - 0.025 + 0.03 * (y - 0.08) / 0.66, y), (lx + 0.025 + 0.03 * (y - 0.08) / 0.66, y)],
            (*p.shade((190, 140, 90)), 255),
            0.006,
        )
    p.rect(-0.02, 0.72, 1.02, 1.02, (150, 96, 60))  # the floor, and a long red carpet
    p.polygon([(wx - 0.12, 0.72), (wx + 0.12, 0.72), (wx + 0.4, 1.02), (wx - 0.4, 1.02)], (176, 52, 60), line=False)
    p.polygon([(wx - 0.1, 0.72), (wx + 0.1, 0.72), (wx + 0.34, 1.02), (wx - 0.34, 1.02)], (200, 80, 80), line=False)
    tx = 0.16 if lx > 0.5 else 0.84  # a reading table with a green lamp and an open book
    p.rect(tx - 0.11, 0.66, tx + 0.11, 0.69, (120, 78, 50))
    for dx in (-0.09, 0.09):
        p.rect(tx + dx - 0.008, 0.69, tx + dx + 0.008, 0.82, (110, 72, 46))
    p.polygon([(tx - 0.05, 0.66), (tx, 0.65), (tx + 0.05, 0.66), (tx, 0.67)], WHITE)
    p.rect(tx + 0.06, 0.58, tx + 0.066, 0.66, (200, 170, 80))
    lamp = WINDOW_LIGHT if p.look.dim else (60, 140, 90)
    p.polygon([(tx + 0.035, 0.6), (tx + 0.09, 0.6), (tx + 0.08, 0.57), (tx + 0.045, 0.57)], (60, 140, 90))
    if p.look.dim:
        p.glow(tx + 0.063, 0.61, 0.3, lamp, 0.4)
    for _ in range(3):  # a stack of books on the floor
        x = rng.uniform(0.05, 0.95)
        if abs(x - tx) < 0.14:
            continue
        for k in range(3):
            p.rect(
                x - 0.035 + 0.004 * k,
                0.95 - 0.016 * (k + 1),
                x + 0.035 - 0.003 * k,
                0.95 - 0.016 * k,
                FLOWERS[(k + int(rng.integers(5))) % 5],
            )
    return Stage(ground=0.9, outside=outside)


def _shop(p: Painter) -> Stage:
    rng = p.rng
    p.light = (0.92, 0.82, 0.66) if p.look.dim else (1.0, 0.98, 0.94)
    # the big shop window shows the street outside
    p.hills(0.5, 0.01, 1.0, (150, 160, 170), "far")
    wx0, wx1 = (0.04, 0.36) if rng.uniform() < 0.5 else (0.64, 0.96)
    mask = _interior_window(p, wx0, 0.14, wx1, 0.56, arch=False)
    outside = Image.eval(mask, lambda v: 255 - v)
    wall = mix(WALLS[int(rng.integers(len(WALLS)))], (150, 210, 200), 0.35)
    p.image.paste(p.shade(wall), (0, 0, p.w, p.h), mask)
    for k in range(8):  # a striped awning over the window, seen from inside
        x = wx0 - 0.02 + k * (wx1 - wx0 + 0.04) / 8
        p.rect(x, 0.08, x + (wx1 - wx0 + 0.04) / 8, 0.14, (230, 80, 80) if k % 2 else WHITE)
    for x0, x1 in (
        (wx0 - 0.01, wx0 + 0.005),
        (wx1 - 0.005, wx1 + 0.01),
        ((wx0 + wx1) / 2 - 0.004, (wx0 + wx1) / 2 + 0.004),
    ):
        p.rect(x0, 0.14, x1, 0.57, (250, 246, 236), line=False)
    p.rect(wx0 - 0.02, 0.55, wx1 + 0.02, 0.58, (250, 246, 236))
    # shelves of jars and boxes on the other wall
    sx0, sx1 = (0.44, 0.98) if wx0 < 0.5 else (0.02, 0.56)
    for k, y in enumerate((0.22, 0.36, 0.5)):
        p.rect(sx0, y, sx1, y + 0.015, (150, 100, 70))
        x = sx0 + 0.02
        while x < sx1 - 0.04:
            if (k + int(x * 40)) % 3 == 0:  # a jar of sweets
                p.rect(x, y - 0.09, x + 0.05, y, (220, 236, 244), radius=0.01)
                for _ in range(5):
                    p.ellipse(
                        x + rng.uniform(0.01, 0.04),
                        y - rng.uniform(0.015, 0.06),
                        0.008,
                        0.008,
                        FLOWERS[int(rng.integers(5))],
                        line=False,
                    )
                p.rect(x + 0.008, y - 0.105, x + 0.042, y - 0.09, ROOFS[int(rng.integers(5))])
                x += 0.065
            else:  # a box
                bh = rng.uniform(0.05, 0.09)
                p.rect(x, y - bh, x + 0.045, y, ROOFS[int(rng.integers(5))])
                p.rect(x + 0.01, y - bh * 0.7, x + 0.035, y - bh * 0.4, WHITE, line=False)
                x += 0.055
    p.rect(-0.02, 0.7, 1.02, 1.02, (230, 220, 200))  # a chequered floor
    for r in range(6):
        y0 = 0.7 + 0.3 * (r / 6) ** 1.2
        y1 = 0.7 + 0.3 * ((r + 1) / 6) ** 1.2
        for c in range(16):
            if (r + c) % 2:
                p.rect(c / 16, y0, (c + 1) / 16, y1, (120, 150, 170), line=False)
    # the counter with a till and a bell, behind the characters
    cx = 0.5 + (0.1 if wx0 < 0.5 else -0.1)
    p.rect(cx - 0.22, 0.56, cx + 0.22, 0.74, (180, 120, 80))
    p.rect(cx - 0.24, 0.54, cx + 0.24, 0.575, (140, 90, 60))
    for k in range(4):
        p.rect(cx - 0.2 + k * 0.105, 0.6, cx - 0.12 + k * 0.105, 0.71, (196, 136, 92), line=False)
    p.rect(cx + 0.08, 0.47, cx + 0.18, 0.54, (90, 100, 120), radius=0.01)  # the till
    p.rect(cx + 0.1, 0.48, cx + 0.16, 0.51, (170, 220, 200), line=False)
    p.ellipse(cx - 0.14, 0.53, 0.02, 0.015, GOLD_BELL)  # the bell
    p.rect(cx - 0.2, 0.46, cx - 0.06, 0.54, (240, 200, 120), radius=0.02)  # a basket of bread
    for k in range(3):
        p.ellipse(cx - 0.18 + 0.05 * k, 0.46, 0.025, 0.018, (210, 150, 80))
    if p.look.dim:
        for lx in (0.3, 0.7):  # hanging lamps
            p.line_through([(lx, 0.0), (lx, 0.06)], (*p.shade((60, 60, 70)), 255), 0.004)
            p.ellipse(lx, 0.075, 0.025, 0.02, WINDOW_LIGHT, None)
            p.glow(lx, 0.09, 0.35, WINDOW_LIGHT, 0.3)
    return Stage(ground=0.92, outside=outside)


def _school(p: Painter) -> Stage:
    rng = p.rng
    far = p.hills(0.56, 0.025, 1.5, (120, 164, 130), "far")
    _trees_on(p, far, 6, 0.08, "far", sink=0.01)
    mid = p.hills(0.68, 0.008, 1.0, (130, 184, 96), "mid")
    cx = rng.uniform(0.4, 0.6)
    base = height_at(mid, cx) + 0.02
    sx, sy = p.unit / p.w, p.unit / p.h
    brick = (200, 96, 76)
    half = 0.34 * sx  # a long red-brick schoolhouse with a row of tall windows
    p.rect(cx - half, base - 0.22 * sy, cx + half, base, brick, "mid")
    p.polygon(
        [
            (cx - half - 0.02, base - 0.22 * sy),
            (cx + half + 0.02, base - 0.22 * sy),
            (cx + half - 0.04, base - 0.3 * sy),
            (cx - half + 0.04, base - 0.3 * sy),
        ],
        (90, 90, 110),
        "mid",
        "roof",
    )
    lit = p.look.dim
    for k in range(8):
        x = cx - half + (k + 0.5) * 2 * half / 8
        if abs(x - cx) < 0.05 * sx:
            continue
        p.rect(
            x - 0.018 * sx,
            base - 0.18 * sy,
            x + 0.018 * sx,
            base - 0.06 * sy,
            WINDOW_LIGHT if lit else (170, 210, 236),
            None if lit else "mid",
        )
    # the bell tower over the door, with a clock
    p.rect(cx - 0.07 * sx, base - 0.4 * sy, cx + 0.07 * sx, base, (230, 220, 200), "mid")
    p.polygon(
        [(cx - 0.09 * sx, base - 0.4 * sy), (cx + 0.09 * sx, base - 0.4 * sy), (cx, base - 0.52 * sy)],
        (90, 90, 110),
        "mid",
        "roof",
    )
    p.ellipse(cx, base - 0.3 * sy, 0.035, 0.035, WHITE, "mid")
    p.line_through([(cx, base - 0.3 * sy), (cx, base - 0.325 * sy)], (*p.shade(INK_SOFT, "mid"), 255), 0.004)
    p.line_through([(cx, base - 0.3 * sy), (cx + 0.015 * sx, base - 0.3 * sy)], (*p.shade(INK_SOFT, "mid"), 255), 0.004)
    p.rect(cx - 0.035 * sx, base - 0.1 * sy, cx + 0.035 * sx, base, (90, 120, 170), "mid", radius=0.02)
    fx = cx + half + 0.06 if cx + half + 0.1 < 1 else cx - half - 0.06  # a flagpole
    p.line_through([(fx, base), (fx, base - 0.4 * sy)], (*p.shade((200, 200, 210), "mid"), 255), 0.005)
    p.polygon([(fx, base - 0.4 * sy), (fx + 0.06, base - 0.37 * sy), (fx, base - 0.34 * sy)], (90, 140, 230), "mid")
    p.hills(0.78, 0.006, 0.8, GRASS, "near")
    p.polygon([(-0.02, 0.82), (1.02, 0.82), (1.02, 1.02), (-0.02, 1.02)], (196, 196, 204), line=False)  # the playground
    hx = 0.12 if cx > 0.5 else 0.7  # hopscotch squares chalked on it
    for dx, dy in ((0, 0), (0, 1), (-0.5, 2), (0.5, 2), (0, 3)):
        x, y = hx + 0.06 + dx * 0.05, 0.98 - dy * 0.035
        p.draw.rectangle(
            [(x - 0.025) * p.w, (y - 0.033) * p.h, (x + 0.025) * p.w, y * p.h],
            outline=p.shade((250, 250, 250)),
            width=p.line,
        )
    bx = 0.86 if cx < 0.5 else 0.1  # a swing
    for dx in (-0.06, 0.06):
        p.line_through([(bx + dx, 0.84), (bx + dx * 0.6, 0.6)], (*p.shade((200, 80, 70)), 255), 0.008)
    p.line_through([(bx - 0.04, 0.6), (bx + 0.04, 0.6)], (*p.shade((200, 80, 70)), 255), 0.008)
    for dx in (-0.015, 0.015):
        p.line_through([(bx + dx, 0.6), (bx + dx, 0.74)], (*p.shade((90, 80, 80)), 255), 0.003)
    p.rect(bx - 0.025, 0.74, bx + 0.025, 0.755, (250, 200, 80))
    return Stage(ground=0.92)


def _snowfield(p: Painter) -> Stage:
    rng = p.rng
    snow, shadow = (250, 252, 255), (200, 216, 240)
    p.look = replace(p.look, snow=False)  # it is white already; the snow weather only adds falling flakes
    p.hills(0.55, 0.04, 1.0, (206, 220, 240), "far")
    mid = p.hills(0.64, 0.03, 1.2, (236, 242, 252), "mid")
    _trees_on(p, mid, int(rng.integers(3, 6)), (0.1, 0.16), "mid", sink=0.01, tree=_snowy_pine, spread=(0.02, 0.98))
    near = p.hills(0.78, 0.02, 0.7, snow, "near")
    for _ in range(6):  # blue shadows of drifts
        x = rng.uniform(0, 1)
        p.ellipse(x, height_at(near, x) + rng.uniform(0.04, 0.16), rng.uniform(0.08, 0.16), 0.012, shadow, line=False)
    sx = float(rng.choice([0.1, 0.9]))  # a snowman
    for y, r in ((0.88, 0.06), (0.79, 0.045), (0.72, 0.032)):
        p.ellipse(sx, y, r, r, snow)
    p.polygon([(sx, 0.72), (sx + 0.03 * (1 if sx < 0.5 else -1), 0.725), (sx, 0.73)], (250, 140, 50))
    for dx in (-0.01, 0.01):
        p.ellipse(sx + dx, 0.71, 0.004, 0.004, INK_SOFT, line=False)
    p.rect(sx - 0.03, 0.685, sx + 0.03, 0.692, (60, 60, 80))
    p.rect(sx - 0.02, 0.64, sx + 0.02, 0.688, (60, 60, 80))
    px = rng.uniform(0.3, 0.7)  # footprints across the snow
    for k in range(10):
        t = k / 9
        p.ellipse(
            px + 0.25 * (t - 0.5) + (0.01 if k % 2 else -0.01),
            0.82 + 0.16 * t,
            0.006 + 0.006 * t,
            0.004 + 0.003 * t,
            shadow,
            line=False,
        )
    return Stage(ground=0.92)


def _snowy_pine(p: Painter, x: float, y: float, h: float, depth: str) -> None:
    _pine(p, x, y, h, depth)
    sx, sy = p.unit / p.w, p.unit / p.h
    for bottom, top, half in ((0.38, 0.55, 0.2), (0.6, 0.78, 0.15), (0.82, 1.0, 0.09)):
        p.polygon(
            [(x - half * h * sx, y - bottom * h * sy), (x + half * h * sx, y - bottom * h * sy), (x, y - top * h * sy)],
            (250, 252, 255),
            depth,
            line=False,
        )


def _desert(p: Painter) -> Stage:
    rng = p.rng
    for _k in range(int(rng.integers(2, 4))):  # flat-topped mesas far away
        x, w, h = rng.uniform(0.05, 0.95), rng.uniform(0.08, 0.16), rng.uniform(0.08, 0.14)
        p.polygon([(x - w, 0.6), (x - w * 0.7, 0.6 - h), (x + w * 0.7, 0.6 - h), (x + w, 0.6)], (200, 130, 100), "far")
    p.hills(0.6, 0.02, 1.2, (236, 190, 130), "far")
    mid = p.hills(0.68, 0.04, 1.0, (240, 196, 120), "mid")
    for _ in range(int(rng.integers(2, 4))):  # far cacti
        x = rng.uniform(0.05, 0.95)
        _cactus(p, x, height_at(mid, x) + 0.01, 0.1, "mid")
    near = p.hills(0.8, 0.03, 0.7, (246, 210, 140), "near")
    for _ in range(4):  # ripples in the sand
        x, y = rng.uniform(0.1, 0.9), rng.uniform(0.86, 0.98)
        p.line_through([(x - 0.08, y), (x, y - 0.01), (x + 0.08, y)], (*p.shade((220, 176, 110)), 255), 0.004)
    cx = float(rng.choice([0.1, 0.9]))
    _cactus(p, cx, height_at(near, cx) + 0.1, 0.34, "near")
    for _ in range(3):
        x = rng.uniform(0.05, 0.95)
        p.ellipse(x, rng.uniform(0.88, 0.98), 0.03, 0.015, (190, 150, 120))
    return Stage(ground=0.93)


def _cactus(p: Painter, x: float, y: float, h: float, depth: str) -> None:
    """A saguaro: a tall rounded trunk and two arms bent upwards."""
    sx, sy = p.unit / p.w, p.unit / p.h
    green = (90, 160, 90)
    w = h * 0.1
    for side, at, up in ((-1, 0.45, 0.3), (1, 0.6, 0.25)):
        ax = x + side * h * 0.22 * sx
        p.rect(
            min(x, ax) - w * 0.5 * sx,
            y - at * h * sy - w * 0.8 * sy,
            max(x, ax) + w * 0.5 * sx,
            y - at * h * sy,
            green,
            depth,
            radius=w * 0.4,
        )
        p.rect(
            ax - w * 0.5 * sx, y - (at + up) * h * sy, ax + w * 0.5 * sx, y - at * h * sy, green, depth, radius=w * 0.5
        )
    p.rect(x - w * sx, y - h * sy, x + w * sx, y, green, depth, radius=w)
    p.line_through([(x, y - 0.95 * h * sy), (x, y)], (*p.shade((70, 130, 70), depth), 255), 0.003)


def _space(p: Painter) -> Stage:
    rng = p.rng
    _cover(p, (8, 8, 30), (30, 22, 70))
    p.look = replace(p.look, sky_horizon=(30, 26, 70), snow=False, haze={"far": 0.3, "mid": 0.1, "near": 0.0})
    p.light = (0.95, 0.95, 1.0)
    for _ in range(160):  # stars of every size
        x, y, r = rng.uniform(0, 1), rng.uniform(0, 0.8), rng.uniform(0.001, 0.004)
        p.ellipse(x, y, r, r, (255, 250, 230), None, line=False, alpha=int(rng.integers(140, 255)))
    for _ in range(2):  # a faint nebula
        p.glow(rng.uniform(0.2, 0.8), rng.uniform(0.15, 0.45), 0.5, (150, 90, 200), 0.25)
    px, py, pr = rng.uniform(0.6, 0.85), rng.uniform(0.2, 0.32), 0.13  # a ringed planet
    ring = (240, 200, 150)
    p.ellipse(px, py, pr * 2.0, pr * 0.42, ring, None, line=False, alpha=160)
    p.ellipse(px, py, pr, pr, (230, 150, 90), "near")
    for k in range(3):
        p.ellipse(
            px,
            py - pr * 0.5 * p.unit / p.h + k * pr * 0.45 * p.unit / p.h,
            pr * 0.92,
            pr * 0.08,
            (210, 120, 80),
            "near",
            line=False,
        )
    p.polygon(
        [
            (px - pr * 2.0 * p.unit / p.w, py),
            (px + pr * 2.0 * p.unit / p.w, py),
            (px + pr * 1.2 * p.unit / p.w, py + pr * 0.3 * p.unit / p.h),
            (px - pr * 1.2 * p.unit / p.w, py + pr * 0.3 * p.unit / p.h),
        ],
        ring,
        None,
        line=False,
        alpha=120,
    )
    ex = rng.uniform(0.12, 0.35)  # the Earth, small and far
    p.ellipse(ex, 0.18, 0.05, 0.05, (70, 130, 220), None)
    p.ellipse(ex - 0.01, 0.17, 0.022, 0.016, (100, 180, 100), None, line=False)
    p.ellipse(ex + 0.015, 0.195, 0.015, 0.01, (100, 180, 100), None, line=False)
    near = p.hills(0.78, 0.02, 0.8, (176, 176, 190), "near")  # the grey moon underfoot, with craters
    for _ in range(7):
        x = rng.uniform(0, 1)
        y = height_at(near, x) + rng.uniform(0.04, 0.18)
        r = rng.uniform(0.02, 0.05)
        p.ellipse(x, y, r, r * 0.35, (140, 140, 156))
        p.ellipse(x, y + 0.003, r * 0.8, r * 0.22, (156, 156, 170), line=False)
    fx = float(rng.choice([0.12, 0.88]))  # a little rocket standing on the moon
    p.rect(fx - 0.025, 0.52, fx + 0.025, 0.74, (240, 240, 246), radius=0.02)
    p.polygon([(fx - 0.025, 0.53), (fx, 0.44), (fx + 0.025, 0.53)], (230, 80, 80))
    for side in (-1, 1):
        p.polygon([(fx + side * 0.025, 0.66), (fx + side * 0.05, 0.76), (fx + side * 0.025, 0.74)], (230, 80, 80))
    p.ellipse(fx, 0.58, 0.015, 0.015, (120, 200, 250))
    return Stage(ground=0.92, outside=_nowhere(p))


SETTING_PAINTERS: dict[str, Callable[[Painter], Stage]] = {
    "forest": _forest,
    "beach": _beach,
    "sea": _sea,
    "meadow": _meadow,
    "mountain": _mountain,
    "cave": _cave,
    "castle": _castle,
    "village": _village,
    "city": _city,
    "room": _room,
    "sky": _sky,
    "garden": _garden,
    "underwater": _underwater,
    "shop": _shop,
    "library": _library,
    "school": _school,
    "snowfield": _snowfield,
    "desert": _desert,
    "space": _space,
}
