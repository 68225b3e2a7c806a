"""The characters of the preview illustrations: a drawing per species (every species of
``storyreel.vocab.SPECIES`` has its own silhouette; a generic creature for any other species; the humans),
each on its own transparent sprite, stood side by side in the foreground of the page, turned towards each
other.

A character's drawing depends only on its name, species and colour (its look's colour word, else
``Character.color``), so it looks the same on every page; the seed moves only where the characters stand.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from storyreel.generators.drawing.canvas import INK, RGB, WHITE, Painter, cloud, mix, stable_hash
from storyreel.generators.drawing.settings import Stage
from storyreel.plan import Character

# --- the characters' palette, and their traits -------------------------------------------------

PINK: RGB = (250, 160, 170)
GOLD: RGB = (250, 200, 70)
SKINS: tuple[RGB, ...] = ((255, 222, 196), (244, 200, 166), (214, 160, 120), (168, 112, 78), (120, 80, 58))
HAIRS: tuple[RGB, ...] = ((70, 46, 34), (122, 74, 40), (214, 160, 80), (40, 32, 34), (176, 70, 44))
RAINBOW: tuple[RGB, ...] = ((250, 120, 140), (255, 190, 90), (250, 230, 110), (130, 210, 150), (120, 170, 240))


def _hex(color: str) -> RGB:
    return (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16))


# The colour words of a look (the writer's palette), so that "a small green dragon" is drawn green.
LOOK_COLOURS = {
    "green": "#4caf50", "red": "#e53935", "blue": "#1e88e5", "yellow": "#fdd835", "orange": "#fb8c00",
    "purple": "#8e24aa", "pink": "#f06292", "brown": "#8d6e63", "white": "#f5f5f5", "black": "#424242",
    "gray": "#9e9e9e", "grey": "#9e9e9e", "golden": "#ffb300", "gold": "#ffb300", "silver": "#b0bec5",
    "teal": "#26a69a",
}  # fmt: skip
_COLOUR_WORD = re.compile(r"\b(" + "|".join(LOOK_COLOURS) + r")\b")


def main_colour(character: Character) -> str:
    """A character's main colour: the colour word its look gives the species itself ("a small green dragon
    with golden wings": green; "a girl in a red coat": none, the coat is not the girl), else
    ``Character.color``. So a new look ("make the dragon green") recolours the character, and only it."""
    species = character.species.lower().split()[-1:] or ["creature"]
    look = character.look.lower()
    named = re.search(rf"{_COLOUR_WORD.pattern}(?:[\s,-]+[a-z]+){{0,2}}?[\s,-]+{re.escape(species[0])}", look)
    return LOOK_COLOURS[named.group(1)] if named else character.color


@dataclass(frozen=True)
class _Traits:
    """A character's colours and small variations, from its name, species and colour only (never the seed),
    so it is drawn the same on every page."""

    main: RGB
    light: RGB  # belly, muzzle
    dark: RGB  # feet, far limbs, inner ears
    ink: RGB  # outlines
    skin: RGB
    hair: RGB
    variant: int

    @classmethod
    def of(cls, character: Character) -> _Traits:
        colour = main_colour(character)
        main = _hex(colour)
        key = stable_hash(character.name, character.species, colour)
        skin = SKINS[key % len(SKINS)]
        hairs = [h for h in HAIRS if abs(sum(h) - sum(skin)) > 150]  # hair that stands out from the skin
        return cls(
            main=main,
            light=mix(main, (255, 248, 230), 0.62),
            dark=mix(main, (40, 30, 40), 0.3),
            ink=mix(main, INK, 0.72),
            skin=skin,
            hair=hairs[(key // 7) % len(hairs)],
            variant=key // 49,
        )


# --- the sprite: a character's own canvas ------------------------------------------------------


class _Sprite:
    """One character on its own transparent layer, in its own units: x to the right (the way it faces),
    y up from its feet, 1.0 = a child's height. Every shape gets the character's ink outline."""

    def __init__(self, size: float, line: int, ink: RGB):
        self.s = size
        width, height = int(2.6 * size) + 2, int(1.75 * size) + 2
        self.image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        self.ox, self.oy = width / 2, 1.5 * size  # where the feet are, in pixels
        self.draw = ImageDraw.Draw(self.image)
        self.line, self.ink = line, ink

    def pt(self, x: float, y: float) -> tuple[float, float]:
        return (self.ox + x * self.s, self.oy - y * self.s)

    def ellipse(self, x: float, y: float, rx: float, ry: float, fill: RGB, line: bool = True) -> None:
        cx, cy = self.pt(x, y)
        ax, ay = max(0.5, rx * self.s), max(0.5, ry * self.s)
        self.draw.ellipse(
            [cx - ax, cy - ay, cx + ax, cy + ay], fill=fill, outline=self.ink if line else None, width=self.line
        )

    def oval(
        self,
        x: float,
        y: float,
        rx: float,
        ry: float,
        angle: float,
        fill: RGB,
        line: bool = True,
        cap: tuple[float, RGB] | None = None,
    ) -> None:
        """An ellipse whose ``ry`` axis leans ``angle`` degrees anticlockwise from vertical. ``cap``
        (fraction, colour) paints the end of that axis beyond ``fraction`` of it, like a tail's tip."""
        a = math.radians(angle)
        ts = np.linspace(0, 2 * np.pi, 40, endpoint=False)
        u, v = rx * np.cos(ts), ry * np.sin(ts)
        xs, ys = x + u * math.cos(a) - v * math.sin(a), y + u * math.sin(a) + v * math.cos(a)
        self.polygon(list(zip(xs, ys, strict=True)), fill, line)
        if cap is not None:
            keep = v > cap[0] * ry
            if keep.sum() >= 3:
                self.polygon(list(zip(xs[keep], ys[keep], strict=True)), cap[1], line)

    def polygon(self, points: list[tuple[float, float]], fill: RGB, line: bool = True) -> None:
        self.draw.polygon(
            [self.pt(x, y) for x, y in points], fill=fill, outline=self.ink if line else None, width=self.line
        )

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill: RGB, radius: float = 0.0) -> None:
        (a, b), (c, d) = self.pt(x0, y1), self.pt(x1, y0)
        self.draw.rounded_rectangle(
            [a, b, max(a, c), max(b, d)], radius=radius * self.s, fill=fill, outline=self.ink, width=self.line
        )

    def tube(self, points: list[tuple[float, float]], width: float, color: RGB) -> None:
        """A thick outlined stroke (tails, arms) along a smoothed path."""
        pts = [self.pt(x, y) for x, y in _smooth(points)]
        self.draw.line(pts, fill=self.ink, width=max(1, round(width * self.s)) + 2 * self.line, joint="curve")
        self.draw.line(pts, fill=color, width=max(1, round(width * self.s)), joint="curve")
        for end in (pts[0], pts[-1]):  # round ends
            r = max(0.5, width * self.s / 2)
            self.draw.ellipse([end[0] - r, end[1] - r, end[0] + r, end[1] + r], fill=color)

    def taper(self, points: list[tuple[float, float]], start: float, end: float, fill: RGB) -> None:
        """A smooth outlined shape along a path, ``start`` wide at its first point and ``end`` at its last."""
        path = np.array(_smooth(points), np.float64)
        tangent = np.gradient(path, axis=0)
        normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
        normal /= np.maximum(1e-9, np.linalg.norm(normal, axis=1, keepdims=True))
        half = np.linspace(start, end, len(path))[:, None] / 2
        outline = np.concatenate([path + normal * half, (path - normal * half)[::-1]])
        self.polygon([(float(x), float(y)) for x, y in outline], fill)

    def stroke(self, points: list[tuple[float, float]], color: RGB, width: float | None = None) -> None:
        w = self.line if width is None else max(1, round(width * self.s))
        self.draw.line([self.pt(x, y) for x, y in _smooth(points)], fill=color, width=w, joint="curve")

    def arc(self, x: float, y: float, rx: float, ry: float, start: float, end: float, color: RGB) -> None:
        """An arc; angles as PIL measures them: degrees clockwise from three o'clock (0-180: lower half)."""
        cx, cy = self.pt(x, y)
        ax, ay = max(1.0, rx * self.s), max(1.0, ry * self.s)
        self.draw.arc([cx - ax, cy - ay, cx + ax, cy + ay], start, end, fill=color, width=self.line)

    def chord(self, x: float, y: float, rx: float, ry: float, start: float, end: float, fill: RGB) -> None:
        cx, cy = self.pt(x, y)
        ax, ay = rx * self.s, ry * self.s
        self.draw.chord([cx - ax, cy - ay, cx + ax, cy + ay], start, end, fill=fill, outline=self.ink, width=self.line)


def _smooth(points: list[tuple[float, float]], rounds: int = 3, closed: bool = False) -> list[tuple[float, float]]:
    """Chaikin's corner cutting: a polyline becomes a smooth curve with the same ends (or a smooth loop)."""
    for _ in range(rounds if len(points) > 2 else 0):
        ends = points[1:] + points[:1] if closed else points[1:]
        pairs = zip(points[: len(ends)], ends, strict=True)
        cut = [] if closed else [points[0]]
        for (x0, y0), (x1, y1) in pairs:
            cut += [(0.75 * x0 + 0.25 * x1, 0.75 * y0 + 0.25 * y1), (0.25 * x0 + 0.75 * x1, 0.25 * y0 + 0.75 * y1)]
        points = cut if closed else [*cut, points[-1]]
    return points


# --- the drawings: shared parts, humans, then each species ---------------------------------------


def _face(sp: _Sprite, hx: float, hy: float, r: float, cheek_on: RGB, mouth: bool = True) -> None:
    """Two dot eyes with a glint, pink cheeks and a smile, turned three-quarters towards +x."""
    cheek = mix(cheek_on, PINK, 0.55)
    for cx in (hx - 0.02 * r, hx + 0.74 * r):
        sp.ellipse(cx, hy - 0.32 * r, 0.13 * r, 0.08 * r, cheek, line=False)
    for cx, k in ((hx + 0.08 * r, 0.9), (hx + 0.56 * r, 1.0)):  # the far eye is a little smaller
        sp.ellipse(cx, hy + 0.02 * r, 0.085 * r * k, 0.12 * r * k, INK, line=False)
        sp.ellipse(cx + 0.03 * r, hy + 0.07 * r, 0.035 * r, 0.035 * r, WHITE, line=False)
    if mouth:
        sp.arc(hx + 0.34 * r, hy - 0.2 * r, 0.13 * r, 0.1 * r, 20, 160, sp.ink)


def _whiskers(sp: _Sprite, x: float, y: float, length: float) -> None:
    for dy in (-0.02, 0.015):  # only the near side's: the far ones would cross the face
        sp.stroke([(x, y + dy * 0.5), (x + length, y + dy * 2)], sp.ink)


def _body(sp: _Sprite, t: _Traits, rx: float = 0.2, ry: float = 0.25, belly: bool = True) -> None:
    """The upright, round body most animals share: feet, far arm, body, belly, near arm."""
    for dx in (-0.09, 0.1):
        sp.ellipse(dx + 0.02, 0.04, 0.085, 0.045, t.dark)
    sp.oval(-rx * 0.85, 0.3, 0.05, 0.1, -25, t.dark)
    sp.ellipse(0.0, 0.27, rx, ry, t.main)
    if belly:
        sp.ellipse(rx * 0.25, 0.25, rx * 0.6, ry * 0.66, t.light, line=False)
    sp.oval(rx * 0.8, 0.3, 0.05, 0.1, 30, t.main)


def _human(sp: _Sprite, t: _Traits, kind: str) -> None:
    if kind == "astronaut":  # a white space suit with a backpack, and a round helmet over the head
        suit = mix(t.main, WHITE, 0.8)
        t = _Traits(suit, mix(suit, t.main, 0.3), mix(suit, INK, 0.25), t.ink, t.skin, t.hair, t.variant)
        sp.rect(-0.24, 0.26, -0.08, 0.6, (190, 194, 206), radius=0.03)
    long_hair = kind in ("girl", "princess", "queen", "witch", "fairy", "mermaid", "woman", "grandma") or (
        kind in ("child", "kid", "baby", "person", "human", "elf") and t.variant % 2 == 0
    )
    hx, hy, r = 0.03, 0.74, 0.19
    if kind == "fairy":  # translucent-looking wings: pale, behind everything
        for angle, y in ((35, 0.55), (60, 0.42)):
            sp.oval(-0.22, y, 0.09, 0.2, angle, mix((190, 230, 255), WHITE, 0.3))
    for dx in (-0.07, 0.07):  # legs and shoes
        sp.rect(dx - 0.045, 0.05, dx + 0.045, 0.32, (70, 80, 120))
        sp.ellipse(dx + 0.025, 0.045, 0.07, 0.04, (90, 60, 50))
    if long_hair:
        sp.ellipse(hx - 0.03, hy - 0.06, r * 1.15, r * 1.25, t.hair)
    sp.tube([(-0.12, 0.5), (-0.19, 0.34)], 0.07, t.main)  # far arm
    sp.ellipse(-0.19, 0.32, 0.04, 0.04, t.skin)
    if long_hair:  # a dress
        sp.polygon([(-0.2, 0.22), (0.21, 0.22), (0.13, 0.56), (-0.12, 0.56)], t.main)
        sp.stroke([(-0.17, 0.27), (0.18, 0.27)], t.light, 0.025)
    else:
        sp.rect(-0.15, 0.26, 0.16, 0.56, t.main, radius=0.06)
        sp.rect(-0.15, 0.26, 0.16, 0.32, mix(t.main, (40, 40, 60), 0.35))  # a belt line
    sp.tube([(0.13, 0.5), (0.23, 0.38)], 0.07, t.main)  # near arm, waving a little
    sp.ellipse(0.24, 0.36, 0.04, 0.04, t.skin)
    if not long_hair:
        sp.ellipse(hx - 0.45 * r, hy + 0.1 * r, 0.7 * r, 0.7 * r, t.hair)  # volume at the back
    sp.ellipse(hx, hy, r, r, t.skin)
    # hair: a cap, raised above the head, whose lower edge sweeps from the nape to above the eyes
    sp.chord(hx - 0.05 * r, hy + 0.28 * r, 1.02 * r, 1.02 * r, 150, 345, t.hair)
    if long_hair:  # a bow on the back of the head
        bx, by, b = hx - 0.55 * r, hy + 0.8 * r, 0.3 * r
        bow = mix(t.main, WHITE, 0.35)
        sp.polygon([(bx, by), (bx - b, by + 0.7 * b), (bx - b, by - 0.7 * b)], bow)
        sp.polygon([(bx, by), (bx + b, by + 0.7 * b), (bx + b, by - 0.7 * b)], bow)
        sp.ellipse(bx, by, 0.3 * b, 0.3 * b, bow)
    if not long_hair:
        sp.ellipse(hx - 0.72 * r, hy - 0.12 * r, 0.035, 0.05, t.skin)  # ear
    _face(sp, hx, hy, r, t.skin)
    if kind in ("princess", "prince", "king", "queen"):
        top = hy + r * 0.95
        sp.polygon(
            [
                (hx - 0.1, top),
                (hx - 0.11, top + 0.1),
                (hx - 0.05, top + 0.05),
                (hx, top + 0.12),
                (hx + 0.05, top + 0.05),
                (hx + 0.11, top + 0.1),
                (hx + 0.1, top),
            ],
            GOLD,
        )
    elif kind in ("wizard", "witch"):
        top = hy + r * 0.7
        sp.polygon([(hx - 0.26, top), (hx + 0.26, top), (hx - 0.02, top + 0.4)], t.dark)
        sp.ellipse(hx, top + 0.14, 0.025, 0.025, GOLD, line=False)
    elif kind == "knight":  # a helmet with a visor slit and a plume
        sp.chord(hx, hy + 0.05 * r, 1.08 * r, 1.1 * r, 180, 360, (176, 180, 196))
        sp.rect(hx - 0.2 * r, hy + 0.05 * r, hx + 1.0 * r, hy + 0.18 * r, (150, 154, 170))
        sp.tube([(hx, hy + 1.1 * r), (hx - 0.5 * r, hy + 1.5 * r), (hx - 1.0 * r, hy + 1.3 * r)], 0.05, t.main)
    elif kind == "pirate":
        top = hy + r * 0.75
        sp.polygon([(hx - 0.24, top), (hx + 0.24, top), (hx + 0.12, top + 0.16), (hx - 0.12, top + 0.16)], (40, 36, 44))
    elif kind == "astronaut":
        cx, cy = sp.pt(hx + 0.02, hy + 0.02)
        rr = 1.35 * r * sp.s
        sp.draw.ellipse([cx - rr, cy - rr, cx + rr, cy + rr], outline=(176, 184, 200), width=max(2, 2 * sp.line))
        sp.arc(hx - 0.02, hy + 0.06, 0.9 * r, 0.9 * r, 200, 250, WHITE)  # the visor's glint
        sp.rect(-0.02, 0.4, 0.1, 0.48, t.main, radius=0.01)
        sp.rect(0.0, 0.42, 0.08, 0.46, (220, 70, 70))  # a patch on the chest
    elif kind == "teacher":  # glasses, and a book under the near arm
        for gx in (hx + 0.08 * r, hx + 0.56 * r):
            sp.arc(gx, hy + 0.02 * r, 0.17 * r, 0.17 * r, 0, 360, sp.ink)
        sp.stroke([(hx + 0.25 * r, hy + 0.04 * r), (hx + 0.39 * r, hy + 0.04 * r)], sp.ink)
        sp.rect(0.18, 0.3, 0.3, 0.46, (170, 60, 60), radius=0.01)
        sp.stroke([(0.2, 0.44), (0.28, 0.44)], WHITE, 0.01)


