"""What the diffusion video backends (``video_ltx.py``, ``video_wan.py``) share, as plain functions they
call in their own numbered steps (no base class):

- ``DiffusionOptions``: the options every such backend takes (``storyreel.runtime.PipelineOptions`` plus the
  generation's size, steps and window); each backend subclasses it with its defaults
- ``load_pipeline``: a diffusers pipeline by Hugging Face id, local folder or ``tiny:<name>``, through the
  runtime (``storyreel.runtime.resolve``: offline fails at once), with errors that say what to do
- ``owner``: one identity per loaded model, so a model's keyframe and interpolation backends share one
  resident pipeline (``storyreel.runtime.pipeline``)
- ``page_keyframes``: a page's keyframes from a low-frame-rate video that starts at the illustration
- ``step_progress``, ``out_of_memory``, ``motion_prompt``: progress per denoising step, OOM advice, the
  motion prompt with the camera move in words

Frame arithmetic and frame I/O live in ``storyreel.generators.frames``. Sizes: the model generates at its own
resolution (``width`` x ``height`` options, rounded to what it accepts); the frames are resized to the film size
(the request's), by plain resizing in both directions, so the generated frames line up exactly with keyframes
pasted back over them.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import Field

from storyreel import progress, runtime
from storyreel.errors import BackendError
from storyreel.generators import frames
from storyreel.generators.base import Backend

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from storyreel.generators.base import InterpolationRequest, KeyframeRequest


T = TypeVar("T")


class DiffusionOptions(runtime.PipelineOptions):
    """Options of a diffusion video backend. Subclasses set the defaults of their model."""

    auto_dtype: ClassVar[str] = "bfloat16"  # what the video transformers are trained and published in
    # options that change what is loaded: two backends with the same values share one pipeline in memory
    # (the window is chosen when the pipeline is placed: another max_frames is another placement)
    load_fields: ClassVar[tuple[str, ...]] = (
        "model", "device", "dtype", "offload", "vae_tiling", "compile", "cache", "cache_threshold", "mag_ratios", "fp8",
        "max_frames",
    )  # fmt: skip

    width: int = Field(ge=16, le=4096, description="generation width, rounded to what the model accepts")
    height: int = Field(ge=16, le=4096, description="generation height, rounded to what the model accepts")
    steps: int = Field(ge=1, le=200, description="denoising steps per generation")
    guidance: float = Field(ge=0.0, le=30.0, description="classifier-free guidance scale (1: off)")
    negative_prompt: str = ""
    default_prompt: str = Field(
        "gentle, smooth motion, soft picture-book animation",
        description="prompt when the request has none (page-to-page transitions)",
    )
    max_frames: Annotated[int, Field(ge=5, le=1025)] | Literal["auto"] = Field(
        description="most frames one call generates (the model's window); auto: from the GPU's free memory, at most "
        "the model's default window (on a CPU: that window)"
    )
    vae_tiling: bool | Literal["auto"] = Field(
        "auto", description="decode in tiles (CUDA only); auto: when a window's decode would not fit the free memory"
    )
    keyframe_fps: float | None = Field(
        None, gt=0, le=60, description="frame rate of the low-frame-rate keyframe video; None: the backend's choice"
    )


@dataclass
class Loaded:
    """A pipeline in memory and where it runs."""

    pipe: Any
    placement: str  # "cpu", "cuda", "cuda + model offload" ...
    size: tuple[int, int]  # generation (width, height), rounded to what the model accepts
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. a latent upsampler
    window: int = 0  # frames per call, chosen when it was placed (generators.autotune)
    stepped: bool = False  # the one smaller-window retry of the clip being made is under way


class Replan(Exception):
    """Out of GPU memory with no lower offload to step to: the clip (or keyframe video) is made again in the
    smaller windows ``Loaded.window`` now holds (``replanned``)."""


# --- loading -------------------------------------------------------------------------------------


class _Owner:
    def __init__(self, key: str):
        self.key = key

    def __repr__(self) -> str:
        return f"<model {self.key}>"


_owners: dict[str, _Owner] = {}


def owner(backend: str, options: DiffusionOptions) -> _Owner:
    """One identity per (backend, loaded model): ``runtime.pipeline(owner(...), loader)`` keeps one
    pipeline resident and lets a model's keyframe and interpolation backends share it."""
    fields = {name: getattr(options, name) for name in options.load_fields}
    key = f"{backend}:{json.dumps(fields, sort_keys=True, default=str)}"
    return _owners.setdefault(key, _Owner(key))


class VideoModel(Backend):
    """What a video model's keyframe and interpolation backends share: their options, and one resident
    pipeline for both (``family`` names the model; ``_load`` loads it)."""

    family: ClassVar[str]
    Options: ClassVar[type[DiffusionOptions]]
    uses_gpu: ClassVar[bool] = True  # the flow runs it under the GPU concurrency limit

    _load: Callable[[], Loaded]  # each model's own loader: the pipeline by id or folder, placed on its device

    def _pipeline(self) -> Any:
        """The resident pipeline (shared with the model's other backend when the model options are the same)."""
        return runtime.pipeline(owner(self.family, self.options), self._load)


