"""GPU smoke benchmark: the ``gpu`` profile's video models at their real sizes, random weights, no download.

Builds the architectures of the video backends from their published configs (written out below: LTX-Video
0.9.7 dev - 13B transformer, VAE, T5-XXL; Wan 2.1 FLF2V 14B - transformer, VAE, UMT5-XXL, CLIP ViT-H/14)
with random weights, in bf16 on CUDA, and runs them through storyreel's own backends: one page's keyframes and
its interpolation, and one page-to-page transition, at the profile's film size and frame rate and each model's
own generation size. Per clip it records the seconds, the frames made per second and the peak VRAM
(``torch.cuda.max_memory_allocated``), and appends them with the card's name and the date to
``docs/benchmarks.md``. Random weights make noise, not pictures: this measures time and memory, not quality.

    python bench/gpu_smoke.py                        # both backends, their default steps (a CUDA GPU)
    python bench/gpu_smoke.py --backends ltx --steps 8
    make gpu-smoke ARGS="--steps 8"

Without CUDA it stops with a message. ``--scale`` shrinks every width and depth (layers, heads, channels) to
check the script itself on a CPU: ``python bench/gpu_smoke.py --scale 0.02 --size 64x32 --seconds 1 --steps 1``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from storyreel import gpu
from storyreel.config import load_config
from storyreel.generators.base import InterpolationRequest, KeyframeRequest
from storyreel.media import probe
from storyreel.timeline import keyframe_indices

ROOT = Path(__file__).resolve().parents[1]


def scaled(value: int, scale: float, minimum: int = 1) -> int:
    """A width or depth of the published config, times ``scale`` (1: unchanged)."""
    return max(minimum, round(value * scale))


def channels(value: int, scale: float) -> int:
    """A VAE channel count times ``scale`` rounded to a power of two, at most /16: every block of a VAE is
    shrunk by the same factor, so the ratios between blocks (which the up/down-sampling relies on) hold."""
    return value if scale == 1 else round(value * max(2.0 ** round(math.log2(scale)), 1 / 16))


# --- published configs ---------------------------------------------------------------------------------


def ltx_configs(scale: float) -> dict[str, dict[str, Any]]:
    """LTX-Video 0.9.7 dev: diffusers' conversion script (scripts/convert_ltx_to_diffusers.py, version 0.9.7)
    and google/t5-v1_1-xxl."""
    heads, t5_heads = scaled(32, scale), scaled(64, scale)
    return {
        "transformer": {
            "in_channels": 128, "out_channels": 128, "patch_size": 1, "patch_size_t": 1,
            "num_attention_heads": heads, "attention_head_dim": 128, "cross_attention_dim": heads * 128,
            "num_layers": scaled(48, scale), "activation_fn": "gelu-approximate", "qk_norm": "rms_norm_across_heads",
            "norm_elementwise_affine": False, "norm_eps": 1e-6, "caption_channels": t5_heads * 64,
            "attention_bias": True, "attention_out_bias": True,
        },
        "vae": {
            "in_channels": 3, "out_channels": 3, "latent_channels": 128,
            "block_out_channels": tuple(channels(c, scale) for c in (128, 256, 512, 1024, 2048)),
            "down_block_types": ("LTXVideo095DownBlock3D",) * 4,
            "decoder_block_out_channels": tuple(channels(c, scale) for c in (256, 512, 1024)),
            "layers_per_block": tuple(scaled(n, scale) for n in (4, 6, 6, 2, 2)),
            "decoder_layers_per_block": tuple(scaled(n, scale) for n in (5, 5, 5, 5)),
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
            "d_model": t5_heads * 64, "d_ff": scaled(10240, scale), "d_kv": 64, "num_heads": t5_heads,
            "num_layers": scaled(24, scale), "vocab_size": 32128, "feed_forward_proj": "gated-gelu",
            "relative_attention_num_buckets": 32, "dropout_rate": 0.0,
        },
    }  # fmt: skip


def wan_configs(scale: float) -> dict[str, dict[str, Any]]:
    """Wan 2.1 FLF2V 14B 720p: diffusers' conversion script (scripts/convert_wan_to_diffusers.py,
    Wan-FLF2V-14B-720P), its default AutoencoderKLWan, google/umt5-xxl and CLIP ViT-H/14 (224 px, 257 tokens)."""
    heads, t5_heads, clip_heads = scaled(40, scale), scaled(64, scale), scaled(16, scale)
    return {
        "transformer": {
            "patch_size": (1, 2, 2), "num_attention_heads": heads, "attention_head_dim": 128, "in_channels": 36,
            "out_channels": 16, "text_dim": t5_heads * 64, "freq_dim": 256, "ffn_dim": scaled(13824, scale),
            "num_layers": scaled(40, scale), "cross_attn_norm": True, "qk_norm": "rms_norm_across_heads",
            "eps": 1e-6, "image_dim": clip_heads * 80, "added_kv_proj_dim": heads * 128, "rope_max_seq_len": 1024,
            "pos_embed_seq_len": 257 * 2,
        },
        "vae": {"base_dim": channels(96, scale), "z_dim": 16, "num_res_blocks": scaled(2, scale)},
        "text_encoder": {
            "d_model": t5_heads * 64, "d_ff": scaled(10240, scale), "d_kv": 64, "num_heads": t5_heads,
            "num_layers": scaled(24, scale), "vocab_size": 256384, "feed_forward_proj": "gated-gelu",
            "relative_attention_num_buckets": 32, "dropout_rate": 0.0,
        },
        "image_encoder": {
            "hidden_size": clip_heads * 80, "intermediate_size": scaled(5120, scale),
            "num_hidden_layers": scaled(32, scale), "num_attention_heads": clip_heads, "image_size": 224,
            "patch_size": 14, "projection_dim": 1024, "hidden_act": "gelu",
        },
    }  # fmt: skip


# --- building with random weights ------------------------------------------------------------------


def diffusers_model(cls: type, config: dict[str, Any], device: str, dtype: Any, seed: int) -> Any:
    """A diffusers model with random weights made straight on ``device`` in ``dtype``: its parameters start
    on the meta device (no memory), then each is drawn where it will live, so a 14B model never exists in fp32."""
    import torch
    from accelerate import init_empty_weights
    from accelerate.utils import set_module_tensor_to_device

    with init_empty_weights():
        model = cls(**config)
    generator = torch.Generator(device).manual_seed(seed)
    for name, param in model.named_parameters():
        value = torch.empty(param.shape, dtype=dtype, device=device).normal_(0.0, 0.02, generator=generator)
        set_module_tensor_to_device(model, name, device, value=value)
    return model.to(device).eval()


def transformers_model(cls: type, config: Any, device: str, dtype: Any) -> Any:
    """A transformers model with random weights (its own initialisation), built on ``device`` in ``dtype``."""
    import torch

    with torch.device(device):
        return cls._from_config(config, dtype=dtype).eval()


def build_ltx(scale: float, device: str, dtype: Any) -> Any:
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXConditionPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel, T5TokenizerFast

    configs = ltx_configs(scale)
    return LTXConditionPipeline(
        transformer=diffusers_model(LTXVideoTransformer3DModel, configs["transformer"], device, dtype, 0),
        vae=diffusers_model(AutoencoderKLLTXVideo, configs["vae"], device, dtype, 1),
        text_encoder=transformers_model(T5EncoderModel, T5Config(**configs["text_encoder"]), device, dtype),
        tokenizer=T5TokenizerFast(),  # random weights: any tokenizer gives the same work
        scheduler=FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=False),
    )


def build_wan(scale: float, device: str, dtype: Any) -> Any:
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
    return pipeline_class()(
        transformer=diffusers_model(WanTransformer3DModel, configs["transformer"], device, dtype, 0),
        vae=diffusers_model(AutoencoderKLWan, configs["vae"], device, dtype, 1),
        text_encoder=transformers_model(UMT5EncoderModel, UMT5Config(**configs["text_encoder"]), device, dtype),
        tokenizer=T5TokenizerFast(),
        image_encoder=transformers_model(CLIPVisionModel, CLIPVisionConfig(**configs["image_encoder"]), device, dtype),
        image_processor=CLIPImageProcessor(),  # 224 px, as Wan's CLIP expects
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
    )


# --- running -------------------------------------------------------------------------------------------


def backends(name: str, options: dict[str, Any]) -> tuple[Any, Any]:
    if name == "ltx":
        from storyreel.generators.video_ltx import LTXInterpolator, LTXKeyframes, LTXOptions

        opts = LTXOptions(**options)
        return LTXKeyframes(opts), LTXInterpolator(opts)
    from storyreel.generators.video_wan import WanInterpolator, WanKeyframes, WanOptions

    opts = WanOptions(**options)
    return WanKeyframes(opts), WanInterpolator(opts)


def measure(device: str, run: Callable[[], None]) -> tuple[float, float | None]:
    """Seconds, and peak GPU memory in GiB (None on the CPU), of ``run()``."""
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    run()
    if device == "cuda":
        torch.cuda.synchronize()
        return time.perf_counter() - start, torch.cuda.max_memory_allocated() / 2**30
    return time.perf_counter() - start, None


def bench_backend(name: str, args: argparse.Namespace, device: str, work: Path) -> list[dict[str, Any]]:
    """Build one backend's pipeline, then time a page's keyframes and clip and one transition."""
    import torch

    config, _ = load_config("gpu", [])
    video = config.video
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    options: dict[str, Any] = {"model": f"random:{name}", "offload": "none"}
    if args.steps:
        options["steps"] = args.steps
    if args.size:
        options["width"], options["height"] = (int(v) for v in args.size.lower().split("x"))
    keyframer, interpolator = backends(name, options)

    # 1. the architecture at its published size (or --scale), random weights, on the device
    started = time.perf_counter()
    pipe = (build_ltx if name == "ltx" else build_wan)(args.scale, device, dtype)
    built = time.perf_counter() - started
    loaded = keyframer.ready(pipe)
    for backend in (keyframer, interpolator):  # hand the backends this pipeline instead of a download
        backend._load = lambda: loaded
    width, height = loaded.size
    params = sum(p.numel() for m in pipe.components.values() if isinstance(m, torch.nn.Module) for p in m.parameters())
    print(f"{name}: built {params / 1e9:.2f}B parameters in {built:.0f} s; generating at {width}x{height}", flush=True)

    # 2. a page: keyframes at the keyframe rate, then every frame between them
    frames = round(args.seconds * video.fps)
    indices = keyframe_indices(frames, video.keyframe_spacing)
    illustration = work / "page.png"
    gradient = np.linspace(0, 255, video.width, dtype=np.float32)[None, :, None] * np.ones((video.height, 1, 3))
    Image.fromarray(gradient.astype(np.uint8)).save(illustration)
    size = {"width": video.width, "height": video.height, "fps": video.fps}
    kf_request = KeyframeRequest(image=illustration, prompt="a small dragon walks", indices=indices, seed=1, **size)
    seconds, peak = measure(device, lambda: keyframer.keyframes(kf_request, work / f"{name}-kf"))
    rows = [row(name, f"keyframes ({len(indices)})", len(indices), seconds, peak)]
    files = sorted((work / f"{name}-kf").glob("k*.png"))
    clip = InterpolationRequest(keyframes=files, indices=indices, num_frames=frames, seed=2, **size)
    seconds, peak = measure(device, lambda: interpolator.interpolate(clip, work / f"{name}-page.mp4"))
    rows.append(row(name, f"page clip ({args.seconds:g} s)", frames, seconds, peak))

    # 3. a transition from the page's last keyframe to the next page's first (here: its own first)
    count = round(video.transition * video.fps)
    ends = InterpolationRequest(keyframes=[files[-1], files[0]], indices=[0, count - 1], num_frames=count, **size)
    seconds, peak = measure(device, lambda: interpolator.interpolate(ends, work / f"{name}-transition.mp4"))
    rows.append(row(name, f"transition ({video.transition:g} s)", count, seconds, peak))
    for made in ("page", "transition"):  # the clips are real H.264 at the film size
        stream = probe(work / f"{name}-{made}.mp4")["streams"][0]
        assert (stream["width"], stream["height"]) == (video.width, video.height), stream

    gpu.release()  # the next backend gets the whole card
    return [{**r, "steps": keyframer.options.steps, "size": f"{width}x{height}"} for r in rows]


def row(backend: str, clip: str, frames: int, seconds: float, peak: float | None) -> dict[str, Any]:
    return {"backend": backend, "clip": clip, "frames": frames, "seconds": seconds, "peak": peak}


def report(rows: list[dict[str, Any]], device: str, args: argparse.Namespace) -> str:
    import diffusers
    import torch

    card = torch.cuda.get_device_name(0) if device == "cuda" else "CPU"
    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    scale = "" if args.scale == 1 else f", widths and depths x{args.scale:g} (a script check, not a benchmark)"
    lines = [
        f"### {when}: {card}",
        "",
        f"torch {torch.__version__}, diffusers {diffusers.__version__}; random weights at the published sizes"
        f"{scale}; film 1280x720 at 24 fps (the gpu profile).",
        "",
        "| backend | clip | frames | steps | generated at | seconds | frames/s | peak VRAM (GiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        peak = f"{r['peak']:.1f}" if r["peak"] is not None else "-"
        lines.append(
            f"| {r['backend']} | {r['clip']} | {r['frames']} | {r['steps']} | {r['size']} | {r['seconds']:.1f} | "
            f"{r['frames'] / r['seconds']:.2f} | {peak} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="ltx,wan", help="comma-separated: ltx, wan")
    parser.add_argument("--steps", type=int, default=0, help="denoising steps (0: each backend's default)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of the page")
    parser.add_argument("--size", default="", help="generation size WxH (default: each backend's own)")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink widths and depths (CPU check of the script)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="file the results go to")
    parser.add_argument("--no-write", action="store_true", help="print the results only")
    args = parser.parse_args(argv)

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and args.scale >= 1:
        print(
            "bench/gpu_smoke.py needs a CUDA GPU: torch sees none here. It builds 13-14B models at their real "
            "size. To check the script itself on a CPU: python bench/gpu_smoke.py --scale 0.02 --size 64x32 "
            "--seconds 1 --steps 1 --no-write",
            file=sys.stderr,
        )
        return 2
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    unknown = [n for n in names if n not in ("ltx", "wan")]
    if unknown:
        parser.error(f"unknown backend(s) {unknown}: choose from ltx, wan")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="gpu-smoke-") as tmp:
        for name in names:
            rows += bench_backend(name, args, device, Path(tmp))
            gc.collect()
            if device == "cuda":
                torch.cuda.empty_cache()
    text = report(rows, device, args)
    print(text)
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if not args.out.exists():
            args.out.write_text("# Benchmarks\n\n", encoding="utf-8")
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)
        print(f"appended to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
