"""The LTX and Wan video backends on tiny real pipelines from the architecture factory (random weights, no download),
saved with save_pretrained and loaded back through our backends by path; the GPU concurrency limit of the flow."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from storyreel import architectures, make_film, progress, registry, runtime
from storyreel.errors import BackendError
from storyreel.generators import diffusion, frames
from storyreel.generators.base import InterpolationRequest, KeyframeRequest
from storyreel.media import probe, read_video
from storyreel.timeline import Timeline, keyframe_indices

from .conftest import story_answers  # noqa: TID252

W, H, FPS = 128, 72, 24  # the film size of the sketch profile


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models gain nothing from more threads, and on a busy machine OpenMP's waiting makes them ~10x slower."""
    with runtime.threads(1):
        yield


# --- tiny pipelines -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tiny_ltx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny LTXConditionPipeline (transformer 8 channels, 1 layer; VAE latent 8, temporal ratio 8)."""
    return architectures.build("ltx", tmp_path_factory.mktemp("models") / "tiny-ltx")


@pytest.fixture(scope="session")
def tiny_upsampler(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny LTXLatentUpsamplePipeline (2x spatial) for the tiny LTX's 8-channel latents."""
    return architectures.build("ltx-upsampler", tmp_path_factory.mktemp("models") / "tiny-upsampler")


@pytest.fixture(scope="session")
def tiny_wan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny first/last-frame WanImageToVideoPipeline (pos_embed_seq_len = 2 x the CLIP vision tokens)."""
    return architectures.build("wan", tmp_path_factory.mktemp("models") / "tiny-wan")


# --- helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Every call of the real LTX and Wan pipelines, with its arguments and start and end times."""
    from diffusers import LTXConditionPipeline, LTXLatentUpsamplePipeline, WanImageToVideoPipeline

    seen: list[dict] = []

    def spy(cls: type) -> None:
        real = cls.__call__

        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            record = {"pipeline": cls.__name__, "start": time.perf_counter(), **kwargs}
            try:
                return real(self, *args, **kwargs)
            finally:
                record["end"] = time.perf_counter()
                seen.append(record)

        monkeypatch.setattr(cls, "__call__", call)

    for cls in (LTXConditionPipeline, LTXLatentUpsamplePipeline, WanImageToVideoPipeline):
        spy(cls)
    return seen


def ltx(model: Path, **options: Any) -> tuple[Any, Any]:
    from storyreel.generators.video_ltx import LTXInterpolator, LTXKeyframes, LTXOptions

    opts = LTXOptions(model=str(model), **{"width": 64, "height": 32, "steps": 2, "max_frames": 17, **options})
    return LTXKeyframes(opts), LTXInterpolator(opts)


def wan(model: Path, **options: Any) -> tuple[Any, Any]:
    from storyreel.generators.video_wan import WanInterpolator, WanKeyframes, WanOptions

    opts = WanOptions(model=str(model), **{"width": 64, "height": 32, "steps": 2, "max_frames": 17, **options})
    return WanKeyframes(opts), WanInterpolator(opts)


def picture(path: Path, color: tuple[int, int, int], size: tuple[int, int] = (W, H)) -> Path:
    """A flat picture with a white bar, so a pasted keyframe is easy to tell from a generated frame."""
    image = np.full((size[1], size[0], 3), color, np.uint8)
    image[size[1] // 3 : size[1] // 2, :] = 255
    Image.fromarray(image).save(path)
    return path


def keyframe_files(tmp_path: Path, count: int) -> list[Path]:
    colors = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40), (40, 200, 200), (200, 40, 200)]
    return [picture(tmp_path / f"k{i}.png", colors[i % len(colors)]) for i in range(count)]


def clip_frames(path: Path) -> np.ndarray:
    return np.stack(list(read_video(path)))


def video_stream(path: Path) -> dict:
    return next(s for s in probe(path)["streams"] if s["codec_type"] == "video")


def assert_keyframes_pasted(frames: np.ndarray, files: list[Path], indices: list[int]) -> None:
    """Frames at keyframe indices are the keyframes (up to H.264); the frames between are generated."""
    keyframes = [np.asarray(Image.open(f).convert("RGB"), np.float32) for f in files]
    for image, index in zip(keyframes, indices, strict=True):
        assert np.abs(frames[index].astype(np.float32) - image).mean() < 4.0, f"frame {index} is not its keyframe"
    between = [i for i in range(len(frames)) if i not in indices]
    distance = [min(np.abs(frames[i].astype(np.float32) - k).mean() for k in keyframes) for i in between]
    assert min(distance) > 8.0, "a generated frame is a copy of a keyframe"


