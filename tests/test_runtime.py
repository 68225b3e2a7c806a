"""The model runtime (storyreel.runtime): device and dtype policy, model-id resolution with fast offline
failure, load and out-of-memory messages, the placement options and their old names, seeding, the resident
pipeline, the offline LLM's loader; the architecture factory's cache; the CLIP critic as a registered backend."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from storyreel import architectures, registry, runtime
from storyreel.errors import BackendError, ConfigError


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models run faster on one thread than on several busy ones."""
    with runtime.threads(1):
        yield


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return architectures.build("clip", tmp_path_factory.mktemp("models") / "clip")


# --- device and dtype ------------------------------------------------------------------------------


def test_device_and_dtype_policy():
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks the CPU policy")
    assert runtime.device("auto") == "cpu" and runtime.device("cpu") == "cpu"
    with pytest.raises(BackendError, match="sees no CUDA device"):
        runtime.device("cuda:1")
    with pytest.raises(BackendError, match="unknown device 'tpu'"):
        runtime.device("tpu")
    assert runtime.dtype("auto", "cpu") is torch.float32  # half precision on a CPU: slow, some ops lack it
    assert runtime.dtype("auto", "cuda", "float16") is torch.float16  # the model's own half on CUDA
    assert runtime.dtype("bfloat16", "cpu") is torch.bfloat16  # asked for: kept
    from storyreel.generators.music_musicgen import MusicGenComposer

    assert runtime.placement(MusicGenComposer.Options()) == ("cpu", torch.float32)


# --- model ids: fast failure offline ---------------------------------------------------------------


def _fails_fast(model: str, match: str, **kwargs) -> str:
    started = time.perf_counter()
    with pytest.raises(BackendError, match=match) as error:
        runtime.resolve(model, "image.model", "image", **kwargs)
    assert time.perf_counter() - started < 3.0  # not ~90 s of Hub retries
    return str(error.value)


