"""``storyreel show RUN --contact-sheet out.png``: the pages of a tiny film on one sheet."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from storyreel.cli import app
from storyreel.contact_sheet import CAPTION, first_words, page_images, sheet_layout

from .conftest import story_answers  # noqa: TID252

runner = CliRunner()


def _make(tmp_path: Path, scripted, *extra: str) -> Path:
    model = scripted(story_answers(pages=2))
    result = runner.invoke(
        app,
        ["make", "A little dragon", "--profile", "sketch", "--set", model, "--out", str(tmp_path), "--json", *extra],
    )
    assert result.exit_code == 0, result.output
    return Path(json.loads(result.stdout)["run_dir"])


def test_a_contact_sheet_of_a_tiny_film(tmp_path: Path, scripted):
    run = _make(tmp_path, scripted, "--until", "images")
    out = tmp_path / "sheets" / "sheet.png"
    result = runner.invoke(app, ["show", str(run), "--contact-sheet", str(out)])
    assert result.exit_code == 0, result.output
    assert "contact sheet" in result.output

    with Image.open(out) as sheet:
        assert sheet.format == "PNG"
        sheet.load()
    images = page_images(run)
    assert sorted(images) == [1, 2]
    with Image.open(images[1]) as first:
        layout = sheet_layout(2, first.width / first.height)
    assert layout.columns == 2 and layout.rows == 1
    assert sheet.size == layout.size
    pixels = np.asarray(sheet.convert("RGB"), dtype=float)
    width, height = layout.thumb
    for number, path in images.items():
        x, y = layout.cell(number - 1)
        with Image.open(path) as picture:
            expected = np.asarray(picture.convert("RGB").resize(layout.thumb, Image.Resampling.LANCZOS), dtype=float)
        assert np.abs(pixels[y : y + height, x : x + width] - expected).mean() < 1.0  # the page's own picture
        caption = pixels[y + height + 2 : y + height + CAPTION, x : x + width]
        assert (caption.mean(axis=2) < 140).sum() > 50  # its number and first words are written under it
    assert list(run.glob("*.partial*")) == [] and not list(out.parent.glob(".*partial*"))


def test_first_words_and_a_run_without_pictures(tmp_path: Path, scripted):
    assert first_words("one two three", 2) == "one two…"
    assert first_words("one two", 2) == "one two"
    run = _make(tmp_path, scripted, "--until", "plan")
    result = runner.invoke(app, ["show", str(run), "--contact-sheet", str(tmp_path / "sheet.png")])
    assert result.exit_code == 2
    assert "no illustrations yet" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["show", str(run), "--contact-sheet", str(tmp_path / "sheet.jpg")])
    assert result.exit_code == 2 and "PNG" in result.output