def _fox(sp: _Sprite, t: _Traits) -> None:
    hx, hy, r = 0.04, 0.64, 0.23
    sp.oval(-0.3, 0.3, 0.11, 0.26, 42, t.main, cap=(0.55, WHITE))  # bushy tail with a white tip
    _body(sp, t)
    sp.polygon([(hx - 0.22, hy + 0.08), (hx - 0.18, hy + 0.38), (hx - 0.03, hy + 0.18)], t.main)
    sp.polygon([(hx - 0.18, hy + 0.12), (hx - 0.16, hy + 0.3), (hx - 0.08, hy + 0.18)], t.dark, line=False)
    sp.polygon([(hx + 0.03, hy + 0.19), (hx + 0.16, hy + 0.38), (hx + 0.21, hy + 0.08)], t.main)
    sp.polygon([(hx + 0.08, hy + 0.19), (hx + 0.15, hy + 0.3), (hx + 0.17, hy + 0.12)], t.dark, line=False)
    sp.ellipse(hx, hy, r, r * 0.92, t.main)
    sp.ellipse(hx + 0.1, hy - 0.1, 0.15, 0.09, WHITE, line=False)
    sp.ellipse(hx + 0.23, hy - 0.05, 0.035, 0.028, INK, line=False)
    _face(sp, hx, hy, r, WHITE)


def _cat(sp: _Sprite, t: _Traits) -> None:
    hx, hy, r = 0.04, 0.62, 0.22
    sp.taper([(-0.12, 0.12), (-0.3, 0.14), (-0.36, 0.32), (-0.28, 0.5)], 0.07, 0.045, t.main)  # curling tail
    _body(sp, t, rx=0.18, ry=0.23)
    for sign, x in ((-1, hx - 0.13), (1, hx + 0.12)):
        sp.polygon([(x - 0.08, hy + 0.12), (x + 0.02 * sign, hy + 0.32), (x + 0.08, hy + 0.12)], t.main)
        sp.polygon([(x - 0.04, hy + 0.15), (x + 0.015 * sign, hy + 0.26), (x + 0.04, hy + 0.15)], PINK, line=False)
    sp.ellipse(hx, hy, r * 1.05, r * 0.9, t.main)
    if t.variant % 2:  # a lighter patch over one eye
        sp.ellipse(hx + 0.12, hy, 0.08, 0.07, t.light, line=False)
    sp.polygon([(hx + 0.1, hy - 0.06), (hx + 0.14, hy - 0.06), (hx + 0.12, hy - 0.09)], PINK, line=False)
    _whiskers(sp, hx + 0.2, hy - 0.08, 0.1)
    _face(sp, hx, hy, r, t.main)


def _dog(sp: _Sprite, t: _Traits) -> None:
    hx, hy, r = 0.04, 0.62, 0.23
    sp.tube([(-0.15, 0.22), (-0.27, 0.36), (-0.3, 0.44)], 0.05, t.main)  # wagging tail
    _body(sp, t)
    if t.variant % 2:
        sp.ellipse(-0.08, 0.34, 0.07, 0.06, t.dark, line=False)  # a spot
    sp.oval(hx + 0.19, hy + 0.04, 0.07, 0.14, 20, t.dark)  # far ear, behind the head
    sp.ellipse(hx, hy, r, r * 0.92, t.main)
    sp.ellipse(hx + 0.13, hy - 0.1, 0.13, 0.09, t.light, line=False)
    sp.ellipse(hx + 0.22, hy - 0.05, 0.045, 0.035, INK, line=False)
    _face(sp, hx, hy, r, t.light)
    sp.oval(hx - 0.17, hy - 0.02, 0.07, 0.15, -20, t.dark)  # near ear, floppy


def _bear(sp: _Sprite, t: _Traits) -> None:
    hx, hy, r = 0.03, 0.66, 0.24
    sp.ellipse(-0.22, 0.18, 0.05, 0.05, t.main)  # stubby tail
    _body(sp, t, rx=0.24, ry=0.28)
    for x, y in ((hx - 0.16, hy + 0.18), (hx + 0.15, hy + 0.19)):
        sp.ellipse(x, y, 0.08, 0.08, t.main)
        sp.ellipse(x, y, 0.045, 0.045, t.light, line=False)
    sp.ellipse(hx, hy, r, r * 0.95, t.main)
    sp.ellipse(hx + 0.09, hy - 0.1, 0.12, 0.09, t.light)
    sp.ellipse(hx + 0.13, hy - 0.06, 0.04, 0.03, INK, line=False)
    _face(sp, hx, hy, r, t.main, mouth=False)
    sp.arc(hx + 0.11, hy - 0.12, 0.04, 0.03, 20, 160, sp.ink)


def _rabbit(sp: _Sprite, t: _Traits) -> None:
    hx, hy, r = 0.04, 0.6, 0.21
    sp.ellipse(-0.2, 0.15, 0.07, 0.07, WHITE)  # cotton tail
    _body(sp, t, rx=0.19, ry=0.23)
    for x, angle in ((hx - 0.08, 12), (hx + 0.07, -8)):
        sp.oval(x, hy + 0.32, 0.055, 0.19, angle, t.main)
        sp.oval(x, hy + 0.3, 0.025, 0.13, angle, PINK, line=False)
    sp.ellipse(hx, hy, r, r * 0.92, t.main)
    sp.ellipse(hx + 0.12, hy - 0.06, 0.03, 0.022, PINK, line=False)
    _whiskers(sp, hx + 0.18, hy - 0.07, 0.08)
    _face(sp, hx, hy, r, t.main)


def _mouse(sp: _Sprite, t: _Traits) -> None:
    hx, hy, r = 0.04, 0.58, 0.2
    sp.stroke([(-0.15, 0.1), (-0.35, 0.06), (-0.45, 0.18), (-0.38, 0.3)], mix(t.main, PINK, 0.5), 0.02)
    _body(sp, t, rx=0.18, ry=0.22)
    for x, y in ((hx - 0.15, hy + 0.18), (hx + 0.14, hy + 0.2)):
        sp.ellipse(x, y, 0.12, 0.12, t.main)
        sp.ellipse(x, y, 0.075, 0.075, PINK, line=False)
    sp.oval(hx + 0.05, hy, r * 0.9, r * 1.05, -75, t.main)  # a pointed face
    sp.ellipse(hx + 0.24, hy - 0.04, 0.03, 0.03, PINK)
    _whiskers(sp, hx + 0.2, hy - 0.06, 0.09)
    _face(sp, hx - 0.02, hy, r, t.main)


def _frog(sp: _Sprite, t: _Traits) -> None:
    hx, hy = 0.03, 0.5
    for dx in (-0.14, 0.16):  # wide webbed feet
        sp.ellipse(dx, 0.04, 0.1, 0.045, t.dark)
    sp.ellipse(0.0, 0.22, 0.2, 0.2, t.main)
    sp.ellipse(0.04, 0.2, 0.13, 0.14, t.light, line=False)
    sp.ellipse(hx, hy, 0.26, 0.17, t.main)
    for x, k in ((hx - 0.1, 0.9), (hx + 0.13, 1.0)):  # eyes on top of the head
        sp.ellipse(x, hy + 0.16, 0.08 * k, 0.08 * k, t.main)
        sp.ellipse(x + 0.01, hy + 0.17, 0.05 * k, 0.055 * k, WHITE, line=False)
        sp.ellipse(x + 0.02, hy + 0.17, 0.025 * k, 0.035 * k, INK, line=False)
    sp.arc(hx + 0.04, hy - 0.02, 0.17, 0.08, 10, 170, sp.ink)
    for x in (hx - 0.14, hx + 0.2):
        sp.ellipse(x, hy - 0.04, 0.045, 0.028, mix(t.main, PINK, 0.55), line=False)


def _dragon(sp: _Sprite, t: _Traits) -> None:
    hx, hy, r = 0.06, 0.66, 0.22
    wing = mix(t.main, (40, 30, 60), 0.25)
    membrane = mix(t.main, WHITE, 0.25)
    # two bat wings raised behind the back: an arm bone to the tip, a scalloped membrane below it
    for k, (sx, sy) in ((1.0, (-0.1, 0.42)), (0.7, (0.02, 0.5))):
        elbow, tip = (sx - 0.2 * k, sy + 0.3 * k), (sx - 0.42 * k, sy + 0.5 * k)
        fingers = [(sx - 0.48 * k, sy + 0.16 * k), (sx - 0.32 * k, sy + 0.06 * k), (sx - 0.16 * k, sy - 0.02)]
        pts = [(sx, sy), elbow, tip]
        for i, f in enumerate(fingers):  # each scallop bows in between two finger tips
            prev = tip if i == 0 else fingers[i - 1]
            pts += [((prev[0] + f[0]) / 2 + 0.05 * k, (prev[1] + f[1]) / 2 + 0.06 * k), f]
        sp.polygon(_smooth(pts, rounds=2, closed=True), membrane)
        for f in fingers[:2]:
            sp.stroke([elbow, f], wing, 0.012)
        sp.stroke([(sx, sy), elbow, tip], wing, 0.03)
    # a tail curling out behind, with a spade at its tip
    sp.taper([(-0.1, 0.16), (-0.32, 0.06), (-0.5, 0.1), (-0.58, 0.24)], 0.11, 0.03, t.main)
    sp.polygon([(-0.52, 0.28), (-0.64, 0.35), (-0.6, 0.25), (-0.64, 0.2)], t.light)  # an arrowhead tip
    for x, y in ((-0.2, 0.45), (-0.22, 0.3), (-0.19, 0.17)):  # spikes down the back
        sp.polygon([(x + 0.02, y + 0.05), (x - 0.07, y), (x + 0.02, y - 0.05)], t.light)
    _body(sp, t, rx=0.21, ry=0.27, belly=False)
    sp.ellipse(0.06, 0.25, 0.13, 0.19, t.light)
    for y in (0.15, 0.23, 0.31):
        sp.arc(0.06, y + 0.04, 0.1, 0.04, 30, 150, mix(t.light, INK, 0.35))
    for x in (hx - 0.1, hx + 0.06):  # little horns
        sp.polygon([(x - 0.035, hy + 0.17), (x + 0.02, hy + 0.31), (x + 0.04, hy + 0.16)], (250, 236, 200))
    sp.ellipse(hx, hy, r, r * 0.95, t.main)
    sp.ellipse(hx + 0.16, hy - 0.06, 0.12, 0.09, t.main)  # snout
    sp.ellipse(hx + 0.22, hy - 0.03, 0.015, 0.012, INK, line=False)
    _face(sp, hx - 0.04, hy + 0.02, r, t.main)


def _owl(sp: _Sprite, t: _Traits) -> None:
    for dx in (-0.06, 0.08):
        sp.ellipse(dx, 0.03, 0.05, 0.03, GOLD)
    for x, y in ((-0.16, 0.68), (0.18, 0.68)):  # ear tufts
        sp.polygon([(x - 0.07, y - 0.05), (x + (0.02 if x > 0 else -0.02), y + 0.1), (x + 0.07, y - 0.05)], t.main)
    sp.ellipse(0.0, 0.36, 0.25, 0.33, t.main)
    sp.ellipse(0.02, 0.24, 0.16, 0.18, t.light, line=False)
    for y in (0.18, 0.26, 0.34):
        for x in (-0.05, 0.03, 0.11):
            sp.arc(x, y + 0.02, 0.025, 0.02, 20, 160, mix(t.light, INK, 0.35))
    sp.oval(-0.23, 0.32, 0.07, 0.17, -10, t.dark)
    sp.oval(0.25, 0.32, 0.07, 0.17, 10, t.dark)
    for x in (-0.07, 0.11):  # a face disc: big ringed eyes
        sp.ellipse(x, 0.5, 0.1, 0.1, t.light)
        sp.ellipse(x, 0.5, 0.06, 0.06, WHITE, line=False)
        sp.ellipse(x + 0.01, 0.5, 0.035, 0.04, INK, line=False)
        sp.ellipse(x + 0.025, 0.515, 0.012, 0.012, WHITE, line=False)
    sp.polygon([(0.0, 0.45), (0.04, 0.45), (0.02, 0.38)], GOLD)


