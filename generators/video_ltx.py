"""LTX-Video keyframes and interpolation: ``LTXConditionPipeline`` with frames conditioned at chosen indices.

Both stages of the Video LDM recipe with one model:

- ``LTXKeyframes`` (kind ``keyframes``): a short, low-frame-rate video that starts at the page's illustration
  (an ``LTXVideoCondition`` at frame 0) and follows the motion prompt and camera move; its frames are the
  page's sparse keyframes. By default one generated frame per keyframe, at the keyframe rate (24 fps with
  ``video.keyframe_spacing = 8``: 3 fps), which LTX is told through ``frame_rate``.
- ``LTXInterpolator`` (kind ``interpolation``): the frames between keyframes, every keyframe an
  ``LTXVideoCondition`` at its own frame index, at the film's frame rate; a clip longer than the model's
  window is made in windows that begin and end on keyframes (neighbours share one). Page-to-page
  transitions are the same call with two keyframes.

LTX wants ``8k + 1`` frames and sizes that are multiples of 32: a window of ``n`` frames is generated as the
next ``8k + 1`` and the frames after its last keyframe are dropped; the generation size is the ``width`` x
``height`` option (rounded), and the frames are resized to the film size. The keyframes are pasted back over
the generated frames at their indices, so they are exact.

With ``upsampler`` (``LTXLatentUpsamplePipeline``, e.g. ``Lightricks/ltxv-spatial-upscaler-0.9.7``) each
window is generated at half size, its latents doubled by the upsampler and refined at full size with a few
steps, as LTX 0.9.7 recommends.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from storyreel import runtime
from storyreel.generators import diffusion, frames
from storyreel.generators.base import InterpolationRequest, KeyframeRequest

SETTING = "video.options"
PIPELINES = ("LTXConditionPipeline", "LTXPipeline", "LTXImageToVideoPipeline")
DEFAULT_WINDOW = 121  # frames per call of LTX-Video's published examples (and storyreel's default before auto)


class _ScheduleNotice(logging.Filter):
    """LTXConditionPipeline hands the scheduler its own timesteps, and the scheduler warns about that on every
    call: nothing a user can act on, so it is left out of the output."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "were passed without `sigmas`" not in record.getMessage()


class LTXOptions(diffusion.DiffusionOptions):
    """LTX-Video options; the defaults are LTX-Video 0.9.7 dev (13B) on one large GPU."""

    load_fields: ClassVar[tuple[str, ...]] = (*diffusion.DiffusionOptions.load_fields, "upsampler")

    model: str = "Lightricks/LTX-Video-0.9.7-dev"
    width: int = Field(1216, ge=32, le=4096, description="generation width (multiple of 32; 64 with the upsampler)")
    height: int = Field(704, ge=32, le=4096, description="generation height (multiple of 32; 64 with the upsampler)")
    steps: int = Field(30, ge=1, le=200)
    guidance: float = Field(5.0, ge=0.0, le=30.0)
    guidance_rescale: float = Field(0.7, ge=0.0, le=1.0)
    negative_prompt: str = "worst quality, inconsistent motion, blurry, jittery, distorted"
    max_frames: Annotated[int, Field(ge=9, le=1025)] | Literal["auto"] = Field(
        "auto",
        description=f"frames per call (8k+1); longer clips use windows. auto: from the GPU's free memory, at most "
        f"{DEFAULT_WINDOW} (on a CPU: {DEFAULT_WINDOW})",
    )
    decode_timestep: float = Field(0.05, ge=0.0, le=1.0, description="timestep-aware VAE decoding (LTX >= 0.9.1)")
    decode_noise_scale: float = Field(0.025, ge=0.0, le=1.0)
    image_cond_noise_scale: float = Field(0.0, ge=0.0, le=1.0, description="noise on the conditioning frames")
    upsampler: str = Field("", description="an LTXLatentUpsamplePipeline id or folder; empty: none")
    upsample_steps: int = Field(10, ge=1, le=100, description="refinement steps after the upsampler")
    upsample_denoise: float = Field(0.4, gt=0.0, le=1.0, description="share of the refinement schedule that runs")


