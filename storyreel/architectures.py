"""The architecture factory: the gpu profile's models built from configs, with random weights, no download.

One builder per model, at two sizes: ``tiny`` (the real diffusers/transformers classes at toy widths and
depths: every code path of a backend runs on a CPU in seconds) and ``real`` (the published configs, for
``bench/gpu_smoke.py``: time and memory on a GPU, not pictures), or any ``scale`` in between for the video
models. The same builders serve the tests, the GPU benchmark and the ``tiny`` profile, whose settings name
them as ``tiny:<name>`` (``image.model = "tiny:flux2"``): ``storyreel.runtime.resolve`` builds such a model on
first use into ``$STORYREEL_CACHE/tiny/`` and loads it from there like any folder.

    build("ltx", folder)                 # a tiny LTXConditionPipeline saved with save_pretrained
    model("ltx", "real", "cuda", torch.bfloat16)   # LTX-Video 13B in memory, random weights

Names: flux2 (FLUX.2 [klein], the image backend's default), sd (Stable Diffusion 1.x), clip (the critic),
ltx and ltx-upsampler (LTX-Video), ltx2 (LTX-2, video with sound),
wan (Wan 2.1 FLF2V), kokoro (narration), musicgen and ace-step (music), stable-audio
(sound effects). Heavy libraries are imported inside the builders.
"""

from __future__ import annotations

import math
import string
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storyreel.errors import BackendError

VERSION = "1"  # bump when a tiny builder changes: cached models are rebuilt
MUSIC_RATE = 16000  # the tiny MusicGen's codec: 16 kHz, 640 samples per code frame (25 Hz)
ACE_RATE = 800  # the tiny ACE-Step's VAE: 800 Hz, 8 samples per latent (100 a second)
SFX_RATE = 2048  # the tiny Stable Audio's VAE: 128 latents x 8 samples = 0.5 s per call


# --- public ----------------------------------------------------------------------------------------


def names() -> list[str]:
    """The models the factory builds."""
    return sorted(BUILDERS)


def model(name: str, size: str | float = "tiny", device: str = "cpu", dtype: Any = None) -> Any:
    """Build ``name`` in memory with random weights (seeded: the same weights every time).

    Args:
        name: one of ``names()``.
        size: ``tiny``, ``real`` (the published config) or a scale of the published widths and depths
            (ltx, ltx2, wan, ace-step; ``real`` is 1.0).
        device, dtype: where the weights are made (``real`` models are drawn straight there, never in fp32 on
            the CPU first); dtype None: float32.
    """
    if name not in BUILDERS:
        raise BackendError(f"the architecture factory has no model {name!r}; it builds: {', '.join(names())}")
    builder = BUILDERS[name]
    if size == "tiny":
        return builder.tiny()
    scale = 1.0 if size == "real" else float(size)
    if builder.scaled is None:
        raise BackendError(f"{name}: only size 'tiny' is written out here; real sizes: {', '.join(scalable())}")
    import torch

    return builder.scaled(scale, device, dtype or torch.float32)


def scalable() -> list[str]:
    """Models with published configs here (``size="real"`` or a scale)."""
    return sorted(n for n, b in BUILDERS.items() if b.scaled is not None)


def build(name: str, folder: Path, size: str | float = "tiny") -> Path:
    """Build ``name`` and save it to ``folder`` (``save_pretrained`` layout: what the backends load)."""
    made = model(name, size)
    folder.mkdir(parents=True, exist_ok=True)
    made.save_pretrained(folder)
    return folder


_cache_lock = threading.Lock()


def cached(name: str) -> Path:
    """The tiny ``name`` in ``$STORYREEL_CACHE/tiny/<name>-v<VERSION>``, built on first use (atomically: a
    half-written folder is never used)."""
    from storyreel.runtime import cache_dir
    from storyreel.store import atomic_path

    if name not in BUILDERS:
        raise BackendError(f"tiny:{name}: the architecture factory builds tiny:{', tiny:'.join(names())}")
    target = cache_dir() / "tiny" / f"{name}-v{VERSION}"
    with _cache_lock:
        if not target.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as tmp:
                build(name, Path(tmp))
    return target


class Builder:
    def __init__(self, tiny: Callable[[], Any], scaled: Callable[[float, str, Any], Any] | None = None):
        self.tiny, self.scaled = tiny, scaled


# --- tokenizers and text encoders that need no files ---------------------------------------------------


