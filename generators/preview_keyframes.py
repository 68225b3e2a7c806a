"""Preview keyframes: the page's illustration seen through a slowly moving camera, offline, on a CPU.

The camera is a view rectangle inside the picture (a zoom and a centre), so it never shows anything
outside it. Its pose at a keyframe depends only on the keyframe's place in the clip (index over the clip's
last index), eased: it starts and ends slowly but never stops, so no stretch of the clip is frozen.

Moves (``request.camera``):
  zoom_in, zoom_out   from the whole picture towards a point near the characters, or back
  pan_left, pan_right the view slides sideways across a slightly zoomed picture
  tilt_up, tilt_down  the same, vertically
  parallax            a sideways slide where lower rows (nearer things) move more than upper (far) ones

Each pose is one resampling of the illustration (cv2.warpAffine or cv2.remap, bicubic), never of a
previous keyframe, so the quality does not degrade along the clip.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
from pydantic import Field

from storyreel.generators.base import Backend, BackendOptions, KeyframeRequest

# PNG settings for keyframes: light compression without zlib's matching, which is the slow part and gains
# little on painted, grainy pictures (measured: fastest and smallest of OpenCV's strategies), and one row
# filter (SUB) instead of libpng's adaptive choice among all five per row: at 1280x720 it halves the write
# (38 against 78 ms) and cuts the read by a third, 10% larger; the pixels are the same (OpenCV >= 4.10)
PNG = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY]
if hasattr(cv2, "IMWRITE_PNG_FILTER"):
    PNG += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_SUB]


class CameraKeyframes(Backend):
    """Sparse keyframes from camera moves over the illustration.

    Keyframes from a camera move over the still illustration: pans, tilts, zooms and fake parallax."""

    name = "preview"
    version = "1"
    requires = ("cv2", "numpy")  # importable modules it needs

    class Options(BackendOptions):
        max_zoom: float = Field(1.15, gt=1.0, le=1.6, description="zoom at the close end of zoom_in / zoom_out")
        travel: float = Field(
            0.08, gt=0.0, le=0.25, description="how far pans, tilts and parallax move, as a fraction of the frame"
        )
        ease: float = Field(
            0.7, ge=0.0, le=0.9, description="0: constant speed; higher: slower start and end (never a stop)"
        )

    def keyframes(self, request: KeyframeRequest, out: Path) -> None:
        """Write one PNG per ``request.indices`` entry into the directory ``out``: k000.png, k001.png, ..."""
        # 1. inputs: the request checked its camera and indices when it was made
        indices = request.indices

        # 2. the illustration, fitted to the output size
        picture = _load(request.image, request.width, request.height)

        # 3. one pose per keyframe, each a single resampling of the illustration
        out.mkdir(parents=True, exist_ok=True)
        last = max(1, indices[-1])
        focus = _focus(request.seed)
        for number, index in enumerate(indices):
            progress = self._eased(index / last)
            frame = self._view(picture, request.camera, progress, focus, request.seed)
            path = out / f"k{number:03d}.png"
            if not cv2.imwrite(str(path), frame, PNG):
                raise OSError(f"could not write the keyframe {path}")

    def _eased(self, u: float) -> float:
        """Ease in and out, mixed with a little constant speed so the camera never stands still."""
        smooth = u * u * (3 - 2 * u)
        return (1 - self.options.ease) * u + self.options.ease * smooth

    def _view(
        self, picture: np.ndarray, camera: str, progress: float, focus: tuple[float, float], seed: int
    ) -> np.ndarray:
        """The picture as the camera sees it at ``progress`` (0: start pose, 1: end pose)."""
        h, w = picture.shape[:2]
        opts = self.options
        # the zoom that leaves room to travel ``travel`` of the frame inside the picture
        roomy = 1.0 / (1.0 - opts.travel)
        centre = ((w - 1) / 2, (h - 1) / 2)
        if camera in ("zoom_in", "zoom_out"):
            t = progress if camera == "zoom_in" else 1.0 - progress
            zoom = 1.0 + (opts.max_zoom - 1.0) * t
            target = (focus[0] * (w - 1), focus[1] * (h - 1))
            cx, cy = centre[0] + (target[0] - centre[0]) * t, centre[1] + (target[1] - centre[1]) * t
            return _affine(picture, zoom, cx, cy)
        if camera in ("pan_left", "pan_right"):
            # the view slides from one side of the slack to the other: pan_left moves the view leftwards
            direction = -1.0 if camera == "pan_left" else 1.0
            cx = centre[0] + direction * (progress - 0.5) * opts.travel * (w - 1)
            return _affine(picture, roomy, cx, centre[1])
        if camera in ("tilt_up", "tilt_down"):
            direction = -1.0 if camera == "tilt_up" else 1.0
            cy = centre[1] + direction * (progress - 0.5) * opts.travel * (h - 1)
            return _affine(picture, roomy, centre[0], cy)
        return _parallax(picture, roomy, (progress - 0.5) * opts.travel, 1.0 if seed % 2 == 0 else -1.0)


def _load(path: Path, width: int, height: int) -> np.ndarray:
    """Read an image (BGR) and fit it to width x height: scaled to cover, then centre-cropped."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read the illustration {path}")
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    scale = max(width / w, height / h)
    size = (max(width, math.ceil(w * scale)), max(height, math.ceil(h * scale)))
    resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    x0, y0 = (size[0] - width) // 2, (size[1] - height) // 2
    return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width])


