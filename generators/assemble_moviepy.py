"""The film from segments: MoviePy writes each page clip and transition as a film-ready H.264 segment,
and the film is their lossless concatenation with the mix encoded once.

Two backends, registered under the same name: ``segment.moviepy`` (``MoviePySegmentEncoder``) and
``assemble.moviepy`` (``MoviePyAssembler``). ``assemble.backend`` names both; ``assemble.options`` holds
their settings, the video ones (``SegmentOptions``: preset, crf, threads, subtitle style) for the segments,
the rest (``MoviePyAssembler.Options``: the AAC bitrate) for the film.

A segment is one clip cut to its frames in the timeline, faded from black when it opens the film and to
black when it closes it, its subtitles burned in when asked. A clip that is already its segment (no fade, no
subtitles, exactly its frames, an H.264 stream that joins the film's: see "Copies" below) is copied.
Otherwise MoviePy decodes the clip and streams its frames
into one ffmpeg process that encodes H.264 with the film's settings and applies the fades (by frame number,
so a fade is the same frames wherever the segment sits) and the subtitles as ffmpeg filters: ``vfx.FadeIn``
would cost ~18 ms of float64 arithmetic per faded 720p frame in the Python loop, and the filter fades burned
subtitles with the picture. Each segment starts with a keyframe (the first frame of an H.264 stream is an
IDR frame) and all share the encoder's settings, so their streams join without re-encoding.

Copies: x264's parameter sets (SPS/PPS, the stream's extradata) depend on its settings, the size and the fps,
not on the picture. So a clip whose stream matches a tiny reference segment made by this encoder at the
film's size and settings (codec, profile, pixel format, size, fps, time base and the extradata's hash; cached
per settings in the process) decodes with the same parameter sets as the re-encoded segments around it, and
its video stream is remuxed as the segment (``-c copy``): no decode, no encode, the clip's frames bit for bit.
The preview clips are written with these settings' defaults (``storyreel.media.X264_PARAMS``), so a default
film re-encodes only its first and last segments (their fades). A clip made with other settings (an older
run's crf 18), another size, extra frames, or one that does not open on a keyframe is re-encoded as before.

The film: ffmpeg's concat demuxer copies the segments' video packets end to end (no decoding, no
encoding), encodes the mix as AAC and writes an mp4 with ``+faststart``. A revision that changes one page
re-encodes that page's segment (and a transition whose frames changed), then copies the rest: its cost is
the change, not the film (``bench/bench_assemble.py``).

Errors: a request that disagrees with its files (a missing clip, segment or audio file; one of another size
or fps; a clip shorter than its segment; segments that do not add up to the timeline; a mix of another
length) raises ``ValueError`` before any work starts. A failure of MoviePy or ffmpeg, or a result of the
wrong length, raises ``storyreel.errors.BackendError``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from storyreel.errors import BackendError
from storyreel.generators.base import AssembleRequest, BackendOptions, SegmentRequest, SubtitleCue
from storyreel.media import X264_CRF, X264_PRESET, ffmpeg_exe, ffprobe_exe, probe, write_video, x264_options
from storyreel.timeline import srt_time

# A ten-thousandth of a frame: far above float rounding error, far below one frame (MoviePy finds a file's
# frame as int(t * fps + 1e-5), and writes int(duration * fps) frames).
_SLACK = 1e-4
_IMPORT_LOCK = threading.Lock()
# the stream signature of a reference segment, per (settings, size, fps): made once per process
_REFERENCES: dict[tuple, tuple] = {}
_REFERENCE_LOCK = threading.Lock()


class SegmentOptions(BackendOptions):
    """Encoder settings every segment of a film shares. Defaults favour speed on a small CPU at a quality a
    picture book needs."""

    preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"] = (
        Field(X264_PRESET, description="x264 preset (superfast: its macroblock tree kept, half veryfast's CPU time)")
    )
    crf: int = Field(X264_CRF, ge=0, le=51, description="x264 constant quality: lower is better, larger (0: lossless)")
    threads: int | None = Field(None, ge=1, description="x264 threads; None: x264 picks (1.5 per core)")
    subtitle_style: str = Field(
        "", description="ASS style overrides for burned subtitles (libass force_style): 'FontSize=22'"
    )


class MoviePySegmentEncoder:
    """MoviePy 2 segments: H.264, fades and subtitles inside.

    One clip as a film-ready H.264 segment, composed and written by MoviePy 2; a clip that already is its
    segment (``joins``, no fade, no subtitles, exactly its frames) is copied instead.

    Raises ``ValueError`` when the request disagrees with its clip, ``BackendError`` when encoding fails.
    """

    name: ClassVar[str] = "moviepy"
    version: ClassVar[str] = "1"
    requires: ClassVar[tuple[str, ...]] = ("moviepy", "imageio_ffmpeg")  # importable modules it needs

    Options = SegmentOptions

    def __init__(self, options: SegmentOptions | None = None) -> None:
        """``options``: encoder settings; ``None`` means ``SegmentOptions()``."""
        self.options = options or SegmentOptions()

    def encode(self, request: SegmentRequest, out: Path) -> None:
        """Write ``request.frames`` frames of ``request.clip`` to ``out`` (an mp4, possibly a temporary name):
        H.264 yuv420p, no audio, faded and subtitled as the request says."""
        # 1. check inputs, before any decoder starts
        available = _check_clip(request.clip, request)
        if available < request.frames:
            raise ValueError(f"clip {request.clip} holds {available} frames, the segment needs {request.frames}")
        fade_in, fade_out = (round(seconds * request.fps) for seconds in (request.fade_in, request.fade_out))
        if max(fade_in, fade_out) >= request.frames:
            raise ValueError(f"a fade of {max(fade_in, fade_out)} frames does not fit a segment of {request.frames}")

        # 2. the segment: the clip itself where it already is one (remuxed), else re-encoded by MoviePy
        plain = not (fade_in or fade_out or request.subtitles) and available == request.frames
        if plain and self.joins(request.clip, request.width, request.height, request.fps):
            _remux(request.clip, out)
        else:
            self._reencode(request, out, fade_in, fade_out)

        # 3. check the result: every frame there, none more
        written = _frame_count(out)
        if written != request.frames:
            raise BackendError(f"the segment {out} came out with {written} frames, want {request.frames}")

    def joins(self, clip: Path, width: int, height: int, fps: int) -> bool:
        """Whether ``clip``'s video stream can stand in the film as it is: it opens on a keyframe and has the
        stream signature (codec, profile, pixel format, size, fps, time base, parameter sets) of a segment
        this encoder makes at ``width`` x ``height`` and ``fps``."""
        signature, opens_on_keyframe = _signature(clip)
        return opens_on_keyframe and signature == self._reference(width, height, fps)

    def _reference(self, width: int, height: int, fps: int) -> tuple:
        """The stream signature of a two-frame segment encoded here with these settings (cached)."""
        key = (self.options.preset, self.options.crf, self.options.threads, width, height, fps)
        with _REFERENCE_LOCK:  # tasks run in threads: one reference encode per key
            if key not in _REFERENCES:
                with tempfile.TemporaryDirectory(prefix="storyreel-reference-") as tmp:
                    import numpy as np

                    source, made = Path(tmp) / "source.mp4", Path(tmp) / "reference.mp4"
                    grey = np.full((height, width, 3), 128, np.uint8)
                    write_video([grey, grey], source, fps, width, height)
                    request = SegmentRequest(clip=source, fps=fps, width=width, height=height, frames=2)
                    self._reencode(request, made, 0, 0)
                    _REFERENCES[key] = _signature(made)[0]
            return _REFERENCES[key]

    def _reencode(self, request: SegmentRequest, out: Path, fade_in: int, fade_out: int) -> None:
        """The clip cut to its frames, streamed by MoviePy into ffmpeg: encoded, faded, subtitled."""
        VideoFileClip = _import_moviepy()
        source = None
        try:
            with tempfile.TemporaryDirectory(prefix="storyreel-segment-") as tmp:
                subtitles = _write_srt(request.subtitles, Path(tmp) / "subtitles.srt") if request.subtitles else None
                source = VideoFileClip(str(request.clip), audio=False)
                segment = source.with_duration((request.frames + _SLACK) / request.fps)
                segment.write_videofile(
                    str(out),
                    fps=request.fps,
                    codec="libx264",
                    audio=False,
                    preset=self.options.preset,
                    threads=self.options.threads,
                    ffmpeg_params=self._ffmpeg_params(request.frames, fade_in, fade_out, subtitles),
                    logger=None,
                )
        except OSError as err:  # what MoviePy raises when an ffmpeg process fails
            out.unlink(missing_ok=True)
            raise BackendError(f"MoviePy could not write the segment {out}: {err}") from err
        finally:
            if source is not None:
                source.close()

    def _ffmpeg_params(self, frames: int, fade_in: int, fade_out: int, subtitles: Path | None) -> list[str]:
        """Output options for MoviePy's ffmpeg writer (it adds the input, codec, preset and threads)."""
        filters = []
        if subtitles is not None:
            burn = f"subtitles=filename={_filter_value(str(subtitles))}"
            if self.options.subtitle_style:
                burn += f":force_style={_filter_value(self.options.subtitle_style)}"
            filters.append(burn)
        # after the subtitles, so they fade with the picture; by frame number: the first frame and the last
        # are black, and the same frames fade wherever the segment sits in the film
        if fade_in:
            filters.append(f"fade=t=in:s=0:n={fade_in}")
        if fade_out:
            filters.append(f"fade=t=out:s={frames - 1 - fade_out}:n={fade_out}")
        params = ["-vf", ",".join(filters)] if filters else []
        # -f because ``out`` may be a temporary name. (MoviePy appends -pix_fmt yuva420p after these; libx264
        # has no alpha, so ffmpeg still picks yuv420p.)
        return params + [
            *x264_options(self.options.preset),
            "-crf",
            str(self.options.crf),
            "-pix_fmt",
            "yuv420p",
            "-f",
            "mp4",
        ]


