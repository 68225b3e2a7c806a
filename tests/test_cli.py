"""The command line through its runner: a film, resume, and one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyreel.cli import app

from .conftest import story_answers  # noqa: TID252

runner = CliRunner()


def _run(*args: str):
    result = runner.invoke(app, list(args))
    return result, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["make", ""], "the prompt is empty"),
        (["make", "   "], "the prompt is empty"),
        (["make", "a fox", "--pages", "0"], "between 1 and 24"),
        (["make", "a fox", "--pages", "25"], "between 1 and 24"),
        (["make", "a fox", "--profile", "cinema"], "unknown profile 'cinema'"),
        (["make", "a fox", "--profile", "sketch", "--set", "image.backend=nope"], "unknown image backend 'nope'"),
        (["make", "a fox", "--profile", "sketch", "--set", "video.speed=2"], "unknown setting 'video.speed'"),
        (["make", "a fox", "--profile", "sketch", "--set", "novalue"], "section.key=value"),
        (["make", "a fox", "--until", "sound"], "--until must be one of"),
        (["make", "--run", "/nonexistent/run"], "not a storyreel run directory"),
        (["show", "/nonexistent/run"], "has no plan.json"),
    ],
)
def test_bad_input_is_one_line_and_no_traceback(args, message):
    result, text = _run(*args)
    assert result.exit_code == 2, text
    assert message in text
    assert "Traceback" not in text
    assert len([line for line in text.splitlines() if line.strip()]) == 1


def test_unwritable_output_folder(tmp_path: Path, scripted):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    model = scripted(story_answers(pages=2))
    result, text = _run("make", "a fox", "--profile", "sketch", "--set", model, "--out", str(blocker / "runs"))
    assert result.exit_code == 2 and "cannot write to output folder" in text and "Traceback" not in text


def test_make_show_and_resume(tmp_path: Path, scripted):
    model = scripted(story_answers(pages=2))
    result, text = _run("make", "A little dragon", "--profile", "sketch", "--set", model, "--out", str(tmp_path))
    assert result.exit_code == 0, text
    film = Path(next(line for line in text.splitlines() if line.startswith("film: ")).removeprefix("film: "))
    run = Path(next(line for line in text.splitlines() if line.startswith("run directory: ")).split(": ", 1)[1])
    assert film.is_file() and film.parent == run
    result, text = _run("show", str(run))
    assert result.exit_code == 0 and "Pip and the Dark" in text and "film:" in text
    result, text = _run("make", "--run", str(run))
    assert result.exit_code == 0 and "made 0 asset(s)" in text


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, scripted):
    import storyreel.flows.make_film as module

    def interrupted(**kwargs):
        raise KeyboardInterrupt

    interrupted.with_options = lambda **options: interrupted  # the CLI sets the flow's task runner first
    monkeypatch.setattr(module, "make_film", interrupted)
    result, text = _run(
        "make", "a fox", "--profile", "sketch", "--set", scripted(story_answers()), "--out", str(tmp_path)
    )
    assert result.exit_code == 130 and "resume" in text and "Traceback" not in text


def test_backends_lists_what_is_ready():
    result, text = _run("backends", "--json")
    assert result.exit_code == 0
    rows = json.loads(text)["backends"]  # one object: {"backends": [...]}
    assert {("image", "preview"), ("narration", "espeak"), ("assemble", "moviepy")} <= {
        (r["kind"], r["name"]) for r in rows
    }
    # all installed, but for the audiocraft ones: audiocraft cannot share this environment (it pins torch 2.1)
    assert all(r["installed"] for r in rows if r["missing"] != ["audiocraft"])
    assert {r["name"] for r in rows if not r["installed"]} <= {"audiocraft", "audiogen"}
    # ready: installed, and its model's weights and its device here too; the procedural ones need neither
    assert all(r["installed"] for r in rows if r["ready"])
    ready = {(r["kind"], r["name"]) for r in rows if r["ready"]}
    assert {("image", "preview"), ("narration", "espeak"), ("music", "synth"), ("assemble", "moviepy")} <= ready
