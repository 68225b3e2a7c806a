"""Real failures, as a user meets them: ``storyreel make`` run as a process in its own session and sent SIGINT to
its whole process group (what a terminal's Ctrl-C does) at several stages, SIGTERM, SIGKILL; then resumed: exit
130 / 143, one line and no traceback, the finished assets byte for byte as they were, a valid film; no Prefect
server left behind; a run dir held by another process; several films into one ``--out`` at once. Also the
checks made before a run starts (an LLM server that is not there, a GPU that is not there, a model that is not
cached offline, an unwritable cache), an internal error's one line and log file, and ``backends`` off a
terminal.

The process tests use the session's Prefect server (``PREFECT_API_URL``), except those about Prefect's
temporary server, which share one ``PREFECT_HOME`` (its database is set up once)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyreel import faults, prefect_server, preflight
from storyreel.cli import app
from storyreel.config import cuda_available, load_config
from storyreel.errors import BackendError, ConfigError
from storyreel.media import probe
from storyreel.store import RunDir, sha256_file

from .conftest import story_answers  # noqa: TID252

runner = CliRunner()
STORYREEL = [sys.executable, "-m", "storyreel.cli"]
HANG = 240  # seconds after which a process that should have ended counts as hung (not a speed goal)


# --- running storyreel as a user's terminal does ------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    """This environment with the session's Prefect server (unless ``PREFECT_API_URL=""`` asks for none)."""
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_API_URL"] = PREFECT_API_URL.value() or ""
    env |= extra
    return {k: v for k, v in env.items() if v != ""}


class Run:
    """A finished ``storyreel`` process: its exit status and its lines."""

    def __init__(self, code: int, stderr: list[str], stdout: str) -> None:
        self.code, self.stderr, self.stdout = code, stderr, stdout

    @property
    def text(self) -> str:
        return "\n".join(self.stderr) + self.stdout

    def run_dir(self) -> Path:
        found = [line.split("run directory: ", 1)[1] for line in self.stderr if "run directory: " in line]
        assert found, self.text
        return Path(found[0].strip())


def storyreel(
    args: list[str], env: dict[str, str], at: str | None = None, send: int = signal.SIGINT, cwd: Path | None = None
) -> Run:
    """Run ``storyreel args`` in its own session; when a progress line contains ``at``, send ``send`` to its
    whole process group (as a terminal sends Ctrl-C to every process of the foreground job)."""
    proc = subprocess.Popen(
        [*STORYREEL, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    lines, sent = [], False
    assert proc.stderr is not None and proc.stdout is not None
    try:
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))
            if at is not None and not sent and at in line:
                os.killpg(proc.pid, send)
                sent = True
        code = proc.wait(timeout=HANG)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert at is None or sent, f"never reached {at!r}:\n" + "\n".join(lines)
    return Run(code, lines, proc.stdout.read())


def sketch(out: Path, answers: Path) -> list[str]:
    return [
        "A fox who loves the moon",
        "--profile",
        "sketch",
        "--set",
        f"llm.model=scripted:{answers}",
        "--out",
        str(out),
    ]


@pytest.fixture
def answers(tmp_path: Path) -> Path:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(story_answers(pages=2)), encoding="utf-8")
    return path


def finished_assets(run_dir: Path) -> dict[str, str]:
    """path -> sha256 of every asset the manifest records as finished, each checked against its file."""
    found = {}
    for record in RunDir(run_dir).manifest().values():
        assert sha256_file(run_dir / record.path) == record.sha256, f"{record.path} damaged"
        found[record.path] = record.sha256
    return found


def assert_valid_film(run_dir: Path) -> None:
    streams = probe(run_dir / "film.mp4")
    video = next(s for s in streams["streams"] if s["codec_type"] == "video")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 128, 72)
    assert any(s["codec_type"] == "audio" for s in streams["streams"])
    assert float(streams["format"]["duration"]) > 1.0


def assert_one_clean_line(run: Run, code: int, says: str) -> None:
    assert run.code == code, run.text
    assert "Traceback" not in run.text and "Error logging to API" not in run.text and "ConnectError" not in run.text
    assert says in run.stderr[-1], run.text