class _LTX(diffusion.VideoModel):
    """What the two LTX backends share: options, the resident pipeline, one generation."""

    family = "ltx"
    version = "1"
    requires = ("torch", "diffusers", "transformers", "cv2")  # importable modules it needs
    Options = LTXOptions

    def _load(self) -> diffusion.Loaded:
        from diffusers import LTXConditionPipeline, LTXLatentUpsamplePipeline

        # 1. the pipeline by id or folder, and the optional latent upsampler; 2. on the device
        loaded = diffusion.load_with_upsampler(
            LTXConditionPipeline, LTXLatentUpsamplePipeline, self.options, PIPELINES, SETTING
        )
        return self.ready(*loaded)

    def ready(self, pipe: Any, upsampler: Any = None) -> diffusion.Loaded:
        """Place a pipeline in memory (loaded by ``_load``, or built elsewhere: ``bench/gpu_smoke.py``) on the
        device, with offload and tiling where there is a GPU, and settle the generation size."""
        scheduler_log = logging.getLogger("diffusers.schedulers.scheduling_flow_match_euler_discrete")
        if not any(isinstance(f, _ScheduleNotice) for f in scheduler_log.filters):
            scheduler_log.addFilter(_ScheduleNotice())
        return diffusion.placed_with_upsampler(  # the pipeline checks multiples of 32
            pipe, upsampler, self.options, SETTING, 32, full=DEFAULT_WINDOW
        )

    def _frames_per_call(self, loaded: diffusion.Loaded) -> tuple[int, int]:
        """(temporal multiple, frames per call chosen when it was placed) of the loaded model."""
        return loaded.pipe.vae_temporal_compression_ratio, loaded.window

    def _generate(
        self, loaded: diffusion.Loaded, conditions: list[Any], prompt: str, num_frames: int, frame_rate: float,
        seed: int, label: str,
    ) -> np.ndarray:  # fmt: skip
        """One call: ``num_frames`` uint8 frames at the generation size."""
        opts = self.options
        pipe, (width, height) = loaded.pipe, loaded.size
        common: dict[str, Any] = {
            "conditions": conditions,
            "prompt": prompt,
            "negative_prompt": opts.negative_prompt,
            "num_frames": num_frames,
            "frame_rate": frame_rate,
            "guidance_scale": opts.guidance,
            "guidance_rescale": opts.guidance_rescale,
            "decode_timestep": opts.decode_timestep,
            "decode_noise_scale": opts.decode_noise_scale,
            "image_cond_noise_scale": opts.image_cond_noise_scale,
        }
        what = f"generating {num_frames} frames at {width}x{height}"
        with diffusion.out_of_memory(what, SETTING):
            upsampler = loaded.extra.get("upsampler")
            if upsampler is None:
                video = pipe(
                    **common,
                    width=width,
                    height=height,
                    num_inference_steps=opts.steps,
                    generator=runtime.generator(seed),
                    output_type="np",
                    callback_on_step_end=diffusion.step_progress(label, opts.steps),
                ).frames
                return frames.to_uint8(video[0])
            # 1. half size, to latents; 2. latents doubled by the upsampler; 3. a few refining steps at full size
            latents = pipe(
                **common,
                width=width // 2,
                height=height // 2,
                num_inference_steps=opts.steps,
                generator=runtime.generator(seed),
                output_type="latent",
                callback_on_step_end=diffusion.step_progress(f"{label} (half size)", opts.steps),
            ).frames
            latents = upsampler(latents=latents, output_type="latent", generator=runtime.generator(seed)).frames
            refine_steps = max(1, int(opts.upsample_steps * opts.upsample_denoise))
            video = pipe(
                **common,
                width=width,
                height=height,
                latents=latents,
                denoise_strength=opts.upsample_denoise,
                num_inference_steps=opts.upsample_steps,
                generator=runtime.generator(seed + 1),
                output_type="np",
                callback_on_step_end=diffusion.step_progress(f"{label} (refine)", refine_steps),
            ).frames
            return frames.to_uint8(video[0])


class LTXKeyframes(_LTX):
    """LTX-Video: a low-frame-rate video from the illustration (LTXConditionPipeline)

    Sparse keyframes for a page: a low-frame-rate LTX video that starts at the illustration."""

    name = "ltx"

    def keyframes(self, request: KeyframeRequest, out: Path) -> None:
        """Write one PNG per ``request.indices`` entry into the directory ``out``: k000.png, k001.png, ...
        Each window of the keyframe video is conditioned on its first frame (the illustration, then the
        last frame of the window before) at frame 0, and told the keyframe rate."""
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        def generator_for(loaded: diffusion.Loaded, prompt: str, keyframe_fps: float) -> Any:
            def generate(start: Any, num_frames: int, window: int) -> np.ndarray:
                condition = LTXVideoCondition(image=start, frame_index=0, strength=1.0)
                label = f"keyframes window {window + 1}"
                return self._generate(
                    loaded, [condition], prompt, num_frames, keyframe_fps, request.seed + window, label
                )

            return generate

        diffusion.page_keyframes(request, out, self.options, self._pipeline(), self._frames_per_call, generator_for)


class LTXInterpolator(_LTX):
    """LTX-Video: frames between keyframes conditioned at their indices.

    The frames between keyframes, every keyframe a condition at its frame index."""

    name = "ltx"

    def interpolate(self, request: InterpolationRequest, out: Path) -> None:
        """Write ``request.num_frames`` frames as H.264 to ``out``; frame ``indices[i]`` is ``keyframes[i]``."""

        def make_frames(
            loaded: diffusion.Loaded, keyframes: list[np.ndarray], spans: list[tuple[int, int]], multiple: int
        ) -> Iterator[np.ndarray]:
            return self._frames(loaded, request, keyframes, spans, multiple)

        diffusion.interpolated_clip(request, out, self._pipeline(), self._frames_per_call, make_frames, SETTING)

    def _frames(
        self,
        loaded: diffusion.Loaded,
        request: InterpolationRequest,
        keyframes: list[np.ndarray],
        spans: list[tuple[int, int]],
        multiple: int,
    ) -> Iterator[np.ndarray]:
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition
        from PIL import Image

        prompt = request.prompt.strip() or self.options.default_prompt
        for number, (first, last) in enumerate(spans):
            # a. the window's keyframes as conditions at their indices within the window
            start = request.indices[first]
            span = request.indices[last] - start + 1
            positions = {request.indices[k] - start: keyframes[k] for k in range(first, last + 1)}
            conditions = [
                LTXVideoCondition(image=Image.fromarray(image), frame_index=index, strength=1.0)
                for index, image in positions.items()
            ]
            # b. the next count LTX accepts; frames after the window's last keyframe are dropped
            label = f"clip window {number + 1}/{len(spans)}"
            generated = self._generate(
                loaded, conditions, prompt, frames.frames_for(span, multiple), request.fps,
                request.seed + number, label,
            )[:span]  # fmt: skip
            # c. film size, keyframes pasted back exactly; a window after the first skips the shared keyframe
            for offset in range(0 if number == 0 else 1, span):
                if offset in positions:
                    yield positions[offset]
                else:
                    yield frames.resize(generated[offset], request.width, request.height)
