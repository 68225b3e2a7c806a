"""What the diffusion video backends (``video_ltx.py``, ``video_wan.py``) share, as plain functions they
call in their own numbered steps (no base class):

- ``DiffusionOptions``: the options every such backend takes; each backend subclasses it with its defaults
- ``load_pipeline``: a diffusers pipeline by Hugging Face id or local folder, with errors that say what to do
- ``place``: bf16 and the GPU when there is one; CPU offload, VAE tiling and ``torch.compile`` only on CUDA
  (diffusers' offload raises on a machine with no accelerator)
- ``owner``: one identity per loaded model, so a model's keyframe and interpolation backends share one
  resident pipeline (``storyreel.gpu.pipeline``)
- ``seeded``, ``step_progress``, ``out_of_memory``: determinism, progress per denoising step, OOM advice
- frame arithmetic: frame counts a model accepts, windows between keyframes, picking keyframes out of a
  low-frame-rate video, and reading, resizing and writing frames

Sizes: the model generates at its own resolution (``width`` x ``height`` options, rounded to what it accepts);
the frames are resized to the film size (the request's) here, by plain resizing in both directions, so the
generated frames line up exactly with keyframes pasted back over them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from storyreel import progress
from storyreel.errors import BackendError

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

log = logging.getLogger("storyreel.diffusion")

Dtype = Literal["auto", "bfloat16", "float16", "float32"]
Offload = Literal["auto", "none", "model", "group"]


class DiffusionOptions(BaseModel):
    """Options of a diffusion video backend. Subclasses set the defaults of their model."""

    model_config = ConfigDict(extra="forbid")
    # options that change what is loaded: two backends with the same values share one pipeline in memory
    load_fields: ClassVar[tuple[str, ...]] = ("model", "dtype", "offload", "vae_tiling", "compile")

    model: str = Field(description="Hugging Face model id (downloaded on first use) or a local pipeline folder")
    width: int = Field(ge=16, le=4096, description="generation width, rounded to what the model accepts")
    height: int = Field(ge=16, le=4096, description="generation height, rounded to what the model accepts")
    steps: int = Field(ge=1, le=200, description="denoising steps per generation")
    guidance: float = Field(ge=0.0, le=30.0, description="classifier-free guidance scale (1: off)")
    negative_prompt: str = ""
    default_prompt: str = Field(
        "gentle, smooth motion, soft picture-book animation",
        description="prompt when the request has none (page-to-page transitions)",
    )
    max_frames: int = Field(ge=5, le=1025, description="most frames one call generates (the model's window)")
    keyframe_fps: float | None = Field(
        None, gt=0, le=60, description="frame rate of the low-frame-rate keyframe video; None: the backend's choice"
    )
    dtype: Dtype = Field("auto", description="auto: bfloat16 on CUDA, float32 on the CPU")
    offload: Offload = Field(
        "auto",
        description="CUDA only. auto: none if the model fits in 60% of the card, else model offload if its largest "
        "part does, else group offload; model: whole models move to the GPU when used; group: layer groups stream in",
    )
    vae_tiling: bool = Field(True, description="decode in tiles to save memory (CUDA only)")
    compile: bool = Field(False, description="torch.compile the transformer's repeated blocks (CUDA only)")


@dataclass
class Loaded:
    """A pipeline in memory and where it runs."""

    pipe: Any
    placement: str  # "cpu", "cuda", "cuda + model offload" ...
    size: tuple[int, int]  # generation (width, height), rounded to what the model accepts
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. a latent upsampler


# --- loading and placement -----------------------------------------------------------------------


class _Owner:
    def __init__(self, key: str):
        self.key = key

    def __repr__(self) -> str:
        return f"<model {self.key}>"


_owners: dict[str, _Owner] = {}


def owner(backend: str, options: DiffusionOptions) -> _Owner:
    """One identity per (backend, loaded model): ``storyreel.gpu.pipeline(owner(...), loader)`` keeps one
    pipeline resident and lets a model's keyframe and interpolation backends share it."""
    fields = {name: getattr(options, name) for name in options.load_fields}
    key = f"{backend}:{json.dumps(fields, sort_keys=True, default=str)}"
    return _owners.setdefault(key, _Owner(key))


def torch_dtype(name: Dtype) -> Any:
    import torch

    if name == "auto":
        return torch.bfloat16 if torch.cuda.is_available() else torch.float32
    return getattr(torch, name)


