"""Versions under real damage, on a real (sketch) film: a damaged current film is rebuilt from the asset cache
before it is kept as a version, and revert never puts back a damaged version (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyreel import make_film
from storyreel.flows.revise import revise_film
from storyreel.store import RunDir, sha256_file
from storyreel.versions import load_history, revert

from .conftest import story_answers  # noqa: TID252

OFFLINE = "llm.model=offline"
pytestmark = pytest.mark.slow  # a sketch film and two revisions: about a minute here


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    answers = tmp_path_factory.mktemp("llm") / "story.json"
    answers.write_text(json.dumps(story_answers(pages=2)))
    out = tmp_path_factory.mktemp("runs")
    result = make_film(
        prompt="A little dragon who is afraid of the dark",
        pages=2,
        profile="sketch",
        settings=[f"llm.model=scripted:{answers}"],
        out=str(out),
    )
    return Path(result.run_dir)


def film_records(run: Path) -> set[str]:
    return {r.sha256 for r in RunDir(run).manifest().values() if r.kind == "film"}


@pytest.mark.parametrize("damage", ["truncate", "symlink"])
def test_a_damaged_film_is_rebuilt_before_it_is_kept_and_revert_restores_the_real_one(
    run: Path, tmp_path: Path, damage: str
):
    good = (run / "film.mp4").read_bytes()
    if damage == "truncate":
        with open(run / "film.mp4", "r+b") as fh:
            fh.truncate(5000)
    else:
        (tmp_path / "elsewhere.mp4").write_bytes(b"not this run's film")
        (run / "film.mp4").unlink()
        (run / "film.mp4").symlink_to(tmp_path / "elsewhere.mp4")
    result = revise_film(str(run), "make the music sadder", settings=[OFFLINE])
    assert result.changed and result.version == 2
    kept = run / "film.v1.mp4"
    assert not kept.is_symlink() and kept.read_bytes() == good and sha256_file(kept) in film_records(run)
    assert load_history(run).get(1).film_sha256 == sha256_file(kept)
    assert (tmp_path / "elsewhere.mp4").exists() or damage == "truncate"

    # a kept version damaged in place is rebuilt, never restored as it is
    with open(kept, "r+b") as fh:
        fh.truncate(100)
    back = revert(run, 1)
    assert back.rebuilt and back.made == 0  # everything was in the asset cache
    assert (run / "film.mp4").read_bytes() == good == kept.read_bytes()
    assert revert(run, 2).film and sha256_file(run / "film.mp4") == load_history(run).get(2).film_sha256
