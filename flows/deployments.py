"""Deployments: a film on a schedule, one prompt of a list per run; revisions on demand.

- ``film-from-list/film-from-list``: the flow ``film-from-list`` (``storyreel.flows.deployments.film_from_list``)
  reads a prompt list, picks the next prompt and runs the ``make-film`` flow on it as a subflow, which runs its
  tasks on the task runner the config asks for (``run.task_runner``: thread, dask or ray). Cron, interval or
  RRule schedules. Its runs are tagged ``scheduled``; the subflow run is named after its run folder.
- ``revise-film/revise-film``: the revision flow (``storyreel.flows.revise.revise_film``), run on demand with
  its parameters; defined here once that module exists.

Each deployment has the name of the flow it runs, so the name in ``prefect deployment run <flow>/<deployment>``,
the flow in the UI and the deployment are one word.

Prefect schedules, queues and runs them: ``deploy(...)`` registers the deployments with a Prefect server
for the workers of a work pool (``prefect worker start --pool storyreel``), ``serve`` runs them from this
process. Both need a real server (``prefect server start`` or Prefect Cloud): Prefect's temporary local
server has no scheduler. Entrypoints are module paths, so any machine with storyreel installed can run them.

Prompt rotation (``rotation``):

- ``next`` (default): each run takes the next prompt of the list and wraps around; the count lives in
  ``<out>/.storyreel-rotation.json`` under a file lock, so concurrent runs get different prompts, a missed
  run skips nothing, and a retried flow run (the same flow run id) gets the same prompt again. Workers on
  several machines share the rotation when ``out`` is a shared folder.
- ``by-date``: the prompt of the scheduled day (the UTC date of the run's scheduled start), the same on
  every machine with no shared state; a missed day's prompt is skipped.

After each full pass through the list the seed moves on by one, so the next pass makes new films.
"""

from __future__ import annotations

import datetime
import json
import re
import time
import zoneinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from filelock import FileLock
from prefect import flow, tags
from prefect.deployments.runner import EntrypointType
from prefect.schedules import Cron, Interval, RRule, Schedule

from storyreel.config import load_config
from storyreel.errors import InputError
from storyreel.flows.make_film import FilmResult, make_film, name_run
from storyreel.store import write_json

if TYPE_CHECKING:
    from uuid import UUID

    from prefect.deployments.runner import RunnerDeployment

DEFAULT_POOL = "storyreel"
FILM_DEPLOYMENT = "film-from-list"  # the name of the flow it runs
REVISE_DEPLOYMENT = "revise-film"
# `storyreel serve` registers its deployments under names of their own: Prefect pauses what a served process
# registered when it stops, and a served deployment replaces the job variables of one of the same name, so
# sharing deploy's names would leave deploy's paused, without its working_dir, until deployed again.
SERVED_SUFFIX = "-served"
ROTATION_FILE = ".storyreel-rotation.json"
ROTATIONS = ("next", "by-date")
Rotation = Literal["next", "by-date"]
_REMEMBERED_RUNS = 500  # flow runs whose pick is kept, so that a retry gets the same prompt


# --- the prompt list and its rotation -----------------------------------------------------------