def _bird(sp: _Sprite, t: _Traits) -> None:
    for dx in (-0.04, 0.06):
        sp.stroke([(dx, 0.14), (dx, 0.01), (dx + 0.05, 0.0)], (230, 150, 60), 0.025)
    sp.polygon([(-0.2, 0.38), (-0.46, 0.55), (-0.42, 0.34)], t.dark)  # tail feathers
    sp.ellipse(0.0, 0.34, 0.26, 0.22, t.main)
    sp.ellipse(0.05, 0.28, 0.16, 0.13, t.light, line=False)
    sp.ellipse(0.12, 0.56, 0.17, 0.16, t.main)
    sp.oval(-0.06, 0.38, 0.17, 0.09, 15, t.dark)  # the wing
    sp.polygon([(0.26, 0.6), (0.4, 0.54), (0.26, 0.5)], GOLD)
    sp.ellipse(0.18, 0.58, 0.035, 0.045, INK, line=False)
    sp.ellipse(0.19, 0.6, 0.013, 0.013, WHITE, line=False)
    sp.ellipse(0.14, 0.5, 0.04, 0.025, mix(t.main, PINK, 0.55), line=False)
    sp.polygon([(0.06, 0.71), (0.1, 0.8), (0.14, 0.71)], t.main)  # a crest


def _fish(sp: _Sprite, t: _Traits) -> None:
    y = 0.5
    sp.polygon([(-0.26, y), (-0.5, y + 0.18), (-0.46, y), (-0.5, y - 0.18)], t.dark)  # tail
    sp.polygon([(-0.1, y + 0.16), (0.02, y + 0.3), (0.12, y + 0.16)], t.dark)  # top fin
    sp.ellipse(0.0, y, 0.32, 0.2, t.main)
    for x in (-0.12, 0.0):
        sp.arc(x, y, 0.05, 0.17, 270, 90, t.light)
    sp.oval(-0.02, y - 0.07, 0.04, 0.08, 60, t.dark)
    sp.ellipse(0.17, y + 0.05, 0.05, 0.06, WHITE)
    sp.ellipse(0.185, y + 0.05, 0.028, 0.035, INK, line=False)
    sp.arc(0.22, y - 0.07, 0.05, 0.03, 20, 160, sp.ink)
    for bx, by, br in ((0.38, y + 0.22, 0.03), (0.44, y + 0.32, 0.02)):  # bubbles
        cx, cy = sp.pt(bx, by)
        sp.draw.ellipse(
            [cx - br * sp.s, cy - br * sp.s, cx + br * sp.s, cy + br * sp.s], outline=(240, 250, 255), width=sp.line
        )


def _turtle(sp: _Sprite, t: _Traits) -> None:
    skin = mix(t.main, (190, 214, 140), 0.55)
    for x in (-0.2, -0.05, 0.12, 0.24):
        sp.ellipse(x, 0.06, 0.06, 0.06, skin)
    sp.polygon([(-0.3, 0.1), (-0.42, 0.08), (-0.3, 0.16)], skin)  # tail
    sp.tube([(0.22, 0.16), (0.34, 0.26)], 0.1, skin)
    sp.ellipse(0.38, 0.3, 0.13, 0.12, skin)
    _face(sp, 0.36, 0.31, 0.12, skin)
    sp.chord(0.0, 0.1, 0.32, 0.3, 180, 360, t.main)  # the shell
    for x, y in ((-0.14, 0.2), (0.0, 0.28), (0.14, 0.2), (0.0, 0.16)):
        sp.ellipse(x, y, 0.06, 0.045, t.light)
    sp.rect(-0.34, 0.07, 0.34, 0.12, t.dark, radius=0.03)


def _unicorn(sp: _Sprite, t: _Traits, horn: bool = True, mane: bool = True) -> None:
    """A unicorn; without its horn, a horse; without horn and mane (and a short tail), the body of a deer."""
    colours = RAINBOW if horn else (t.dark,) * 5 if mane else ()
    for i, c in enumerate(colours):  # tail
        sp.tube([(-0.28, 0.5), (-0.38 - 0.015 * i, 0.36 - 0.03 * i), (-0.36, 0.18 - 0.02 * i)], 0.03, c)
    if not mane:
        sp.oval(-0.31, 0.52, 0.035, 0.06, 60, t.light)
    for x in (-0.18, 0.16):  # far legs
        sp.rect(x - 0.035, 0.02, x + 0.035, 0.38, t.dark, radius=0.02)
    sp.polygon([(0.1, 0.48), (0.24, 0.44), (0.38, 0.76), (0.24, 0.82)], t.main)  # neck
    sp.ellipse(0.0, 0.44, 0.3, 0.15, t.main)
    for x in (-0.24, 0.22):  # near legs with hooves
        sp.rect(x - 0.035, 0.04, x + 0.035, 0.38, t.main, radius=0.02)
        sp.rect(x - 0.04, 0.0, x + 0.04, 0.05, t.dark, radius=0.01)
    sp.polygon([(0.28, 0.88), (0.31, 0.99), (0.34, 0.86)], t.main)  # ear
    if horn:
        sp.polygon([(0.34, 0.9), (0.44, 1.12), (0.4, 0.87)], GOLD)
    sp.oval(0.36, 0.79, 0.1, 0.15, -60, t.main)  # head
    sp.ellipse(0.45, 0.73, 0.07, 0.06, t.light, line=False)
    sp.ellipse(0.48, 0.74, 0.012, 0.01, INK, line=False)
    sp.ellipse(0.36, 0.83, 0.025, 0.035, INK, line=False)
    sp.ellipse(0.365, 0.845, 0.01, 0.01, WHITE, line=False)
    sp.ellipse(0.38, 0.75, 0.03, 0.02, mix(t.main, PINK, 0.55), line=False)
    for i, c in enumerate(colours):  # mane down the neck
        sp.ellipse(0.25 - 0.02 * i, 0.86 - 0.08 * i, 0.05, 0.05, c)


def _robot(sp: _Sprite, t: _Traits) -> None:
    metal = mix(t.main, (200, 204, 214), 0.35)
    for dx in (-0.08, 0.08):
        sp.rect(dx - 0.04, 0.04, dx + 0.04, 0.18, (120, 124, 140))
        sp.rect(dx - 0.06, 0.0, dx + 0.06, 0.05, (80, 84, 100), radius=0.02)
    sp.tube([(-0.2, 0.42), (-0.28, 0.3)], 0.05, (150, 154, 170))
    sp.rect(-0.2, 0.16, 0.2, 0.5, metal, radius=0.05)
    sp.rect(-0.1, 0.24, 0.12, 0.42, mix(metal, WHITE, 0.4), radius=0.02)
    for i, c in enumerate(((240, 90, 90), (250, 210, 80), (110, 210, 130))):
        sp.ellipse(-0.05 + 0.06 * i, 0.36, 0.02, 0.02, c)
    sp.tube([(0.2, 0.42), (0.29, 0.32)], 0.05, (150, 154, 170))
    sp.ellipse(0.3, 0.3, 0.04, 0.04, (120, 124, 140))
    sp.stroke([(0.02, 0.88), (0.02, 0.98)], sp.ink, 0.015)  # antenna
    sp.ellipse(0.02, 0.99, 0.035, 0.035, (240, 90, 90))
    sp.rect(-0.19, 0.54, 0.23, 0.88, metal, radius=0.06)
    sp.ellipse(-0.2, 0.71, 0.03, 0.05, (150, 154, 170))
    sp.rect(-0.11, 0.6, 0.2, 0.82, (40, 48, 70), radius=0.04)  # the screen face
    for x in (-0.02, 0.11):
        sp.ellipse(x, 0.73, 0.03, 0.035, (120, 240, 250), line=False)
    sp.arc(0.045, 0.67, 0.05, 0.03, 20, 160, (120, 240, 250))


# --- more species (issue 14): each its own silhouette ----------------------------------------------

BLACK: RGB = (52, 50, 62)
ORANGE: RGB = (246, 150, 50)


def _tentacle(sp: _Sprite, x: float, y: float, dx: float, curl: float, length: float, width: float, t: _Traits) -> None:
    """An arm from (x, y) out along ``dx`` (+-1 sideways), down to the ground and curling up at its tip,
    with a row of suckers on its underside."""
    up = 0.06 + 0.05 * curl  # how high the tip curls back up
    pts = [(x, y), (x + dx * length * 0.35, 0.14), (x + dx * length * 0.7, 0.04), (x + dx * length, 0.05),
           (x + dx * length * 1.08, up + 0.05), (x + dx * length * 0.9, up + 0.08)]  # fmt: skip
    sp.taper(pts, width, width * 0.25, t.main)
    for k in (1, 2, 3):
        px, py = pts[k]
        sp.ellipse(px, py - width * 0.2, width * 0.14, width * 0.1, t.light, line=False)


def _octopus(sp: _Sprite, t: _Traits) -> None:
    """A round head over eight curling arms spread on the ground."""
    for i, (dx, length) in enumerate(((-1, 0.42), (1, 0.42), (-1, 0.3), (1, 0.3), (-1, 0.2), (1, 0.22))):
        _tentacle(sp, dx * 0.05 * (i % 3), 0.3, dx, 1.0 if i % 2 else -1.0, length, 0.12, t)
    sp.ellipse(0.02, 0.55, 0.27, 0.3, t.main)  # the head (the mantle)
    sp.ellipse(-0.06, 0.66, 0.08, 0.06, t.light, line=False)
    for x in (-0.1, 0.06, 0.16):
        sp.ellipse(x, 0.44, 0.025, 0.02, t.dark, line=False)
    _tentacle(sp, -0.06, 0.3, -0.5, 1.0, 0.12, 0.11, t)
    _tentacle(sp, 0.1, 0.3, 0.5, -1.0, 0.14, 0.11, t)
    _face(sp, 0.0, 0.52, 0.24, t.main)


def _squid(sp: _Sprite, t: _Traits) -> None:
    """A tall pointed mantle with fins at its top, big eyes, short arms and two long curling tentacles."""
    for dx in (-1, 1):  # the two long tentacles, with a club at each end
        end = (dx * 0.42, 0.08)
        sp.taper([(dx * 0.05, 0.32), (dx * 0.2, 0.12), (dx * 0.34, 0.04), end], 0.05, 0.03, t.main)
        sp.oval(end[0], end[1] + 0.04, 0.05, 0.07, -dx * 50, t.main)
    for k, dx in enumerate((-0.16, -0.08, 0.0, 0.08, 0.16, 0.24)):  # the short arms
        sp.taper([(dx * 0.6, 0.32), (dx, 0.14), (dx * 1.2 + (0.03 if k % 2 else -0.03), 0.02)], 0.07, 0.025, t.main)
    sp.polygon([(-0.14, 0.92), (0.0, 1.12), (0.16, 0.92), (0.0, 0.84)], t.dark)  # the fins
    sp.polygon([(-0.17, 0.38), (-0.12, 0.9), (0.0, 1.06), (0.14, 0.9), (0.19, 0.38)], t.main)  # the mantle
    sp.ellipse(0.01, 0.36, 0.2, 0.08, t.main)
    for y in (0.6, 0.72, 0.84):
        sp.ellipse(-0.05, y, 0.025, 0.02, t.dark, line=False)
    _face(sp, -0.04, 0.44, 0.22, t.main)


def _creature(sp: _Sprite, t: _Traits) -> None:
    """Anything else: a clearly made-up creature, not another animal. A soft gumdrop of a body with no ears,
    a single curl of a tuft, stubby arms and feet, spots and big eyes."""
    for dx in (-0.1, 0.12):
        sp.ellipse(dx, 0.04, 0.08, 0.045, t.dark)
    sp.oval(-0.27, 0.3, 0.045, 0.09, -40, t.dark)
    body = [(-0.3, 0.08), (-0.3, 0.3), (-0.2, 0.56), (0.0, 0.66), (0.2, 0.56), (0.3, 0.3), (0.3, 0.08)]
    sp.polygon(_smooth(body, rounds=3, closed=True), t.main)
    sp.ellipse(0.05, 0.22, 0.17, 0.14, t.light, line=False)
    sp.stroke([(0.0, 0.62), (0.03, 0.74), (0.1, 0.77), (0.12, 0.71), (0.07, 0.69)], sp.ink, 0.02)  # the curl
    spots = np.random.default_rng(t.variant).uniform(-1, 1, (4, 2))
    for sx, sy in spots:
        if sx < 0.2:  # keep spots off the face
            sp.ellipse(-0.16 + 0.06 * sx, 0.3 + 0.12 * sy, 0.03, 0.025, t.dark, line=False)
    sp.oval(0.29, 0.3, 0.045, 0.09, 40, t.main)
    _face(sp, 0.0, 0.4, 0.26, t.main)


def _duck(sp: _Sprite, t: _Traits) -> None:
    for dx in (-0.04, 0.08):  # webbed orange feet
        sp.polygon([(dx - 0.02, 0.12), (dx - 0.05, 0.0), (dx + 0.1, 0.0), (dx + 0.02, 0.12)], ORANGE)
    sp.polygon([(-0.26, 0.32), (-0.4, 0.44), (-0.3, 0.26)], t.main)  # a turned-up tail
    sp.ellipse(-0.02, 0.26, 0.28, 0.16, t.main)
    sp.oval(-0.06, 0.3, 0.15, 0.08, 10, t.dark)  # the wing
    sp.tube([(0.14, 0.32), (0.16, 0.5)], 0.1, t.main)  # the neck
    sp.ellipse(0.16, 0.56, 0.13, 0.11, t.main)
    sp.polygon([(0.24, 0.56), (0.42, 0.53), (0.42, 0.5), (0.24, 0.49)], ORANGE)  # a flat bill
    sp.ellipse(0.2, 0.59, 0.025, 0.032, INK, line=False)
    sp.ellipse(0.205, 0.6, 0.01, 0.01, WHITE, line=False)