class MoviePyAssembler:
    """The film from MoviePy segments: lossless concat, AAC mix.

    The film: its segments' video copied end to end (ffmpeg concat demuxer), the mix encoded as AAC.

    Raises ``ValueError`` when the request disagrees with its files, ``BackendError`` when ffmpeg fails.
    """

    name: ClassVar[str] = "moviepy"
    version: ClassVar[str] = "2"
    requires: ClassVar[tuple[str, ...]] = ("moviepy", "imageio_ffmpeg")  # importable modules it needs

    class Options(BackendOptions):
        """The film's own settings (the video ones are the segments': ``SegmentOptions``)."""

        audio_bitrate: str = Field("192k", pattern=r"^\d+k$", description="AAC bitrate, e.g. '192k'")

    def __init__(self, options: Options | None = None) -> None:
        """``options``: the film's settings; ``None`` means ``MoviePyAssembler.Options()``."""
        self.options = options or self.Options()

    def assemble(self, request: AssembleRequest, out: Path) -> None:
        """Write the film to ``out`` (an mp4, possibly a temporary name): ``request.segments`` end to end as
        they are, ``request.audio`` encoded as AAC, ``+faststart``."""
        # 1. check inputs: the segments add up to the timeline, the mix is as long
        with ThreadPoolExecutor(4) as pool:  # ffprobe runs, not Python: threads overlap them
            counts = list(pool.map(partial(_check_clip, request=request), request.segments))
        if sum(counts) != request.frames:
            raise ValueError(
                f"the segments hold {sum(counts)} frames ({sum(counts) / request.fps:.3f} s), "
                f"the timeline {request.frames} ({request.frames / request.fps:.3f} s)"
            )
        seconds = request.frames / request.fps
        _check_audio(request.audio, seconds, request.fps)

        # 2. the concatenation: packets copied, the audio encoded once
        with tempfile.TemporaryDirectory(prefix="storyreel-film-") as tmp:
            listing = Path(tmp) / "segments.txt"
            listing.write_text("".join(f"file {_concat_path(p)}\n" for p in request.segments), encoding="utf-8")
            command = [
                ffmpeg_exe(), "-y", "-nostdin", "-v", "error",
                "-f", "concat", "-safe", "0", "-i", str(listing),
                "-t", f"{seconds:.6f}", "-i", str(request.audio),
                "-map", "0:v:0", "-map", "1:a:0",
                "-c:v", "copy", "-c:a", "aac", "-b:a", self.options.audio_bitrate,
                "-movflags", "+faststart", "-f", "mp4", str(out),
            ]  # fmt: skip
            _ffmpeg(command, out, f"join the segments into {out}")

        # 3. check the result: every frame, and both streams as long as the timeline
        _check_film(out, request.frames, request.fps)


