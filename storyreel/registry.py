"""Backends by kind and name, loaded lazily.

``kind -> name -> "module:Class"``. Built-ins are listed here; third-party packages add theirs through
the entry-point group ``storyreel.backends`` with names ``"<kind>.<name>"``, e.g.::

    [project.entry-points."storyreel.backends"]
    "image.mymodel" = "my_package.image_mymodel:MyModel"

Nothing heavy is imported until a backend is created, so ``storyreel --help`` never imports torch.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, ValidationError

from storyreel.errors import BackendError, ConfigError

ENTRY_POINT_GROUP = "storyreel.backends"
KINDS = ("image", "keyframes", "interpolation", "narration", "music", "sfx", "assemble", "critic")


@dataclass(frozen=True)
class BackendInfo:
    kind: str
    name: str
    target: str  # "module:Class"
    requires: tuple[str, ...] = ()  # importable module names it needs
    install: str = ""  # how to get what it needs
    summary: str = ""
    origin: str = field(default="built-in")

    def missing(self) -> list[str]:
        """Modules it needs that are not importable (checked without importing them)."""
        return [mod for mod in self.requires if importlib.util.find_spec(mod) is None]


_G = "storyreel.generators"
AUDIOCRAFT_INSTALL = (
    "it pins torch 2.1: install it in a separate environment (README, 'audiocraft'), "
    "or use music.backend=musicgen, sfx.backend=stable-audio"
)
BUILTINS: tuple[BackendInfo, ...] = (
    BackendInfo("image", "preview", f"{_G}.preview_image:PreviewIllustrator", ("PIL", "numpy"),
                summary="procedural picture-book illustrations, CPU"),
    BackendInfo("image", "diffusers", f"{_G}.image_diffusers:DiffusersIllustrator",
                ("torch", "diffusers", "transformers"), "pip install torch diffusers transformers accelerate",
                "text-to-image LDM by Hugging Face id or folder (FLUX.2 klein, FLUX.1, SDXL, SD ...)"),
    BackendInfo("keyframes", "preview", f"{_G}.preview_keyframes:CameraKeyframes", ("cv2", "numpy"),
                "pip install opencv-python-headless", "sparse keyframes from camera moves over the illustration"),
    BackendInfo("interpolation", "preview", f"{_G}.preview_interpolation:FlowInterpolator", ("cv2", "numpy"),
                "pip install opencv-python-headless", "optical-flow frame interpolation between keyframes"),
    BackendInfo("keyframes", "ltx", f"{_G}.video_ltx:LTXKeyframes", ("torch", "diffusers", "transformers", "cv2"),
                "pip install torch diffusers transformers accelerate",
                "LTX-Video: a low-frame-rate video from the illustration (LTXConditionPipeline)"),
    BackendInfo("interpolation", "ltx", f"{_G}.video_ltx:LTXInterpolator",
                ("torch", "diffusers", "transformers", "cv2"),
                "pip install torch diffusers transformers accelerate",
                "LTX-Video: frames between keyframes conditioned at their indices"),
    BackendInfo("keyframes", "wan", f"{_G}.video_wan:WanKeyframes", ("torch", "diffusers", "transformers", "ftfy"),
                "pip install 'storyreel[video]' (ftfy)",
                "Wan image-to-video from the illustration (WanImageToVideoPipeline)"),
    BackendInfo("interpolation", "wan", f"{_G}.video_wan:WanInterpolator",
                ("torch", "diffusers", "transformers", "ftfy"),
                "pip install 'storyreel[video]' (ftfy)",
                "Wan first/last-frame interpolation between neighbouring keyframes"),
    BackendInfo("narration", "espeak", f"{_G}.narration_espeak:EspeakNarrator", ("espeakng_loader",),
                "pip install espeakng-loader", "espeak-ng voice, offline"),
    BackendInfo("music", "synth", f"{_G}.music_synth:SynthComposer", ("numpy", "scipy"),
                summary="music synthesized from the mood of each cue"),
    BackendInfo("sfx", "synth", f"{_G}.sfx_synth:SynthSfx", ("numpy", "scipy"),
                summary="synthesized wind, rain, waves, fire, birds ..."),
    BackendInfo("narration", "kokoro", f"{_G}.narration_kokoro:KokoroNarrator", ("torch", "kokoro", "misaki"),
                "pip install 'storyreel[audio]'",
                "Kokoro-82M neural TTS (Apache-2.0), voices per narrator and character"),
    BackendInfo("music", "musicgen", f"{_G}.music_musicgen:MusicGenComposer", ("torch", "transformers"),
                "pip install torch transformers",
                "MusicGen via transformers, any length (weights CC-BY-NC: non-commercial)"),
    BackendInfo("sfx", "stable-audio", f"{_G}.sfx_stable_audio:StableAudioSfx", ("torch", "diffusers", "torchsde"),
                "pip install 'storyreel[audio]'",
                "Stable Audio Open via diffusers, any cue (Stability AI Community License)"),
    BackendInfo("music", "audiocraft", f"{_G}.music_audiocraft:AudiocraftComposer", ("audiocraft",),
                AUDIOCRAFT_INSTALL, "MusicGen via Meta's audiocraft (weights CC-BY-NC)"),
    BackendInfo("sfx", "audiogen", f"{_G}.sfx_audiogen:AudioGenSfx", ("audiocraft",),
                AUDIOCRAFT_INSTALL, "AudioGen via Meta's audiocraft (weights CC-BY-NC)"),
    BackendInfo("critic", "clip", f"{_G}.critic_clip:ClipCritic", ("torch", "transformers"),
                "pip install torch transformers", "CLIP score of a picture against its prompt (image.critic)"),
    BackendInfo("assemble", "moviepy", f"{_G}.assemble_moviepy:MoviePyAssembler", ("moviepy", "imageio_ffmpeg"),
                "pip install moviepy imageio-ffmpeg", "MoviePy 2 assembly, H.264 + AAC"),
)  # fmt: skip


def all_backends() -> list[BackendInfo]:
    """Built-ins, then plugins from the ``storyreel.backends`` entry-point group."""
    found = list(BUILTINS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        kind, _, name = ep.name.partition(".")
        if kind in KINDS and name:
            found.append(BackendInfo(kind, name, ep.value, origin=ep.dist.name if ep.dist else "plugin"))
    return found


def names(kind: str) -> list[str]:
    return sorted({b.name for b in all_backends() if b.kind == kind})


def info(kind: str, name: str) -> BackendInfo:
    if kind not in KINDS:
        raise ConfigError(f"unknown backend kind {kind!r}; kinds: {', '.join(KINDS)}")
    for backend in reversed(all_backends()):  # a plugin may replace a built-in of the same name
        if backend.kind == kind and backend.name == name:
            return backend
    raise ConfigError(f"unknown {kind} backend {name!r}; available: {', '.join(names(kind)) or 'none'}")


def load(kind: str, name: str) -> type:
    """Import and return the backend class."""
    backend = info(kind, name)
    missing = backend.missing()
    if missing:
        hint = f": {backend.install}" if backend.install else ""
        raise BackendError(f"{kind} backend {name!r} needs {', '.join(missing)}{hint}")
    module_name, _, attr = backend.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = f" ({backend.install})" if backend.install else ""
        raise BackendError(f"{kind} backend {name!r} could not be imported: {exc}{hint}") from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise BackendError(f"{kind} backend {name!r}: {module_name} has no {attr}") from None


def create(kind: str, name: str, options: dict[str, Any] | None = None) -> Any:
    """Build a backend with its options checked against its ``Options`` model."""
    cls = load(kind, name)
    options_model: type[BaseModel] | None = getattr(cls, "Options", None)
    if options_model is None:
        if options:
            raise ConfigError(f"{kind} backend {name!r} takes no options, got {sorted(options)}")
        return cls()
    try:
        parsed = options_model.model_validate(options or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        known = ", ".join(options_model.model_fields) or "none"
        raise ConfigError(f"{kind} backend {name!r} option {key!r}: {first['msg']} (options: {known})") from None
    return cls(parsed)


_instances: dict[str, Any] = {}
_instances_lock = threading.Lock()


def instance(kind: str, name: str, options: dict[str, Any] | None = None) -> Any:
    """A backend built once per process for the same kind, name and options (models stay loaded)."""
    import json

    key = f"{kind}:{name}:{json.dumps(options or {}, sort_keys=True, default=str)}"
    with _instances_lock:
        if key not in _instances:
            _instances[key] = create(kind, name, options)
        return _instances[key]