def _penguin(sp: _Sprite, t: _Traits) -> None:
    back = mix(t.main, BLACK, 0.6)
    for dx in (-0.06, 0.08):
        sp.ellipse(dx, 0.03, 0.07, 0.03, ORANGE)
    sp.oval(0.0, 0.34, 0.2, 0.32, 0, back)
    sp.ellipse(0.05, 0.3, 0.14, 0.24, WHITE, line=False)
    sp.oval(-0.18, 0.36, 0.05, 0.16, -20, back)  # flippers
    sp.oval(0.2, 0.34, 0.05, 0.15, 35, back)
    sp.ellipse(0.03, 0.66, 0.15, 0.13, back)
    sp.ellipse(0.08, 0.64, 0.09, 0.08, WHITE, line=False)
    sp.polygon([(0.15, 0.64), (0.26, 0.61), (0.15, 0.58)], ORANGE)
    sp.ellipse(0.1, 0.67, 0.022, 0.03, INK, line=False)
    sp.ellipse(0.105, 0.68, 0.008, 0.008, WHITE, line=False)
    sp.ellipse(0.07, 0.6, 0.03, 0.02, PINK, line=False)


def _whale(sp: _Sprite, t: _Traits) -> None:
    y = 0.3
    sp.taper([(-0.2, y), (-0.38, y + 0.06), (-0.5, y + 0.2)], 0.16, 0.06, t.main)  # the tail, raised
    sp.polygon([(-0.5, y + 0.2), (-0.62, y + 0.3), (-0.5, y + 0.26), (-0.4, y + 0.32)], t.main)  # flukes
    sp.ellipse(0.0, y, 0.38, 0.22, t.main)
    sp.chord(0.02, y - 0.02, 0.34, 0.18, 20, 160, t.light)  # the pale belly with its grooves
    for x in (-0.1, 0.0, 0.1):
        sp.stroke([(x, y - 0.12), (x + 0.06, y - 0.14)], mix(t.light, INK, 0.3))
    sp.oval(0.0, y - 0.1, 0.05, 0.1, 70, t.dark)  # a flipper
    sp.ellipse(0.2, y + 0.04, 0.03, 0.038, INK, line=False)
    sp.ellipse(0.205, y + 0.05, 0.01, 0.01, WHITE, line=False)
    sp.arc(0.27, y - 0.05, 0.07, 0.04, 20, 160, sp.ink)
    for a in (-30, 0, 30):  # the spout
        r = math.radians(a)
        sp.stroke([(0.05, y + 0.22), (0.05 + 0.1 * math.sin(r), y + 0.38)], (180, 220, 250), 0.02)


def _elephant(sp: _Sprite, t: _Traits) -> None:
    grey = t.main
    for x in (-0.2, 0.12):  # far legs
        sp.rect(x - 0.05, 0.0, x + 0.05, 0.3, t.dark, radius=0.03)
    sp.tube([(-0.32, 0.42), (-0.4, 0.3)], 0.02, grey)  # a thin tail
    sp.ellipse(-0.04, 0.42, 0.32, 0.22, grey)
    for x in (-0.26, 0.06):  # near legs
        sp.rect(x - 0.055, 0.0, x + 0.055, 0.32, grey, radius=0.03)
    sp.oval(0.18, 0.56, 0.13, 0.17, 10, t.dark)  # the big ear
    sp.ellipse(0.3, 0.56, 0.16, 0.15, grey)
    sp.taper([(0.4, 0.5), (0.48, 0.36), (0.5, 0.2), (0.56, 0.14)], 0.09, 0.05, grey)  # the trunk
    sp.polygon([(0.36, 0.44), (0.44, 0.38), (0.38, 0.46)], WHITE)  # a tusk
    _face(sp, 0.24, 0.6, 0.16, grey, mouth=False)


def _lion(sp: _Sprite, t: _Traits) -> None:
    hx, hy, r = 0.04, 0.62, 0.2
    sp.taper([(-0.14, 0.14), (-0.32, 0.1), (-0.42, 0.22)], 0.05, 0.02, t.main)
    sp.ellipse(-0.44, 0.25, 0.045, 0.045, t.dark)  # the tuft
    _body(sp, t, rx=0.2, ry=0.25)
    mane = mix(t.main, (150, 70, 30), 0.55)
    petals = [(hx + 0.32 * math.cos(a), hy + 0.3 * math.sin(a)) for a in np.linspace(0, 2 * np.pi, 13)[:-1]]
    for x, y in petals:
        sp.ellipse(x, y, 0.1, 0.1, mane)
    sp.ellipse(hx, hy, 0.3, 0.28, mane, line=False)
    for x in (hx - 0.13, hx + 0.12):
        sp.ellipse(x, hy + 0.17, 0.05, 0.05, t.main)
    sp.ellipse(hx, hy, r, r * 0.95, t.main)
    sp.ellipse(hx + 0.1, hy - 0.08, 0.1, 0.07, t.light, line=False)
    sp.ellipse(hx + 0.14, hy - 0.05, 0.035, 0.025, INK, line=False)
    _face(sp, hx - 0.02, hy, r, t.main)


def _tiger(sp: _Sprite, t: _Traits) -> None:
    """On all fours, striped, with a long tail held up in a curve."""
    stripe = mix(t.main, BLACK, 0.75)
    sp.taper([(-0.3, 0.36), (-0.46, 0.44), (-0.5, 0.62), (-0.42, 0.72)], 0.06, 0.04, t.main)
    for x in (-0.22, 0.16):
        sp.rect(x - 0.045, 0.0, x + 0.045, 0.26, t.dark, radius=0.03)
    sp.ellipse(-0.04, 0.34, 0.32, 0.14, t.main)
    sp.ellipse(-0.02, 0.28, 0.22, 0.07, t.light, line=False)
    for x in (-0.26, -0.14, -0.02, 0.1):
        sp.stroke([(x, 0.46), (x + 0.03, 0.36), (x, 0.3)], stripe, 0.02)
    for x in (-0.28, 0.2):
        sp.rect(x - 0.05, 0.0, x + 0.05, 0.28, t.main, radius=0.03)
    hx, hy = 0.3, 0.44
    for x in (hx - 0.1, hx + 0.08):
        sp.ellipse(x, hy + 0.14, 0.05, 0.05, t.main)
    sp.ellipse(hx, hy, 0.17, 0.15, t.main)
    for dx in (-0.06, 0.0, 0.06):
        sp.stroke([(hx + dx, hy + 0.15), (hx + dx, hy + 0.08)], stripe, 0.016)
    sp.ellipse(hx + 0.08, hy - 0.06, 0.09, 0.06, WHITE, line=False)
    sp.ellipse(hx + 0.12, hy - 0.04, 0.03, 0.022, INK, line=False)
    _whiskers(sp, hx + 0.14, hy - 0.06, 0.08)
    _face(sp, hx - 0.04, hy, 0.16, t.main, mouth=False)


def _wolf(sp: _Sprite, t: _Traits) -> None:
    """Sitting, its long snout raised, tall pointed ears and a low straight tail."""
    hx, hy, r = 0.06, 0.66, 0.19
    sp.taper([(-0.12, 0.14), (-0.34, 0.06), (-0.5, 0.04)], 0.12, 0.05, t.main)
    _body(sp, t, rx=0.19, ry=0.27)
    for x in (hx - 0.12, hx + 0.04):
        sp.polygon([(x - 0.05, hy + 0.12), (x + 0.0, hy + 0.4), (x + 0.06, hy + 0.12)], t.main)
        sp.polygon([(x - 0.02, hy + 0.15), (x + 0.0, hy + 0.3), (x + 0.03, hy + 0.15)], t.dark, line=False)
    sp.ellipse(hx, hy, r, r, t.main)
    sp.polygon([(hx + 0.1, hy + 0.06), (hx + 0.36, hy - 0.02), (hx + 0.34, hy - 0.08), (hx + 0.1, hy - 0.12)], t.main)
    sp.polygon([(hx + 0.12, hy - 0.05), (hx + 0.33, hy - 0.07), (hx + 0.12, hy - 0.11)], t.light, line=False)
    sp.ellipse(hx + 0.35, hy - 0.04, 0.03, 0.025, INK, line=False)
    _face(sp, hx - 0.06, hy + 0.02, r, t.main, mouth=False)


def _monkey(sp: _Sprite, t: _Traits) -> None:
    hx, hy, r = 0.03, 0.64, 0.2
    face = mix(t.main, (250, 220, 190), 0.6)
    sp.stroke([(-0.14, 0.16), (-0.34, 0.2), (-0.42, 0.4), (-0.32, 0.52), (-0.24, 0.44)], t.main, 0.04)
    for dx in (-0.09, 0.1):
        sp.ellipse(dx + 0.02, 0.04, 0.07, 0.04, face)
    sp.tube([(-0.14, 0.42), (-0.24, 0.26), (-0.22, 0.14)], 0.06, t.dark)  # long arms
    sp.ellipse(0.0, 0.28, 0.17, 0.22, t.main)
    sp.ellipse(0.04, 0.26, 0.1, 0.14, face, line=False)
    sp.tube([(0.14, 0.42), (0.3, 0.5), (0.36, 0.64)], 0.06, t.main)  # one arm waving
    for x in (hx - 0.22, hx + 0.22):  # ears on the sides of the head
        sp.ellipse(x, hy, 0.07, 0.07, t.main)
        sp.ellipse(x, hy, 0.04, 0.04, face, line=False)
    sp.ellipse(hx, hy, r, r, t.main)
    sp.ellipse(hx + 0.05, hy - 0.04, 0.14, 0.13, face, line=False)
    _face(sp, hx - 0.03, hy, r, face)


def _pig(sp: _Sprite, t: _Traits) -> None:
    hx, hy, r = 0.06, 0.52, 0.21
    sp.stroke([(-0.24, 0.3), (-0.32, 0.34), (-0.3, 0.4), (-0.26, 0.36)], sp.ink, 0.02)  # a curly tail
    for x in (-0.16, 0.12):
        sp.rect(x - 0.04, 0.0, x + 0.04, 0.2, t.dark, radius=0.02)
    sp.ellipse(-0.02, 0.3, 0.27, 0.19, t.main)
    for x in (-0.2, 0.16):
        sp.rect(x - 0.045, 0.0, x + 0.045, 0.2, t.main, radius=0.02)
    sp.ellipse(hx + 0.1, hy, r, r * 0.9, t.main)
    for x in (hx - 0.02, hx + 0.16):  # triangle ears flopping forward
        sp.polygon([(x - 0.06, hy + 0.12), (x, hy + 0.26), (x + 0.07, hy + 0.1)], t.dark)
    sp.ellipse(hx + 0.28, hy - 0.04, 0.07, 0.06, t.light)  # the snout
    for dx in (-0.02, 0.02):
        sp.ellipse(hx + 0.28 + dx, hy - 0.04, 0.012, 0.018, t.dark, line=False)
    _face(sp, hx + 0.02, hy + 0.04, r, t.main, mouth=False)


def _squirrel(sp: _Sprite, t: _Traits) -> None:
    hx, hy, r = 0.06, 0.5, 0.15
    tail = [(-0.1, 0.08), (-0.34, 0.16), (-0.4, 0.44), (-0.3, 0.72), (-0.12, 0.78), (-0.06, 0.66)]
    sp.taper(tail, 0.12, 0.2, t.main)  # the big bushy tail, curling over the back
    sp.ellipse(0.0, 0.2, 0.14, 0.18, t.main)
    sp.ellipse(0.04, 0.18, 0.08, 0.12, t.light, line=False)
    for dx in (-0.05, 0.08):
        sp.ellipse(dx, 0.03, 0.06, 0.03, t.dark)
    sp.oval(0.14, 0.3, 0.04, 0.06, 40, t.dark)  # paws holding an acorn
    sp.ellipse(0.2, 0.32, 0.04, 0.045, (170, 110, 60))
    for x in (hx - 0.06, hx + 0.05):
        sp.polygon([(x - 0.035, hy + 0.1), (x, hy + 0.22), (x + 0.035, hy + 0.1)], t.main)
    sp.ellipse(hx, hy, r, r * 0.92, t.main)
    _face(sp, hx - 0.02, hy, r, t.main)


def _hedgehog(sp: _Sprite, t: _Traits) -> None:
    spines = []
    for k in range(15):  # a zigzag dome of spines
        a = math.pi * k / 14
        rr = 0.3 if k % 2 == 0 else 0.22
        spines.append((-0.04 - rr * math.cos(a) * 1.05, 0.05 + rr * math.sin(a) * 0.95))
    sp.polygon([(0.22, 0.05), *spines[::-1], (-0.38, 0.05)][::-1], t.dark)
    face = mix(t.main, (250, 230, 200), 0.6)
    sp.polygon([(0.1, 0.05), (0.12, 0.24), (0.36, 0.1), (0.34, 0.05)], face)  # the pointed face
    sp.ellipse(0.36, 0.09, 0.025, 0.022, INK, line=False)
    sp.ellipse(0.2, 0.16, 0.02, 0.025, INK, line=False)
    sp.ellipse(0.205, 0.17, 0.007, 0.007, WHITE, line=False)
    for dx in (-0.1, 0.1):
        sp.ellipse(dx, 0.03, 0.04, 0.025, face)


def _deer(sp: _Sprite, t: _Traits) -> None:
    _unicorn(sp, t, horn=False, mane=False)
    for side in (-1, 1):  # antlers
        bx = 0.32 + 0.03 * side
        sp.stroke([(bx, 0.9), (bx + 0.05 * side, 1.04), (bx + 0.02 * side, 1.14)], (150, 110, 70), 0.018)
        sp.stroke([(bx + 0.04 * side, 1.0), (bx + 0.1 * side, 1.06)], (150, 110, 70), 0.015)
    for x, y in ((-0.12, 0.5), (0.0, 0.52), (0.1, 0.48), (-0.06, 0.44)):
        sp.ellipse(x, y, 0.02, 0.016, WHITE, line=False)


def _snail(sp: _Sprite, t: _Traits) -> None:
    body = mix(t.main, (230, 220, 180), 0.55)
    sp.taper([(-0.3, 0.04), (0.0, 0.06), (0.26, 0.08), (0.34, 0.14)], 0.08, 0.1, body)
    for dx in (0.0, 0.05):  # eye stalks
        sp.stroke([(0.3 + dx, 0.16), (0.34 + dx * 1.6, 0.32)], body, 0.015)
        sp.ellipse(0.34 + dx * 1.6, 0.33, 0.02, 0.02, INK)
    sp.ellipse(-0.04, 0.26, 0.2, 0.2, t.main)  # the shell, with its spiral
    pts = [
        (-0.04 + 0.17 * (1 - a / 12) * math.cos(a), 0.26 + 0.17 * (1 - a / 12) * math.sin(a))
        for a in np.linspace(0, 11, 40)
    ]
    sp.stroke(pts, t.dark, 0.02)
    sp.arc(0.32, 0.1, 0.03, 0.02, 20, 160, sp.ink)