# --- LTX -------------------------------------------------------------------------------------------


def test_ltx_keyframes_start_at_the_illustration_and_come_from_one_low_fps_video(tiny_ltx, calls, tmp_path):
    keyframes, _ = ltx(tiny_ltx)
    illustration = picture(tmp_path / "page.png", (220, 120, 30), size=(256, 144))  # another size: fitted
    indices = keyframe_indices(40, 8)  # [0, 8, 16, 23, 31, 39]
    request = KeyframeRequest(image=illustration, prompt="leaves drift", indices=indices, width=W, height=H, seed=3)
    keyframes.keyframes(request, tmp_path / "kf")

    files = sorted((tmp_path / "kf").glob("k*.png"))
    assert [f.name for f in files] == [f"k{i:03d}.png" for i in range(len(indices))]
    assert all(Image.open(f).size == (W, H) for f in files)
    first = np.asarray(Image.open(files[0]))
    assert np.array_equal(first, frames.cover(illustration, W, H))  # keyframe 0 is the illustration itself
    (call,) = calls
    assert [c.frame_index for c in call["conditions"]] == [0]  # conditioned on the illustration at frame 0
    assert call["num_frames"] == 9  # 6 keyframes -> the next 8k+1
    assert call["frame_rate"] == pytest.approx(5 / (39 / FPS))  # one frame per keyframe: about 3 fps
    assert (call["width"], call["height"]) == (64, 32)
    assert "leaves drift" in call["prompt"] and "zooms in" in call["prompt"]


def test_ltx_interpolation_conditions_every_keyframe_at_its_index_in_windows(tiny_ltx, calls, tmp_path):
    _, interpolator = ltx(tiny_ltx)
    indices = keyframe_indices(40, 8)  # [0, 8, 16, 23, 31, 39]
    files = keyframe_files(tmp_path, len(indices))
    request = InterpolationRequest(keyframes=files, indices=indices, num_frames=40, width=W, height=H, seed=5)
    interpolator.interpolate(request, tmp_path / "clip.mp4")

    # windows of at most 17 frames that begin and end on keyframes, neighbours sharing one
    assert [[c.frame_index for c in call["conditions"]] for call in calls] == [[0, 8, 16], [0, 7, 15], [0, 8]]
    assert [call["num_frames"] for call in calls] == [17, 17, 9]
    assert all(call["frame_rate"] == FPS for call in calls)
    stream = video_stream(tmp_path / "clip.mp4")
    assert (int(stream["nb_frames"]), stream["width"], stream["height"]) == (40, W, H)
    assert stream["r_frame_rate"] == "24/1" and stream["codec_name"] == "h264"
    assert_keyframes_pasted(clip_frames(tmp_path / "clip.mp4"), files, indices)


def test_ltx_transition_is_one_call_with_both_ends(tiny_ltx, calls, tmp_path):
    _, interpolator = ltx(tiny_ltx, max_frames=25)
    files = keyframe_files(tmp_path, 2)
    request = InterpolationRequest(keyframes=files, indices=[0, 17], num_frames=18, width=W, height=H, seed=1)
    interpolator.interpolate(request, tmp_path / "t.mp4")

    (call,) = calls
    assert [c.frame_index for c in call["conditions"]] == [0, 17] and call["num_frames"] == 25
    assert call["prompt"] == interpolator.options.default_prompt  # transitions carry no prompt
    assert int(video_stream(tmp_path / "t.mp4")["nb_frames"]) == 18
    assert_keyframes_pasted(clip_frames(tmp_path / "t.mp4"), files, [0, 17])


def test_ltx_is_deterministic_per_seed(tiny_ltx, tmp_path):
    _, interpolator = ltx(tiny_ltx)
    files = keyframe_files(tmp_path, 2)

    def clip(seed: int, name: str) -> np.ndarray:
        request = InterpolationRequest(keyframes=files, indices=[0, 9], num_frames=10, width=W, height=H, seed=seed)
        interpolator.interpolate(request, tmp_path / name)
        return clip_frames(tmp_path / name)

    a, b, c = clip(7, "a.mp4"), clip(7, "b.mp4"), clip(8, "c.mp4")
    assert np.array_equal(a, b)
    assert np.abs(a[1:-1].astype(int) - c[1:-1]).mean() > 1.0  # another seed, other in-between frames