def clip_tokenizer() -> Any:
    """A CLIP tokenizer with one token per character (and per word-final character): no download."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for char in string.ascii_lowercase + string.digits + string.punctuation:
        vocab.setdefault(char, len(vocab))
        vocab.setdefault(f"{char}</w>", len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def _clip_text_config(vocab_size: int) -> Any:
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        vocab_size=vocab_size, hidden_size=8, intermediate_size=16, num_attention_heads=2, num_hidden_layers=1,
        max_position_embeddings=77, bos_token_id=0, eos_token_id=1, pad_token_id=1,
    )  # fmt: skip


def _t5(encoder_class: type, **sizes: Any) -> tuple[Any, Any]:
    """``T5TokenizerFast()`` (it builds with no files) and a T5-family encoder of its vocabulary size."""
    from transformers import T5Config, T5TokenizerFast, UMT5Config

    tokenizer = T5TokenizerFast(**({"model_max_length": sizes.pop("max_length")} if "max_length" in sizes else {}))
    config_class = UMT5Config if encoder_class.__name__.startswith("UMT5") else T5Config
    return tokenizer, encoder_class(config_class(vocab_size=len(tokenizer), **sizes))


# --- image ---------------------------------------------------------------------------------------------


def tiny_flux2() -> Any:
    """FLUX.2 [klein] at toy size, step-distilled: a Flux2 transformer, its VAE, a Qwen3 text encoder (27 layers:
    the pipeline reads layers 9, 18 and 27) and a byte-level Qwen2 tokenizer with a chat template."""
    import torch
    from diffusers import (
        AutoencoderKLFlux2,
        FlowMatchEulerDiscreteScheduler,
        Flux2KleinPipeline,
        Flux2Transformer2DModel,
    )
    from transformers import Qwen2Tokenizer, Qwen3Config, Qwen3ForCausalLM

    vocab = {char: i for i, char in enumerate(string.ascii_letters + string.digits + string.punctuation + "Ġ")}
    for special in ("<|endoftext|>", "<|im_start|>", "<|im_end|>"):
        vocab[special] = len(vocab)
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=[], unk_token="<|endoftext|>", pad_token="<|endoftext|>")
    tokenizer.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    torch.manual_seed(0)
    text_encoder = Qwen3ForCausalLM(
        Qwen3Config(
            vocab_size=len(tokenizer), hidden_size=16, intermediate_size=16, num_hidden_layers=27,
            num_attention_heads=2, num_key_value_heads=2, head_dim=8, max_position_embeddings=512,
        )
    )  # fmt: skip
    transformer = Flux2Transformer2DModel(
        patch_size=1, in_channels=4, num_layers=1, num_single_layers=1, attention_head_dim=16, num_attention_heads=2,
        joint_attention_dim=3 * 16,  # three text-encoder layers side by side
        timestep_guidance_channels=256, axes_dims_rope=[4, 4, 4, 4], guidance_embeds=False,
    )  # fmt: skip
    vae = AutoencoderKLFlux2(
        sample_size=32, in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",),
        up_block_types=("UpDecoderBlock2D",), block_out_channels=(4,), layers_per_block=1, latent_channels=1,
        norm_num_groups=1, use_quant_conv=False, use_post_quant_conv=False,
    )  # fmt: skip
    return Flux2KleinPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
        transformer=transformer, is_distilled=True,
    )  # fmt: skip


def tiny_sd() -> Any:
    """Stable Diffusion at toy size: UNet and VAE (4, 8) channels, a CLIP text encoder of hidden size 8."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

    torch.manual_seed(0)
    tokenizer = clip_tokenizer()
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8), layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=8, norm_num_groups=2,
    )  # fmt: skip
    vae = AutoencoderKL(
        block_out_channels=(4, 8), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=2,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
    )  # fmt: skip
    scheduler = DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False, steps_offset=1
    )
    return StableDiffusionPipeline(
        vae=vae, text_encoder=CLIPTextModel(_clip_text_config(len(tokenizer))), tokenizer=tokenizer, unet=unet,
        scheduler=scheduler, safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )  # fmt: skip


class _Parts:
    """Several parts saved side by side into one folder (a model, its tokenizer, its processor ...)."""

    def __init__(self, *parts: Any, extra: Callable[[Path], None] | None = None):
        self.parts, self.extra = parts, extra

    def save_pretrained(self, folder: Path) -> None:
        for part in self.parts:
            part.save_pretrained(folder)
        if self.extra is not None:
            self.extra(Path(folder))


