"""Wan keyframes and interpolation: ``WanImageToVideoPipeline`` with a first and, to interpolate, a last frame.

- ``WanKeyframes`` (kind ``keyframes``): Wan image-to-video from the page's illustration, following the motion
  prompt and camera move; the keyframes are the frames nearest their times in a video at ``keyframe_fps``. By
  default one frame per keyframe: Wan cannot be told a frame rate, so what it makes as a second of motion
  spreads over the page (slow, gentle motion, and far cheaper); ``keyframe_fps = 16``, Wan's own rate, gives
  motion at its natural pace. A page longer than the model's window continues from the last frame of the
  window before.
- ``WanInterpolator`` (kind ``interpolation``): first/last-frame interpolation between each pair of
  neighbouring keyframes (``image`` and ``last_image``). Wan wants ``4k + 1`` frames: a gap of ``g`` frames is
  generated as the next ``4k + 1 >= g + 1`` and, when longer, sampled back to ``g + 1`` frames in time.
  Page-to-page transitions are one pair. The prompt is encoded once per clip, not once per pair.

Models: a first/last-frame checkpoint (``Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers``, the default) or an
image-to-video one that takes ``last_image`` through its latents (Wan 2.2 I2V A14B). FLF2V checkpoints expect
the CLIP embeddings of two images; for plain image-to-video (keyframes) the illustration stands for both.
The frames are generated at the ``width`` x ``height`` option (multiples of 16) and resized to the film size;
the keyframes are pasted back exactly.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from storyreel import progress, runtime
from storyreel.generators import diffusion, frames
from storyreel.generators.base import InterpolationRequest, KeyframeRequest

SETTING = "video.options"
PIPELINES = ("WanImageToVideoPipeline",)
PUBLISHED_WINDOW = 81  # frames per call of Wan 2.1 FLF2V's published configs (81 frames at 16 fps)


class WanOptions(diffusion.DiffusionOptions):
    """Wan options; the defaults are Wan 2.1 FLF2V 14B at 720p on one large GPU."""

    model: str = "Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers"
    width: int = Field(1280, ge=16, le=4096, description="generation width (multiple of 16)")
    height: int = Field(720, ge=16, le=4096, description="generation height (multiple of 16)")
    steps: int = Field(30, ge=1, le=200)
    guidance: float = Field(5.0, ge=0.0, le=30.0)
    negative_prompt: str = "blurry, distorted, deformed, static, jittery, low quality, watermark, text"
    max_frames: Annotated[int, Field(ge=5, le=1025)] | Literal["auto"] = Field(
        "auto",
        description=f"frames per call (4k+1). auto: from the GPU's free memory, at most the published "
        f"{PUBLISHED_WINDOW} (on a CPU: {PUBLISHED_WINDOW})",
    )
    keyframe_fps: float | None = Field(
        None, gt=0, le=60, description="rate of the keyframe video; None: one frame per keyframe; 16: Wan's own"
    )


@functools.cache
def pipeline_class() -> type:
    """``WanImageToVideoPipeline``, able to take one image on a first/last-frame checkpoint."""
    from diffusers import WanImageToVideoPipeline

    class WanPipeline(WanImageToVideoPipeline):
        """FLF2V checkpoints (``pos_embed_seq_len`` set) embed two images; with one, the one stands for both."""

        def encode_image(self, image: Any, device: Any = None) -> Any:
            if not isinstance(image, list) and self.transformer.config.pos_embed_seq_len:
                image = [image, image]
            return super().encode_image(image, device)

    return WanPipeline


class _Wan(diffusion.VideoModel):
    """What the two Wan backends share: options, the resident pipeline, one generation."""

    family = "wan"
    version = "1"
    requires = ("torch", "diffusers", "transformers", "ftfy")  # importable modules it needs
    Options = WanOptions

    def _load(self) -> diffusion.Loaded:
        opts = self.options
        # 1. the pipeline, by id or folder
        pipe = diffusion.load_pipeline(pipeline_class(), opts.model, opts, PIPELINES, f"{SETTING}.model")
        # 2. on the device
        return self.ready(pipe)

    def ready(self, pipe: Any) -> diffusion.Loaded:
        """Place a pipeline in memory (loaded by ``_load``, or built elsewhere: ``bench/gpu_smoke.py``) on the
        device, with offload and tiling where there is a GPU, and settle the generation size."""
        from storyreel.generators import autotune

        placement, choice = autotune.tune(pipe, self.options, SETTING, PUBLISHED_WINDOW)
        progress.note(f"{SETTING}: {choice.why}")
        multiple = pipe.vae_scale_factor_spatial * pipe.transformer.config.patch_size[1]
        size = frames.round_size(self.options.width, self.options.height, multiple)
        return diffusion.Loaded(pipe, placement, size, {"tuned": choice.why}, choice.window)

    def _frames_per_call(self, loaded: diffusion.Loaded) -> tuple[int, int]:
        """(temporal multiple, frames per call chosen when it was placed) of the loaded model."""
        return loaded.pipe.vae_scale_factor_temporal, loaded.window

    def _prompt(self, loaded: diffusion.Loaded, prompt: str) -> dict[str, Any]:
        """The prompt and negative prompt encoded once, for every call of a clip."""
        pipe = loaded.pipe
        with diffusion.out_of_memory("encoding the prompt", SETTING):
            positive, negative = pipe.encode_prompt(
                prompt=prompt,
                negative_prompt=self.options.negative_prompt,
                do_classifier_free_guidance=self.options.guidance > 1.0,
            )
        return {"prompt_embeds": positive, "negative_prompt_embeds": negative}

    def _generate(
        self, loaded: diffusion.Loaded, prompt: dict[str, Any], first: Any, last: Any, num_frames: int, seed: int,
        label: str,
    ) -> np.ndarray:  # fmt: skip
        """One call: ``num_frames`` uint8 frames at the generation size, from ``first`` (to ``last``)."""
        opts = self.options
        width, height = loaded.size
        with diffusion.out_of_memory(f"generating {num_frames} frames at {width}x{height}", SETTING):
            video = loaded.pipe(
                image=first,
                last_image=last,
                **prompt,
                width=width,
                height=height,
                num_frames=num_frames,
                num_inference_steps=opts.steps,
                guidance_scale=opts.guidance,
                generator=runtime.generator(seed),
                output_type="np",
                callback_on_step_end=diffusion.step_progress(label, opts.steps),
            ).frames
        return frames.to_uint8(video[0])


class WanKeyframes(_Wan):
    """Wan image-to-video from the illustration (WanImageToVideoPipeline)

    Sparse keyframes for a page: Wan image-to-video from the illustration, sampled at the keyframe times."""

    name = "wan"

    def keyframes(self, request: KeyframeRequest, out: Path) -> None:
        """Write one PNG per ``request.indices`` entry into the directory ``out``: k000.png, k001.png, ...
        The prompt is encoded once; each window is image-to-video from its first frame (Wan cannot be told
        a frame rate, so ``keyframe_fps`` only sets how many frames the keyframe video has)."""

        def generator_for(loaded: diffusion.Loaded, prompt_text: str, keyframe_fps: float) -> Any:
            prompt = self._prompt(loaded, prompt_text)

            def generate(start: Any, num_frames: int, window: int) -> np.ndarray:
                label = f"keyframes window {window + 1}"
                return self._generate(loaded, prompt, start, None, num_frames, request.seed + window, label)

            return generate

        diffusion.page_keyframes(request, out, self.options, self._pipeline(), self._frames_per_call, generator_for)


class WanInterpolator(_Wan):
    """Wan first/last-frame interpolation between neighbouring keyframes.

    First/last-frame interpolation between each pair of neighbouring keyframes."""

    name = "wan"

    def interpolate(self, request: InterpolationRequest, out: Path) -> None:
        """Write ``request.num_frames`` frames as H.264 to ``out``; frame ``indices[i]`` is ``keyframes[i]``.
        One generation per pair of keyframes (every gap fits one call: the windows are checked, not used)."""

        def make_frames(
            loaded: diffusion.Loaded, keyframes: list[np.ndarray], spans: list[tuple[int, int]], multiple: int
        ) -> Iterator[np.ndarray]:
            return self._frames(loaded, request, keyframes, multiple)

        diffusion.interpolated_clip(request, out, self._pipeline(), self._frames_per_call, make_frames, SETTING)

    def _frames(
        self, loaded: diffusion.Loaded, request: InterpolationRequest, keyframes: list[np.ndarray], multiple: int
    ) -> Iterator[np.ndarray]:
        from PIL import Image

        prompt = self._prompt(loaded, request.prompt.strip() or self.options.default_prompt)
        pairs = len(keyframes) - 1
        yield keyframes[0]
        for number in range(pairs):
            gap = request.indices[number + 1] - request.indices[number]
            if gap > 1:
                # a. the next count Wan accepts, from this keyframe to the next
                num_frames = frames.frames_for(gap + 1, multiple)
                generated = self._generate(
                    loaded, prompt, Image.fromarray(keyframes[number]), Image.fromarray(keyframes[number + 1]),
                    num_frames, request.seed + number, f"clip pair {number + 1}/{pairs}",
                )  # fmt: skip
                # b. sampled back to the gap in time, resized to the film size
                for step in range(1, gap):
                    frame = generated[round(step * (num_frames - 1) / gap)]
                    yield frames.resize(frame, request.width, request.height)
            # c. the next keyframe, exactly
            yield keyframes[number + 1]