def load_pipeline(
    pipeline_class: type,
    model: str,
    options: runtime.ModelOptions,
    accepted: Sequence[str],
    setting: str,
    **components: Any,
) -> Any:
    """``pipeline_class.from_pretrained(model)``; every failure is a BackendError that says what to do.

    Args:
        pipeline_class: the diffusers pipeline class to load (or a subclass of it).
        model: a Hugging Face id, a local folder written by ``save_pretrained``, or ``tiny:<name>``.
        options: the backend's options (device, dtype, local_files_only).
        accepted: pipeline class names a local folder's ``model_index.json`` may name.
        setting: the config key that names the model, for the messages (``video.options.model``).
        components: components already loaded, passed on instead of loading them again (a shared VAE).
    """
    resolved = runtime.resolve(model, setting, "video", options.local_files_only)
    if resolved.local:
        check_folder(Path(resolved.source), accepted, setting)
    _, dtype = runtime.placement(options)
    with runtime.loading(resolved, setting, "video"):
        return pipeline_class.from_pretrained(resolved.source, dtype=dtype, **resolved.kwargs(), **components)


def check_folder(folder: Path, accepted: Sequence[str], setting: str) -> None:
    """A local folder holds a diffusers pipeline of one of the ``accepted`` classes, or a BackendError says so."""
    index = folder / "model_index.json"
    if not index.is_file():
        raise BackendError(f"{folder} is not a diffusers pipeline (no model_index.json): set {setting}")
    found = json.loads(index.read_text(encoding="utf-8")).get("_class_name", "?")
    if found not in accepted:
        raise BackendError(f"{folder} holds a {found}; this backend loads {' or '.join(accepted)} ({setting})")


def load_with_upsampler(
    pipeline_class: type, upsampler_class: type, options: Any, accepted: Sequence[str], setting: str
) -> tuple[Any, Any]:
    """``(pipeline, upsampler or None)``: the pipeline by id or folder and, when ``options.upsampler`` names one,
    its latent upsampler sharing the pipeline's VAE (it reads only the VAE's latent statistics)."""
    pipe = load_pipeline(pipeline_class, options.model, options, accepted, f"{setting}.model")
    upsampler = None
    if options.upsampler:
        upsampler = load_pipeline(
            upsampler_class, options.upsampler, options, (upsampler_class.__name__,), f"{setting}.upsampler",
            vae=pipe.vae,
        )  # fmt: skip
    return pipe, upsampler


def placed_with_upsampler(pipe: Any, upsampler: Any, options: Any, setting: str, multiple: int, full: int) -> Loaded:
    """The pipeline placed on its device with the offload, window and VAE tiling auto-tuned from the card's free
    memory (``storyreel.generators.autotune``; ``full``: the model's default window), said in one note, with
    compile and the cache hook where there is a GPU; the upsampler's own model beside it, and the generation size
    rounded to ``multiple`` (twice that with an upsampler, whose input is half the size)."""
    from storyreel.generators import autotune

    placement, choice = autotune.tune(pipe, options, setting, full)
    progress.note(f"{setting}: {choice.why}")
    extra: dict[str, Any] = {"tuned": choice.why}
    if upsampler is not None:
        upsampler.set_progress_bar_config(disable=True)
        upsampler.latent_upsampler.to(runtime.device(options.device))  # the shared VAE stays put
        extra["upsampler"] = upsampler
        multiple *= 2
    return Loaded(pipe, placement, frames.round_size(options.width, options.height, multiple), extra, choice.window)


# --- running -------------------------------------------------------------------------------------


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
    """A CUDA out-of-memory error while ``what`` becomes a BackendError that says what to lower."""
    with runtime.out_of_memory(what, memory_advice(setting)):
        yield


def memory_advice(setting: str, window: int | None = None, multiple: int = 8) -> str:
    """What to set when a video model runs out of GPU memory; with ``window`` (the frames per call that did not
    fit) the settings with values to try: a smaller window and group offload."""
    if window is None:
        return (
            f"lower {setting}.width/height or {setting}.max_frames, "
            f'or set {setting}.offload="group" (slower, far less memory)'
        )
    from storyreel.generators import autotune

    lower = autotune.smaller(window, multiple)
    frames_per_call = f"{setting}.max_frames={lower}" if lower else f"{setting}.max_frames (at its smallest)"
    return (
        f"set {frames_per_call} (frames per call) or {setting}.offload=group (slower, far less memory), "
        f"or lower {setting}.width/height"
    )


