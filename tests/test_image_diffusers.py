"""The diffusers image backend, the CLIP image critic and --page-image, on tiny real models built offline.

A tiny Stable Diffusion pipeline, a tiny FLUX.2 [klein] and a tiny CLIP model come from the architecture
factory (``storyreel.architectures``: configs, random weights), saved with ``save_pretrained`` and loaded back
by path through our code, so the real diffusers and transformers loading and denoising paths run.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from storyreel import architectures, progress, registry, runtime
from storyreel.errors import BackendError, InputError
from storyreel.generators.base import ImageRequest
from storyreel.image_critic import ImageCritic
from storyreel.page_images import check_page_images, fit_page_image, parse_page_images

from .conftest import story_answers  # noqa: TID252

# --- tiny models ---------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Toy models are thousands of tiny operations: one thread runs them faster than several (measured:
    0.2 s against 1.0 s for a tiny FLUX.2 picture on 2 busy cores)."""
    with runtime.threads(1):
        yield


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Stable Diffusion pipeline at toy size from the architecture factory, saved to a folder."""
    return architectures.build("sd", tmp_path_factory.mktemp("models") / "tiny-sd")


@pytest.fixture(scope="module")
def tiny_ip_adapter(tiny_sd: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An IP-Adapter for the tiny UNet (image projection + one key/value pair per cross-attention) and a
    tiny CLIP image encoder, laid out as on the Hub: <repo>/models/{ip-adapter.safetensors, image_encoder/}."""
    import torch
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(1)
    unet = UNet2DConditionModel.from_pretrained(tiny_sd, subfolder="unet")
    repo = tmp_path_factory.mktemp("models") / "tiny-ip-adapter"
    embed, cross = 8, unet.config.cross_attention_dim
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=8,
            intermediate_size=16,
            projection_dim=embed,
            num_attention_heads=2,
            num_hidden_layers=1,
            image_size=32,
            patch_size=8,
        )
    )
    encoder.save_pretrained(repo / "models" / "image_encoder")
    weights = {
        "image_proj.proj.weight": torch.randn(4 * cross, embed),
        "image_proj.proj.bias": torch.zeros(4 * cross),
        "image_proj.norm.weight": torch.ones(cross),
        "image_proj.norm.bias": torch.zeros(cross),
    }
    key = 1  # diffusers numbers the cross-attention layers 1, 3, 5 ...
    for name in unet.attn_processors:
        if name.endswith("attn2.processor"):
            hidden = unet.get_submodule(name.removesuffix(".processor")).to_k.out_features
            weights[f"ip_adapter.{key}.to_k_ip.weight"] = torch.randn(hidden, cross)
            weights[f"ip_adapter.{key}.to_v_ip.weight"] = torch.randn(hidden, cross)
            key += 2
    save_file(weights, repo / "models" / "ip-adapter.safetensors")
    return repo


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CLIP model at toy size with its tokenizer and image processor, saved to a folder."""
    return architectures.build("clip", tmp_path_factory.mktemp("models") / "tiny-clip")


@pytest.fixture(scope="module")
def tiny_klein(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A FLUX.2 [klein] pipeline (the gpu profile's default architecture) at toy size, step-distilled."""
    return architectures.build("flux2", tmp_path_factory.mktemp("models") / "tiny-klein")


