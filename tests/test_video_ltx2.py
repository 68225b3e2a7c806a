"""The LTX-2 video backend on a tiny real LTX2ConditionPipeline from the architecture factory (random weights, no
download), saved with save_pretrained and loaded back through our backend by path: keyframes at their latent
indices, frames per clip, the clip's sound as its AAC track and as the page's sound on the timeline."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from storyreel import architectures, runtime
from storyreel.errors import BackendError
from storyreel.generators import video_ltx2
from storyreel.generators.base import InterpolationRequest, KeyframeRequest
from storyreel.media import probe, read_video, read_wav
from storyreel.timeline import keyframe_indices

W, H, FPS = 128, 72, 24


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    with runtime.threads(1):
        yield


@pytest.fixture(scope="session")
def tiny_ltx2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny LTX2ConditionPipeline (VAE temporal ratio 2, 16 kHz vocoder)."""
    return architectures.build("ltx2", tmp_path_factory.mktemp("models") / "tiny-ltx2")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Every call of the real LTX2ConditionPipeline, with its arguments."""
    from diffusers import LTX2ConditionPipeline

    seen: list[dict] = []
    real = LTX2ConditionPipeline.__call__

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append({"start": time.perf_counter(), **kwargs})
        return real(self, *args, **kwargs)

    monkeypatch.setattr(LTX2ConditionPipeline, "__call__", call)
    return seen


def ltx2(model: Path, **options: Any) -> tuple[Any, Any]:
    opts = video_ltx2.LTX2Options(
        model=str(model),
        **{"width": 32, "height": 32, "schedule": "full", "steps": 2, "guidance": 1.0, "max_frames": 17,
           "condition_crf": 0, "max_sequence_length": 16, **options},
    )  # fmt: skip
    return video_ltx2.LTX2Keyframes(opts), video_ltx2.LTX2Interpolator(opts)


def picture(path: Path, color: tuple[int, int, int], size: tuple[int, int] = (W, H)) -> Path:
    image = np.full((size[1], size[0], 3), color, np.uint8)
    image[size[1] // 3 : size[1] // 2, :] = 255
    Image.fromarray(image).save(path)
    return path


def keyframe_files(tmp_path: Path, count: int) -> list[Path]:
    colors = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40), (40, 200, 200)]
    return [picture(tmp_path / f"k{i}.png", colors[i % len(colors)]) for i in range(count)]


def streams(path: Path) -> dict[str, dict]:
    return {s["codec_type"]: s for s in probe(path)["streams"]}


def condition_images(call: dict) -> list[np.ndarray]:
    return [np.asarray(c.frames, np.float32) for c in call["conditions"]]


# --- placement arithmetic --------------------------------------------------------------------------


def test_keyframes_take_the_nearest_latent_index_and_the_frames_map_back_in_time():
    latents, positions = video_ltx2.latent_positions([0, 8, 16, 23], 8)
    assert latents == [0, 2, 3, 4] and positions == [0, 9, 17, 25]
    mapping = video_ltx2.time_map([0, 8, 16, 23], positions)
    assert len(mapping) == 24 and mapping[0] == 0 and mapping[8] == 9 and mapping[16] == 17 and mapping[23] == 25
    assert mapping == sorted(mapping)
    # keyframes closer than one latent step still get their own index
    assert video_ltx2.latent_positions([0, 1, 2], 8)[0] == [0, 1, 2]


# --- the backend -----------------------------------------------------------------------------------


def test_keyframes_and_images_reach_the_pipeline_at_their_indices_and_the_clip_has_its_frames(
    tiny_ltx2, calls, tmp_path
):
    _, interpolator = ltx2(tiny_ltx2)
    indices = keyframe_indices(30, 8)
    files = keyframe_files(tmp_path, len(indices))
    request = InterpolationRequest(keyframes=files, indices=indices, num_frames=30, width=W, height=H, seed=5)
    interpolator.interpolate(request, tmp_path / "clip.mp4")

    # windows of at most 17 frames that begin and end on keyframes; each keyframe at the latent index of its frame
    spans = [[c.index for c in call["conditions"]] for call in calls]
    assert spans[0][0] == 0 and all(s == sorted(set(s)) for s in spans)
    first = calls[0]
    offsets = indices[: len(spans[0])]
    assert spans[0] == video_ltx2.latent_positions(offsets, 2)[0]
    sent = condition_images(first)  # the keyframe images themselves, in order (at the generation size)
    for image, file in zip(sent, files, strict=False):
        expected = np.asarray(Image.open(file).convert("RGB").resize(image.shape[1::-1]), np.float32)
        assert np.abs(image - expected).mean() < 20.0
    assert all(call["frame_rate"] == FPS and call["num_frames"] % 2 == 1 for call in calls)
    found = streams(tmp_path / "clip.mp4")
    assert (int(found["video"]["nb_frames"]), found["video"]["width"], found["video"]["height"]) == (30, W, H)
    assert found["audio"]["codec_name"] == "aac"
    assert float(found["audio"]["duration"]) == pytest.approx(30 / FPS, abs=0.05)
    clip = np.stack(list(read_video(tmp_path / "clip.mp4")))
    for file, index in zip(files, indices, strict=True):  # keyframes pasted back exactly (up to H.264)
        assert np.abs(clip[index].astype(np.float32) - np.asarray(Image.open(file).convert("RGB"))).mean() < 4.0


def test_the_distilled_schedule_is_the_default_and_runs_without_guidance(tiny_ltx2, calls, tmp_path):
    _, interpolator = ltx2(tiny_ltx2, schedule="distilled")
    files = keyframe_files(tmp_path, 2)
    request = InterpolationRequest(keyframes=files, indices=[0, 8], num_frames=9, width=W, height=H, seed=1)
    interpolator.interpolate(request, tmp_path / "t.mp4")
    (call,) = calls
    assert call["sigmas"] == video_ltx2.distilled_sigmas(1) and call["guidance_scale"] == 1.0
    assert [c.index for c in call["conditions"]] == [0, 5]  # frame 8 = latent 5 at temporal ratio 2
    assert video_ltx2.LTX2Options().schedule == "distilled"


def test_keyframes_start_at_the_illustration(tiny_ltx2, calls, tmp_path):
    keyframes, _ = ltx2(tiny_ltx2)
    illustration = picture(tmp_path / "page.png", (220, 120, 30), size=(256, 144))
    indices = keyframe_indices(40, 8)
    request = KeyframeRequest(image=illustration, prompt="leaves drift", indices=indices, width=W, height=H, seed=3)
    keyframes.keyframes(request, tmp_path / "kf")
    assert len(list((tmp_path / "kf").glob("k*.png"))) == len(indices)
    assert [c.index for c in calls[0]["conditions"]] == [0]
    assert "leaves drift" in calls[0]["prompt"]


def test_deterministic_per_seed_picture_and_sound(tiny_ltx2, tmp_path):
    _, interpolator = ltx2(tiny_ltx2)
    files = keyframe_files(tmp_path, 2)

    def clip(seed: int, name: str) -> tuple[np.ndarray, np.ndarray]:
        request = InterpolationRequest(keyframes=files, indices=[0, 6], num_frames=7, width=W, height=H, seed=seed)
        interpolator.interpolate(request, tmp_path / name)
        assert video_ltx2.clip_sound(tmp_path / name, tmp_path / f"{name}.wav", 7 / FPS)
        return np.stack(list(read_video(tmp_path / name))), read_wav(tmp_path / f"{name}.wav")[0]

    (a, sa), (b, sb), (c, _) = clip(7, "a.mp4"), clip(7, "b.mp4"), clip(8, "c.mp4")
    assert np.array_equal(a, b) and np.array_equal(sa, sb)
    assert np.abs(a[1:-1].astype(int) - c[1:-1]).mean() > 1.0
    assert len(sa) == round(7 / FPS * 48000)


def test_without_pyav_the_model_crf_is_refused_with_what_to_set(tiny_ltx2, tmp_path):
    pytest.importorskip("diffusers")
    try:
        import av  # noqa: F401

        pytest.skip("PyAV is installed here")
    except ImportError:
        pass
    _, interpolator = ltx2(tiny_ltx2, condition_crf=None)
    files = keyframe_files(tmp_path, 2)
    request = InterpolationRequest(keyframes=files, indices=[0, 4], num_frames=5, width=W, height=H)
    with pytest.raises(BackendError, match="condition_crf=0"):
        interpolator.interpolate(request, tmp_path / "x.mp4")


def test_a_clip_without_sound_has_no_page_sound(tiny_ltx2, tmp_path):
    _, interpolator = ltx2(tiny_ltx2, sound=False)
    files = keyframe_files(tmp_path, 2)
    request = InterpolationRequest(keyframes=files, indices=[0, 4], num_frames=5, width=W, height=H)
    interpolator.interpolate(request, tmp_path / "quiet.mp4")
    assert "audio" not in streams(tmp_path / "quiet.mp4")
    assert not video_ltx2.clip_sound(tmp_path / "quiet.mp4", tmp_path / "none.wav", 5 / FPS)


# --- speed options through the runtime -------------------------------------------------------------


@pytest.mark.parametrize("cache", ["taylor"])
def test_a_cache_hook_reaches_the_pipeline_and_it_still_generates(tiny_ltx2, cache, calls, tmp_path):
    _, interpolator = ltx2(tiny_ltx2, cache=cache)
    files = keyframe_files(tmp_path, 2)
    request = InterpolationRequest(keyframes=files, indices=[0, 4], num_frames=5, width=W, height=H)
    interpolator.interpolate(request, tmp_path / "c.mp4")
    with interpolator._pipeline() as loaded:
        transformer = loaded.pipe.transformer
        assert transformer.is_cache_enabled
        assert type(transformer._cache_config).__name__ == {"first-block": "FirstBlockCacheConfig",
                                                             "taylor": "TaylorSeerCacheConfig"}[cache]  # fmt: skip
    assert int(streams(tmp_path / "c.mp4")["video"]["nb_frames"]) == 5


def test_mag_cache_without_ratios_and_fp8_without_a_gpu_are_refused_with_what_to_set(tiny_ltx2, tmp_path):
    files = keyframe_files(tmp_path, 2)
    request = InterpolationRequest(keyframes=files, indices=[0, 4], num_frames=5, width=W, height=H)
    # diffusers 0.42.1 registers no LTX-2 block for First-Block-Cache: said, not a traceback
    with pytest.raises(BackendError, match=r"cache=first-block does not apply to LTX2VideoTransformer3DModel"):
        ltx2(tiny_ltx2, cache="first-block")[1].interpolate(request, tmp_path / "b.mp4")
    with pytest.raises(BackendError, match=r"mag_ratios"):
        ltx2(tiny_ltx2, cache="mag")[1].interpolate(request, tmp_path / "m.mp4")
    with pytest.raises(BackendError, match=r"fp8 needs a CUDA GPU with FP8"):
        ltx2(tiny_ltx2, fp8=True, device="cpu")[1].interpolate(request, tmp_path / "f.mp4")


def test_the_latent_upsampler_generates_at_half_size_then_refines_with_the_stage_2_sigmas(tiny_ltx2, calls, tmp_path):
    from diffusers import LTX2LatentUpsamplePipeline

    upsampler = architectures.build("ltx2-upsampler", tmp_path / "upsampler")
    _, interpolator = ltx2(tiny_ltx2, upsampler=str(upsampler), width=64, height=64)
    assert LTX2LatentUpsamplePipeline.__name__ in (upsampler / "model_index.json").read_text()
    files = keyframe_files(tmp_path, 2)
    request = InterpolationRequest(keyframes=files, indices=[0, 4], num_frames=5, width=W, height=H, seed=1)
    interpolator.interpolate(request, tmp_path / "up.mp4")
    half, refine = calls
    assert (half["width"], half["height"], half["output_type"]) == (32, 32, "latent")
    assert (refine["width"], refine["height"]) == (64, 64) and refine["sigmas"] == video_ltx2.distilled_sigmas(2)
    assert tuple(refine["latents"].shape[-2:]) == (32, 32)  # upsampled: the full size over the VAE's ratio 2
    assert int(streams(tmp_path / "up.mp4")["video"]["nb_frames"]) == 5


def test_out_of_memory_steps_down_once_then_says_what_to_set(tiny_ltx2, monkeypatch, tmp_path):
    import torch
    from diffusers import LTX2ConditionPipeline

    _, interpolator = ltx2(tiny_ltx2)
    files = keyframe_files(tmp_path, 2)
    request = InterpolationRequest(keyframes=files, indices=[0, 4], num_frames=5, width=W, height=H)
    real, failures, lowered = LTX2ConditionPipeline.__call__, [1], []

    def flaky(self: Any, *args: Any, **kwargs: Any) -> Any:
        if failures:
            failures.pop()
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(self, *args, **kwargs)

    def lower(pipe: Any, placement: str) -> str:
        lowered.append(placement)
        return "cuda + model offload"

    monkeypatch.setattr(LTX2ConditionPipeline, "__call__", flaky)
    monkeypatch.setattr(runtime, "lower_offload", lower)
    interpolator.interpolate(request, tmp_path / "ok.mp4")  # one failure: one step down, then it fits
    assert lowered == ["cpu"] and int(streams(tmp_path / "ok.mp4")["video"]["nb_frames"]) == 5

    failures[:] = [1, 1]
    with pytest.raises(BackendError, match=r"even with cuda \+ model offload: set video.options.max_frames="):
        interpolator.interpolate(request, tmp_path / "no.mp4")
    assert len(lowered) == 2  # stepped down once more, not in a loop


def test_lower_offload_has_nothing_below_group_or_off_cuda():
    assert runtime.lower_offload(object(), "cpu") is None
    assert runtime.lower_offload(object(), "cuda + group offload") is None


# --- the memory auto-tune (generators/autotune.py; the choice itself: tests/test_autotune.py) ------------------


@pytest.fixture
def notes() -> Any:
    """What storyreel.progress.note says while a test runs."""
    from storyreel import progress

    class Recorder:
        def __init__(self) -> None:
            self.notes: list[str] = []

        def start(self, stage: str, total: int) -> None: ...

        def advance(self, stage: str, detail: str = "") -> None: ...

        def note(self, message: str) -> None:
            self.notes.append(message)

    recorder = Recorder()
    previous = progress.use(recorder)
    yield recorder.notes
    progress.use(previous)


def test_auto_windows_on_a_cpu_are_the_published_121_frames_and_a_number_is_kept(tiny_ltx2, notes):
    keyframer, _ = ltx2(tiny_ltx2, max_frames="auto", device="cpu")
    with keyframer._pipeline() as loaded:
        assert loaded.window == 121 and keyframer._frames_per_call(loaded) == (2, 121)
    assert notes == ["video.options: cpu: windows of 121 frames (the model's default)"]
    keyframer, _ = ltx2(tiny_ltx2, max_frames=17, device="cpu")
    with keyframer._pipeline() as loaded:
        assert keyframer._frames_per_call(loaded) == (2, 17)


def oom_then_real(monkeypatch: pytest.MonkeyPatch, failures: list[int], frames_asked: list[int]) -> None:
    """LTX2ConditionPipeline raising CUDA out-of-memory while ``failures`` is not empty (one per call)."""
    import torch
    from diffusers import LTX2ConditionPipeline

    real = LTX2ConditionPipeline.__call__

    def flaky(self: Any, *args: Any, **kwargs: Any) -> Any:
        frames_asked.append(kwargs["num_frames"])
        if failures:
            failures.pop()
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(LTX2ConditionPipeline, "__call__", flaky)


def test_out_of_memory_steps_offload_down_then_windows_down_then_names_the_settings(
    tiny_ltx2, monkeypatch, notes, tmp_path
):
    ladder = {"cpu": "cuda + model offload", "cuda + model offload": "cuda + group offload"}  # as on a card
    monkeypatch.setattr(runtime, "lower_offload", lambda pipe, placement: ladder.get(placement))
    failures: list[int] = []
    asked: list[int] = []
    oom_then_real(monkeypatch, failures, asked)
    keyframer, interpolator = ltx2(tiny_ltx2, max_frames="auto")
    files = keyframe_files(tmp_path, 2)
    short = InterpolationRequest(keyframes=files, indices=[0, 4], num_frames=5, width=W, height=H)
    with keyframer._pipeline() as loaded:
        pass

    for placement in ("cuda + model offload", "cuda + group offload"):  # 1., 2.: one offload step each
        failures[:] = [1]
        interpolator.interpolate(short, tmp_path / "a.mp4")
        assert (loaded.placement, loaded.window) == (placement, 121)
    # 3. offload at its lowest: the clip is made again once in windows smaller than the call that failed
    files = keyframe_files(tmp_path, 6)
    long = InterpolationRequest(keyframes=files, indices=[0, 8, 16, 24, 32, 40], num_frames=41, width=W, height=H)
    failures[:] = [1]
    asked.clear()
    interpolator.interpolate(long, tmp_path / "b.mp4")
    assert asked[0] >= 41 and loaded.window == 31 and all(n <= 31 for n in asked[1:]) and len(asked) == 3
    assert loaded.placement == "cuda + group offload"
    assert notes[-1] == "out of GPU memory: making it again once with windows of 31 frames"
    assert int(streams(tmp_path / "b.mp4")["video"]["nb_frames"]) == 41
    assert float(streams(tmp_path / "b.mp4")["audio"]["duration"]) == pytest.approx(41 / FPS, abs=0.05)  # one sound
    # 4. out of memory in the smaller windows too: stop, naming what to set
    failures[:] = [1, 1]
    asked.clear()
    with pytest.raises(BackendError) as error:
        interpolator.interpolate(long, tmp_path / "c.mp4")
    assert len(asked) == 2  # the first try and the one in smaller windows, not a loop
    message = str(error.value)
    assert re.search(r"^out of GPU memory generating \d+ frames at 32x32: set video.options.max_frames=\d+", message)
    assert "video.options.offload=group" in message
    assert loaded.window < 31 and not loaded.stepped


def test_with_offload_set_the_step_lower_is_a_smaller_window_and_with_both_set_there_is_none(
    tiny_ltx2, monkeypatch, tmp_path
):
    monkeypatch.setattr(runtime, "lower_offload", lambda pipe, placement: pytest.fail("offload was set"))
    failures: list[int] = []
    oom_then_real(monkeypatch, failures, [])
    files = keyframe_files(tmp_path, 2)
    request = InterpolationRequest(keyframes=files, indices=[0, 4], num_frames=5, width=W, height=H)
    keyframer, interpolator = ltx2(tiny_ltx2, max_frames="auto", offload="group")
    failures[:] = [1]
    interpolator.interpolate(request, tmp_path / "a.mp4")
    with keyframer._pipeline() as loaded:
        assert loaded.window == 5  # smaller than the 7-frame call that failed
    _, fixed = ltx2(tiny_ltx2, max_frames=17, offload="group")
    failures[:] = [1]
    with pytest.raises(BackendError, match=r"generating \d+ frames at 32x32: set video.options.max_frames"):
        fixed.interpolate(request, tmp_path / "b.mp4")


def test_on_a_card_the_choice_is_placed_and_said(tiny_ltx2, monkeypatch, notes):
    """The CUDA path of the auto-tune with the card simulated at its edge: the device, the free memory before and
    after the weights are placed, and the placement itself (diffusers' offload needs a real card)."""
    from storyreel.generators.autotune import GIB

    placed: list[str] = []

    def place(pipe: Any, options: Any, setting: str) -> str:
        placed.append(options.offload)
        return "cuda" if options.offload == "none" else f"cuda + {options.offload} offload"

    free: list[int] = []
    monkeypatch.setattr(runtime, "device", lambda choice="auto": "cuda")
    monkeypatch.setattr(runtime, "place", place)
    monkeypatch.setattr(runtime, "free_memory", lambda where: free.pop(0))

    free[:] = [100 * GIB, 99 * GIB]  # plenty: no offload, the published window, no tiles
    keyframer, _ = ltx2(tiny_ltx2, max_frames="auto", width=64, height=64)
    with keyframer._pipeline() as loaded:
        assert (placed, loaded.placement, loaded.window, loaded.pipe.vae.use_tiling) == (["none"], "cuda", 121, False)
    assert notes[-1].startswith("video.options: free 100.0 GiB: no offload (weights 0.0 GiB), 88.1 GiB left; ")
    assert notes[-1].endswith("windows of 121 frames (~0.0 GiB each); VAE tiling off (a window's decode ~0.0 GiB)")

    free[:] = [1 * GIB, 1 * GIB]  # next to nothing left: the smallest window, tiles; offload as set
    keyframer, _ = ltx2(tiny_ltx2, max_frames="auto", offload="group", width=64, height=96)
    with keyframer._pipeline() as loaded:
        assert (placed[-1], loaded.placement, loaded.window, loaded.pipe.vae.use_tiling) == (
            "group",
            "cuda + group offload",
            5,
            True,
        )
    assert "windows of 5 frames" in notes[-1] and "may not fit" in notes[-1] and "VAE tiling on" in notes[-1]
    runtime.release()
