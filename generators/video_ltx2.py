"""LTX-2 keyframes and interpolation with their own sound: ``LTX2ConditionPipeline``, keyframes conditioned at
their frame indices, video and synchronized audio from one call.

- ``LTX2Keyframes`` (kind ``keyframes``): a short, low-frame-rate video that starts at the page's illustration
  (an ``LTX2VideoCondition`` at latent index 0), told the keyframe rate; its frames are the page's keyframes.
- ``LTX2Interpolator`` (kind ``interpolation``): the frames between keyframes, every keyframe a condition at its
  own position, at the film's frame rate, and the sound LTX-2 makes with them. A clip longer than the model's
  window is made in windows that begin and end on keyframes (neighbours share one). Page-to-page transitions are
  the same call with two keyframes. The clip is written with its sound as an AAC track, exactly as long as the
  clip; the flow takes it from there as the page's ambience/effects (``sfx.backend = "video"``).

Where a keyframe goes: LTX-2 takes a condition at a *latent* index ``k``, which is pixel frame ``(k - 1) * r + 1``
(``r``: the VAE's temporal compression, 8; latent 0 is frame 0). A window's keyframes are put at the latent index
nearest their frame, the window is generated as the next ``r * k + 1`` frames, and the generated frames are
mapped back onto the clip's frames piecewise linearly in time, keyframe to keyframe (a shift of at most ``r / 2``
frames); the keyframes themselves are pasted back exactly. The sound of each window is stretched the same way to
the frames it covers.

Schedules: ``schedule = "distilled"`` (the default) runs the distilled checkpoint's 8 sigmas with no guidance;
``"full"`` runs ``steps`` steps with classifier-free guidance. With ``upsampler`` (an
``LTX2LatentUpsamplePipeline``) each window is generated at half size, its latents doubled by the upsampler and
refined at full size with the distilled stage-2 sigmas, as LTX-2's two-stage recipe does.

Condition frames: LTX-2 was trained on keyframes re-compressed with H.264 (``condition_crf``: None, the model's
own value, which needs PyAV; 0 skips it).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from storyreel import runtime
from storyreel.errors import BackendError
from storyreel.generators import diffusion, frames
from storyreel.generators.base import InterpolationRequest, KeyframeRequest

SETTING = "video.options"
PUBLISHED_WINDOW = 121  # frames per call of LTX-2's published configs (768x512, 121 frames)
PIPELINES = ("LTX2ConditionPipeline", "LTX2Pipeline", "LTX2ImageToVideoPipeline")


class LTX2Options(diffusion.DiffusionOptions):
    """LTX-2 options; the defaults are the distilled LTX-2 at its published 768x512 on one large GPU."""

    load_fields: ClassVar[tuple[str, ...]] = (*diffusion.DiffusionOptions.load_fields, "upsampler")

    # the distilled checkpoint in diffusers' format, the one diffusers' LTX-2 docs use with the distilled sigmas;
    # Lightricks/LTX-2 in diffusers' format is the dev (full) model: with it, schedule="full"
    model: str = "rootonchair/LTX-2-19b-distilled"
    width: int = Field(768, ge=32, le=4096, description="generation width (multiple of 32; 64 with the upsampler)")
    height: int = Field(512, ge=32, le=4096, description="generation height (multiple of 32; 64 with the upsampler)")
    schedule: Literal["distilled", "full"] = Field(
        "distilled", description="distilled: 8 sigmas, no guidance (distilled checkpoints); full: steps with guidance"
    )
    steps: int = Field(40, ge=1, le=200, description="denoising steps of the full schedule")
    guidance: float = Field(4.0, ge=0.0, le=30.0, description="guidance of the full schedule (distilled: none)")
    negative_prompt: str = "worst quality, inconsistent motion, blurry, jittery, distorted"
    max_frames: Annotated[int, Field(ge=9, le=1025)] | Literal["auto"] = Field(
        "auto",
        description="frames per call (8k+1); longer clips use windows. auto: from the GPU's free memory, at most "
        f"the published {PUBLISHED_WINDOW} (on a CPU: {PUBLISHED_WINDOW})",
    )
    condition_crf: int | None = Field(
        None, ge=0, le=51, description="H.264 CRF the keyframes are re-compressed with; None: the model's (PyAV)"
    )
    sound: bool = Field(True, description="keep the sound LTX-2 makes with each clip (an AAC track of the clip)")
    upsampler: str = Field("", description="an LTX2LatentUpsamplePipeline id or folder; empty: none")
    max_sequence_length: int = Field(1024, ge=8, le=4096, description="prompt tokens for the text encoder")


def distilled_sigmas(stage: int = 1) -> list[float]:
    """The distilled checkpoint's sigmas: stage 1 (8 steps) or stage 2 (the refinement after the upsampler)."""
    from diffusers.pipelines.ltx2.utils import DISTILLED_SIGMA_VALUES, STAGE_2_DISTILLED_SIGMA_VALUES

    return list(DISTILLED_SIGMA_VALUES if stage == 1 else STAGE_2_DISTILLED_SIGMA_VALUES)


