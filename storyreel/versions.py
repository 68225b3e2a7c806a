"""Versions of a run: each revision is a new plan version, and each version keeps its film.

```
plan.json            the current plan (its ``version`` says which)
plans/plan.vN.json   every version of the plan, never overwritten
film.vN.mp4          the film of version N: a copy of its films/film-<key>.mp4, a file of its own
film.mp4             the current film (a copy too: an in-place write to one name never damages another)
.film.json           which version film.mp4 is, and its sha256 as the manifest recorded it
plans/timeline.vN.json, plans/subtitles.vN.srt   the timing of version N, so a revert is instant
history.json         per version: the request that made it, when, its film; and the reverts
```

A revision is numbered, saved and recorded by ``new_version`` (before its film is made) and
``record_film`` (after). A film is kept as a version only once its bytes match the manifest's sha256 and
``.film.json`` says it is that version's (a damaged current film is rebuilt from the asset cache first). What
reads or writes the versions holds the run's lock (``RunDir.holding``) for all of it. Nothing here generates
anything itself: ``revert`` puts an earlier version's files back
in place, and only when one of them is missing or damaged does it ask the make-film flow to rebuild from
the asset cache (which redoes only what is not cached). No Prefect here: the CLI's ``history`` and
``revert`` start fast.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from storyreel.errors import InputError
from storyreel.plan import StoryPlan
from storyreel.store import RunDir, copy_file, read_run_file, sha256_file, write_bytes, write_json, write_text

HISTORY = "history.json"
FILM_STATE = ".film.json"  # {"version": N, "sha256": ...}: which version film.mp4 is


class Version(BaseModel):
    """One version of a run's plan, and how it came to be."""

    model_config = ConfigDict(extra="forbid")

    version: int
    action: Literal["make", "revise"]
    request: str = Field("", description="the prompt (make) or the revision request (revise)")
    date: str = Field(description="ISO date and time the version was made")
    based_on: int | None = None
    film: str | None = Field(None, description="its film, relative to the run dir: film.vN.mp4")
    film_sha256: str | None = None
    changes: list[str] = Field(default_factory=list, description="what changed from the version it is based on")
    redone: int | None = None
    reused: int | None = None


class Revert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: str
    version: int = Field(description="the version restored")
    rebuilt: bool = Field(False, description="the film was rebuilt from the asset cache, not just put back")


class History(BaseModel):
    model_config = ConfigDict(extra="forbid")

    versions: list[Version] = Field(default_factory=list)
    reverts: list[Revert] = Field(default_factory=list)

    def get(self, version: int) -> Version | None:
        return next((v for v in self.versions if v.version == version), None)

    def put(self, entry: Version) -> None:
        self.versions = sorted(
            [v for v in self.versions if v.version != entry.version] + [entry], key=lambda v: v.version
        )


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def film_name(version: int) -> str:
    return f"film.v{version}.mp4"


def plan_file(run: Path, version: int) -> Path:
    return run / "plans" / f"plan.v{version}.json"


def plan_versions(run: Path) -> dict[int, Path]:
    """Version number -> its plan file, for every ``plans/plan.vN.json`` in the run."""
    found = {}
    for path in (run / "plans").glob("plan.v*.json"):
        if m := re.fullmatch(r"plan\.v(\d+)\.json", path.name):
            found[int(m.group(1))] = path
    return dict(sorted(found.items()))


def current_plan(run: Path) -> StoryPlan:
    """The plan in ``plan.json``; a clear error when the run has none."""
    path = run / "plan.json"
    if not path.is_file() and not path.is_symlink():
        raise InputError(f"{run} has no plan.json: not a storyreel run directory, or its story was never written")
    return load_plan_file(path)


def load_plan_file(path: Path) -> StoryPlan:
    """A plan file of the run (``plan.json``, ``plans/plan.vN.json``); an InputError saying what is wrong with
    it when it is damaged."""
    fix = "copy the version you want from plans/plan.vN.json over it" if path.name == "plan.json" else ""
    return read_run_file(path, StoryPlan.load, "a storyreel plan", fix)