def test_an_uncached_model_fails_at_once_offline(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    message = _fails_fast("no-such-org/no-such-model", "not in the Hugging Face cache and HF_HUB_OFFLINE=1")
    assert "hf download no-such-org/no-such-model" in message and "image.model" in message


def test_an_uncached_model_fails_at_once_with_local_files_only():
    message = _fails_fast("no-such-org/no-such-model", "local_files_only is set", local_files_only=True)
    assert "`hf download no-such-org/no-such-model`" in message


def test_an_unreachable_hub_fails_at_once(monkeypatch: pytest.MonkeyPatch):
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setattr(runtime, "_reachable", {})
    _fails_fast("no-such-org/no-such-model", r"the Hugging Face Hub \(http://127.0.0.1:9\) cannot be reached")


def test_a_backend_fails_at_once_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    import transformers  # noqa: F401 - imported before the clock starts: the import is not what is measured

    from storyreel.generators.base import MusicRequest
    from storyreel.generators.music_musicgen import MusicGenComposer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    composer = MusicGenComposer(MusicGenComposer.Options(model="no-such-org/musicgen"))
    started = time.perf_counter()
    with pytest.raises(BackendError, match="'no-such-org/musicgen' is not in the Hugging Face cache.*music.options"):
        composer.compose(MusicRequest(mood="calm", duration=1.0), tmp_path / "x.wav")
    assert time.perf_counter() - started < 3.0


def test_folders_and_ids_are_told_apart(tmp_path: Path):
    assert runtime.resolve(str(tmp_path), "image.model") == runtime.Model(str(tmp_path), True, False)
    with pytest.raises(BackendError, match="folder /nowhere/x does not exist: set image.model"):
        runtime.resolve("/nowhere/x", "image.model", "image")
    with pytest.raises(BackendError, match="neither a folder nor a Hugging Face id"):
        runtime.resolve("just-a-name", "image.model", "image")
    with pytest.raises(BackendError, match="builds tiny:ace-step, tiny:clip, tiny:flux2"):
        runtime.resolve("tiny:nope", "image.model")


def test_load_errors_say_what_to_do(tmp_path: Path):
    folder = runtime.resolve(str(tmp_path), "music.options.model")
    advice = r"could not load the music model .*holds no model.*music.options.model"
    with pytest.raises(BackendError, match=advice), runtime.loading(folder, "music.options.model", "music"):
        raise OSError("no file named config.json")


def test_out_of_memory_names_what_to_lower():
    import torch

    advice = "out of GPU memory making a 1280x720 picture: lower image.width"
    with (
        pytest.raises(BackendError, match=advice),
        runtime.out_of_memory("making a 1280x720 picture", "lower image.width"),
    ):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_a_model_backend_turns_out_of_memory_into_advice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    import torch
    from transformers import MusicgenForConditionalGeneration

    from storyreel.generators.base import MusicRequest
    from storyreel.generators.music_musicgen import MusicGenComposer

    def out_of_memory(self, *args, **kwargs):  # the accelerator is the true edge: simulate it running out
        raise torch.OutOfMemoryError("CUDA out of memory")

    folder = architectures.build("musicgen", tmp_path / "musicgen")
    monkeypatch.setattr(MusicgenForConditionalGeneration, "generate", out_of_memory)
    composer = MusicGenComposer(MusicGenComposer.Options(model=str(folder)))
    with pytest.raises(BackendError, match="out of GPU memory making music: lower music.options.window"):
        composer.compose(MusicRequest(mood="calm", duration=0.5), tmp_path / "x.wav")
    runtime.release()


# --- placement options -----------------------------------------------------------------------------


def backend_options() -> dict[str, type]:
    from storyreel.generators.critic_clip import ClipCritic
    from storyreel.generators.image_diffusers import DiffusersIllustrator
    from storyreel.generators.music_musicgen import MusicGenComposer
    from storyreel.generators.narration_kokoro import KokoroNarrator
    from storyreel.generators.sfx_stable_audio import StableAudioSfx
    from storyreel.generators.video_ltx import LTXOptions
    from storyreel.generators.video_wan import WanOptions

    return {
        "image": DiffusersIllustrator.Options,
        "ltx": LTXOptions,
        "wan": WanOptions,
        "sfx": StableAudioSfx.Options,
        "music": MusicGenComposer.Options,
        "narration": KokoroNarrator.Options,
        "critic": ClipCritic.Options,
    }


def test_every_model_backend_places_with_the_same_names_and_defaults():
    pipelines = {"image", "ltx", "wan", "sfx"}
    for name, options in backend_options().items():
        made = options()
        wanted = {"device": "auto", "dtype": "auto", "local_files_only": False}
        if name in pipelines:
            wanted |= {"offload": "auto", "vae_tiling": "auto" if name in ("ltx", "wan") else True, "compile": False}
        assert {key: getattr(made, key) for key in wanted} == wanted, name
        assert all(options.model_fields[key].description for key in wanted), name  # each with its reason


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"cpu_offload": True}, {"offload": "model"}),
        ({"cpu_offload": False}, {"offload": "none"}),
        ({"cpu_offload": "sequential"}, {"offload": "sequential"}),
        ({"torch_compile": True}, {"compile": True}),
    ],
)
def test_old_option_names_are_still_accepted(old: dict, new: dict):
    for name in ("image", "ltx", "wan", "sfx"):
        made = backend_options()[name](**old)
        assert {key: getattr(made, key) for key in new} == new, name


def test_an_old_and_a_new_name_together_are_an_error():
    with pytest.raises(ConfigError, match="cpu_offload is the old name of offload"):
        registry.create("image", "diffusers", {"cpu_offload": True, "offload": "none"})