class Notes:
    """A progress reporter that keeps what it is told."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.steps: list[str] = []
        self.totals: list[int] = []

    def start(self, stage: str, total: int) -> None:
        if stage == "image steps":
            self.totals.append(total)

    def advance(self, stage: str, detail: str = "") -> None:
        if stage == "image steps":
            self.steps.append(detail)

    def note(self, message: str) -> None:
        self.notes.append(message)


@pytest.fixture
def notes():
    recorder = Notes()
    previous = progress.use(recorder)
    yield recorder
    progress.use(previous)


def backend(model: Path | str, **options):
    return registry.create("image", "diffusers", {"model": str(model), "steps": 2, **options})


def request(**fields) -> ImageRequest:
    return ImageRequest(**{"prompt": "a green dragon in a forest", "width": 64, "height": 48, "seed": 7, **fields})


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)


def solid(path: Path, color: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> Path:
    Image.new("RGB", size, color).save(path)
    return path


# --- the backend -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(64, 48), (60, 44), (128, 72)])
def test_the_png_is_exactly_the_requested_size(tiny_sd: Path, tmp_path: Path, width: int, height: int):
    out = tmp_path / "page.png"
    backend(tiny_sd).generate(request(width=width, height=height), out)
    with Image.open(out) as image:
        assert (image.format, image.size, image.mode) == ("PNG", (width, height), "RGB")
    assert pixels(out).std() > 1  # a picture, not a blank


def test_a_seed_makes_the_same_picture_and_another_seed_another(tiny_sd: Path, tmp_path: Path):
    illustrator = backend(tiny_sd)
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        illustrator.generate(request(seed=seed), tmp_path / f"{name}.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert (tmp_path / "a.png").read_bytes() != (tmp_path / "c.png").read_bytes()


def test_the_seed_and_the_negative_prompt_reach_the_pipeline(tiny_sd: Path, tmp_path: Path):
    import torch
    from diffusers import AutoPipelineForText2Image

    illustrator = backend(tiny_sd)
    illustrator.generate(request(negative_prompt="blurry"), tmp_path / "ours.png")
    illustrator.generate(request(negative_prompt="dark, scary"), tmp_path / "other-negative.png")
    # the same call made directly: our backend hands the pipeline the request's seed and negative prompt
    pipe = AutoPipelineForText2Image.from_pretrained(tiny_sd)
    pipe.set_progress_bar_config(disable=True)
    direct = pipe(
        "a green dragon in a forest",
        negative_prompt="blurry",
        width=64,
        height=48,
        num_inference_steps=2,
        generator=torch.Generator("cpu").manual_seed(7),
    ).images[0]
    assert np.array_equal(np.asarray(direct, dtype=np.float64), pixels(tmp_path / "ours.png"))
    assert np.abs(pixels(tmp_path / "ours.png") - pixels(tmp_path / "other-negative.png")).mean() > 0.5


def test_each_denoising_step_is_reported(tiny_sd: Path, tmp_path: Path, notes: Notes):
    backend(tiny_sd, steps=3).generate(request(), tmp_path / "p.png")
    assert notes.totals == [3] and notes.steps == ["step 1/3", "step 2/3", "step 3/3"]


def test_flux2_klein_takes_its_own_steps_sizes_and_reference_images(tiny_klein: Path, tmp_path: Path, notes: Notes):
    klein = registry.create("image", "diffusers", {"model": str(tiny_klein)})  # steps and guidance: the model's
    red, blue = solid(tmp_path / "red.png", (220, 30, 30)), solid(tmp_path / "blue.png", (30, 30, 220))
    runs = {"plain": [], "red": [red], "red-blue": [red, blue]}
    for name, refs in runs.items():  # 60x44: not a multiple of 16, references smaller than FLUX.2 takes
        klein.generate(request(width=60, height=44, negative_prompt="blurry", reference_images=refs), tmp_path / name)
    assert notes.totals == [4, 4, 4]  # a step-distilled FLUX.2 klein: 4 steps
    assert not [n for n in notes.notes if "not used" in n]
    out = {name: pixels(tmp_path / name) for name in runs}
    assert all(picture.shape == (44, 60, 3) for picture in out.values())
    assert np.abs(out["red"] - out["plain"]).mean() > 0.05  # the references reach the model
    assert np.abs(out["red-blue"] - out["red"]).mean() > 0.05


def test_reference_pictures_are_shaped_for_flux2():
    from storyreel.generators.image_diffusers import _reference_shape

    assert _reference_shape(Image.new("RGB", (40, 30))).size == (85, 64)  # each side at least 64
    assert _reference_shape(Image.new("RGB", (900, 100))).size == (800, 100)  # at most 8:1
    assert _reference_shape(Image.new("RGB", (300, 200))).size == (300, 200)


def test_pages_with_the_same_characters_share_a_seed_family():
    from storyreel.flows.make_film import image_seed
    from storyreel.plan import Page

    pip_1 = Page(number=1, text="a", characters=["Pip"])
    pip_4 = Page(number=4, text="b", characters=["Pip"])
    both_2 = Page(number=2, text="c", characters=["Pip", "Olo"])
    both_5 = Page(number=5, text="d", characters=["Olo", "Pip"])
    nobody_3, nobody_6 = Page(number=3, text="e"), Page(number=6, text="f")
    assert image_seed(0, pip_1) == image_seed(0, pip_4) != image_seed(0, both_2) == image_seed(0, both_5)
    assert image_seed(0, nobody_3) != image_seed(0, nobody_6)  # no one shown: each page its own
    assert image_seed(0, pip_1) != image_seed(1, pip_1)  # and the base seed still moves everything


def test_reference_images_reach_the_pipeline_through_an_ip_adapter(
    tiny_sd: Path, tiny_ip_adapter: Path, tmp_path: Path
):
    red, blue = solid(tmp_path / "red.png", (220, 30, 30)), solid(tmp_path / "blue.png", (30, 30, 220))
    adapter = {"repo": str(tiny_ip_adapter), "subfolder": "models", "weight_name": "ip-adapter.safetensors"}
    with_adapter = backend(tiny_sd, ip_adapter=adapter)
    for name, refs in (("red", [red]), ("blue", [blue]), ("both", [red, blue]), ("none", [])):
        with_adapter.generate(request(reference_images=refs), tmp_path / f"{name}.out.png")
    backend(tiny_sd).generate(request(), tmp_path / "plain.out.png")
    out = {name: pixels(tmp_path / f"{name}.out.png") for name in ("red", "blue", "both", "none", "plain")}
    assert np.abs(out["red"] - out["blue"]).mean() > 0.5
    assert np.abs(out["both"] - out["red"]).mean() > 0.5
    assert np.abs(out["red"] - out["none"]).mean() > 0.5
    # without references the adapter is silent (scale 0): the picture is the one the model makes alone
    assert np.abs(out["none"] - out["plain"]).mean() < 0.5


def test_reference_images_without_a_way_to_use_them_are_reported(tiny_sd: Path, tmp_path: Path, notes: Notes):
    red = solid(tmp_path / "red.png", (220, 30, 30))
    illustrator = backend(tiny_sd)
    illustrator.generate(request(reference_images=[red]), tmp_path / "with.png")
    illustrator.generate(request(), tmp_path / "without.png")
    assert any("reference images are not used" in n and "ip_adapter" in n for n in notes.notes), notes.notes
    assert (tmp_path / "with.png").read_bytes() == (tmp_path / "without.png").read_bytes()


def test_cpu_offload_is_guarded_without_a_gpu(tiny_sd: Path, tmp_path: Path, notes: Notes):
    backend(tiny_sd, cpu_offload=True, vae_tiling=True, vae_slicing=True).generate(request(), tmp_path / "p.png")
    assert Image.open(tmp_path / "p.png").size == (64, 48)
    assert any("image.options.offload ignored on cpu" in n for n in notes.notes), notes.notes  # the old name


def test_an_unknown_model_is_a_clear_error(tmp_path: Path):
    with pytest.raises(BackendError) as unknown:
        backend("no-such-org/no-such-model", local_files_only=True).generate(request(), tmp_path / "p.png")
    message = str(unknown.value)
    assert "'no-such-org/no-such-model' is not in the Hugging Face cache" in message
    assert "hf download no-such-org/no-such-model" in message and "image.model" in message
    with pytest.raises(BackendError, match="folder /nowhere/tiny-sd does not exist"):
        backend("/nowhere/tiny-sd").generate(request(), tmp_path / "p.png")
    with pytest.raises(BackendError, match="could not load the image model"):
        backend(tmp_path).generate(request(), tmp_path / "p.png")  # a folder, but no pipeline in it
    assert not (tmp_path / "p.png").exists()


def test_out_of_memory_says_what_to_lower(tiny_sd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import torch
    from diffusers import StableDiffusionPipeline

    def out_of_memory(self, *args, **kwargs):  # the accelerator is the true edge: simulate it running out
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(StableDiffusionPipeline, "__call__", out_of_memory)
    with pytest.raises(BackendError, match="out of GPU memory making a 64x48") as error:
        backend(tiny_sd).generate(request(), tmp_path / "p.png")
    assert "image.options.offload" in str(error.value) and "image.width" in str(error.value)


def test_options_are_checked(tiny_sd: Path):
    from storyreel.errors import ConfigError

    with pytest.raises(ConfigError, match="option 'step'"):
        registry.create("image", "diffusers", {"step": 4})
    with pytest.raises(ConfigError, match="option 'dtype'"):
        registry.create("image", "diffusers", {"dtype": "int8"})


def test_image_model_setting_is_the_backends_model_option():
    from storyreel.config import load_config
    from storyreel.flows.make_film import image_options

    config, _ = load_config("sketch", ["image.backend=diffusers", "image.model=/models/x", "image.options.steps=3"])
    assert image_options(config) == {"steps": 3, "model": "/models/x"}
    config, _ = load_config("sketch", [])
    assert image_options(config) == {}
    gpu, _ = load_config("gpu", [])
    assert (gpu.image.backend, gpu.image.critic) == ("diffusers", True)
    assert (
        registry.create("image", "diffusers", image_options(gpu)).options.model == "black-forest-labs/FLUX.2-klein-4B"
    )


# --- the critic ----------------------------------------------------------------------------------


def test_the_critic_tries_the_next_seed_under_its_threshold_and_keeps_the_best(
    tiny_sd: Path, tiny_clip: Path, tmp_path: Path
):
    illustrator = backend(tiny_sd)
    never_good_enough = ImageCritic(str(tiny_clip), threshold=100, tries=3, device="cpu")
    out = tmp_path / "best.png"
    meta = never_good_enough.best_of(illustrator.generate, request(seed=7), out)
    assert [t["seed"] for t in meta["tries"]] == [7, 8, 9]
    scores = [t["score"] for t in meta["tries"]]
    assert len(set(scores)) == 3 and all(-100 <= s <= 100 for s in scores)
    assert meta["score"] == max(scores) and meta["seed"] == 7 + scores.index(max(scores))
    illustrator.generate(request(seed=meta["seed"]), tmp_path / "again.png")  # the kept one is that seed's picture
    assert out.read_bytes() == (tmp_path / "again.png").read_bytes()
    assert never_good_enough.score(out, request().prompt) == meta["score"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.png", "best.png"]  # the other tries are gone

    easily_pleased = ImageCritic(str(tiny_clip), threshold=-100, tries=3, device="cpu")
    meta = easily_pleased.best_of(illustrator.generate, request(seed=7), out)
    assert [t["seed"] for t in meta["tries"]] == [7]


def test_an_unknown_critic_model_is_a_clear_error(tmp_path: Path):
    critic = ImageCritic(str(tmp_path / "no-clip"), threshold=20, tries=2, device="cpu")
    solid(tmp_path / "p.png", (1, 2, 3))
    with pytest.raises(BackendError, match="image critic model folder .* does not exist.*image.critic=false"):
        critic.score(tmp_path / "p.png", "a fox")


# --- your own pictures -------------------------------------------------------------------------------


def test_page_images_are_parsed_and_checked(tmp_path: Path):
    drawing = solid(tmp_path / "drawing.png", (10, 200, 10))
    (tmp_path / "notes.txt").write_text("not a picture")
    assert parse_page_images(["3=drawing.png", " 1 = a b.jpg "]) == {3: "drawing.png", 1: "a b.jpg"}
    assert check_page_images({2: str(drawing)}, pages=2) == {2: str(drawing.resolve())}
    for bad, message in (
        (["drawing.png"], "expected PAGE=FILE"),
        (["x=drawing.png"], "expected PAGE=FILE"),
        (["2="], "expected PAGE=FILE"),
        (["1=a.png", "1=b.png"], "page 1 is given twice"),
    ):
        with pytest.raises(InputError, match=message):
            parse_page_images(bad)
    for bad, message in (
        ({3: str(drawing)}, "the story has pages 1 to 2"),
        ({0: str(drawing)}, "the story has pages 1 to 2"),
        ({1: str(tmp_path / "missing.png")}, "does not exist"),
        ({1: str(tmp_path / "notes.txt")}, "is not a picture"),
    ):
        with pytest.raises(InputError, match=message):
            check_page_images(bad, pages=2)


def test_a_page_image_is_fitted_to_the_illustration_size(tmp_path: Path):
    wide = Image.new("RGBA", (400, 100), (0, 0, 0, 0))  # transparent, with a red centre
    wide.paste((255, 0, 0, 255), (150, 0, 250, 100))
    wide.save(tmp_path / "wide.png")
    fit_page_image(tmp_path / "wide.png", 128, 72, tmp_path / "fitted.png")
    fitted = Image.open(tmp_path / "fitted.png")
    assert (fitted.size, fitted.mode) == ((128, 72), "RGB")
    assert fitted.getpixel((64, 36)) == (255, 0, 0) and fitted.getpixel((2, 36)) == (255, 255, 255)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--page-image", "drawing.png"], "expected PAGE=FILE"),
        (["--page-image", "3={drawing}"], "the story has pages 1 to 2"),
        (["--pages", "3", "--page-image", "4={drawing}"], "the story has pages 1 to 3"),
        (["--page-image", "1=/nonexistent/drawing.png"], "does not exist"),
        (["--page-image", "1={text}"], "is not a picture"),
        (["--page-image", "1={drawing}", "--page-image", "1={drawing}"], "given twice"),
    ],
)
def test_bad_page_images_are_one_line_errors(tmp_path: Path, args: list[str], message: str):
    drawing, text = solid(tmp_path / "drawing.png", (1, 2, 3)), tmp_path / "notes.txt"
    text.write_text("hello")
    args = [a.format(drawing=drawing, text=text) for a in args]
    result = CliRunner().invoke(app(), ["make", "a fox", "--profile", "sketch", "--out", str(tmp_path), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1


def test_page_images_do_not_go_with_a_resumed_run(tmp_path: Path):
    (tmp_path / "config.json").write_text("{}")
    drawing = solid(tmp_path / "drawing.png", (1, 2, 3))
    result = CliRunner().invoke(app(), ["make", "--run", str(tmp_path), "--page-image", f"1={drawing}"])
    assert result.exit_code == 2 and "for a new film" in result.output


def app():
    from storyreel.cli import app as cli_app

    return cli_app


# --- the whole flow on tiny models ------------------------------------------------------------------


@pytest.fixture(scope="module")
def film(tiny_sd: Path, tiny_clip: Path, tmp_path_factory: pytest.TempPathFactory):
    """One film on the tiny profile: diffusers illustrations with the critic on pages 1 and 3, and the
    user's own drawing on page 2, through the command line."""
    folder = tmp_path_factory.mktemp("film")
    answers = folder / "answers.json"
    answers.write_text(json.dumps(story_answers(pages=3)))
    drawing = folder / "drawing.png"
    picture = Image.new("RGB", (300, 200), (230, 40, 200))  # magenta, with a yellow band
    picture.paste((250, 220, 20), (0, 80, 300, 120))
    picture.save(drawing)
    settings = [
        f"llm.model=scripted:{answers}",
        "image.backend=diffusers",
        f"image.options.model={tiny_sd}",
        "image.options.steps=2",
        "image.critic=true",
        f"image.critic_model={tiny_clip}",
        "image.critic_threshold=100",  # nothing is good enough: every page uses all its tries
        "image.critic_tries=2",
    ]
    args = ["make", "A little dragon", "--profile", "sketch", "--pages", "3", "--out", str(folder / "runs")]
    args += [a for s in settings for a in ("--set", s)] + ["--page-image", f"2={drawing}"]
    result = CliRunner().invoke(app(), args)
    assert result.exit_code == 0, result.output
    run = Path(next(line for line in result.output.splitlines() if line.startswith("run directory: ")).split(": ")[1])
    manifest = json.loads((run / "manifest.json").read_text())["assets"]
    images = {int(a["path"][7:9]): a for a in manifest.values() if a["kind"] == "image"}
    return run, manifest, images, drawing


