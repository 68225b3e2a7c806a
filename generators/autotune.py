"""The memory auto-tune of a video model that generates in windows: from the card's free memory, where the
weights go (offload), how many frames one call makes (the window) and whether the VAE decodes in tiles.

- ``Footprint``: what one window costs in GPU memory, estimated from the model's config (``Footprint.of(pipe)``)
- ``choose``: the offload, window and tiling for a free memory, and one line saying why (a pure function: the
  tests give it simulated free memory)
- ``tune``: a pipeline placed (``storyreel.runtime.place``) as ``choose`` says; on a CPU the options' window
  (``"auto"``: the model's default window), nothing asked of a card
- ``smaller``: the window one step lower, for the out-of-memory retry

The estimate, and where its numbers come from (an estimate: it decides between a few steps, it is not a
measurement; ``bench/gpu_film.py`` prints the choice beside the measured peak so it can be checked on a card):

- latent tokens of one window: ``((frames - 1) / temporal + 1) * (height / spatial) * (width / spatial)`` over
  the transformer's patch sizes; ``temporal``/``spatial`` are the VAE's compression ratios (its config)
- denoising: ``TOKEN_WIDTHS`` hidden-width vectors per token and batch row live at the peak of a transformer
  block (the hidden state and its residual, the normed input, q/k/v, the attention output, the feed-forward's
  4x inner activation and its GELU: about 12, plus the rotary tables in float32: 16 in all), times the bytes
  of the dtype. Attention itself is taken as memory-efficient (PyTorch's flash / efficient SDPA kernels on
  CUDA): linear in the tokens. Blocks run one after another and free their activations, so the depth
  (``layers``) adds only with the ``taylor`` cache hook, which keeps each block's output and its differences.
  The batch is 2 with classifier-free guidance (guidance above 1, not LTX-2's distilled schedule), else 1.
- VAE decode: the decoder's last block runs at the output size over the VAE's patch size with its first
  (narrowest) ``decoder_block_out_channels`` and holds about ``DECODE_TENSORS`` such tensors at its peak; tiled
  decoding bounds that to one tile, so tiling is on when a whole window's decode would not fit. (Wan's VAE
  decodes a few frames at a time, so for Wan this is an upper bound: tiling comes on sooner than it must.)
- the budget: the free memory once the weights are placed (``torch.cuda.mem_get_info`` after placement),
  less what offload brings in while generating (model offload: the largest component), less ``RESERVE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storyreel import runtime
from storyreel.generators import frames

GIB = 1024**3
TOKEN_WIDTHS = 16  # hidden-width vectors per token at a block's peak (see the module docstring)
TAYLOR_TERMS = 2  # the taylor cache hook keeps each block's output and its first difference
DECODE_TENSORS = 3  # tensors of the decoder's last block alive at once (input, resnet inner, output)
RESERVE = 1 * GIB  # what the allocator, the CUDA context and fragmentation take: 1 GiB ...
RESERVE_SHARE = 0.1  # ... and a tenth of what is left


@dataclass(frozen=True)
class Footprint:
    """What one window of a video model costs in memory, from its config (see the module docstring).

    Attributes:
        width: the transformer's hidden size (attention heads x head dim).
        layers: its number of blocks.
        spatial, temporal: the VAE's compression ratios (pixels per latent, frames per latent frame).
        patch, patch_t: the transformer's patch sizes (latent pixels and frames per token).
        decoder_channels: the channels of the decoder's last (output-size) block.
        vae_patch: the VAE's own patch size (the decoder's last block runs at the output size over it).
        element: bytes per activation (the pipeline's dtype).
    """

    width: int
    layers: int
    spatial: int
    temporal: int
    patch: int = 1
    patch_t: int = 1
    decoder_channels: int = 128
    vae_patch: int = 1
    element: int = 2

    @classmethod
    def of(cls, pipe: Any) -> Footprint:
        """The footprint of a diffusers video pipeline (LTX-2, LTX-Video, Wan) read from its components' configs."""
        t = (getattr(pipe, "transformer", None) or pipe.unet).config
        v = pipe.vae.config
        patch = t.get("patch_size", 1)
        patch_t = t.get("patch_size_t", 1)
        if isinstance(patch, (tuple, list)):  # Wan: (frames, height, width)
            patch_t, patch = patch[0], patch[-1]
        decoder = v.get("decoder_block_out_channels") or v.get("block_out_channels") or [v.get("base_dim", 128)]
        return cls(
            width=t["num_attention_heads"] * t["attention_head_dim"],
            layers=t["num_layers"],
            spatial=getattr(pipe, "vae_spatial_compression_ratio", None)
            or getattr(pipe, "vae_scale_factor_spatial", 8),
            temporal=getattr(pipe, "vae_temporal_compression_ratio", None)
            or getattr(pipe, "vae_scale_factor_temporal", 4),
            patch=patch,
            patch_t=patch_t or 1,
            decoder_channels=int(decoder[0]),
            vae_patch=v.get("patch_size") or 1,
            element=pipe.vae.dtype.itemsize if hasattr(pipe.vae, "dtype") else 2,
        )

    def tokens(self, num_frames: int, width: int, height: int) -> int:
        """Latent tokens of one call of ``num_frames`` frames at ``width`` x ``height``."""
        latent_frames = (num_frames - 1) // self.temporal + 1
        return (
            -(-latent_frames // self.patch_t)
            * -(-height // (self.spatial * self.patch))
            * -(-width // (self.spatial * self.patch))
        )

    def denoise(self, num_frames: int, width: int, height: int, batch: int = 1, cache: str = "none") -> int:
        """Bytes of activations at the peak of one denoising step."""
        per_token = TOKEN_WIDTHS * self.width * self.element
        if cache == "taylor":
            per_token += TAYLOR_TERMS * self.layers * self.width * self.element
        return self.tokens(num_frames, width, height) * per_token * batch

    def decode(self, num_frames: int, width: int, height: int) -> int:
        """Bytes at the peak of decoding one window in one piece (no tiling)."""
        pixels = -(-height // self.vae_patch) * -(-width // self.vae_patch)
        return DECODE_TENSORS * num_frames * pixels * self.decoder_channels * self.element


@dataclass(frozen=True)
class Choice:
    """What the auto-tune chose: offload mode, frames per call, VAE tiling, and why (one line)."""

    offload: str
    window: int
    tiling: bool
    why: str


def gib(count: float) -> str:
    return f"{count / GIB:.1f} GiB"


def smaller(window: int, multiple: int) -> int | None:
    """The window one step lower (about three quarters, in whole latent frames), or None below two latent frames."""
    latent = (window - 1) // multiple
    if latent <= 2:
        return None
    return multiple * max(2, (latent * 3) // 4) + 1


def budget(free: int, sizes: list[int], offload: str) -> int:
    """Bytes left for one call's activations once the weights are placed by ``offload``, from ``free`` bytes
    before placement (``sizes``: the components' weights): all of them resident (none), the largest one at a
    time (model), a few layers (group, sequential: taken as none); less the reserve."""
    resident = {"none": sum(sizes), "model": max(sizes, default=0)}.get(offload, 0)
    return after_reserve(free - resident)


def after_reserve(left: float) -> int:
    """Bytes free less the reserve."""
    return int(max(0.0, left * (1 - RESERVE_SHARE) - RESERVE))


def choose(
    footprint: Footprint,
    sizes: list[int],
    free: int,
    width: int,
    height: int,
    full: int,
    *,
    offload: str = "auto",
    window: int | str = "auto",
    tiling: bool | str = "auto",
    batch: int = 1,
    cache: str = "none",
    left: int | None = None,
) -> Choice:
    """Offload, window and VAE tiling for a card with ``free`` bytes free before the weights are placed.

    Args:
        footprint: the model's ``Footprint``.
        sizes: the bytes of each component's weights.
        free: the card's free memory before placement.
        width, height: the generation size.
        full: the model's default window (frames per call, as published): "auto" never goes above it.
        offload, window, tiling: the options; what is given (not "auto") is kept as it is.
        batch, cache: 2 with classifier-free guidance; the cache hook (``taylor`` keeps per-block outputs).
        left: the free memory measured once the weights are placed, when there is a card (instead of the
            estimate ``free`` less the resident weights).
    """
    multiple = footprint.temporal
    mode = offload if offload != "auto" else runtime.offload_for(sizes, free)
    room = after_reserve(left - (max(sizes, default=0) if mode == "model" else 0)) if left is not None else None
    room = room if room is not None else budget(free, sizes, mode)
    placed = {"none": "no offload", "model": "model offload", "group": "group offload"}.get(mode, f"{mode} offload")
    why_offload = "" if offload != "auto" else f" (weights {gib(sum(sizes))})"
    # the window: the largest step from the published one whose denoising fits
    if window != "auto":
        frames_per_call, why_window = frames.largest_window(int(window), multiple), "as set"
    else:
        frames_per_call = frames.largest_window(full, multiple)
        while footprint.denoise(frames_per_call, width, height, batch, cache) > room:
            lower = smaller(frames_per_call, multiple)
            if lower is None:
                break
            frames_per_call = lower
        need = footprint.denoise(frames_per_call, width, height, batch, cache)
        why_window = f"~{gib(need)} each" + ("" if need <= room else ", may not fit: the smallest")
    decode = footprint.decode(frames_per_call, width, height)
    if tiling == "auto":
        tiles = decode > room
        why_tiles = f"a window's decode ~{gib(decode)}" + (" would not fit" if tiles else "")
    else:
        tiles, why_tiles = bool(tiling), "as set"
    why = (
        f"free {gib(free)}: {placed}{why_offload}, {gib(room)} left; windows of {frames_per_call} frames "
        f"({why_window}); VAE tiling {'on' if tiles else 'off'} ({why_tiles})"
    )
    return Choice(mode, frames_per_call, tiles, why)


def tune(pipe: Any, options: Any, setting: str, full: int) -> tuple[str, Choice]:
    """Place ``pipe`` (``storyreel.runtime.place``) with the offload, window and tiling chosen from the card's
    free memory; returns (placement, choice). On a CPU: the options' window, ``"auto"`` the published ``full``
    (there is no GPU memory to size it by), tiling as ``place`` does it."""
    where = runtime.device(options.device)
    footprint = Footprint.of(pipe)
    multiple = footprint.temporal
    if not where.startswith("cuda"):
        placement = runtime.place(pipe, options, setting)
        window = full if options.max_frames == "auto" else options.max_frames
        chosen = frames.largest_window(window, multiple)
        source = "the model's default" if options.max_frames == "auto" else "as set"
        why = f"{where}: windows of {chosen} frames ({source})"
        return placement, Choice("none", chosen, False, why)
    sizes = runtime.weight_sizes(pipe)
    # classifier-free guidance doubles the batch (LTX-2's distilled schedule runs without)
    batch = 2 if getattr(options, "schedule", "full") != "distilled" and options.guidance > 1.0 else 1
    free = runtime.free_memory(where)
    mode = options.offload if options.offload != "auto" else runtime.offload_for(sizes, free)
    placement = runtime.place(pipe, options.model_copy(update={"offload": mode}), setting)
    choice = choose(
        footprint, sizes, free, options.width, options.height, full, offload=options.offload,
        window=options.max_frames, tiling=options.vae_tiling, batch=batch, cache=options.cache,
        left=runtime.free_memory(where),
    )  # fmt: skip
    vae = getattr(pipe, "vae", None)
    if choice.tiling and hasattr(vae, "enable_tiling"):
        vae.enable_tiling()
    elif hasattr(vae, "disable_tiling"):
        vae.disable_tiling()
    return placement, choice