def interrupt_and_resume(tmp_path: Path, answers: Path, at: str, send: int = signal.SIGINT) -> None:
    env = _env()
    stopped = storyreel(["make", *sketch(tmp_path / "runs", answers)], env, at=at, send=send)
    run_dir = stopped.run_dir()
    line = "interrupted" if send == signal.SIGINT else "stopped by SIGTERM"
    assert_one_clean_line(stopped, 128 + send, f"{line}: finished assets are kept; resume with: storyreel make --run")
    assert str(run_dir) in stopped.stderr[-1]
    assert not (run_dir / "film.mp4").exists()
    before = finished_assets(run_dir)

    resumed = storyreel(["make", "--run", str(run_dir)], env)
    assert resumed.code == 0, resumed.text
    after = finished_assets(run_dir)
    assert {path: after.get(path) for path in before} == before  # nothing finished was redone or touched
    assert_valid_film(run_dir)
    assert "Traceback" not in resumed.text


# --- interrupts -------------------------------------------------------------------------------------


def test_ctrl_c_while_the_story_is_written_then_resume(tmp_path: Path, answers: Path):
    interrupt_and_resume(tmp_path, answers, at="story: ")


@pytest.mark.slow
@pytest.mark.parametrize("at", ["images: ", "clips: ", "film: "])
def test_ctrl_c_at_later_stages_then_resume(tmp_path: Path, answers: Path, at: str):
    interrupt_and_resume(tmp_path, answers, at=at)


@pytest.mark.slow
def test_sigterm_exits_143_and_the_run_resumes(tmp_path: Path, answers: Path):
    interrupt_and_resume(tmp_path, answers, at="keyframes: ", send=signal.SIGTERM)


AWAITS_ON_THE_WAY_OUT = """
import os, sys
from pathlib import Path
import anyio
from storyreel import faults

async def serve(done: Path) -> None:  # the shape of Prefect's runner: runs' task group, loops inside it
    async with anyio.create_task_group() as runs:
        runs.start_soon(anyio.sleep_forever)  # a run being watched
        try:
            async with anyio.create_task_group() as loops:
                loops.start_soon(anyio.sleep_forever)  # the poller
                print("serving", flush=True)
        finally:
            await anyio.sleep(0.2)  # the pause of what was served, over the network
            done.write_text("paused")
            runs.cancel_scope.cancel()

faults.install(lambda code: os._exit(code))
try:
    faults.run_async(serve(Path(sys.argv[1])))
except faults.Interrupted as stopped:
    print(f"stopped by {stopped}", flush=True)
    sys.exit(faults.exit_code())
"""


