"""Configuration: every default in one place, named profiles, and layered overrides.

Layers, lowest first: the defaults below, the profile (``storyreel/profiles/<name>.toml``), a
``storyreel.toml`` in the working directory (or ``--config FILE``), ``STORYREEL_<SECTION>__<KEY>``
environment variables, then ``--set section.key=value``. Every section forbids unknown keys, so a typo
is an error that names the key, never a silently ignored setting.

The resolved config is a plain model passed explicitly into the flow and written to the run dir
(``config.json``). A resumed or revised run starts from that file, with ``--set`` on top
(``saved_config``). Every layering, fresh or resumed, goes through one merge (``merge``): a resumed run
given ``--set x`` gets the config a fresh run given the same ``--set x`` would have had.
"""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from storyreel.errors import ConfigError
from storyreel.limits import shown

ENV_PREFIX = "STORYREEL_"
PROFILES = {  # name -> what it is for (storyreel/profiles/<name>.toml)
    "auto": "gpu when CUDA is there, else preview; it says which it picked and why",
    "preview": "runs anywhere on a CPU in about a minute: procedural pictures, espeak-ng, synthesized sound",
    "sketch": "preview backends at thumbnail size: a seconds-long smoke run",
    "tiny": "the gpu profile's real model classes at tiny sizes, built locally: every model path on a CPU",
    "gpu": "real models on one CUDA GPU, at film size",
}


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class StorySection(Section):
    pages: int = Field(6, ge=1, le=24, description="pages when --pages is not given")
    style: str = Field("soft watercolor picture book, warm light", max_length=300, description="default visual style")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="base seed when --seed is not given")


class LLMSection(Section):
    model: str = Field(
        "offline",
        description="offline (bundled Gemma 3 270M) | ollama:<model> | openai:<model> | hf:<repo-or-path>",
    )
    base_url: str = Field("", description="OpenAI-compatible server URL (vLLM, llama.cpp); empty: default")
    temperature: float = Field(0.8, ge=0, le=2)
    max_new_tokens: int = Field(60, ge=8, le=4096, description="per page for the offline model; per answer otherwise")
    precision: Literal["bfloat16-head", "float32"] = Field(
        "bfloat16-head",
        description="offline and hf: models on the CPU: bfloat16-head (the output head in bfloat16, a third faster "
        "to sample, the same text quality) or float32",
    )
    retries: int = Field(3, ge=1, le=10, description="tries for a valid structured answer")
    critic_rounds: int = Field(1, ge=0, le=5, description="critic <-> reviser rounds (chat models only)")


class BackendSection(Section):
    backend: str = "preview"
    options: dict[str, Any] = Field(default_factory=dict, description="backend-specific options")


class PictureSection(BackendSection):
    """A section that makes pictures of the film's size."""

    width: int = Field(1280, ge=16, le=4096, multiple_of=2)
    height: int = Field(720, ge=16, le=4096, multiple_of=2)


class ImageSection(PictureSection):
    negative_prompt: str = "blurry, deformed, text, watermark"
    model: str = Field("", description="model id or folder for backends that take one (wins over options.model)")
    critic: bool = Field(False, description="score each illustration against its prompt with CLIP; retry when low")
    critic_backend: str = Field("clip", description="the critic backend (kind critic) that scores a picture")
    critic_model: str = Field("openai/clip-vit-base-patch32", description="CLIP id or folder: 0.6 GB, MIT license")
    critic_threshold: float = Field(
        22.0, ge=-100, le=100, description="CLIP score (100 x cosine) under which the next seed is tried; ~30: a match"
    )
    critic_tries: int = Field(3, ge=1, le=10, description="illustrations made per page at most; the best is kept")


class VideoSection(PictureSection):
    interpolation: str = Field("", description="interpolation backend; empty: the same name as backend")
    interpolation_options: dict[str, Any] = Field(
        default_factory=dict,
        description="interpolation backend options; when it is the keyframe backend itself, on top of options",
    )
    fps: int = Field(24, ge=1, le=60)
    keyframe_spacing: int = Field(8, ge=1, le=240, description="frames between sparse keyframes (24/8 = 3 fps)")
    transition: float = Field(0.75, ge=0, le=3, description="seconds of interpolated page-to-page transition")


