"""Preview interpolation: the frames between keyframes from classical optical flow, offline, on a CPU.

For each pair of neighbouring keyframes A and B:

  1. dense flow both ways (A->B, B->A) with OpenCV's DIS optical flow, at a reduced size for speed
  2. how far to trust it: the share of pixels whose two flows agree (forward-backward check) and how much
     of the difference between A and B the flow explains. Unrelated pictures (a page-to-page transition)
     get little or no trust, and the in-between frames become a plain dissolve; no trust, no tearing
  3. for each in-between time t, warp A forward and B backward to t (cv2.remap, flows upsampled to full
     size) and blend them by t, each pixel weighted by whether it is visible in the other keyframe

Frames stream into the H.264 encoder as they are made; only two keyframes are in memory at a time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from pydantic import Field

from storyreel.generators.base import Backend, BackendOptions, InterpolationRequest
from storyreel.generators.frames import without_ends
from storyreel.media import write_video


class FlowInterpolator(Backend):
    """Optical-flow frame interpolation between keyframes.

    In-between frames from bidirectional DIS optical flow, falling back to a dissolve where flow fails."""

    name = "preview"
    version = "1"
    requires = ("cv2", "numpy")  # importable modules it needs

    class Options(BackendOptions):
        flow_width: int = Field(320, ge=32, le=4096, description="width the flow is computed at (speed vs detail)")
        max_flow: float = Field(0.15, gt=0.0, le=1.0, description="longest motion trusted, as a fraction of the width")
        occlusion: bool = Field(True, description="weight each keyframe by whether a pixel is visible in both")

    def interpolate(self, request: InterpolationRequest, out: Path) -> None:
        """Write ``request.num_frames`` frames as H.264 to ``out``; frame ``indices[i]`` is ``keyframes[i]``
        (``inner``: the clip less its first and last frame, the neighbours' keyframes)."""
        # 1. check inputs
        _check(request)
        # 2. make the frames and stream them into the encoder
        frames = without_ends(self._frames(request), request.inner)  # a transition: not its neighbours' frames
        count = write_video(frames, out, request.fps, request.width, request.height)
        if count != request.num_frames:  # an internal invariant; the checks above make it hold
            raise RuntimeError(f"wrote {count} frames, expected {request.num_frames}")

    def _frames(self, request: InterpolationRequest) -> Iterator[np.ndarray]:
        size = (request.width, request.height)
        # pixel coordinates, made once per clip: warps look pixels up at grid + flow
        grid = np.dstack(np.meshgrid(np.arange(size[0], dtype=np.float32), np.arange(size[1], dtype=np.float32)))
        previous = _load(request.keyframes[0], *size)
        yield previous
        for i in range(1, len(request.keyframes)):
            following = _load(request.keyframes[i], *size)
            gap = request.indices[i] - request.indices[i - 1]
            if gap > 1:
                between = _Between(previous, following, self.options, grid)
                for k in range(1, gap):
                    yield between.at(k / gap)
            yield following
            previous = following


def _check(request: InterpolationRequest) -> None:
    """The request checks its own indices; here, that every keyframe file is there."""
    missing = [str(path) for path in request.keyframes if not Path(path).is_file()]
    if missing:
        raise FileNotFoundError(f"keyframe images not found: {', '.join(missing)}")


def _load(path: Path, width: int, height: int) -> np.ndarray:
    """Read an image as RGB, resized to width x height if it is not that size already."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read the keyframe {path}")
    if image.shape[:2] != (height, width):
        shrink = image.shape[1] > width
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class _Between:
    """Everything about one pair of keyframes that does not depend on t: flows, trust, visibility."""

    def __init__(self, a: np.ndarray, b: np.ndarray, options: FlowInterpolator.Options, grid: np.ndarray):
        self.a, self.b, self.full_grid = a, b, grid
        h, w = a.shape[:2]
        self.scale = min(1.0, options.flow_width / w)  # the flow is computed at this fraction of full size
        sw, sh = max(1, round(w * self.scale)), max(1, round(h * self.scale))
        small_a = cv2.cvtColor(cv2.resize(a, (sw, sh), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        small_b = cv2.cvtColor(cv2.resize(b, (sw, sh), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        self.grid = np.dstack(np.meshgrid(np.arange(sw, dtype=np.float32), np.arange(sh, dtype=np.float32)))

        # 1. dense flow both ways (DIS needs a few pixels of image; tiny frames just dissolve)
        if min(sw, sh) >= 16:
            dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
            flow_ab, flow_ba = dis.calc(small_a, small_b, None), dis.calc(small_b, small_a, None)
        else:
            flow_ab = flow_ba = np.zeros((sh, sw, 2), np.float32)

        # 2. how far to trust it: forward-backward agreement, and how much of the difference it explains
        visible_a = self._agrees(flow_ab, flow_ba)  # pixels of A that B also shows
        visible_b = self._agrees(flow_ba, flow_ab)
        plain = float(np.mean(cv2.absdiff(small_a, small_b)))
        warped = float(np.mean(cv2.absdiff(small_a, self._warp(small_b, flow_ab))))
        if plain < 1.0:  # (nearly) the same picture: nothing to get wrong
            trust = 1.0
        else:
            agreement = (float(visible_a.mean()) + float(visible_b.mean())) / 2
            explained = 1.0 - warped / plain
            trust = _ramp(agreement, 0.5, 0.85) * _ramp(explained, 0.05, 0.3)
        self.trust = trust

        # 3. trusted flow, capped and smoothed; without trust it fades to zero and the blend is a dissolve
        limit = options.max_flow * sw
        self.flow_ab = cv2.GaussianBlur(_cap(flow_ab, limit) * trust, (0, 0), 1.0)
        self.flow_ba = cv2.GaussianBlur(_cap(flow_ba, limit) * trust, (0, 0), 1.0)
        if options.occlusion:
            self.visible_a = (1.0 - trust * (1.0 - visible_a)).astype(np.float32)
            self.visible_b = (1.0 - trust * (1.0 - visible_b)).astype(np.float32)
        else:
            self.visible_a = self.visible_b = np.ones((sh, sw), np.float32)

    def _agrees(self, forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
        """1.0 where following ``forward`` then ``backward`` comes back to the start (within a pixel or so)."""
        back = self._warp(backward, forward)
        error = np.linalg.norm(forward + back, axis=2)
        tolerance = 1.0 + 0.1 * np.linalg.norm(forward, axis=2)
        agree = (error < tolerance).astype(np.float32)
        return cv2.GaussianBlur(agree, (0, 0), 1.5)  # soft edges: no hard seams in the blend weights

    def _warp(self, image: np.ndarray, flow: np.ndarray) -> np.ndarray:
        """``image`` sampled at each pixel plus ``flow`` (small size)."""
        return cv2.remap(image, self.grid + flow, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def at(self, t: float) -> np.ndarray:
        """The frame at time t (0 < t < 1) between A and B."""
        # flows from time t back to A and on to B, from the two keyframe flows (the linear-motion estimate
        # of Super SloMo, Jiang et al. 2018): each pixel at t is looked up in both keyframes
        f_ab, f_ba = self.flow_ab, self.flow_ba
        to_a = -(1 - t) * t * f_ab + t * t * f_ba
        to_b = (1 - t) * (1 - t) * f_ab - t * (1 - t) * f_ba
        # each keyframe counts by closeness in time, and only where its pixel is visible in the other
        weight_a = (1 - t) * self._warp(self.visible_a, to_a)
        weight_b = t * self._warp(self.visible_b, to_b)
        share_b = weight_b / np.maximum(weight_a + weight_b, 1e-6)

        h, w = self.a.shape[:2]
        warped_a = self._warp_full(self.a, to_a, (w, h))
        warped_b = self._warp_full(self.b, to_b, (w, h))
        share_b = cv2.resize(share_b, (w, h), interpolation=cv2.INTER_LINEAR)
        frame = cv2.blendLinear(warped_a, warped_b, 1.0 - share_b, share_b)
        if self.trust == 0.0:
            return frame  # a dissolve: nothing was resampled
        # bilinear warping and blending two warps soften detail, most halfway between the keyframes, so
        # in-between frames would pulse softer than the keyframes around them; a light sharpening evens it out
        k = self.trust * (0.2 + 0.45 * math.sin(math.pi * t))
        kernel = np.array([[0, -k / 4, 0], [-k / 4, 1 + k, -k / 4], [0, -k / 4, 0]], np.float32)
        return cv2.filter2D(frame, -1, kernel)

    def _warp_full(self, image: np.ndarray, flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """Warp a full-size keyframe by a small-size flow: rescale its vectors, upsample it, remap."""
        if self.trust == 0.0:
            return image  # a pure dissolve: no resampling, no blur
        # resizing is linear, so the vectors are rescaled while still small: cheaper than at full size
        map_xy = cv2.resize(flow * (1.0 / self.scale), size, interpolation=cv2.INTER_LINEAR)
        cv2.add(map_xy, self.full_grid, dst=map_xy)
        return cv2.remap(image, map_xy, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _ramp(value: float, low: float, high: float) -> float:
    """0 below ``low``, 1 above ``high``, smooth in between."""
    t = min(1.0, max(0.0, (value - low) / (high - low)))
    return t * t * (3 - 2 * t)


def _cap(flow: np.ndarray, limit: float) -> np.ndarray:
    """Shorten vectors longer than ``limit`` to that length (keeps their direction)."""
    length = np.linalg.norm(flow, axis=2, keepdims=True)
    return (flow * np.minimum(1.0, limit / np.maximum(length, 1e-6))).astype(np.float32)
