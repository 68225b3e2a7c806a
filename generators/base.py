"""The generator protocols: one method each, small request records in, files out.

A backend is a small class with a ``name``, a ``version`` (bump it when its output changes, so cached
assets are redone), a pydantic ``Options`` model, and the one method of its kind. It is built as
``Backend(options)``; the registry (``storyreel.registry``) maps ``kind -> name -> "module:Class"``.

Requests are plain pydantic records holding paths and numbers, never images or tensors, so they hash
into asset keys and cross process boundaries (Prefect tasks, Dask workers) cheaply. Each method writes
its result to ``out`` (the store hands it a temporary path and renames it when the method returns).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

from storyreel.plan import Camera, Character, Scene, SfxCue


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BackendOptions(BaseModel):
    """The base of a backend's ``Options``: an unknown option is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Backend:
    """The base of a backend class, built as ``Backend(options)``: ``options`` is an instance of its own
    ``Options`` model, or ``None`` for that model's defaults."""

    Options: ClassVar[type[BaseModel]] = BackendOptions

    def __init__(self, options: Any = None) -> None:
        self.options: Any = options if options is not None else self.Options()


# --- images -----------------------------------------------------------------------------------


class ImageRequest(Request):
    prompt: str
    negative_prompt: str = ""
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    seed: int = 0
    scene: Scene = Field(default_factory=Scene)
    characters: list[Character] = Field(default_factory=list, description="the characters shown")
    style: str = ""
    reference_images: list[Path] = Field(default_factory=list)


@runtime_checkable
class ImageGenerator(Protocol):
    name: ClassVar[str]
    version: ClassVar[str]

    def generate(self, request: ImageRequest, out: Path) -> None:
        """Write one illustration as PNG (request.width x request.height) to ``out``."""


@runtime_checkable
class Critic(Protocol):
    name: ClassVar[str]
    version: ClassVar[str]

    def score(self, image: Path, prompt: str) -> float:
        """How well the picture ``image`` shows ``prompt``: higher is better (CLIP: 100 x cosine similarity)."""


# --- video: sparse keyframes, then interpolation ----------------------------------------------


class KeyframeRequest(Request):
    image: Path = Field(description="the page's illustration: keyframe 0 is derived from it")
    prompt: str = Field("", description="motion prompt")
    camera: Camera = "zoom_in"
    indices: list[int] = Field(
        min_length=2, description="frame index of each keyframe in the page clip: first 0, last the clip's last frame"
    )
    fps: int = 24
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    seed: int = 0

    @model_validator(mode="after")
    def _indices(self) -> KeyframeRequest:
        _check_indices(self.indices)
        return self


def _check_indices(indices: list[int], num_frames: int | None = None) -> None:
    if indices[0] != 0:
        raise ValueError(f"the first keyframe index must be 0, got {indices[0]}")
    if any(b <= a for a, b in zip(indices, indices[1:], strict=False)):
        raise ValueError(f"keyframe indices must be strictly increasing, got {indices}")
    if num_frames is not None and indices[-1] != num_frames - 1:
        raise ValueError(f"the last keyframe index must be num_frames - 1 = {num_frames - 1}, got {indices[-1]}")


@runtime_checkable
class KeyframeGenerator(Protocol):
    name: ClassVar[str]
    version: ClassVar[str]

    def keyframes(self, request: KeyframeRequest, out: Path) -> None:
        """Write one PNG per keyframe into the directory ``out``, named ``k000.png``, ``k001.png`` ..."""


class InterpolationRequest(Request):
    keyframes: list[Path] = Field(min_length=2, description="images to pass through, in order")
    indices: list[int] = Field(description="frame index of each keyframe; first 0, last num_frames-1")
    num_frames: int = Field(ge=2)
    fps: int = 24
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    prompt: str = ""
    seed: int = 0
    inner: bool = Field(
        False,
        description="the clip is only the frames strictly between its first and last keyframe, which belong to "
        "the clips on either side (a page-to-page transition: no frame at a join shows twice); indices then "
        "count those two ends in: first 0, last num_frames+1",
    )

    @model_validator(mode="after")
    def _indices(self) -> InterpolationRequest:
        if len(self.indices) != len(self.keyframes):
            raise ValueError(f"{len(self.keyframes)} keyframes but {len(self.indices)} indices; they must pair up")
        if self.inner and self.indices[-1] != self.num_frames + 1:
            raise ValueError(
                f"a clip of the frames between its ends (inner) ends its indices at num_frames + 1 = "
                f"{self.num_frames + 1}, got {self.indices[-1]}"
            )
        _check_indices(self.indices, self.num_frames + 2 if self.inner else self.num_frames)
        return self

    @model_serializer(mode="wrap")
    def _without_default_inner(self, handler: Any) -> dict[str, Any]:
        """``inner`` is left out when False, so the specs (and the cached clips) of requests made before it
        existed stay the same."""
        data = handler(self)
        if not self.inner:
            data.pop("inner", None)
        return data