def next_version(run: Path) -> int:
    """The number of the next version: one more than any version the run has had (reverts included)."""
    numbers = list(plan_versions(run)) + [current_plan(run).version]
    return max(numbers) + 1


def load_history(run: Path) -> History:
    """The run's history; versions it does not record (the first one, made before any revision) are read
    from their plan files."""
    path = run / HISTORY
    history = History()
    if path.exists() or path.is_symlink():
        fix = f"move it away (e.g. to {HISTORY}.damaged): the versions are then listed from plans/"
        history = read_run_file(path, History.model_validate_json, "a storyreel history", fix)
    for number, file in plan_versions(run).items():
        if history.get(number) is None:
            plan = load_plan_file(file)
            film = run / film_name(number)
            history.put(
                Version(
                    version=number,
                    action="make" if number == 1 else "revise",
                    request=plan.brief.prompt if number == 1 else "",
                    date=datetime.fromtimestamp(file.stat().st_mtime).astimezone().isoformat(timespec="seconds"),
                    film=film.name if film.is_file() else None,
                )
            )
    return history


def save_history(run: Path, history: History) -> None:
    write_json(run / HISTORY, history.model_dump(mode="json"))


def _film_shas(run: Path) -> set[str]:
    """The sha256 of every film the manifest records."""
    return {r.sha256 for r in RunDir(run).manifest().values() if r.kind == "film"}


def _regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def mark_film(run: Path, version: int) -> str | None:
    """Record that ``film.mp4`` (just made or restored) is version ``version``'s film; returns its sha256, or
    None (nothing recorded) when its bytes are not those of a film the manifest knows."""
    film = run / "film.mp4"
    sha = sha256_file(film) if _regular(film) else None
    if sha is None or sha not in _film_shas(run):
        (run / FILM_STATE).unlink(missing_ok=True)
        return None
    write_json(run / FILM_STATE, {"version": version, "sha256": sha})
    return sha


def _film_state(run: Path) -> dict | None:
    path = run / FILM_STATE
    if not _regular(path):
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        return state if isinstance(state, dict) and isinstance(state.get("version"), int) else None
    except (OSError, ValueError):
        return None


def verified_film(run: Path, version: int) -> str | None:
    """The sha256 of ``film.mp4`` when it is version ``version``'s film, byte for byte as the manifest recorded
    it (a regular file, not a link); None when it is missing, damaged or another version's. A run made before
    ``.film.json`` existed: its film must match a film of the manifest."""
    film = run / "film.mp4"
    if not _regular(film):
        return None
    state = _film_state(run)
    if state is not None and state["version"] != version:
        return None
    sha = sha256_file(film)
    if state is not None and state.get("sha256") != sha:
        return None
    return sha if sha in _film_shas(run) else None


def film_damaged(run: Path, version: int) -> bool:
    """Version ``version`` had its film as ``film.mp4`` (or something stands in its place), but it is not intact:
    truncated, replaced, a link. A film of another version, or none ever made, is not damaged."""
    state = _film_state(run)
    there = (run / "film.mp4").exists() or (run / "film.mp4").is_symlink()
    if state is None:
        return there and verified_film(run, version) is None
    return state["version"] == version and verified_film(run, version) is None


def rebuild_current_film(run: Path, version: int, settings: list[str] | None = None) -> None:
    """When the current version's film is damaged, make it again from the asset cache (the make-film flow on
    the run: only what is not cached is generated), so that what is kept as a version is the real film."""
    if film_damaged(run, version):
        from storyreel import progress
        from storyreel.flows.make_film import make_film

        progress.note(f"film.mp4 of v{version} is damaged: rebuilding it from the asset cache first")
        make_film(run=str(run), settings=settings or [])


