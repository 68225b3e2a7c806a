"""A run directory stays sound: versions are never wrong, nothing is written or read outside the run, and a
damaged run is repaired or refused with one line. Each reported case is reproduced here first (issue 11).
Fast: no flow runs, real files, real locks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from filelock import FileLock
from PIL import Image
from typer.testing import CliRunner

from storyreel.cli import app
from storyreel.config import load_config, saved_config
from storyreel.errors import InputError, RunLockedError
from storyreel.flows.make_film import plan_story
from storyreel.page_images import MAX_PIXELS, check_picture
from storyreel.plan import Brief
from storyreel.store import RunDir, check_run, clean_partials, copy_file, sha256_file, write_json
from storyreel.versions import (
    current_plan,
    film_damaged,
    keep_film,
    load_history,
    mark_film,
    new_version,
    record_film,
    revert,
    verified_film,
)

from .conftest import story_answers  # noqa: TID252

runner = CliRunner()


def made_film(run: Path, content: bytes, version: int) -> Path:
    """What the make-film flow does once a film is assembled: the film asset, copied to film.mp4, marked."""
    path = RunDir(run).asset(
        "film", {"content": content.decode()}, "films/film-{key}.mp4", lambda p: p.write_bytes(content)
    )
    copy_file(path, run / "film.mp4")
    for name in ("timeline.json", "subtitles.srt"):
        (run / name).write_text(f"{name} of {content.decode()}", encoding="utf-8")
    assert mark_film(run, version)
    return path


@pytest.fixture
def run(tmp_path: Path, scripted) -> Path:
    """A run with a plan (v1), its config and its film."""
    config, _ = load_config("sketch", [scripted(story_answers(pages=2))], environ={})
    folder = tmp_path / "run"
    folder.mkdir()
    plan_story.fn(str(folder), Brief(prompt="A fox", pages=2), config)
    write_json(folder / "config.json", config.model_dump(mode="json"))
    made_film(folder, b"the film of v1", 1)
    return folder


def revised(run: Path) -> None:
    """The state of a run while ``revise`` renders v2: v2's plan is saved, film.mp4 is still v1's."""
    plan = current_plan(run)
    new_version(run, plan, plan.model_copy(update={"title": "Another"}), "rename it", ["title: Another"])


# --- versions are never wrong ---------------------------------------------------------------------------


def test_a_revert_during_a_revision_is_refused_and_files_no_wrong_film(run: Path):
    revised(run)
    entry = load_history(run).get(2)
    other = FileLock(str(run / ".run.lock"))  # the revision's process holds the run
    other.acquire()
    try:
        with pytest.raises(RunLockedError, match="in use by another storyreel process"):
            revert(run, 1)
    finally:
        other.release()
    assert not (run / "film.v2.mp4").exists() and load_history(run).get(2).film_sha256 is None

    made_film(run, b"the film of v2", 2)
    record_film(run, entry, made=1, reused=0)
    assert (run / "film.v2.mp4").read_bytes() == b"the film of v2"
    assert load_history(run).get(2).film_sha256 == sha256_file(run / "film.v2.mp4")
    assert revert(run, 1).film and (run / "film.mp4").read_bytes() == b"the film of v1"
    assert revert(run, 2).film and (run / "film.mp4").read_bytes() == b"the film of v2"


def test_an_interrupted_revision_never_files_the_old_film_as_the_new_version(run: Path):
    revised(run)  # killed before v2's film: plan.json is v2, film.mp4 is v1's
    assert verified_film(run, 2) is None and not film_damaged(run, 2)  # another version's film, not a damaged one
    back = revert(run, 1)
    assert not back.rebuilt and (run / "film.mp4").read_bytes() == b"the film of v1"
    assert not (run / "film.v2.mp4").exists() and load_history(run).get(2).film is None


@pytest.mark.parametrize("damage", ["truncate", "replace", "symlink"])
def test_a_damaged_current_film_is_never_kept_as_a_version(run: Path, tmp_path: Path, damage: str):
    film = run / "film.mp4"
    if damage == "truncate":
        with open(film, "r+b") as fh:
            fh.truncate(5)
    elif damage == "replace":
        film.write_bytes(b"something else entirely")
    else:
        outside = tmp_path / "outside.mp4"
        outside.write_bytes(b"the film of v1")
        film.unlink()
        film.symlink_to(outside)
    assert verified_film(run, 1) is None and film_damaged(run, 1)  # a revision rebuilds it from the cache first
    assert keep_film(run, 1) is None and not (run / "film.v1.mp4").exists()
    plan = current_plan(run)
    new_version(run, plan, plan.model_copy(update={"title": "Another"}), "rename it", ["title: Another"])
    assert not (run / "film.v1.mp4").exists() and load_history(run).get(1).film_sha256 is None


def test_versions_are_files_of_their_own(run: Path):
    films = next((run / "films").iterdir())
    revised(run)
    kept = run / "film.v1.mp4"
    inodes = {os.stat(p).st_ino for p in (films, run / "film.mp4", kept)}
    assert len(inodes) == 3
    with open(run / "film.mp4", "r+b") as fh:  # an in-place write to one name damages no other
        fh.write(b"XXXX")
    assert kept.read_bytes() == films.read_bytes() == b"the film of v1"


def test_history_says_a_new_film_was_made(run: Path):
    result = runner.invoke(app, ["history", str(run)])
    assert result.exit_code == 0, result.output
    assert "film.mp4  made from: 'A fox'" in result.output and "no film" not in result.output


# --- nothing written or read outside the run ----------------------------------------------------------------


def test_a_symlinked_folder_is_never_written_through(run: Path, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (run / "pages").mkdir(exist_ok=True)
    (run / "pages" / "p01").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InputError, match="is a symbolic link to a folder"):
        check_run(run)
    with pytest.raises(InputError, match="is a symbolic link: storyreel writes only inside the run"):
        RunDir(run).asset("image", {"x": 1}, "pages/p01/image-{key}.png", lambda p: p.write_bytes(b"png"))
    assert list(outside.iterdir()) == []
    result = runner.invoke(app, ["show", str(run)])
    assert result.exit_code == 2 and "symbolic link" in result.output and "Traceback" not in result.output


def test_a_manifest_path_leaving_the_run_is_never_reused(run: Path, tmp_path: Path):
    store = RunDir(run)
    made = store.asset("image", {"x": 1}, "pages/p01/image-{key}.png", lambda p: p.write_bytes(b"inside"))
    (tmp_path / "outside.png").write_bytes(b"outside")
    manifest = json.loads((run / "manifest.json").read_text())
    for record in manifest["assets"].values():
        if record["kind"] == "image":
            record["path"] = "../outside.png"
            record["sha256"] = sha256_file(tmp_path / "outside.png")
    (run / "manifest.json").write_text(json.dumps(manifest))
    again = store.asset("image", {"x": 1}, "pages/p01/image-{key}.png", lambda p: p.write_bytes(b"inside"))
    assert again == made and again.read_bytes() == b"inside"  # regenerated inside, never read from outside
    assert (tmp_path / "outside.png").read_bytes() == b"outside"
    with pytest.raises(InputError, match="not a path inside the run"):
        store.asset("image", {"x": 2}, "../escape-{key}.png", lambda p: p.write_bytes(b"x"))


def test_a_symlinked_asset_file_is_regenerated_not_followed(run: Path, tmp_path: Path):
    store = RunDir(run)
    made = store.asset("image", {"x": 1}, "pages/p01/image-{key}.png", lambda p: p.write_bytes(b"inside"))
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"inside")  # the same bytes: a hash check alone would pass
    made.unlink()
    made.symlink_to(outside)
    again = store.asset("image", {"x": 1}, "pages/p01/image-{key}.png", lambda p: p.write_bytes(b"new"))
    assert not again.is_symlink() and again.read_bytes() == b"new" and outside.read_bytes() == b"inside"


# --- damaged state files: one line, exit 2, never a traceback -------------------------------------------------

DAMAGE = {
    "garbage": b"{not json",
    "not-utf8": b"\xff\xfe\x00{",
    "wrong-schema": b'{"pages": "many", "version": "x"}',
    "a-list": b"[1, 2, 3]",
    "empty": b"",
    "deep": b"[" * 100_000,
}


@pytest.mark.parametrize("name", ["plan.json", "config.json", "manifest.json", "history.json"])
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_state_file_is_one_line_exit_2(run: Path, name: str, damage: str):
    revised(run)  # a history.json to damage
    (run / name).write_bytes(DAMAGE[damage])
    for command in (["show", str(run)], ["history", str(run)], ["revert", str(run), "1"], ["make", "--run", str(run)]):
        result = runner.invoke(app, command)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert result.exit_code == 2, (command, result.output, result.exception)
        assert len(lines) == 1 and name in lines[0] and "damaged" in lines[0], (command, result.output)


@pytest.mark.parametrize("name", ["plan.json", "config.json", ".run.lock", ".manifest.lock", "history.json"])
def test_a_state_file_that_is_a_symlink_is_refused(run: Path, tmp_path: Path, name: str):
    target = tmp_path / f"elsewhere-{name}"
    if (run / name).exists():
        target.write_bytes((run / name).read_bytes())
        (run / name).unlink()
    (run / name).symlink_to(target)
    result = runner.invoke(app, ["history", str(run)])
    assert result.exit_code == 2 and "symbolic link" in result.output and "Traceback" not in result.output
    with pytest.raises(InputError, match="symbolic link"):
        check_run(run)


def test_saved_config_of_a_damaged_run_is_an_input_error(run: Path):
    (run / "config.json").write_text('{"video": {"fps": 100000}}')
    with pytest.raises(InputError, match="config.json is damaged"):
        saved_config(run)


def test_partial_files_of_killed_runs_are_cleaned(run: Path):
    (run / "pages" / "p01").mkdir(parents=True, exist_ok=True)
    stale = [run / "pages" / "p01" / ".image-abc.1234abcd.partial.png", run / ".film.99999999.partial.mp4"]
    for path in stale:
        path.write_bytes(b"half")
    folder = run / "clips" / ".frames.deadbeef.partial"
    folder.mkdir(parents=True)
    (folder / "0001.png").write_bytes(b"half")
    assert clean_partials(run) == 3
    assert not any(p.exists() for p in [*stale, folder]) and (run / "plan.json").is_file()


# --- user pictures: decoded whole, with a pixel limit --------------------------------------------------------


def test_user_pictures_are_decoded_whole_before_any_work(tmp_path: Path):
    good = tmp_path / "good.png"
    Image.new("RGB", (64, 48), (1, 2, 3)).save(good)
    assert check_picture(str(good), "page image") == good.resolve()
    broken = tmp_path / "broken.png"
    broken.write_bytes(good.read_bytes()[:-30])  # a cut stream: its header still reads
    big = tmp_path / "bomb.png"
    side = int(MAX_PIXELS**0.5) + 10
    Image.new("1", (side, side)).save(big)  # a small file of too many pixels
    for file, message in (
        (broken, "is not a picture PIL can read"),
        (big, "megapixels"),
        (tmp_path / "missing.png", "does not exist"),
        ("~no-such-user-here/x.png", "no such user"),
    ):
        with pytest.raises(InputError, match=message):
            check_picture(str(file), "page image")


def test_make_copies_page_images_into_the_run(tmp_path: Path, scripted):
    from storyreel.flows.make_film import prepare

    drawing = tmp_path / "drawing.png"
    Image.new("RGB", (60, 40), (200, 40, 40)).save(drawing)
    config, _ = load_config("sketch", [scripted(story_answers(pages=2))], environ={})
    run_dir, brief, _, _ = prepare(
        "A fox", 2, None, None, None, [], str(tmp_path / "runs"), None, None, config, {1: str(drawing)}
    )
    copy = Path(brief.page_images[1])
    assert copy.parent == run_dir / "inputs" and copy.read_bytes() == drawing.read_bytes()


def test_history_lists_a_picture_only_revision_by_what_it_did(run: Path):
    plan = current_plan(run)
    change = "page 1: illustration: your picture p01-1a2b3c4d-drawing.png"
    new_version(run, plan, plan.model_copy(update={"title": "Another"}), "", [change])
    lines = runner.invoke(app, ["history", str(run)]).output.splitlines()
    assert lines[1].startswith("v2 ") and f"revised from v1: {change} (1 change)" in lines[1], lines


def test_long_input_is_never_echoed_whole(run: Path):
    long = "x" * 50_000
    result = runner.invoke(app, ["revise", str(run), long])
    assert result.exit_code == 2 and len(result.output) < 400 and "50,000 characters" in result.output
    result = runner.invoke(app, ["make", "a fox", "--set", f"story.style={long}", "--out", str(run.parent)])
    assert result.exit_code == 2 and len(result.output) < 400, result.output
