"""The offline picture backends: procedural illustrations, camera keyframes and flow interpolation, on real
files at tiny sizes (real PNGs, real H.264 through ffmpeg)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from storyreel.generators.base import (
    ImageGenerator,
    ImageRequest,
    InterpolationRequest,
    Interpolator,
    KeyframeGenerator,
    KeyframeRequest,
)
from storyreel.generators.drawing.characters import species_drawing
from storyreel.generators.preview_image import PreviewIllustrator
from storyreel.generators.preview_interpolation import FlowInterpolator
from storyreel.generators.preview_keyframes import CameraKeyframes
from storyreel.media import read_video
from storyreel.plan import CAMERAS, SETTINGS, TIMES_OF_DAY, WEATHERS, Character, Scene

W, H = 96, 54
PIP = Character(name="Pip", look="a small green dragon", species="dragon", color="#4caf50")
MIA = Character(name="Mia", look="a girl in a red coat", species="girl", color="#d9534f")


def illustrate(tmp_path: Path, name: str = "page.png", **request: object) -> Path:
    fields = {"prompt": "Pip finds a lantern", "width": W, "height": H, "characters": [PIP], **request}
    out = tmp_path / name
    PreviewIllustrator().generate(ImageRequest(**fields), out)
    return out


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two images, in 8-bit levels."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def luma_mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of brightness: what H.264 keeps well (it halves colour resolution)."""
    weights = np.array([0.299, 0.587, 0.114])
    return float(np.abs((a.astype(np.float64) - b) @ weights).mean())


# --- illustrations ------------------------------------------------------------------------------


def test_backends_meet_their_protocols() -> None:
    assert isinstance(PreviewIllustrator(), ImageGenerator)
    assert isinstance(CameraKeyframes(), KeyframeGenerator)
    assert isinstance(FlowInterpolator(), Interpolator)
    with pytest.raises(ValueError):
        PreviewIllustrator.Options(colour="pink")  # unknown options are refused, not ignored


def test_illustration_is_a_png_of_the_requested_size(tmp_path: Path) -> None:
    out = illustrate(tmp_path, "page.tmp", width=64, height=36)  # the store's temporary names lack .png
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.size == (64, 36)
        assert image.mode == "RGB"


def test_same_request_gives_the_same_bytes(tmp_path: Path) -> None:
    first = illustrate(tmp_path, "a.png", seed=7, characters=[PIP, MIA])
    second = illustrate(tmp_path, "b.png", seed=7, characters=[PIP, MIA])
    assert first.read_bytes() == second.read_bytes()


def test_seeds_and_scenes_change_the_picture(tmp_path: Path) -> None:
    base = pixels(illustrate(tmp_path, "base.png", seed=1))
    assert mad(base, pixels(illustrate(tmp_path, "seed.png", seed=2))) > 2.0
    assert mad(base, pixels(illustrate(tmp_path, "beach.png", seed=1, scene=Scene(setting="beach")))) > 10.0
    assert mad(base, pixels(illustrate(tmp_path, "alone.png", seed=1, characters=[]))) > 1.0


def test_every_setting_time_and_weather_renders(tmp_path: Path) -> None:
    # every setting, each with a different time of day and weather, so all of them are drawn at least once
    for i, setting in enumerate(SETTINGS):
        scene = Scene(setting=setting, time_of_day=TIMES_OF_DAY[i % 4], weather=WEATHERS[i % len(WEATHERS)])
        image = pixels(illustrate(tmp_path, f"{setting}.png", scene=scene, characters=[PIP, MIA]))
        assert image.shape == (H, W, 3)
        assert image.std() > 8, f"{setting} came out flat"


def test_night_is_darker_than_day_and_snow_is_white(tmp_path: Path) -> None:
    day = pixels(illustrate(tmp_path, "day.png", scene=Scene(time_of_day="day")))
    night = pixels(illustrate(tmp_path, "night.png", scene=Scene(time_of_day="night")))
    snow = pixels(illustrate(tmp_path, "snow.png", scene=Scene(weather="snow")))
    assert night.mean() < day.mean() - 40
    ground = slice(int(H * 0.8), H)
    assert snow[ground].mean() > day[ground].mean() + 30  # a snowy meadow, not a green one


def test_every_species_and_unknown_ones_render(tmp_path: Path) -> None:
    species = ["dragon", "fox", "rabbit", "bear", "cat", "dog", "bird", "owl", "fish", "turtle", "robot"]
    species += ["girl", "boy", "child", "mouse", "frog", "unicorn", "princess", "wizard", "zorblax"]
    empty = pixels(illustrate(tmp_path, "empty.png", characters=[]))
    for kind in species:
        who = Character(name=kind.title(), look="x", species=kind, color="#3366cc")
        drawn = pixels(illustrate(tmp_path, f"{kind}.png", characters=[who]))
        assert mad(drawn, empty) > 0.5, f"no {kind} to be seen"


