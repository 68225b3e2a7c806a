"""Assemble the film with MoviePy 2: the clips end to end, fades at the ends, the final mix as audio.

The clips arrive as H.264 mp4s of one size and fps in timeline order; the audio is the mastered mix, as
long as the timeline. MoviePy decodes the clips and streams the frames, as a plain chain (no per-frame
compositing), into one ffmpeg process. That process encodes H.264, takes the WAV straight from its file
and encodes AAC, and applies the fades and, when asked, the burned-in subtitles as ffmpeg filters.

Where the time goes (1280x720, 24 fps, 2 cores; see ``bench/bench_assemble.py``): decoding to RGB, piping
frames through Python and converting them back to YUV is what MoviePy adds to the bare encode. Choices
made to keep the rest near zero:

- fades with ffmpeg's ``fade`` filter rather than ``vfx.FadeIn``/``FadeOut``, which cost ~18 ms of
  float64 arithmetic per faded 720p frame in the Python loop; the filter also fades burned subtitles;
- the audio as a file input of the encoder (``write_videofile(audio=path)``) rather than an
  ``AudioFileClip``, which MoviePy would decode, re-encode to a temporary file in the working directory
  and mux in a separate pass;
- clips opened one at a time, the next one in the background (``_ClipReaders``): each open
  ``VideoFileClip`` holds an ffmpeg decoder of ~75 MB and 15 threads at 720p, gigabytes for a long film.

Errors: a request that disagrees with its files (a missing clip, audio or subtitle file; a clip of
another size or fps; clips or audio shorter than ``duration``) raises ``ValueError`` before any work
starts, as ``storyreel.media.write_video`` does for bad frames. A failure of MoviePy or ffmpeg, or a film
whose streams come out of the wrong length, raises ``storyreel.errors.BackendError``.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from storyreel.errors import BackendError
from storyreel.generators.base import AssembleRequest
from storyreel.media import probe

# A ten-thousandth of a frame: far above float rounding error, and the shift it adds up to over the clips
# stays far below one frame for any film (MoviePy finds a file's frame as int(t * fps + 1e-5)).
_SLACK = 1e-4
_IMPORT_LOCK = threading.Lock()


class MoviePyAssembler:
    """Concatenate clips, fade from and to black, add the mix, encode H.264 + AAC mp4 with MoviePy 2.

    Raises ``ValueError`` when the request disagrees with its files, ``BackendError`` when encoding fails.
    """

    name: ClassVar[str] = "moviepy"
    version: ClassVar[str] = "1"
    summary: ClassVar[str] = "MoviePy 2 assembly, H.264 + AAC"
    requires: ClassVar[tuple[str, ...]] = ("moviepy", "imageio_ffmpeg")  # importable modules it needs
    install: ClassVar[str] = "pip install moviepy imageio-ffmpeg"

    class Options(BaseModel):
        """Encoder settings. Defaults favour speed on a small CPU at a quality a picture book needs."""

        model_config = ConfigDict(extra="forbid")

        preset: Literal[
            "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
        ] = Field("veryfast", description="x264 preset: veryfast takes about half the CPU time of medium")
        crf: int = Field(20, ge=0, le=51, description="x264 constant quality: lower is better and larger")
        audio_bitrate: str = Field("192k", pattern=r"^\d+k$", description="AAC bitrate, e.g. '192k'")
        threads: int | None = Field(None, ge=1, description="x264 threads; None: x264 picks (1.5 per core)")
        subtitle_style: str = Field(
            "", description="ASS style overrides for burned subtitles (libass force_style): 'FontSize=22'"
        )

    def __init__(self, options: Options | None = None) -> None:
        """``options``: encoder settings; ``None`` means ``MoviePyAssembler.Options()``."""
        self.options = options or self.Options()

    def assemble(self, request: AssembleRequest, out: Path) -> None:
        """Write the film to ``out`` (an mp4, possibly a temporary name): ``request.clips`` end to end, cut
        to ``request.duration`` (rounded to whole frames), faded from and to black over ``request.fade``
        seconds, ``request.audio`` as its sound, ``request.subtitles`` burned in when
        ``request.burn_subtitles`` is set. H.264 yuv420p + AAC, ``+faststart``."""
        # 1. check inputs, before any decoder starts
        frames = round(request.duration * request.fps)
        seconds = frames / request.fps
        with ThreadPoolExecutor(4) as pool:  # ffprobe runs, not Python: threads overlap them
            clip_frames = list(pool.map(partial(_check_clip, request=request), request.clips))
        _check_lengths(request, clip_frames, frames)
        subtitles = None
        if request.burn_subtitles:
            if request.subtitles is None or not request.subtitles.is_file():
                raise ValueError(f"burn_subtitles is set but there is no subtitle file: {request.subtitles}")
            subtitles = request.subtitles

        # 2. the film: the clips chained end to end, cut to the timeline
        VideoClip, VideoFileClip, concatenate_videoclips = _import_moviepy()
        readers = _ClipReaders(request.clips, VideoFileClip)
        try:
            parts = []
            for index, count in enumerate(clip_frames):
                # Durations from the frame counts: MoviePy's own are rounded to 1/100 s. A hair short, so
                # that float sums of them never put a cut after the frame time k / fps where it belongs
                # (the cut would then repeat the clip's last frame and drop the next clip's first).
                part = VideoClip(duration=(count - _SLACK) / request.fps)
                # VideoClip(frame_function) would call it at t=0 to learn the size, opening the file now
                part.frame_function = partial(readers.frame, index)
                part.size = (request.width, request.height)
                parts.append(part)
            # MoviePy writes int(duration * fps) frames, and n / fps * fps can land just below n (25, 30 fps)
            chain = concatenate_videoclips(parts, method="chain")
            film = chain.with_duration((frames + _SLACK) / request.fps)

            # 3. encode; ffmpeg reads the WAV itself and applies fades and subtitles
            film.write_videofile(
                str(out),
                fps=request.fps,
                codec="libx264",
                audio=str(request.audio),
                audio_codec="aac",
                preset=self.options.preset,
                threads=self.options.threads,
                ffmpeg_params=self._ffmpeg_params(seconds, request.fade, subtitles),
                logger=None,
            )
        except OSError as err:  # what MoviePy raises when an ffmpeg process fails
            out.unlink(missing_ok=True)
            raise BackendError(f"MoviePy could not write the film {out}: {err}") from err
        finally:
            readers.close()

        # 4. check the result: both streams as long as the timeline
        _check_film(out, seconds, request.fps)

    def _ffmpeg_params(self, seconds: float, fade: float, subtitles: Path | None) -> list[str]:
        """Output options for MoviePy's ffmpeg writer (it adds the inputs, codecs, preset and threads)."""
        filters = []
        if subtitles is not None:
            burn = f"subtitles=filename={_filter_value(str(subtitles))}"
            if self.options.subtitle_style:
                burn += f":force_style={_filter_value(self.options.subtitle_style)}"
            filters.append(burn)
        if fade > 0:  # after the subtitles, so they fade with the picture
            filters.append(f"fade=t=in:st=0:d={fade:.6f}")
            filters.append(f"fade=t=out:st={max(seconds - fade, 0):.6f}:d={fade:.6f}")
        params = ["-vf", ",".join(filters)] if filters else []
        params += ["-crf", str(self.options.crf), "-b:a", self.options.audio_bitrate]
        # -t cuts the audio to the picture; -f because ``out`` may be a temporary name. (MoviePy appends
        # -pix_fmt yuva420p after these; libx264 has no alpha, so ffmpeg still picks yuv420p.)
        params += ["-t", f"{seconds:.6f}", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4"]
        return params


class _ClipReaders:
    """Decoders for the clips, opened as the film reaches them: one playing, the next one opening in a
    background thread (ffmpeg starts and probes in ~0.1 s, which would otherwise stall the encoder at every
    cut). Frames are asked for in order, so a clip is closed as soon as the next one plays."""

    def __init__(self, paths: list[Path], open_clip: Any) -> None:
        self._paths = paths
        self._open = open_clip  # moviepy.VideoFileClip
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="storyreel-clip")
        self._pending: dict[int, Future] = {}
        self._index = -1
        self._clip: Any = None

    def frame(self, index: int, t: float) -> Any:
        """The frame of clip ``index`` at ``t`` seconds from its start."""
        if index != self._index:
            self._play(index)
        return self._clip.get_frame(t)

    def _play(self, index: int) -> None:
        if self._clip is not None:
            self._clip.close()
            self._clip = None
        pending = self._pending.pop(index, None)
        self._clip = pending.result() if pending else self._open_file(index)
        self._index = index
        following = index + 1
        if following < len(self._paths) and following not in self._pending:
            self._pending[following] = self._pool.submit(self._open_file, following)

    def _open_file(self, index: int) -> Any:
        return self._open(str(self._paths[index]), audio=False)

    def close(self) -> None:
        """Stop every decoder, the playing one and any opened ahead."""
        if self._clip is not None:
            self._clip.close()
            self._clip = None
        self._pool.shutdown(wait=True)
        for pending in self._pending.values():
            if pending.exception() is None:
                pending.result().close()
        self._pending.clear()