def load_pipeline(
    pipeline_class: type, model: str, dtype: Dtype, accepted: Sequence[str], setting: str, **components: Any
) -> Any:
    """``pipeline_class.from_pretrained(model)``; every failure is a BackendError that says what to do.

    Args:
        pipeline_class: the diffusers pipeline class to load (or a subclass of it).
        model: a Hugging Face id or a local folder written by ``save_pretrained``.
        dtype: the weights' dtype name (auto: bf16 on CUDA, fp32 on CPU).
        accepted: pipeline class names a local folder's ``model_index.json`` may name.
        setting: the config key that names the model, for the messages (``video.options.model``).
        components: components already loaded, passed on instead of loading them again (a shared VAE).
    """
    import torch

    local = Path(model).expanduser()
    if local.is_dir():
        index = local / "model_index.json"
        if not index.is_file():
            raise BackendError(f"{local} is not a diffusers pipeline folder (no model_index.json); set {setting}")
        found = json.loads(index.read_text(encoding="utf-8")).get("_class_name", "?")
        if found not in accepted:
            raise BackendError(f"{local} holds a {found}; this backend loads {' or '.join(accepted)} ({setting})")
        source = str(local)
    elif model.startswith((".", "/", "~")) or model.count("/") != 1:
        raise BackendError(f"no model folder at {local}: set {setting} to a pipeline folder or a Hugging Face id")
    else:
        source = model
    try:
        return pipeline_class.from_pretrained(source, dtype=torch_dtype(dtype), **components)
    except torch.OutOfMemoryError:
        raise BackendError(f"out of memory loading {model}: set {setting} to a smaller model") from None
    except Exception as exc:  # noqa: BLE001 - hub, network, file and config errors alike: say what to do
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise BackendError(
            f"could not load the model {model!r} ({type(exc).__name__}: {reason}). Check the id on "
            f"https://huggingface.co/{model} and your connection (it is downloaded on first use; gated models need "
            f"`hf auth login`), or set {setting} to a local folder"
        ) from None


def place(pipe: Any, options: DiffusionOptions) -> str:
    """Put the pipeline where it runs; returns a description (``cpu``, ``cuda``, ``cuda + group offload``).

    Offload, VAE tiling and compilation are applied only with a CUDA device: diffusers' offload raises on a
    machine with no accelerator, and on the CPU memory is not what limits."""
    import torch

    if not torch.cuda.is_available():
        if options.offload in ("model", "group") or options.compile:
            log.info("offload and compile need a CUDA device; running on the CPU without them")
        return "cpu"
    mode = options.offload if options.offload != "auto" else choose_offload(pipe)
    if mode == "none":
        pipe.to("cuda")
    elif mode == "model":
        pipe.enable_model_cpu_offload()
    else:
        pipe.enable_group_offload(onload_device=torch.device("cuda"), offload_type="leaf_level", use_stream=True)
    vae = getattr(pipe, "vae", None)
    if options.vae_tiling and vae is not None and hasattr(vae, "enable_tiling"):
        vae.enable_tiling()
    if options.compile:
        pipe.transformer.compile_repeated_blocks(fullgraph=True)
    return "cuda" if mode == "none" else f"cuda + {mode} offload"


def choose_offload(pipe: Any) -> str:
    """none if all weights fit in 60% of the card (the rest is for activations), model offload if the
    largest part does, else group offload (layers streamed in as they run)."""
    import torch

    sizes = [
        sum(p.numel() * p.element_size() for p in module.parameters())
        for module in pipe.components.values()
        if isinstance(module, torch.nn.Module)
    ]
    budget = 0.6 * torch.cuda.get_device_properties(0).total_memory
    if sum(sizes) <= budget:
        return "none"
    return "model" if max(sizes, default=0) <= budget else "group"


def round_size(width: int, height: int, multiple: int) -> tuple[int, int]:
    """The nearest size whose sides are multiples of ``multiple`` (at least one multiple)."""
    return (max(multiple, round(width / multiple) * multiple), max(multiple, round(height / multiple) * multiple))


# --- running -------------------------------------------------------------------------------------


def seeded(seed: int) -> Any:
    """A CPU generator: the same noise for a seed on any device."""
    import torch

    return torch.Generator("cpu").manual_seed(seed)


def step_progress(label: str, total: int, stage: str = "denoise") -> Callable[[Any, int, Any, dict], dict]:
    """A ``callback_on_step_end`` that reports each denoising step to ``storyreel.progress`` under ``stage``."""
    progress.start(stage, total)
    prefix = f"{label}: " if label else ""

    def callback(pipe: Any, step: int, timestep: Any, kwargs: dict) -> dict:
        progress.advance(stage, f"{prefix}step {step + 1}/{total}")
        return kwargs  # diffusers reads the (possibly changed) tensors back from it

    return callback


@contextlib.contextmanager
def out_of_memory(what: str, setting: str) -> Iterator[None]:
    """Turn a CUDA out-of-memory error into a BackendError that says what to lower."""
    import torch

    try:
        yield
    except torch.OutOfMemoryError:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        raise BackendError(
            f"the GPU ran out of memory {what}: lower {setting}.width/height or {setting}.max_frames, "
            f'or set {setting}.offload="group" (slower, far less memory)'
        ) from None


# --- frames --------------------------------------------------------------------------------------


def frames_for(span: int, multiple: int) -> int:
    """Frames to generate to cover ``span`` frames: the smallest ``multiple * k + 1 >= span`` (k >= 1),
    the counts a video VAE with temporal compression ``multiple`` accepts."""
    return multiple * max(1, math.ceil((span - 1) / multiple)) + 1