def test_the_film_on_tiny_diffusers_models_is_valid(film):
    from storyreel.media import probe
    from storyreel.timeline import Timeline

    run, manifest, images, _ = film
    info = probe(run / "film.mp4")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["pix_fmt"], audio["codec_name"]) == ("h264", "yuv420p", "aac")
    assert (video["width"], video["height"], video["r_frame_rate"]) == (128, 72, "24/1")
    timeline = Timeline.model_validate_json((run / "timeline.json").read_text())
    assert abs(float(video["duration"]) - timeline.duration) <= 1 / 24 + 1e-3
    assert sorted(images) == [1, 2, 3]
    for page in (1, 3):
        assert images[page]["spec"]["backend"] == "image.diffusers"
        assert Image.open(run / images[page]["path"]).size == (128, 72)


def test_the_critic_scores_are_in_the_manifest_and_an_artifact(film):
    from prefect.artifacts import Artifact

    _, _, images, _ = film
    for page in (1, 3):
        meta, spec = images[page]["meta"], images[page]["spec"]
        seed = spec["request"]["seed"]
        assert [t["seed"] for t in meta["tries"]] == [seed, seed + 1]  # under the threshold: both tries
        assert meta["score"] == max(t["score"] for t in meta["tries"])
        assert spec["critic"]["tries"] == 2
    artifact = Artifact.get("image-scores")
    rows = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    assert [r["page"] for r in rows] == [1, 3]
    assert [r["score"] for r in rows] == [images[1]["meta"]["score"], images[3]["meta"]["score"]]