def _import_moviepy() -> tuple[Any, Any, Any]:
    """Import MoviePy without its import-time side effects: it loads a ``.env`` file (from the working
    directory, or above its install folder) into ``os.environ``, and python-dotenv logs warnings about
    lines it cannot parse. The film must not depend on, or print because of, a stray ``.env``."""
    with _IMPORT_LOCK:  # tasks run in threads; the variable is process-wide
        if "moviepy" not in sys.modules:
            previous = os.environ.get("PYTHON_DOTENV_DISABLED")
            os.environ["PYTHON_DOTENV_DISABLED"] = "1"
            try:
                import moviepy  # noqa: F401
            finally:
                if previous is None:
                    del os.environ["PYTHON_DOTENV_DISABLED"]
                else:
                    os.environ["PYTHON_DOTENV_DISABLED"] = previous
    from moviepy import VideoClip, VideoFileClip, concatenate_videoclips

    return VideoClip, VideoFileClip, concatenate_videoclips


def _check_clip(path: Path, request: AssembleRequest) -> int:
    """The clip's frame count, after checking that it exists and has the request's size and fps."""
    if not path.is_file():
        raise ValueError(f"clip not found: {path}")
    try:
        info = probe(path)
    except BackendError as err:
        raise ValueError(f"clip {path} is not a readable video: {err}") from err
    video = next((s for s in info["streams"] if s.get("codec_type") == "video"), None)
    if video is None:
        raise ValueError(f"clip {path} has no video stream")
    size = (video["width"], video["height"])
    if size != (request.width, request.height):
        raise ValueError(
            f"clip {path} is {size[0]}x{size[1]}, the request is {request.width}x{request.height}: "
            "all clips must have the film's size"
        )
    num, den = (int(n) for n in video["avg_frame_rate"].split("/"))
    if den == 0 or abs(num / den - request.fps) > 0.01:
        raise ValueError(f"clip {path} runs at {video['avg_frame_rate']} fps, the request at {request.fps}")
    if "nb_frames" in video:
        return int(video["nb_frames"])
    return round(float(video["duration"]) * request.fps)


