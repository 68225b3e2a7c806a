"""Preview illustrations: a picture-book page painted procedurally with PIL and numpy, offline, on a CPU.

The page is painted back to front, like layers of cut paper:

  1. sky: a gradient for the time of day, greyed by the weather
  2. sun, or moon and stars
  3. clouds
  4. the setting in three layers (far, mid, near); the farther a layer, the more it takes the sky's colour
  5. the characters in the foreground, each with a soft shadow
  6. the weather in front: rain, snow, wind, fog, lightning
  7. finish: downsampling (anti-aliasing), the style (watercolour, crayon, pencil, paper cut-out, flat vector,
     night-light pastel: ``drawing.styles``, read from the request's style), saturation, vignette, paper grain

This file is the backend and steps 1-3, 6 and 7. The drawing toolkit (the scene's light and a painter that works
in fractions of the frame), the setting painters (step 4) and the characters (step 5) are the package
``storyreel.generators.drawing``.

The seed (and the prompt) move the trees, clouds and stars, and where the characters stand; a character's
drawing depends only on its name, species and colour, so it looks the same on every page.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from pydantic import Field

from storyreel.generators.base import Backend, BackendOptions, ImageRequest
from storyreel.generators.drawing.canvas import WHITE, Look, Painter, cloud, mix, stable_hash
from storyreel.generators.drawing.characters import paint_characters
from storyreel.generators.drawing.settings import SETTING_PAINTERS, Stage
from storyreel.generators.drawing.styles import apply_style, grain_of, style_of
from storyreel.plan import Scene

# --- the backend --------------------------------------------------------------------------------


class PreviewIllustrator(Backend):
    """Procedural picture-book illustrations, CPU.

    Paints a picture-book page from the scene (setting, time of day, weather) and the characters.

    Offline, CPU only, deterministic: the same request gives a byte-identical PNG.
    """

    name = "preview"
    version = "2"  # 2: styles drawn; the scenery no longer moves when a look or the style changes
    requires = ("PIL", "numpy")  # importable modules it needs

    class Options(BackendOptions):
        saturation: float = Field(1.0, ge=0.0, le=2.0, description="1: as painted; 0: grey; 1.3: vivid")
        texture: bool = Field(True, description="paper grain and a soft vignette")
        supersample: int = Field(2, ge=1, le=4, description="draw at this multiple, then downsample: smooth edges")

    def generate(self, request: ImageRequest, out: Path) -> None:
        """Write the illustration for ``request`` (its scene and characters) as a PNG to ``out``."""
        # 1. set up: the canvas is drawn larger and downsampled at the end, which anti-aliases every edge
        scene = request.scene
        ss = max(1, min(self.options.supersample, 4096 // max(request.width, request.height)))  # memory
        look = Look.of(scene)
        # the prompt takes part so that pages sharing a seed still differ, but without the style and the
        # characters' looks that it repeats: a new look or style must not move the trees or recolour the
        # curtains (only the character, or the rendering). Seeds may be negative.
        key = stable_hash(scene.setting, scene.time_of_day, scene.weather, _scenery_words(request))
        rng = np.random.default_rng([request.seed % 2**64, key])
        canvas = _sky_gradient(look, request.width * ss, request.height * ss)
        p = Painter(canvas, look, rng)
        setting = SETTING_PAINTERS[scene.setting]

        # 2. sun, moon, stars and 3. clouds (interiors see them through a window or the cave's mouth)
        _paint_sky(p, scene)

        # 4. the setting, far to near; interiors return a mask of where the outside shows
        stage = setting(p)

        # 5. the characters, back to front
        paint_characters(p, request.characters, stage)
        if stage.front is not None:
            stage.front(p)

        # 6. weather in front of everything (only where the outside shows)
        _paint_weather(p, scene, stage)

        # 7. finish at the output size
        image = canvas.reduce(ss) if ss > 1 else canvas
        style = style_of(request.style)
        pixels = _finish(apply_style(np.asarray(image), style), self.options, grain=grain_of(style))
        Image.fromarray(pixels).save(out, format="PNG", compress_level=1)  # fast; these are working files


def _scenery_words(request: ImageRequest) -> str:
    """The prompt without the style and the looks of the characters (which it repeats verbatim)."""
    text = request.prompt
    for part in sorted([request.style, *(c.look for c in request.characters)], key=len, reverse=True):
        if part.strip():
            text = text.replace(part, "")
    return text


# --- 1-3. sky -------------------------------------------------------------------------------------


def _sky_gradient(look: Look, width: int, height: int) -> Image.Image:
    """Top colour to the horizon colour, eased so most of the change happens low in the sky."""
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    t = np.clip(t / 0.62, 0, 1) ** 1.6
    top, bottom = np.array(look.sky_top, np.float32), np.array(look.sky_horizon, np.float32)
    column = (top + (bottom - top) * t).round().astype(np.uint8)[:, None, :]  # (height, 1, 3)
    return Image.fromarray(column).resize((width, height), Image.Resampling.NEAREST)


def _paint_sky(p: Painter, scene: Scene) -> None:
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
        p.glow(side, y, r * 4, mix(color, (255, 255, 255), 0.3), 0.45 if not overcast else 0.25)
        if not overcast:
            p.ellipse(side, y, r, r, color, None, line=False)
            p.ellipse(
                side - r * 0.2 * p.unit / p.w,
                y - r * 0.25 * p.unit / p.h,
                r * 0.6,
                r * 0.6,
                mix(color, (255, 255, 255), 0.35),
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
        cloud(p, x, y, rng.uniform(0.12, 0.22) * (1.3 if overcast else 1.0), base, "far")


def _moon(p: Painter, x: float, y: float, r: float) -> None:
    """A crescent: a disc with an offset disc cut out of it, in a soft glow."""
    p.glow(x, y, r * 5, (200, 210, 255), 0.35)
    cx, cy, radius = x * p.w, y * p.h, r * p.unit
    shape = Image.new("L", (p.w, p.h), 0)
    draw = ImageDraw.Draw(shape)
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=255)
    cx, cy, radius = cx + 0.45 * radius, cy - 0.2 * radius, 0.85 * radius
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=0)
    p.image.paste((250, 244, 210), (0, 0, p.w, p.h), shape)


# --- 6. weather -----------------------------------------------------------------------------------


def _paint_weather(p: Painter, scene: Scene, stage: Stage) -> None:
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
        layer.paste((*mix(p.look.sky_horizon, WHITE, 0.5), 255), (0, 0, p.w, p.h), mist)
        if stage.outside is None:
            layer.putalpha(mist)
    if stage.outside is not None:  # indoors: only through the window or the cave's mouth
        alpha = np.asarray(layer.getchannel("A"), np.uint16) * np.asarray(stage.outside, np.uint16) // 255
        layer.putalpha(Image.fromarray(alpha.astype(np.uint8)))
    p.image.paste(layer, (0, 0), layer)


# --- 7. finish ------------------------------------------------------------------------------------


def _finish(pixels: np.ndarray, options: PreviewIllustrator.Options, grain: bool = True) -> np.ndarray:
    """Saturation, a soft vignette and paper grain. The grain is the same sheet of paper on every page."""
    image = pixels.astype(np.float32)
    if options.saturation != 1.0:
        grey = image @ np.array([0.299, 0.587, 0.114], np.float32)
        image = grey[..., None] + (image - grey[..., None]) * options.saturation
    if options.texture and grain:
        h, w = image.shape[:2]
        yy = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
        xx = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
        image *= (1.0 - 0.1 * (xx**2 + yy**2) ** 1.5)[..., None]
        paper = np.random.default_rng(2023).standard_normal((max(2, h // 4), max(2, w // 4)), np.float32)
        grain = np.asarray(Image.fromarray(paper).resize((w, h), Image.Resampling.BILINEAR))
        image += 2.0 * grain[..., None]
    return np.clip(image.round(), 0, 255).astype(np.uint8)