def read_prompts(path: str | Path) -> list[str]:
    """The prompts of a list file: one per line; blank lines and ``#`` comments are skipped."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"prompt list {file} does not exist: give a text file with one story idea per line")
    prompts = [line.strip() for line in file.read_text(encoding="utf-8").splitlines()]
    prompts = [p for p in prompts if p and not p.startswith("#")]
    if not prompts:
        raise InputError(f"prompt list {file} has no prompts: write one story idea per line")
    return prompts


def pick_prompt(
    prompts: list[str],
    out: str | Path,
    rotation: Rotation = "next",
    run_key: str = "",
    when: datetime.datetime | None = None,
) -> tuple[int, int]:
    """Pick the prompt of this run: returns ``(index into prompts, pass through the list)``.

    Args:
        prompts: the list (not empty).
        out: the output folder; ``next`` keeps its count there.
        rotation: ``next`` (a shared counter) or ``by-date`` (the date of ``when``).
        run_key: the flow run id; the same key gets the same pick (a retried run redoes its own prompt).
        when: the run's scheduled start (``by-date``); default now.
    """
    if not prompts:
        raise InputError("the prompt list is empty")
    if rotation == "by-date":
        day = (when or datetime.datetime.now(datetime.UTC)).astimezone(datetime.UTC).date().toordinal()
        return day % len(prompts), day // len(prompts)
    if rotation != "next":
        raise InputError(f"rotation must be one of {', '.join(ROTATIONS)}, got {rotation!r}")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    state_file = folder / ROTATION_FILE
    with FileLock(str(folder / f"{ROTATION_FILE}.lock"), timeout=60):
        state: dict[str, Any] = {"taken": 0, "runs": {}}
        if state_file.exists():
            state = json.loads(state_file.read_text(encoding="utf-8"))
        if run_key and run_key in state["runs"]:
            taken = state["runs"][run_key]["taken"]
        else:
            taken = state["taken"]
            state["taken"] = taken + 1
            if run_key:
                state["runs"][run_key] = {"taken": taken, "at": round(time.time(), 3)}
                state["runs"] = dict(list(state["runs"].items())[-_REMEMBERED_RUNS:])
            write_json(state_file, state)
    return taken % len(prompts), taken // len(prompts)


# --- the flow a schedule runs --------------------------------------------------------------------


@flow(name="film-from-list", persist_result=False, validate_parameters=True, log_prints=False)
def film_from_list(
    prompts_file: str = "",
    prompts: list[str] | None = None,
    rotation: Rotation = "next",
    profile: str | None = None,
    pages: int | None = None,
    style: str | None = None,
    seed: int | None = None,
    settings: list[str] | None = None,
    out: str | None = None,
) -> FilmResult:
    """Make the film of the next prompt of a list (one scheduled run, one film).

    Args:
        prompts_file: a text file, one prompt per line (read at each run, so it can be edited).
        prompts: the prompts themselves, when there is no file (e.g. in a container).
        rotation: ``next`` (default: a counter in the output folder) or ``by-date`` (the scheduled day).
        profile: auto (default), preview, sketch, tiny or gpu.
        pages: pages per film; default from the config.
        style: visual style; default from the config.
        seed: base seed; default the config's, moved on by one after each pass through the list.
        settings: ``section.key=value`` overrides (``run.task_runner=dask`` renders pages in parallel).
        out: folder for the run directories (and the rotation count); default ``run.out``.
    """
    from prefect.logging import get_run_logger
    from prefect.runtime import flow_run

    # 1. The list (re-read at every run) and the config
    items = read_prompts(prompts_file) if prompts_file else [p.strip() for p in prompts or [] if p.strip()]
    if not items:
        raise InputError("give a prompt list: prompts_file (one prompt per line) or prompts")
    config, note = load_config(profile, settings)
    folder = out or config.run.out

    # 2. This run's prompt
    index, lap = pick_prompt(items, folder, rotation, run_key=flow_run.get_id() or "", when=_scheduled_start())
    # its run is named after the list and the pick (bedtime-prompt3of7), its film's run after the run folder
    stem = re.sub(r"[^a-z0-9]+", "-", Path(prompts_file).stem.lower()).strip("-") if prompts_file else ""
    name_run(f"{stem or 'prompts'}-prompt{index + 1}of{len(items)}", config.profile, kind="scheduled")
    get_run_logger().info("prompt %d of %d (pass %d): %s; %s", index + 1, len(items), lap + 1, items[index], note)

    # 3. The film, as a subflow (on the task runner its config asks for), tagged as a scheduled film
    with tags("scheduled"):
        return make_film(
            prompt=items[index],
            pages=pages,
            style=style,
            seed=config.story.seed + lap if seed is None else seed,
            out=str(folder),
            config=config,
        )


def _scheduled_start() -> datetime.datetime | None:
    from prefect.runtime import flow_run

    start = flow_run.get_scheduled_start_time()
    return start if isinstance(start, datetime.datetime) else None


# --- deployments -----------------------------------------------------------------------------------


def schedule_from(
    cron: str | None = None,
    interval: float | None = None,
    rrule: str | None = None,
    timezone: str | None = None,
) -> Schedule | None:
    """One schedule from a cron string, an interval in seconds or an RRule; None when none is given.
    A malformed one is an InputError that says which and why."""
    given = [n for n, v in (("--cron", cron), ("--interval", interval), ("--rrule", rrule)) if v is not None]
    if len(given) > 1:
        raise InputError(f"give one schedule, not {' and '.join(given)}")
    if timezone:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise InputError(f"unknown time zone {timezone!r}; use an IANA name such as Europe/Paris") from None
    try:
        if cron is not None:
            return Cron(cron, timezone=timezone)
        if rrule is not None:
            return RRule(rrule, timezone=timezone)
    except ValueError as exc:
        example = '"0 18 * * *" (every day at 18:00)' if cron is not None else '"FREQ=DAILY;BYHOUR=18;BYMINUTE=0"'
        what = "cron" if cron is not None else "RRule"
        raise InputError(f"not a valid {what} schedule: {exc}; e.g. {example}") from None
    if interval is not None:
        if interval <= 0:
            raise InputError(f"--interval must be a positive number of seconds, got {interval:g}")
        return Interval(datetime.timedelta(seconds=interval), timezone=timezone)
    return None


def film_deployment(
    prompts_file: str | Path,
    schedule: Schedule | None = None,
    rotation: Rotation = "next",
    profile: str | None = None,
    pages: int | None = None,
    settings: list[str] | None = None,
    out: str | Path | None = None,
    name: str = FILM_DEPLOYMENT,
) -> RunnerDeployment:
    """The ``film-from-list`` deployment: one film per scheduled run, prompts taken in turn from a list.

    Paths are made absolute here: a worker runs the flow in its own working directory."""
    parameters: dict[str, Any] = {"prompts_file": str(Path(prompts_file).resolve()), "rotation": rotation}
    if profile:
        parameters["profile"] = profile
    if pages is not None:
        parameters["pages"] = pages
    if settings:
        parameters["settings"] = list(settings)
    if out:
        parameters["out"] = str(Path(out).resolve())
    return film_from_list.to_deployment(
        name=name,
        schedules=[schedule] if schedule else None,
        parameters=parameters,
        description="A film from the next prompt of a list, on a schedule.",
        tags=["storyreel", "scheduled"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def revise_deployment(schedule: Schedule | None = None, name: str = REVISE_DEPLOYMENT) -> RunnerDeployment | None:
    """The ``revise-film`` deployment (revisions on demand), or None until ``storyreel.flows.revise`` exists."""
    try:
        from storyreel.flows.revise import revise_film
    except ModuleNotFoundError as exc:
        if exc.name == "storyreel.flows.revise":
            return None
        raise
    return revise_film.to_deployment(
        name=name,
        schedules=[schedule] if schedule else None,
        description="Revise a film: a change in words becomes a new plan version, then only what changed is redone.",
        tags=["storyreel", "revise"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def check_server() -> str:
    """The API URL of a Prefect server that answers; an InputError that says how to get one otherwise.

    A schedule needs a real server: without ``PREFECT_API_URL`` Prefect starts a temporary one, which has
    no scheduler and is gone when this process exits."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise InputError(
            "no Prefect server to schedule on: PREFECT_API_URL is not set, and Prefect's temporary local server "
            "cannot run schedules; start one with `prefect server start` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api (or use Prefect Cloud)"
        )
    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        reason = str(problem).splitlines()[0] if str(problem) else type(problem).__name__
        raise InputError(
            f"the Prefect server at {url} does not answer ({reason}); start it with `prefect server start` "
            "or fix PREFECT_API_URL"
        )
    return url