def tiny_clip() -> Any:
    """A CLIP model at toy size with its tokenizer and image processor (32 px)."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPVisionConfig

    torch.manual_seed(2)
    tokenizer = clip_tokenizer()
    vision = CLIPVisionConfig(
        hidden_size=8, intermediate_size=16, num_attention_heads=2, num_hidden_layers=1, image_size=32, patch_size=8
    )
    config = CLIPConfig(
        text_config=_clip_text_config(len(tokenizer)).to_dict(), vision_config=vision.to_dict(), projection_dim=8
    )
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return _Parts(CLIPModel(config), tokenizer, processor)


# --- video ---------------------------------------------------------------------------------------------


def _scaled(value: int, scale: float, minimum: int = 1) -> int:
    """A width or depth of the published config, times ``scale`` (1: unchanged)."""
    return max(minimum, round(value * scale))


def _channels(value: int, scale: float) -> int:
    """A VAE channel count times ``scale`` rounded to a power of two, at most /16: every block of a VAE is
    shrunk by the same factor, so the ratios between blocks (which the up/down-sampling relies on) hold."""
    return value if scale == 1 else round(value * max(2.0 ** round(math.log2(scale)), 1 / 16))


def ltx_configs(scale: float = 1.0) -> dict[str, dict[str, Any]]:
    """LTX-Video 0.9.7 dev (13B): diffusers' conversion script (scripts/convert_ltx_to_diffusers.py, version
    0.9.7) and google/t5-v1_1-xxl, every width and depth times ``scale``."""
    heads, t5_heads = _scaled(32, scale), _scaled(64, scale)
    return {
        "transformer": {
            "in_channels": 128, "out_channels": 128, "patch_size": 1, "patch_size_t": 1,
            "num_attention_heads": heads, "attention_head_dim": 128, "cross_attention_dim": heads * 128,
            "num_layers": _scaled(48, scale), "activation_fn": "gelu-approximate", "qk_norm": "rms_norm_across_heads",
            "norm_elementwise_affine": False, "norm_eps": 1e-6, "caption_channels": t5_heads * 64,
            "attention_bias": True, "attention_out_bias": True,
        },
        "vae": {
            "in_channels": 3, "out_channels": 3, "latent_channels": 128,
            "block_out_channels": tuple(_channels(c, scale) for c in (128, 256, 512, 1024, 2048)),
            "down_block_types": ("LTXVideo095DownBlock3D",) * 4,
            "decoder_block_out_channels": tuple(_channels(c, scale) for c in (256, 512, 1024)),
            "layers_per_block": tuple(_scaled(n, scale) for n in (4, 6, 6, 2, 2)),
            "decoder_layers_per_block": tuple(_scaled(n, scale) for n in (5, 5, 5, 5)),
            "spatio_temporal_scaling": (True, True, True, True),
            "decoder_spatio_temporal_scaling": (True, True, True),
            "decoder_inject_noise": (False, False, False, False),
            "downsample_type": ("spatial", "temporal", "spatiotemporal", "spatiotemporal"),
            "upsample_residual": (True, True, True), "upsample_factor": (2, 2, 2), "timestep_conditioning": True,
            "patch_size": 4, "patch_size_t": 1, "resnet_norm_eps": 1e-6, "scaling_factor": 1.0,
            "encoder_causal": True, "decoder_causal": False,
            "spatial_compression_ratio": 32, "temporal_compression_ratio": 8,
        },
        "text_encoder": {
            "d_model": t5_heads * 64, "d_ff": _scaled(10240, scale), "d_kv": 64, "num_heads": t5_heads,
            "num_layers": _scaled(24, scale), "vocab_size": 32128, "feed_forward_proj": "gated-gelu",
            "relative_attention_num_buckets": 32, "dropout_rate": 0.0,
        },
    }  # fmt: skip


def wan_configs(scale: float = 1.0) -> dict[str, dict[str, Any]]:
    """Wan 2.1 FLF2V 14B 720p: diffusers' conversion script (scripts/convert_wan_to_diffusers.py,
    Wan-FLF2V-14B-720P), its default AutoencoderKLWan, google/umt5-xxl and CLIP ViT-H/14 (224 px, 257 tokens)."""
    heads, t5_heads, clip_heads = _scaled(40, scale), _scaled(64, scale), _scaled(16, scale)
    return {
        "transformer": {
            "patch_size": (1, 2, 2), "num_attention_heads": heads, "attention_head_dim": 128, "in_channels": 36,
            "out_channels": 16, "text_dim": t5_heads * 64, "freq_dim": 256, "ffn_dim": _scaled(13824, scale),
            "num_layers": _scaled(40, scale), "cross_attn_norm": True, "qk_norm": "rms_norm_across_heads",
            "eps": 1e-6, "image_dim": clip_heads * 80, "added_kv_proj_dim": heads * 128, "rope_max_seq_len": 1024,
            "pos_embed_seq_len": 257 * 2,
        },
        "vae": {"base_dim": _channels(96, scale), "z_dim": 16, "num_res_blocks": _scaled(2, scale)},
        "text_encoder": {
            "d_model": t5_heads * 64, "d_ff": _scaled(10240, scale), "d_kv": 64, "num_heads": t5_heads,
            "num_layers": _scaled(24, scale), "vocab_size": 256384, "feed_forward_proj": "gated-gelu",
            "relative_attention_num_buckets": 32, "dropout_rate": 0.0,
        },
        "image_encoder": {
            "hidden_size": clip_heads * 80, "intermediate_size": _scaled(5120, scale),
            "num_hidden_layers": _scaled(32, scale), "num_attention_heads": clip_heads, "image_size": 224,
            "patch_size": 14, "projection_dim": 1024, "hidden_act": "gelu",
        },
    }  # fmt: skip


def random_diffusers_model(cls: type, config: dict[str, Any], device: str, dtype: Any, seed: int) -> Any:
    """A diffusers model with random weights made straight on ``device`` in ``dtype``: its parameters start
    on the meta device (no memory), then each is drawn where it will live, so a 14B model never exists in fp32."""
    import torch
    from accelerate import init_empty_weights
    from accelerate.utils import set_module_tensor_to_device

    with init_empty_weights():
        made = cls(**config)
    generator = torch.Generator(device).manual_seed(seed)
    for name, param in made.named_parameters():
        value = torch.empty(param.shape, dtype=dtype, device=device).normal_(0.0, 0.02, generator=generator)
        set_module_tensor_to_device(made, name, device, value=value)
    return made.to(device).eval()


def random_transformers_model(cls: type, config: Any, device: str, dtype: Any) -> Any:
    """A transformers model with random weights (its own initialisation), built on ``device`` in ``dtype``."""
    import torch

    with torch.device(device):
        return cls._from_config(config, dtype=dtype).eval()


def _tiny_ltx_vae() -> Any:
    from diffusers import AutoencoderKLLTXVideo

    return AutoencoderKLLTXVideo(
        latent_channels=8, block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, False), decoder_spatio_temporal_scaling=(True, True, True, False),
        decoder_inject_noise=(False,) * 5, upsample_residual=(False,) * 4, upsample_factor=(1,) * 4,
        timestep_conditioning=False, patch_size=1, patch_size_t=1,
    )  # fmt: skip


def tiny_ltx() -> Any:
    """An LTXConditionPipeline at toy size (transformer 8 channels, 1 layer; VAE latent 8, temporal ratio 8)."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, LTXConditionPipeline, LTXVideoTransformer3DModel
    from transformers import T5EncoderModel

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=4, attention_head_dim=8,
        cross_attention_dim=32, num_layers=1, caption_channels=32,
    )  # fmt: skip
    vae = _tiny_ltx_vae()
    tokenizer, text_encoder = _t5(T5EncoderModel, d_model=32, d_ff=37, d_kv=8, num_heads=4, num_layers=1)
    return LTXConditionPipeline(
        transformer=transformer, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
        scheduler=FlowMatchEulerDiscreteScheduler(),
    )  # fmt: skip


