"""The memory auto-tune of the windowed video models (generators/autotune.py): offload, frames per call and VAE
tiling chosen from a simulated free memory, with LTX-2's published configs (storyreel.architectures)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from storyreel import architectures
from storyreel.generators import autotune, video_ltx2
from storyreel.generators.autotune import GIB, Footprint

# LTX-2's weights in bf16: the 19B transformer, Gemma 3 12B, the video and audio VAEs, the vocoder, connectors
SIZES = [int(38 * GIB), int(24 * GIB), int(0.8 * GIB), int(0.2 * GIB), int(0.1 * GIB), int(1.4 * GIB)]
SIZE = (768, 512)


@pytest.fixture(scope="module")
def ltx2() -> Footprint:
    """The footprint of the published LTX-2, read from its configs as from a pipeline's components."""
    import torch

    configs = architectures.ltx2_configs()
    pipe = SimpleNamespace(
        transformer=SimpleNamespace(config=configs["transformer"]),
        vae=SimpleNamespace(config=configs["vae"], dtype=torch.bfloat16),
        vae_spatial_compression_ratio=32,
        vae_temporal_compression_ratio=8,
    )
    return Footprint.of(pipe)


def choose(footprint: Footprint, free: float, **options) -> autotune.Choice:
    return autotune.choose(footprint, SIZES, int(free * GIB), *SIZE, video_ltx2.PUBLISHED_WINDOW, **options)


def test_the_footprint_comes_from_the_model_config(ltx2):
    assert (ltx2.width, ltx2.layers, ltx2.spatial, ltx2.temporal) == (4096, 48, 32, 8)
    assert (ltx2.decoder_channels, ltx2.vae_patch, ltx2.element) == (256, 4, 2)
    assert ltx2.tokens(121, *SIZE) == 16 * 16 * 24  # 16 latent frames of 16 x 24


def test_plenty_of_memory_no_offload_and_full_windows(ltx2):
    choice = choose(ltx2, 139)  # an H200
    assert (choice.offload, choice.window, choice.tiling) == ("none", 121, False)
    assert choice.why.startswith("free 139.0 GiB: no offload (weights 64.5 GiB)")
    assert "windows of 121 frames" in choice.why and "VAE tiling off" in choice.why


def test_less_memory_model_offload_and_still_full_windows(ltx2):
    choice = choose(ltx2, 79)  # an 80 GB card: 64.5 GiB of weights are more than 60% of it
    assert (choice.offload, choice.window) == ("model", 121)
    assert "model offload" in choice.why


def test_little_memory_group_offload_smaller_windows_and_tiles(ltx2):
    choice = choose(ltx2, 1.5)
    assert choice.offload == "group"
    assert choice.window < 121 and (choice.window - 1) % 8 == 0
    assert ltx2.denoise(choice.window, *SIZE) <= autotune.budget(int(1.5 * GIB), SIZES, "group")
    assert choice.tiling  # the decode of even that window would not fit
    assert f"windows of {choice.window} frames" in choice.why and "VAE tiling on" in choice.why
    # the measured free memory after placement is what counts when there is one
    assert choose(ltx2, 139, left=int(1.5 * GIB)).window == choice.window


def test_the_estimate_grows_with_frame_size_frames_guidance_and_taylor_cache(ltx2):
    small = ltx2.denoise(121, 768, 512)
    assert ltx2.denoise(121, 1280, 704) > small and ltx2.decode(121, 1280, 704) > ltx2.decode(121, 768, 512)
    assert ltx2.denoise(57, 768, 512) < small
    assert ltx2.denoise(121, 768, 512, batch=2) == 2 * small
    assert ltx2.denoise(121, 768, 512, cache="taylor") > small
    # and so the window shrinks at a larger size on the same card
    assert choose(ltx2, 2.5).window > autotune.choose(ltx2, SIZES, int(2.5 * GIB), 1920, 1088, 121).window


def test_what_is_set_is_kept(ltx2):
    choice = choose(ltx2, 1.5, window=97, offload="model", tiling=False)
    assert (choice.offload, choice.window, choice.tiling) == ("model", 97, False)
    assert choose(ltx2, 139, window=100).window == 97  # rounded down to 8k+1, as before
    assert "windows of 97 frames (as set)" in choice.why


def test_one_step_lower_is_about_three_quarters_of_a_window_and_stops():
    assert autotune.smaller(121, 8) == 89
    ladder = [121]
    while (lower := autotune.smaller(ladder[-1], 8)) is not None:
        ladder.append(lower)
    assert ladder == [121, 89, 65, 49, 33, 25, 17]
    assert autotune.smaller(5, 2) is None or autotune.smaller(5, 2) < 5


def test_old_configs_with_a_number_still_load_and_auto_is_the_default():
    assert video_ltx2.LTX2Options().max_frames == "auto" and video_ltx2.LTX2Options().vae_tiling == "auto"
    assert video_ltx2.LTX2Options(max_frames=121, vae_tiling=True).max_frames == 121
    assert video_ltx2.LTX2Options.model_validate({"max_frames": "121"}).max_frames == 121
    with pytest.raises(ValueError, match="max_frames"):
        video_ltx2.LTX2Options(max_frames=5)