def keep_film(run: Path, version: int, recorded: str | None = None) -> str | None:
    """Keep the current film and timing as version ``version``'s: ``film.vN.mp4`` (a copy, checked),
    ``plans/timeline.vN.json`` and ``plans/subtitles.vN.srt``. Only a film that ``verified_film`` vouches for is
    kept; a kept film that matches ``recorded`` (its sha256 in the history) is never replaced, a damaged one is.
    Returns the kept film's sha256, or None when the run has no intact film of that version."""
    kept = run / film_name(version)
    if recorded and _regular(kept) and sha256_file(kept) == recorded:
        return recorded
    sha = verified_film(run, version)
    if sha is None:
        return None
    if not (_regular(kept) and sha256_file(kept) == sha):
        copy_file(run / "film.mp4", kept)
        if sha256_file(kept) != sha:
            raise InputError(f"{kept} could not be written intact (is the disk full?)")
    for name, copy in (("timeline.json", f"timeline.v{version}.json"), ("subtitles.srt", f"subtitles.v{version}.srt")):
        if _regular(run / name) and not _regular(run / "plans" / copy):
            write_bytes(run / "plans" / copy, (run / name).read_bytes())
    return sha


def _keep_version(run: Path, history: History, version: int) -> None:
    """Keep the current film as version ``version``'s (``keep_film``) and record it in ``history``."""
    entry = history.get(version)
    sha = keep_film(run, version, entry.film_sha256 if entry else None)
    if entry is not None and sha and entry.film_sha256 != sha:
        history.put(entry.model_copy(update={"film": film_name(version), "film_sha256": sha}))


def new_version(run: Path, current: StoryPlan, revised: StoryPlan, request: str, changes: list[str]) -> Version:
    """Number ``revised`` as the run's next version, keep the film of ``current`` as ``film.vN.mp4``, save
    the new plan (``plans/plan.vN.json``, ``plan.json``, ``story.md``) and record the version in the history
    (under the run lock; the revise flow holds it for the whole revision). Returns the new version's entry;
    ``record_film`` completes it once its film is made.

    Args:
        run: the run directory.
        current: the plan the revision starts from (the current one).
        revised: the revised plan (its ``version`` is set here).
        request: the revision request, in the user's words.
        changes: what changed, page by page (``diff_plans``).
    """
    with RunDir(run).holding():
        version = next_version(run)
        history = load_history(run)
        _keep_version(run, history, current.version)
        save_plan(run, revised.model_copy(update={"version": version}))
        entry = Version(
            version=version, action="revise", request=request, date=now(), based_on=current.version, changes=changes
        )
        history.put(entry)
        save_history(run, history)
    return entry


def record_film(run: Path, entry: Version, made: int, reused: int, film: bool = True) -> Version:
    """Once version ``entry.version``'s film is made (``film``): keep it as ``film.vN.mp4`` with its timing,
    and record it in the history with the counts of assets ``made`` and ``reused``. Returns the entry."""
    with RunDir(run).holding():
        sha = keep_film(run, entry.version) if film else None
        entry = entry.model_copy(
            update={
                "film": film_name(entry.version) if sha else None,
                "film_sha256": sha,
                "redone": made,
                "reused": reused,
            }
        )
        history = load_history(run)
        history.put(entry)
        save_history(run, history)
    return entry


def save_plan(run: Path, plan: StoryPlan) -> None:
    """Write ``plan`` as its version (``plans/plan.vN.json``, refused if that version exists with other
    content) and as the current plan (``plan.json``, ``story.md``)."""
    from storyreel.composition import story_markdown

    text = plan.model_dump_json(indent=2)
    versioned = plan_file(run, plan.version)
    if versioned.exists() or versioned.is_symlink():
        if load_plan_file(versioned) != plan:
            raise InputError(f"{versioned} exists with another plan; versions are never overwritten")
    else:
        write_json(versioned, plan.model_dump(mode="json"))
    write_text(run / "story.md", story_markdown(plan))
    write_text(run / "plan.json", text)


class Restored(BaseModel):
    version: int
    film: str | None
    rebuilt: bool
    made: int = 0
    reused: int = 0