def tiny_ltx_upsampler() -> Any:
    """An LTXLatentUpsamplePipeline (2x spatial) for the tiny LTX's 8-channel latents (its VAE: the tiny LTX's
    architecture; the upsampler reads only its latent statistics)."""
    import torch
    from diffusers import LTXLatentUpsamplePipeline
    from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

    torch.manual_seed(0)
    upsampler = LTXLatentUpsamplerModel(in_channels=8, mid_channels=32, num_blocks_per_stage=1)
    return LTXLatentUpsamplePipeline(vae=_tiny_ltx_vae(), latent_upsampler=upsampler)


def scaled_ltx(scale: float, device: str, dtype: Any) -> Any:
    """LTX-Video 0.9.7 dev at ``scale`` of its published size, random weights."""
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXConditionPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel, T5TokenizerFast

    configs = ltx_configs(scale)
    return LTXConditionPipeline(
        transformer=random_diffusers_model(LTXVideoTransformer3DModel, configs["transformer"], device, dtype, 0),
        vae=random_diffusers_model(AutoencoderKLLTXVideo, configs["vae"], device, dtype, 1),
        text_encoder=random_transformers_model(T5EncoderModel, T5Config(**configs["text_encoder"]), device, dtype),
        tokenizer=T5TokenizerFast(),  # random weights: any tokenizer gives the same work
        scheduler=FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=False),
    )


def gemma_tokenizer() -> Any:
    """A Gemma tokenizer with one token per character: no download."""
    from transformers import GemmaTokenizerFast

    vocab = {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3}
    for char in string.ascii_letters + string.digits + string.punctuation + "\u2581":
        vocab.setdefault(char, len(vocab))
    return GemmaTokenizerFast(vocab=vocab, merges=[])


def tiny_ltx2() -> Any:
    """An LTX2ConditionPipeline at toy size: a 2-layer Gemma 3 text encoder (hidden 32), the connectors, an
    audio-video transformer of 2 layers, a video VAE of one block (temporal ratio 2), an audio VAE and a vocoder
    whose upsampling (5 x 4 x 4 x 2 = 160 = the mel hop) makes real 16 kHz sound."""
    import torch
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2ConditionPipeline,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, Gemma3TextConfig, SiglipVisionConfig

    tokenizer = gemma_tokenizer()
    torch.manual_seed(0)
    text = Gemma3TextConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, head_dim=16, max_position_embeddings=256, sliding_window=64,
    )  # fmt: skip
    vision = SiglipVisionConfig(
        hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=16, patch_size=4
    )
    config = Gemma3Config(text_config=text.to_dict(), vision_config=vision.to_dict(), mm_tokens_per_image=4)
    text_encoder = Gemma3ForConditionalGeneration(config)
    transformer = LTX2VideoTransformer3DModel(
        in_channels=4, out_channels=4, patch_size=1, patch_size_t=1, num_attention_heads=2, attention_head_dim=8,
        cross_attention_dim=16, audio_in_channels=4, audio_out_channels=4, audio_num_attention_heads=2,
        audio_attention_head_dim=4, audio_cross_attention_dim=8, num_layers=2, qk_norm="rms_norm_across_heads",
        caption_channels=32, rope_double_precision=False, rope_type="split",
    )  # fmt: skip
    connectors = LTX2TextConnectors(
        caption_channels=32, text_proj_in_factor=text.num_hidden_layers + 1, video_connector_num_attention_heads=4,
        video_connector_attention_head_dim=8, video_connector_num_layers=1,
        video_connector_num_learnable_registers=None, audio_connector_num_attention_heads=4,
        audio_connector_attention_head_dim=8, audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None, connector_rope_base_seq_len=32, rope_theta=10000.0,
        rope_double_precision=False, causal_temporal_positioning=False, rope_type="split",
    )  # fmt: skip
    vae = AutoencoderKLLTX2Video(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8,), decoder_block_out_channels=(8,),
        layers_per_block=(1,), decoder_layers_per_block=(1, 1), spatio_temporal_scaling=(True,),
        decoder_spatio_temporal_scaling=(True,), decoder_inject_noise=(False, False), downsample_type=("spatial",),
        upsample_residual=(False,), upsample_factor=(1,), timestep_conditioning=False, patch_size=1, patch_size_t=1,
        encoder_causal=True, decoder_causal=False,
    )  # fmt: skip
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4, output_channels=2, ch_mult=(1,), num_res_blocks=1, attn_resolutions=None, in_channels=2,
        resolution=32, latent_channels=2, norm_type="pixel", causality_axis="height", dropout=0.0,
        mid_block_add_attention=False, sample_rate=16000, mel_hop_length=160, is_causal=True, mel_bins=8,
    )  # fmt: skip
    vocoder = LTX2Vocoder(
        in_channels=2 * 8, hidden_channels=32, out_channels=2, upsample_kernel_sizes=[10, 8, 8, 4],
        upsample_factors=[5, 4, 4, 2], resnet_kernel_sizes=[3], resnet_dilations=[[1, 3, 5]],
        leaky_relu_negative_slope=0.1, output_sampling_rate=16000,
    )  # fmt: skip
    return LTX2ConditionPipeline(
        transformer=transformer, vae=vae, audio_vae=audio_vae, scheduler=FlowMatchEulerDiscreteScheduler(),
        text_encoder=text_encoder, tokenizer=tokenizer, connectors=connectors, vocoder=vocoder,
    )  # fmt: skip