def ensure_work_pool(name: str = DEFAULT_POOL) -> str:
    """Create a process work pool ``name`` if there is none; returns the pool's type."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            return client.read_work_pool(name).type
        except ObjectNotFound:
            pass
        template = ProcessWorker.get_default_base_job_template()
        try:
            client.create_work_pool(WorkPoolCreate(name=name, type="process", base_job_template=template))
        except ObjectAlreadyExists:  # another deploy made it meanwhile
            return client.read_work_pool(name).type
    return "process"


def deploy(
    deployments: list[RunnerDeployment], pool: str = DEFAULT_POOL, working_dir: str | Path | None = None
) -> list[UUID]:
    """Register ``deployments`` with the server for the workers of ``pool`` (a process pool is created if
    missing). A process pool's flows run in ``working_dir`` (default: here), so relative paths and a
    ``storyreel.toml`` resolve as they do for ``storyreel make``."""
    pool_type = ensure_work_pool(pool)
    ids = []
    for deployment in deployments:
        if pool_type == "process":
            deployment.job_variables = {
                "working_dir": str(Path(working_dir or Path.cwd()).resolve()),
                **(deployment.job_variables or {}),
            }
        ids.append(deployment.apply(work_pool_name=pool))
    return ids


def serve(deployments: list[RunnerDeployment], limit: int | None = None) -> None:
    """Run ``deployments`` from this process until it is stopped (Ctrl-C): their schedules and any run
    triggered from the UI or ``prefect deployment run`` execute here. On the way out Prefect's runner pauses
    what it served.

    This is ``prefect.serve`` but for signals: its runner is run by ``faults.run_async``, so Ctrl-C cancels
    the runner's main task, as asyncio's own handling would, and the pause on the way out runs to its end.
    (Raised inside the loop's ``select``, storyreel's ``Interrupted`` made asyncio cancel every task at once,
    the runs' task group with them, and the pause could be cancelled too: a served deployment left scheduled.)"""
    from prefect.runner import Runner

    from storyreel import faults

    runner = Runner(pause_on_shutdown=True, limit=limit)
    for deployment in deployments:
        runner.add_deployment(deployment)
    faults.run_async(runner.start())
