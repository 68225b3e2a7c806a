"""The preview interpolator's frames stay what they were: version 2 makes them in YUV 4:2:0 (the encoder's
format) where version 1 made them in RGB. On small real keyframes (kept in tests/data/interpolation, with
version 1's frames between them) every frame must stay above 45 dB PSNR in luma, 38 dB in chroma and 42 dB
over the whole 4:2:0 frame (ffmpeg's psnr weighting) against version 1's, converted the way ffmpeg converts RGB
for H.264 (BT.601, limited range, 2x2 chroma). Chroma is warped at its own half size now; on these 96x54
frames, busy for their size, that costs the most (39.5 dB at worst); on the film's 1280x720 keyframes chroma
stays above 48 dB and luma above 54 dB."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from storyreel.generators.base import InterpolationRequest
from storyreel.generators.frames import without_ends
from storyreel.generators.preview_interpolation import FlowInterpolator, _Between, _grid, _load, _Planes
from storyreel.media import read_video

DATA = Path(__file__).parent / "data" / "interpolation"
W, H = 96, 54
# name: (indices, num_frames, inner); pan and zoom are camera moves over one picture (every pixel visible in
# both keyframes), disc a moving object (it hides and uncovers), cut a page-to-page dissolve
CASES = {
    "pan": ([0, 8, 15], 16, False),
    "zoom": ([0, 9], 10, False),
    "disc": ([0, 7], 8, False),
    "cut": ([0, 9], 8, True),
}


def request_for(case: str) -> InterpolationRequest:
    indices, frames, inner = CASES[case]
    keyframes = sorted(DATA.glob(f"{case}-[0-9].png"))
    return InterpolationRequest(keyframes=keyframes, indices=indices, num_frames=frames, inner=inner, width=W, height=H)


def version_1(case: str) -> list[np.ndarray]:
    """Version 1's RGB frames, kept as one tall PNG."""
    strip = cv2.cvtColor(cv2.imread(str(DATA / f"{case}-version1.png")), cv2.COLOR_BGR2RGB)
    return list(strip.reshape(-1, H, W, 3))


def planes_of(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BT.601 limited-range luma, and chroma as the mean of each 2x2 block (float, unrounded)."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    chroma = np.stack([c.reshape(H // 2, 2, W // 2, 2).mean(axis=(1, 3)) for c in (u, v)])
    return y, chroma


def split(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A YUV 4:2:0 buffer as (luma, chroma planes)."""
    flat = frame.reshape(-1).astype(np.float64)
    return flat[: W * H].reshape(H, W), flat[W * H :].reshape(2, H // 2, W // 2)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


@pytest.mark.parametrize("case", list(CASES))
def test_every_frame_stays_within_the_psnr_bound_of_version_1(case: str) -> None:
    request = request_for(case)
    # the frames as they go to the encoder: H.264's own loss would hide a difference of this size
    made = list(without_ends(FlowInterpolator()._frames(request), request.inner))
    before = version_1(case)
    assert len(made) == len(before) == request.num_frames
    for k, (new, old) in enumerate(zip(made, before, strict=True)):
        assert new.shape == (H * 3 // 2, W) and new.dtype == np.uint8
        (y, chroma), (y_old, chroma_old) = split(new), planes_of(old)
        assert psnr(y, y_old) > 45, f"{case} frame {k}: luma {psnr(y, y_old):.1f} dB"
        assert psnr(chroma, chroma_old) > 38, f"{case} frame {k}: chroma {psnr(chroma, chroma_old):.1f} dB"
        whole = (4 * np.mean((y - y_old) ** 2) + 2 * np.mean((chroma - chroma_old) ** 2)) / 6
        assert 10 * np.log10(255**2 / max(whole, 1e-12)) > 42, f"{case} frame {k}: the whole frame"


def test_the_cases_take_both_blends() -> None:
    """A camera move blends by time alone; a moving object blends by visibility too (both are checked above)."""
    grids = (_grid(W, H), _grid(W // 2, H // 2))

    def between(case: str) -> _Between:
        a, b = (_load(path, W, H) for path in request_for(case).keyframes[:2])
        return _Between(a, b, _Planes.of(a), _Planes.of(b), FlowInterpolator.Options(), grids)

    assert between("pan").uniform and between("zoom").uniform
    disc = between("disc")
    assert disc.trust > 0.5 and not disc.uniform
    assert between("cut").trust == 0.0


def test_the_clip_decodes_to_its_frames(tmp_path: Path) -> None:
    """Written as yuv420p, the clip decodes to the frames made, within H.264's loss."""
    request = request_for("disc")
    out = tmp_path / "clip.mp4"
    FlowInterpolator().interpolate(request, out)
    decoded = list(read_video(out))
    assert len(decoded) == request.num_frames
    for new, old in zip(decoded, version_1("disc"), strict=True):
        assert psnr(planes_of(new)[0], planes_of(old)[0]) > 35  # crf 20 at 96x54


def test_an_odd_size_is_refused_with_one_line(tmp_path: Path) -> None:
    request = request_for("pan").model_copy(update={"width": 95})
    with pytest.raises(ValueError, match=r"95x54: H.264 4:2:0 needs an even width and height"):
        FlowInterpolator().interpolate(request, tmp_path / "clip.mp4")