def tiny_ltx2_upsampler() -> Any:
    """An LTX2LatentUpsamplePipeline (2x spatial) for the tiny LTX-2's 4-channel latents (its VAE: the tiny LTX-2's
    architecture; the upsampler reads only its latent statistics)."""
    import torch
    from diffusers import LTX2LatentUpsamplePipeline
    from diffusers.pipelines.ltx2.latent_upsampler import LTX2LatentUpsamplerModel

    vae = tiny_ltx2().vae
    torch.manual_seed(0)
    upsampler = LTX2LatentUpsamplerModel(in_channels=4, mid_channels=32, num_blocks_per_stage=1)
    return LTX2LatentUpsamplePipeline(vae=vae, latent_upsampler=upsampler)


def ltx2_configs(scale: float = 1.0) -> dict[str, dict[str, Any]]:
    """LTX-2 (19B audio-video transformer): diffusers' conversion script (scripts/convert_ltx2_to_diffusers.py,
    version 2.0) and Gemma 3 12B (its text encoder, text tower; a SigLIP so400m vision tower), every width and
    depth times ``scale``."""
    heads, audio_heads, gemma_heads = _scaled(32, scale), _scaled(32, scale), _scaled(16, scale)
    gemma_hidden, gemma_layers, connector_heads = gemma_heads * 240, _scaled(48, scale), _scaled(30, scale)
    return {
        "transformer": {
            "in_channels": 128, "out_channels": 128, "patch_size": 1, "patch_size_t": 1,
            "num_attention_heads": heads, "attention_head_dim": 128, "cross_attention_dim": heads * 128,
            "vae_scale_factors": (8, 32, 32), "pos_embed_max_pos": 20, "base_height": 2048, "base_width": 2048,
            "audio_in_channels": 128, "audio_out_channels": 128, "audio_patch_size": 1, "audio_patch_size_t": 1,
            "audio_num_attention_heads": audio_heads, "audio_attention_head_dim": 64,
            "audio_cross_attention_dim": audio_heads * 64, "audio_scale_factor": 4, "audio_pos_embed_max_pos": 20,
            "audio_sampling_rate": 16000, "audio_hop_length": 160, "num_layers": _scaled(48, scale),
            "activation_fn": "gelu-approximate", "qk_norm": "rms_norm_across_heads", "norm_elementwise_affine": False,
            "norm_eps": 1e-6, "caption_channels": gemma_hidden, "attention_bias": True, "attention_out_bias": True,
            "rope_theta": 10000.0, "rope_double_precision": True, "causal_offset": 1,
            "timestep_scale_multiplier": 1000, "cross_attn_timestep_scale_multiplier": 1000, "rope_type": "split",
        },
        "connectors": {
            "caption_channels": gemma_hidden, "text_proj_in_factor": gemma_layers + 1,
            "video_connector_num_attention_heads": connector_heads, "video_connector_attention_head_dim": 128,
            "video_connector_num_layers": 2, "video_connector_num_learnable_registers": 128,
            "audio_connector_num_attention_heads": connector_heads, "audio_connector_attention_head_dim": 128,
            "audio_connector_num_layers": 2, "audio_connector_num_learnable_registers": 128,
            "connector_rope_base_seq_len": 4096, "rope_theta": 10000.0, "rope_double_precision": True,
            "causal_temporal_positioning": False, "rope_type": "split",
        },
        "vae": {
            "in_channels": 3, "out_channels": 3, "latent_channels": 128,
            "block_out_channels": tuple(_channels(c, scale) for c in (256, 512, 1024, 2048)),
            "down_block_types": ("LTX2VideoDownBlock3D",) * 4,
            "decoder_block_out_channels": tuple(_channels(c, scale) for c in (256, 512, 1024)),
            "layers_per_block": tuple(_scaled(n, scale) for n in (4, 6, 6, 2, 2)),
            "decoder_layers_per_block": tuple(_scaled(n, scale) for n in (5, 5, 5, 5)),
            "spatio_temporal_scaling": (True, True, True, True), "decoder_spatio_temporal_scaling": (True, True, True),
            "decoder_inject_noise": (False, False, False, False),
            "downsample_type": ("spatial", "temporal", "spatiotemporal", "spatiotemporal"),
            "upsample_residual": (True, True, True), "upsample_factor": (2, 2, 2), "timestep_conditioning": False,
            "patch_size": 4, "patch_size_t": 1, "resnet_norm_eps": 1e-6, "encoder_causal": True,
            "decoder_causal": False, "encoder_spatial_padding_mode": "zeros", "decoder_spatial_padding_mode": "reflect",
            "spatial_compression_ratio": 32, "temporal_compression_ratio": 8,
        },
        "audio_vae": {
            "base_channels": _channels(128, scale), "output_channels": 2, "ch_mult": (1, 2, 4), "num_res_blocks": 2,
            "attn_resolutions": None, "in_channels": 2, "resolution": 256, "latent_channels": 8, "norm_type": "pixel",
            "causality_axis": "height", "dropout": 0.0, "mid_block_add_attention": False, "sample_rate": 16000,
            "mel_hop_length": 160, "is_causal": True, "mel_bins": 64, "double_z": True,
        },
        "vocoder": {
            "in_channels": 128, "hidden_channels": _channels(1024, scale), "out_channels": 2,
            "upsample_kernel_sizes": [16, 15, 8, 4, 4], "upsample_factors": [6, 5, 2, 2, 2],
            "resnet_kernel_sizes": [3, 7, 11], "resnet_dilations": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
            "leaky_relu_negative_slope": 0.1, "output_sampling_rate": 24000,
        },
        "text_encoder": {
            "vocab_size": 262208, "hidden_size": gemma_hidden, "intermediate_size": _scaled(15360, scale),
            "num_hidden_layers": gemma_layers, "num_attention_heads": gemma_heads,
            "num_key_value_heads": max(1, gemma_heads // 2), "head_dim": 256, "sliding_window": 1024,
            "max_position_embeddings": 131072,
        },
        "vision_encoder": {
            "hidden_size": _scaled(16, scale) * 72, "intermediate_size": _scaled(4304, scale),
            "num_hidden_layers": _scaled(27, scale), "num_attention_heads": _scaled(16, scale), "image_size": 896,
            "patch_size": 14,
        },
    }  # fmt: skip


def scaled_ltx2(scale: float, device: str, dtype: Any) -> Any:
    """LTX-2 at ``scale`` of its published size (with Gemma 3 12B), random weights."""
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2ConditionPipeline,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, Gemma3TextConfig, SiglipVisionConfig

    configs = ltx2_configs(scale)
    gemma = Gemma3Config(
        text_config=Gemma3TextConfig(**configs["text_encoder"]).to_dict(),
        vision_config=SiglipVisionConfig(**configs["vision_encoder"]).to_dict(),
    )
    return LTX2ConditionPipeline(
        transformer=random_diffusers_model(LTX2VideoTransformer3DModel, configs["transformer"], device, dtype, 0),
        connectors=random_diffusers_model(LTX2TextConnectors, configs["connectors"], device, dtype, 1),
        vae=random_diffusers_model(AutoencoderKLLTX2Video, configs["vae"], device, dtype, 2),
        audio_vae=random_diffusers_model(AutoencoderKLLTX2Audio, configs["audio_vae"], device, dtype, 3),
        vocoder=random_diffusers_model(LTX2Vocoder, configs["vocoder"], device, dtype, 4),
        text_encoder=random_transformers_model(Gemma3ForConditionalGeneration, gemma, device, dtype),
        tokenizer=gemma_tokenizer(),  # random weights: any tokenizer gives the same work at the same length
        scheduler=FlowMatchEulerDiscreteScheduler(
            use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05, base_image_seq_len=1024,
            max_image_seq_len=4096, shift_terminal=0.1,
        ),
    )  # fmt: skip


def tiny_wan() -> Any:
    """A first/last-frame Wan pipeline at toy size (``pos_embed_seq_len`` = 2 x the CLIP vision tokens)."""
    import torch
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanImageToVideoPipeline
    from diffusers import WanTransformer3DModel as Transformer
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel, UMT5EncoderModel

    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1)
    tokenizer, text_encoder = _t5(UMT5EncoderModel, d_model=32, d_ff=37, d_kv=8, num_heads=4, num_layers=1)
    vision = CLIPVisionConfig(
        hidden_size=4, projection_dim=4, num_hidden_layers=2, num_attention_heads=2, image_size=32,
        intermediate_size=16, patch_size=4,
    )  # fmt: skip
    tokens = (32 // 4) ** 2 + 1
    transformer = Transformer(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32, image_dim=4, pos_embed_seq_len=2 * tokens,
    )  # fmt: skip
    return WanImageToVideoPipeline(  # saved under its own name: what a checkpoint folder names
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
        image_processor=CLIPImageProcessor(crop_size=32, size=32), image_encoder=CLIPVisionModel(vision),
        transformer=transformer,
    )  # fmt: skip


def scaled_wan(scale: float, device: str, dtype: Any) -> Any:
    """Wan 2.1 FLF2V 14B at ``scale`` of its published size, random weights."""
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanTransformer3DModel
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        CLIPVisionModel,
        T5TokenizerFast,
        UMT5Config,
        UMT5EncoderModel,
    )

    from storyreel.generators.video_wan import pipeline_class

    configs = wan_configs(scale)
    vision = CLIPVisionConfig(**configs["image_encoder"])
    return pipeline_class()(
        transformer=random_diffusers_model(WanTransformer3DModel, configs["transformer"], device, dtype, 0),
        vae=random_diffusers_model(AutoencoderKLWan, configs["vae"], device, dtype, 1),
        text_encoder=random_transformers_model(UMT5EncoderModel, UMT5Config(**configs["text_encoder"]), device, dtype),
        tokenizer=T5TokenizerFast(),
        image_encoder=random_transformers_model(CLIPVisionModel, vision, device, dtype),
        image_processor=CLIPImageProcessor(),  # 224 px, as Wan's CLIP expects
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
    )