class NarrationSection(BackendSection):
    backend: str = "espeak"
    voice: str = ""
    rate: float = Field(1.0, gt=0.3, le=3)
    lead_in: float = Field(0.6, ge=0, le=10, description="seconds of picture before the narrator speaks")
    tail: float = Field(0.9, ge=0, le=10, description="seconds of picture after the narrator stops")
    min_page: float = Field(3.0, gt=0, le=60, description="shortest page in seconds")


class MusicSection(BackendSection):
    backend: str = "synth"
    enabled: bool = True
    gain_db: float = Field(-8.0, ge=-60, le=0, description="music level relative to narration before ducking")
    duck_db: float = Field(-14.0, ge=-60, le=0, description="extra music level change under narration")


VIDEO_SOUND = "video"  # sfx.backend: each page's sound is the one its video model made with its clip (ltx2)


class SfxSection(BackendSection):
    backend: str = Field("synth", description=f"sound-effect backend; {VIDEO_SOUND!r}: the page clips' own sound")
    enabled: bool = True
    gain_db: float = Field(0.0, ge=-40, le=12, description="the whole effects track, on top of each cue's gain_db")


class AssembleSection(BackendSection):
    backend: str = "moviepy"
    burn_subtitles: bool = False
    fade: float = Field(0.5, ge=0, le=3)
    target_lufs: float = Field(-16.0, ge=-40, le=-6)
    true_peak_db: float = Field(-1.5, ge=-20, le=0)


class RunSection(Section):
    out: str = Field("runs", description="folder that holds the run directories")
    task_runner: Literal["thread", "dask", "ray"] = Field(
        "thread", description="where tasks run: thread (this process) | dask (prefect-dask) | ray (prefect-ray)"
    )
    max_workers: int = Field(2, ge=1, le=64, description="tasks that run at once on the CPU (thread runner)")
    dask_address: str = Field("", description="Dask scheduler, e.g. tcp://10.0.0.5:8786; empty: a local cluster")
    dask_workers: int = Field(2, ge=1, le=256, description="worker processes of the local Dask cluster")
    ray_address: str = Field("", description="Ray cluster, e.g. ray://head:10001; empty: a local Ray")
    gpu_limit: str = Field(
        "storyreel-gpu", description="Prefect global concurrency limit GPU generations hold (made if missing; '': none)"
    )
    gpu_slots: int = Field(1, ge=1, le=64, description="generations at once under gpu_limit when it is made: 1 per GPU")


class BookSection(Section):
    enabled: bool = Field(True, description="make the read-along book (book.epub, book/index.html) with the film")
    language: str = Field("en", description="the book's language, a BCP 47 tag such as en, en-GB, fr")


class Config(Section):
    profile: str = "preview"
    story: StorySection = Field(default_factory=StorySection)
    llm: LLMSection = Field(default_factory=LLMSection)
    image: ImageSection = Field(default_factory=ImageSection)
    video: VideoSection = Field(default_factory=VideoSection)
    narration: NarrationSection = Field(default_factory=NarrationSection)
    music: MusicSection = Field(default_factory=MusicSection)
    sfx: SfxSection = Field(default_factory=SfxSection)
    assemble: AssembleSection = Field(default_factory=AssembleSection)
    run: RunSection = Field(default_factory=RunSection)
    book: BookSection = Field(default_factory=BookSection)


# --- loading ----------------------------------------------------------------------------------


def cuda_available() -> tuple[bool, str]:
    """Whether a CUDA GPU is usable, and why (cheap checks first: no torch import without a driver)."""
    if not (shutil.which("nvidia-smi") or Path("/dev/nvidia0").exists()):
        return False, "no NVIDIA driver found"
    try:
        import torch
    except ImportError:
        return False, "torch is not installed"
    if not torch.cuda.is_available():
        return False, f"torch {torch.__version__} sees no CUDA device"
    return True, f"CUDA device {torch.cuda.get_device_name(0)}"


