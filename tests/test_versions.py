"""Version bookkeeping: a revision is numbered, saved and recorded, and its film kept, by storyreel.versions."""

from __future__ import annotations

from pathlib import Path

from storyreel.config import load_config
from storyreel.flows.make_film import plan_story
from storyreel.plan import Brief
from storyreel.store import RunDir, copy_file
from storyreel.versions import current_plan, load_history, mark_film, new_version, record_film

from .conftest import story_answers  # noqa: TID252


def made_film(run: Path, content: bytes, version: int) -> None:
    """What the make-film flow does once a film is assembled: the film asset, copied to film.mp4, marked."""
    path = RunDir(run).asset(
        "film", {"content": content.decode()}, "films/film-{key}.mp4", lambda p: p.write_bytes(content)
    )
    copy_file(path, run / "film.mp4")
    assert mark_film(run, version)


def test_a_revision_is_numbered_saved_recorded_and_keeps_both_films(tmp_path: Path, scripted):
    config, _ = load_config("sketch", [scripted(story_answers(pages=2))], environ={})
    run = tmp_path
    plan = plan_story.fn(str(run), Brief(prompt="A fox", pages=2), config)
    made_film(run, b"the film of v1", 1)
    (run / "timeline.json").write_text("{}", encoding="utf-8")

    # before the new film is made: v1's film is kept, v2's plan is saved and recorded
    entry = new_version(run, plan, plan.model_copy(update={"title": "Another"}), "rename it", ["title: Another"])
    assert (entry.version, entry.based_on, entry.action, entry.film) == (2, 1, "revise", None)
    assert current_plan(run).version == 2 and current_plan(run).title == "Another"
    assert (run / "plans" / "plan.v2.json").is_file() and (run / "plans" / "timeline.v1.json").is_file()
    assert (run / "film.v1.mp4").read_bytes() == b"the film of v1"
    history = load_history(run)
    assert history.get(1).film == "film.v1.mp4" and history.get(1).film_sha256
    assert history.get(2).request == "rename it" and history.get(2).changes == ["title: Another"]

    # after: v2's film is kept beside v1's, with the counts
    made_film(run, b"the film of v2", 2)
    done = record_film(run, entry, made=3, reused=9)
    assert (done.film, done.redone, done.reused) == ("film.v2.mp4", 3, 9)
    assert load_history(run).get(2) == done
    assert (run / "film.v2.mp4").read_bytes() == b"the film of v2"
    assert (run / "film.v1.mp4").read_bytes() == b"the film of v1"
    assert new_version(run, current_plan(run), current_plan(run), "again", ["x"]).version == 3