def _bee(sp: _Sprite, t: _Traits) -> None:
    """A round striped bee hovering over the ground, wings up."""
    y = 0.45
    for angle, dx in ((20, -0.08), (-10, 0.04)):
        sp.oval(dx, y + 0.2, 0.08, 0.15, angle, (220, 240, 255))
    sp.polygon([(-0.24, y), (-0.32, y - 0.02), (-0.24, y - 0.04)], BLACK)  # the sting
    sp.ellipse(0.0, y, 0.24, 0.17, t.main)
    for x in (-0.12, 0.0):
        sp.chord(x, y, 0.05, 0.17, 270, 90, BLACK)
    sp.ellipse(0.2, y + 0.02, 0.12, 0.12, BLACK)
    for dx in (0.0, 0.06):
        sp.stroke([(0.22 + dx, y + 0.12), (0.28 + dx, y + 0.24)], sp.ink, 0.012)
        sp.ellipse(0.28 + dx, y + 0.25, 0.018, 0.018, BLACK)
    sp.ellipse(0.25, y + 0.04, 0.028, 0.035, WHITE, line=False)
    sp.ellipse(0.26, y + 0.045, 0.015, 0.02, INK, line=False)


def _ladybug(sp: _Sprite, t: _Traits) -> None:
    for k in range(3):  # legs
        x = -0.12 + 0.12 * k
        sp.stroke([(x, 0.1), (x - 0.04, 0.0)], BLACK, 0.015)
    sp.ellipse(0.24, 0.16, 0.1, 0.09, BLACK)
    for dx in (0.0, 0.05):
        sp.stroke([(0.28 + dx, 0.22), (0.34 + dx, 0.34)], BLACK, 0.012)
    sp.chord(0.0, 0.06, 0.26, 0.26, 180, 360, t.main)  # the red dome
    sp.stroke([(0.0, 0.32), (0.0, 0.06)], BLACK, 0.012)
    for x, y in ((-0.14, 0.16), (-0.08, 0.25), (0.08, 0.22), (0.14, 0.12), (-0.02, 0.12)):
        sp.ellipse(x, y, 0.035, 0.035, BLACK, line=False)
    sp.ellipse(0.28, 0.18, 0.02, 0.025, WHITE, line=False)


def _troll(sp: _Sprite, t: _Traits) -> None:
    """A big lumpy fellow with a long nose, pointed ears, a tuft of hair and a club."""
    skin = t.main
    for dx in (-0.12, 0.12):
        sp.ellipse(dx, 0.05, 0.1, 0.05, t.dark)
    sp.tube([(-0.2, 0.5), (-0.3, 0.3)], 0.09, skin)
    sp.polygon(
        _smooth([(-0.26, 0.06), (-0.3, 0.4), (-0.2, 0.66), (0.2, 0.66), (0.3, 0.4), (0.26, 0.06)], closed=True), skin
    )
    sp.rect(-0.24, 0.06, 0.24, 0.26, (130, 100, 70), radius=0.05)  # a sack of a tunic
    sp.polygon([(0.3, 0.62), (0.5, 0.86), (0.6, 0.8), (0.38, 0.56)], (130, 90, 60))  # the club
    sp.tube([(0.2, 0.5), (0.34, 0.6)], 0.09, skin)
    for side in (-1, 1):
        sp.polygon([(side * 0.16, 0.8), (side * 0.32, 0.9), (side * 0.18, 0.74)], skin)
    sp.ellipse(0.0, 0.8, 0.2, 0.18, skin)
    sp.stroke([(-0.02, 0.96), (0.0, 1.06), (0.04, 0.98)], t.dark, 0.03)
    sp.oval(0.16, 0.74, 0.05, 0.1, -70, mix(skin, PINK, 0.3))  # the nose
    _face(sp, -0.04, 0.82, 0.18, skin, mouth=False)
    sp.arc(0.06, 0.68, 0.06, 0.03, 20, 160, sp.ink)


# --- the rest of the vocabulary's species (issue 14), in families that share parts ------------------
# Hoofed animals share one four-legged body (legs, barrel, neck, long head) and differ in proportions and
# markings; birds share wings, a beak and thin legs; the sea creatures, the small mammals, the bugs and the
# made-up beings each have their own shapes.

WOOL: RGB = (246, 244, 236)
HORN: RGB = (236, 222, 190)


def _eye(sp: _Sprite, x: float, y: float, r: float) -> None:
    sp.ellipse(x, y, r * 0.8, r, INK, line=False)
    sp.ellipse(x + r * 0.3, y + r * 0.35, r * 0.32, r * 0.32, WHITE, line=False)


def _hoofed(
    sp: _Sprite,
    t: _Traits,
    body: RGB | None = None,
    legs: float = 0.36,
    neck: float = 0.3,
    width: float = 0.3,
    depth: float = 0.15,
    head: float = 1.0,
    hoof: RGB | None = None,
) -> tuple[float, float]:
    """A four-legged hoofed body in profile, facing +x: far legs, barrel, neck, near legs, a long head.
    Returns where the head is (its top), for horns, ears and markings."""
    body = body or t.main
    far = mix(body, (40, 30, 40), 0.25)
    hoof = hoof or mix(body, INK, 0.6)
    top = legs + depth
    for x in (-width * 0.6, width * 0.53):  # far legs
        sp.rect(x - 0.03, 0.02, x + 0.03, legs + 0.02, far, radius=0.02)
    nx, ny = width * 0.75, top + neck  # where the neck meets the head
    sp.polygon([(width * 0.35, legs + 0.1), (width * 0.8, legs + 0.06), (nx + 0.08, ny), (nx - 0.04, ny + 0.04)], body)
    sp.ellipse(0.0, legs + depth * 0.5, width, depth, body)
    for x in (-width * 0.8, width * 0.7):  # near legs with hooves
        sp.rect(x - 0.032, 0.04, x + 0.032, legs + 0.02, body, radius=0.02)
        sp.rect(x - 0.037, 0.0, x + 0.037, 0.05, hoof, radius=0.01)
    hx, hy = nx + 0.06 * head, ny + 0.02 * head
    sp.oval(hx, hy, 0.08 * head, 0.13 * head, -65, body)  # the head, pointing forward and down
    sp.ellipse(hx + 0.1 * head, hy - 0.05 * head, 0.06 * head, 0.05 * head, mix(body, PINK, 0.3), line=False)
    sp.ellipse(hx + 0.12 * head, hy - 0.04 * head, 0.01, 0.008, INK, line=False)
    _eye(sp, hx - 0.005, hy + 0.04 * head, 0.025 * head)
    sp.polygon([(hx - 0.07 * head, hy + 0.06 * head), (hx - 0.13 * head, hy + 0.14 * head),
                (hx - 0.03 * head, hy + 0.09 * head)], body)  # fmt: skip  # an ear
    return hx, hy


def _goat(sp: _Sprite, t: _Traits) -> None:
    """A nimble goat: short upturned tail, a beard and two horns curving back."""
    sp.polygon([(-0.22, 0.46), (-0.34, 0.58), (-0.3, 0.6), (-0.2, 0.5)], t.main)  # a short upturned tail
    hx, hy = _hoofed(sp, t, legs=0.3, neck=0.22, width=0.27, depth=0.14)
    for dx in (-0.02, 0.02):
        sp.taper(
            [(hx - 0.02 + dx, hy + 0.08), (hx - 0.08 + dx, hy + 0.2), (hx - 0.17 + dx, hy + 0.2)], 0.035, 0.012, HORN
        )
    sp.polygon([(hx + 0.06, hy - 0.08), (hx + 0.04, hy - 0.2), (hx + 0.1, hy - 0.09)], t.light)  # the beard


def _sheep(sp: _Sprite, t: _Traits, lamb: bool = False) -> None:
    """A cloud of wool on thin dark legs, with a dark face; a lamb is smaller, rounder and shorter-legged."""
    face = mix(t.main, (60, 52, 60), 0.7)
    legs = 0.08 if lamb else 0.24
    for x in (-0.16, 0.14):
        sp.rect(x - 0.028, 0.0, x + 0.028, legs + 0.06, face, radius=0.02)
    wool = mix(t.main, WOOL, 0.8)
    cx, cy, rx, ry = 0.0, legs + 0.17, 0.27 if not lamb else 0.22, 0.15 if not lamb else 0.14
    puffs = [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in np.linspace(0, 2 * np.pi, 11)[:-1]]
    for x, y in puffs:
        sp.ellipse(x, y, 0.08, 0.08, wool)
    sp.ellipse(cx, cy, rx, ry, wool, line=False)
    for x in (-0.2, 0.18):
        sp.rect(x - 0.03, 0.0, x + 0.03, legs + 0.02, face, radius=0.02)
    hx, hy, r = (0.28, cy + 0.1, 0.11) if not lamb else (0.22, cy + 0.18, 0.14)  # a lamb: a big head held high
    sp.oval(hx - 0.06, hy + 0.02, 0.04, 0.08, 70, face)  # an ear sticking out
    sp.oval(hx + 0.03, hy - 0.02, r * 0.8, r * 1.1, -60, face)
    for k in range(3):  # a woolly top-knot
        sp.ellipse(hx - 0.03 + 0.035 * k, hy + r * 0.8, 0.04, 0.04, wool)
    _eye(sp, hx + 0.05, hy + 0.0, 0.022)
    sp.arc(hx + 0.1, hy - 0.06, 0.03, 0.02, 20, 160, mix(face, WHITE, 0.5))


def _cow(sp: _Sprite, t: _Traits) -> None:
    """A big cow: white with patches of its colour, a pink muzzle, short horns and a tufted tail."""
    sp.taper([(-0.32, 0.5), (-0.38, 0.36), (-0.37, 0.22)], 0.025, 0.02, WOOL)
    sp.ellipse(-0.37, 0.2, 0.03, 0.04, t.dark)
    hx, hy = _hoofed(sp, t, body=WOOL, legs=0.3, neck=0.12, width=0.34, depth=0.18, head=1.2, hoof=(70, 60, 60))
    for x, y, rx, ry in ((-0.18, 0.52, 0.08, 0.06), (0.04, 0.4, 0.09, 0.07), (-0.06, 0.58, 0.05, 0.04)):
        sp.ellipse(x, y, rx, ry, t.main, line=False)
    sp.ellipse(hx - 0.02, hy + 0.05, 0.04, 0.035, t.main, line=False)
    sp.ellipse(hx + 0.12, hy - 0.06, 0.07, 0.06, PINK)  # the muzzle
    for dx in (-0.01, 0.03):
        sp.ellipse(hx + 0.14 + dx, hy - 0.05, 0.01, 0.012, INK, line=False)
    for dx in (-0.05, 0.0):
        sp.polygon([(hx + dx, hy + 0.1), (hx + dx - 0.03, hy + 0.2), (hx + dx + 0.03, hy + 0.11)], HORN)
    sp.ellipse(0.12, 0.32, 0.06, 0.035, PINK)  # the udder


def _giraffe(sp: _Sprite, t: _Traits) -> None:
    """A giraffe: tall legs, a very long neck, brown patches, two ossicones."""
    patch = mix(t.main, (120, 70, 30), 0.6)
    body = mix(t.main, (250, 210, 120), 0.5)
    hx, hy = _hoofed(sp, t, body=body, legs=0.5, neck=0.62, width=0.22, depth=0.14, head=0.9)
    for x, y in ((-0.1, 0.64), (0.06, 0.66), (-0.02, 0.58), (0.16, 0.8), (0.2, 0.96), (0.21, 1.1), (0.13, 0.7)):
        sp.ellipse(x, y, 0.035, 0.03, patch, line=False)
    for dx in (-0.05, -0.01):
        sp.stroke([(hx + dx, hy + 0.08), (hx + dx - 0.01, hy + 0.17)], patch, 0.02)
        sp.ellipse(hx + dx - 0.01, hy + 0.18, 0.018, 0.018, patch)
    sp.stroke([(0.1, 0.72), (0.2, 1.1)], patch, 0.025)  # the mane down the neck


def _zebra(sp: _Sprite, t: _Traits) -> None:
    """A striped horse: white with black stripes, a short stiff mane, a tufted tail."""
    stripe = mix(t.main, BLACK, 0.85)
    sp.taper([(-0.3, 0.48), (-0.36, 0.34), (-0.34, 0.22)], 0.025, 0.02, WOOL)
    sp.ellipse(-0.34, 0.2, 0.025, 0.04, stripe)
    hx, hy = _hoofed(sp, t, body=WOOL, legs=0.34, neck=0.3, width=0.3, depth=0.15, hoof=stripe)
    for x in (-0.22, -0.12, -0.02, 0.08, 0.16):
        sp.stroke([(x - 0.02, 0.62), (x + 0.02, 0.5), (x - 0.01, 0.4)], stripe, 0.022)
    for y in (0.16, 0.26):
        for x in (-0.24, 0.21):
            sp.stroke([(x - 0.03, y), (x + 0.03, y)], stripe, 0.018)
    for k in range(5):  # stripes up the neck
        y = 0.6 + 0.06 * k
        sp.stroke([(0.14 + 0.02 * k, y), (0.26 + 0.02 * k, y + 0.03)], stripe, 0.018)
    sp.stroke([(0.16, 0.66), (hx - 0.06, hy + 0.08)], stripe, 0.04)  # the short mane
    sp.ellipse(hx + 0.1, hy - 0.05, 0.06, 0.05, stripe, line=False)


def _camel(sp: _Sprite, t: _Traits) -> None:
    """A camel: long legs, two humps, a long curved neck and a droopy lip."""
    body = mix(t.main, (214, 170, 110), 0.6)
    hx, hy = _hoofed(sp, t, body=body, legs=0.44, neck=0.24, width=0.3, depth=0.14, hoof=mix(body, INK, 0.3))
    for x in (-0.14, 0.06):  # the humps, grown out of the back (their lower outline covered)
        sp.ellipse(x, 0.62, 0.1, 0.11, body)
        sp.ellipse(x, 0.56, 0.11, 0.07, body, line=False)
    sp.taper([(-0.3, 0.64), (-0.36, 0.5), (-0.35, 0.42)], 0.025, 0.015, body)
    sp.arc(hx + 0.1, hy - 0.08, 0.04, 0.02, 20, 160, sp.ink)


