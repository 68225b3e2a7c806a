"""Music from MusicGen through transformers, for cues of any length.

MusicGen writes up to about 30 s at a time (its training window). A longer cue is made in chunks: the
first is generated from the text alone; each next one is *continued* from the last ``context`` seconds of
the music so far (those seconds are encoded to MusicGen's audio codes and given to the decoder as the
start of its sequence, the way MusicGen's own audio prompts work), and joined with a short crossfade over
the seconds that both takes share, so the seam is the same musical moment heard twice, not a cut.

Models by Hugging Face id or local folder: ``facebook/musicgen-small`` (default), ``-medium``, ``-large``,
``-melody`` (its melody conditioning is not used: the text and the previous chunk steer it), and the
``-stereo-*`` variants. The weights of Meta's MusicGen checkpoints are CC-BY-NC 4.0: non-commercial use
only (see the README for commercial alternatives).

Output: the model's own sample rate (32 kHz for Meta's checkpoints), mono or stereo as the model makes
it, exactly ``duration`` long, faded at the ends and peak-normalised like the synth composer's cues; the
mixer resamples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field, model_validator

from storyreel import runtime
from storyreel.errors import BackendError
from storyreel.generators.audio import crossfade, fade, fit_length, normalise_peak
from storyreel.generators.base import Backend, MusicRequest
from storyreel.media import write_wav

DEFAULT_MODEL = "facebook/musicgen-small"
SETTING = "music.options.model"


@dataclass(frozen=True)
class Chunk:
    """One call to the model: ``context`` seconds of the music so far given as its start (0 for the
    first chunk), ``new`` seconds of music it adds after them."""

    context: float
    new: float


def plan_chunks(duration: float, window: float, context: float) -> list[Chunk]:
    """How a cue of ``duration`` seconds is made with a model that writes ``window`` seconds per call,
    continuing each chunk from the last ``context`` seconds of the one before."""
    if not 0 <= context < window:
        raise ValueError(f"the context ({context} s) must be shorter than the window ({window} s)")
    chunks = [Chunk(0.0, min(duration, window))]
    made = chunks[0].new
    while made < duration - 1e-9:
        new = min(window - context, duration - made)
        chunks.append(Chunk(context, new))
        made += new
    return chunks


class MusicGenComposer(Backend):
    """MusicGen via transformers, any length (weights CC-BY-NC: non-commercial)

    Scores a cue from its mood and prompt with MusicGen (transformers)."""

    name: ClassVar[str] = "musicgen"
    version: ClassVar[str] = "1"
    requires: ClassVar[tuple[str, ...]] = ("torch", "transformers")  # importable modules it needs
    uses_gpu: ClassVar[bool] = True

    class Options(runtime.ModelOptions):
        model: str = Field(DEFAULT_MODEL, description="Hugging Face id, local folder or tiny:musicgen (MusicGen)")
        style: str = Field(
            "gentle orchestral score for a children's picture-book film, instrumental, no vocals",
            description="added to every cue's description",
        )
        window: float = Field(30.0, gt=0, le=30, description="seconds per model call, context included")
        context: float = Field(10.0, ge=0, description="seconds of the music so far that a continuation starts from")
        crossfade: float = Field(1.0, ge=0, description="seconds over which a continuation fades in at its seam")
        guidance_scale: float = Field(3.0, ge=1, description="classifier-free guidance: how closely to follow text")
        temperature: float = Field(1.0, gt=0)
        top_k: int = Field(250, ge=0, description="sample among the k likeliest codes (0: all)")
        peak_db: float = Field(-8.0, le=-6.0, description="peak level of the cue, dBFS: headroom for the mix")
        fade: float = Field(1.5, ge=0, description="seconds of fade in and out (at most a quarter of the cue)")

        @model_validator(mode="after")
        def _windows(self) -> MusicGenComposer.Options:
            if self.context >= self.window:
                raise ValueError(f"context ({self.context} s) must be shorter than window ({self.window} s)")
            if self.crossfade > self.context:
                raise ValueError(f"crossfade ({self.crossfade} s) cannot be longer than context ({self.context} s)")
            return self

    def compose(self, request: MusicRequest, out: Path) -> None:
        """Write exactly ``request.duration`` seconds of music for ``request.mood`` to ``out`` (WAV)."""
        o = self.options
        # 1. check inputs and plan the chunks
        text = describe(request.mood, request.prompt, o.style)
        chunks = plan_chunks(request.duration, o.window, o.context)

        advice = "lower music.options.window, or set music.options.model to a smaller MusicGen (musicgen-small)"
        with runtime.pipeline(self, self._load) as (model, tokenizer), runtime.out_of_memory("making music", advice):
            rate = model.config.audio_encoder.sampling_rate
            frames = round(request.duration * rate)
            if frames == 0:
                raise ValueError(f"a duration of {request.duration} s is shorter than one sample")
            hop = round(rate / model.config.audio_encoder.frame_rate)
            inputs = tokenizer([text], padding=True, return_tensors="pt").to(model.device)

            # 2. the first chunk, from the text alone
            runtime.seed(request.seed)
            music = self._generate(model, inputs, chunks[0].new, None)

            # 3. each next chunk continues from the tail of the music so far; the seam is crossfaded
            for index, chunk in enumerate(chunks[1:], start=1):
                kept = round(chunk.context * rate) // hop * hop  # whole code frames
                context = music[music.shape[0] - kept :] if kept else None
                runtime.seed(request.seed + index)
                take = self._generate(model, inputs, chunk.new, context)
                overlap = min(round(o.crossfade * rate), kept)
                music = crossfade(music, take[kept - overlap :], overlap)

        # 4. exact length, fades, level
        music = fade(fit_length(music, frames), min(o.fade, request.duration / 4), rate)
        write_wav(out, normalise_peak(music, o.peak_db), rate)

    def _load(self) -> tuple[Any, Any]:
        """Model and tokenizer, on the chosen device and dtype (called once, under the pipeline lock)."""
        o = self.options
        source = runtime.resolve(o.model, SETTING, "music", o.local_files_only)  # before the imports: fails fast
        from transformers import (
            AutoConfig,
            AutoTokenizer,
            MusicgenForConditionalGeneration,
            MusicgenMelodyForConditionalGeneration,
        )

        device, dtype = runtime.placement(o)
        with runtime.loading(source, SETTING, "music"):
            config = AutoConfig.from_pretrained(source.source, **source.kwargs())
            classes = {
                "musicgen": MusicgenForConditionalGeneration,
                "musicgen_melody": MusicgenMelodyForConditionalGeneration,
            }
            if config.model_type not in classes:
                raise BackendError(
                    f"{o.model!r} is a {config.model_type!r} model, not MusicGen (musicgen or musicgen_melody)"
                )
            model = classes[config.model_type].from_pretrained(source.source, dtype=dtype, **source.kwargs())
            # the text is all we give (melody's chroma: no)
            tokenizer = AutoTokenizer.from_pretrained(source.source, **source.kwargs())
        return model.to(device).eval(), tokenizer

    def _generate(self, model: Any, inputs: Any, seconds: float, context: np.ndarray | None) -> np.ndarray:
        """``context`` (frames, channels) followed by ``seconds`` of new music, as (frames, channels) float32."""
        import torch

        o = self.options
        config = model.config.audio_encoder
        steps = math.ceil(seconds * config.frame_rate) + model.decoder.num_codebooks  # the delay pattern's lag
        extra: dict[str, Any] = {}
        if context is not None:
            extra["decoder_input_ids"] = _audio_codes(model, context)
        with torch.inference_mode():
            audio = model.generate(
                **inputs,
                **extra,
                do_sample=True,
                guidance_scale=o.guidance_scale,
                temperature=o.temperature,
                top_k=o.top_k,
                max_new_tokens=steps,
            )
        wanted = (0 if context is None else context.shape[0]) + round(seconds * config.sampling_rate)
        take = audio[0].float().cpu().numpy().T  # (frames, channels)
        if take.shape[0] < wanted:
            raise BackendError(f"MusicGen returned {take.shape[0]} samples where {wanted} were expected")
        return take[:wanted]


def describe(mood: str, prompt: str, style: str) -> str:
    """The text MusicGen is given: the cue's mood and prompt, then the film's musical style."""
    parts = [mood.strip()]
    if prompt.strip() and prompt.strip().lower() != mood.strip().lower():
        parts.append(prompt.strip())
    return ", ".join(parts + ([style.strip()] if style.strip() else []))


def _audio_codes(model: Any, context: np.ndarray) -> Any:
    """Encode audio (frames, channels) to MusicGen's decoder input: codes of shape (num_codebooks, frames),
    the left and right codebooks interleaved for a stereo model (as MusicGen does with its audio prompts)."""
    import torch

    encoder = model.audio_encoder
    values = torch.from_numpy(np.ascontiguousarray(context.T)).to(model.device, encoder.dtype)[None]  # (1, ch, T)
    channels = model.decoder.config.audio_channels
    with torch.inference_mode():
        if channels == 1:
            codes = encoder.encode(values[:, :1]).audio_codes[0]  # (1, codebooks, frames)
        else:
            left = encoder.encode(values[:, :1]).audio_codes[0]
            right = encoder.encode(values[:, -1:]).audio_codes[0]
            codes = torch.stack([left, right], dim=2).flatten(1, 2)  # L0 R0 L1 R1 ...
    if codes.shape[1] != model.decoder.num_codebooks:
        raise BackendError(
            f"the audio encoder made {codes.shape[1]} codebooks, the decoder expects {model.decoder.num_codebooks}"
        )
    return codes.reshape(model.decoder.num_codebooks, -1)
