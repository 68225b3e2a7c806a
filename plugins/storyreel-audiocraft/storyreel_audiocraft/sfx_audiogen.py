"""Sound effects from AudioGen through Meta's audiocraft (used only where audiocraft is installed).

audiocraft 1.3 pins torch 2.1 and imports xformers and spaCy when it loads, so it cannot share an
environment with storyreel's current torch and diffusers: this plugin lives in an environment of its own
(README.md beside its pyproject.toml), or use ``sfx.backend = "stable-audio"``. ``storyreel backends`` says
whether it is usable here.

AudioGen takes any description, so ``UnsupportedCue`` is never raised; it writes 10 s per window and
extends past it by itself. The AudioGen weights are CC-BY-NC 4.0: non-commercial use only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from storyreel.generators.base import BackendOptions, SfxRequest
from storyreel.generators.sfx_stable_audio import describe
from storyreel_audiocraft.music_audiocraft import AudiocraftBackend, generate, load_model, write_faded


class AudioGenSfx(AudiocraftBackend):
    """AudioGen via Meta's audiocraft (weights CC-BY-NC)

    Makes any sound effect a text can describe, with AudioGen through audiocraft."""

    name: ClassVar[str] = "audiogen"
    version: ClassVar[str] = "1"

    class Options(BackendOptions):
        model: str = Field("facebook/audiogen-medium", description="audiocraft AudioGen name or Hugging Face id")
        style: str = Field("", description="added to every cue's description")
        extend_stride: float = Field(2.0, gt=0, lt=10, description="seconds added per step past the 10 s window")
        cfg_coef: float = Field(3.0, ge=1, description="classifier-free guidance")
        top_k: int = Field(250, ge=0)
        peak_db: float = Field(-1.0, le=0, description="peak level of the effect, dBFS")
        fade: float = Field(0.3, ge=0, description="seconds of fade at each end (at most a fifth of the cue)")
        device: str = Field("auto", description="auto | cpu | cuda | cuda:N")

    def make(self, request: SfxRequest, out: Path) -> None:
        """Write ``request.duration`` seconds of the cue to ``out`` (WAV)."""
        o = self.options
        # 1. generate, exactly as long as the cue
        sound, rate = generate(
            self, "sound-effect", describe(request.cue.sound, request.cue.prompt, o.style), request.duration,
            request.seed, top_k=o.top_k, cfg_coef=o.cfg_coef, extend_stride=o.extend_stride,
        )  # fmt: skip
        # 2. fades, level
        write_faded(out, sound, rate, min(o.fade, request.duration / 5), o.peak_db)

    def _load(self) -> Any:
        return load_model("AudioGen", self.options, "sfx.options.model", "sound-effect")