def _hippo(sp: _Sprite, t: _Traits) -> None:
    """A round hippo: a barrel of a body on four stumpy legs, a huge square muzzle, tiny ears on top."""
    for x in (-0.2, 0.14):
        sp.rect(x - 0.06, 0.0, x + 0.06, 0.2, t.dark, radius=0.03)
    sp.ellipse(-0.04, 0.32, 0.34, 0.22, t.main)
    sp.ellipse(-0.02, 0.24, 0.24, 0.1, t.light, line=False)
    for x in (-0.26, 0.1):
        sp.rect(x - 0.065, 0.0, x + 0.065, 0.22, t.main, radius=0.03)
    sp.ellipse(0.24, 0.44, 0.15, 0.14, t.main)
    sp.rect(0.26, 0.28, 0.5, 0.46, t.main, radius=0.08)  # the big muzzle
    for dx in (0.0, 0.07):
        sp.ellipse(0.42 + dx, 0.42, 0.015, 0.02, t.dark, line=False)
    sp.rect(0.36, 0.29, 0.39, 0.33, WHITE, radius=0.01)  # a tooth
    for x in (0.16, 0.24):
        sp.ellipse(x, 0.58, 0.035, 0.03, t.main)
    _eye(sp, 0.27, 0.52, 0.028)
    sp.ellipse(0.32, 0.38, 0.04, 0.025, mix(t.main, PINK, 0.55), line=False)


def _crocodile(sp: _Sprite, t: _Traits) -> None:
    """A long low crocodile: a tail tapering behind, short bent legs, bumpy back, a long toothy snout."""
    sp.taper([(-0.1, 0.16), (-0.4, 0.12), (-0.62, 0.06)], 0.16, 0.03, t.main)
    for x in (-0.12, 0.16):
        sp.tube([(x, 0.14), (x + 0.04, 0.04), (x + 0.08, 0.02)], 0.05, t.dark)
    sp.ellipse(0.02, 0.17, 0.26, 0.1, t.main)
    sp.chord(0.02, 0.15, 0.24, 0.06, 0, 180, t.light)
    for x in (-0.5, -0.38, -0.26, -0.14, -0.02, 0.1, 0.2):  # bumps along the back
        sp.chord(x, 0.22 - (0.08 if x < -0.2 else 0.0) * (-0.2 - x) / 0.3, 0.035, 0.04, 180, 360, t.dark)
    for x in (-0.18, 0.1):
        sp.tube([(x, 0.12), (x + 0.05, 0.03), (x + 0.1, 0.01)], 0.05, t.main)
    sp.polygon([(0.22, 0.24), (0.6, 0.16), (0.62, 0.12), (0.22, 0.08)], t.main)  # the long snout
    sp.stroke([(0.26, 0.14), (0.6, 0.14)], sp.ink)
    for x in (0.3, 0.38, 0.46, 0.54):  # teeth
        sp.polygon([(x, 0.14), (x + 0.015, 0.115), (x + 0.03, 0.14)], WHITE, line=False)
    sp.ellipse(0.27, 0.27, 0.05, 0.04, t.main)
    _eye(sp, 0.28, 0.28, 0.022)


def _kangaroo(sp: _Sprite, t: _Traits) -> None:
    """Upright on long feet, with a thick tail behind, small arms, a pouch and tall ears."""
    sp.taper([(-0.08, 0.2), (-0.3, 0.08), (-0.5, 0.02)], 0.13, 0.04, t.main)
    sp.ellipse(0.06, 0.03, 0.14, 0.035, t.dark)  # the long feet
    sp.ellipse(-0.02, 0.14, 0.12, 0.12, t.dark)  # the haunch
    sp.oval(0.02, 0.38, 0.16, 0.26, -8, t.main)
    sp.ellipse(0.07, 0.3, 0.09, 0.12, t.light)
    sp.arc(0.07, 0.32, 0.07, 0.04, 20, 160, mix(t.light, INK, 0.4))  # the pouch's edge
    sp.tube([(0.1, 0.5), (0.2, 0.44), (0.22, 0.4)], 0.035, t.main)
    hx, hy = 0.1, 0.74
    for dx, angle in ((-0.06, 15), (0.01, -5)):
        sp.oval(hx + dx, hy + 0.13, 0.035, 0.1, angle, t.main)
    sp.oval(hx + 0.04, hy, 0.08, 0.12, -70, t.main)
    sp.ellipse(hx + 0.15, hy - 0.02, 0.02, 0.015, INK, line=False)
    _eye(sp, hx + 0.03, hy + 0.03, 0.025)


def _koala(sp: _Sprite, t: _Traits) -> None:
    """A round grey koala: huge fluffy ears, a big dark nose, sitting upright."""
    grey = mix(t.main, (170, 170, 176), 0.55)
    tt = _Traits(grey, mix(grey, WHITE, 0.6), mix(grey, (40, 30, 40), 0.3), t.ink, t.skin, t.hair, t.variant)
    hx, hy, r = 0.03, 0.64, 0.23
    _body(sp, tt, rx=0.21, ry=0.24)
    for x in (hx - 0.22, hx + 0.2):
        sp.ellipse(x, hy + 0.1, 0.12, 0.11, grey)
        sp.ellipse(x, hy + 0.1, 0.07, 0.06, WOOL, line=False)
    sp.ellipse(hx, hy, r, r * 0.92, grey)
    sp.oval(hx + 0.08, hy - 0.06, 0.05, 0.08, 0, (60, 56, 64))  # the big nose
    _face(sp, hx - 0.06, hy + 0.02, r, grey, mouth=False)


def _otter(sp: _Sprite, t: _Traits) -> None:
    """A sleek otter standing up: a long body, a thick tapering tail, small round ears and whiskers."""
    sp.taper([(-0.08, 0.1), (-0.26, 0.04), (-0.44, 0.06)], 0.1, 0.03, t.main)
    for dx in (-0.06, 0.08):
        sp.ellipse(dx, 0.03, 0.06, 0.03, t.dark)
    sp.oval(0.0, 0.3, 0.13, 0.28, -5, t.main)
    sp.oval(0.04, 0.32, 0.07, 0.2, -5, t.light, line=False)
    sp.oval(0.1, 0.42, 0.03, 0.06, 40, t.dark)  # paws held together
    sp.oval(0.13, 0.44, 0.03, 0.06, 50, t.main)
    hx, hy = 0.04, 0.64
    for x in (hx - 0.1, hx + 0.08):
        sp.ellipse(x, hy + 0.1, 0.035, 0.03, t.main)
    sp.ellipse(hx, hy, 0.13, 0.11, t.main)
    sp.ellipse(hx + 0.08, hy - 0.04, 0.07, 0.05, t.light, line=False)
    sp.ellipse(hx + 0.12, hy - 0.02, 0.025, 0.018, INK, line=False)
    _whiskers(sp, hx + 0.12, hy - 0.05, 0.08)
    _face(sp, hx - 0.04, hy + 0.02, 0.13, t.main, mouth=False)


def _badger(sp: _Sprite, t: _Traits) -> None:
    """A low, wide badger on all fours: grey body, a white-striped black face."""
    grey = mix(t.main, (150, 150, 156), 0.6)
    for x in (-0.2, 0.12):
        sp.rect(x - 0.04, 0.0, x + 0.04, 0.14, BLACK, radius=0.02)
    sp.ellipse(-0.04, 0.22, 0.3, 0.13, grey)
    sp.polygon([(-0.32, 0.24), (-0.4, 0.2), (-0.32, 0.18)], grey)
    for x in (-0.24, 0.16):
        sp.rect(x - 0.045, 0.0, x + 0.045, 0.15, BLACK, radius=0.02)
    hx, hy = 0.3, 0.22
    sp.polygon([(hx - 0.1, hy + 0.1), (hx + 0.2, hy - 0.02), (hx + 0.2, hy - 0.06), (hx - 0.1, hy - 0.08)], BLACK)
    sp.polygon([(hx - 0.08, hy + 0.06), (hx + 0.19, hy - 0.03), (hx - 0.08, hy + 0.0)], WHITE, line=False)
    sp.ellipse(hx - 0.08, hy + 0.1, 0.035, 0.03, WHITE)
    sp.ellipse(hx + 0.2, hy - 0.04, 0.022, 0.02, INK, line=False)
    _eye(sp, hx + 0.04, hy + 0.02, 0.018)


def _raccoon(sp: _Sprite, t: _Traits) -> None:
    """Upright, grey, with a black eye mask and a fat ringed tail."""
    grey = mix(t.main, (150, 150, 160), 0.6)
    tt = _Traits(grey, mix(grey, WHITE, 0.6), mix(grey, (40, 30, 40), 0.35), t.ink, t.skin, t.hair, t.variant)
    sp.taper([(-0.12, 0.16), (-0.3, 0.22), (-0.42, 0.4)], 0.13, 0.08, grey)
    for k in range(3):
        x, y = -0.22 - 0.07 * k, 0.2 + 0.07 * k
        sp.stroke([(x - 0.04, y + 0.04), (x + 0.04, y - 0.04)], BLACK, 0.03)
    _body(sp, tt, rx=0.19, ry=0.23)
    hx, hy, r = 0.04, 0.6, 0.2
    for x in (hx - 0.14, hx + 0.12):
        sp.polygon([(x - 0.06, hy + 0.12), (x, hy + 0.26), (x + 0.06, hy + 0.12)], grey)
    sp.ellipse(hx, hy, r, r * 0.9, grey)
    sp.polygon([(hx - 0.12, hy + 0.06), (hx + 0.2, hy + 0.06), (hx + 0.2, hy - 0.04), (hx - 0.12, hy - 0.02)], BLACK)
    sp.ellipse(hx + 0.12, hy - 0.1, 0.1, 0.06, WHITE, line=False)
    sp.ellipse(hx + 0.2, hy - 0.08, 0.025, 0.02, INK, line=False)
    for cx in (hx + 0.02, hx + 0.12):
        sp.ellipse(cx, hy + 0.02, 0.025, 0.03, WHITE, line=False)
        sp.ellipse(cx + 0.005, hy + 0.02, 0.013, 0.017, INK, line=False)


def _beaver(sp: _Sprite, t: _Traits) -> None:
    """A round brown beaver: a flat, cross-hatched paddle of a tail and two big front teeth."""
    tail = mix(t.main, (70, 50, 40), 0.6)
    sp.oval(-0.32, 0.08, 0.08, 0.17, 70, tail)
    for k in (-1, 0, 1):
        sp.stroke([(-0.44, 0.06 + 0.03 * k), (-0.2, 0.1 + 0.03 * k)], mix(tail, INK, 0.4))
    _body(sp, t, rx=0.21, ry=0.25)
    hx, hy, r = 0.04, 0.62, 0.2
    for x in (hx - 0.14, hx + 0.12):
        sp.ellipse(x, hy + 0.16, 0.04, 0.04, t.main)
    sp.ellipse(hx, hy, r, r * 0.92, t.main)
    sp.ellipse(hx + 0.1, hy - 0.08, 0.1, 0.07, t.light)
    sp.ellipse(hx + 0.15, hy - 0.04, 0.035, 0.025, INK, line=False)
    sp.rect(hx + 0.07, hy - 0.22, hx + 0.14, hy - 0.13, WHITE, radius=0.01)  # the teeth
    sp.stroke([(hx + 0.105, hy - 0.22), (hx + 0.105, hy - 0.13)], sp.ink)
    _face(sp, hx - 0.04, hy + 0.02, r, t.main, mouth=False)


def _mole(sp: _Sprite, t: _Traits) -> None:
    """A velvety dark mole: a pear of a body, big pink digging paws, a long pink nose and tiny eyes."""
    fur = mix(t.main, (70, 62, 70), 0.7)
    sp.polygon(_smooth([(-0.24, 0.04), (-0.26, 0.3), (-0.1, 0.5), (0.12, 0.5), (0.26, 0.28), (0.22, 0.04)],
                       closed=True), fur)  # fmt: skip
    for x, y in ((-0.2, 0.22), (0.22, 0.24)):  # the wide digging paws
        sp.ellipse(x, y, 0.08, 0.06, PINK)
        for k in range(3):
            sp.stroke([(x - 0.04 + 0.04 * k, y + 0.04), (x - 0.05 + 0.05 * k, y + 0.08)], sp.ink, 0.012)
    sp.oval(0.16, 0.44, 0.04, 0.11, -70, PINK)  # the nose
    sp.ellipse(0.26, 0.47, 0.02, 0.02, (220, 110, 130), line=False)
    for x in (0.02, 0.1):
        sp.ellipse(x, 0.5, 0.012, 0.008, INK, line=False)
    for dx in (-0.06, 0.08):
        sp.ellipse(dx, 0.03, 0.06, 0.03, PINK)


def _panda(sp: _Sprite, t: _Traits) -> None:
    """A bear in black and white: black ears, eye patches, arms and legs."""
    black = mix(t.main, BLACK, 0.85)
    hx, hy, r = 0.03, 0.66, 0.24
    for dx in (-0.09, 0.1):
        sp.ellipse(dx + 0.02, 0.05, 0.09, 0.06, black)
    sp.oval(-0.2, 0.3, 0.06, 0.12, -25, black)
    sp.ellipse(0.0, 0.27, 0.24, 0.28, WOOL)
    sp.chord(0.0, 0.3, 0.24, 0.14, 180, 360, black)  # the black shoulders
    sp.oval(0.2, 0.3, 0.06, 0.12, 30, black)
    for x, y in ((hx - 0.16, hy + 0.18), (hx + 0.15, hy + 0.19)):
        sp.ellipse(x, y, 0.08, 0.08, black)
    sp.ellipse(hx, hy, r, r * 0.95, WOOL)
    for x, k in ((hx + 0.06, 0.9), (hx + 0.16, 1.0)):
        sp.oval(x, hy + 0.01, 0.045 * k, 0.065 * k, -30, black, line=False)
        sp.ellipse(x + 0.005, hy + 0.02, 0.018, 0.022, WHITE, line=False)
        sp.ellipse(x + 0.008, hy + 0.02, 0.01, 0.013, INK, line=False)
    sp.ellipse(hx + 0.13, hy - 0.08, 0.04, 0.03, INK, line=False)
    sp.arc(hx + 0.12, hy - 0.13, 0.04, 0.03, 20, 160, sp.ink)
    bamboo = (120, 180, 80)
    sp.tube([(0.3, 0.1), (0.34, 0.6), (0.36, 0.98)], 0.035, bamboo)  # a stalk of bamboo in its paw
    for y in (0.3, 0.55, 0.8):
        sp.stroke([(0.31 + y * 0.05, y), (0.35 + y * 0.05, y)], mix(bamboo, INK, 0.4))
    sp.oval(0.42, 0.88, 0.03, 0.08, -50, bamboo)
    sp.oval(0.26, 0.6, 0.06, 0.08, 30, black)