@runtime_checkable
class Interpolator(Protocol):
    name: ClassVar[str]
    version: ClassVar[str]

    def interpolate(self, request: InterpolationRequest, out: Path) -> None:
        """Write a clip (H.264 mp4) of exactly ``num_frames`` frames at ``fps`` whose frame
        ``indices[i]`` is ``keyframes[i]``, the frames between generated."""


# --- audio ------------------------------------------------------------------------------------


class SpeechRequest(Request):
    text: str = Field(min_length=1)
    voice: str = ""
    rate: float = Field(1.0, gt=0, description="speed relative to the voice's normal rate")
    seed: int = 0
    speakers: dict[str, str] = Field(
        default_factory=dict,
        description="characters who may speak quoted lines in the text -> their voice ('': the backend picks); "
        "backends without character voices read everything in the narrator's voice",
    )


@runtime_checkable
class Narrator(Protocol):
    name: ClassVar[str]
    version: ClassVar[str]

    def speak(self, request: SpeechRequest, out: Path) -> dict | None:
        """Write the spoken text as a WAV file (mono or stereo, any sample rate) to ``out``. A backend that
        knows when each word is said returns ``{"timing": <how>, "words": [storyreel.timings.Word, ...]}``
        (the words of ``storyreel.timings.words_of(request.text)``, in seconds from the audio's start);
        None: the timings are estimated from the audio."""


class MusicRequest(Request):
    mood: str
    prompt: str = ""
    duration: float = Field(gt=0, description="seconds")
    seed: int = 0


@runtime_checkable
class Composer(Protocol):
    name: ClassVar[str]
    version: ClassVar[str]

    def compose(self, request: MusicRequest, out: Path) -> None:
        """Write ``duration`` seconds of music as WAV to ``out``."""


class SfxRequest(Request):
    cue: SfxCue
    duration: float = Field(gt=0, description="seconds")
    seed: int = 0


class UnsupportedCue(Exception):
    """A sound-effect backend cannot make this cue; the flow logs it and leaves the cue out."""


@runtime_checkable
class SoundMaker(Protocol):
    name: ClassVar[str]
    version: ClassVar[str]

    def make(self, request: SfxRequest, out: Path) -> None:
        """Write the sound effect as WAV to ``out``, or raise ``UnsupportedCue``."""


# --- assembly ---------------------------------------------------------------------------------


class SubtitleCue(Request):
    """One subtitle line on a segment, in seconds from the segment's first frame."""

    start: float = Field(ge=0)
    end: float = Field(gt=0)
    text: str


class SegmentRequest(Request):
    """One stretch of the film (a page clip or a transition) to encode as a film-ready segment.

    The segment is ``frames`` frames of ``clip`` (which may hold more), faded from black over its first
    ``fade_in`` seconds (the film's first segment) and to black over its last ``fade_out`` seconds (the
    film's last), with ``subtitles`` burned in. Where it sits in the film is not part of it: a segment
    moved by a longer page before it is the same segment."""

    clip: Path = Field(description="the segment's video clip, of the film's size and fps")
    fps: int = 24
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    frames: int = Field(gt=0, description="the segment's length in frames: the clip is cut to it")
    fade_in: float = Field(0.0, ge=0, description="seconds of fade from black at its start (0: none)")
    fade_out: float = Field(0.0, ge=0, description="seconds of fade to black at its end (0: none)")
    subtitles: list[SubtitleCue] = Field(default_factory=list, description="lines to burn in (empty: none)")


@runtime_checkable
class SegmentEncoder(Protocol):
    name: ClassVar[str]
    version: ClassVar[str]

    def encode(self, request: SegmentRequest, out: Path) -> None:
        """Write the segment: H.264 yuv420p mp4, no audio, ``frames`` frames, a keyframe at its first frame,
        encoded with settings every segment of the film shares (so they concatenate losslessly)."""


class AssembleRequest(Request):
    """The film from its segments: their lossless concatenation, and the mix as its sound."""

    segments: list[Path] = Field(min_length=1, description="film-ready segments in timeline order (SegmentEncoder)")
    audio: Path = Field(description="the final mix, as long as the timeline")
    fps: int = 24
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    frames: int = Field(gt=0, description="the timeline's length in frames: the segments must add up to it")


@runtime_checkable
class Assembler(Protocol):
    name: ClassVar[str]
    version: ClassVar[str]

    def assemble(self, request: AssembleRequest, out: Path) -> None:
        """Write the film: the segments' video stream copied end to end, the mix encoded once as AAC, in an
        mp4 with +faststart, ``frames`` frames long."""
