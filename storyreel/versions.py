"""Versions of a run: each revision is a new plan version, and each version keeps its film.

```
plan.json            the current plan (its ``version`` says which)
plans/plan.vN.json   every version of the plan, never overwritten
film.vN.mp4          the film of version N: a hard link to films/film-<key>.mp4 (no copy)
film.mp4             the current film
plans/timeline.vN.json, plans/subtitles.vN.srt   the timing of version N, so a revert is instant
history.json         per version: the request that made it, when, its film; and the reverts
```

A revision is numbered, saved and recorded by ``new_version`` (before its film is made) and
``record_film`` (after). Nothing here generates anything: ``revert`` puts an earlier version's files back
in place, and only when one of them is missing or damaged does it ask the make-film flow to rebuild from
the asset cache (which redoes only what is not cached). No Prefect here: the CLI's ``history`` and
``revert`` start fast.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from storyreel.errors import InputError
from storyreel.plan import StoryPlan
from storyreel.store import link_or_copy, sha256_file, write_bytes, write_json, write_text

HISTORY = "history.json"


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
    if not path.is_file():
        raise InputError(f"{run} has no plan.json: not a storyreel run directory, or its story was never written")
    return StoryPlan.load(path)


def next_version(run: Path) -> int:
    """The number of the next version: one more than any version the run has had (reverts included)."""
    numbers = list(plan_versions(run)) + [current_plan(run).version]
    return max(numbers) + 1


def load_history(run: Path) -> History:
    """The run's history; versions it does not record (the first one, made before any revision) are read
    from their plan files."""
    path = run / HISTORY
    history = History.model_validate_json(path.read_text(encoding="utf-8")) if path.is_file() else History()
    for number, file in plan_versions(run).items():
        if history.get(number) is None:
            plan = StoryPlan.load(file)
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


def keep_film(run: Path, version: int) -> str | None:
    """Keep the current film and timing as version ``version``'s: ``film.vN.mp4`` (a hard link to the film,
    made once, never replaced), ``plans/timeline.vN.json`` and ``plans/subtitles.vN.srt``. Returns the
    film's sha256, or None when the run has no film yet."""
    film = run / "film.mp4"
    if not film.is_file():
        return None
    kept = run / film_name(version)
    if not kept.exists():
        link_or_copy(film, kept)
    for name, copy in (("timeline.json", f"timeline.v{version}.json"), ("subtitles.srt", f"subtitles.v{version}.srt")):
        if (run / name).is_file() and not (run / "plans" / copy).exists():
            write_bytes(run / "plans" / copy, (run / name).read_bytes())
    return sha256_file(kept)


def _keep_version(run: Path, history: History, version: int) -> None:
    """Keep the current film as version ``version``'s (``keep_film``) and record it in ``history``, if the
    version has no film recorded yet."""
    sha = keep_film(run, version)
    entry = history.get(version)
    if entry is not None and sha and not entry.film_sha256:
        history.put(entry.model_copy(update={"film": film_name(version), "film_sha256": sha}))


def new_version(run: Path, current: StoryPlan, revised: StoryPlan, request: str, changes: list[str]) -> Version:
    """Number ``revised`` as the run's next version, keep the film of ``current`` as ``film.vN.mp4``, save
    the new plan (``plans/plan.vN.json``, ``plan.json``, ``story.md``) and record the version in the history
    (under the run lock). Returns the new version's entry; ``record_film`` completes it once its film is made.

    Args:
        run: the run directory.
        current: the plan the revision starts from (the current one).
        revised: the revised plan (its ``version`` is set here).
        request: the revision request, in the user's words.
        changes: what changed, page by page (``diff_plans``).
    """
    from storyreel.store import RunDir

    version = next_version(run)
    history = load_history(run)
    with RunDir(run).locked():
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
    sha = keep_film(run, entry.version) if film else None
    entry = entry.model_copy(
        update={"film": film_name(entry.version) if sha else None, "film_sha256": sha, "redone": made, "reused": reused}
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
    if versioned.exists():
        if StoryPlan.load(versioned) != plan:
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
    byte. When its film is not intact on disk, the make-film flow rebuilds it from the asset cache (and
    regenerates only what is missing). Nothing is deleted: later versions stay, and ``history.json``
    records the revert.

    Raises:
        InputError: the run has no such version.
    """
    from storyreel.store import RunDir

    run = Path(run).resolve()
    versions = plan_versions(run)
    current = current_plan(run)
    if version not in versions:
        known = ", ".join(str(n) for n in versions) or "none"
        raise InputError(f"{run.name} has no version {version}; its versions: {known} (storyreel history {run})")
    history = load_history(run)
    # 1. keep what is current now, so the revert itself loses nothing
    if current.version in versions:
        _keep_version(run, history, current.version)
    plan = StoryPlan.load(versions[version])
    entry = history.get(version)
    film = run / film_name(version)
    timing = [run / "plans" / f"timeline.v{version}.json", run / "plans" / f"subtitles.v{version}.srt"]
    intact = film.is_file() and all(p.is_file() for p in timing)
    if intact and entry is not None and entry.film_sha256:
        intact = sha256_file(film) == entry.film_sha256
    # 2. put the version's files back (the fast way: nothing is generated)
    with RunDir(run).locked():
        save_plan(run, plan)
        if intact:
            write_bytes(run / "timeline.json", timing[0].read_bytes())
            write_bytes(run / "subtitles.srt", timing[1].read_bytes())
            link_or_copy(film, run / "film.mp4")
    restored = Restored(version=version, film=str(run / "film.mp4") if intact else None, rebuilt=not intact)
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


def describe(run: Path) -> tuple[History, int]:
    """The history and the current version, for ``storyreel history``."""
    run = Path(run)
    return load_history(run), current_plan(run).version
