"""Frame arithmetic and frame I/O for the video backends, as plain functions.

- a transition's frames without the neighbours' keyframes at its ends (``without_ends``)
- counts a video VAE accepts (``frames_for``: ``multiple * k + 1``), the longest window that fits
  (``largest_window``), generation windows that begin and end on keyframes (``windows``)
- the low-frame-rate keyframe video (``keyframe_plan``, ``keyframe_video``)
- sizes a model accepts (``round_size``)
- reading, fitting, resizing and writing frames (``cover``, ``read_rgb``, ``resize``, ``to_uint8``,
  ``write_keyframes``)

numpy, OpenCV and PIL are imported inside the functions that need them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from storyreel.errors import BackendError

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image


def without_ends(frames: Iterator[np.ndarray], drop: bool = True) -> Iterator[np.ndarray]:
    """``frames`` less the first and the last (``drop``): the frames strictly between two keyframes that
    belong to the neighbouring clips (``InterpolationRequest.inner``). Streams, one frame behind."""
    if not drop:
        yield from frames
        return
    held = None
    for k, frame in enumerate(frames):
        if k >= 2:
            yield held
        held = frame


def round_size(width: int, height: int, multiple: int) -> tuple[int, int]:
    """The nearest size whose sides are multiples of ``multiple`` (at least one multiple)."""
    return (max(multiple, round(width / multiple) * multiple), max(multiple, round(height / multiple) * multiple))


def frames_for(span: int, multiple: int) -> int:
    """Frames to generate to cover ``span`` frames: the smallest ``multiple * k + 1 >= span`` (k >= 1),
    the counts a video VAE with temporal compression ``multiple`` accepts."""
    return multiple * max(1, math.ceil((span - 1) / multiple)) + 1


def largest_window(max_frames: int, multiple: int) -> int:
    """``max_frames`` rounded down to a count the model accepts."""
    return multiple * max(1, (max_frames - 1) // multiple) + 1


def windows(indices: Sequence[int], max_frames: int, multiple: int, setting: str) -> list[tuple[int, int]]:
    """Split a clip into generation windows that start and end on keyframes: pairs (first, last) of
    positions in ``indices``; neighbouring windows share a keyframe. Each window is as long as fits."""
    spans: list[tuple[int, int]] = []
    first = 0
    while first < len(indices) - 1:
        last = first + 1
        gap = indices[last] - indices[first] + 1
        if frames_for(gap, multiple) > max_frames:
            raise BackendError(
                f"two keyframes {gap - 1} frames apart do not fit the model's window of {max_frames} frames: "
                f"lower video.keyframe_spacing (or video.transition), or raise {setting}.max_frames"
            )
        while last + 1 < len(indices) and frames_for(indices[last + 1] - indices[first] + 1, multiple) <= max_frames:
            last += 1
        spans.append((first, last))
        first = last
    return spans


def keyframe_plan(indices: Sequence[int], fps: int, keyframe_fps: float) -> tuple[int, list[int]]:
    """The low-frame-rate keyframe video: how many frames it has, and which of them is each keyframe
    (the frame nearest its time, ``indices[i] / fps`` seconds)."""
    seconds = indices[-1] / fps
    count = max(2, round(seconds * keyframe_fps) + 1)
    picks = [min(count - 1, round(index / fps * keyframe_fps)) for index in indices]
    return count, picks


def keyframe_video(
    first: Image.Image,
    count: int,
    picks: Sequence[int],
    max_frames: int,
    multiple: int,
    generate: Callable[[Image.Image, int, int], np.ndarray],
) -> dict[int, np.ndarray]:
    """Make the frames ``picks`` of a ``count``-frame video that starts at ``first``, window by window.

    ``generate(start_image, num_frames, window)`` returns uint8 frames (num_frames x H x W x 3) whose first
    frame is ``start_image``; a window after the first starts from the last frame of the one before."""
    from PIL import Image as PILImage

    wanted = set(picks)
    kept: dict[int, np.ndarray] = {}
    spans = windows(list(range(count)), max_frames, multiple, "video.options")
    start_image = first
    for number, (begin, end) in enumerate(spans):
        frames = generate(start_image, frames_for(end - begin + 1, multiple), number)[: end - begin + 1]
        for offset, frame in enumerate(frames):
            if begin + offset in wanted:
                kept[begin + offset] = frame
        start_image = PILImage.fromarray(frames[-1])
    return kept


def to_uint8(frames: np.ndarray) -> np.ndarray:
    """Float frames in [0, 1] (diffusers' ``output_type="np"``) to uint8."""
    import numpy as np

    return (np.clip(frames, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def resize(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """An RGB uint8 frame resized to width x height (no crop: the aspect change, if any, is a stretch)."""
    import cv2

    if frame.shape[:2] == (height, width):
        return frame
    shrink = frame.shape[1] > width
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def read_rgb(path: Path, width: int, height: int) -> np.ndarray:
    """An image file as RGB uint8, resized to width x height."""
    import numpy as np
    from PIL import Image as PILImage

    with PILImage.open(path) as image:
        return resize(np.asarray(image.convert("RGB")), width, height)


def cover(path: Path, width: int, height: int) -> np.ndarray:
    """An illustration fitted to width x height: scaled to cover, then centre-cropped (no stretch)."""
    import numpy as np
    from PIL import Image as PILImage

    with PILImage.open(path) as image:
        rgb = image.convert("RGB")
    scale = max(width / rgb.width, height / rgb.height)
    size = (max(width, math.ceil(rgb.width * scale)), max(height, math.ceil(rgb.height * scale)))
    rgb = rgb.resize(size, PILImage.Resampling.LANCZOS)
    x0, y0 = (size[0] - width) // 2, (size[1] - height) // 2
    return np.asarray(rgb.crop((x0, y0, x0 + width, y0 + height)))


def write_keyframes(frames: Sequence[np.ndarray], out: Path) -> None:
    """Write keyframes as ``k000.png``, ``k001.png`` ... into the directory ``out``."""
    from PIL import Image as PILImage

    out.mkdir(parents=True, exist_ok=True)
    for number, frame in enumerate(frames):
        PILImage.fromarray(frame).save(out / f"k{number:03d}.png", compress_level=1)