def largest_window(max_frames: int, multiple: int) -> int:
    """``max_frames`` rounded down to a count the model accepts."""
    return multiple * max(1, (max_frames - 1) // multiple) + 1


def windows(indices: Sequence[int], max_frames: int, multiple: int, setting: str) -> list[tuple[int, int]]:
    """Split a clip into generation windows that start and end on keyframes: pairs (first, last) of
    positions in ``indices``; neighbouring windows share a keyframe. Each window is as long as fits."""
    spans: list[tuple[int, int]] = []
    first = 0
    while first < len(indices) - 1:
        last = first + 1
        gap = indices[last] - indices[first] + 1
        if frames_for(gap, multiple) > max_frames:
            raise BackendError(
                f"two keyframes {gap - 1} frames apart do not fit the model's window of {max_frames} frames: "
                f"lower video.keyframe_spacing (or video.transition), or raise {setting}.max_frames"
            )
        while last + 1 < len(indices) and frames_for(indices[last + 1] - indices[first] + 1, multiple) <= max_frames:
            last += 1
        spans.append((first, last))
        first = last
    return spans


def keyframe_plan(indices: Sequence[int], fps: int, keyframe_fps: float) -> tuple[int, list[int]]:
    """The low-frame-rate keyframe video: how many frames it has, and which of them is each keyframe
    (the frame nearest its time, ``indices[i] / fps`` seconds)."""
    seconds = indices[-1] / fps
    count = max(2, round(seconds * keyframe_fps) + 1)
    picks = [min(count - 1, round(index / fps * keyframe_fps)) for index in indices]
    return count, picks


def keyframe_video(
    first: Image.Image,
    count: int,
    picks: Sequence[int],
    max_frames: int,
    multiple: int,
    generate: Callable[[Image.Image, int, int], np.ndarray],
) -> dict[int, np.ndarray]:
    """Make the frames ``picks`` of a ``count``-frame video that starts at ``first``, window by window.

    ``generate(start_image, num_frames, window)`` returns uint8 frames (num_frames x H x W x 3) whose first
    frame is ``start_image``; a window after the first starts from the last frame of the one before."""
    from PIL import Image as PILImage

    wanted = set(picks)
    kept: dict[int, np.ndarray] = {}
    spans = windows(list(range(count)), max_frames, multiple, "video.options")
    start_image = first
    for number, (begin, end) in enumerate(spans):
        frames = generate(start_image, frames_for(end - begin + 1, multiple), number)[: end - begin + 1]
        for offset, frame in enumerate(frames):
            if begin + offset in wanted:
                kept[begin + offset] = frame
        start_image = PILImage.fromarray(frames[-1])
    return kept


def to_uint8(frames: np.ndarray) -> np.ndarray:
    """Float frames in [0, 1] (diffusers' ``output_type="np"``) to uint8."""
    import numpy as np

    return (np.clip(frames, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def resize(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """An RGB uint8 frame resized to width x height (no crop: the aspect change, if any, is a stretch)."""
    import cv2

    if frame.shape[:2] == (height, width):
        return frame
    shrink = frame.shape[1] > width
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def read_rgb(path: Path, width: int, height: int) -> np.ndarray:
    """An image file as RGB uint8, resized to width x height."""
    import numpy as np
    from PIL import Image as PILImage

    with PILImage.open(path) as image:
        return resize(np.asarray(image.convert("RGB")), width, height)


def cover(path: Path, width: int, height: int) -> np.ndarray:
    """An illustration fitted to width x height: scaled to cover, then centre-cropped (no stretch)."""
    import numpy as np
    from PIL import Image as PILImage

    with PILImage.open(path) as image:
        rgb = image.convert("RGB")
    scale = max(width / rgb.width, height / rgb.height)
    size = (max(width, math.ceil(rgb.width * scale)), max(height, math.ceil(rgb.height * scale)))
    rgb = rgb.resize(size, PILImage.Resampling.LANCZOS)
    x0, y0 = (size[0] - width) // 2, (size[1] - height) // 2
    return np.asarray(rgb.crop((x0, y0, x0 + width, y0 + height)))


def write_keyframes(frames: Sequence[np.ndarray], out: Path) -> None:
    """Write keyframes as ``k000.png``, ``k001.png`` ... into the directory ``out``."""
    from PIL import Image as PILImage

    out.mkdir(parents=True, exist_ok=True)
    for number, frame in enumerate(frames):
        PILImage.fromarray(frame).save(out / f"k{number:03d}.png", compress_level=1)


CAMERA_WORDS = {
    "zoom_in": "the camera slowly zooms in",
    "zoom_out": "the camera slowly zooms out",
    "pan_left": "the camera pans slowly to the left",
    "pan_right": "the camera pans slowly to the right",
    "tilt_up": "the camera tilts slowly up",
    "tilt_down": "the camera tilts slowly down",
    "parallax": "a gentle sideways camera move with parallax",
}


def motion_prompt(prompt: str, camera: str, default: str) -> str:
    """The request's motion prompt with its camera move in words."""
    words = CAMERA_WORDS.get(camera, "")
    text = prompt.strip() or default
    return f"{text}, {words}" if words else text