def latent_positions(offsets: list[int], multiple: int) -> tuple[list[int], list[int]]:
    """For keyframes at frame ``offsets`` of a window (the first 0): the latent index each is conditioned at,
    and the generated frame that index stands for (latent 0: frame 0; latent k: frame (k - 1) * multiple + 1).
    Each keyframe takes the nearest latent index after the one before."""
    latents, positions = [0], [0]
    for offset in offsets[1:]:
        index = max(latents[-1] + 1, round((offset - 1) / multiple) + 1)
        latents.append(index)
        positions.append((index - 1) * multiple + 1)
    return latents, positions


def time_map(offsets: list[int], positions: list[int]) -> list[int]:
    """For every frame 0..offsets[-1] of a window, the generated frame that shows it: piecewise linear from
    keyframe to keyframe (``offsets[i]`` of the clip is ``positions[i]`` of the generation)."""
    mapped: list[int] = []
    for (o0, o1), (p0, p1) in zip(
        zip(offsets, offsets[1:], strict=False), zip(positions, positions[1:], strict=False), strict=True
    ):
        mapped += [round(p0 + (o - o0) * (p1 - p0) / (o1 - o0)) for o in range(o0, o1)]
    return [*mapped, positions[-1]]


def stretch(sound: np.ndarray, samples: int) -> np.ndarray:
    """A (samples, channels) sound stretched in time to ``samples`` samples (linear interpolation)."""
    if len(sound) == samples:
        return sound
    if len(sound) < 2:
        return np.zeros((samples, sound.shape[1]), dtype=np.float32)
    where = np.linspace(0.0, len(sound) - 1, samples)
    return np.stack([np.interp(where, np.arange(len(sound)), sound[:, c]) for c in range(sound.shape[1])], 1).astype(
        np.float32
    )


