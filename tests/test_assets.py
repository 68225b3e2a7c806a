"""The asset layer: one call builds the spec (upstream files by content) and reuses or makes the asset."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from storyreel import assets
from storyreel.config import load_config
from storyreel.generators.base import KeyframeRequest, SpeechRequest
from storyreel.store import RunDir, sha256_file


def picture(path: Path, colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", (64, 36), colour).save(path)
    return path


def test_upstream_files_are_keyed_by_content_not_by_name(tmp_path: Path):
    config, _ = load_config("sketch", [], environ={})
    run = RunDir(tmp_path / "run")
    (tmp_path / "run").mkdir()

    def keyframes(image: Path) -> Path:
        request = KeyframeRequest(image=image, indices=[0, 8], width=64, height=36, seed=1)
        return assets.make(run, config, "keyframes", request, "pages/p01/keyframes-{key}", page=1)

    first = keyframes(picture(tmp_path / "a.png", (10, 120, 10)))
    record = next(iter(run.manifest().values()))
    assert record.spec["upstream"] == {"image": sha256_file(tmp_path / "a.png")}
    assert "image" not in record.spec["request"] and record.spec["backend"] == "keyframes.preview"
    assert record.page == 1 and sorted(p.name for p in first.iterdir()) == ["k000.png", "k001.png"]

    assert keyframes(picture(tmp_path / "renamed.png", (10, 120, 10))) == first  # same picture, other name: reused
    assert keyframes(picture(tmp_path / "a.png", (200, 20, 20))) != first  # same name, other picture: made
    assert [e.which for e in run.events()] == ["made", "reused", "made"]


def test_the_backend_and_its_options_come_from_the_config(tmp_path: Path):
    config, _ = load_config("sketch", ["narration.options.pitch=60"], environ={})
    assert assets.maker(config, "narration") == assets.Maker("narration", "espeak", {"pitch": 60}, "speak")
    assert assets.maker(config, "clip").kind == "interpolation" and assets.maker(config, "film").method == "assemble"
    assert assets.upstream_files(SpeechRequest(text="hi")) == {}
