"""Preview illustrations: a picture-book page painted procedurally with PIL and numpy, offline, on a CPU.

The page is painted back to front, like layers of cut paper:

  1. sky: a gradient for the time of day, greyed by the weather
  2. sun, or moon and stars
  3. clouds
  4. the setting in three layers (far, mid, near); the farther a layer, the more it takes the sky's colour
  5. the characters in the foreground, each with a soft shadow
  6. the weather in front: rain, snow, wind, fog, lightning
  7. finish: downsampling (anti-aliasing), saturation, vignette, paper grain

Every coordinate is a fraction of the frame, so 64x36 (tests) and 1920x1080 draw the same picture.
Positions are fractions of the width (x) and height (y, downwards); sizes are fractions of ``unit``, the
height of the largest 16:9 box in the frame, so shapes keep their proportions in any aspect ratio.

A character's drawing depends only on its name, species and colour, so it looks the same on every page;
the seed (and the prompt) move the trees, clouds and stars, and where the characters stand.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from pydantic import BaseModel, ConfigDict, Field

from storyreel.generators.base import ImageRequest
from storyreel.plan import Character, Scene

RGB = tuple[int, int, int]
Light = tuple[float, float, float]

# --- palette ------------------------------------------------------------------------------------

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
WALLS: tuple[RGB, ...] = ((250, 236, 208), (236, 210, 190), (210, 226, 236), (240, 226, 170), (222, 214, 236))
INK: RGB = (48, 36, 48)
WHITE: RGB = (252, 250, 246)
PINK: RGB = (250, 160, 170)
GOLD: RGB = (250, 200, 70)
SKINS: tuple[RGB, ...] = ((255, 222, 196), (244, 200, 166), (214, 160, 120), (168, 112, 78), (120, 80, 58))
HAIRS: tuple[RGB, ...] = ((70, 46, 34), (122, 74, 40), (214, 160, 80), (40, 32, 34), (176, 70, 44))
RAINBOW: tuple[RGB, ...] = ((250, 120, 140), (255, 190, 90), (250, 230, 110), (130, 210, 150), (120, 170, 240))


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def _hex(color: str) -> RGB:
    return (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16))


def _hash(*parts: object) -> int:
    """A stable hash (Python's own is salted per process)."""
    return zlib.crc32("\x1f".join(str(p) for p in parts).encode())


@dataclass(frozen=True)
class _Look:
    """The scene's light: sky colours, haze, the tint on everything, and what the weather adds."""

    sky_top: RGB
    sky_horizon: RGB
    light: Light
    haze: dict[str, float]
    snow: bool
    night: bool
    dim: bool  # windows and lamps glow

    @classmethod
    def of(cls, scene: Scene) -> _Look:
        top, horizon, light = SKIES[scene.time_of_day]
        grey_amount, dim = WEATHER_LIGHT[scene.weather]
        night = scene.time_of_day == "night"
        grey = (34, 38, 52) if night else (132, 138, 150)
        storm = scene.weather == "storm"
        return cls(
            sky_top=_mix(top, _mix(grey, (40, 36, 60), 0.6 if storm else 0.0), grey_amount),
            sky_horizon=_mix(horizon, _mix(grey, (230, 232, 236), 0.0 if night else 0.5), grey_amount * 0.85),
            light=(light[0] * dim, light[1] * dim, light[2] * dim),
            haze=FOG_HAZE if scene.weather == "fog" else HAZE,
            snow=scene.weather == "snow",
            night=night,
            dim=night or scene.time_of_day == "dusk" or storm,
        )


# --- the painter: frame fractions in, shaded shapes out -----------------------------------------------


class _Painter:
    """Draws on the supersampled canvas. x is a fraction of the width, y of the height, sizes of ``unit``.

    Colours go through :meth:`shade`: lit by the scene's light, hazed by depth, whitened by snow.
    Pass ``depth=None`` for light sources (lit windows, lamps, crystals) that ignore the light.
    """

    def __init__(self, image: Image.Image, look: _Look, rng: np.random.Generator):
        self.image = image
        self.draw = ImageDraw.Draw(image, "RGBA")  # RGBA mode: translucent fills blend into the RGB canvas
        self.w, self.h = image.size
        self.unit = min(self.h, self.w * 9 / 16)
        self.line = max(1, round(0.0042 * self.unit))  # picture-book outline: about 3 px at 720p
        self.look = look
        self.light = look.light
        self.rng = rng

    def shade(self, color: RGB, depth: str | None = "near", kind: str = "thing") -> RGB:
        if depth is None:
            return color
        if self.look.snow:
            color = _mix(color, SNOW, SNOW_COVER[kind])
        lit = (color[0] * self.light[0], color[1] * self.light[1], color[2] * self.light[2])
        lit = (min(255, round(lit[0])), min(255, round(lit[1])), min(255, round(lit[2])))
        return _mix(lit, self.look.sky_horizon, self.look.haze[depth])

    def outline(self, fill: RGB, depth: str | None) -> RGB | None:
        if depth == "far":
            return None  # far things are soft silhouettes
        return _mix(fill, INK, 0.45 if depth == "mid" else 0.6)

    def ellipse(
        self,
        x: float,
        y: float,
        rx: float,
        ry: float,
        color: RGB,
        depth: str | None = "near",
        kind: str = "thing",
        line: bool = True,
        alpha: int = 255,
    ) -> None:
        fill = self.shade(color, depth, kind)
        cx, cy, ax, ay = x * self.w, y * self.h, max(0.5, rx * self.unit), max(0.5, ry * self.unit)
        ink = self.outline(fill, depth) if line else None
        self.draw.ellipse(
            [cx - ax, cy - ay, cx + ax, cy + ay],
            fill=(*fill, alpha),
            outline=ink,
            width=self.line if depth == "near" else max(1, self.line // 2),
        )

    def polygon(
        self,
        points: list[tuple[float, float]],
        color: RGB,
        depth: str | None = "near",
        kind: str = "thing",
        line: bool = True,
        alpha: int = 255,
    ) -> None:
        fill = self.shade(color, depth, kind)
        ink = self.outline(fill, depth) if line else None
        pts = [(x * self.w, y * self.h) for x, y in points]
        self.draw.polygon(pts, fill=(*fill, alpha), outline=ink, width=self.line if depth == "near" else 1)

    def rect(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        color: RGB,
        depth: str | None = "near",
        kind: str = "thing",
        line: bool = True,
        radius: float = 0.0,
    ) -> None:
        fill = self.shade(color, depth, kind)
        ink = self.outline(fill, depth) if line else None
        box = [x0 * self.w, y0 * self.h, max(x0 * self.w, x1 * self.w), max(y0 * self.h, y1 * self.h)]
        width = self.line if depth == "near" else max(1, self.line // 2)
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


def _at(ridge: np.ndarray, x: float) -> float:
    """The ridge's height at x."""
    return float(np.interp(x, ridge[:, 0], ridge[:, 1]))


# --- the backend --------------------------------------------------------------------------------


class PreviewIllustrator:
    """Paints a picture-book page from the scene (setting, time of day, weather) and the characters.

    Offline, CPU only, deterministic: the same request gives a byte-identical PNG.
    """

    name = "preview"
    version = "1"

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")

        saturation: float = Field(1.0, ge=0.0, le=2.0, description="1: as painted; 0: grey; 1.3: vivid")
        texture: bool = Field(True, description="paper grain and a soft vignette")
        supersample: int = Field(2, ge=1, le=4, description="draw at this multiple, then downsample: smooth edges")

    def __init__(self, options: Options | None = None):
        self.options = options or self.Options()

    def generate(self, request: ImageRequest, out: Path) -> None:
        """Write the illustration for ``request`` (its scene and characters) as a PNG to ``out``."""
        # 1. set up: the canvas is drawn larger and downsampled at the end, which anti-aliases every edge
        scene = request.scene
        ss = max(1, min(self.options.supersample, 4096 // max(request.width, request.height)))  # memory
        look = _Look.of(scene)
        # the prompt takes part so that pages sharing a seed still differ; seeds may be negative
        key = _hash(scene.setting, scene.time_of_day, scene.weather, request.prompt)
        rng = np.random.default_rng([request.seed % 2**64, key])
        canvas = _sky_gradient(look, request.width * ss, request.height * ss)
        p = _Painter(canvas, look, rng)
        setting = SETTING_PAINTERS[scene.setting]

        # 2. sun, moon, stars and 3. clouds (interiors see them through a window or the cave's mouth)
        _paint_sky(p, scene)

        # 4. the setting, far to near; interiors return a mask of where the outside shows
        stage = setting(p)

        # 5. the characters, back to front
        _paint_characters(p, request.characters, stage)
        if stage.front is not None:
            stage.front(p)

        # 6. weather in front of everything (only where the outside shows)
        _paint_weather(p, scene, stage)

        # 7. finish at the output size
        image = canvas.reduce(ss) if ss > 1 else canvas
        pixels = _finish(np.asarray(image), self.options)
        Image.fromarray(pixels).save(out, format="PNG", compress_level=1)  # fast; these are working files


# --- 1-3. sky -------------------------------------------------------------------------------------


def _sky_gradient(look: _Look, width: int, height: int) -> Image.Image:
    """Top colour to the horizon colour, eased so most of the change happens low in the sky."""
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    t = np.clip(t / 0.62, 0, 1) ** 1.6
    top, bottom = np.array(look.sky_top, np.float32), np.array(look.sky_horizon, np.float32)
    column = (top + (bottom - top) * t).round().astype(np.uint8)[:, None, :]  # (height, 1, 3)
    return Image.fromarray(column).resize((width, height), Image.Resampling.NEAREST)


def _paint_sky(p: _Painter, scene: Scene) -> None:
    rng, look = p.rng, p.look
    overcast = scene.weather in ("rain", "storm", "fog", "snow")
    # sun or moon: low and large at dawn and dusk (far hills will cover its lower part), high by day
    side = rng.choice([0.2, 0.78]) + rng.uniform(-0.06, 0.06)
    if look.night:
        if scene.weather in ("clear", "cloudy", "wind"):
            for _ in range(int(rng.integers(40, 70))):
                x, y = rng.uniform(0, 1), rng.uniform(0, 0.5) ** 1.2
                r = rng.uniform(0.0015, 0.004)
                p.ellipse(x, y, r, r, (255, 250, 220), None, line=False, alpha=int(rng.integers(150, 255)))
            for _ in range(4):  # a few twinkling crosses
                x, y, r = rng.uniform(0.05, 0.95), rng.uniform(0.03, 0.3), 0.012
                ax, ay = r * p.unit / p.w, r * p.unit / p.h
                p.line_through([(x - ax, y), (x + ax, y)], (255, 250, 220, 230), 0.003)
                p.line_through([(x, y - ay), (x, y + ay)], (255, 250, 220, 230), 0.003)
        if not overcast:
            _moon(p, side, 0.16, 0.06)
    elif not overcast or scene.weather == "snow":
        low = scene.time_of_day in ("dawn", "dusk")
        y, r = (0.5, 0.09) if low else (0.15, 0.06)
        color = (255, 170, 90) if low else (255, 228, 120)
        p.glow(side, y, r * 4, _mix(color, (255, 255, 255), 0.3), 0.45 if not overcast else 0.25)
        if not overcast:
            p.ellipse(side, y, r, r, color, None, line=False)
            p.ellipse(
                side - r * 0.2 * p.unit / p.w,
                y - r * 0.25 * p.unit / p.h,
                r * 0.6,
                r * 0.6,
                _mix(color, (255, 255, 255), 0.35),
                None,
                line=False,
            )
    # clouds: a few fair-weather ones, many grey ones when it rains
    count = {"clear": 2, "wind": 3, "cloudy": 6, "snow": 6, "fog": 4, "rain": 8, "storm": 9}[scene.weather]
    if scene.setting == "sky":
        count += 3
    base = (255, 255, 255) if not overcast else (210, 212, 220)
    if scene.weather == "storm":
        base = (120, 118, 136)
    for i in range(count):
        x = (i + rng.uniform(0.1, 0.9)) / count
        y = rng.uniform(0.06, 0.3)
        _cloud(p, x, y, rng.uniform(0.12, 0.22) * (1.3 if overcast else 1.0), base, "far")


def _moon(p: _Painter, x: float, y: float, r: float) -> None:
    """A crescent: a disc with an offset disc cut out of it, in a soft glow."""
    p.glow(x, y, r * 5, (200, 210, 255), 0.35)
    cx, cy, radius = x * p.w, y * p.h, r * p.unit
    shape = Image.new("L", (p.w, p.h), 0)
    draw = ImageDraw.Draw(shape)
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=255)
    cx, cy, radius = cx + 0.45 * radius, cy - 0.2 * radius, 0.85 * radius
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=0)
    p.image.paste((250, 244, 210), (0, 0, p.w, p.h), shape)


def _cloud(p: _Painter, x: float, y: float, size: float, color: RGB, depth: str, alpha: int = 235) -> None:
    """A puffy cloud: a row of overlapping circles on a flat base, with a darker belly."""
    rng = p.rng
    puffs = [(-0.32, 0.0, 0.22), (-0.12, -0.12, 0.3), (0.14, -0.1, 0.26), (0.34, 0.0, 0.2)]
    shadow = _mix(color, (150, 160, 190), 0.35)
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


# --- 4. settings ----------------------------------------------------------------------------------


@dataclass
class _Stage:
    """What a setting tells the rest of the painting."""

    ground: float  # y where the characters' feet are
    outside: Image.Image | None = None  # L mask, 255 where the outdoors shows (None: everywhere)
    floating: bool = False  # characters stand on a cloud (the sky setting)
    front: Callable[[_Painter], None] | None = None  # drawn in front of the characters


def _round_tree(p: _Painter, x: float, y: float, h: float, depth: str, leaf: RGB = LEAF) -> None:
    """A lollipop tree: a trunk and a canopy of three overlapping balls; ``h`` is its height in units."""
    trunk_w = h * 0.09 * p.unit / p.w
    p.rect(x - trunk_w, y - h * 0.45 * p.unit / p.h, x + trunk_w, y + 0.002, TRUNK, depth, "thing")
    sx, sy = p.unit / p.w, p.unit / p.h
    r = h * 0.3
    for dx, dy, k in ((-0.45, -0.62, 0.85), (0.45, -0.64, 0.85), (0.0, -0.8, 1.0)):
        p.ellipse(x + dx * r * sx, y + dy * h * sy, r * k, r * k * 0.95, leaf, depth, "foliage")
    if depth != "far":  # a highlight on the top ball
        p.ellipse(
            x - 0.25 * r * sx,
            y - 0.9 * h * sy,
            r * 0.35,
            r * 0.25,
            _mix(leaf, (230, 255, 180), 0.35),
            depth,
            "foliage",
            line=False,
        )


def _pine(p: _Painter, x: float, y: float, h: float, depth: str, color: RGB = PINE) -> None:
    """A fir: a stub of trunk and three stacked triangles."""
    sx, sy = p.unit / p.w, p.unit / p.h
    p.rect(x - h * 0.05 * sx, y - h * 0.15 * sy, x + h * 0.05 * sx, y, TRUNK, depth)
    for i, (bottom, top, half) in enumerate(((0.15, 0.55, 0.3), (0.38, 0.78, 0.24), (0.6, 1.0, 0.17))):
        shade = _mix(color, (170, 220, 160), 0.08 * i)
        p.polygon(
            [(x - half * h * sx, y - bottom * h * sy), (x + half * h * sx, y - bottom * h * sy), (x, y - top * h * sy)],
            shade,
            depth,
            "foliage",
        )


def _bush(p: _Painter, x: float, y: float, r: float, depth: str, color: RGB = LEAF) -> None:
    sx, sy = p.unit / p.w, p.unit / p.h
    for dx, dy, k in ((-0.7, -0.4, 0.7), (0.7, -0.4, 0.7), (0.0, -0.6, 1.0)):
        p.ellipse(x + dx * r * sx, y + dy * r * sy, r * k, r * k * 0.85, color, depth, "foliage")


def _flowers(p: _Painter, x0: float, x1: float, y0: float, y1: float, count: int) -> None:
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


def _grass_tufts(p: _Painter, x0: float, x1: float, y0: float, y1: float, count: int, color: RGB) -> None:
    rng = p.rng
    for _ in range(count):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        h = 0.02 + 0.025 * (y - y0) / max(1e-6, y1 - y0)
        shade = (*p.shade(_mix(color, (40, 90, 40), 0.3), "near", "foliage"), 255)
        for dx in (-0.4, 0.0, 0.4):
            p.line_through(
                [(x + dx * h * 0.5 * p.unit / p.w, y), (x + dx * h * p.unit / p.w, y - h * p.unit / p.h)], shade, 0.004
            )


def _house(p: _Painter, x: float, y: float, w: float, h: float, wall: RGB, roof: RGB, depth: str) -> None:
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
        x - w * 0.1 * sx, y - h * 0.5 * sy, x + w * 0.1 * sx, y, _mix(roof, (90, 60, 40), 0.5), depth, radius=w * 0.05
    )
    lit = p.look.dim
    for wx in (left + w * 0.2 * sx, right - w * 0.2 * sx):
        color = WINDOW_LIGHT if lit else (170, 210, 236)
        p.rect(
            wx - w * 0.09 * sx, y - h * 0.75 * sy, wx + w * 0.09 * sx, y - h * 0.42 * sy, color, None if lit else depth
        )
        if lit and depth != "far":
            p.glow(wx, y - h * 0.58 * sy, w * 0.35, WINDOW_LIGHT, 0.25)


def _meadow(p: _Painter) -> _Stage:
    rng = p.rng
    far = p.ridge(0.55, 0.035, 1.5)
    p.land(far, (120, 170, 130), "far")
    for _ in range(5):
        x = rng.uniform(0, 1)
        _round_tree(p, x, _at(far, x) + 0.01, 0.07, "far")
    mid = p.ridge(0.66, 0.03, 1.2)
    p.land(mid, (130, 186, 96), "mid")
    for _ in range(int(rng.integers(2, 5))):
        x = rng.uniform(0.03, 0.97)
        _round_tree(p, x, _at(mid, x) + 0.01, rng.uniform(0.14, 0.2), "mid")
    near = p.ridge(0.78, 0.015, 0.8)
    p.land(near, GRASS, "near")
    _grass_tufts(p, 0, 1, 0.8, 1.0, 18, GRASS)
    _flowers(p, 0, 1, 0.8, 0.99, 22)
    return _Stage(ground=0.92)


def _forest(p: _Painter) -> _Stage:
    rng = p.rng
    far = p.ridge(0.5, 0.03, 2.0)
    p.land(far, (80, 130, 110), "far", "foliage")
    for i in range(16):
        x = (i + rng.uniform(0, 1)) / 16
        _pine(p, x, _at(far, x) + 0.02, rng.uniform(0.12, 0.18), "far", (60, 110, 100))
    mid = p.ridge(0.66, 0.02, 1.5)
    p.land(mid, (96, 150, 80), "mid", "foliage")
    for i in range(9):
        x = (i + rng.uniform(0.1, 0.9)) / 9
        tree = _pine if rng.uniform() < 0.5 else _round_tree
        tree(p, x, _at(mid, x) + 0.015, rng.uniform(0.24, 0.34), "mid")
    near = p.ridge(0.8, 0.012, 0.8)
    p.land(near, (100, 160, 76), "near")
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
    return _Stage(ground=0.92)


def _garden(p: _Painter) -> _Stage:
    rng = p.rng
    far = p.ridge(0.5, 0.02, 1.5)
    p.land(far, (110, 160, 120), "far", "foliage")
    for i in range(7):
        x = (i + rng.uniform(0, 1)) / 7
        _round_tree(p, x, _at(far, x) + 0.02, rng.uniform(0.1, 0.15), "far")
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
    p.land(p.ridge(0.76, 0.008, 0.8), GRASS, "near")
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
    return _Stage(ground=0.92)


def _beach(p: _Painter) -> _Stage:
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
    return _Stage(ground=0.93)


def _palm(p: _Painter, x: float, y: float, h: float) -> None:
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


def _sea(p: _Painter) -> _Stage:
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
        waves = p.ridge(y0, 0.01, 2.5 + band)
        p.land(waves, color, depth, "thing")
        for _ in range(6 + 3 * band):
            x = rng.uniform(0, 1)
            y = _at(waves, x) + rng.uniform(0.01, 0.1)
            w = 0.02 + 0.02 * band
            p.line_through(
                [(x - w, y + 0.004), (x, y - 0.004), (x + w, y + 0.004)], (*p.shade((220, 240, 250), depth), 210), 0.004
            )
    return _Stage(ground=0.88, front=_boat_front)


def _boat_front(p: _Painter) -> None:
    """The hull of a little rowing boat, in front of the characters' legs, and the water lapping it."""
    x0, x1, top = 0.16, 0.84, 0.86
    p.polygon([(x0 - 0.04, top), (x1 + 0.04, top), (x1 - 0.03, 1.0), (x0 + 0.03, 1.0)], (176, 108, 66))
    p.rect(x0 - 0.045, top - 0.012, x1 + 0.045, top + 0.012, (220, 160, 100), radius=0.01)
    p.line_through([(x0, 0.92), (x1, 0.92)], (*p.shade((140, 84, 52)), 255), 0.006)
    p.land(p.ridge(0.96, 0.008, 3.0), (44, 116, 180), "near", "thing")


def _mountain(p: _Painter) -> _Stage:
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
    mid = p.ridge(0.64, 0.05, 1.3)
    p.land(mid, (110, 150, 110), "mid")
    for _ in range(8):
        x = rng.uniform(0, 1)
        _pine(p, x, _at(mid, x) + 0.03, rng.uniform(0.12, 0.2), "mid")
    near = p.ridge(0.8, 0.02, 1.0)
    p.land(near, (150, 160, 110), "near")
    for _ in range(5):  # boulders
        x, y = rng.uniform(0, 1), rng.uniform(0.84, 0.99)
        p.ellipse(x, y, rng.uniform(0.03, 0.06), rng.uniform(0.02, 0.03), STONE)
    _grass_tufts(p, 0, 1, 0.82, 1.0, 10, (150, 160, 110))
    return _Stage(ground=0.92)


def _cave(p: _Painter) -> _Stage:
    rng = p.rng
    # what the cave's mouth shows: far hills under the sky
    far = p.ridge(0.58, 0.03, 1.5)
    p.land(far, (110, 160, 120), "far")
    mid = p.ridge(0.68, 0.02, 1.0)
    p.land(mid, (120, 176, 96), "mid")
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
    p.land(p.ridge(0.8, 0.015, 1.0), (120, 106, 100), "near")
    for _ in range(3):  # glowing crystals: light sources, unshaded
        x, y = float(rng.choice([rng.uniform(0.04, 0.22), rng.uniform(0.78, 0.96)])), rng.uniform(0.76, 0.84)
        color = FLOWERS[int(rng.integers(len(FLOWERS)))]
        crystal = _mix(color, (140, 220, 255), 0.5)
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
    return _Stage(ground=0.92, outside=outside)


def _castle(p: _Painter) -> _Stage:
    rng = p.rng
    far = p.ridge(0.56, 0.03, 1.5)
    p.land(far, (120, 164, 130), "far")
    hill = p.ridge(0.66, 0.04, 0.8)
    p.land(hill, (124, 180, 96), "mid")
    cx = rng.uniform(0.4, 0.6)
    base = _at(hill, cx) + 0.02
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
    near = p.ridge(0.8, 0.012, 0.8)
    p.land(near, GRASS, "near")
    p.polygon([(cx - 0.03, 0.8), (cx + 0.03, 0.8), (cx + 0.2, 1.02), (cx - 0.2, 1.02)], (214, 196, 160), line=False)
    _flowers(p, 0, 0.25, 0.84, 0.99, 8)
    _flowers(p, 0.75, 1, 0.84, 0.99, 8)
    return _Stage(ground=0.93)


def _village(p: _Painter) -> _Stage:
    rng = p.rng
    far = p.ridge(0.55, 0.03, 1.5)
    p.land(far, (120, 164, 130), "far")
    for _ in range(6):
        x = rng.uniform(0, 1)
        _round_tree(p, x, _at(far, x) + 0.01, 0.08, "far")
    mid = p.ridge(0.7, 0.01, 1.0)
    p.land(mid, (130, 184, 96), "mid")
    houses = int(rng.integers(3, 6))
    for i in range(houses):
        x = (i + rng.uniform(0.3, 0.7)) / houses
        w = rng.uniform(0.16, 0.22)
        _house(
            p,
            x,
            _at(mid, x) + 0.02,
            w,
            w * rng.uniform(0.7, 0.9),
            WALLS[int(rng.integers(len(WALLS)))],
            ROOFS[int(rng.integers(len(ROOFS)))],
            "mid",
        )
    p.land(p.ridge(0.8, 0.008, 0.8), GRASS, "near")
    # a cobbled lane across the front
    p.polygon([(-0.02, 0.84), (1.02, 0.82), (1.02, 0.97), (-0.02, 0.99)], (200, 190, 176), line=False)
    for _ in range(24):
        x, y = rng.uniform(0, 1), rng.uniform(0.85, 0.96)
        p.ellipse(x, y, 0.018, 0.008, (178, 168, 156), line=False)
    for i in range(12):  # a fence on the left or right
        x = (0.02 if rng.uniform() < 0.5 else 0.68) + i * 0.028
        p.rect(x, 0.76, x + 0.01, 0.83, (200, 160, 120))
    return _Stage(ground=0.92)


def _city(p: _Painter) -> _Stage:
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
        p.rect(x, top, x + w, 0.76, _mix(color, (180, 150, 140), 0.3), "mid")
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
    return _Stage(ground=0.93)


def _room(p: _Painter) -> _Stage:
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
    stripe = _mix(wall, (255, 255, 255), 0.35)
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
    p.ellipse(0.5, 0.9, 0.5, 0.065, _mix(ROOFS[int(rng.integers(len(ROOFS)))], (255, 255, 255), 0.4), line=False)
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
    return _Stage(ground=0.9, outside=outside)


def _sky(p: _Painter) -> _Stage:
    rng = p.rng
    # the land far below, then clouds at three depths; the characters ride a cloud
    p.land(p.ridge(0.82, 0.01, 2.0), (120, 170, 140), "far")
    for _ in range(3):
        x = rng.uniform(0, 1)
        p.ellipse(x, rng.uniform(0.86, 0.95), rng.uniform(0.1, 0.2), 0.02, (140, 190, 110), "far", line=False)
    white = (255, 255, 255) if p.look.light[0] > 0.8 else (220, 224, 240)
    for i in range(5):
        _cloud(p, (i + rng.uniform(0.2, 0.8)) / 5, rng.uniform(0.42, 0.6), rng.uniform(0.16, 0.24), white, "mid")
    for _ in range(4):  # a flock of birds, far away
        x, y = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.35)
        s = 0.012
        p.line_through(
            [(x - s, y - s * 0.6), (x, y), (x + s, y - s * 0.6)], (*p.shade((60, 60, 80), "mid"), 255), 0.003
        )
    return _Stage(ground=0.82, floating=True)


SETTING_PAINTERS: dict[str, Callable[[_Painter], _Stage]] = {
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
}


# --- 5. characters ------------------------------------------------------------------------------


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
        main = _hex(character.color)
        key = _hash(character.name, character.species, character.color)
        skin = SKINS[key % len(SKINS)]
        hairs = [h for h in HAIRS if abs(sum(h) - sum(skin)) > 150]  # hair that stands out from the skin
        return cls(
            main=main,
            light=_mix(main, (255, 248, 230), 0.62),
            dark=_mix(main, (40, 30, 40), 0.3),
            ink=_mix(main, INK, 0.72),
            skin=skin,
            hair=hairs[(key // 7) % len(hairs)],
            variant=key // 49,
        )


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


def _face(sp: _Sprite, hx: float, hy: float, r: float, cheek_on: RGB, mouth: bool = True) -> None:
    """Two dot eyes with a glint, pink cheeks and a smile, turned three-quarters towards +x."""
    cheek = _mix(cheek_on, PINK, 0.55)
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
    long_hair = kind in ("girl", "princess", "queen", "witch", "fairy", "mermaid", "woman", "grandma") or (
        kind in ("child", "kid", "baby", "person", "human", "elf") and t.variant % 2 == 0
    )
    hx, hy, r = 0.03, 0.74, 0.19
    if kind == "fairy":  # translucent-looking wings: pale, behind everything
        for angle, y in ((35, 0.55), (60, 0.42)):
            sp.oval(-0.22, y, 0.09, 0.2, angle, _mix((190, 230, 255), WHITE, 0.3))
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
        sp.rect(-0.15, 0.26, 0.16, 0.32, _mix(t.main, (40, 40, 60), 0.35))  # a belt line
    sp.tube([(0.13, 0.5), (0.23, 0.38)], 0.07, t.main)  # near arm, waving a little
    sp.ellipse(0.24, 0.36, 0.04, 0.04, t.skin)
    if not long_hair:
        sp.ellipse(hx - 0.45 * r, hy + 0.1 * r, 0.7 * r, 0.7 * r, t.hair)  # volume at the back
    sp.ellipse(hx, hy, r, r, t.skin)
    # hair: a cap, raised above the head, whose lower edge sweeps from the nape to above the eyes
    sp.chord(hx - 0.05 * r, hy + 0.28 * r, 1.02 * r, 1.02 * r, 150, 345, t.hair)
    if long_hair:  # a bow on the back of the head
        bx, by, b = hx - 0.55 * r, hy + 0.8 * r, 0.3 * r
        bow = _mix(t.main, WHITE, 0.35)
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
    elif kind == "pirate":
        top = hy + r * 0.75
        sp.polygon([(hx - 0.24, top), (hx + 0.24, top), (hx + 0.12, top + 0.16), (hx - 0.12, top + 0.16)], (40, 36, 44))


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
    sp.stroke([(-0.15, 0.1), (-0.35, 0.06), (-0.45, 0.18), (-0.38, 0.3)], _mix(t.main, PINK, 0.5), 0.02)
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
        sp.ellipse(x, hy - 0.04, 0.045, 0.028, _mix(t.main, PINK, 0.55), line=False)


def _dragon(sp: _Sprite, t: _Traits) -> None:
    hx, hy, r = 0.06, 0.66, 0.22
    wing = _mix(t.main, (40, 30, 60), 0.25)
    membrane = _mix(t.main, WHITE, 0.25)
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
        sp.arc(0.06, y + 0.04, 0.1, 0.04, 30, 150, _mix(t.light, INK, 0.35))
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
            sp.arc(x, y + 0.02, 0.025, 0.02, 20, 160, _mix(t.light, INK, 0.35))
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
    sp.ellipse(0.14, 0.5, 0.04, 0.025, _mix(t.main, PINK, 0.55), line=False)
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
    skin = _mix(t.main, (190, 214, 140), 0.55)
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


def _unicorn(sp: _Sprite, t: _Traits, horn: bool = True) -> None:
    mane = RAINBOW if horn else (t.dark,) * 5
    for i, c in enumerate(mane):  # tail
        sp.tube([(-0.28, 0.5), (-0.38 - 0.015 * i, 0.36 - 0.03 * i), (-0.36, 0.18 - 0.02 * i)], 0.03, c)
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
    sp.ellipse(0.38, 0.75, 0.03, 0.02, _mix(t.main, PINK, 0.55), line=False)
    for i, c in enumerate(mane):  # mane down the neck
        sp.ellipse(0.25 - 0.02 * i, 0.86 - 0.08 * i, 0.05, 0.05, c)


def _robot(sp: _Sprite, t: _Traits) -> None:
    metal = _mix(t.main, (200, 204, 214), 0.35)
    for dx in (-0.08, 0.08):
        sp.rect(dx - 0.04, 0.04, dx + 0.04, 0.18, (120, 124, 140))
        sp.rect(dx - 0.06, 0.0, dx + 0.06, 0.05, (80, 84, 100), radius=0.02)
    sp.tube([(-0.2, 0.42), (-0.28, 0.3)], 0.05, (150, 154, 170))
    sp.rect(-0.2, 0.16, 0.2, 0.5, metal, radius=0.05)
    sp.rect(-0.1, 0.24, 0.12, 0.42, _mix(metal, WHITE, 0.4), radius=0.02)
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


def _creature(sp: _Sprite, t: _Traits) -> None:
    """Anything else: a round, friendly blob with little horns or ears, spots and big eyes."""
    for dx in (-0.1, 0.12):
        sp.ellipse(dx, 0.04, 0.09, 0.05, t.dark)
    if t.variant % 3 == 0:
        for x in (-0.12, 0.14):
            sp.stroke([(x, 0.66), (x * 1.4, 0.84)], sp.ink, 0.012)
            sp.ellipse(x * 1.4, 0.85, 0.035, 0.035, t.light)
    else:
        for x in (-0.15, 0.17):
            sp.ellipse(x, 0.66, 0.07, 0.08, t.main if t.variant % 3 == 1 else t.light)
    sp.oval(-0.26, 0.34, 0.05, 0.1, -30, t.dark)
    sp.ellipse(0.0, 0.37, 0.28, 0.34, t.main)
    sp.ellipse(0.05, 0.28, 0.17, 0.18, t.light, line=False)
    spots = np.random.default_rng(t.variant).uniform(-1, 1, (4, 2))
    for sx, sy in spots:
        if sx < 0.2:  # keep spots off the face
            sp.ellipse(-0.12 + 0.08 * sx, 0.4 + 0.2 * sy, 0.03, 0.025, t.dark, line=False)
    sp.oval(0.26, 0.34, 0.05, 0.1, 30, t.main)
    _face(sp, 0.0, 0.5, 0.26, t.main)


SPECIES: dict[str, tuple[Callable[[_Sprite, _Traits], None], float]] = {
    # drawing, height relative to a child
    "dragon": (_dragon, 1.0),
    "fox": (_fox, 0.82),
    "cat": (_cat, 0.72),
    "dog": (_dog, 0.8),
    "bear": (_bear, 1.0),
    "rabbit": (_rabbit, 0.72),
    "mouse": (_mouse, 0.55),
    "frog": (_frog, 0.55),
    "owl": (_owl, 0.66),
    "bird": (_bird, 0.5),
    "fish": (_fish, 0.55),
    "turtle": (_turtle, 0.55),
    "unicorn": (_unicorn, 1.05),
    "horse": (lambda sp, t: _unicorn(sp, t, horn=False), 1.05),
    "robot": (_robot, 0.92),
    "creature": (_creature, 0.75),
}
HUMANS = {
    "girl",
    "boy",
    "child",
    "kid",
    "baby",
    "person",
    "human",
    "man",
    "woman",
    "grandma",
    "grandpa",
    "princess",
    "prince",
    "king",
    "queen",
    "wizard",
    "witch",
    "knight",
    "pirate",
    "fairy",
    "elf",
    "mermaid",
}
ALIASES = {
    "kitten": "cat",
    "kitty": "cat",
    "puppy": "dog",
    "wolf": "fox",
    "bunny": "rabbit",
    "hare": "rabbit",
    "rat": "mouse",
    "hamster": "mouse",
    "toad": "frog",
    "tortoise": "turtle",
    "pony": "horse",
    "dinosaur": "dragon",
    "dino": "dragon",
    "duck": "bird",
    "chick": "bird",
    "penguin": "bird",
    "parrot": "bird",
    "robin": "bird",
    "sparrow": "bird",
    "whale": "fish",
    "dolphin": "fish",
    "goldfish": "fish",
    "teddy": "bear",
    "panda": "bear",
    "lion": "cat",
    "tiger": "cat",
    "girls": "girl",
    "boys": "boy",
    "children": "child",
}


def species_drawing(species: str) -> tuple[str, float]:
    """The drawing used for a species word, and its height relative to a child: 'baby dragon' -> dragon,
    'puppy' -> dog, 'princess' -> a girl with a crown, anything unknown -> 'creature'."""
    words = [species.lower().strip(), *reversed(species.lower().split())]  # 'baby dragon': the last word
    for word in words:
        for singular in (word, word.removesuffix("s"), word.removesuffix("es")):  # 'cats', 'foxes'
            singular = ALIASES.get(singular, singular)
            if singular in HUMANS:
                return singular, 1.0
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


def _paint_characters(p: _Painter, characters: list[Character], stage: _Stage) -> None:
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
            _cloud(p, x, y + 0.03, 0.45 * size / p.unit, (255, 255, 255), "near", alpha=250)
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


# --- 6. weather -----------------------------------------------------------------------------------


def _paint_weather(p: _Painter, scene: Scene, stage: _Stage) -> None:
    """Rain, snow, wind, fog and lightning on a layer in front, shown only where the outdoors is."""
    if scene.weather in ("clear", "cloudy"):
        return
    rng = p.rng
    layer = Image.new("RGBA", (p.w, p.h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    u = p.unit
    if scene.weather in ("rain", "storm"):
        for _ in range(380 if scene.weather == "storm" else 240):
            x, y, length = rng.uniform(-0.1, 1.05) * p.w, rng.uniform(-0.1, 1.0) * p.h, rng.uniform(0.04, 0.08) * u
            draw.line(
                [(x, y), (x + 0.3 * length, y + length)],
                fill=(214, 226, 246, int(rng.integers(110, 190))),
                width=max(1, round(0.003 * u)),
            )
    if scene.weather == "snow":
        for _ in range(260):
            x, y, r = rng.uniform(0, 1) * p.w, rng.uniform(0, 1) * p.h, rng.uniform(0.003, 0.009) * u
            draw.ellipse([x - r, y - r, x + r, y + r], fill=(255, 255, 255, int(rng.integers(190, 250))))
    if scene.weather == "wind":
        for _ in range(6):  # swooshes
            x0, y0, length = rng.uniform(-0.1, 0.8), rng.uniform(0.1, 0.75), rng.uniform(0.2, 0.35)
            xs = np.linspace(0, length, 24)
            ys = 0.02 * np.sin(xs / length * 2 * np.pi + rng.uniform(0, np.pi))
            pts = [((x0 + x) * p.w, (y0 + y) * p.h) for x, y in zip(xs, ys, strict=True)]
            draw.line(pts, fill=(255, 255, 255, 150), width=max(1, round(0.005 * u)), joint="curve")
            end = pts[-1]
            r = 0.02 * u  # a little curl at the end
            draw.arc(
                [end[0] - r, end[1] - 2 * r, end[0] + r, end[1]],
                270,
                180,
                fill=(255, 255, 255, 150),
                width=max(1, round(0.005 * u)),
            )
        for _ in range(12):  # leaves blown along
            x, y, r = rng.uniform(0, 1) * p.w, rng.uniform(0.05, 0.8) * p.h, 0.012 * u
            color = ((120, 170, 70), (230, 160, 60), (210, 100, 60))[int(rng.integers(3))]
            a = rng.uniform(0, np.pi)
            tip = (math.cos(a) * r * 1.6, math.sin(a) * r * 1.6)
            side = (-math.sin(a) * r * 0.6, math.cos(a) * r * 0.6)
            draw.polygon(
                [
                    (x - tip[0], y - tip[1]),
                    (x + side[0], y + side[1]),
                    (x + tip[0], y + tip[1]),
                    (x - side[0], y - side[1]),
                ],
                fill=(*p.shade(color), 255),
            )
    if scene.weather == "storm":  # a lightning bolt, with a glow around it
        x, y = rng.uniform(0.15, 0.85), 0.0
        pts = [(x * p.w, y)]
        while y < 0.45:
            x += rng.uniform(-0.04, 0.04)
            y += rng.uniform(0.05, 0.09)
            pts.append((x * p.w, y * p.h))
        draw.line(pts, fill=(255, 250, 210, 90), width=max(1, round(0.025 * u)), joint="curve")
        draw.line(pts, fill=(255, 255, 235, 255), width=max(1, round(0.007 * u)), joint="curve")
    if scene.weather == "fog":  # bands of mist, thickest just above the ground
        rows = np.linspace(0, 1, p.h, dtype=np.float32)
        alpha = 0.12 + 0.5 * np.exp(-(((rows - 0.68) / 0.2) ** 2))
        mist = Image.fromarray(np.repeat((alpha * 255).astype(np.uint8)[:, None], p.w, axis=1))
        layer.paste((*_mix(p.look.sky_horizon, WHITE, 0.5), 255), (0, 0, p.w, p.h), mist)
        if stage.outside is None:
            layer.putalpha(mist)
    if stage.outside is not None:  # indoors: only through the window or the cave's mouth
        alpha = np.asarray(layer.getchannel("A"), np.uint16) * np.asarray(stage.outside, np.uint16) // 255
        layer.putalpha(Image.fromarray(alpha.astype(np.uint8)))
    p.image.paste(layer, (0, 0), layer)


# --- 7. finish ------------------------------------------------------------------------------------


def _finish(pixels: np.ndarray, options: PreviewIllustrator.Options) -> np.ndarray:
    """Saturation, a soft vignette and paper grain. The grain is the same sheet of paper on every page."""
    image = pixels.astype(np.float32)
    if options.saturation != 1.0:
        grey = image @ np.array([0.299, 0.587, 0.114], np.float32)
        image = grey[..., None] + (image - grey[..., None]) * options.saturation
    if options.texture:
        h, w = image.shape[:2]
        yy = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
        xx = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
        image *= (1.0 - 0.1 * (xx**2 + yy**2) ** 1.5)[..., None]
        paper = np.random.default_rng(2023).standard_normal((max(2, h // 4), max(2, w // 4)), np.float32)
        grain = np.asarray(Image.fromarray(paper).resize((w, h), Image.Resampling.BILINEAR))
        image += 2.0 * grain[..., None]
    return np.clip(image.round(), 0, 255).astype(np.uint8)