def test_ltx_latent_upsampler_generates_at_half_size_then_refines(tiny_ltx, tiny_upsampler, calls, tmp_path):
    _, interpolator = ltx(tiny_ltx, upsampler=str(tiny_upsampler), width=128, height=64, upsample_steps=4)
    files = keyframe_files(tmp_path, 2)
    request = InterpolationRequest(keyframes=files, indices=[0, 8], num_frames=9, width=W, height=H, seed=1)
    interpolator.interpolate(request, tmp_path / "up.mp4")

    assert [c["pipeline"] for c in calls] == [
        "LTXConditionPipeline",
        "LTXLatentUpsamplePipeline",
        "LTXConditionPipeline",
    ]
    half, upsample, refine = calls
    assert (half["width"], half["height"], half["output_type"]) == (64, 32, "latent")
    assert upsample["output_type"] == "latent"
    assert (refine["width"], refine["height"], refine["denoise_strength"]) == (128, 64, 0.4)
    assert refine["latents"].shape[-2:] == (64 // 8, 128 // 8)  # the upsampler doubled the latents
    assert int(video_stream(tmp_path / "up.mp4")["nb_frames"]) == 9


def test_steps_are_reported_to_progress(tiny_ltx, tmp_path):
    class Recorder:
        def __init__(self) -> None:
            self.steps: list[str] = []

        def start(self, stage: str, total: int) -> None: ...

        def advance(self, stage: str, detail: str = "") -> None:
            if stage == "denoise":
                self.steps.append(detail)

        def note(self, message: str) -> None: ...

    _, interpolator = ltx(tiny_ltx, steps=3)
    files = keyframe_files(tmp_path, 2)
    recorder = Recorder()
    previous = progress.use(recorder)
    try:
        request = InterpolationRequest(keyframes=files, indices=[0, 8], num_frames=9, width=W, height=H)
        interpolator.interpolate(request, tmp_path / "p.mp4")
    finally:
        progress.use(previous)
    assert recorder.steps == [f"clip window 1/1: step {i}/3" for i in (1, 2, 3)]


# --- Wan -------------------------------------------------------------------------------------------


def test_wan_interpolates_each_pair_from_first_to_last_frame(tiny_wan, calls, tmp_path):
    _, interpolator = wan(tiny_wan)
    indices = keyframe_indices(40, 8)  # gaps 8, 8, 7, 8, 8
    files = keyframe_files(tmp_path, len(indices))
    request = InterpolationRequest(keyframes=files, indices=indices, num_frames=40, width=W, height=H, seed=2)
    interpolator.interpolate(request, tmp_path / "clip.mp4")

    assert len(calls) == 5 and all(c["last_image"] is not None for c in calls)
    assert [c["num_frames"] for c in calls] == [9, 9, 9, 9, 9]  # 4k+1 >= gap + 1
    assert all("prompt_embeds" in c and c.get("prompt") is None for c in calls)  # encoded once per clip
    assert all((c["width"], c["height"]) == (64, 32) for c in calls)
    stream = video_stream(tmp_path / "clip.mp4")
    assert (int(stream["nb_frames"]), stream["width"], stream["height"], stream["r_frame_rate"]) == (40, W, H, "24/1")
    assert_keyframes_pasted(clip_frames(tmp_path / "clip.mp4"), files, indices)


def test_wan_keyframes_come_from_image_to_video_at_its_own_rate_in_windows(tiny_wan, calls, tmp_path):
    keyframes, _ = wan(tiny_wan, keyframe_fps=16.0)
    illustration = picture(tmp_path / "page.png", (30, 90, 200))
    indices = keyframe_indices(40, 8)
    request = KeyframeRequest(image=illustration, indices=indices, width=W, height=H, seed=4)
    keyframes.keyframes(request, tmp_path / "kf")

    # 39 frames at 24 fps = 1.625 s; at 16 fps that is 27 frames: windows of 17 and 11 (generated as 13)
    assert [c["num_frames"] for c in calls] == [17, 13]
    assert all(c["last_image"] is None for c in calls)  # image-to-video: no last frame
    assert np.array_equal(np.asarray(calls[0]["image"]), np.asarray(Image.open(illustration)))
    assert not np.array_equal(np.asarray(calls[1]["image"]), np.asarray(calls[0]["image"]))  # continues
    files = sorted((tmp_path / "kf").glob("k*.png"))
    assert len(files) == len(indices) and all(Image.open(f).size == (W, H) for f in files)


def test_wan_is_deterministic_per_seed(tiny_wan, tmp_path):
    keyframes, _ = wan(tiny_wan)
    illustration = picture(tmp_path / "page.png", (30, 90, 200))

    def run(seed: int, name: str) -> list[np.ndarray]:
        request = KeyframeRequest(image=illustration, indices=[0, 8, 16], width=W, height=H, seed=seed)
        keyframes.keyframes(request, tmp_path / name)
        return [np.asarray(Image.open(f)) for f in sorted((tmp_path / name).glob("k*.png"))]

    a, b, c = run(1, "a"), run(1, "b"), run(2, "c")
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[2], c[2])


