"""The MoviePy assembler on tiny real media: 128x72 clips of about a second, real ffmpeg and ffprobe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from storyreel.errors import BackendError
from storyreel.generators.assemble_moviepy import MoviePyAssembler
from storyreel.generators.base import Assembler, AssembleRequest
from storyreel.media import probe, read_video, write_video, write_wav

W, H, FPS = 128, 72, 24
FRAME = 1 / FPS


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


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three 1 s clips and a 2.5 s mix: the film is cut inside the last clip."""
    folder = tmp_path_factory.mktemp("media")
    for i in range(3):
        moving_clip(folder / f"clip{i}.mp4", FPS, seed=i)
    mix(folder / "mix.wav", 2.5)
    return folder


def request_for(media: Path, **changes) -> AssembleRequest:
    fields = dict(
        clips=[media / f"clip{i}.mp4" for i in range(3)],
        audio=media / "mix.wav",
        fps=FPS,
        width=W,
        height=H,
        duration=2.5,
        fade=0.5,
    )
    return AssembleRequest(**(fields | changes))


@pytest.fixture(scope="module")
def film(media: Path) -> Path:
    out = media / "film.tmp.mp4"
    MoviePyAssembler().assemble(request_for(media), out)
    return out


def test_is_an_assembler() -> None:
    assert isinstance(MoviePyAssembler(), Assembler)
    assert (MoviePyAssembler.name, MoviePyAssembler.version) == ("moviepy", "1")


def test_film_is_h264_yuv420p_and_aac_of_the_right_size_and_fps(film: Path) -> None:
    found = streams(film)
    assert found["video"]["codec_name"] == "h264"
    assert found["video"]["pix_fmt"] == "yuv420p"
    assert (found["video"]["width"], found["video"]["height"]) == (W, H)
    assert found["video"]["r_frame_rate"] == f"{FPS}/1"
    assert found["audio"]["codec_name"] == "aac"


def test_film_lasts_the_requested_duration_with_audio_to_match(film: Path) -> None:
    found = streams(film)
    video, audio = float(found["video"]["duration"]), float(found["audio"]["duration"])
    assert abs(video - 2.5) <= FRAME
    assert abs(audio - video) <= FRAME + 0.05
    assert int(found["video"]["nb_frames"]) == round(2.5 * FPS)


def test_film_is_faststart(film: Path) -> None:
    head = film.read_bytes()
    assert 0 <= head.find(b"moov") < head.find(b"mdat")


def test_film_fades_from_and_to_black(film: Path) -> None:
    frames = frames_of(film)
    middle = frames[len(frames) // 2].mean()
    assert frames[0].mean() < 0.2 * middle
    assert frames[-1].mean() < 0.2 * middle
    assert frames[6].mean() < frames[18].mean()  # still rising half way through the 0.5 s fade


@pytest.mark.parametrize("fps", [24, 30])
def test_cuts_keep_every_frame_of_every_clip_in_order(tmp_path: Path, fps: int) -> None:
    counts, levels = [7, 13, 5, 11, 9], [30, 80, 130, 180, 230]
    pairs = list(zip(counts, levels, strict=True))
    clips = [solid_clip(tmp_path / f"c{i}.mp4", n, level, fps) for i, (n, level) in enumerate(pairs)]
    total = sum(counts)
    request = AssembleRequest(
        clips=clips, audio=mix(tmp_path / "mix.wav", total / fps), fps=fps, width=W, height=H,
        duration=total / fps, fade=0,
    )  # fmt: skip
    MoviePyAssembler().assemble(request, tmp_path / "film.mp4")

    seen = [min(levels, key=lambda lv: abs(lv - frame.mean())) for frame in frames_of(tmp_path / "film.mp4")]
    assert seen == [level for n, level in pairs for _ in range(n)]


def test_burn_subtitles_draws_the_cue_only_while_it_is_shown(media: Path, tmp_path: Path) -> None:
    # a path that needs escaping inside an ffmpeg filter graph
    srt = tmp_path / "it's a [test], 1:2; ok" / "subtitles.srt"
    srt.parent.mkdir()
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\nHELLO\n", encoding="utf-8")
    options = MoviePyAssembler.Options(subtitle_style="FontSize=60,Outline=2")
    burn = request_for(media, subtitles=srt, burn_subtitles=True)
    MoviePyAssembler(options).assemble(burn, tmp_path / "burned.mp4")
    MoviePyAssembler(options).assemble(request_for(media, subtitles=srt), tmp_path / "plain.mp4")

    burned, plain = frames_of(tmp_path / "burned.mp4"), frames_of(tmp_path / "plain.mp4")
    shown, hidden = round(1.5 * FPS), round(0.75 * FPS)

    def difference(i: int) -> float:
        return float(np.abs(burned[i].astype(int) - plain[i].astype(int)).mean())

    assert difference(hidden) < 0.5  # the same picture where no cue is shown
    assert difference(shown) > 1.5  # the text where the cue is


def test_missing_clip_is_a_clear_error_before_any_work(media: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    with pytest.raises(ValueError, match="clip not found: .*nope.mp4"):
        MoviePyAssembler().assemble(request_for(media, clips=[missing]), tmp_path / "f.mp4")
    assert not (tmp_path / "f.mp4").exists()


def test_clip_of_another_size_is_a_clear_error(media: Path, tmp_path: Path) -> None:
    small = moving_clip(tmp_path / "small.mp4", FPS, seed=9, size=(64, 36))
    with pytest.raises(ValueError, match=r"is 64x36, the request is 128x72"):
        MoviePyAssembler().assemble(request_for(media, clips=[small]), tmp_path / "f.mp4")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"duration": 3.5}, r"the clips hold 72 frames .* needs 84"),
        ({"duration": 2.0}, r"lasts 2\.500 s, the timeline 2\.000 s"),  # the mix is longer than the film
        ({"fps": 30, "duration": 2.5}, r"runs at 24/1 fps, the request at 30"),
        ({"burn_subtitles": True}, r"there is no subtitle file"),
    ],
)
def test_request_that_disagrees_with_its_files_is_refused(
    media: Path, tmp_path: Path, changes: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        MoviePyAssembler().assemble(request_for(media, **changes), tmp_path / "f.mp4")


def _child_processes() -> set[int]:
    children: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        children |= {int(pid) for pid in (task / "children").read_text().split()}
    return children


@pytest.mark.skipif(not Path("/proc/thread-self/children").exists(), reason="needs Linux /proc children")
def test_encoder_failure_is_a_backend_error_and_stops_every_ffmpeg(media: Path, tmp_path: Path) -> None:
    before = _child_processes()
    with pytest.raises(BackendError, match="MoviePy could not write the film"):
        MoviePyAssembler().assemble(request_for(media), tmp_path / "no such folder" / "film.mp4")
    assert _child_processes() - before == set()


def test_options_forbid_unknown_keys() -> None:
    with pytest.raises(ValueError, match="extra"):
        MoviePyAssembler.Options(bitrate="5M")


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