def test_a_saved_config_with_old_names_still_loads(tmp_path: Path):
    from storyreel.config import Config, load_config
    from storyreel.flows.make_film import image_options

    config, _ = load_config("sketch", ["image.backend=diffusers"])
    saved = json.loads(config.model_dump_json())
    saved["image"]["options"] = {"cpu_offload": True, "torch_compile": True, "vae_tiling": False}
    (tmp_path / "config.json").write_text(json.dumps(saved))  # as a run of the first round wrote it
    reloaded = Config.model_validate_json((tmp_path / "config.json").read_text())
    options = registry.create("image", "diffusers", image_options(reloaded)).options
    assert (options.offload, options.compile, options.vae_tiling) == ("model", True, False)
    (tmp_path / "storyreel.toml").write_text('[image]\nbackend = "diffusers"\noptions = { cpu_offload = "model" }\n')
    user, _ = load_config("sketch", [], cwd=tmp_path)
    assert registry.create("image", "diffusers", image_options(user)).options.offload == "model"


# --- seeding and the resident pipeline -------------------------------------------------------------


def test_seeding_is_deterministic():
    import torch

    runtime.seed(3)
    a = torch.rand(4)
    runtime.seed(3)
    assert torch.equal(a, torch.rand(4))
    runtime.seed(4)
    assert not torch.equal(a, torch.rand(4))
    noise = torch.randn(4, generator=runtime.generator(5))
    assert torch.equal(noise, torch.randn(4, generator=runtime.generator(5)))
    assert runtime.generator(5).device.type == "cpu"  # the same noise for a seed on any device


def test_one_pipeline_is_resident_at_a_time():
    loads: list[str] = []

    def loader(name: str):
        return lambda: loads.append(name) or f"{name} pipeline"

    first, second = object(), object()
    with runtime.pipeline(first, loader("first")) as pipe:
        assert pipe == "first pipeline" and runtime.resident_owner() is first
    with runtime.pipeline(first, loader("first")) as pipe:
        assert pipe == "first pipeline"
    with runtime.pipeline(second, loader("second")) as pipe:
        assert pipe == "second pipeline" and runtime.resident_owner() is second
    assert loads == ["first", "second"]  # loaded once each; the first was released for the second
    runtime.release()
    assert runtime.resident_owner() is None


# --- tiny models: the architecture factory's cache -------------------------------------------------


def test_tiny_models_are_built_once_into_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("STORYREEL_CACHE", str(tmp_path))
    resolved = runtime.resolve("tiny:clip", "image.critic_model")
    folder = Path(resolved.source)
    assert resolved.local and folder == tmp_path / "tiny" / f"clip-v{architectures.VERSION}"
    assert (folder / "config.json").is_file() and (folder / "preprocessor_config.json").is_file()
    stamp = (folder / "config.json").stat().st_mtime_ns
    assert runtime.resolve("tiny:clip", "image.critic_model").source == str(folder)
    assert (folder / "config.json").stat().st_mtime_ns == stamp  # not built again
    assert not [p for p in (tmp_path / "tiny").iterdir() if p != folder]  # no half-written folder left


def test_the_factory_says_what_it_builds():
    assert {"flux2", "clip", "ltx", "ltx2", "wan", "kokoro", "musicgen", "ace-step", "stable-audio"} <= set(
        architectures.names()
    )
    assert architectures.scalable() == ["ace-step", "ltx", "ltx2", "wan"]
    with pytest.raises(BackendError, match="only size 'tiny' is written out here"):
        architectures.model("kokoro", "real")


def test_the_offline_llm_loads_through_the_runtime(tmp_path: Path):
    """``load_causal_lm`` is what ``agents/llm.py`` loads its local causal LM with."""
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    tokenizer = architectures.tiny_flux2().tokenizer  # a byte-level tokenizer built with no files
    torch.manual_seed(0)
    config = Qwen3Config(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=16, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=2, head_dim=8,
    )  # fmt: skip
    Qwen3ForCausalLM(config).save_pretrained(tmp_path / "lm")
    tokenizer.save_pretrained(tmp_path / "lm")
    loaded_tokenizer, model = runtime.load_causal_lm(str(tmp_path / "lm"))
    assert not model.training and runtime.load_causal_lm(str(tmp_path / "lm"))[1] is model  # loaded once
    ids = loaded_tokenizer("Once upon a time", return_tensors="pt")["input_ids"]
    assert model.generate(ids, max_new_tokens=3, do_sample=False).shape[1] == ids.shape[1] + 3
    with pytest.raises(BackendError, match="could not load the language model"):
        runtime.load_causal_lm(str(tmp_path))  # a folder, but no model in it