# --- audio ---------------------------------------------------------------------------------------------


def tiny_kokoro() -> Any:
    """A Kokoro model folder's parts: config.json, a .pth of the real KModel at small text sizes, three voices.
    (Kokoro's decoder has fixed 512/1024-channel layers, so it is ~60M parameters even when tiny.)"""
    import json
    import tempfile

    import torch
    from kokoro.model import KModel

    symbols = ';:,.!?—…"()“” abcdefhijklmnopqrstuvwxyzɑɐɒæβɔçðʤəɚɛɜɡɥɪʝɾɹʃθʊʌʒʔˈˌːAIOQSTWYᵊʧŋɨ'
    config = {
        "istftnet": {
            "upsample_kernel_sizes": [20, 12], "upsample_rates": [10, 6], "gen_istft_hop_size": 5,
            "gen_istft_n_fft": 20, "resblock_dilation_sizes": [[1, 3, 5]], "resblock_kernel_sizes": [3],
            "upsample_initial_channel": 512,
        },
        "dim_in": 64, "dropout": 0.2, "hidden_dim": 512, "max_conv_dim": 512, "multispeaker": True,
        "max_dur": 2,  # random durations stay short: about one frame (25 ms) per phoneme
        "n_layer": 1, "n_mels": 80, "n_token": 178, "style_dim": 128, "text_encoder_kernel_size": 5,
        "plbert": {
            "hidden_size": 16, "num_attention_heads": 2, "intermediate_size": 32,
            "max_position_embeddings": 512, "num_hidden_layers": 1, "dropout": 0.1,
        },
        "vocab": {s: i + 1 for i, s in enumerate(dict.fromkeys(symbols))},
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.json").write_text(json.dumps(config))
        torch.save({}, Path(tmp) / "empty.pth")  # KModel builds from the config, then loads this (nothing)
        torch.manual_seed(0)
        kmodel = KModel(repo_id="tiny", config=str(Path(tmp) / "config.json"), model=str(Path(tmp) / "empty.pth"))
    parts = ("bert", "bert_encoder", "predictor", "text_encoder", "decoder")
    weights = {p: {k: v.half() for k, v in getattr(kmodel, p).state_dict().items()} for p in parts}
    voices = {
        voice: torch.randn(510, 1, 256, generator=torch.Generator().manual_seed(index)) * 0.2
        for index, voice in enumerate(("af_heart", "am_puck", "bf_emma"))
    }

    def save(folder: Path) -> None:
        (folder / "config.json").write_text(json.dumps(config))
        torch.save(weights, folder / "m.pth")
        (folder / "voices").mkdir(exist_ok=True)
        for voice, style in voices.items():
            torch.save(style, folder / "voices" / f"{voice}.pt")

    return _Parts(extra=save)


def tiny_musicgen() -> Any:
    """A MusicGen (T5 text encoder, EnCodec codec at 16 kHz, 4-codebook decoder) and its processor."""
    import torch
    from transformers import (
        EncodecConfig,
        EncodecFeatureExtractor,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        MusicgenProcessor,
        T5Config,
        T5TokenizerFast,
    )

    text = T5Config(d_model=16, d_ff=4, num_layers=2, num_heads=4)
    codec = EncodecConfig(
        hidden_size=99, compress=1, num_filters=4, codebook_size=64, codebook_dim=99,
        sampling_rate=MUSIC_RATE, upsampling_ratios=[8, 5, 4, 4], target_bandwidths=[0.6],
    )  # fmt: skip
    decoder = MusicgenDecoderConfig(
        vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=4, ffn_dim=4,
        pad_token_id=64, bos_token_id=64, decoder_start_token_id=64, num_codebooks=4,
    )  # fmt: skip
    config = MusicgenConfig(text_encoder=text.to_dict(), audio_encoder=codec.to_dict(), decoder=decoder.to_dict())
    torch.manual_seed(0)
    musicgen = MusicgenForConditionalGeneration(config)
    with torch.no_grad():  # EnCodec's codebooks start at zero (training fills them): every code would sound alike
        for layer in musicgen.audio_encoder.quantizer.layers:
            layer.codebook.embed.normal_()
    extractor = EncodecFeatureExtractor(feature_size=1, sampling_rate=MUSIC_RATE)
    return _Parts(musicgen, MusicgenProcessor(feature_extractor=extractor, tokenizer=T5TokenizerFast()))


def tiny_ace_step() -> Any:
    """An AceStepPipeline (ACE-Step 1.5: DiT, condition encoder, Oobleck VAE, a T5 text encoder standing in for
    Qwen3-Embedding) at toy size: stereo at ``ACE_RATE`` Hz, 100 latents a second."""
    import torch
    from diffusers import AceStepPipeline, AutoencoderOobleck
    from diffusers.models.transformers.ace_step_transformer import AceStepTransformer1DModel
    from diffusers.pipelines.ace_step import AceStepConditionEncoder
    from transformers import T5EncoderModel

    sizes = {"num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8}
    torch.manual_seed(0)
    transformer = AceStepTransformer1DModel(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, in_channels=24, audio_acoustic_hidden_dim=8,
        patch_size=2, rope_theta=10000.0, sliding_window=16, **sizes,
    )  # fmt: skip
    tokenizer, text_encoder = _t5(T5EncoderModel, d_model=32, d_ff=37, d_kv=8, num_heads=4, num_layers=1)
    condition_encoder = AceStepConditionEncoder(
        hidden_size=32, intermediate_size=64, text_hidden_dim=32, timbre_hidden_dim=8,
        num_lyric_encoder_hidden_layers=1, num_timbre_encoder_hidden_layers=1, rope_theta=10000.0,
        sliding_window=16, **sizes,
    )  # fmt: skip
    vae = AutoencoderOobleck(
        encoder_hidden_size=6, downsampling_ratios=[2, 4], decoder_channels=3, decoder_input_channels=8,
        audio_channels=2, channel_multiples=[2, 4], sampling_rate=ACE_RATE,
    )  # fmt: skip
    return AceStepPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, transformer=transformer,
        condition_encoder=condition_encoder, scheduler=_ace_scheduler(),
    )  # fmt: skip


def _ace_scheduler() -> Any:
    from diffusers import FlowMatchEulerDiscreteScheduler

    return FlowMatchEulerDiscreteScheduler(num_train_timesteps=1, shift=1.0)  # ACE-Step computes its own sigmas


def ace_step_configs(scale: float = 1.0) -> dict[str, dict[str, Any]]:
    """ACE-Step 1.5: the DiT and condition encoder at their classes' defaults (the 1.5 base size), its Oobleck VAE
    at 48 kHz with 1920 samples per latent (what the pipeline assumes), Qwen3-Embedding-0.6B as text encoder;
    every width and depth times ``scale``."""
    heads = _scaled(16, scale)
    attention = {"num_attention_heads": heads, "num_key_value_heads": max(1, heads // 2), "head_dim": 128}
    return {
        "transformer": {
            "hidden_size": heads * 128, "intermediate_size": _scaled(6144, scale),
            "num_hidden_layers": _scaled(24, scale), "in_channels": 192, "audio_acoustic_hidden_dim": 64,
            "patch_size": 2, "is_turbo": True, **attention,
        },
        "condition_encoder": {
            "hidden_size": heads * 128, "intermediate_size": _scaled(6144, scale),
            "text_hidden_dim": _scaled(8, scale) * 128, "timbre_hidden_dim": 64,
            "num_lyric_encoder_hidden_layers": _scaled(8, scale),
            "num_timbre_encoder_hidden_layers": _scaled(4, scale), **attention,
        },
        "vae": {
            "encoder_hidden_size": _channels(128, scale), "downsampling_ratios": [2, 4, 4, 6, 5],
            "channel_multiples": [1, 2, 4, 8, 16], "decoder_channels": _channels(128, scale),
            "decoder_input_channels": 64, "audio_channels": 2, "sampling_rate": 48000,
        },
        "text_encoder": {
            "vocab_size": 151669, "hidden_size": _scaled(8, scale) * 128, "intermediate_size": _scaled(3072, scale),
            "num_hidden_layers": _scaled(28, scale), "num_attention_heads": _scaled(16, scale),
            "num_key_value_heads": max(1, _scaled(8, scale)), "head_dim": 128, "max_position_embeddings": 32768,
        },
    }  # fmt: skip


def scaled_ace_step(scale: float, device: str, dtype: Any) -> Any:
    """ACE-Step 1.5 at ``scale`` of its size, random weights (a T5 tokenizer: random weights, the same work)."""
    from diffusers import AceStepPipeline, AutoencoderOobleck
    from diffusers.models.transformers.ace_step_transformer import AceStepTransformer1DModel
    from diffusers.pipelines.ace_step import AceStepConditionEncoder
    from transformers import Qwen3Config, Qwen3Model, T5TokenizerFast

    configs = ace_step_configs(scale)
    return AceStepPipeline(
        transformer=random_diffusers_model(AceStepTransformer1DModel, configs["transformer"], device, dtype, 0),
        condition_encoder=random_diffusers_model(
            AceStepConditionEncoder, configs["condition_encoder"], device, dtype, 1
        ),
        vae=random_diffusers_model(AutoencoderOobleck, configs["vae"], device, dtype, 2),
        text_encoder=random_transformers_model(Qwen3Model, Qwen3Config(**configs["text_encoder"]), device, dtype),
        tokenizer=T5TokenizerFast(),
        scheduler=_ace_scheduler(),
    )


def tiny_stable_audio() -> Any:
    """A StableAudioPipeline (DiT, Oobleck VAE at 2048 Hz, T5, projection, cosine DPM scheduler) at toy size;
    it writes at most 0.5 s per call, so longer cues take several."""
    import torch
    from diffusers import (
        AutoencoderOobleck,
        CosineDPMSolverMultistepScheduler,
        StableAudioDiTModel,
        StableAudioPipeline,
        StableAudioProjectionModel,
    )
    from transformers import T5EncoderModel

    torch.manual_seed(0)
    tokenizer, text_encoder = _t5(T5EncoderModel, d_model=8, d_ff=16, d_kv=4, num_heads=2, num_layers=1, max_length=32)
    return StableAudioPipeline(
        transformer=StableAudioDiTModel(
            sample_size=128, in_channels=3, num_layers=2, attention_head_dim=4, num_key_value_attention_heads=2,
            out_channels=3, cross_attention_dim=4, time_proj_dim=8, global_states_input_dim=8,
            cross_attention_input_dim=4,
        ),
        scheduler=CosineDPMSolverMultistepScheduler(
            solver_order=2, prediction_type="v_prediction", sigma_data=1.0, sigma_schedule="exponential"
        ),
        vae=AutoencoderOobleck(
            encoder_hidden_size=6, downsampling_ratios=[2, 4], decoder_channels=3, decoder_input_channels=3,
            audio_channels=2, channel_multiples=[2, 4], sampling_rate=SFX_RATE,
        ),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        projection_model=StableAudioProjectionModel(text_encoder_dim=8, conditioning_dim=4, min_value=0, max_value=512),
    )  # fmt: skip


BUILDERS: dict[str, Builder] = {
    "flux2": Builder(tiny_flux2),
    "sd": Builder(tiny_sd),
    "clip": Builder(tiny_clip),
    "ltx": Builder(tiny_ltx, scaled_ltx),
    "ltx-upsampler": Builder(tiny_ltx_upsampler),
    "wan": Builder(tiny_wan, scaled_wan),
    "ltx2": Builder(tiny_ltx2, scaled_ltx2),
    "ltx2-upsampler": Builder(tiny_ltx2_upsampler),
    "kokoro": Builder(tiny_kokoro),
    "musicgen": Builder(tiny_musicgen),
    "stable-audio": Builder(tiny_stable_audio),
    "ace-step": Builder(tiny_ace_step, scaled_ace_step),
}
