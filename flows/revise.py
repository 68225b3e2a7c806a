"""The revise-film flow: a request in plain words in, a new version of the film out, redoing only what the
change touches.

Steps: the reviser agent turns the request into edits of the current plan (``storyreel.agents.reviser``);
the edits make a new plan version (``plans/plan.vN.json``; the film of the version before is kept as
``film.vN.mp4``); the make-film flow runs on the same run directory, where the asset keys decide what is
redone: an asset whose spec (prompt, seed, backend, options, upstream files) did not change is reused.
What was understood is said page by page (``progress.note``) before anything is rendered; a dry run stops
there. The report says what changed, page by page, and what was redone and reused, per page.

Entrypoint for deployments: ``storyreel.flows.revise.revise_film``.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, tags
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from pydantic import BaseModel, Field

from storyreel import faults, progress
from storyreel.config import Config, saved_config
from storyreel.edits import Revision, apply_edits, diff_plans, with_page_images
from storyreel.flows.make_film import agent_task, make_film, name_run
from storyreel.limits import MAX_REQUEST, check_text, shown
from storyreel.page_images import copy_page_images
from storyreel.plan import StoryPlan
from storyreel.store import AssetEvent, RunDir, check_run
from storyreel.versions import current_plan, new_version, next_version, rebuild_current_film, record_film


class PageReport(BaseModel):
    """What one page (or a transition, or the whole-film assets) had redone and reused."""

    where: str = Field(description="page 3, transition 2-3, or whole film")
    page: int | None = Field(None, description="the page (a transition: the page it leaves); None: the whole film")
    transition: bool = False
    redone: list[str] = Field(default_factory=list, description="kinds of the assets redone")
    reused: list[str] = Field(default_factory=list, description="kinds of the assets reused")


class RevisionResult(BaseModel):
    run_dir: str
    request: str
    changed: bool
    dry_run: bool = Field(False, description="the request was understood and nothing was written")
    message: str = Field("", description="why nothing changed, or what could not be done")
    previous: int = Field(description="the plan version the revision started from")
    version: int = Field(description="the plan version now current")
    changes: list[str] = Field(
        default_factory=list, description="what changed in the plan (or would, in a dry run), page by page"
    )
    film: str | None = None
    film_version: str | None = Field(None, description="film.vN.mp4 of the new version")
    made: int = 0
    reused: int = 0
    seconds: float = 0.0
    pages: list[PageReport] = Field(default_factory=list)


# --- tasks ---------------------------------------------------------------------------------------


@agent_task("understand-request")
def understand(request: str, plan: StoryPlan, config: Config) -> Revision:
    """The reviser agent: the edits the request asks of the plan, checked against it."""
    from storyreel.agents.providers import agent_model
    from storyreel.agents.reviser import understand_request

    # the offline model reads the common requests by rules; it is loaded only to rewrite a page
    return understand_request(agent_model(config.llm), request, plan, config.llm)


def report_by_page(events: list[AssetEvent]) -> list[PageReport]:
    """Assets redone and reused, grouped by the page (or transition) they belong to, in film order; the
    music, stems, mix and film under "whole film" last."""
    rows: dict[tuple[int, int], PageReport] = {}
    for event in events:
        if event.page is None:
            order, row = (1, 0), PageReport(where="whole film")
        elif event.transition:
            where = f"transition {event.page}-{event.page + 1}"
            order, row = (0, event.page * 2 + 1), PageReport(where=where, page=event.page, transition=True)
        else:
            order, row = (0, event.page * 2), PageReport(where=f"page {event.page}", page=event.page)
        row = rows.setdefault(order, row)
        (row.redone if event.which == "made" else row.reused).append(event.kind)
    return [rows[k] for k in sorted(rows)]


def describe_kinds(kinds: list[str]) -> str:
    """'narration, keyframes, 2 sfx': kinds with their counts, for reports."""
    counts = Counter(kinds)
    return ", ".join(f"{n} {kind}" if n > 1 else kind for kind, n in counts.items()) or "-"


# --- the flow ------------------------------------------------------------------------------------


@flow(name="revise-film", persist_result=False, validate_parameters=True, log_prints=False)
def revise_film(
    run_dir: str,
    request: str = "",
    page_images: dict[int, str] | None = None,
    settings: list[str] | None = None,
    dry_run: bool = False,
) -> RevisionResult:
    """Revise the film in ``run_dir`` as ``request`` asks, redoing only what the change touches.

    Args:
        run_dir: a run directory made by ``make-film``.
        request: what to change, in plain words ("make the dragon green", "page 3 should happen at the
            beach, and make the music calmer"); page numbers are those of the current version.
        page_images: page number -> your own picture, used as that page's illustration (copied into the run).
        settings: ``section.key=value`` overrides, e.g. ``llm.model=ollama:llama3.1`` for the reviser.
        dry_run: stop once the request is understood: say what would change, page by page, write nothing.
    """
    started = time.perf_counter()
    check_text(request, "the request", MAX_REQUEST)
    run = Path(run_dir).resolve()
    check_run(run)
    faults.working_on(run)  # for the interrupt line and an error's log file
    with RunDir(run).holding():  # the versions are this revision's until it is done: a revert meanwhile is refused
        return _revise(run, request, page_images, settings, dry_run, started)


def _revise(
    run: Path,
    request: str,
    page_images: dict[int, str] | None,
    settings: list[str] | None,
    dry_run: bool,
    started: float,
) -> RevisionResult:
    """The revision's steps, under the run's lock (``revise_film``)."""
    # 1. The run: its config (``--set`` on top, as a resumed make-film merges it) and current plan
    config = saved_config(run, settings)
    plan = current_plan(run)
    name_run(f"{run.name}-revise", config.profile, kind="revise")
    progress.note(f"revising {run} (plan v{plan.version}): {shown(request) if request else '(no request)'}")

    # 2. The reviser agent: the request as edits of the plan (a page that does not exist is refused here)
    revision = understand(request, plan, config)

    # 3. The new plan: the user's pictures, then the edits; what changed, page by page
    revised = plan
    if page_images:
        if dry_run:  # nothing is copied into the run
            from storyreel.page_images import check_page_images

            revised = with_page_images(plan, check_page_images(page_images, len(plan.pages)))
        else:
            revised = with_page_images(plan, copy_page_images(run, page_images, len(plan.pages)))
    revised = apply_edits(revised, revision.edits)
    changes = diff_plans(plan, revised)
    if not changes:
        why = "the request is empty" if not request.strip() and not page_images else "the film already is as asked"
        message = f"nothing to change: {why}; plan v{plan.version} and its film are unchanged, nothing was redone"
        if revision.unclear:
            message += f" (not understood: {shown(revision.unclear, 200)})"
        get_run_logger().info(message)  # said once: the caller prints the result's message
        return RevisionResult(
            run_dir=str(run),
            request=request,
            changed=False,
            message=message,
            previous=plan.version,
            version=plan.version,
            film=str(run / "film.mp4") if (run / "film.mp4").is_file() else None,
            seconds=round(time.perf_counter() - started, 1),
        )

    # 4. What was understood, page by page, said before anything is rendered; a dry run stops here
    progress.note(f"understood (plan v{plan.version} → v{next_version(run)}):")
    for line in changes:
        progress.note(f"  {line}")
    if revision.unclear:
        progress.note(f"not done: {shown(revision.unclear, 200)}")
    if dry_run:
        return RevisionResult(
            run_dir=str(run),
            request=request,
            changed=False,
            dry_run=True,
            message=f"dry run: nothing was written; plan v{plan.version} and its film are unchanged",
            previous=plan.version,
            version=plan.version,
            changes=changes,
            film=str(run / "film.mp4") if (run / "film.mp4").is_file() else None,
            seconds=round(time.perf_counter() - started, 1),
        )

    # 5. A new version: the film of the current one is kept as film.vN.mp4 (rebuilt from the cache first if it
    #    is damaged: only a film whose bytes the manifest vouches for is kept), the new plan is saved
    rebuild_current_film(run, plan.version, settings)
    entry = new_version(run, plan, revised, request, changes)
    version = entry.version

    # 6. The film of the new version: make-film on the same run (on the run's task runner); the asset keys
    #    decide what is redone
    with tags("revise"):  # the film's run is tagged as a revision's
        result = make_film(run=str(run), settings=settings or [])

    # 7. Keep its film as film.vN.mp4 and report what was redone and reused, page by page
    entry = record_film(run, entry, result.made, result.reused, film=bool(result.film))
    film_sha = entry.film_sha256
    pages = report_by_page(RunDir(run).events())
    seconds = round(time.perf_counter() - started, 1)
    _artifacts(run, request, plan.version, version, changes, pages, result.made, result.reused, seconds)
    return RevisionResult(
        run_dir=str(run),
        request=request,
        changed=True,
        message=f"not done: {shown(revision.unclear, 200)}" if revision.unclear else "",
        previous=plan.version,
        version=version,
        changes=changes,
        film=result.film,
        film_version=str(run / f"film.v{version}.mp4") if film_sha else None,
        made=result.made,
        reused=result.reused,
        seconds=seconds,
        pages=pages,
    )


def _artifacts(
    run: Path,
    request: str,
    previous: int,
    version: int,
    changes: list[str],
    pages: list[PageReport],
    made: int,
    reused: int,
    seconds: float,
) -> None:
    """The changes as markdown and the assets redone and reused per page as a table, in Prefect's UI."""
    lines = [f"# {run.name}: v{previous} → v{version}", "", f"> {request}", "", "## Changes", ""]
    lines += [f"- {line}" for line in changes]
    lines += ["", f"Redid {made} of {made + reused} assets in {seconds:.0f} s; reused {reused}."]
    create_markdown_artifact(markdown="\n".join(lines) + "\n", key="revision", description=f"v{version}: {request}")
    rows: list[dict[str, Any]] = [
        {
            "where": p.where,
            "redone": describe_kinds(p.redone),
            "reused": describe_kinds(p.reused),
            "redone_count": len(p.redone),
            "reused_count": len(p.reused),
        }
        for p in pages
    ]
    if rows:
        create_table_artifact(table=rows, key="revision-assets", description=f"assets redone and reused for v{version}")