def _import_moviepy() -> Any:
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
    from moviepy import VideoFileClip

    return VideoFileClip


def _check_clip(path: Path, request: SegmentRequest | AssembleRequest) -> int:
    """The clip's frame count, after checking that it exists and has the request's size and fps (and, for
    the film's segments, that they are H.264 yuv420p: their packets are copied into the film as they are)."""
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
            "every clip and segment must have the film's size"
        )
    num, den = (int(n) for n in video["avg_frame_rate"].split("/"))
    if den == 0 or abs(num / den - request.fps) > 0.01:
        raise ValueError(f"clip {path} runs at {video['avg_frame_rate']} fps, the request at {request.fps}")
    if isinstance(request, AssembleRequest) and (video.get("codec_name"), video.get("pix_fmt")) != ("h264", "yuv420p"):
        raise ValueError(
            f"segment {path} is {video.get('codec_name')} {video.get('pix_fmt')}, not a film segment "
            "(H.264 yuv420p, made by the segment encoder)"
        )
    if "nb_frames" in video:
        return int(video["nb_frames"])
    return round(float(video["duration"]) * request.fps)


def _filter_value(value: str) -> str:
    """Escape a value for an ffmpeg filter option inside a ``-vf`` graph: once for the option parser
    (``\\ ' :``), once more for the graph parser (``\\ ' [ ] , ;``)."""
    option_level = re.sub(r"([\\':])", r"\\\1", value)
    return re.sub(r"([\\'\[\],;])", r"\\\1", option_level)