def test_a_plain_saved_tokenizer_is_read_straight_from_its_file(tmp_path: Path):
    """The offline model's tokenizer is read from tokenizer.json with its special tokens (seconds faster for
    Gemma's vocabulary): the same ids, text, special and added tokens as transformers' own load. A config
    with more than special tokens (here a chat template) takes the full load."""
    from transformers import AutoTokenizer

    architectures.gemma_tokenizer().save_pretrained(tmp_path / "tok")
    plain = runtime._plain_tokenizer(str(tmp_path / "tok"))
    full = AutoTokenizer.from_pretrained(str(tmp_path / "tok"))
    assert plain is not None
    for text in ["Once upon a time, Pip.", " two  spaces\nand a line", "<eos> in the middle", ""]:
        for special in (True, False):
            ids = full(text, add_special_tokens=special)["input_ids"]
            assert plain(text, add_special_tokens=special)["input_ids"] == ids, (text, special)
            assert plain.decode(ids, skip_special_tokens=True) == full.decode(ids, skip_special_tokens=True)
    for name in ("bos_token_id", "eos_token_id", "pad_token_id", "unk_token_id"):
        assert getattr(plain, name) == getattr(full, name), name
    assert {i: t.content for i, t in plain.added_tokens_decoder.items()} == {
        i: t.content for i, t in full.added_tokens_decoder.items()
    }

    config = tmp_path / "tok" / "tokenizer_config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "chat_template": "{{ messages }}"}))
    assert runtime._plain_tokenizer(str(tmp_path / "tok")) is None
    assert runtime._plain_tokenizer(str(tmp_path / "nothing-here")) is None


# --- the critic backend ----------------------------------------------------------------------------


def test_the_clip_critic_is_a_registered_backend(tiny_clip: Path, tmp_path: Path):
    from storyreel.generators.base import Critic

    info = registry.info("critic", "clip")
    assert info.target.endswith("critic_clip:ClipCritic") and not info.missing()
    critic = registry.create("critic", "clip", {"model": str(tiny_clip)})
    assert isinstance(critic, Critic)
    red, stripes = tmp_path / "red.png", tmp_path / "stripes.png"
    Image.new("RGB", (40, 30), (220, 30, 30)).save(red)
    Image.fromarray((np.indices((30, 40)).sum(axis=0) % 7 * 36).astype(np.uint8)).convert("RGB").save(stripes)
    score = critic.score(red, "a red square")
    assert isinstance(score, float) and -100 <= score <= 100
    assert critic.score(red, "a red square") == score  # deterministic
    assert critic.score(stripes, "a red square") != score and critic.score(red, "zebra stripes") != score


def test_the_image_critic_uses_the_configured_backend(tiny_clip: Path):
    from storyreel.config import load_config
    from storyreel.image_critic import ImageCritic

    config, _ = load_config("sketch", ["image.critic=true", f"image.critic_model={tiny_clip}"])
    critic = ImageCritic.from_config(config.image)
    assert critic.backend == "clip" and critic.settings() == {"model": str(tiny_clip), "threshold": 22.0, "tries": 3}
    assert ImageCritic.from_config(load_config("sketch", [])[0].image) is None  # off unless asked for
    with pytest.raises(ConfigError, match="unknown critic backend 'nope'"):
        load_config("sketch", ["image.critic=true", "image.critic_backend=nope"])