def _focus(seed: int) -> tuple[float, float]:
    """Where zooms head: a little off-centre, towards the characters in the lower middle; varies by seed."""
    rng = np.random.default_rng(seed % 2**64)
    return (0.5 + rng.uniform(-0.08, 0.08), 0.56 + rng.uniform(-0.03, 0.03))


def _affine(picture: np.ndarray, zoom: float, cx: float, cy: float) -> np.ndarray:
    """The picture zoomed by ``zoom`` around source point (cx, cy), which lands in the frame's centre.
    The centre is clamped so that the view stays inside the picture."""
    h, w = picture.shape[:2]
    slack_x, slack_y = (w - 1) / 2 * (1 - 1 / zoom), (h - 1) / 2 * (1 - 1 / zoom)
    cx = min(max(cx, (w - 1) / 2 - slack_x), (w - 1) / 2 + slack_x)
    cy = min(max(cy, (h - 1) / 2 - slack_y), (h - 1) / 2 + slack_y)
    matrix = np.array([[zoom, 0, (w - 1) / 2 - zoom * cx], [0, zoom, (h - 1) / 2 - zoom * cy]], np.float64)
    return cv2.warpAffine(picture, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)


def _parallax(picture: np.ndarray, zoom: float, shift: float, direction: float) -> np.ndarray:
    """Fake depth: a row's depth comes from its height in the picture (lower = nearer), and each row
    slides sideways by ``shift`` (a fraction of the width) times its nearness. Nearness changes smoothly
    from row to row, so straight verticals lean a little but never tear."""
    h, w = picture.shape[:2]
    rows = (h - 1) / 2 + (np.arange(h, dtype=np.float32) - (h - 1) / 2) / zoom  # source row of each output row
    # the sky and far hills (upper third) stay far; nearness grows from there to the bottom edge
    t = np.clip((rows / max(1, h - 1) - 0.3) / 0.7, 0, 1)
    nearness = 0.2 + 0.8 * t * t * (3 - 2 * t)
    # the largest slide is shift * 1.0 * w, within the slack the zoom leaves: travel / 2 on either side
    offsets = direction * shift * nearness * (w - 1)
    cols = (w - 1) / 2 + (np.arange(w, dtype=np.float32) - (w - 1) / 2) / zoom
    map_x = (cols[None, :] + offsets[:, None]).astype(np.float32)
    map_y = np.repeat(rows[:, None], w, axis=1).astype(np.float32)
    return cv2.remap(picture, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
