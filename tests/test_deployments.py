"""Scheduled films and scale-out: deployments on a real Prefect server, a served run, the prompt rotation,
and a film made on a Dask cluster of two processes that is byte-identical to the default runner's.

The session's Prefect harness (conftest) is an ephemeral server without a scheduler; the tests that need
schedules start their own ``prefect server start`` on a loopback port with a temporary PREFECT_HOME and
point their clients (``temporary_settings``) and subprocesses (``PREFECT_API_URL``) at it explicitly.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from typer.testing import CliRunner

from storyreel import progress
from storyreel.cli import app
from storyreel.config import load_config
from storyreel.errors import BackendError, InputError
from storyreel.flows import deployments
from storyreel.flows.make_film import make_film
from storyreel.flows.runners import task_runner, with_task_runner
from storyreel.media import probe

from .conftest import story_answers  # noqa: TID252

REPO = Path(__file__).resolve().parents[1]
PROMPTS = ["A fox who wants to catch the moon", "A sleepy whale", "A shy robot at the beach"]
FILM = f"film-from-list/{deployments.FILM_DEPLOYMENT}"
SERVED_FILM = f"{FILM}{deployments.SERVED_SUFFIX}"  # storyreel serve's own name: deploy's stays as it is
runner = CliRunner()


# --- a real Prefect server, started by the tests ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess: this one without the session's Prefect settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL="WARNING", **extra)
    return env


def _wait(check, what: str, timeout: float, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def _stop(proc: subprocess.Popen) -> None:
    """Stop a process this test started (its own process group), politely first."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=40)  # storyreel serve pauses what it served first (a loaded machine: seconds)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``prefect server start`` on 127.0.0.1 with a temporary PREFECT_HOME; yields its API URL."""
    home = tmp_path_factory.mktemp("prefect-server")
    port = _free_port()
    log = open(home / "server.log", "wb")  # noqa: SIM115 - closed below
    env = _env(PREFECT_HOME=str(home), PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"

    def healthy() -> bool:
        assert proc.poll() is None, (home / "server.log").read_text(errors="replace")[-2000:]
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    try:
        _wait(healthy, "the Prefect server answering /api/health", timeout=240)  # a loaded machine: minutes
        yield url
    finally:
        _stop(proc)
        log.close()


@contextlib.contextmanager
def on(url: str | None) -> Iterator[None]:
    """Point this process's Prefect client at ``url`` (None: no server), restoring the session's after."""
    if url is None:
        with temporary_settings(restore_defaults={PREFECT_API_URL}):
            yield
    else:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield


@pytest.fixture
def prompts_file(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.txt"
    path.write_text("# bedtime\n\n" + "\n".join(PROMPTS) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def answers(tmp_path: Path) -> str:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(story_answers(pages=2)), encoding="utf-8")
    return f"llm.model=scripted:{path}"


# --- schedules and the prompt list --------------------------------------------------------------------


def test_schedules_are_checked_before_anything_is_deployed(tmp_path: Path, prompts_file: Path):
    assert deployments.schedule_from(cron="0 18 * * *", timezone="Europe/Paris").cron == "0 18 * * *"
    assert deployments.schedule_from(interval=90).interval == datetime.timedelta(seconds=90)
    assert deployments.schedule_from(rrule="FREQ=WEEKLY;BYDAY=SA").rrule == "FREQ=WEEKLY;BYDAY=SA"
    assert deployments.schedule_from() is None
    for kwargs, message in [
        ({"cron": "0 18 * * X"}, "not a valid cron schedule"),
        ({"cron": "61 * * * *"}, "not a valid cron schedule"),
        ({"rrule": "FREQ=SOMETIMES"}, "not a valid RRule schedule"),
        ({"interval": 0}, "positive number of seconds"),
        ({"cron": "0 18 * * *", "interval": 60}, "give one schedule"),
        ({"cron": "0 18 * * *", "timezone": "Mars/Olympus"}, "unknown time zone"),
    ]:
        with pytest.raises(InputError, match=message):
            deployments.schedule_from(**kwargs)
    assert deployments.read_prompts(prompts_file) == PROMPTS
    (tmp_path / "empty.txt").write_text("# nothing yet\n\n")
    with pytest.raises(InputError, match="has no prompts"):
        deployments.read_prompts(tmp_path / "empty.txt")


def _take(out: str, n: int, queue) -> None:
    queue.put([deployments.pick_prompt(PROMPTS, out, "next", run_key=f"{os.getpid()}-{i}") for i in range(n)])


def test_the_rotation_takes_turns_across_processes_and_a_retry_keeps_its_prompt(tmp_path: Path):
    out = tmp_path / "runs"
    picks = [deployments.pick_prompt(PROMPTS, out, "next", run_key=f"run-{i}") for i in range(4)]
    assert picks == [(0, 0), (1, 0), (2, 0), (0, 1)]  # successive prompts, then the next pass
    assert deployments.pick_prompt(PROMPTS, out, "next", run_key="run-1") == (1, 0)  # a retried flow run
    assert deployments.pick_prompt(PROMPTS, out, "next", run_key="run-4") == (1, 1)  # nothing was skipped

    # Concurrent runs in separate processes never get the same turn.
    shared = tmp_path / "shared"
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [context.Process(target=_take, args=(str(shared), 6, queue)) for _ in range(3)]
    for w in workers:
        w.start()
    taken = [pick for _ in workers for pick in queue.get(timeout=30)]
    for w in workers:
        w.join(timeout=30)
    turns = sorted(index + lap * len(PROMPTS) for index, lap in taken)
    assert turns == list(range(18))
    assert json.loads((shared / deployments.ROTATION_FILE).read_text())["taken"] == 18

    # by-date: the prompt of the scheduled day, the same on every machine; the next day the next one.
    day = datetime.datetime(2026, 11, 25, 18, tzinfo=datetime.UTC)
    first = deployments.pick_prompt(PROMPTS, out, "by-date", when=day)
    assert deployments.pick_prompt(PROMPTS, out, "by-date", when=day.replace(hour=23)) == first
    following = deployments.pick_prompt(PROMPTS, out, "by-date", when=day + datetime.timedelta(days=1))
    assert following[0] == (first[0] + 1) % len(PROMPTS)


# --- the CLI without a server --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "extra", "message"),
    [
        (None, [], "no Prefect server to schedule on: PREFECT_API_URL is not set"),
        ("http://127.0.0.1:{port}/api", [], "does not answer"),
        (None, ["--cron", "0 25 * * *"], "not a valid cron schedule"),
        (None, ["--prompts", "/nonexistent/prompts.txt"], "prompt list /nonexistent/prompts.txt does not exist"),
        (None, ["--rotation", "random"], "--rotation must be next or by-date"),
    ],
)
def test_deploy_and_serve_fail_with_one_clear_line(prompts_file: Path, url, extra, message):
    args = ["--prompts", str(prompts_file), "--cron", "0 18 * * *", "--profile", "sketch", *extra]
    for command in ("deploy", "serve"):
        with on(url.format(port=_free_port()) if url else None):
            result = runner.invoke(app, [command, *args])
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
        assert len([line for line in result.output.splitlines() if line.strip()]) == 1


# --- deployments on a real server ----------------------------------------------------------------------


def test_deploy_creates_scheduled_deployments_and_the_server_plans_their_runs(
    server: str, tmp_path: Path, prompts_file: Path, answers: str
):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    out = tmp_path / "films"
    args = ["--prompts", str(prompts_file), "--profile", "sketch", "--pages", "2", "--set", answers, "--out", str(out)]
    with on(server):
        result = runner.invoke(app, ["deploy", "--cron", "0 18 * * *", "--timezone", "Europe/Paris", *args])
        assert result.exit_code == 0, result.output
        assert f"deployed {FILM} to work pool 'storyreel'" in result.output
        with get_client(sync_client=True) as client:
            assert client.read_work_pool("storyreel").type == "process"  # made because it was missing
            film = client.read_deployment_by_name(FILM)
            assert film.entrypoint == "storyreel.flows.deployments.film_from_list"  # a module path
            assert film.work_pool_name == "storyreel"
            assert film.job_variables["working_dir"] == str(Path.cwd().resolve())
            assert film.parameters == {
                "prompts_file": str(prompts_file.resolve()),
                "rotation": "next",
                "profile": "sketch",
                "pages": 2,
                "settings": [answers],
                "out": str(out.resolve()),
            }
            [schedule] = film.schedules
            assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == (
                "0 18 * * *",
                "Europe/Paris",
                True,
            )
            revise_module = (REPO / "flows" / "revise.py").exists()
            names = {d.name for d in client.read_deployments()}
            assert (deployments.REVISE_DEPLOYMENT in names) == revise_module

            def upcoming():
                return client.read_flow_runs(
                    deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[film.id])),
                    flow_run_filter=FlowRunFilter(
                        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
                    ),
                )

            runs = _wait(upcoming, "the scheduler planning runs of make-film", timeout=45)
            paris = datetime.timezone(datetime.timedelta(hours=1))  # late November: CET, no daylight saving
            assert {r.expected_start_time.astimezone(paris).hour for r in runs} == {18}
            assert all(r.parameters["prompts_file"] == str(prompts_file.resolve()) for r in runs)

    # The repository's prefect.yaml deploys the same flow by its module path (`prefect deploy --all`).
    done = subprocess.run(
        [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--all"],
        cwd=REPO,
        env=_env(PREFECT_API_URL=server, PREFECT_HOME=str(tmp_path / "client-home")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with on(server), get_client(sync_client=True) as client:
        film = client.read_deployment_by_name(FILM)
        assert film.entrypoint == "storyreel.flows.deployments.film_from_list"
        assert film.parameters["prompts_file"] == "examples/bedtime.txt"
        assert film.schedules[0].schedule.cron == "0 18 * * *"
        assert film.pull_steps and "set_working_directory" in json.dumps(film.pull_steps)
        revise = client.read_deployment_by_name("revise-film/revise-film")
        assert revise.entrypoint == "storyreel.flows.revise.revise_film" and not revise.schedules


def test_a_served_deployment_makes_films_from_successive_prompts(
    server: str, tmp_path: Path, prompts_file: Path, answers: str
):
    from prefect.client.orchestration import get_client

    out = tmp_path / "films"
    with on(server):  # a deployment of `storyreel deploy` beside the served one: serving must leave it alone
        deployed = runner.invoke(app, ["deploy", "--prompts", str(prompts_file), "--profile", "sketch"])
    assert deployed.exit_code == 0, deployed.output
    command = [sys.executable, "-m", "storyreel.cli", "serve", "--cron", "0 0 1 1 *", "--prompts", str(prompts_file)]
    command += ["--profile", "sketch", "--set", answers, "--out", str(out)]
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=_env(PREFECT_API_URL=server, PREFECT_HOME=str(tmp_path / "home"), PREFECT_RUNNER_POLL_FREQUENCY="1"),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    served_log = tmp_path / "serve.log"
    try:
        with on(server), get_client(sync_client=True) as client:

            def served():
                assert proc.poll() is None, served_log.read_text(errors="replace")[-3000:]
                with contextlib.suppress(Exception):
                    deployment = client.read_deployment_by_name(SERVED_FILM)
                    if deployment.parameters.get("out") == str(out.resolve()):
                        return deployment
                return None

            deployment = _wait(served, "storyreel serve registering its deployment", timeout=60)
            # Two runs at once, as a schedule that fell behind would start them: each takes its own prompt.
            runs = [client.create_flow_run_from_deployment(deployment.id) for _ in range(2)]

            def finished():
                states = [client.read_flow_run(r.id).state for r in runs]
                return states if all(s and s.is_final() for s in states) else None

            states = _wait(finished, "the served process running both films", timeout=150, every=1)
            assert all(s.is_completed() for s in states), (states, served_log.read_text(errors="replace")[-3000:])
    finally:
        _stop(proc)
        log.close()
    with on(server), get_client(sync_client=True) as client:  # Prefect paused what it served, not deploy's
        assert client.read_deployment_by_name(SERVED_FILM).paused
        kept = client.read_deployment_by_name(FILM)
    assert not kept.paused and kept.job_variables.get("working_dir") == str(Path.cwd().resolve())

    made = sorted(out.glob("*/film.mp4"))
    assert len(made) == 2
    prompts = {json.loads((f.parent / "brief.json").read_text())["prompt"] for f in made}
    assert prompts == set(PROMPTS[:2])
    for film in made:
        video = next(s for s in probe(film)["streams"] if s["codec_type"] == "video")
        assert (video["codec_name"], video["width"], video["height"]) == ("h264", 128, 72)


# --- scale-out: the Dask task runner -----------------------------------------------------------------


class Recorder:
    """A progress reporter that keeps the calls it gets."""

    def __init__(self) -> None:
        self.advanced: list[tuple[str, str]] = []

    def start(self, stage: str, total: int) -> None:
        pass

    def advance(self, stage: str, detail: str = "") -> None:
        self.advanced.append((stage, detail))

    def note(self, message: str) -> None:
        pass


def test_a_film_made_on_a_dask_cluster_is_identical_to_the_default_runners(tmp_path: Path, answers: str):
    films, reported = {}, {}
    for name in ("thread", "dask"):
        config, _ = load_config("sketch", [answers, f"run.task_runner={name}", "run.dask_workers=2"])
        recorder = Recorder()
        previous = progress.use(recorder)
        try:  # the flow picks the runner its config asks for: no with_task_runner needed
            films[name] = make_film(prompt="A little dragon", seed=5, config=config, out=str(tmp_path / name))
        finally:
            progress.use(previous)
        reported[name] = sorted(recorder.advanced)
    thread, dask = films["thread"], films["dask"]
    assert Path(thread.film).read_bytes() == Path(dask.film).read_bytes()
    # The counts come from the run directory, not from one process: the workers' assets are counted.
    assert dask.made == thread.made > 10 and dask.reused == thread.reused == 0
    # The workers' progress reached the flow's reporter (it is sent back as Dask events).
    assert reported["dask"] == reported["thread"] and ("images", "page 2") in reported["dask"]


def test_the_flow_called_from_python_runs_its_tasks_on_the_configured_runner(
    tmp_path: Path, answers: str, monkeypatch: pytest.MonkeyPatch
):
    from prefect.context import FlowRunContext
    from prefect.task_runners import ThreadPoolTaskRunner

    from storyreel import make_film as api_make_film
    from storyreel import registry

    seen: list = []
    real_instance = registry.instance

    def spying(kind: str, name: str, options: dict | None = None):
        if kind == "narration":  # called inside the narrate task: which runner runs it?
            seen.append(FlowRunContext.get().task_runner)
        return real_instance(kind, name, options)

    monkeypatch.setattr(registry, "instance", spying)
    settings = [answers, "run.max_workers=3"]
    api_make_film(prompt="A fox", profile="sketch", settings=settings, out=str(tmp_path), until="images")
    assert len(seen) == 2 and all(type(r) is ThreadPoolTaskRunner and r._max_workers == 3 for r in seen)

    # a runner given explicitly wins over the config's
    seen.clear()
    config, _ = load_config("sketch", [answers, "run.max_workers=3"])
    one, _ = load_config("sketch", ["run.max_workers=1"])
    with_task_runner(make_film, one)(prompt="A fox", config=config, out=str(tmp_path), until="images")
    assert len(seen) == 2 and all(r._max_workers == 1 for r in seen)


def test_task_runner_choices(monkeypatch: pytest.MonkeyPatch):
    config, _ = load_config("sketch", ["run.max_workers=3"])
    assert type(task_runner(config)).__name__ == "ThreadPoolTaskRunner"
    assert task_runner(config)._max_workers == 3
    config, _ = load_config("sketch", ["run.task_runner=dask", "run.dask_address=tcp://10.0.0.5:8786"])
    assert task_runner(config).address == "tcp://10.0.0.5:8786"
    config, _ = load_config("sketch", ["run.task_runner=ray"])
    try:
        import prefect_ray  # noqa: F401
    except ImportError:
        with pytest.raises(BackendError, match=r"pip install 'storyreel\[ray\]'"):
            task_runner(config)
    else:
        assert type(task_runner(config)).__name__ == "RayTaskRunner"
    monkeypatch.setitem(sys.modules, "prefect_dask", None)  # as if prefect-dask were not installed
    monkeypatch.delitem(sys.modules, "storyreel.flows.runner_dask", raising=False)
    config, _ = load_config("sketch", ["run.task_runner=dask"])
    with pytest.raises(BackendError, match=r"pip install 'storyreel\[dask\]'"):
        task_runner(config)