def _dinosaur(sp: _Sprite, t: _Traits) -> None:
    """A long-necked dinosaur: four pillar legs, a long tail, a long neck with a small head, plates on its back;
    no wings (that is a dragon)."""
    sp.taper([(-0.2, 0.4), (-0.44, 0.3), (-0.64, 0.16), (-0.74, 0.14)], 0.16, 0.02, t.main)
    for x in (-0.14, 0.12):
        sp.rect(x - 0.05, 0.0, x + 0.05, 0.3, t.dark, radius=0.03)
    for x in (-0.22, -0.08, 0.06):  # plates along the back
        sp.polygon([(x - 0.05, 0.6), (x, 0.7), (x + 0.05, 0.6)], t.light)
    sp.ellipse(-0.04, 0.44, 0.28, 0.18, t.main)
    sp.chord(-0.02, 0.4, 0.22, 0.1, 0, 180, t.light)
    for x in (-0.2, 0.06):
        sp.rect(x - 0.055, 0.0, x + 0.055, 0.32, t.main, radius=0.03)
    sp.taper([(0.16, 0.5), (0.28, 0.68), (0.34, 0.88), (0.38, 0.98)], 0.14, 0.08, t.main)
    sp.ellipse(0.43, 1.0, 0.09, 0.06, t.main)
    _eye(sp, 0.44, 1.02, 0.02)
    sp.arc(0.48, 0.98, 0.04, 0.02, 20, 160, sp.ink)


# sea creatures


def _crab(sp: _Sprite, t: _Traits) -> None:
    """A wide crab: a round shell, eyes on stalks, two big claws raised, four legs a side."""
    for side in (-1, 1):
        for k in range(3):
            x = side * (0.16 + 0.05 * k)
            sp.tube([(x, 0.16), (x + side * 0.08, 0.14), (x + side * 0.1, 0.02)], 0.025, t.dark)
        sp.tube([(side * 0.2, 0.24), (side * 0.3, 0.36), (side * 0.32, 0.46)], 0.04, t.main)
        sp.ellipse(side * 0.33, 0.52, 0.07, 0.08, t.main)
        sp.polygon([(side * 0.33, 0.56), (side * 0.34, 0.64), (side * 0.29, 0.6)], t.main)  # the pincer
    sp.ellipse(0.0, 0.22, 0.24, 0.14, t.main)
    sp.chord(0.0, 0.2, 0.2, 0.08, 0, 180, t.light)
    for x in (-0.06, 0.06):
        sp.stroke([(x, 0.32), (x, 0.42)], t.main, 0.02)
        sp.ellipse(x, 0.44, 0.035, 0.035, WHITE)
        sp.ellipse(x + 0.005, 0.44, 0.018, 0.022, INK, line=False)
    sp.arc(0.0, 0.24, 0.06, 0.03, 20, 160, sp.ink)


def _seahorse(sp: _Sprite, t: _Traits) -> None:
    """Upright and curled: a tail coiled below, a ridged belly, a crest and a long tube snout."""
    pts = [(0.0, 0.8), (-0.08, 0.6), (-0.04, 0.4), (0.04, 0.22), (0.0, 0.08), (-0.08, 0.06), (-0.08, 0.14)]
    sp.taper(pts, 0.18, 0.03, t.main)
    for y in (0.44, 0.52, 0.6):
        sp.arc(-0.02, y, 0.06, 0.03, 20, 160, t.light)
    sp.oval(-0.1, 0.5, 0.04, 0.08, 20, t.light)  # the back fin
    sp.ellipse(0.02, 0.84, 0.1, 0.09, t.main)
    sp.polygon([(0.08, 0.86), (0.26, 0.8), (0.26, 0.76), (0.08, 0.78)], t.main)  # the snout
    for k in range(3):  # the crest
        sp.polygon([(-0.04 + 0.03 * k, 0.91), (-0.03 + 0.03 * k, 0.98), (-0.01 + 0.03 * k, 0.91)], t.dark)
    _eye(sp, 0.04, 0.85, 0.025)


def _jellyfish(sp: _Sprite, t: _Traits) -> None:
    """A floating bell with a frilled edge and long wavy trailing tentacles."""
    pale = mix(t.main, WHITE, 0.35)
    for k, x in enumerate((-0.12, -0.06, 0.0, 0.06, 0.12)):
        wave = [(x + 0.03 * math.sin(j + k), 0.5 - 0.08 * j) for j in range(6)]
        sp.stroke(wave, mix(t.main, INK, 0.2), 0.016)
    for x in (-0.05, 0.05):
        sp.taper([(x, 0.5), (x + 0.03, 0.36), (x - 0.02, 0.24)], 0.05, 0.02, pale)
    sp.chord(0.0, 0.5, 0.22, 0.24, 180, 360, t.main)
    for k in range(6):
        sp.ellipse(-0.18 + 0.072 * k, 0.5, 0.038, 0.025, pale)
    sp.ellipse(-0.08, 0.64, 0.05, 0.035, WHITE, line=False)
    _face(sp, -0.04, 0.58, 0.14, t.main)


def _shark(sp: _Sprite, t: _Traits) -> None:
    """A friendly shark: a long torpedo body, a tall dorsal fin, a crescent tail, gill slits and a toothy grin."""
    body = mix(t.main, (140, 150, 170), 0.6)
    y = 0.4
    sp.polygon([(-0.34, y), (-0.56, y + 0.24), (-0.48, y), (-0.54, y - 0.14)], body)  # the crescent tail
    sp.polygon([(-0.08, y + 0.14), (0.04, y + 0.36), (0.1, y + 0.14)], body)  # the dorsal fin
    sp.polygon(_smooth([(-0.38, y), (-0.1, y + 0.16), (0.24, y + 0.12), (0.42, y - 0.02), (0.24, y - 0.12),
                        (-0.1, y - 0.12)], closed=True), body)  # fmt: skip
    sp.chord(0.04, y - 0.04, 0.34, 0.08, 0, 180, WOOL)
    sp.oval(0.02, y - 0.1, 0.04, 0.1, 60, mix(body, INK, 0.2))  # the pectoral fin
    for x in (0.12, 0.16, 0.2):
        sp.stroke([(x, y + 0.04), (x - 0.01, y - 0.04)], sp.ink)
    sp.arc(0.32, y - 0.03, 0.08, 0.04, 20, 160, sp.ink)
    for x in (0.27, 0.31, 0.35):
        sp.polygon([(x, y - 0.045), (x + 0.012, y - 0.075), (x + 0.024, y - 0.045)], WHITE, line=False)
    _eye(sp, 0.3, y + 0.05, 0.025)


def _dolphin(sp: _Sprite, t: _Traits) -> None:
    """A dolphin leaping: an arched body, a curved dorsal fin, a beak of a snout and a tail fluke."""
    body = mix(t.main, (120, 160, 200), 0.5)
    sp.taper([(-0.4, 0.5), (-0.2, 0.62), (0.08, 0.64), (0.28, 0.52)], 0.06, 0.2, body)
    sp.polygon([(-0.4, 0.5), (-0.52, 0.62), (-0.44, 0.48), (-0.5, 0.36)], body)  # the fluke
    sp.polygon([(-0.08, 0.72), (-0.02, 0.86), (0.04, 0.72)], body)  # the dorsal fin
    sp.ellipse(0.26, 0.52, 0.13, 0.11, body)
    sp.polygon([(0.34, 0.5), (0.48, 0.46), (0.46, 0.42), (0.34, 0.44)], body)  # the beak
    sp.chord(0.16, 0.5, 0.16, 0.06, 0, 180, WOOL)
    sp.oval(0.1, 0.5, 0.03, 0.08, 50, mix(body, INK, 0.2))
    _eye(sp, 0.3, 0.55, 0.022)
    sp.arc(0.38, 0.46, 0.06, 0.025, 20, 120, sp.ink)


def _seal(sp: _Sprite, t: _Traits) -> None:
    """A seal propped on its front flippers: a smooth teardrop body, a round whiskered face."""
    grey = mix(t.main, (160, 164, 176), 0.6)
    sp.polygon([(-0.34, 0.05), (-0.5, 0.14), (-0.44, 0.04), (-0.5, 0.0)], grey)  # the tail flippers
    sp.polygon(_smooth([(-0.48, 0.02), (-0.2, 0.16), (0.06, 0.34), (0.2, 0.34), (0.22, 0.1), (0.0, 0.0)],
                       closed=True), grey)  # fmt: skip
    sp.oval(0.12, 0.06, 0.04, 0.09, -30, mix(grey, INK, 0.2))  # a front flipper
    hx, hy = 0.16, 0.44
    sp.ellipse(hx, hy, 0.13, 0.12, grey)
    sp.ellipse(hx + 0.08, hy - 0.04, 0.06, 0.045, mix(grey, WHITE, 0.5), line=False)
    sp.ellipse(hx + 0.11, hy - 0.01, 0.022, 0.016, INK, line=False)
    _whiskers(sp, hx + 0.1, hy - 0.05, 0.09)
    _face(sp, hx - 0.04, hy + 0.02, 0.12, grey, mouth=False)


def _starfish(sp: _Sprite, t: _Traits) -> None:
    """Five plump arms standing on two of them, dotted, with a face in the middle."""
    pts = []
    for k in range(10):
        a = math.pi / 2 + k * math.pi / 5
        rr = 0.3 if k % 2 == 0 else 0.13
        pts.append((rr * math.cos(a), 0.3 + rr * math.sin(a)))
    sp.polygon(_smooth(pts, rounds=2, closed=True), t.main)
    for k in range(5):
        a = math.pi / 2 + k * 2 * math.pi / 5
        for d in (0.14, 0.21):
            sp.ellipse(d * math.cos(a), 0.3 + d * math.sin(a), 0.014, 0.014, t.light, line=False)
    _face(sp, -0.05, 0.3, 0.12, t.main)


# birds: wings, a beak and thin legs, in different proportions


def _fowl(sp: _Sprite, t: _Traits, neck: float, comb: bool, bill: RGB, legs: RGB) -> None:
    """A plump farm bird standing: a fan of a tail, a folded wing, a neck ``neck`` long, a beak; with ``comb``
    a red comb and wattle (a hen), else a long neck and a flat bill with a knob (a goose)."""
    for dx in (-0.04, 0.06):
        sp.stroke([(dx, 0.16), (dx, 0.02), (dx + 0.06, 0.0)], legs, 0.022)
    body_y = 0.28
    if comb:
        for k, angle in enumerate((50, 30, 10)):
            sp.oval(-0.22 - 0.02 * k, body_y + 0.16, 0.05, 0.13, angle, t.dark)
    else:
        sp.polygon([(-0.24, body_y + 0.04), (-0.36, body_y + 0.12), (-0.3, body_y - 0.02)], t.main)
    sp.ellipse(-0.02, body_y, 0.25, 0.16, t.main)
    sp.oval(-0.06, body_y + 0.02, 0.15, 0.08, 10, t.dark)  # the folded wing
    hx, hy = 0.16, body_y + 0.14 + neck
    sp.taper([(0.12, body_y + 0.08), (0.15, body_y + 0.1 + neck * 0.5), (hx, hy)], 0.14, 0.1, t.main)
    sp.ellipse(hx, hy, 0.1, 0.09, t.main)
    if comb:
        for k in range(3):
            sp.ellipse(hx - 0.05 + 0.045 * k, hy + 0.09, 0.03, 0.035, (225, 50, 50))
        sp.ellipse(hx + 0.08, hy - 0.08, 0.025, 0.04, (225, 50, 50))  # the wattle
        sp.polygon([(hx + 0.08, hy + 0.01), (hx + 0.17, hy - 0.02), (hx + 0.08, hy - 0.05)], bill)
    else:
        sp.polygon(
            [(hx + 0.07, hy + 0.02), (hx + 0.22, hy - 0.02), (hx + 0.22, hy - 0.05), (hx + 0.07, hy - 0.05)], bill
        )
        sp.ellipse(hx + 0.08, hy + 0.02, 0.025, 0.02, bill)
    _eye(sp, hx + 0.03, hy + 0.02, 0.022)


def _butterfly(sp: _Sprite, t: _Traits) -> None:
    """Hovering: two pairs of big spotted wings, a thin body and curled antennae."""
    y = 0.5
    for angle, dx, k in ((30, -0.12, 1.0), (-20, 0.06, 0.85)):
        sp.oval(dx, y + 0.12, 0.11 * k, 0.17 * k, angle, t.main)
        sp.ellipse(dx, y + 0.14, 0.04 * k, 0.04 * k, t.light, line=False)
        sp.oval(dx * 0.8, y - 0.06, 0.07 * k, 0.1 * k, angle + 40, t.dark)
    sp.oval(-0.02, y, 0.03, 0.16, -60, BLACK)
    sp.ellipse(0.12, y + 0.08, 0.05, 0.05, BLACK)
    for dx in (0.0, 0.04):
        sp.stroke([(0.13 + dx, y + 0.12), (0.17 + dx, y + 0.24), (0.2 + dx, y + 0.24)], BLACK, 0.01)
    sp.ellipse(0.14, y + 0.09, 0.014, 0.016, WHITE, line=False)


def _caterpillar(sp: _Sprite, t: _Traits) -> None:
    """A row of round segments, its head raised, with stubby feet and two antennae."""
    for k in range(6):
        x, y = -0.36 + 0.1 * k, 0.08 + (0.02 if k % 2 else 0.0)
        sp.ellipse(x, 0.02, 0.02, 0.015, t.dark)
        sp.ellipse(x, y, 0.075, 0.075, t.main if k % 2 else mix(t.main, t.light, 0.4))
    hx, hy = 0.28, 0.22
    for dx in (-0.02, 0.03):
        sp.stroke([(hx + dx, hy + 0.08), (hx + dx + 0.02, hy + 0.18)], sp.ink, 0.012)
        sp.ellipse(hx + dx + 0.02, hy + 0.19, 0.018, 0.018, t.dark)
    sp.ellipse(hx, hy, 0.1, 0.1, t.main)
    _face(sp, hx - 0.04, hy, 0.1, t.main)


def _ant(sp: _Sprite, t: _Traits) -> None:
    """Three body parts in a row, six thin bent legs, elbowed antennae."""
    dark = mix(t.main, BLACK, 0.6)
    for k in range(3):
        x = -0.06 + 0.08 * k
        sp.stroke([(x, 0.18), (x - 0.06 + 0.04 * k, 0.12), (x - 0.08 + 0.06 * k, 0.0)], sp.ink, 0.014)
    sp.ellipse(-0.2, 0.2, 0.13, 0.1, dark)
    sp.ellipse(0.01, 0.2, 0.08, 0.06, dark)
    sp.ellipse(0.18, 0.26, 0.09, 0.085, dark)
    for dx in (0.0, 0.04):
        sp.stroke([(0.2 + dx, 0.32), (0.22 + dx, 0.42), (0.3 + dx, 0.46)], sp.ink, 0.012)
    _eye(sp, 0.21, 0.28, 0.02)


