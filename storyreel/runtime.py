"""The one model runtime: what every model backend (image, video, audio, the critic, the offline LLM) shares.

- device and dtype policy: ``device("auto")`` is ``cuda`` when torch sees a GPU, else ``cpu``;
  ``dtype("auto", device)`` is half precision on CUDA (the backend says which half), float32 elsewhere
- the placement options every model backend's ``Options`` derives from: ``ModelOptions`` (model, device,
  dtype, local_files_only) and ``PipelineOptions`` (+ offload, vae_tiling, compile for diffusers pipelines),
  the same names and defaults everywhere; old names (``cpu_offload``, ``torch_compile``) are still accepted
- model-id resolution: ``resolve(model, setting)`` takes a Hugging Face id, a local folder or ``tiny:<name>``
  (a model of the architecture factory, built on first use into ``$STORYREEL_CACHE``); with
  ``local_files_only``, ``HF_HUB_OFFLINE=1`` or an unreachable Hub, a model that is not cached fails at once
  with what to do (``hf download <id>`` or a folder), instead of after minutes of retries
- ``loading``: load errors that say what to do; ``out_of_memory``: a CUDA OOM as a message naming the
  settings to lower
- ``seed`` and ``generator``: determinism (a CPU generator: the same noise for a seed on any device);
  ``threads``: torch pinned to a number of CPU threads (tiny models run fastest on one)
- ``pipeline(owner, loader)``: one pipeline resident and one generation at a time per process
- ``place``: a diffusers pipeline on its device, offload / VAE tiling / compile only on CUDA
- ``load_causal_lm``: a local causal LM and its tokenizer (the offline LLM), loaded once

Across processes and machines the flow adds a Prefect global concurrency limit around GPU tasks.
torch is imported only inside functions: importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import socket
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from storyreel.errors import BackendError

Dtype = Literal["auto", "bfloat16", "float16", "float32"]
Offload = Literal["auto", "none", "model", "sequential", "group"]
Cache = Literal["none", "first-block", "mag", "taylor"]
HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")  # "org/name": one slash, no leading dot or slash
TINY = "tiny:"  # a model of the architecture factory (storyreel.architectures), built locally


def cache_dir() -> Path:
    """Where storyreel keeps what it builds or converts: ``$STORYREEL_CACHE``, default ``~/.cache/storyreel``."""
    return Path(os.environ.get("STORYREEL_CACHE", Path.home() / ".cache" / "storyreel"))


# --- placement options ---------------------------------------------------------------------------

# old option names, still accepted so a user's storyreel.toml and a run's saved config.json load
ALIASES = {"cpu_offload": "offload", "torch_compile": "compile"}


class ModelOptions(BaseModel):
    """Options of every model backend: which model, and where it runs. Subclasses set ``model``'s default
    and, in ``auto_dtype``, what ``dtype = "auto"`` means on CUDA for their model."""

    model_config = ConfigDict(extra="forbid")
    auto_dtype: ClassVar[str] = "float16"  # on CUDA: the half every card has; bfloat16 where the model wants it

    model: str = Field(description="Hugging Face id (downloaded on first use), a local folder, or tiny:<name>")
    device: str = Field("auto", description="auto: cuda when torch sees a GPU, else cpu; or cpu, cuda:N, mps")
    dtype: Dtype = Field("auto", description="auto: half precision on CUDA (the model's own), float32 elsewhere")
    local_files_only: bool = Field(False, description="never download: local folders and the Hugging Face cache only")

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for old, new in ALIASES.items():
            if old in data and new in cls.model_fields:
                value = data.pop(old)
                if new in data:
                    raise ValueError(f"{old} is the old name of {new}: give one of them")
                data[new] = _offload_alias(value) if new == "offload" else value
        return data


class PipelineOptions(ModelOptions):
    """Options of a diffusers pipeline backend (image, video, Stable Audio): placement in GPU memory too."""

    offload: Offload = Field(
        "auto",
        description="CUDA only. auto: none if the weights fit in 60% of the card, else model if its largest part "
        "does, else group; model: whole models move to the GPU when used; sequential/group: layers stream in",
    )
    vae_tiling: bool = Field(True, description="decode in tiles: big frames on small cards (CUDA only)")
    compile: bool = Field(False, description="torch.compile the denoiser's repeated blocks: slow first call (CUDA)")
    cache: Cache = Field(
        "none",
        description="a diffusers cache hook on the denoiser: first-block, mag (needs mag_ratios) or taylor "
        "(TaylorSeer); it reuses blocks' outputs between steps: faster, a little less detail",
    )
    cache_threshold: float = Field(0.05, gt=0.0, le=1.0, description="first-block/mag: how much change is reused")
    mag_ratios: list[float] | None = Field(None, description="MagCache's per-step ratios for this model (calibrated)")
    fp8: bool = Field(False, description="keep the denoiser's weights in FP8, compute in dtype (CUDA, Ada/Hopper+)")


def _offload_alias(value: Any) -> Any:
    """``cpu_offload`` was true/false/"model"/"sequential"."""
    if value is True:
        return "model"
    if value is False:
        return "none"
    return value


# --- device and dtype ------------------------------------------------------------------------------


def device(choice: str = "auto") -> str:
    """``auto``: ``cuda`` when torch sees a CUDA device, else ``cpu``; anything else is checked and kept."""
    import torch

    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not re.fullmatch(r"cpu|cuda(:\d+)?|mps", choice):
        raise BackendError(f"unknown device {choice!r}: use auto, cpu, cuda, cuda:N or mps")
    if choice.startswith("cuda") and not torch.cuda.is_available():
        raise BackendError(f"device {choice!r} was asked for, but torch {torch.__version__} sees no CUDA device")
    return choice


def dtype(choice: str, where: str, cuda_default: str = "bfloat16") -> Any:
    """The torch dtype for ``choice`` on the device ``where``. ``auto``: ``cuda_default`` on CUDA (float16
    on cards without bfloat16), float32 elsewhere (half precision on a CPU is slow and some ops lack it)."""
    import torch

    if choice != "auto":
        return getattr(torch, choice)
    if not where.startswith("cuda"):
        return torch.float32
    if cuda_default == "bfloat16" and not torch.cuda.is_bf16_supported():
        return torch.float16
    return getattr(torch, cuda_default)


def placement(options: ModelOptions) -> tuple[str, Any]:
    """(device, dtype) for a backend's options."""
    where = device(options.device)
    return where, dtype(options.dtype, where, options.auto_dtype)