def test_pages_showing_the_same_characters_share_their_seed(film):
    _, _, images, _ = film  # the scripted story shows Pip on pages 1 and 3
    assert images[1]["spec"]["request"]["seed"] == images[3]["spec"]["request"]["seed"]
    assert images[1]["path"] != images[3]["path"]  # the prompts still differ


def test_the_users_picture_is_the_page_illustration_and_is_animated(film, tmp_path: Path):
    from storyreel.media import read_video
    from storyreel.store import sha256_file

    run, manifest, images, drawing = film
    page2 = run / images[2]["path"]
    fit_page_image(drawing, 128, 72, tmp_path / "expected.png")
    assert page2.read_bytes() == (tmp_path / "expected.png").read_bytes()
    assert images[2]["spec"]["user_image"] == sha256_file(drawing) and "backend" not in images[2]["spec"]
    keyframes = next(a for a in manifest.values() if a["kind"] == "keyframes" and a["path"].startswith("pages/p02"))
    assert keyframes["spec"]["upstream"]["image"] == sha256_file(page2)
    clip = next(run.glob("pages/p02/clip-*.mp4"))
    frames = list(read_video(clip))
    assert len(frames) > 10
    first = frames[0].reshape(-1, 3).mean(axis=0)
    assert abs(first - np.array([230, 40, 200])).max() < 60  # magenta: the drawing, not a generated picture
    assert np.abs(frames[-1].astype(float) - frames[0]).mean() > 1  # and it moves