def test_species_words_map_to_drawings() -> None:
    assert species_drawing("dragon")[0] == "dragon"
    assert species_drawing("Baby Dragon")[0] == "dragon"
    assert species_drawing("puppy")[0] == "dog"
    assert species_drawing("foxes")[0] == "fox"
    assert species_drawing("princess")[0] == "princess"
    assert species_drawing("zorblax")[0] == "creature"
    assert species_drawing("mouse")[1] < species_drawing("girl")[1]  # a mouse is drawn smaller than a child


def test_a_character_looks_the_same_on_every_page(tmp_path: Path) -> None:
    # two pages that differ only in their prompt, so trees, flowers and Pip's spot move; Pip himself (the
    # pixels that change when he is added: how many, which colours) must not
    def figure(name: str, prompt: str) -> np.ndarray:
        with_pip = pixels(illustrate(tmp_path, name, prompt=prompt, width=320, height=180))
        without = pixels(illustrate(tmp_path, "bare-" + name, prompt=prompt, width=320, height=180, characters=[]))
        changed = np.abs(with_pip - without).sum(axis=2) > 30
        return with_pip[changed]

    one, two = figure("one.png", "page one"), figure("two.png", "page two")
    assert len(one) > 500 and len(two) > 500
    assert abs(len(one) - len(two)) < 0.1 * len(one)  # same size
    assert np.abs(one.mean(axis=0) - two.mean(axis=0)).max() < 12  # same colours


# --- keyframes ----------------------------------------------------------------------------------


def keyframes(tmp_path: Path, camera: str, indices: list[int], image: Path | None = None) -> list[np.ndarray]:
    image = image or illustrate(tmp_path, seed=3, characters=[PIP, MIA])
    out = tmp_path / f"kf-{camera}"  # does not exist yet: the backend creates it
    request = KeyframeRequest(image=image, camera=camera, indices=indices, width=W, height=H)
    CameraKeyframes().keyframes(request, out)
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"k{i:03d}.png" for i in range(len(indices))]
    return [pixels(out / name) for name in names]


@pytest.mark.parametrize("camera", CAMERAS)
def test_every_camera_moves_between_keyframes(tmp_path: Path, camera: str) -> None:
    frames = keyframes(tmp_path, camera, [0, 8, 16, 24, 32, 40, 47])
    assert all(frame.shape == (H, W, 3) for frame in frames)
    steps = [mad(a, b) for a, b in zip(frames, frames[1:], strict=False)]
    assert min(steps) > 0.3, f"{camera} stands still somewhere: {steps}"
    # eased: the camera is slower at the ends than in the middle
    assert max(steps[0], steps[-1]) < max(steps[2:4]), steps


def test_zoom_in_starts_at_the_illustration(tmp_path: Path) -> None:
    image = illustrate(tmp_path, seed=5)
    first = keyframes(tmp_path, "zoom_in", [0, 10, 20], image)[0]
    assert np.abs(first - pixels(image)).max() <= 1