def step_lower(loaded: Loaded, options: Any, multiple: int, num_frames: int) -> str | None:
    """One step lower in memory after a call of ``num_frames`` frames ran out of memory: the next offload mode
    (offload "auto"), else, offload at its lowest or set, a window smaller than that call (max_frames "auto"),
    raised as ``Replan`` so the clip is made again in it; None when there is no step (or this clip's one
    smaller-window retry is under way)."""
    if loaded.stepped:
        return None
    if options.offload == "auto":
        placed = runtime.lower_offload(loaded.pipe, loaded.placement)
        if placed is not None:
            loaded.placement = placed
            return placed
    if options.max_frames == "auto" and loaded.window:
        from storyreel.generators import autotune

        lower = autotune.smaller(min(loaded.window, num_frames), multiple)
        if lower is not None:
            loaded.window = lower
            raise Replan(f"windows of {lower} frames")
    return None


def replanned(loaded: Loaded, make: Callable[[], T]) -> T:
    """``make()``; when it runs out of memory and the step lower is a smaller window (``Replan``), ``make()``
    once more in the smaller windows, with no further step down (the smaller window stays for what follows)."""
    try:
        return make()
    except Replan as step:
        progress.note(f"out of GPU memory: making it again once with {step}")
    loaded.stepped = True
    try:
        return make()
    finally:
        loaded.stepped = False


def page_keyframes(
    request: KeyframeRequest,
    out: Path,
    options: DiffusionOptions,
    pipeline: contextlib.AbstractContextManager[Loaded],
    frames_per_call: Callable[[Loaded], tuple[int, int]],
    generator_for: Callable[[Loaded, str, float], Callable[[Image.Image, int, int], np.ndarray]],
) -> None:
    """A page's keyframes (``k000.png`` ... in ``out``) from a low-frame-rate video that starts at the
    illustration: keyframe 0 is the illustration itself, each other keyframe the frame nearest its time.

    Args:
        request: the keyframe request (illustration, motion prompt, camera, indices, film size and rate).
        options: the backend's options (``default_prompt``, ``keyframe_fps``: None, one frame per keyframe).
        pipeline: the backend's resident pipeline, entered while generating.
        frames_per_call: (temporal multiple, most frames per call) of the loaded model.
        generator_for: ``(loaded, prompt, keyframe_fps) -> generate(start_image, num_frames, window)``.
    """
    from PIL import Image as PILImage

    # 1. the illustration at the film size: keyframe 0, and the first frame of the video
    first = frames.cover(request.image, request.width, request.height)
    prompt = motion_prompt(request.prompt, request.camera, options.default_prompt)
    # 2. the keyframe video: by default one frame per keyframe, at the keyframe rate
    seconds = request.indices[-1] / request.fps
    keyframe_fps = options.keyframe_fps or (len(request.indices) - 1) / seconds
    count, picks = frames.keyframe_plan(request.indices, request.fps, keyframe_fps)
    with pipeline as loaded:

        def make() -> dict[int, np.ndarray]:
            multiple, max_frames = frames_per_call(loaded)
            generate = generator_for(loaded, prompt, keyframe_fps)
            # 3. generate, window by window when the page is longer than the model's window
            return frames.keyframe_video(PILImage.fromarray(first), count, picks, max_frames, multiple, generate)

        video = replanned(loaded, make)
    # 4. resize to the film size; keyframe 0 is the illustration itself
    keyframes = [first] + [frames.resize(video[p], request.width, request.height) for p in picks[1:]]
    frames.write_keyframes(keyframes, out)


def interpolated_clip(
    request: InterpolationRequest,
    out: Path,
    pipeline: contextlib.AbstractContextManager[Loaded],
    frames_per_call: Callable[[Loaded], tuple[int, int]],
    make_frames: Callable[[Loaded, list[np.ndarray], list[tuple[int, int]], int], Iterator[np.ndarray]],
    setting: str,
) -> None:
    """A clip of exactly ``request.num_frames`` frames (H.264 in ``out``) whose frame ``indices[i]`` is
    ``keyframes[i]``, the frames between them generated (``inner``: less the first and last frame).

    Args:
        request: the interpolation request (keyframes and their indices, frame count, film size and rate).
        pipeline: the backend's resident pipeline, entered while generating.
        frames_per_call: (temporal multiple, most frames per call) of the loaded model.
        make_frames: ``(loaded, keyframes, windows, multiple) -> frames``: every frame of the clip in order, at
            the film size; ``windows`` are (first, last) keyframe numbers that fit one call each.
        setting: where the model's options are set, for the message when a gap is longer than one call.
    """
    from storyreel.media import write_video

    # 1. the keyframes at the film size (they are pasted back exactly)
    keyframes = [frames.read_rgb(p, request.width, request.height) for p in request.keyframes]
    # 2. generate window by window, streaming frames into the encoder
    with pipeline as loaded:

        def make() -> int:
            multiple, max_frames = frames_per_call(loaded)
            spans = frames.windows(request.indices, max_frames, multiple, setting)
            made = frames.without_ends(make_frames(loaded, keyframes, spans, multiple), request.inner)
            return write_video(made, out, request.fps, request.width, request.height)

        count = replanned(loaded, make)  # out of memory in the windows: made again once in smaller ones
    if count != request.num_frames:  # an internal invariant: the windows cover the clip exactly
        raise RuntimeError(f"wrote {count} frames, expected {request.num_frames}")


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