class _LTX2(diffusion.VideoModel):
    """What the two LTX-2 backends share: options, the resident pipeline, one generation."""

    family = "ltx2"
    version = "1"
    requires = ("torch", "diffusers", "transformers", "cv2")  # importable modules it needs
    Options = LTX2Options

    def _load(self) -> diffusion.Loaded:
        from diffusers import LTX2ConditionPipeline, LTX2LatentUpsamplePipeline

        # 1. the pipeline by id or folder, and the optional latent upsampler; 2. on the device
        loaded = diffusion.load_with_upsampler(
            LTX2ConditionPipeline, LTX2LatentUpsamplePipeline, self.options, PIPELINES, SETTING
        )
        return self.ready(*loaded)

    def ready(self, pipe: Any, upsampler: Any = None) -> diffusion.Loaded:
        """Place a pipeline in memory (loaded by ``_load``, or built elsewhere: ``bench/gpu_film.py``) on the
        device, with offload, tiling, compile and the cache hook where there is a GPU; settle the size."""
        return diffusion.placed_with_upsampler(
            pipe, upsampler, self.options, SETTING, pipe.vae_spatial_compression_ratio, full=PUBLISHED_WINDOW
        )

    def _frames_per_call(self, loaded: diffusion.Loaded) -> tuple[int, int]:
        """(temporal multiple, frames per call chosen when it was placed) of the loaded model."""
        return loaded.pipe.vae_temporal_compression_ratio, loaded.window

    def _conditions(self, images: dict[int, np.ndarray]) -> list[Any]:
        """``LTX2VideoCondition``s: latent index -> image."""
        from diffusers.pipelines.ltx2.pipeline_ltx2_condition import LTX2VideoCondition
        from PIL import Image

        crf = self.options.condition_crf
        if crf is None:
            try:
                import av  # noqa: F401  (LTX-2 re-compresses its keyframes with PyAV)
            except ImportError:
                raise BackendError(
                    f"LTX-2 re-compresses its keyframes as it was trained, which needs PyAV: pip install av, "
                    f"or set {SETTING}.condition_crf=0 to condition on them as they are"
                ) from None
        return [
            LTX2VideoCondition(frames=Image.fromarray(image), index=index, strength=1.0, crf=crf)
            for index, image in images.items()
        ]

    def _generate(
        self, loaded: diffusion.Loaded, conditions: list[Any], prompt: str, num_frames: int, frame_rate: float,
        seed: int, label: str,
    ) -> tuple[np.ndarray, np.ndarray, int]:  # fmt: skip
        """One call: ``num_frames`` uint8 frames at the generation size, and its sound ((samples, channels)
        float32) at its sample rate."""
        opts = self.options
        pipe, (width, height) = loaded.pipe, loaded.size
        distilled = opts.schedule == "distilled"
        schedule: dict[str, Any] = (
            {"sigmas": distilled_sigmas(1), "num_inference_steps": len(distilled_sigmas(1)), "guidance_scale": 1.0}
            if distilled
            else {"num_inference_steps": opts.steps, "guidance_scale": opts.guidance}
        )
        common: dict[str, Any] = {
            "conditions": conditions,
            "prompt": prompt,
            "negative_prompt": opts.negative_prompt,
            "num_frames": num_frames,
            "frame_rate": frame_rate,
            "max_sequence_length": opts.max_sequence_length,
        }
        if distilled:  # the distilled checkpoint runs without any guidance, audio included
            common.update(stg_scale=0.0, modality_scale=1.0, audio_guidance_scale=1.0, audio_stg_scale=0.0,
                          audio_modality_scale=1.0)  # fmt: skip
        steps = schedule["num_inference_steps"]
        upsampler = loaded.extra.get("upsampler")

        def run() -> Any:
            if upsampler is None:
                return pipe(
                    **common, **schedule, width=width, height=height, generator=runtime.generator(seed),
                    output_type="np", callback_on_step_end=diffusion.step_progress(label, steps),
                )  # fmt: skip
            # 1. half size, to latents; 2. latents doubled by the upsampler; 3. stage-2 sigmas at full size
            half = pipe(
                **common, **schedule, width=width // 2, height=height // 2, generator=runtime.generator(seed),
                output_type="latent", callback_on_step_end=diffusion.step_progress(f"{label} (half)", steps),
            )  # fmt: skip
            latents = upsampler(
                latents=half.frames, height=height // 2, width=width // 2, num_frames=num_frames,
                output_type="latent", generator=runtime.generator(seed),
            ).frames  # fmt: skip
            refine = distilled_sigmas(2)
            return pipe(
                **common, width=width, height=height, latents=latents, audio_latents=half.audio, sigmas=refine,
                num_inference_steps=len(refine), guidance_scale=1.0, generator=runtime.generator(seed + 1),
                output_type="np", callback_on_step_end=diffusion.step_progress(f"{label} (refine)", len(refine)),
            )  # fmt: skip

        def lower() -> str | None:  # out of memory: one offload step lower (VAE tiling on), else smaller windows
            return diffusion.step_lower(loaded, opts, pipe.vae_temporal_compression_ratio, num_frames)

        what = f"generating {num_frames} frames at {width}x{height}"
        advice = diffusion.memory_advice(SETTING, num_frames, pipe.vae_temporal_compression_ratio)
        out = runtime.retry_lower(run, lower, what, advice)
        video = frames.to_uint8(out.frames[0])
        sound = out.audio[0].float().cpu().numpy().T  # (channels, samples) -> (samples, channels)
        return video, np.ascontiguousarray(sound, dtype=np.float32), int(pipe.vocoder.config.output_sampling_rate)


class LTX2Keyframes(_LTX2):
    """LTX-2: a low-frame-rate video from the illustration (LTX2ConditionPipeline), its frames the keyframes."""

    name = "ltx2"

    def keyframes(self, request: KeyframeRequest, out: Path) -> None:
        """Write one PNG per ``request.indices`` entry into the directory ``out``: k000.png, k001.png, ...
        Each window is conditioned on its first frame (the illustration, then the last frame of the window
        before) at latent index 0 and told the keyframe rate; the sound of the keyframe video is not kept."""

        def generator_for(loaded: diffusion.Loaded, prompt: str, keyframe_fps: float) -> Any:
            def generate(start: Any, num_frames: int, window: int) -> np.ndarray:
                conditions = self._conditions({0: np.asarray(start.convert("RGB"))})
                label = f"keyframes window {window + 1}"
                video, _, _ = self._generate(
                    loaded, conditions, prompt, num_frames, keyframe_fps, request.seed + window, label
                )
                return video

            return generate

        diffusion.page_keyframes(request, out, self.options, self._pipeline(), self._frames_per_call, generator_for)


