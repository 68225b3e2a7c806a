"""Music from MusicGen through Meta's own library, audiocraft (used only where audiocraft is installed).

audiocraft 1.3 pins torch 2.1 and imports xformers and spaCy when it loads, so it cannot share an
environment with storyreel's current torch and diffusers: this plugin lives in an environment of its own
(README.md beside its pyproject.toml), or use ``music.backend = "musicgen"``, the same MusicGen weights
through transformers, which needs nothing more. ``storyreel backends`` says whether it is usable here.

audiocraft continues music past MusicGen's 30 s window itself (``extend_stride``). The weights of Meta's
MusicGen checkpoints are CC-BY-NC 4.0: non-commercial use only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from storyreel import runtime
from storyreel.errors import BackendError
from storyreel.generators.audio import fade_envelope, fit_length, normalise_peak
from storyreel.generators.base import Backend, BackendOptions, MusicRequest
from storyreel.generators.music_musicgen import describe
from storyreel.media import write_wav

INSTALL = (
    "audiocraft 1.3 pins torch 2.1 and needs xformers: install it and this plugin in a separate environment "
    "(plugins/storyreel-audiocraft/README.md); or use music.backend=musicgen (the same MusicGen through "
    "transformers) and sfx.backend=stable-audio"
)

OUT_OF_MEMORY_ADVICE = "choose a smaller model or close other programs using the GPU"


def import_audiocraft() -> Any:
    """``audiocraft.models``, or a BackendError that says how to get it."""
    try:
        import audiocraft.models
    except ImportError as exc:
        raise BackendError(f"audiocraft is not usable here ({exc}): {INSTALL}") from exc
    return audiocraft.models


def generate(backend: Any, what: str, description: str, duration: float, seed: int, **params: Any) -> tuple:
    """``(samples, sample_rate)``: ``duration`` seconds (frames x channels, float) of ``description`` from the
    backend's resident audiocraft model (``backend._load`` makes it), seeded; ``params`` are its generation
    parameters. audiocraft continues past the model's window by itself (``extend_stride``)."""
    import torch

    import_audiocraft()  # checked first, so its absence is said plainly
    with (
        runtime.pipeline(backend, backend._load) as model,
        runtime.out_of_memory(
            f"in the {what} model {backend.options.model!r}",
            "choose a smaller model or close other programs using the GPU",
        ),
    ):
        model.set_generation_params(use_sampling=True, duration=duration, **params)
        torch.manual_seed(seed)
        audio = model.generate([description], progress=False)[0]
        rate = model.sample_rate
    return fit_length(audio.float().cpu().numpy().T, round(duration * rate)), rate


def write_faded(out: Path, sound: Any, rate: int, fade: float, peak_db: float) -> None:
    """``sound`` faded in and out over ``fade`` seconds, peaking at ``peak_db``, as a WAV at ``out``."""
    sound *= fade_envelope(len(sound), round(fade * rate))[:, None]
    write_wav(out, normalise_peak(sound, peak_db), rate)


def load_model(cls: str, options: Any, setting: str, what: str) -> Any:
    """audiocraft's ``cls`` (MusicGen, AudioGen) with ``options.model`` on ``options.device``."""
    models = import_audiocraft()
    with runtime.loading(options.model, setting, what):
        return getattr(models, cls).get_pretrained(options.model, device=runtime.device(options.device))


class AudiocraftBackend(Backend):
    """What the plugin's backends share: audiocraft, and the GPU when there is one."""

    requires: ClassVar[tuple[str, ...]] = ("audiocraft",)  # importable modules it needs
    install: ClassVar[str] = INSTALL
    uses_gpu: ClassVar[bool] = True


class AudiocraftComposer(AudiocraftBackend):
    """MusicGen via Meta's audiocraft (weights CC-BY-NC)

    Scores a cue with MusicGen through audiocraft."""

    name: ClassVar[str] = "audiocraft"
    version: ClassVar[str] = "1"

    class Options(BackendOptions):
        model: str = Field("facebook/musicgen-small", description="audiocraft MusicGen name or Hugging Face id")
        style: str = Field(
            "gentle orchestral score for a children's picture-book film, instrumental, no vocals",
            description="added to every cue's description",
        )
        extend_stride: float = Field(18.0, gt=0, lt=30, description="seconds added per step past the 30 s window")
        cfg_coef: float = Field(3.0, ge=1, description="classifier-free guidance")
        top_k: int = Field(250, ge=0)
        temperature: float = Field(1.0, gt=0)
        peak_db: float = Field(-8.0, le=-6.0, description="peak level of the cue, dBFS")
        fade: float = Field(1.5, ge=0, description="seconds of fade in and out (at most a quarter of the cue)")
        device: str = Field("auto", description="auto | cpu | cuda | cuda:N")

    def compose(self, request: MusicRequest, out: Path) -> None:
        """Write exactly ``request.duration`` seconds of music for ``request.mood`` to ``out`` (WAV)."""
        o = self.options
        # 1. generate, exactly as long as the cue
        music, rate = generate(
            self, "music", describe(request.mood, request.prompt, o.style), request.duration, request.seed,
            top_k=o.top_k, temperature=o.temperature, cfg_coef=o.cfg_coef, extend_stride=o.extend_stride,
        )  # fmt: skip
        # 2. fades, level
        write_faded(out, music, rate, min(o.fade, request.duration / 4), o.peak_db)

    def _load(self) -> Any:
        return load_model("MusicGen", self.options, "music.options.model", "music")