def resolve_profile(name: str) -> tuple[str, str]:
    """Map a profile name to a concrete profile and the reason it was picked."""
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}; choose one of: {', '.join(PROFILES)}")
    if name != "auto":
        return name, "chosen"
    ok, why = cuda_available()
    return ("gpu", f"auto: {why}") if ok else ("preview", f"auto: {why}, using the CPU preview profile")


def profile_data(name: str) -> dict[str, Any]:
    text = resources.files("storyreel").joinpath("profiles", f"{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _parse_value(raw: str) -> Any:
    """Strings from the command line or the environment: JSON when it parses (numbers, booleans,
    lists, objects), else the string itself. Pydantic then checks the type per key."""
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        lowered = raw.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        return raw


def _set_path(target: dict[str, Any], dotted: str, value: Any, origin: str) -> None:
    parts = dotted.split(".")
    if len(parts) < 2 or not all(parts):
        raise ConfigError(f"{origin}: {shown(dotted)!r} is not of the form section.key")
    section = parts[0]
    if section not in Config.model_fields or section == "profile":
        raise ConfigError(f"{origin}: unknown section {shown(section)!r}; sections: {', '.join(_sections())}")
    node = target
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{origin}: {dotted!r} goes below a value that is not a table")
    node[parts[-1]] = value


def _sections() -> list[str]:
    return [name for name in Config.model_fields if name != "profile"]


# An options table belongs to a backend: the table -> the settings naming its backend, first non-empty wins.
_OPTIONS_OF = {"options": ("backend",), "interpolation_options": ("interpolation", "backend")}


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _deep_merge(out[key], value) if both else value
    return out


def _backend_named(section: str, values: dict[str, Any], owners: tuple[str, ...]) -> str:
    defaults = Config.model_fields[section].default_factory()  # type: ignore[misc]
    for owner in owners:
        if name := values.get(owner, getattr(defaults, owner, "")):
            return str(name)
    return ""


def merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``top`` (a layer of settings: a profile, a file, the environment, ``--set``) over ``base``.

    Tables merge key by key, at any depth, so ``--set image.options.steps=4`` changes one option and keeps
    the others. One exception: an options table (``options``, ``video.interpolation_options``) belongs to
    the backend it configures, so a layer that names another backend (``--set image.backend=preview``)
    drops the options given below it for the old one and keeps only its own. Without that, the old
    backend's options would be handed to the new backend, which refuses options it does not know.
    """
    out = _deep_merge(base, top)
    for section, values in top.items():
        if not isinstance(values, dict) or section not in Config.model_fields or section == "profile":
            continue
        below = base.get(section) if isinstance(base.get(section), dict) else {}
        for table, owners in _OPTIONS_OF.items():
            if _backend_named(section, below, owners) == _backend_named(section, out[section], owners):
                continue
            if table in values:
                out[section][table] = values[table]
            else:
                out[section].pop(table, None)
    return out


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``["video.fps=30", ...]`` to a nested dict; a malformed item is a ConfigError."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {shown(item)!r}: expected section.key=value")
        try:
            item.encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigError(f"--set {shown(item)!r}: not UTF-8 text") from None
        _set_path(overrides, key.strip(), _parse_value(raw.strip()), f"--set {shown(key.strip())}")
        check_known(key.strip(), f"--set {shown(key.strip())}")
    return overrides


def env_variables(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The ``STORYREEL_<SECTION>__<KEY>`` variables of ``environ``: dotted key -> the variable's name."""
    environ = dict(os.environ) if environ is None else environ
    names = {}
    for name in sorted(environ):
        if name.startswith(ENV_PREFIX) and "__" in name:
            names[name[len(ENV_PREFIX) :].lower().replace("__", ".")] = name
    return names


def env_overrides(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """``STORYREEL_VIDEO__FPS=30`` to ``{"video": {"fps": 30}}``. STORYREEL_PROFILE is handled apart.
    A variable naming a setting that does not exist is a ConfigError that names the variable."""
    environ = dict(os.environ) if environ is None else environ
    overrides: dict[str, Any] = {}
    for dotted, name in env_variables(environ).items():
        origin = f"environment variable {name}"
        _set_path(overrides, dotted, _parse_value(environ[name]), origin)
        check_known(dotted, origin)
    return overrides


def check_known(dotted: str, origin: str) -> None:
    """``dotted`` names a setting of ``Config`` (keys below an options table are the backend's to check);
    a ConfigError that names ``origin`` (the file, variable or ``--set``) and the known keys otherwise."""
    model: type[BaseModel] = Config
    parts = dotted.split(".")
    for depth, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None or (depth == 0 and part == "profile"):
            where = ".".join(parts[:depth])
            known = ", ".join(_sections() if depth == 0 else sorted(model.model_fields))
            hint = f"keys in [{where}]: {known}" if where else f"sections: {known}"
            raise ConfigError(f"{origin}: unknown setting {shown(dotted)!r}; {hint}")
        annotation = field.annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return  # a value, or a table such as options whose keys its backend checks
        model = annotation


def _layers(
    profile: str | None, sets: list[str] | None, config_file: Path | None, env: dict[str, str], cwd: Path | None
) -> tuple[str, str, str, list[tuple[str, dict[str, Any], dict[str, str]]]]:
    """The layers of settings, lowest first: ``(label, settings, dotted key -> where it was set)`` each; and
    the profile picked, why, and where its name came from."""
    if profile is not None and not profile.strip():
        raise ConfigError(f"--profile is empty; choose one of: {', '.join(PROFILES)}")
    requested = profile or env.get(f"{ENV_PREFIX}PROFILE") or "auto"
    named_by = "--profile" if profile else f"env {ENV_PREFIX}PROFILE" if env.get(f"{ENV_PREFIX}PROFILE") else "default"
    name, why = resolve_profile(requested)
    layers: list[tuple[str, dict[str, Any], dict[str, str]]] = [(f"profile {name}", profile_data(name), {})]
    if config_file is None and cwd is None:
        try:
            cwd = Path.cwd()
        except FileNotFoundError:
            raise ConfigError("the working folder no longer exists: cd into a folder that does") from None
    path = config_file or cwd / "storyreel.toml"
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file {config_file} does not exist")
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
        data.pop("profile", None)
        for dotted in _leaves(data):
            _set_path({}, dotted, None, str(path))
            check_known(dotted, str(path))
        layers.append((str(path), data, {}))
    layers.append(("env", env_overrides(env), {k: f"env {v}" for k, v in env_variables(env).items()}))
    layers.append(("--set", parse_sets(sets or []), {}))
    return name, why, named_by, layers


def _leaves(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"video": {"fps": 30}}`` -> ``{"video.fps": 30}``; an empty table is a leaf of its own."""
    leaves: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            leaves.update(_leaves(value, f"{dotted}."))
        else:
            leaves[dotted] = value
    return leaves


def load_config(
    profile: str | None = None,
    sets: list[str] | None = None,
    config_file: Path | None = None,
    environ: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[Config, str]:
    """Resolve the config; returns it and a one-line note of which profile was picked and why.

    Args:
        profile: profile name; None: $STORYREEL_PROFILE or ``auto``.
        sets: ``section.key=value`` overrides (highest priority).
        config_file: a TOML file; None: ``storyreel.toml`` in ``cwd`` if it exists.
        environ: environment to read ``STORYREEL_*`` from; None: os.environ.
        cwd: where to look for ``storyreel.toml``; None: the working directory.
    """
    env = dict(os.environ) if environ is None else environ
    name, why, _, layers = _layers(profile, sets, config_file, env, cwd)
    merged: dict[str, Any] = {}
    for _label, data, _names in layers:
        merged = merge(merged, {k: v for k, v in data.items() if k != "profile"})
    merged["profile"] = name
    return checked(merged), f"profile {name} ({why})"


def config_sources(
    profile: str | None = None,
    sets: list[str] | None = None,
    config_file: Path | None = None,
    environ: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[Config, list[tuple[str, Any, str]]]:
    """The resolved config (as ``load_config``) and, for every setting, ``(section.key, value, source)``.

    The source is the highest layer whose value is the one in force: ``default`` (the defaults in this
    module), ``profile <name>``, the path of ``storyreel.toml``, ``env STORYREEL_<SECTION>__<KEY>`` (the
    variable), or ``--set``. Settings below an options table are listed one by one (``image.options.steps``).
    The first row is the profile itself: ``--profile``, ``env STORYREEL_PROFILE`` or ``default``, with why.
    """
    env = dict(os.environ) if environ is None else environ
    config, _ = load_config(profile, sets, config_file, env, cwd)
    name, why, named_by, layers = _layers(profile, sets, config_file, env, cwd)
    flat = [(label, _leaves(data), names) for label, data, names in layers]
    rows: list[tuple[str, Any, str]] = [("profile", name, f"{named_by} ({why})")]
    for dotted, value in _leaves({k: v for k, v in config.model_dump(mode="json").items() if k != "profile"}).items():
        source = "default"
        for label, leaves, names in reversed(flat):
            if dotted in leaves and leaves[dotted] == value:
                source = names.get(dotted, label)
                break
        rows.append((dotted, value, source))
    return config, rows


def saved_config(run_dir: Path, sets: list[str] | None = None) -> Config:
    """The config a run was made with (its ``config.json``), ``section.key=value`` settings on top: what a
    resumed or revised run uses. An InputError when ``run_dir`` has no config."""
    from storyreel.errors import InputError

    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise InputError(f"{run_dir} is not a storyreel run directory (no config.json)")
    from storyreel.store import read_run_file

    saved = read_run_file(path, json.loads, "a storyreel config", "")
    if not isinstance(saved, dict):
        raise InputError(f"{path} is damaged (not a storyreel config: not a JSON object)")
    try:
        return checked(merge(saved, parse_sets(sets or [])))
    except ConfigError as exc:
        if sets:
            raise
        raise InputError(f"{path} is damaged ({exc})") from None


def checked(data: dict[str, Any]) -> Config:
    """``data`` as a Config whose backends all exist; a ConfigError that names the bad setting otherwise."""
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(explain_validation(exc)) from None
    check_backends(config)
    return config


def backends_of(config: Config) -> list[tuple[str, str]]:
    """(kind, name) of every backend the config uses."""
    used = [
        ("image", config.image.backend),
        ("keyframes", config.video.backend),
        ("interpolation", config.video.interpolation or config.video.backend),
        ("narration", config.narration.backend),
        ("segment", config.assemble.backend),  # assemble.backend names the segment encoder and the assembler
        ("assemble", config.assemble.backend),
    ]
    if config.image.critic:
        used.append(("critic", config.image.critic_backend))
    if config.music.enabled:
        used.append(("music", config.music.backend))
    if config.sfx.enabled and config.sfx.backend != VIDEO_SOUND:  # the video model's own sound needs no backend
        used.append(("sfx", config.sfx.backend))
    return used


def check_backends(config: Config) -> None:
    """Every backend named in the config exists (it may still miss a package: that is said on use)."""
    from storyreel import registry

    for kind, name in backends_of(config):
        registry.info(kind, name)


def explain_validation(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors()[:3]:
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            section = str(err["loc"][0])
            field = Config.model_fields.get(section)
            known = sorted(field.annotation.model_fields) if field and hasattr(field.annotation, "model_fields") else []
            hint = f"; keys in [{section}]: {', '.join(known)}" if known else f"; sections: {', '.join(_sections())}"
            lines.append(f"unknown setting {key!r}{hint}")
        else:
            lines.append(f"setting {shown(key)!r}: {err['msg']} (got {shown(repr(err.get('input')))})")
    return "; ".join(lines)
