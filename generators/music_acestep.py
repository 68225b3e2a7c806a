"""Music from ACE-Step 1.5 through diffusers (``AceStepPipeline``): one cue per stretch of pages, in one call.

ACE-Step writes 10 s to several minutes of music in one generation (48 kHz stereo for the published
checkpoints), so a cue is never made in chunks: the pipeline is asked for the cue's length, and what it returns
is cut or padded to exactly ``duration`` (the VAE works in whole latents of 1920 samples, 40 ms), faded at the ends
and peak-normalised like the other composers' cues. The mood, the cue's prompt and the ``style`` option make the
text prompt; ``lyrics`` is empty (instrumental) unless set. The turbo checkpoints run 8 steps without guidance
(the default); a base/SFT checkpoint wants ``guidance`` > 1 and more ``steps``.

Weights: ``ACE-Step/acestep-v15-xl-turbo-diffusers`` (the default: the id diffusers documents; MIT per its
card), any folder saved from an AceStepPipeline, or ``tiny:ace-step``. Deterministic per seed (a CPU
generator: the same music on any device).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from storyreel import runtime
from storyreel.generators import diffusion
from storyreel.generators.audio import fade, fit_length, normalise_peak
from storyreel.generators.base import Backend, MusicRequest
from storyreel.media import write_wav

SETTING = "music.options"
PIPELINES = ("AceStepPipeline",)


def describe(mood: str, prompt: str, style: str) -> str:
    """The text ACE-Step is given: the cue's prompt (or its mood), then the style."""
    what = prompt.strip() or f"{mood} music"
    return f"{what}, {mood}, {style}" if prompt.strip() else f"{what}, {style}"


class AceStepComposer(Backend):
    """ACE-Step 1.5 via diffusers: one call per cue, exactly its length (MIT weights)."""

    name: ClassVar[str] = "ace-step"
    version: ClassVar[str] = "1"
    requires: ClassVar[tuple[str, ...]] = ("torch", "diffusers", "transformers")  # importable modules it needs
    uses_gpu: ClassVar[bool] = True

    class Options(runtime.PipelineOptions):
        auto_dtype: ClassVar[str] = "bfloat16"

        model: str = Field(
            "ACE-Step/acestep-v15-xl-turbo-diffusers", description="Hugging Face id, local folder or tiny:ace-step"
        )
        style: str = Field(
            "gentle orchestral score for a children's picture-book film, instrumental",
            description="added to every cue's description",
        )
        lyrics: str = Field("", description="lyrics for every cue ('': instrumental)")
        steps: int = Field(8, ge=1, le=200, description="denoising steps (the turbo checkpoints: 8)")
        guidance: float = Field(1.0, ge=1.0, le=30.0, description="classifier-free guidance (turbo: 1, off)")
        shift: float = Field(3.0, ge=1.0, le=5.0, description="timestep schedule shift (ACE-Step: 1, 2 or 3)")
        max_text_length: int = Field(256, ge=8, le=1024, description="prompt tokens")
        peak_db: float = Field(-8.0, le=-6.0, description="peak level of the cue, dBFS: headroom for the mix")
        fade: float = Field(1.5, ge=0, description="seconds of fade in and out (at most a quarter of the cue)")

    def compose(self, request: MusicRequest, out: Path) -> None:
        """Write exactly ``request.duration`` seconds of music for ``request.mood`` to ``out`` (WAV)."""
        o = self.options
        # 1. the prompt
        text = describe(request.mood, request.prompt, o.style)
        # 2. one generation of the cue's length
        with runtime.pipeline(self, self._load) as pipe:
            rate = pipe.sample_rate
            samples = round(request.duration * rate)
            if samples == 0:
                raise ValueError(f"a duration of {request.duration} s is shorter than one sample")
            advice = f'lower the cue\'s length or set {SETTING}.offload="model"'
            with runtime.out_of_memory(f"making {request.duration:.1f} s of music", advice):
                audio = pipe(
                    prompt=text,
                    lyrics=o.lyrics,
                    audio_duration=request.duration,
                    num_inference_steps=o.steps,
                    guidance_scale=o.guidance,
                    shift=o.shift,
                    max_text_length=o.max_text_length,
                    generator=runtime.generator(request.seed),
                    callback_on_step_end=diffusion.step_progress("music", o.steps),
                ).audios
        music = np.ascontiguousarray(audio[0].float().cpu().numpy().T, dtype=np.float32)  # (samples, channels)
        # 3. exact length, fades, level
        music = fade(fit_length(music, samples), min(o.fade, request.duration / 4), rate)
        write_wav(out, normalise_peak(music, o.peak_db), rate)

    def _load(self) -> Any:
        """The pipeline by id or folder, placed on its device (called once, under the pipeline lock)."""
        o, setting = self.options, f"{SETTING}.model"
        source = runtime.resolve(o.model, setting, "music", o.local_files_only)  # before the imports: fails fast
        from diffusers import AceStepPipeline

        if source.local:
            diffusion.check_folder(Path(source.source), PIPELINES, setting)
        _, dtype = runtime.placement(o)
        with runtime.loading(source, setting, "music"):
            pipe = AceStepPipeline.from_pretrained(source.source, dtype=dtype, **source.kwargs())
        runtime.place(pipe, o, SETTING)
        return pipe