class LTX2Interpolator(_LTX2):
    """LTX-2: the frames between keyframes conditioned at their indices, with the clip's own sound."""

    name = "ltx2"

    def interpolate(self, request: InterpolationRequest, out: Path) -> None:
        """Write ``request.num_frames`` frames as H.264 to ``out``, frame ``indices[i]`` being ``keyframes[i]``,
        and (``sound``) the sound made with them as an AAC track of exactly the clip's length."""
        from storyreel.media import write_wav

        sounds: list[tuple[np.ndarray, int]] = []  # per window: its sound, stretched to the frames it covers

        def make_frames(
            loaded: diffusion.Loaded, keyframes: list[np.ndarray], spans: list[tuple[int, int]], multiple: int
        ) -> Iterator[np.ndarray]:
            sounds.clear()  # made again in smaller windows after running out of memory: the sound too
            return self._frames(loaded, request, keyframes, spans, multiple, sounds)

        with tempfile.TemporaryDirectory(prefix="storyreel-ltx2-") as tmp:
            silent = Path(tmp) / "video.mp4"
            diffusion.interpolated_clip(request, silent, self._pipeline(), self._frames_per_call, make_frames, SETTING)
            if not self.options.sound:
                Path(out).write_bytes(silent.read_bytes())
                return
            rate = sounds[0][1]
            sound = np.concatenate([s for s, _ in sounds])
            samples = round(request.num_frames / request.fps * rate)
            sound = stretch(sound, samples) if abs(len(sound) - samples) > 1 else _fit(sound, samples)
            wav = Path(tmp) / "sound.wav"
            write_wav(wav, sound, rate)
            mux(silent, wav, Path(out))

    def _frames(
        self,
        loaded: diffusion.Loaded,
        request: InterpolationRequest,
        keyframes: list[np.ndarray],
        spans: list[tuple[int, int]],
        multiple: int,
        sounds: list[tuple[np.ndarray, int]],
    ) -> Iterator[np.ndarray]:
        prompt = request.prompt.strip() or self.options.default_prompt
        for number, (first, last) in enumerate(spans):
            # a. the window's keyframes at the latent indices nearest their frames
            start = request.indices[first]
            offsets = [request.indices[k] - start for k in range(first, last + 1)]
            latents, positions = latent_positions(offsets, multiple)
            conditions = self._conditions({index: keyframes[first + i] for i, index in enumerate(latents)})
            # b. one call covering the last keyframe's position
            num_frames = frames.frames_for(positions[-1] + 1, multiple)
            label = f"clip window {number + 1}/{len(spans)}"
            video, sound, rate = self._generate(
                loaded, conditions, prompt, num_frames, request.fps, request.seed + number, label
            )
            # c. the generated frames mapped onto the window's frames; keyframes pasted back exactly; a window
            #    after the first skips the keyframe it shares with the one before
            mapping = time_map(offsets, positions)
            skip = 0 if number == 0 else 1
            covered = len(mapping) - skip
            gen_start = mapping[skip] if skip else 0
            # d. the sound of the frames it covers (in proportion: the sound spans the whole generation)
            a, b = (round(f / num_frames * len(sound)) for f in (gen_start, positions[-1] + 1))
            sounds.append((stretch(sound[a : max(b, a + 2)], round(covered / request.fps * rate)), rate))
            keyed = dict(zip(offsets, (keyframes[first + i] for i in range(len(offsets))), strict=True))
            for offset in range(skip, len(mapping)):
                if offset in keyed:
                    yield keyed[offset]
                else:
                    yield frames.resize(video[mapping[offset]], request.width, request.height)


def _fit(sound: np.ndarray, samples: int) -> np.ndarray:
    """Padded with silence or cut to ``samples``."""
    if len(sound) >= samples:
        return sound[:samples]
    return np.concatenate([sound, np.zeros((samples - len(sound), sound.shape[1]), dtype=sound.dtype)])


def mux(video: Path, sound: Path, out: Path) -> None:
    """``video`` (its H.264 stream copied) with ``sound`` as an AAC track, written to ``out`` (an mp4)."""
    from storyreel.media import ffmpeg_exe

    result = subprocess.run(
        [
            ffmpeg_exe(), "-v", "error", "-y", "-i", str(video), "-i", str(sound), "-map", "0:v:0", "-map", "1:a:0",
            "-c:v", "copy", "-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart", "-f", "mp4", str(out),
        ],
        capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        raise BackendError(f"could not add the clip's sound to {out.name}: {result.stderr.strip()[:300]}")


def has_sound(clip: Path) -> bool:
    """Whether the clip has a sound track."""
    from storyreel.media import probe

    return any(s.get("codec_type") == "audio" for s in probe(clip).get("streams", []))


def clip_sound(clip: Path, out: Path, seconds: float) -> bool:
    """The sound track of ``clip`` as a WAV of exactly ``seconds`` (48 kHz stereo) in ``out``; False when the
    clip has no sound track (a backend that makes none)."""
    from storyreel.media import ffmpeg_exe, read_wav, write_wav

    if not has_sound(clip):
        return False
    with tempfile.TemporaryDirectory(prefix="storyreel-sound-") as tmp:
        raw = Path(tmp) / "sound.wav"
        result = subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-y", "-i", str(clip), "-vn", "-ac", "2", "-ar", "48000", str(raw)],
            capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode != 0:
            raise BackendError(f"could not read the sound of {clip.name}: {result.stderr.strip()[:300]}")
        sound, rate = read_wav(raw)
    write_wav(out, _fit(sound, round(seconds * rate)), rate)
    return True