def _frame_count(path: Path) -> int:
    """The frames of an mp4's video stream, from its index (no decoding)."""
    video = next((s for s in probe(path)["streams"] if s.get("codec_type") == "video"), {})
    return int(video.get("nb_frames", -1))


def _signature(path: Path) -> tuple[tuple, bool]:
    """A video file's stream signature (what must match for its packets to join a film's segments) and
    whether its first packet is a keyframe. One ffprobe call; reads one packet, decodes nothing."""
    fields = "codec_name,profile,pix_fmt,width,height,avg_frame_rate,time_base,extradata_hash"
    command = [
        ffprobe_exe(), "-v", "error", "-show_data_hash", "sha256", "-select_streams", "v:0",
        "-show_entries", f"stream={fields}:packet=flags", "-read_intervals", "%+#1", "-of", "json", str(path),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackendError(f"ffprobe could not read {path}: {done.stderr.strip()[:300]}")
    found = json.loads(done.stdout)
    stream = (found.get("streams") or [{}])[0]
    packets = found.get("packets") or [{}]
    return tuple(stream.get(name) for name in fields.split(",")), packets[0].get("flags", "").startswith("K")


def _remux(clip: Path, out: Path) -> None:
    """``clip``'s video stream as it is (no decoding, no encoding) in an mp4 of its own, ``+faststart``."""
    command = [
        ffmpeg_exe(), "-y", "-nostdin", "-v", "error", "-i", str(clip),
        "-map", "0:v:0", "-c:v", "copy", "-an", "-sn", "-dn", "-map_metadata", "-1",
        "-movflags", "+faststart", "-f", "mp4", str(out),
    ]  # fmt: skip
    _ffmpeg(command, out, f"copy {clip} into the segment {out}")


def _ffmpeg(command: list[str], out: Path, what: str) -> None:
    """Run ffmpeg; on failure remove what it left at ``out`` and raise a BackendError: "could not ``what``"."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        out.unlink(missing_ok=True)
        raise BackendError(f"ffmpeg could not {what}: {done.stderr.strip()[-800:]}")


def _check_audio(audio: Path, seconds: float, fps: int) -> None:
    """The mix must be there and last ``seconds``, within one frame."""
    if not audio.is_file():
        raise ValueError(f"audio not found: {audio}")
    try:
        length = float(probe(audio)["format"]["duration"])
    except (BackendError, KeyError) as err:
        raise ValueError(f"audio {audio} is not a readable audio file: {err}") from err
    if abs(length - seconds) > 1 / fps:
        raise ValueError(
            f"audio {audio} lasts {length:.3f} s, the timeline {seconds:.3f} s: the mix must be as long as the timeline"
        )


def _check_film(out: Path, frames: int, fps: int) -> None:
    """The film must hold ``frames`` frames, and its sound last as long, within one frame."""
    streams = {s["codec_type"]: s for s in probe(out)["streams"]}
    if "video" not in streams or "audio" not in streams:
        raise BackendError(f"the film {out} lacks a video or audio stream: {sorted(streams)}")
    written = int(streams["video"].get("nb_frames", -1))
    video, audio = (float(streams[kind]["duration"]) for kind in ("video", "audio"))
    if written != frames or abs(video - frames / fps) > 1e-3 or abs(audio - video) > 1 / fps:
        raise BackendError(
            f"the film {out} came out with {written} frames ({video:.3f} s) and audio of {audio:.3f} s, "
            f"want {frames} frames ({frames / fps:.3f} s)"
        )


def _write_srt(cues: list[SubtitleCue], out: Path) -> Path:
    """The cues as an .srt file for ffmpeg's subtitles filter."""
    blocks = [f"{i}\n{srt_time(c.start)} --> {srt_time(c.end)}\n{c.text}\n" for i, c in enumerate(cues, start=1)]
    out.write_text("\n".join(blocks), encoding="utf-8")
    return out


def _concat_path(path: Path) -> str:
    """A path quoted for a concat demuxer listing."""
    return "'" + str(Path(path).resolve()).replace("'", "'\\''") + "'"