def _spider(sp: _Sprite, t: _Traits) -> None:
    """A round spider: a big round body, a small head with many eyes, eight bent legs."""
    dark = mix(t.main, BLACK, 0.55)
    for side in (-1, 1):
        for k in range(4):
            x0 = side * (0.04 + 0.03 * k)
            sp.stroke([(x0, 0.24), (side * (0.18 + 0.06 * k), 0.36 - 0.02 * k), (side * (0.24 + 0.07 * k), 0.0)],
                      dark, 0.02)  # fmt: skip
    sp.ellipse(-0.04, 0.3, 0.16, 0.14, dark)
    sp.ellipse(-0.06, 0.36, 0.05, 0.04, t.main, line=False)
    sp.ellipse(0.14, 0.24, 0.09, 0.08, dark)
    for x, y in ((0.14, 0.27), (0.19, 0.27), (0.12, 0.23), (0.2, 0.23)):
        sp.ellipse(x, y, 0.016, 0.016, WHITE, line=False)
        sp.ellipse(x + 0.004, y, 0.008, 0.008, INK, line=False)


# made-up beings


def _alien(sp: _Sprite, t: _Traits) -> None:
    """A little alien: a big egg of a head with three eyes, antennae with glowing tips, a small body."""
    for dx in (-0.06, 0.06):
        sp.rect(dx - 0.03, 0.02, dx + 0.03, 0.2, t.dark, radius=0.02)
        sp.ellipse(dx + 0.02, 0.03, 0.05, 0.03, t.dark)
    sp.tube([(-0.1, 0.34), (-0.22, 0.22)], 0.04, t.main)
    sp.oval(0.0, 0.3, 0.11, 0.14, 0, t.main)
    sp.tube([(0.1, 0.34), (0.22, 0.44)], 0.04, t.main)
    for dx in (-0.08, 0.08):
        sp.stroke([(dx, 0.78), (dx * 2, 0.92)], sp.ink, 0.014)
        sp.ellipse(dx * 2, 0.93, 0.03, 0.03, (250, 240, 120))
    sp.oval(0.0, 0.6, 0.22, 0.2, 0, t.main)
    for x, y, r in ((-0.08, 0.62, 0.05), (0.08, 0.62, 0.05), (0.0, 0.7, 0.035)):
        sp.ellipse(x, y, r, r * 1.2, WHITE)
        sp.ellipse(x + 0.01, y, r * 0.5, r * 0.6, INK, line=False)
    sp.arc(0.0, 0.52, 0.07, 0.03, 20, 160, sp.ink)


def _ghost(sp: _Sprite, t: _Traits) -> None:
    """A friendly ghost floating above the ground: a sheet with a wavy hem, little arms, a round mouth."""
    sheet = mix(t.main, WHITE, 0.8)
    pts = [(-0.2, 0.24), (-0.22, 0.6), (-0.12, 0.82), (0.06, 0.84), (0.2, 0.66), (0.22, 0.24)]
    hem = [(0.22 - 0.44 * k / 8, 0.24 + (0.04 if k % 2 else -0.02)) for k in range(9)]
    sp.polygon(_smooth(pts, rounds=2) + hem, sheet)
    sp.oval(-0.24, 0.5, 0.04, 0.08, 40, sheet)
    sp.oval(0.24, 0.5, 0.04, 0.08, -40, sheet)
    for x in (-0.04, 0.08):
        sp.ellipse(x, 0.62, 0.03, 0.045, INK, line=False)
    sp.ellipse(0.02, 0.5, 0.03, 0.035, INK, line=False)
    sp.ellipse(-0.1, 0.54, 0.035, 0.02, mix(sheet, PINK, 0.5), line=False)


def _monster(sp: _Sprite, t: _Traits) -> None:
    """A big furry monster: a shaggy body with a fringe of fur, two curved horns, one big eye and two fangs."""
    for dx in (-0.12, 0.12):
        sp.ellipse(dx, 0.05, 0.1, 0.05, t.dark)
        for k in range(3):
            sp.polygon(
                [(dx - 0.05 + 0.04 * k, 0.02), (dx - 0.04 + 0.04 * k, -0.02), (dx - 0.03 + 0.04 * k, 0.02)], WHITE
            )
    body = [(-0.28, 0.06), (-0.32, 0.4), (-0.2, 0.7), (0.2, 0.7), (0.32, 0.4), (0.28, 0.06)]
    sp.polygon(_smooth(body, rounds=2, closed=True), t.main)
    for k in range(9):  # the shaggy fringe along the bottom
        x = -0.26 + 0.065 * k
        sp.polygon([(x - 0.03, 0.1), (x, 0.03), (x + 0.03, 0.1)], t.main, line=False)
    for side in (-1, 1):
        sp.taper([(side * 0.14, 0.66), (side * 0.22, 0.8), (side * 0.16, 0.9)], 0.06, 0.015, HORN)
        sp.tube([(side * 0.28, 0.44), (side * 0.38, 0.34)], 0.07, t.main)
    sp.ellipse(0.0, 0.5, 0.1, 0.1, WHITE)
    sp.ellipse(0.02, 0.5, 0.05, 0.06, INK, line=False)
    sp.ellipse(0.04, 0.52, 0.018, 0.018, WHITE, line=False)
    sp.chord(0.0, 0.34, 0.12, 0.06, 0, 180, (120, 40, 60))
    for x in (-0.06, 0.05):
        sp.polygon([(x, 0.34), (x + 0.015, 0.3), (x + 0.03, 0.34)], WHITE)


def _snowman(sp: _Sprite, t: _Traits) -> None:
    """Three snowballs, coal buttons and eyes, a carrot nose, stick arms, a scarf and a hat."""
    snow = (250, 252, 255)
    sp.ellipse(0.0, 0.2, 0.24, 0.2, snow)
    sp.stroke([(-0.14, 0.5), (-0.3, 0.6), (-0.36, 0.66)], (120, 80, 50), 0.02)
    sp.stroke([(0.14, 0.5), (0.3, 0.6), (0.34, 0.7)], (120, 80, 50), 0.02)
    sp.ellipse(0.0, 0.5, 0.17, 0.15, snow)
    for y in (0.44, 0.52, 0.6):
        sp.ellipse(0.03, y, 0.016, 0.016, INK, line=False)
    sp.ellipse(0.0, 0.76, 0.12, 0.11, snow)
    sp.rect(-0.13, 0.63, 0.13, 0.68, t.main, radius=0.02)  # the scarf
    sp.rect(0.04, 0.5, 0.09, 0.66, t.main, radius=0.02)
    sp.polygon([(0.06, 0.76), (0.2, 0.73), (0.06, 0.72)], ORANGE)
    for x in (-0.02, 0.06):
        sp.ellipse(x, 0.8, 0.014, 0.014, INK, line=False)
    sp.rect(-0.12, 0.85, 0.12, 0.88, BLACK)
    sp.rect(-0.08, 0.87, 0.08, 1.0, BLACK)


# --- from a species word to a drawing, and onto the page -------------------------------------------

SPECIES: dict[str, tuple[Callable[[_Sprite, _Traits], None], float]] = {  # drawing, height relative to a child
    "dragon": (_dragon, 1.0), "fox": (_fox, 0.82), "cat": (_cat, 0.72), "dog": (_dog, 0.8), "bear": (_bear, 1.0),
    "rabbit": (_rabbit, 0.72), "mouse": (_mouse, 0.55), "frog": (_frog, 0.55), "owl": (_owl, 0.66),
    "bird": (_bird, 0.5), "fish": (_fish, 0.55), "turtle": (_turtle, 0.55), "unicorn": (_unicorn, 1.05),
    "horse": (lambda sp, t: _unicorn(sp, t, horn=False), 1.05), "robot": (_robot, 0.92),
    "squid": (_squid, 0.8), "octopus": (_octopus, 0.75), "duck": (_duck, 0.5), "penguin": (_penguin, 0.62),
    "whale": (_whale, 0.9), "elephant": (_elephant, 1.2), "lion": (_lion, 0.95), "tiger": (_tiger, 0.95),
    "wolf": (_wolf, 0.9), "monkey": (_monkey, 0.72), "pig": (_pig, 0.7), "squirrel": (_squirrel, 0.55),
    "hedgehog": (_hedgehog, 0.5), "deer": (_deer, 1.0), "snail": (_snail, 0.45), "bee": (_bee, 0.45),
    "ladybug": (_ladybug, 0.42), "troll": (_troll, 1.1), "goat": (_goat, 0.85), "sheep": (_sheep, 0.75),
    "lamb": (lambda sp, t: _sheep(sp, t, lamb=True), 0.6), "cow": (_cow, 1.15), "giraffe": (_giraffe, 1.5),
    "zebra": (_zebra, 1.05), "camel": (_camel, 1.25), "hippo": (_hippo, 1.1), "crocodile": (_crocodile, 0.7),
    "kangaroo": (_kangaroo, 1.0), "koala": (_koala, 0.7), "otter": (_otter, 0.7), "badger": (_badger, 0.6),
    "raccoon": (_raccoon, 0.7), "beaver": (_beaver, 0.7), "mole": (_mole, 0.5), "panda": (_panda, 1.0),
    "dinosaur": (_dinosaur, 1.2), "crab": (_crab, 0.5), "seahorse": (_seahorse, 0.6),
    "jellyfish": (_jellyfish, 0.65), "shark": (_shark, 0.9), "dolphin": (_dolphin, 0.9), "seal": (_seal, 0.75),
    "starfish": (_starfish, 0.5), "chicken": (lambda sp, t: _fowl(sp, t, 0.06, True, GOLD, ORANGE), 0.55),
    "goose": (lambda sp, t: _fowl(sp, t, 0.26, False, ORANGE, ORANGE), 0.7), "butterfly": (_butterfly, 0.45),
    "caterpillar": (_caterpillar, 0.4), "ant": (_ant, 0.4), "spider": (_spider, 0.45), "alien": (_alien, 0.8),
    "ghost": (_ghost, 0.9), "monster": (_monster, 1.15), "snowman": (_snowman, 1.0),
    "creature": (_creature, 0.75),
}  # fmt: skip
HUMANS = {
    "girl", "boy", "child", "kid", "baby", "person", "human", "man", "woman", "grandma", "grandpa", "princess",
    "prince", "king", "queen", "wizard", "witch", "knight", "pirate", "fairy", "elf", "mermaid", "giant",
    "astronaut", "teacher",
}  # fmt: skip
HEIGHTS = {"giant": 1.35, "teacher": 1.25}  # humans not a child's height
ALIASES = {
    "kitten": "cat", "kitty": "cat", "puppy": "dog", "bunny": "rabbit", "hare": "rabbit",
    "rat": "mouse", "hamster": "mouse", "toad": "frog", "tortoise": "turtle", "pony": "horse",
    "dino": "dinosaur", "duckling": "duck", "chick": "bird", "parrot": "bird",
    "robin": "bird", "sparrow": "bird", "goldfish": "fish", "teddy": "bear",
    "cub": "bear", "girls": "girl", "boys": "boy", "children": "child", "piglet": "pig",
    "ape": "monkey", "cuttlefish": "squid", "fawn": "deer", "reindeer": "deer", "bumblebee": "bee",
    "ladybird": "ladybug", "ogre": "troll", "goblin": "troll", "octopi": "octopus", "octopuses": "octopus",
    "hen": "chicken", "rooster": "chicken", "gosling": "goose", "calf": "cow", "bull": "cow",
}  # fmt: skip


def species_drawing(species: str) -> tuple[str, float]:
    """The drawing used for a species word, and its height relative to a child: 'baby dragon' -> dragon,
    'puppy' -> dog, 'princess' -> a girl with a crown, anything unknown -> 'creature'."""
    words = [species.lower().strip(), *reversed(species.lower().split())]  # 'baby dragon': the last word
    for word in words:
        for singular in (word, word.removesuffix("s"), word.removesuffix("es")):  # 'cats', 'foxes'
            singular = ALIASES.get(singular, singular)
            if singular in HUMANS:
                return singular, HEIGHTS.get(singular, 1.0)
            if singular in SPECIES:
                return singular, SPECIES[singular][1]
    return "creature", SPECIES["creature"][1]


def _sprite(character: Character, size: float, line: int) -> _Sprite:
    traits = _Traits.of(character)
    kind, _ = species_drawing(character.species)
    sp = _Sprite(size, line, traits.ink)
    if kind in HUMANS:
        _human(sp, traits, kind)
    else:
        SPECIES[kind][0](sp, traits)
    return sp


def paint_characters(p: Painter, characters: list[Character], stage: Stage) -> None:
    """Stand the characters side by side in the foreground, turned towards the middle."""
    if not characters:
        return
    rng = p.rng
    n = len(characters)
    height = 0.44 * p.unit * min(1.0, (3 / n) ** 0.6)  # a child's height in pixels; crowds are drawn smaller
    centre = 0.5 + rng.uniform(-0.08, 0.08)
    span = min(0.72, 0.25 * (n - 1)) * (p.unit * 16 / 9) / p.w
    places = []
    for i, character in enumerate(characters):
        x = centre + (span * (i / (n - 1) - 0.5) if n > 1 else 0.0) + rng.uniform(-0.02, 0.02)
        y = stage.ground + rng.uniform(-0.025, 0.02)
        facing = rng.uniform() < 0.5 if n == 1 or (n % 2 and i == n // 2) else i < n / 2
        places.append((y, min(0.88, max(0.12, x)), facing, character))
    # the light on characters is a bit kinder than on the scenery, so they read even at night
    light = [min(1.0, c * 0.7 + 0.3) for c in p.light]
    for y, x, facing_right, character in sorted(places, key=lambda place: place[0]):
        _, scale = species_drawing(character.species)
        size = height * scale
        if stage.floating:
            cloud(p, x, y + 0.03, 0.45 * size / p.unit, (255, 255, 255), "near", alpha=250)
        else:
            p.ellipse(x, y, 0.3 * size / p.unit, 0.045 * size / p.unit, (30, 30, 50), None, line=False, alpha=60)
        sp = _sprite(character, size, p.line)
        box = sp.image.getbbox() or (0, 0, 1, 1)
        image = sp.image.crop(box)
        r, g, b, a = image.split()  # the scene's light, as one lookup table per channel
        image = Image.merge(
            "RGBA",
            [band.point([round(v * k) for v in range(256)]) for band, k in zip((r, g, b), light, strict=True)] + [a],
        )
        left = x * p.w - sp.ox + box[0]
        if not facing_right:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            left = x * p.w + sp.ox - box[2]
        p.image.paste(image, (round(left), round(y * p.h - sp.oy + box[1])), image)
