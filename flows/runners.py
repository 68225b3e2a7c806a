"""Task runners: where the tasks of one film run, chosen by ``run.task_runner``.

- ``thread`` (default): a thread pool in the flow's own process, ``run.max_workers`` tasks at once.
- ``dask``: prefect-dask's ``DaskTaskRunner``: the scheduler at ``run.dask_address``, or a temporary local
  cluster of ``run.dask_workers`` processes. The pages of one film render in parallel across the workers.
- ``ray``: prefect-ray's ``RayTaskRunner``: the cluster at ``run.ray_address``, or a local Ray.

Which worker runs which task does not change the film: tasks pass paths and small records, every asset
is keyed by its spec and written through the run directory's manifest (guarded by a file lock), and the
made/reused counts are kept in the run directory, not in one process's memory.

Usage::

    config, _ = load_config("preview", ["run.task_runner=dask"])
    with_task_runner(make_film, config)(prompt="A fox", config=config)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prefect import Flow
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from pydantic import ValidationError

from storyreel.config import Config, check_backends, explain_validation, parse_sets
from storyreel.errors import BackendError, ConfigError, InputError


def task_runner(config: Config) -> TaskRunner:
    """A fresh task runner for ``config.run``; a missing package is a BackendError that says what to install."""
    run = config.run
    if run.task_runner == "thread":
        return ThreadPoolTaskRunner(max_workers=run.max_workers)
    if run.task_runner == "dask":
        try:
            from storyreel.flows.runner_dask import FilmDaskTaskRunner
        except ImportError as exc:
            raise BackendError(
                f"run.task_runner = 'dask' needs prefect-dask and dask.distributed ({exc.name} is missing): "
                "pip install 'storyreel[dask]'"
            ) from None
        if run.dask_address:
            return FilmDaskTaskRunner(address=run.dask_address)
        return FilmDaskTaskRunner(
            cluster_kwargs={
                "n_workers": run.dask_workers,
                "threads_per_worker": 1,  # one task per process: a worker holds one model at a time
                "processes": True,
                "host": "127.0.0.1",  # a local cluster listens on this machine only
                "dashboard_address": None,  # no web server on a port nobody asked for
            }
        )
    if run.task_runner == "ray":
        try:
            from prefect_ray import RayTaskRunner
        except ImportError as exc:
            raise BackendError(
                f"run.task_runner = 'ray' needs prefect-ray ({exc.name} is missing): pip install 'storyreel[ray]'"
            ) from None
        if run.ray_address:
            return RayTaskRunner(address=run.ray_address)
        return RayTaskRunner(init_kwargs={"include_dashboard": False})  # a local Ray, no dashboard server
    raise ConfigError(f"unknown run.task_runner {run.task_runner!r}; choose thread, dask or ray")


def with_task_runner(flow: Flow[Any, Any], config: Config) -> Flow[Any, Any]:
    """``flow`` with the task runner that ``config.run`` asks for (Prefect fixes it when a flow starts)."""
    return flow.with_options(task_runner=task_runner(config))


def saved_config(run_dir: Path, settings: list[str] | None = None) -> Config:
    """The config a run was made with, ``section.key=value`` settings on top (as ``make_film`` resumes it)."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise InputError(f"{run_dir} is not a storyreel run directory (no config.json)")
    data = json.loads(path.read_text(encoding="utf-8"))
    for section, values in parse_sets(settings or []).items():
        data[section] = {**data.get(section, {}), **values}
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(explain_validation(exc)) from None
    check_backends(config)
    return config