def test_keyframes_are_deterministic(tmp_path: Path) -> None:
    image = illustrate(tmp_path)
    request = KeyframeRequest(image=image, camera="parallax", indices=[0, 5, 9], width=W, height=H)
    CameraKeyframes().keyframes(request, tmp_path / "a")
    CameraKeyframes().keyframes(request, tmp_path / "b")
    for name in ("k000.png", "k001.png", "k002.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize("camera", CAMERAS)
def test_the_camera_never_looks_outside_the_picture(tmp_path: Path, camera: str) -> None:
    # grey with a one-pixel red frame: a view that slid past an edge would show a band of red at least two
    # pixels wide; a view at most touching the edge shows red only in the outermost pixels
    picture = np.full((H, W, 3), 128, np.uint8)
    picture[[0, -1], :] = (255, 0, 0)
    picture[:, [0, -1]] = (255, 0, 0)
    Image.fromarray(picture).save(tmp_path / "framed.png")
    for number, frame in enumerate(keyframes(tmp_path, camera, [0, 12, 24, 35], tmp_path / "framed.png")):
        red = (frame[..., 0] > 190) & (frame[..., 1] < 80)
        assert not red[1:-1, 1:-1].any(), f"{camera} keyframe {number} shows the outside of the picture"


def test_keyframe_inputs_are_checked(tmp_path: Path) -> None:
    image = illustrate(tmp_path)
    for camera, indices in (("zoom_in", [1, 5]), ("zoom_in", [0, 5, 5]), ("spin", [0, 5])):
        with pytest.raises(ValueError):
            CameraKeyframes().keyframes(
                KeyframeRequest(image=image, camera=camera, indices=indices, width=W, height=H), tmp_path / "kf"
            )


# --- interpolation ------------------------------------------------------------------------------


def interpolate(tmp_path: Path, frames: list[Path], indices: list[int], num_frames: int) -> list[np.ndarray]:
    out = tmp_path / "clip.mp4"
    request = InterpolationRequest(keyframes=frames, indices=indices, num_frames=num_frames, width=W, height=H)
    FlowInterpolator().interpolate(request, out)
    return [frame.astype(np.int16) for frame in read_video(out)]


def test_page_clip_has_every_frame_and_passes_through_its_keyframes(tmp_path: Path) -> None:
    indices = [0, 8, 16, 23]
    request = KeyframeRequest(
        image=illustrate(tmp_path, seed=2), camera="pan_right", indices=indices, width=W, height=H
    )
    CameraKeyframes().keyframes(request, tmp_path / "kf")
    keys = sorted((tmp_path / "kf").glob("k*.png"))
    clip = interpolate(tmp_path, keys, indices, 24)
    assert len(clip) == 24
    key_pixels = [pixels(key) for key in keys]
    for i, index in enumerate(indices):
        distances = [luma_mad(clip[index], key) for key in key_pixels]
        assert distances[i] < 3.0, f"frame {index} is not its keyframe: {distances}"
        assert distances[i] == min(distances)
    # each in-between frame lies between its keyframes: closer to both than they are to each other
    for a, b in zip(indices, indices[1:], strict=False):
        apart = mad(clip[a], clip[b])
        for k in range(a + 1, b):
            assert mad(clip[k], clip[a]) < apart and mad(clip[k], clip[b]) < apart
        # and moves from one to the other
        assert mad(clip[a + 1], clip[a]) < mad(clip[b - 1], clip[a])


def test_flat_colours_blend_monotonically(tmp_path: Path) -> None:
    dark, light = tmp_path / "dark.png", tmp_path / "light.png"
    Image.new("RGB", (W, H), (40, 60, 80)).save(dark)
    Image.new("RGB", (W, H), (200, 180, 160)).save(light)
    clip = interpolate(tmp_path, [dark, light], [0, 9], 10)
    means = [frame[..., 0].mean() for frame in clip]
    assert len(clip) == 10
    assert abs(means[0] - 40) < 3 and abs(means[-1] - 200) < 3
    assert all(b > a + 5 for a, b in zip(means, means[1:], strict=False)), means


def test_a_transition_between_unrelated_pages_is_a_smooth_dissolve(tmp_path: Path) -> None:
    forest = illustrate(tmp_path, "forest.png", scene=Scene(setting="forest"), characters=[PIP])
    beach = illustrate(tmp_path, "beach.png", scene=Scene(setting="beach", time_of_day="dusk"), characters=[MIA])
    clip = interpolate(tmp_path, [forest, beach], [0, 17], 18)
    assert len(clip) == 18
    steps = [mad(a, b) for a, b in zip(clip, clip[1:], strict=False)]
    total = mad(clip[0], clip[-1])
    # no cut: the change is spread over the frames, none takes more than about twice its share
    assert max(steps) < 2.5 * total / len(steps), steps
    # and no tearing: halfway is close to the plain average of the two pages
    average = (pixels(forest) + pixels(beach)) / 2
    assert mad(clip[9], average) < 0.25 * total


def test_a_transition_does_not_repeat_the_frames_at_its_joins(tmp_path: Path) -> None:
    # the transition's ends are the last frame of one page and the first of the next (they are in those
    # pages' clips): its own frames lie strictly between them, evenly, and there are as many as asked for
    dark, light = tmp_path / "dark.png", tmp_path / "light.png"
    Image.new("RGB", (W, H), (40, 60, 80)).save(dark)
    Image.new("RGB", (W, H), (208, 180, 160)).save(light)
    out = tmp_path / "transition.mp4"
    request = InterpolationRequest(keyframes=[dark, light], indices=[0, 7], num_frames=6, width=W, height=H, inner=True)
    FlowInterpolator().interpolate(request, out)
    means = [float(frame[..., 0].mean()) for frame in read_video(out)]
    assert len(means) == 6
    expected = [40 + (208 - 40) * k / 7 for k in range(1, 7)]  # 64, 88, ... 184: never 40 or 208
    assert all(abs(m - e) < 4 for m, e in zip(means, expected, strict=True)), means
    with pytest.raises(ValueError, match=r"num_frames \+ 1 = 7"):  # the ends are counted in the indices
        InterpolationRequest(keyframes=[dark, light], indices=[0, 5], num_frames=6, width=W, height=H, inner=True)
    # a page clip's request is as before (its spec, and so its cached clip, unchanged)
    page = InterpolationRequest(keyframes=[dark, light], indices=[0, 5], num_frames=6, width=W, height=H)
    assert "inner" not in page.model_dump() and "inner" in request.model_dump()


@pytest.mark.parametrize(
    ("indices", "num_frames", "count"),
    [
        ([1, 9], 10, 2),  # does not start at 0
        ([0, 8], 10, 2),  # does not end at num_frames - 1
        ([0, 5, 5, 9], 10, 4),  # not strictly increasing
        ([0, 6, 3, 9], 10, 4),  # out of order
        ([0, 4, 9], 10, 2),  # more indices than keyframes
    ],
)
def test_bad_indices_are_refused(tmp_path: Path, indices: list[int], num_frames: int, count: int) -> None:
    frame = illustrate(tmp_path)
    with pytest.raises(ValueError):  # the request refuses them, for every interpolation backend
        InterpolationRequest(keyframes=[frame] * count, indices=indices, num_frames=num_frames, width=W, height=H)
