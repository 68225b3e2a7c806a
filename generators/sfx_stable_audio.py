"""Sound effects from Stable Audio Open through diffusers (``StableAudioPipeline``).

Any cue can be made: the model takes a free text description, so ``UnsupportedCue`` is never raised.
The description is the cue's prompt (or its sound name) with a short style note. The model writes up to
about 47 s per call and is told the length it should fill; a longer cue is made of several takes (each
from its own seed) joined with equal-power crossfades, which suits ambiences (waves, rain, a campfire).

Models by Hugging Face id or local folder; the default, ``stabilityai/stable-audio-open-1.0``, is gated
(accept its license on its page, then ``hf auth login``) and under the Stability AI Community License:
free for research and for organisations under USD 1M annual revenue (see the README).

Output: the model's sample rate (44.1 kHz stereo for Stable Audio Open), exactly ``duration`` long,
faded at the ends and peak-normalised to ``peak_db`` like the synth effects, so a cue's ``gain_db`` sets
its level in the mix the same way whichever backend made it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from storyreel import runtime
from storyreel.generators.audio import crossfade, fade, fit_length, normalise_peak
from storyreel.generators.base import Backend, SfxRequest
from storyreel.media import write_wav

DEFAULT_MODEL = "stabilityai/stable-audio-open-1.0"
SETTING = "sfx.options.model"


class StableAudioSfx(Backend):
    """Stable Audio Open via diffusers, any cue (Stability AI Community License)

    Makes any sound effect a text can describe, with Stable Audio Open (a diffusers pipeline, placed in
    memory like the image and video backends)."""

    name: ClassVar[str] = "stable-audio"
    version: ClassVar[str] = "1"
    requires: ClassVar[tuple[str, ...]] = ("torch", "diffusers", "torchsde")  # importable modules it needs
    uses_gpu: ClassVar[bool] = True

    class Options(runtime.PipelineOptions):
        """Stable Audio Open 1.0's defaults; device, dtype, offload, vae_tiling and compile as every pipeline."""

        model: str = Field(DEFAULT_MODEL, description="Hugging Face id, local folder or tiny:stable-audio")
        style: str = Field("sound effect, high quality, realistic", description="added to every cue's description")
        negative_prompt: str = Field("music, speech, low quality, distorted", description="what to steer away from")
        steps: int = Field(100, ge=1, le=500, description="denoising steps")
        guidance_scale: float = Field(7.0, ge=1)
        crossfade: float = Field(1.0, ge=0, description="seconds of crossfade between takes of a long cue")
        peak_db: float = Field(-1.0, le=0, description="peak level of the effect, dBFS")
        fade: float = Field(0.3, ge=0, description="seconds of fade at each end (at most a fifth of the cue)")

    def make(self, request: SfxRequest, out: Path) -> None:
        """Write ``request.duration`` seconds of the cue to ``out`` (WAV)."""
        import torch

        o = self.options
        # 1. check inputs
        text = describe(request.cue.sound, request.cue.prompt, o.style)

        advice = 'lower sfx.options.steps, or set sfx.options.offload="model"'
        with runtime.pipeline(self, self._load) as pipe, runtime.out_of_memory("making a sound effect", advice):
            rate = pipe.vae.config.sampling_rate
            frames = round(request.duration * rate)
            if frames == 0:
                raise ValueError(f"a duration of {request.duration} s is shorter than one sample")
            longest = pipe.transformer.config.sample_size * pipe.vae.hop_length / rate
            overlap = min(o.crossfade, longest / 4)

            # 2. takes of at most the model's length; each one after the first overlaps the one before
            sound: np.ndarray | None = None
            take = 0
            while sound is None or sound.shape[0] < frames - round(0.01 * rate):  # a few ms short: padded
                have = 0.0 if sound is None else sound.shape[0] / rate - overlap
                seconds = min(longest, request.duration - have)
                generator = runtime.generator(request.seed + take)
                with torch.inference_mode():
                    audio = pipe(
                        text,
                        negative_prompt=o.negative_prompt or None,
                        audio_end_in_s=seconds,
                        num_inference_steps=o.steps,
                        guidance_scale=o.guidance_scale,
                        generator=generator,
                    ).audios[0]
                piece = audio.float().cpu().numpy().T  # (frames, channels)
                sound = piece if sound is None else crossfade(sound, piece, round(overlap * rate), equal_power=True)
                take += 1

        # 3. exact length, fades, level
        sound = fade(fit_length(sound, frames), min(o.fade, request.duration / 5), rate)
        write_wav(out, normalise_peak(sound, o.peak_db), rate)

    def _load(self) -> Any:
        """The pipeline on the chosen device and dtype (called once, under the pipeline lock)."""
        from diffusers import StableAudioPipeline

        o = self.options
        _, dtype = runtime.placement(o)
        model = runtime.resolve(o.model, SETTING, "sound-effect", o.local_files_only)
        with runtime.loading(model, SETTING, "sound-effect", hint="Stable Audio also needs `pip install torchsde`"):
            pipe = StableAudioPipeline.from_pretrained(model.source, dtype=dtype, **model.kwargs())
        runtime.place(pipe, o, "sfx.options")
        return pipe


def describe(sound: str, prompt: str, style: str) -> str:
    """The text the model is given: the cue's description (or its name), then the style note."""
    main = prompt.strip() or sound.strip()
    return ", ".join(p for p in (main, style.strip()) if p)
