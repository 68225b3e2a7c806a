"""The canvas toolkit of the preview illustrations: the scene's light and a painter that works in frame fractions.

Every coordinate is a fraction of the frame, so 64x36 (tests) and 1920x1080 draw the same picture.
Positions are fractions of the width (x) and height (y, downwards); sizes are fractions of ``unit``, the
height of the largest 16:9 box in the frame, so shapes keep their proportions in any aspect ratio.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from storyreel.plan import Scene

RGB = tuple[int, int, int]
Light = tuple[float, float, float]
Depth = str | None  # the layer: "far", "mid" or "near"; None for a light source, which is not shaded

# --- light, and the colours every layer shares -------------------------------------------------------

# Per time of day: top of the sky, the horizon, and the light that falls on things (an RGB multiplier).
SKIES: dict[str, tuple[RGB, RGB, Light]] = {
    "dawn": ((120, 146, 208), (255, 200, 168), (1.0, 0.9, 0.86)),
    "day": ((92, 162, 232), (208, 234, 250), (1.0, 1.0, 1.0)),
    "dusk": ((62, 58, 128), (250, 152, 100), (1.0, 0.8, 0.7)),
    "night": ((12, 18, 50), (44, 62, 114), (0.5, 0.56, 0.82)),
}
# Per weather: how far the sky turns grey, and how much the light dims.
WEATHER_LIGHT: dict[str, tuple[float, float]] = {
    "clear": (0.0, 1.0),
    "cloudy": (0.35, 0.92),
    "rain": (0.6, 0.78),
    "snow": (0.5, 0.97),
    "wind": (0.1, 1.0),
    "fog": (0.55, 0.92),
    "storm": (0.75, 0.6),
}
# Atmospheric perspective: how much each layer takes the colour of the horizon.
HAZE = {"far": 0.5, "mid": 0.2, "near": 0.0}
FOG_HAZE = {"far": 0.85, "mid": 0.6, "near": 0.22}
# Under snow, how white each kind of surface turns.
SNOW_COVER = {"ground": 0.78, "foliage": 0.35, "roof": 0.7, "thing": 0.0}
SNOW: RGB = (244, 247, 252)
INK: RGB = (48, 36, 48)
WHITE: RGB = (252, 250, 246)


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def stable_hash(*parts: object) -> int:
    """A stable hash (Python's own is salted per process)."""
    return zlib.crc32("\x1f".join(str(p) for p in parts).encode())


@dataclass(frozen=True)
class Look:
    """The scene's light: sky colours, haze, the tint on everything, and what the weather adds."""

    sky_top: RGB
    sky_horizon: RGB
    light: Light
    haze: dict[str, float]
    snow: bool
    night: bool
    dim: bool  # windows and lamps glow

    @classmethod
    def of(cls, scene: Scene) -> Look:
        top, horizon, light = SKIES[scene.time_of_day]
        grey_amount, dim = WEATHER_LIGHT[scene.weather]
        night = scene.time_of_day == "night"
        grey = (34, 38, 52) if night else (132, 138, 150)
        storm = scene.weather == "storm"
        return cls(
            sky_top=mix(top, mix(grey, (40, 36, 60), 0.6 if storm else 0.0), grey_amount),
            sky_horizon=mix(horizon, mix(grey, (230, 232, 236), 0.0 if night else 0.5), grey_amount * 0.85),
            light=(light[0] * dim, light[1] * dim, light[2] * dim),
            haze=FOG_HAZE if scene.weather == "fog" else HAZE,
            snow=scene.weather == "snow",
            night=night,
            dim=night or scene.time_of_day == "dusk" or storm,
        )


# --- the painter: frame fractions in, shaded shapes out -----------------------------------------------


class Painter:
    """Draws on the supersampled canvas. x is a fraction of the width, y of the height, sizes of ``unit``.

    Colours go through :meth:`shade`: lit by the scene's light, hazed by depth, whitened by snow.
    Pass ``depth=None`` for light sources (lit windows, lamps, crystals) that ignore the light.
    """

    def __init__(self, image: Image.Image, look: Look, rng: np.random.Generator):
        self.image = image
        self.draw = ImageDraw.Draw(image, "RGBA")  # RGBA mode: translucent fills blend into the RGB canvas
        self.w, self.h = image.size
        self.unit = min(self.h, self.w * 9 / 16)
        self.line = max(1, round(0.0042 * self.unit))  # picture-book outline: about 3 px at 720p
        self.look = look
        self.light = look.light
        self.rng = rng

    def shade(self, color: RGB, depth: Depth = "near", kind: str = "thing") -> RGB:
        if depth is None:
            return color
        if self.look.snow:
            color = mix(color, SNOW, SNOW_COVER[kind])
        lit = (color[0] * self.light[0], color[1] * self.light[1], color[2] * self.light[2])
        lit = (min(255, round(lit[0])), min(255, round(lit[1])), min(255, round(lit[2])))
        return mix(lit, self.look.sky_horizon, self.look.haze[depth])

    def outline(self, fill: RGB, depth: Depth) -> RGB | None:
        if depth == "far":
            return None  # far things are soft silhouettes
        return mix(fill, INK, 0.45 if depth == "mid" else 0.6)

    def pen(self, color: RGB, depth: Depth, kind: str, line: bool) -> tuple[RGB, RGB | None, int]:
        """A shape's fill, outline (None: no outline) and outline width: thinner off the near layer."""
        fill = self.shade(color, depth, kind)
        width = self.line if depth == "near" else max(1, self.line // 2)
        return fill, self.outline(fill, depth) if line else None, width

    # The shapes: ``depth``, ``kind`` (what snow does to it) and ``line`` (outlined) are the same for all (:meth:`pen`).
    def ellipse(self, x: float, y: float, rx: float, ry: float, color: RGB,
                depth: Depth = "near", kind: str = "thing", line: bool = True, alpha: int = 255) -> None:  # fmt: skip
        fill, ink, width = self.pen(color, depth, kind, line)
        cx, cy, ax, ay = x * self.w, y * self.h, max(0.5, rx * self.unit), max(0.5, ry * self.unit)
        self.draw.ellipse([cx - ax, cy - ay, cx + ax, cy + ay], fill=(*fill, alpha), outline=ink, width=width)

    def polygon(self, points: list[tuple[float, float]], color: RGB,
                depth: Depth = "near", kind: str = "thing", line: bool = True, alpha: int = 255) -> None:  # fmt: skip
        fill, ink, _ = self.pen(color, depth, kind, line)
        pts = [(x * self.w, y * self.h) for x, y in points]  # (a polygon's outline is 1 px off the near layer)
        self.draw.polygon(pts, fill=(*fill, alpha), outline=ink, width=self.line if depth == "near" else 1)

    def rect(self, x0: float, y0: float, x1: float, y1: float, color: RGB,
             depth: Depth = "near", kind: str = "thing", line: bool = True, radius: float = 0.0) -> None:  # fmt: skip
        fill, ink, width = self.pen(color, depth, kind, line)
        box = [x0 * self.w, y0 * self.h, max(x0 * self.w, x1 * self.w), max(y0 * self.h, y1 * self.h)]
        self.draw.rounded_rectangle(box, radius=radius * self.unit, fill=fill, outline=ink, width=width)

    def line_through(self, points: list[tuple[float, float]], color: tuple[int, ...], width: float) -> None:
        """An unshaded stroke (rain, wind, lightning); ``width`` is a fraction of ``unit``."""
        pts = [(x * self.w, y * self.h) for x, y in points]
        self.draw.line(pts, fill=color, width=max(1, round(width * self.unit)), joint="curve")

    def ridge(self, base: float, amp: float, waves: float = 3.0) -> np.ndarray:
        """A smooth random skyline: y (fraction of height) at 97 x positions from -0.02 to 1.02."""
        xs = np.linspace(-0.02, 1.02, 97)
        ys = np.full_like(xs, base)
        for k in range(3):
            freq = waves * (1 + k) * self.rng.uniform(0.7, 1.3)
            ys += amp / (1 + k) * np.sin(2 * np.pi * freq * xs + self.rng.uniform(0, 2 * np.pi))
        return np.stack([xs, ys], axis=1)

    def hills(self, base: float, amp: float, waves: float, color: RGB, depth: str, kind: str = "ground") -> np.ndarray:
        """A random :meth:`ridge` with the land below it filled (:meth:`land`); returns the ridge."""
        ridge = self.ridge(base, amp, waves)
        self.land(ridge, color, depth, kind)
        return ridge

    def land(self, ridge: np.ndarray, color: RGB, depth: str, kind: str = "ground") -> None:
        """Fill everything below a ridge line."""
        points = [(float(x), float(y)) for x, y in ridge] + [(1.02, 1.05), (-0.02, 1.05)]
        self.polygon(points, color, depth, kind, line=False)
        if depth != "far":
            ink = self.outline(self.shade(color, depth, kind), depth)
            self.draw.line([(x * self.w, y * self.h) for x, y in ridge], fill=ink, width=self.line)

    def glow(self, x: float, y: float, radius: float, color: RGB, strength: float) -> None:
        """A soft radial light: alpha falls off quadratically from ``strength`` at the centre."""
        cx, cy, r = x * self.w, y * self.h, max(1.0, radius * self.unit)
        x0, y0 = max(0, int(cx - r)), max(0, int(cy - r))
        x1, y1 = min(self.w, int(cx + r) + 1), min(self.h, int(cy + r) + 1)
        if x1 <= x0 or y1 <= y0:
            return
        gy, gx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        d = np.sqrt((gx - cx) ** 2 + (gy - cy) ** 2) / r
        alpha = (np.clip(1 - d, 0, 1) ** 2 * strength * 255).astype(np.uint8)
        self.image.paste(color, (x0, y0, x1, y1), Image.fromarray(alpha))


def height_at(ridge: np.ndarray, x: float) -> float:
    """The ridge's height at x."""
    return float(np.interp(x, ridge[:, 0], ridge[:, 1]))


def cloud(p: Painter, x: float, y: float, size: float, color: RGB, depth: str, alpha: int = 235) -> None:
    """A puffy cloud: a row of overlapping circles on a flat base, with a darker belly."""
    rng = p.rng
    puffs = [(-0.32, 0.0, 0.22), (-0.12, -0.12, 0.3), (0.14, -0.1, 0.26), (0.34, 0.0, 0.2)]
    shadow = mix(color, (150, 160, 190), 0.35)
    sx, sy = size * p.unit / p.w, size * p.unit / p.h
    jitter = [(rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05)) for _ in puffs]
    for (dx, dy, r), (jx, jy) in zip(puffs, jitter, strict=True):
        p.ellipse(
            x + (dx + jx) * sx, y + (dy + jy + 0.05) * sy, r * size, r * size, shadow, depth, line=False, alpha=alpha
        )
    for (dx, dy, r), (jx, jy) in zip(puffs, jitter, strict=True):
        p.ellipse(
            x + (dx + jx) * sx,
            y + (dy + jy) * sy,
            r * size * 0.92,
            r * size * 0.9,
            color,
            depth,
            line=False,
            alpha=alpha,
        )