def test_ctrl_c_lets_async_work_finish_what_it_awaits_on_the_way_out(tmp_path: Path):
    """``storyreel serve``'s Ctrl-C: the runner pauses its deployments while it unwinds. Raised inside the
    event loop's select, the interrupt had every task cancelled at once and the pause with them."""
    script, done = tmp_path / "serve.py", tmp_path / "paused"
    script.write_text(AWAITS_ON_THE_WAY_OUT)
    proc = subprocess.Popen([sys.executable, str(script), str(done)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "serving\n"
    time.sleep(0.2)  # the loop waits in select
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=HANG)
    assert (proc.returncode, out, done.read_text()) == (130, "stopped by Ctrl-C\n", "paused")


def _servers_of(home: Path) -> list[int]:
    """Pids of live processes whose PREFECT_HOME is ``home`` (the temporary servers of these tests)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if f"PREFECT_HOME={home}".encode() in environ and b"uvicorn" in cmdline:
            found.append(int(proc.name))
    return found


def _gone(home: Path, within: float = 30.0) -> bool:
    deadline = time.monotonic() + within
    while _servers_of(home):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("temporary-server-home")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the server's process through /proc")
def test_ctrl_c_to_the_group_on_the_temporary_server(tmp_path: Path, answers: Path, prefect_home: Path):
    """The case a terminal makes: Ctrl-C reaches storyreel and, if it shared the group, Prefect's server too.
    The server is in its own session, so the flow stops cleanly; then the server is stopped, not orphaned."""
    env = _env(PREFECT_API_URL="", PREFECT_HOME=str(prefect_home))
    stopped = storyreel(["make", *sketch(tmp_path / "runs", answers)], env, at="clips: ")
    assert_one_clean_line(stopped, 130, "interrupted: finished assets are kept")
    assert _gone(prefect_home)
    finished = storyreel(["make", "--run", str(stopped.run_dir())], env)
    assert finished.code == 0 and "Traceback" not in finished.text, finished.text
    assert_valid_film(stopped.run_dir())
    assert _gone(prefect_home)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_a_killed_storyreel_leaves_no_server(tmp_path: Path, answers: Path, prefect_home: Path):
    env = _env(PREFECT_API_URL="", PREFECT_HOME=str(prefect_home))
    proc = subprocess.Popen(
        [*STORYREEL, "make", *sketch(tmp_path / "runs", answers)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "Prefect: ready" in line:
            break
    assert _servers_of(prefect_home), "the temporary server was not found running"
    proc.kill()  # SIGKILL to storyreel alone: nothing of it can run any more
    proc.wait(timeout=HANG)
    assert _gone(prefect_home), "the temporary server outlived storyreel"


# --- runs side by side --------------------------------------------------------------------------------


def test_a_run_dir_held_by_another_process_is_refused_in_one_line(tmp_path: Path, answers: Path):
    env = _env()
    stopped = storyreel(["make", *sketch(tmp_path / "runs", answers), "--until", "plan"], env)
    assert stopped.code == 0, stopped.text
    run_dir = stopped.run_dir()
    holder = subprocess.Popen(  # another process holding the run's lock, as a running make or revise does
        [
            sys.executable,
            "-c",
            "import sys,time; from filelock import FileLock; l=FileLock(sys.argv[1]); l.acquire();"
            " print('held', flush=True); time.sleep(600)",
            str(run_dir / ".run.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        refused = storyreel(["make", "--run", str(run_dir)], env)
    finally:
        holder.kill()
        holder.wait()
    assert_one_clean_line(refused, 2, f"{run_dir} is in use by another storyreel process")


@pytest.mark.slow
def test_several_films_into_one_out_at_once(tmp_path: Path, answers: Path):
    env, out = _env(), tmp_path / "runs"
    procs = [
        subprocess.Popen(
            [*STORYREEL, "make", *sketch(out, answers), "--seed", str(seed), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
        )
        for seed in range(3)
    ]
    results = [proc.communicate(timeout=HANG * 2) for proc in procs]
    for proc, (_, stderr) in zip(procs, results, strict=True):
        assert proc.returncode == 0, stderr
    dirs = {Path(json.loads(stdout)["run_dir"]) for stdout, _ in results}
    assert len(dirs) == 3 and all(d.parent == out.resolve() for d in dirs)
    for run_dir in dirs:
        assert_valid_film(run_dir)
        finished_assets(run_dir)


# --- failing early, in one line -------------------------------------------------------------------------


def _no_run_folder(out: Path) -> bool:
    return not out.exists() or not any(out.iterdir())


def test_an_ollama_that_is_not_running_is_said_before_a_run_folder_is_made(tmp_path: Path):
    result = runner.invoke(
        app,
        ["make", "A fox", "--profile", "sketch", "--set", "llm.model=ollama:llama3.1", "--out", str(tmp_path)],
        env={"OLLAMA_HOST": "127.0.0.1:9"},  # the discard port: nothing answers there
    )
    assert result.exit_code == 2, result.output
    assert "cannot reach Ollama at http://127.0.0.1:9 (llm.model=ollama:llama3.1): start it with `ollama serve`" in (
        result.output
    )
    assert "Traceback" not in result.output and _no_run_folder(tmp_path)


def test_an_openai_compatible_server_that_is_not_there_is_named():
    config, _ = load_config("sketch", ["llm.model=openai:qwen", "llm.base_url=http://127.0.0.1:9/v1"])
    with pytest.raises(BackendError, match=r"cannot reach the OpenAI-compatible server at http://127.0.0.1:9/v1"):
        preflight.check(config)


@pytest.mark.skipif(cuda_available()[0], reason="this machine has a usable CUDA device")
def test_the_gpu_profile_without_cuda_fails_at_once(tmp_path: Path):
    result = runner.invoke(app, ["make", "A fox", "--profile", "gpu", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "the gpu profile needs a usable CUDA device, and there is none here" in result.output
    assert "--profile preview" in result.output and _no_run_folder(tmp_path)


def test_a_model_not_cached_offline_is_named_with_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty Hugging Face cache
    config, _ = load_config("sketch", ["image.backend=diffusers", "image.model=someone/not-cached-here"])
    with pytest.raises(BackendError) as caught:
        preflight.check(config)
    message = str(caught.value)
    assert "'someone/not-cached-here' is not in the Hugging Face cache and HF_HUB_OFFLINE=1" in message
    assert "hf download someone/not-cached-here" in message and "image.model" in message


def test_an_unwritable_cache_is_found_before_any_model_work(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("STORYREEL_CACHE", str(blocker / "cache"))  # under a file: no one can make it, root neither
    config, _ = load_config("tiny", [])
    with pytest.raises(ConfigError, match=r"cannot write to the cache folder .*set STORYREEL_CACHE"):
        preflight.check(config)


# --- unexpected errors and OS errors ----------------------------------------------------------------------


def test_an_internal_error_is_one_line_and_a_log_file(tmp_path: Path):
    code = (
        "import storyreel.cli as cli\n"
        "def broken(): raise ValueError('a bug in storyreel')\n"
        "cli.app = broken\n"
        "cli.main()\n"
    )
    cache = tmp_path / "cache"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(STORYREEL_CACHE=str(cache))
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("internal error ValueError: a bug in storyreel (the traceback is in ")
    log = Path(lines[0].split("the traceback is in ", 1)[1].split(";", 1)[0])
    assert log.parent == cache / "logs"
    assert "Traceback" in log.read_text() and "a bug in storyreel" in log.read_text()


def test_the_log_file_goes_into_the_run_when_there_is_one(tmp_path: Path):
    faults.working_on(tmp_path / "run")
    try:
        try:
            raise RuntimeError("boom")
        except RuntimeError as exc:
            log = faults.crash_log(exc)
    finally:
        faults.working_on(None)
    assert log is not None and log.parent == tmp_path / "run" / "logs" and "RuntimeError: boom" in log.read_text()


@pytest.mark.parametrize(
    ("number", "says"),
    [
        (errno.ENOSPC, "no space left on the device (/runs/x/film.mp4): free some space"),
        (errno.EROFS, "the folder is on a read-only file system (/runs/x/film.mp4): write the runs elsewhere"),
        (errno.EACCES, "permission denied (/runs/x/film.mp4): make the folder writable"),
    ],
)
def test_os_errors_a_user_can_fix_are_one_line(number: int, says: str):
    faults.working_on("/runs/x")
    try:
        line = faults.os_error_line(OSError(number, os.strerror(number), "/runs/x/film.mp4"))
    finally:
        faults.working_on(None)
    assert line is not None and line.startswith(says) and line.endswith("resume with: storyreel make --run /runs/x")
    assert faults.os_error_line(ValueError("not an OS error")) is None


def test_a_deleted_working_directory_is_one_line(tmp_path: Path):
    gone = tmp_path / "gone"
    gone.mkdir()
    code = f"import os, storyreel.cli as cli; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); cli.main()"
    result = subprocess.run([sys.executable, "-c", code, "make", "A fox"], capture_output=True, text=True, env=_env())
    assert result.returncode == 2
    assert (
        result.stderr.strip() == "error: the current folder no longer exists (deleted or moved): cd to an existing one"
    )


# --- Prefect's start-up, backends off a terminal -----------------------------------------------------------


def test_the_temporary_servers_start_up_timeout_is_raised_unless_the_user_chose_one(monkeypatch):
    monkeypatch.setattr(prefect_server, "_user_timeout", False)
    assert prefect_server.startup_timeout(20) == prefect_server.STARTUP_TIMEOUT
    monkeypatch.setattr(prefect_server, "_user_timeout", True)
    assert prefect_server.startup_timeout(20) == 20


def test_the_early_server_runs_the_command_prefect_runs(monkeypatch):
    """The CLI starts Prefect's temporary server itself, before Prefect is imported: with the command and the
    server settings Prefect's own SubprocessASGIServer uses (checked here against the installed Prefect)."""
    from types import SimpleNamespace

    from prefect.server.api import server as module

    seen: dict = {}

    def capture(args, **kwargs):
        seen.update(args=args, env=kwargs["env"])
        return SimpleNamespace(poll=lambda: None)

    monkeypatch.setattr(module, "subprocess", SimpleNamespace(Popen=capture))
    prefects = module.SubprocessASGIServer(port=18123)
    try:
        prefects._run_uvicorn_command()
    finally:
        module.SubprocessASGIServer._instances.pop(18123, None)
    assert seen["args"] == prefect_server.server_command(18123)
    assert {k: seen["env"][k] for k in prefect_server.SERVER_ENV} == prefect_server.SERVER_ENV


def test_the_early_server_is_left_to_prefect_once_prefect_is_imported(monkeypatch):
    """In a process that imported Prefect (a test harness, a program embedding storyreel) its own settings
    decide: nothing is launched."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert prefect_server.launch() is None and prefect_server.launched() is None


def test_an_early_server_is_stopped_when_the_settings_name_a_server(monkeypatch, tmp_path: Path):
    """A profile naming a server wins over the launched one, which is stopped at once; else the launched one
    is named in PREFECT_API_URL and answers its health check."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env |= {"PREFECT_HOME": str(tmp_path / "home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    code = (
        "import json, sys, urllib.request\n"
        "from storyreel import prefect_server as p\n"
        "named = sys.argv[1]\n"
        "server = p.launch()\n"
        "kept = p.use_launched(named)\n"
        "out = {'launched': server is not None, 'kept': kept is not None, 'alive': server.process.poll() is None}\n"
        "if kept:\n"
        "    kept.wait(120)\n"
        "    import os\n"
        "    out['url'] = os.environ['PREFECT_API_URL'] == kept.api_url\n"
        "    out['health'] = urllib.request.urlopen(kept.api_url + '/health').status\n"
        "    p.stop(1)\n"
        "    out['stopped'] = server.process.poll() is not None\n"
        "print(json.dumps(out))\n"
    )
    named = subprocess.run(
        [sys.executable, "-c", code, "http://127.0.0.1:9/api"], capture_output=True, text=True, env=env
    )
    assert named.returncode == 0, named.stderr
    assert json.loads(named.stdout) == {"launched": True, "kept": False, "alive": False}
    kept = subprocess.run([sys.executable, "-c", code, ""], capture_output=True, text=True, env=env, timeout=HANG)
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout) == {
        "launched": True,
        "kept": True,
        "alive": True,
        "url": True,
        "health": 200,
        "stopped": True,
    }


def test_backends_off_a_terminal_says_everything_whole():
    result = runner.invoke(app, ["backends"], env={"COLUMNS": "40"})
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert any(line.startswith("image preview: ready") for line in lines), lines
    assert "…" not in result.output  # nothing cut to the width
    rows = json.loads(runner.invoke(app, ["backends", "--json"]).output)["backends"]
    for row in rows:
        assert row["ready"] == (row["installed"] and not row["advice"]), row
        if row["model"] and row["weights"] == "not cached":
            assert f"hf download {row['model']}" in row["advice"]
            assert any(line.startswith(f"{row['kind']} {row['name']}: not ready") for line in lines)


def test_a_write_error_without_an_errno_on_a_full_disk_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Pillow raises its own OSError ("could not write …") when the disk is full: the free space tells."""
    usage = type("Usage", (), {"total": 1 << 30, "used": 1 << 30, "free": 4096})
    monkeypatch.setattr(faults.shutil, "disk_usage", lambda path: usage)
    faults.working_on(tmp_path)
    try:
        line = faults.os_error_line(OSError(f"could not write the keyframe {tmp_path}/k007.png"))
    finally:
        faults.working_on(None)
    assert line is not None and line.startswith("no space left on the device: free some space")