# --- model ids -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """A resolved model: what to give ``from_pretrained`` and with which flags."""

    source: str  # a local folder or a Hugging Face id
    local: bool  # a folder on this machine
    local_files_only: bool  # a Hub id that must come from the cache (offline)

    def kwargs(self) -> dict[str, Any]:
        return {"local_files_only": True} if self.local_files_only else {}


def looks_like_folder(model: str) -> bool:
    """A path rather than a Hugging Face id (ids are ``org/name``)."""
    return model.startswith(("/", ".", "~")) or model.count("/") > 1 or "\\" in model or Path(model).is_dir()


def resolve(model: str, setting: str, kind: str = "", local_files_only: bool = False) -> Model:
    """Where ``model`` comes from; raises a BackendError that says what to do, at once, when it cannot load.

    Args:
        model: a Hugging Face id (``org/name``), a local folder (saved with ``save_pretrained``), or
            ``tiny:<name>`` (a model of ``storyreel.architectures`` at tiny size, built on first use and cached).
        setting: the config key that names the model, for the messages (``image.model``).
        kind: what the model is for (``image``, ``music`` ...), for the messages.
        local_files_only: never download; a Hub id must be in the Hugging Face cache.
    """
    what = f"{kind} model" if kind else "model"
    if model.startswith(TINY):
        from storyreel import architectures

        return Model(str(architectures.cached(model[len(TINY) :])), local=True, local_files_only=False)
    path = Path(model).expanduser()
    if path.is_dir():
        return Model(str(path), local=True, local_files_only=False)
    if looks_like_folder(model):
        raise BackendError(
            f"the {what} folder {model} does not exist: set {setting} to a folder (saved with save_pretrained), "
            "a Hugging Face id or tiny:<name>"
        )
    if not HF_ID.match(model):
        raise BackendError(
            f"the {what} {model!r} is neither a folder nor a Hugging Face id like 'org/name': set {setting} to "
            "an existing folder (saved with save_pretrained), a model id or tiny:<name>"
        )
    why = "local_files_only is set" if local_files_only else "HF_HUB_OFFLINE=1" if hub_offline() else ""
    if not why and not hub_reachable():
        why = f"the Hugging Face Hub ({_endpoint()}) cannot be reached"
    if not why:
        return Model(model, local=False, local_files_only=False)
    if not in_hub_cache(model):
        raise BackendError(
            f"the {what} {model!r} is not in the Hugging Face cache and {why}: download it first with "
            f"`hf download {model}` (gated models need `hf auth login` and their license accepted), "
            f"or set {setting} to a local folder"
        )
    return Model(model, local=False, local_files_only=True)


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` set, in the environment or in huggingface_hub's constants."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    constants = sys.modules.get("huggingface_hub.constants")
    return bool(constants and constants.HF_HUB_OFFLINE)


def _endpoint() -> str:
    try:
        from huggingface_hub import constants
    except ImportError:
        return "https://huggingface.co"
    return constants.ENDPOINT


_reachable: dict[str, bool] = {}


def hub_reachable(timeout: float = 2.0) -> bool:
    """Whether a TCP connection to the Hub opens within ``timeout`` seconds (asked once per endpoint)."""
    endpoint = _endpoint()
    if endpoint not in _reachable:
        url = urllib.parse.urlsplit(endpoint)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            with socket.create_connection((url.hostname or "", port), timeout=timeout):
                _reachable[endpoint] = True
        except OSError:
            _reachable[endpoint] = False
    return _reachable[endpoint]


def in_hub_cache(model: str) -> bool:
    """Whether some snapshot of the Hub repo ``model`` is in the local Hugging Face cache."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        snapshot_download(model, local_files_only=True)
    except (LocalEntryNotFoundError, OSError, ValueError):
        return False
    return True


# --- loading and running ---------------------------------------------------------------------------


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


@contextlib.contextmanager
def loading(model: Model | str, setting: str, kind: str = "", hint: str = "") -> Iterator[None]:
    """Turn what a failed ``from_pretrained`` raises into a BackendError that says what to do."""
    import torch

    source = model.source if isinstance(model, Model) else model
    local = model.local if isinstance(model, Model) else Path(source).expanduser().is_dir()
    what = f"{kind} model" if kind else "model"
    extra = f"; {hint}" if hint else ""
    _quiet_progress_bars()
    try:
        yield
    except BackendError:
        raise
    except torch.OutOfMemoryError:
        release()
        raise BackendError(f"out of GPU memory loading the {what} {source!r}: set {setting} to a smaller one") from None
    except (OSError, ValueError, KeyError, ImportError) as exc:
        if isinstance(exc, ImportError):
            where = "a package it needs is missing"
        elif local:
            where = f"the folder holds no model of the expected kind (save one with save_pretrained), or set {setting}"
        else:
            where = (
                f"check the id on https://huggingface.co/{source}; it is downloaded on first use into the Hugging Face "
                f"cache (or `hf download {source}` first, then HF_HUB_OFFLINE=1); gated models need `hf auth login` "
                f"and their license accepted; or set {setting} to a local folder"
            )
        raise BackendError(f"could not load the {what} {source!r}: {first_line(exc)} ({where}{extra})") from None


def _quiet_progress_bars() -> None:
    """No "Loading pipeline components" bars from diffusers or transformers: storyreel reports its own progress."""
    for name in ("diffusers", "transformers"):
        if name in sys.modules:
            sys.modules[name].utils.logging.disable_progress_bar()


@contextlib.contextmanager
def out_of_memory(what: str, advice: str) -> Iterator[None]:
    """A CUDA out-of-memory error becomes a BackendError: ``out of GPU memory <what>: <advice>``, where the
    advice names the settings to lower. The resident pipeline stays (the next, smaller call may fit)."""
    import torch

    try:
        yield
    except torch.OutOfMemoryError:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        raise BackendError(f"out of GPU memory {what}: {advice}") from None


def seed(value: int) -> None:
    """Seed torch's global generators (CPU and every CUDA device): call it under the pipeline lock, right
    before generating, so no other thread draws in between."""
    import torch

    torch.manual_seed(value)


@contextlib.contextmanager
def threads(count: int) -> Iterator[None]:
    """torch's intra-op threads set to ``count`` inside (tiny models run fastest on one: their thousands of
    small operations gain nothing from more threads, and on busy cores the waiting makes them ~10x slower)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def generator(value: int) -> Any:
    """A CPU generator: the same noise for a seed on any device."""
    import torch

    return torch.Generator("cpu").manual_seed(value)


# --- one resident pipeline -------------------------------------------------------------------------

_lock = threading.RLock()
_current: tuple[Any, Any] | None = None  # (owner, pipeline)


def release() -> None:
    """Drop the resident pipeline and return its memory."""
    global _current
    with _lock:
        _current = None
        gc.collect()
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()


@contextlib.contextmanager
def pipeline(owner: Any, loader: Callable[[], Any]) -> Iterator[Any]:
    """Yield ``owner``'s pipeline, loading it with ``loader()`` if it is not the resident one; a different
    owner's pipeline is released first. The lock is held while the caller generates, so two threads never
    share or swap a pipeline mid-run."""
    global _current
    with _lock:
        if _current is None or _current[0] is not owner:
            release()
            _current = (owner, loader())
        yield _current[1]


def resident_owner() -> Any:
    """The owner of the pipeline in memory, or None."""
    return _current[0] if _current else None


# --- the GPU slot (Prefect) ------------------------------------------------------------------------------------


def on_gpu(backend: Any, method: Callable[..., Any], gpu: Any) -> Callable[..., Any]:
    """``method`` run holding a slot of the Prefect global concurrency limit ``gpu.gpu_limit`` (``gpu``: the
    config's ``run`` section) when the backend says it uses the GPU (``uses_gpu = True``): GPU generations run
    one at a time per GPU, across threads, processes and machines that share the Prefect server, while CPU
    work goes on beside them."""
    if gpu is None or not gpu.gpu_limit or not getattr(backend, "uses_gpu", False):
        return method

    def guarded(*args: Any, **kwargs: Any) -> Any:
        with gpu_slot(gpu.gpu_limit, gpu.gpu_slots):
            return method(*args, **kwargs)

    return guarded


@contextlib.contextmanager
def gpu_slot(name: str, slots: int) -> Iterator[None]:
    """Hold one slot of the global concurrency limit ``name``, made with ``slots`` slots if it does not exist
    (a limit that does not exist blocks nothing; an existing one keeps the size it was given)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.concurrency.sync import concurrency
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            with contextlib.suppress(ObjectAlreadyExists):  # another flow made it meanwhile
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=slots))
    with concurrency(name, occupy=1, strict=True):
        yield


# --- placing a diffusers pipeline ------------------------------------------------------------------


def place(pipe: Any, options: PipelineOptions, setting: str) -> str:
    """Put a diffusers pipeline where it runs; returns a description (``cpu``, ``cuda``, ``cuda + model
    offload`` ...). Offload, VAE tiling and compilation apply only on CUDA: diffusers' offload raises on a
    machine with no accelerator, and on a CPU memory is not what limits. Asked-for offload or compilation
    that cannot apply is said once through ``storyreel.progress``."""
    import torch

    from storyreel import progress

    where = device(options.device)
    pipe.set_progress_bar_config(disable=True)
    denoiser = getattr(pipe, "transformer", None) or getattr(pipe, "unet", None)
    fp8(denoiser, options, where, setting)
    cache_hook(denoiser, options, setting)
    if not where.startswith("cuda"):
        ignored = [f"{setting}.offload"] if options.offload not in ("auto", "none") else []
        ignored += [f"{setting}.compile"] if options.compile else []
        if ignored:
            progress.note(f"{' and '.join(ignored)} ignored on {where}: it needs a CUDA device")
        pipe.to(where)
        return where
    mode = options.offload if options.offload != "auto" else choose_offload(pipe)
    if mode == "none":
        pipe.to(where)
    elif mode == "model":
        pipe.enable_model_cpu_offload(device=where)
    elif mode == "sequential":
        pipe.enable_sequential_cpu_offload(device=where)
    else:
        pipe.enable_group_offload(onload_device=torch.device(where), offload_type="leaf_level", use_stream=True)
    vae = getattr(pipe, "vae", None)
    if options.vae_tiling is True and hasattr(vae, "enable_tiling"):  # auto: the caller decides
        vae.enable_tiling()
    if options.compile:
        if getattr(denoiser, "_repeated_blocks", None):
            denoiser.compile_repeated_blocks(fullgraph=True)
        elif denoiser is not None:
            denoiser.compile()
    return where if mode == "none" else f"{where} + {mode} offload"


def fp8(denoiser: Any, options: PipelineOptions, where: str, setting: str) -> None:
    """With ``fp8``: the denoiser's weights stored in FP8 (e4m3), each layer computed in the pipeline's dtype
    (diffusers' layerwise casting). Refused where the device has no FP8 (CPU, GPUs before Ada/Hopper)."""
    if not options.fp8 or denoiser is None:
        return
    import torch

    if not where.startswith("cuda"):
        raise BackendError(f"{setting}.fp8 needs a CUDA GPU with FP8 (Ada, Hopper or newer); this run is on {where}")
    major, minor = torch.cuda.get_device_capability(torch.device(where))
    if (major, minor) < (8, 9):
        name = torch.cuda.get_device_name(torch.device(where))
        raise BackendError(f"{setting}.fp8 needs FP8 (compute capability 8.9+: Ada, Hopper); {name} is {major}.{minor}")
    denoiser.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=denoiser.dtype)


def cache_hook(denoiser: Any, options: PipelineOptions, setting: str) -> None:
    """The ``cache`` option as a diffusers cache hook on the denoiser (``enable_cache``); a denoiser that takes no
    hook, or MagCache without the model's ratios, is refused with what to set."""
    if options.cache == "none" or denoiser is None:
        return
    from diffusers.hooks import FirstBlockCacheConfig, MagCacheConfig, TaylorSeerCacheConfig

    if not hasattr(denoiser, "enable_cache"):
        raise BackendError(f"{setting}.cache={options.cache}: {type(denoiser).__name__} takes no cache hook; set none")
    if options.cache == "first-block":
        config: Any = FirstBlockCacheConfig(threshold=options.cache_threshold)
    elif options.cache == "taylor":
        config = TaylorSeerCacheConfig()
    else:
        if not options.mag_ratios:
            raise BackendError(
                f"{setting}.cache=mag needs the model's per-step ratios: set {setting}.mag_ratios (calibrate once "
                "with diffusers' MagCacheConfig(calibrate=True)), or use cache=first-block"
            )
        steps = getattr(options, "steps", len(options.mag_ratios))
        config = MagCacheConfig(
            threshold=options.cache_threshold, mag_ratios=options.mag_ratios, num_inference_steps=steps
        )
    try:
        denoiser.enable_cache(config)
    except (ValueError, TypeError) as exc:
        raise BackendError(
            f"{setting}.cache={options.cache} does not apply to {type(denoiser).__name__}: "
            f"{first_line(exc)}; set {setting}.cache=none"
        ) from None


def choose_offload(pipe: Any, free: int | None = None) -> str:
    """From the card's free memory (``free`` bytes; None: asked of the card): none if all weights fit in 60% of
    it (the rest is for activations), model offload if the largest part does, else group offload (layers
    streamed in as they run)."""
    return offload_for(weight_sizes(pipe), free if free is not None else free_memory("cuda"))


def offload_for(sizes: list[int], free: int) -> str:
    """``choose_offload`` from the components' weight sizes (bytes) and the free memory (bytes)."""
    budget = 0.6 * free
    if sum(sizes) <= budget:
        return "none"
    return "model" if max(sizes, default=0) <= budget else "group"


def weight_sizes(pipe: Any) -> list[int]:
    """Bytes of each torch module of a diffusers pipeline."""
    import torch

    return [
        sum(p.numel() * p.element_size() for p in module.parameters())
        for module in pipe.components.values()
        if isinstance(module, torch.nn.Module)
    ]


def free_memory(where: str) -> int:
    """Free bytes on the CUDA device ``where`` (``torch.cuda.mem_get_info``)."""
    import torch

    return torch.cuda.mem_get_info(torch.device(where))[0]


OFFLOAD_STEPS = ("none", "model", "group")  # each a step lower in memory (and slower) than the one before


def lower_offload(pipe: Any, placement: str) -> str | None:
    """Place ``pipe`` one offload step lower than ``placement`` (``cuda``, ``cuda + model offload`` ...), VAE
    tiling on; the new placement, or None when there is no lower step (group offload, or not on CUDA)."""
    import torch

    where, _, mode = placement.partition(" + ")
    mode = mode.removesuffix(" offload") or "none"
    if not where.startswith("cuda") or mode not in OFFLOAD_STEPS or mode == OFFLOAD_STEPS[-1]:
        return None
    lower = OFFLOAD_STEPS[OFFLOAD_STEPS.index(mode) + 1]
    if hasattr(pipe, "remove_all_hooks"):  # a step from model offload: its hooks go first
        pipe.remove_all_hooks()
    if lower == "model":
        pipe.enable_model_cpu_offload(device=where)
    else:
        pipe.to("cpu")  # group offload streams layers in from the CPU
        pipe.enable_group_offload(onload_device=torch.device(where), offload_type="leaf_level", use_stream=True)
    vae = getattr(pipe, "vae", None)
    if hasattr(vae, "enable_tiling"):
        vae.enable_tiling()
    return f"{where} + {lower} offload"


def retry_lower(call: Callable[[], Any], lower: Callable[[], str | None], what: str, advice: str) -> Any:
    """``call()``; on a CUDA out-of-memory error, ``lower()`` (one step lower in memory: it returns what it set,
    or None when there is none) and ``call()`` once more; a second out-of-memory error, or none to step down
    to, is a BackendError: ``out of GPU memory <what> ...: <advice>``."""
    import torch

    from storyreel import progress

    try:
        return call()
    except torch.OutOfMemoryError:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        stepped = lower()
        if stepped is None:
            raise BackendError(f"out of GPU memory {what}: {advice}") from None
    progress.note(f"out of GPU memory {what}: retrying once with {stepped}")
    try:
        return call()
    except torch.OutOfMemoryError:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        raise BackendError(f"out of GPU memory {what}, even with {stepped}: {advice}") from None


# --- the offline LLM -------------------------------------------------------------------------------

_causal_lms: dict[tuple[str, str], tuple[Any, Any]] = {}
_causal_lock = threading.Lock()
PRECISIONS = ("bfloat16-head", "float32")  # how a local causal LM runs on the CPU (``llm.precision``)


def load_causal_lm(model: str, setting: str = "llm.model", precision: str = "float32") -> tuple[Any, Any]:
    """(tokenizer, model) of a local transformers causal LM (a folder, a Hub id, or tiny:<name>), in eval
    mode on the CPU, loaded once per process and precision; failures are BackendErrors that say what to do.

    ``precision``: ``float32`` as saved, or ``bfloat16-head`` (``fast_on_cpu``: a third faster to sample)."""
    if precision not in PRECISIONS:
        raise BackendError(f"llm.precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    with _causal_lock:
        if (model, precision) not in _causal_lms:
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            hf_logging.set_verbosity_error()
            resolved = resolve(model, setting, "language")
            with loading(resolved, setting, "language"):
                tokenizer = _plain_tokenizer(resolved.source) or AutoTokenizer.from_pretrained(
                    resolved.source, **resolved.kwargs()
                )
                lm = AutoModelForCausalLM.from_pretrained(resolved.source, **resolved.kwargs())
            if precision == "bfloat16-head":
                fast_on_cpu(lm)
            _causal_lms[(model, precision)] = (tokenizer, lm.eval())
        return _causal_lms[(model, precision)]


# what a saved tokenizer_config.json may hold for the plain load (``_plain_tokenizer``): special tokens and
# bookkeeping; anything else (a chat template, extra special tokens, flags) takes transformers' own load
_PLAIN_KEYS = {"backend", "tokenizer_class", "is_local", "local_files_only", "model_max_length"}
_SPECIAL_KEYS = {"bos_token", "eos_token", "pad_token", "unk_token", "mask_token"}


def _plain_tokenizer(source: str) -> Any:
    """A local folder's tokenizer read straight from its ``tokenizer.json`` (``PreTrainedTokenizerFast``
    with the special tokens of ``tokenizer_config.json``), or None where the folder needs transformers' own
    load. The same tokenizer in 2 s instead of 5 for Gemma's 262k-token vocabulary: ``from_pretrained``
    parses the 33 MB JSON several times in Python and rebuilds the vocabulary, and the offline model's load
    waits for it. Only for a config of special tokens and bookkeeping (``_PLAIN_KEYS``): a tokenizer with
    more (a chat template, its own flags) takes the full load."""
    import json

    folder = Path(source)
    file, config = folder / "tokenizer.json", folder / "tokenizer_config.json"
    if not (file.is_file() and config.is_file()):
        return None
    try:
        settings = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(settings, dict) or settings.get("backend") != "tokenizers":
        return None
    if set(settings) - _PLAIN_KEYS - _SPECIAL_KEYS:
        return None
    specials = {k: v for k, v in settings.items() if k in _SPECIAL_KEYS}
    if not all(isinstance(v, str) for v in specials.values()):
        return None
    from transformers import PreTrainedTokenizerFast

    limit = settings.get("model_max_length")
    extra = {"model_max_length": limit} if isinstance(limit, int) else {}
    return PreTrainedTokenizerFast(tokenizer_file=str(file), **specials, **extra)


def _bfloat16_head(weight: Any) -> Any:
    """An output head of bfloat16 weights (the precision the Gemma models were trained in), float32 logits
    out: a token's logits read the whole head (262k x 640 for Gemma 3 270M, 0.67 GB in float32) from memory,
    and on a CPU that read is the cost; in bfloat16 it takes a third of the time (measured: 33 ms, not 120)."""
    import torch

    class Bfloat16Head(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(weight.detach().to(torch.bfloat16), requires_grad=False)

        def forward(self, hidden: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.linear(hidden.to(torch.bfloat16), self.weight).float()

    return Bfloat16Head()


def fast_on_cpu(lm: Any) -> Any:
    """A causal LM made faster to sample from on a CPU, in place: its output head in bfloat16
    (``_bfloat16_head``), the rest as it was. Sampling reads every weight once per token, and for a small
    model with a large vocabulary the head is most of them: Gemma 3 270M samples a token in 164 ms instead of
    238 (one core), its next-token distribution all but unchanged (mean KL 0.0003 nats on the example books;
    int8 layers, tried too, cost 0.36 nats and raised the perplexity by half, so they are not used)."""
    lm.set_output_embeddings(_bfloat16_head(lm.get_output_embeddings().weight))  # untied from the input's
    return lm