def _check_lengths(request: AssembleRequest, clip_frames: list[int], frames: int) -> None:
    """The clips must cover the timeline; the audio must be as long as it, within one frame."""
    if sum(clip_frames) < frames:
        raise ValueError(
            f"the clips hold {sum(clip_frames)} frames ({sum(clip_frames) / request.fps:.3f} s), "
            f"the timeline needs {frames} ({frames / request.fps:.3f} s)"
        )
    if not request.audio.is_file():
        raise ValueError(f"audio not found: {request.audio}")
    try:
        audio = float(probe(request.audio)["format"]["duration"])
    except (BackendError, KeyError) as err:
        raise ValueError(f"audio {request.audio} is not a readable audio file: {err}") from err
    if abs(audio - frames / request.fps) > 1 / request.fps:
        raise ValueError(
            f"audio {request.audio} lasts {audio:.3f} s, the timeline {frames / request.fps:.3f} s: "
            "the mix must be as long as the timeline"
        )


def _check_film(out: Path, seconds: float, fps: int) -> None:
    """Both streams of the written film must last ``seconds``, within one frame."""
    streams = {s["codec_type"]: s for s in probe(out)["streams"]}
    if "video" not in streams or "audio" not in streams:
        raise BackendError(f"the film {out} lacks a video or audio stream: {sorted(streams)}")
    video, audio = (float(streams[kind]["duration"]) for kind in ("video", "audio"))
    if abs(video - seconds) > 1 / fps + 1e-3 or abs(audio - video) > 1 / fps:
        raise BackendError(
            f"the film {out} came out with video {video:.3f} s and audio {audio:.3f} s, want {seconds:.3f} s"
        )


def _filter_value(value: str) -> str:
    """Escape a value for an ffmpeg filter option inside a ``-vf`` graph: once for the option parser
    (``\\ ' :``), once more for the graph parser (``\\ ' [ ] , ;``)."""
    option_level = re.sub(r"([\\':])", r"\\\1", value)
    return re.sub(r"([\\'\[\],;])", r"\\\1", option_level)
