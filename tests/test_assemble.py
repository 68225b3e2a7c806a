"""The film from segments on tiny real media (128x72 clips of about a second, real MoviePy, ffmpeg and ffprobe):
the MoviePy segment encoder, then the assembler that joins segments losslessly with the mix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from storyreel.errors import BackendError
from storyreel.generators.assemble_moviepy import MoviePyAssembler, MoviePySegmentEncoder, SegmentOptions
from storyreel.generators.base import Assembler, AssembleRequest, SegmentEncoder, SegmentRequest, SubtitleCue
from storyreel.media import (
    X264_PRESET,
    ffmpeg_exe,
    ffprobe_exe,
    probe,
    read_video,
    write_video,
    write_wav,
    x264_options,
)

W, H, FPS = 128, 72, 24
FRAME = 1 / FPS
TOTAL = 68  # frames of the film in the module fixtures


def moving_clip(out: Path, frames: int, seed: int, fps: int = FPS, size: tuple[int, int] = (W, H)) -> Path:
    """A bright gradient with a square crossing it, so every frame differs."""
    width, height = size
    rng = np.random.default_rng(seed)
    base = np.zeros((height, width, 3), np.uint8)
    base[..., 0] = np.linspace(120, 220, width, dtype=np.uint8)[None, :]
    base[..., 1] = rng.integers(100, 200)
    base[..., 2] = np.linspace(200, 120, height, dtype=np.uint8)[:, None]

    def frames_of():
        for i in range(frames):
            frame = base.copy()
            x = (i * 3) % (width - 16)
            frame[20:36, x : x + 16] = (250, 250, 60)
            yield frame

    write_video(frames_of(), out, fps, width, height)
    return out


def solid_clip(out: Path, frames: int, level: int, fps: int = FPS) -> Path:
    write_video((np.full((H, W, 3), level, np.uint8) for _ in range(frames)), out, fps, W, H)
    return out


def mix(out: Path, seconds: float) -> Path:
    rate = 48_000
    t = np.arange(round(seconds * rate)) / rate
    write_wav(out, 0.2 * np.sin(2 * np.pi * 440 * t), rate)
    return out


def frames_of(film: Path) -> list[np.ndarray]:
    return list(read_video(film))


def streams(film: Path) -> dict[str, dict]:
    return {s["codec_type"]: s for s in probe(film)["streams"]}


def framemd5(video: Path) -> list[str]:
    """The md5 of each decoded frame (ffmpeg's framemd5 muxer)."""
    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(video), "-an", "-f", "framemd5", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [line.rsplit(",", 1)[-1].strip() for line in done.stdout.splitlines() if not line.startswith("#")]


def segment(clip: Path, out: Path, frames: int, options: SegmentOptions | None = None, **changes) -> Path:
    request = SegmentRequest(clip=clip, fps=changes.pop("fps", FPS), width=W, height=H, frames=frames, **changes)
    MoviePySegmentEncoder(options).encode(request, out)
    return out


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three 1 s clips (a few frames longer than their segments) and a mix as long as the film."""
    folder = tmp_path_factory.mktemp("media")
    for i in range(3):
        moving_clip(folder / f"clip{i}.mp4", FPS + 4, seed=i)
    mix(folder / "mix.wav", TOTAL / FPS)
    return folder


@pytest.fixture(scope="module")
def segments(media: Path) -> list[Path]:
    """The film's three segments, 24 + 24 + 20 frames: the first fades in, the last fades out."""
    fade = {0: {"fade_in": 0.5}, 2: {"fade_out": 0.5}}
    lengths = [FPS, FPS, TOTAL - 2 * FPS]
    return [segment(media / f"clip{i}.mp4", media / f"seg{i}.mp4", n, **fade.get(i, {})) for i, n in enumerate(lengths)]


def request_for(media: Path, segments: list[Path], **changes) -> AssembleRequest:
    fields = dict(segments=segments, audio=media / "mix.wav", fps=FPS, width=W, height=H, frames=TOTAL)
    return AssembleRequest(**(fields | changes))


@pytest.fixture(scope="module")
def film(media: Path, segments: list[Path]) -> Path:
    out = media / "film.tmp.mp4"
    MoviePyAssembler().assemble(request_for(media, segments), out)
    return out


# --- segments --------------------------------------------------------------------------------------


def test_is_a_segment_encoder_and_an_assembler() -> None:
    assert isinstance(MoviePySegmentEncoder(), SegmentEncoder) and isinstance(MoviePyAssembler(), Assembler)
    assert (MoviePySegmentEncoder.name, MoviePyAssembler.name) == ("moviepy", "moviepy")


def test_a_segment_is_its_frames_of_h264_starting_on_a_keyframe(segments: list[Path]) -> None:
    found = streams(segments[2])
    assert set(found) == {"video"}  # no sound: the film's sound is the mix, encoded once
    assert (found["video"]["codec_name"], found["video"]["pix_fmt"]) == ("h264", "yuv420p")
    assert int(found["video"]["nb_frames"]) == TOTAL - 2 * FPS  # cut to its frames, from a clip of 28
    flags = subprocess.run(
        [ffprobe_exe(), "-v", "error", "-select_streams", "v", "-show_entries", "packet=flags", "-of", "csv=p=0",
         str(segments[1])], capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert flags[0].startswith("K") and not any(f.startswith("K") for f in flags[1:])  # one GOP, opened at once


def test_fades_sit_inside_the_first_and_last_segments_by_frame(segments: list[Path], media: Path) -> None:
    opening, middle, closing = (frames_of(s) for s in segments)
    level = np.mean([f.mean() for f in middle])
    assert opening[0].mean() < 0.2 * level and closing[-1].mean() < 0.2 * level  # black at the film's ends
    assert opening[3].mean() < opening[9].mean() < opening[15].mean()  # still rising through the 0.5 s fade
    assert closing[-4].mean() < closing[-8].mean()
    plain = frames_of(segment(media / "clip0.mp4", media / "plain0.mp4", FPS))
    assert min(f.mean() for f in plain) > 0.8 * level  # a segment inside the film does not fade


def test_burned_subtitles_show_the_cue_only_while_it_is_on(media: Path, tmp_path: Path) -> None:
    # a style that needs escaping inside an ffmpeg filter graph
    options = SegmentOptions(subtitle_style="FontSize=60,Outline=2,FontName=it's [a]")
    cue = SubtitleCue(start=0.5, end=0.9, text="HELLO")
    burned = frames_of(segment(media / "clip0.mp4", tmp_path / "b.mp4", FPS, options, subtitles=[cue]))
    plain = frames_of(segment(media / "clip0.mp4", tmp_path / "p.mp4", FPS, options))

    def difference(i: int) -> float:
        return float(np.abs(burned[i].astype(int) - plain[i].astype(int)).mean())

    assert difference(round(0.25 * FPS)) < 0.5  # the same picture where no cue is shown
    assert difference(round(0.7 * FPS)) > 1.5  # the text where the cue is


def test_a_segment_request_that_disagrees_with_its_clip_is_refused(media: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="clip not found: .*nope.mp4"):
        segment(tmp_path / "nope.mp4", tmp_path / "s.mp4", 5)
    with pytest.raises(ValueError, match=r"holds 28 frames, the segment needs 30"):
        segment(media / "clip0.mp4", tmp_path / "s.mp4", 30)
    with pytest.raises(ValueError, match=r"runs at 24/1 fps, the request at 30"):
        segment(media / "clip0.mp4", tmp_path / "s.mp4", 5, fps=30)
    small = moving_clip(tmp_path / "small.mp4", FPS, seed=9, size=(64, 36))
    with pytest.raises(ValueError, match=r"is 64x36, the request is 128x72"):
        segment(small, tmp_path / "s.mp4", 5)
    assert not (tmp_path / "s.mp4").exists()


# --- copies: a clip that already is its segment ----------------------------------------------------


def packets_md5(video: Path) -> str:
    """The md5 of a video stream's packets as they are stored (nothing decoded): equal only for a copy."""
    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(video), "-map", "0:v:0", "-c", "copy", "-f", "md5", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def clip_with_crf(out: Path, frames: int, crf: int, preset: str = X264_PRESET) -> Path:
    """A moving clip encoded by plain ffmpeg with the film's preset (or ``preset``) and another quality (an
    older run's)."""
    raw = list(read_video(moving_clip(out.with_suffix(".src.mp4"), frames, seed=5)))
    subprocess.run(
        [ffmpeg_exe(), "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", str(FPS),
         "-i", "-", "-c:v", "libx264", "-preset", preset, *x264_options(preset), "-crf", str(crf),
         "-pix_fmt", "yuv420p", str(out)],
        input=b"".join(f.tobytes() for f in raw), check=True,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def exact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clip written with the film's settings that holds exactly its segment's 24 frames."""
    return moving_clip(tmp_path_factory.mktemp("exact") / "clip.mp4", FPS, seed=7)


def test_a_clip_that_already_is_its_segment_is_copied_bit_for_bit(exact: Path, tmp_path: Path) -> None:
    copied = segment(exact, tmp_path / "s.mp4", FPS)
    assert packets_md5(copied) == packets_md5(exact)  # the clip's packets, not a re-encode of its frames
    assert framemd5(copied) == framemd5(exact) and len(framemd5(copied)) == FPS
    found = streams(copied)
    assert set(found) == {"video"} and (found["video"]["codec_name"], found["video"]["pix_fmt"]) == ("h264", "yuv420p")
    head = copied.read_bytes()
    assert 0 <= head.find(b"moov") < head.find(b"mdat")  # +faststart, like a re-encoded segment


@pytest.mark.parametrize(
    "changes",
    [{"fade_in": 0.25}, {"fade_out": 0.25}, {"subtitles": [SubtitleCue(start=0.1, end=0.6, text="HI")]}],
    ids=["fade-in", "fade-out", "subtitles"],
)
def test_a_faded_or_subtitled_segment_is_re_encoded(exact: Path, tmp_path: Path, changes: dict) -> None:
    made = segment(exact, tmp_path / "s.mp4", FPS, **changes)
    assert packets_md5(made) != packets_md5(exact)
    assert len(framemd5(made)) == FPS


def test_a_clip_with_extra_frames_or_other_settings_is_re_encoded(exact: Path, tmp_path: Path) -> None:
    longer = moving_clip(tmp_path / "longer.mp4", FPS + 3, seed=7)
    cut = segment(longer, tmp_path / "cut.mp4", FPS)  # the clip holds more than the segment
    assert packets_md5(cut) != packets_md5(longer) and len(framemd5(cut)) == FPS
    older = clip_with_crf(tmp_path / "crf18.mp4", FPS, crf=18)  # parameter sets of crf 18: they would not join
    again = segment(older, tmp_path / "again.mp4", FPS)
    assert packets_md5(again) != packets_md5(older) and len(framemd5(again)) == FPS
    lossless = segment(exact, tmp_path / "lossless.mp4", FPS, SegmentOptions(crf=0))  # the film's settings differ
    assert packets_md5(lossless) != packets_md5(exact)


def test_joins_compares_the_stream_with_a_segment_of_the_films_size_and_settings(exact: Path, tmp_path: Path) -> None:
    encoder = MoviePySegmentEncoder()
    assert encoder.joins(exact, W, H, FPS)
    assert not encoder.joins(exact, 2 * W, 2 * H, FPS)  # a film of another size
    assert not encoder.joins(exact, W, H, 30)  # or fps
    assert not MoviePySegmentEncoder(SegmentOptions(preset="medium")).joins(exact, W, H, FPS)
    assert not encoder.joins(clip_with_crf(tmp_path / "crf18.mp4", FPS, crf=18), W, H, FPS)
    assert encoder.joins(clip_with_crf(tmp_path / "crf20.mp4", FPS, crf=20), W, H, FPS)  # any writer, same stream
    older = clip_with_crf(tmp_path / "veryfast.mp4", FPS, crf=20, preset="veryfast")  # runs before superfast
    assert encoder.joins(older, W, H, FPS)
    one_thread = tmp_path / "one-thread.mp4"  # x264's thread count is not in the parameter sets
    write_video(read_video(exact), one_thread, FPS, W, H, threads=1)
    assert encoder.joins(one_thread, W, H, FPS)


def test_a_film_of_copied_and_re_encoded_segments_decodes_cleanly_frame_for_frame(tmp_path: Path) -> None:
    counts = [FPS, 17, 30, FPS]
    clips = [moving_clip(tmp_path / f"c{i}.mp4", n, seed=i) for i, n in enumerate(counts)]
    ends = {0: {"fade_in": 0.25}, len(counts) - 1: {"fade_out": 0.25}}
    parts = [
        segment(c, tmp_path / f"s{i}.mp4", n, **ends.get(i, {}))
        for i, (c, n) in enumerate(zip(clips, counts, strict=True))
    ]
    assert [packets_md5(p) == packets_md5(c) for p, c in zip(parts, clips, strict=True)] == [False, True, True, False]
    total = sum(counts)
    request = AssembleRequest(
        segments=parts, audio=mix(tmp_path / "mix.wav", total / FPS), fps=FPS, width=W, height=H, frames=total
    )
    film = tmp_path / "film.mp4"
    MoviePyAssembler().assemble(request, film)

    decoded = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(film), "-f", "null", "-"], capture_output=True)
    assert decoded.returncode == 0 and decoded.stdout == decoded.stderr == b""  # every frame decodes, no warning
    joined = framemd5(film)
    assert joined == [md5 for p in parts for md5 in framemd5(p)]
    assert joined[FPS : FPS + 17 + 30] == framemd5(clips[1]) + framemd5(clips[2])  # the copied clips' own frames


# --- the film from its segments ---------------------------------------------------------------------


def test_film_is_h264_yuv420p_and_aac_of_the_right_size_and_fps(film: Path) -> None:
    found = streams(film)
    assert found["video"]["codec_name"] == "h264"
    assert found["video"]["pix_fmt"] == "yuv420p"
    assert (found["video"]["width"], found["video"]["height"]) == (W, H)
    assert found["video"]["r_frame_rate"] == f"{FPS}/1"
    assert found["audio"]["codec_name"] == "aac"


def test_film_holds_the_timelines_frames_with_audio_to_match(film: Path) -> None:
    found = streams(film)
    video, audio = float(found["video"]["duration"]), float(found["audio"]["duration"])
    assert int(found["video"]["nb_frames"]) == TOTAL
    assert abs(video - TOTAL / FPS) <= 1e-3 and abs(audio - video) <= FRAME


def test_film_is_faststart(film: Path) -> None:
    head = film.read_bytes()
    assert 0 <= head.find(b"moov") < head.find(b"mdat")


def test_the_film_is_its_segments_frame_for_frame(film: Path, segments: list[Path]) -> None:
    assert framemd5(film) == [md5 for s in segments for md5 in framemd5(s)]  # copied, not re-encoded


@pytest.mark.parametrize("fps", [24, 30])
def test_joins_keep_every_frame_of_every_segment_in_order(tmp_path: Path, fps: int) -> None:
    counts, levels = [7, 13, 5, 11, 9], [30, 80, 130, 180, 230]
    pairs = list(zip(counts, levels, strict=True))
    parts = [
        segment(solid_clip(tmp_path / f"c{i}.mp4", n + 2, level, fps), tmp_path / f"s{i}.mp4", n, fps=fps)
        for i, (n, level) in enumerate(pairs)
    ]
    total = sum(counts)
    request = AssembleRequest(
        segments=parts, audio=mix(tmp_path / "mix.wav", total / fps), fps=fps, width=W, height=H, frames=total
    )
    MoviePyAssembler().assemble(request, tmp_path / "film.mp4")

    seen = [min(levels, key=lambda lv: abs(lv - frame.mean())) for frame in frames_of(tmp_path / "film.mp4")]
    assert seen == [level for n, level in pairs for _ in range(n)]  # nothing dropped or doubled at a join


def test_joined_segments_equal_a_single_pass_encode_of_the_same_frames(tmp_path: Path) -> None:
    """Lossless settings (crf 0) on both sides, so any difference is the joining's: a frame dropped, doubled,
    moved or faded elsewhere. (At a lossy crf, x264's rate control carries across frames, so a single pass
    quantizes the frames after a cut differently from a segment that starts there.)"""
    counts, fade = [17, 6, 23, 6, 11], 5
    clips = [moving_clip(tmp_path / f"c{i}.mp4", n + 3, seed=i) for i, n in enumerate(counts)]
    options = SegmentOptions(crf=0)
    ends = {0: {"fade_in": fade / FPS}, len(counts) - 1: {"fade_out": fade / FPS}}
    parts = [
        segment(c, tmp_path / f"s{i}.mp4", n, options, **ends.get(i, {}))
        for i, (c, n) in enumerate(zip(clips, counts, strict=True))
    ]
    total = sum(counts)
    request = AssembleRequest(
        segments=parts, audio=mix(tmp_path / "mix.wav", total / FPS), fps=FPS, width=W, height=H, frames=total
    )
    MoviePyAssembler().assemble(request, tmp_path / "film.mp4")

    # the single pass: the same decoded frames through one encoder with the same settings and fades
    frames = [f for clip, n in zip(clips, counts, strict=True) for f in list(read_video(clip))[:n]]
    single = tmp_path / "single.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", str(FPS),
         "-i", "-", "-vf", f"fade=t=in:s=0:n={fade},fade=t=out:s={total - 1 - fade}:n={fade}",
         "-c:v", "libx264", "-preset", options.preset, "-crf", "0", "-pix_fmt", "yuv420p", str(single)],
        input=b"".join(f.tobytes() for f in frames), check=True,
    )  # fmt: skip
    joined = framemd5(tmp_path / "film.mp4")
    assert len(joined) == total and joined == framemd5(single)


def test_request_that_disagrees_with_its_files_is_refused(media: Path, segments: list[Path], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"the segments hold 68 frames .* the timeline 84"):
        MoviePyAssembler().assemble(request_for(media, segments, frames=84), tmp_path / "f.mp4")
    short = mix(tmp_path / "short.wav", 2.0)
    with pytest.raises(ValueError, match=r"lasts 2\.000 s, the timeline 2\.833 s"):
        MoviePyAssembler().assemble(request_for(media, segments, audio=short), tmp_path / "f.mp4")
    with pytest.raises(ValueError, match="clip not found: .*nope.mp4"):
        MoviePyAssembler().assemble(request_for(media, [tmp_path / "nope.mp4"], frames=1), tmp_path / "f.mp4")
    assert not (tmp_path / "f.mp4").exists()


def _child_processes() -> set[int]:
    children: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        children |= {int(pid) for pid in (task / "children").read_text().split()}
    return children


@pytest.mark.skipif(not Path("/proc/thread-self/children").exists(), reason="needs Linux /proc children")
def test_encoder_failure_is_a_backend_error_and_stops_every_ffmpeg(
    media: Path, segments: list[Path], tmp_path: Path
) -> None:
    before = _child_processes()
    with pytest.raises(BackendError, match="MoviePy could not write the segment"):
        segment(media / "clip0.mp4", tmp_path / "no such folder" / "s.mp4", 5)
    with pytest.raises(BackendError, match="ffmpeg could not join the segments"):
        MoviePyAssembler().assemble(request_for(media, segments), tmp_path / "no such folder" / "film.mp4")
    assert _child_processes() - before == set()


def test_options_forbid_unknown_keys() -> None:
    with pytest.raises(ValueError, match="extra"):
        MoviePyAssembler.Options(bitrate="5M")
    with pytest.raises(ValueError, match="extra"):
        SegmentOptions(bitrate="5M")


def test_importing_moviepy_ignores_a_dotenv_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text('STORYREEL_DOTENV_PROBE=loaded\n"not a statement\n')
    code = (
        "import os\n"
        "from storyreel.generators.assemble_moviepy import _import_moviepy\n"
        "_import_moviepy()\n"
        "print(os.environ.get('STORYREEL_DOTENV_PROBE'), os.environ.get('PYTHON_DOTENV_DISABLED'))\n"
    )
    unset = {"STORYREEL_DOTENV_PROBE", "PYTHON_DOTENV_DISABLED"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["None", "None"]
    assert done.stderr == ""