# --- errors and device guards ------------------------------------------------------------------------


def test_an_unknown_model_is_a_clear_error(tmp_path, tiny_wan):
    with pytest.raises(
        BackendError, match=r"'storyreel-test/no-such-model' is not in the Hugging Face cache.*video\.options"
    ):
        ltx(Path("storyreel-test/no-such-model"), local_files_only=True)[0]._load()
    with pytest.raises(BackendError, match="folder .* does not exist"):
        ltx(tmp_path / "missing")[0]._load()
    with pytest.raises(BackendError, match="holds a WanImageToVideoPipeline; this backend loads LTXConditionPipeline"):
        ltx(tiny_wan)[0]._load()


def test_offload_and_compile_are_not_applied_without_a_gpu(tiny_ltx, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks the CPU guard")
    keyframes, _ = ltx(tiny_ltx, offload="model", compile=True)
    loaded = keyframes._load()
    assert loaded.placement == "cpu"
    assert not hasattr(loaded.pipe.transformer, "_hf_hook")  # no accelerate offload hook
    illustration = picture(tmp_path / "page.png", (220, 120, 30))
    request = KeyframeRequest(image=illustration, indices=[0, 8], width=W, height=H)
    keyframes.keyframes(request, tmp_path / "kf")  # and it generates
    assert len(list((tmp_path / "kf").glob("k*.png"))) == 2


def test_out_of_memory_says_what_to_lower():
    import torch

    advice = r'lower video\.options\.width/height.*offload="group"'
    with pytest.raises(BackendError, match=advice), diffusion.out_of_memory("generating frames", "video.options"):
        raise torch.OutOfMemoryError("CUDA out of memory")


def test_a_gap_longer_than_the_window_is_a_clear_error(tiny_ltx, tmp_path):
    _, interpolator = ltx(tiny_ltx, max_frames=9)
    files = keyframe_files(tmp_path, 2)
    request = InterpolationRequest(keyframes=files, indices=[0, 20], num_frames=21, width=W, height=H)
    with pytest.raises(BackendError, match="do not fit the model's window of 9 frames"):
        interpolator.interpolate(request, tmp_path / "x.mp4")


# --- the flow --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("llm") / "answers.json"
    path.write_text(json.dumps(story_answers(pages=2)))
    return f"llm.model=scripted:{path}"


@pytest.mark.parametrize("backend", ["ltx", "wan"])
def test_the_flow_makes_a_film_with_a_video_ldm(backend, tiny_ltx, tiny_wan, answers, calls, tmp_path):
    model = tiny_ltx if backend == "ltx" else tiny_wan
    settings = [
        answers,
        f"video.backend={backend}",
        f"video.options.model={model}",
        "video.options.width=64",
        "video.options.height=32",
        "video.options.steps=1",
        "music.enabled=false",
        "sfx.enabled=false",
    ]
    result = make_film(prompt="A little dragon", profile="sketch", settings=settings, out=str(tmp_path))
    run = Path(result.run_dir)
    timeline = Timeline.model_validate_json((run / "timeline.json").read_text())
    for segment in timeline.segments:  # every clip is cut to the timeline
        page, transition = f"pages/p{segment.page:02d}/clip-*.mp4", f"transitions/t{segment.page:02d}-*.mp4"
        (clip,) = run.glob(page if segment.kind == "page" else transition)
        assert int(video_stream(clip)["nb_frames"]) == segment.frames
    film = video_stream(run / "film.mp4")
    assert (film["width"], film["height"], film["r_frame_rate"]) == (W, H, "24/1")
    assert abs(float(film["duration"]) - timeline.duration) <= 1 / FPS + 1e-3
    assert {c["pipeline"] for c in calls} == {"LTXConditionPipeline" if backend == "ltx" else "WanImageToVideoPipeline"}


# --- GPU concurrency limit ---------------------------------------------------------------------------


class SlowGPUImage:
    """An image backend that says it uses the GPU and records when it generates."""

    name, version, uses_gpu = "preview", "slow-1", True
    spans: list[tuple[float, float]] = []

    def generate(self, request: Any, out: Path) -> None:
        start = time.perf_counter()
        time.sleep(0.4)
        Image.new("RGB", (request.width, request.height), (90, 140, 200)).save(out, format="PNG")
        self.spans.append((start, time.perf_counter()))


def overlaps(spans: list[tuple[float, float]]) -> bool:
    spans = sorted(spans)
    return any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))