def revert(run: Path, version: int, settings: list[str] | None = None) -> Restored:
    """Make version ``version`` the current one again: its plan, film, timeline and subtitles, byte for
    byte (the film checked against its recorded sha256 once it is back in place; its captions and book from
    the cache). When its film is not intact
    on disk, the make-film flow rebuilds it from the asset cache (and regenerates only what is missing).
    Nothing is deleted: later versions stay, and ``history.json`` records the revert. The run's lock is held
    throughout, so a revision running meanwhile is refused, never mixed up with this.

    Raises:
        InputError: the run has no such version.
        RunLockedError: another storyreel process is working on the run.
    """
    run = Path(run).resolve()
    with RunDir(run).holding():
        versions = plan_versions(run)
        current = current_plan(run)
        if version not in versions:
            known = ", ".join(str(n) for n in versions) or "none"
            raise InputError(f"{run.name} has no version {version}; its versions: {known} (storyreel history {run})")
        # 1. keep what is current now, so the revert itself loses nothing (a damaged film is rebuilt first)
        if current.version in versions and current.version != version:
            rebuild_current_film(run, current.version, settings)
        history = load_history(run)
        if current.version in versions:
            _keep_version(run, history, current.version)
        plan = load_plan_file(versions[version])
        entry = history.get(version)
        film = run / film_name(version)
        timing = [run / "plans" / f"timeline.v{version}.json", run / "plans" / f"subtitles.v{version}.srt"]
        expected = entry.film_sha256 if entry is not None else None
        intact = _regular(film) and all(_regular(p) for p in timing)
        if intact:
            sha = sha256_file(film)
            intact = sha == expected if expected else sha in _film_shas(run)
        # 2. put the version's files back (the fast way: nothing is generated), and check what is back
        save_plan(run, plan)
        if intact:
            write_bytes(run / "timeline.json", timing[0].read_bytes())
            write_bytes(run / "subtitles.srt", timing[1].read_bytes())
            copy_file(film, run / "film.mp4")
            intact = mark_film(run, version) == (expected or sha256_file(film))
        restored = Restored(version=version, film=str(run / "film.mp4") if intact else None, rebuilt=not intact)
        if intact:
            _restore_book(run)
        # 3. or rebuild it from the cache: only what is not cached is generated
        if not intact:
            from storyreel import progress
            from storyreel.flows.make_film import make_film

            progress.note(f"v{version}'s film is not kept intact: rebuilding it from the asset cache")
            result = make_film(run=str(run), settings=settings or [])
            sha = keep_film(run, version) if result.film else None
            restored = restored.model_copy(update={"film": result.film, "made": result.made, "reused": result.reused})
            if entry is not None and sha:
                history.put(entry.model_copy(update={"film": film_name(version), "film_sha256": sha}))
        history.reverts.append(Revert(date=now(), version=version, rebuilt=not intact))
        save_history(run, history)
    return restored


def _restore_book(run: Path) -> None:
    """The restored version's captions and read-along book, from its timeline and the asset cache (nothing
    is generated; a book whose pictures or voice are gone is left as it is, with a warning)."""
    import logging

    from storyreel.book import rebuild
    from storyreel.config import saved_config
    from storyreel.timeline import Timeline, to_vtt

    log = logging.getLogger("storyreel.versions")
    try:
        timeline = Timeline.model_validate_json((run / "timeline.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        log.warning("the captions and book were not restored: timeline.json is not readable (%s)", exc)
        return
    write_bytes(run / "captions.vtt", to_vtt(timeline).encode("utf-8"))
    if saved_config(run).book.enabled:
        try:
            rebuild(run)
        except InputError as exc:
            log.warning("the book was not restored: %s", exc)


def describe(run: Path) -> tuple[History, int]:
    """The history and the current version, for ``storyreel history``: the current version's film is
    ``film.mp4`` until a revision keeps it as ``film.vN.mp4``."""
    run = Path(run)
    with RunDir(run).holding():
        history, current = load_history(run), current_plan(run).version
        entry = history.get(current)
        if entry is not None and not entry.film and verified_film(run, current):  # not kept yet: it is film.mp4
            history.put(entry.model_copy(update={"film": "film.mp4"}))
        return history, current