def test_gpu_generations_hold_a_concurrency_limit_that_exists(answers, monkeypatch, tmp_path):
    from prefect.client.orchestration import get_client

    real = registry.instance
    slow = SlowGPUImage()
    monkeypatch.setattr(registry, "instance", lambda k, n, o=None: slow if k == "image" else real(k, n, o))
    SlowGPUImage.spans = []
    settings = [answers, "run.gpu_limit=storyreel-test-gpu", "music.enabled=false", "sfx.enabled=false"]
    make_film(prompt="A fox", profile="sketch", settings=settings, out=str(tmp_path), until="images")

    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name("storyreel-test-gpu")
    assert limit.limit == 1 and limit.active
    assert len(SlowGPUImage.spans) == 2 and not overlaps(SlowGPUImage.spans)

    # the control: without the limit the two illustrations are made at the same time
    SlowGPUImage.spans = []
    settings = [answers, "run.gpu_limit=", "music.enabled=false", "sfx.enabled=false"]
    make_film(prompt="A fox", profile="sketch", settings=settings, out=str(tmp_path / "free"), until="images")
    assert len(SlowGPUImage.spans) == 2 and overlaps(SlowGPUImage.spans)


def test_cpu_backends_never_wait_for_the_gpu_limit():
    from storyreel.config import RunSection
    from storyreel.runtime import on_gpu

    class CPU:
        def make(self) -> None: ...

    backend = CPU()
    assert on_gpu(backend, backend.make, RunSection()) == backend.make  # no slot taken, nothing to wait for
    backend.uses_gpu = True
    assert on_gpu(backend, backend.make, RunSection()) != backend.make
    assert on_gpu(backend, backend.make, RunSection(gpu_limit="")) == backend.make  # limit switched off


# --- bench/gpu_smoke.py --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gpu_smoke() -> Any:
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "bench" / "gpu_smoke.py"
    spec = importlib.util.spec_from_file_location("gpu_smoke", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_smoke_builds_the_published_architectures():
    """The configs written in the script give the published model sizes (built on the meta device: no memory)."""
    from accelerate import init_empty_weights
    from diffusers import LTXVideoTransformer3DModel, WanTransformer3DModel
    from transformers import CLIPVisionConfig, CLIPVisionModel, T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    def billions(module: Any) -> float:
        return sum(p.numel() for p in module.parameters()) / 1e9

    ltx_, wan_ = architectures.ltx_configs(1.0), architectures.wan_configs(1.0)
    with init_empty_weights():
        assert 12.5 < billions(LTXVideoTransformer3DModel(**ltx_["transformer"])) < 13.5  # LTX-Video 13B
        assert 4.6 < billions(T5EncoderModel(T5Config(**ltx_["text_encoder"])).encoder) < 4.9  # T5-XXL encoder
        assert 14.0 < billions(WanTransformer3DModel(**wan_["transformer"])) < 17.0  # Wan 14B (+ image layers)
        assert 5.5 < billions(UMT5EncoderModel(UMT5Config(**wan_["text_encoder"])).encoder) < 5.9  # UMT5-XXL
        assert 0.6 < billions(CLIPVisionModel(CLIPVisionConfig(**wan_["image_encoder"]))) < 0.66  # ViT-H/14
    assert wan_["transformer"]["pos_embed_seq_len"] == 2 * ((224 // 14) ** 2 + 1)  # two CLIP images' tokens


def test_gpu_smoke_needs_cuda_or_a_scale(gpu_smoke, tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks the message without CUDA")
    assert gpu_smoke.main(["--out", str(tmp_path / "b.md")]) == 2
    assert "needs a CUDA GPU" in capsys.readouterr().err and not (tmp_path / "b.md").exists()


def test_gpu_smoke_runs_shrunk_on_the_cpu_and_writes_its_table(gpu_smoke, tmp_path):
    out = tmp_path / "benchmarks.md"
    args = ["--backends", "ltx", "--scale", "0.02", "--size", "64x32", "--seconds", "0.5", "--steps", "1"]
    assert gpu_smoke.main([*args, "--out", str(out)]) == 0
    text = out.read_text()
    assert "| backend | clip | frames | steps | generated at | seconds | frames/s | peak VRAM (GiB) |" in text
    rows = [line for line in text.splitlines() if line.startswith("| ltx |")]
    assert [r.split(" | ")[1] for r in rows] == ["keyframes (3)", "page clip (0.5 s)", "transition (0.75 s)"]
    assert [int(r.split(" | ")[2]) for r in rows] == [3, 12, 18]
